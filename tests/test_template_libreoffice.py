"""Acceptance tests of the template issue against a real client: LibreOffice, headless.

* Every level's template passes the OOXML schemas (our stand-in for Excel).
* A LibreOffice re-save keeps what a returned file is recognised and guided by: data
  validations (the criterion cascade too), sheet protection with unlocked input cells,
  hidden list and identity sheets, the identity (sheet, custom properties, defined name),
  the school's name and code.
* The in-sheet checks really compute: rows that break each live rule are typed into the
  template, LibreOffice recalculates, and every Kiểm tra cell holds the text the rule
  definition says, which is also what the Python compilation of the same rule says.
* The dropdowns' own list sources, evaluated by LibreOffice: Tiêu chí lists every criterion
  with its code, then the Mức 4 items; Chủ trì lists the roles, then the staff typed on
  Thông tin.  The shown Tiêu chuẩn (a locked formula) is the chosen criterion's standard,
  in LibreOffice and in Gnumeric.

LibreOffice costs about 3 s a start: all files go through two calls (a plain re-save and a
recalculating one), made once per session.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest
import yaml
from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.formula.translate import Translator
from python_calamine import CalamineWorkbook

from kcl_xlsx.spec import identity as ident
from kcl_xlsx.spec import layout as L
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.plan_spec import PlanSpec, Sources, example_row
from kcl_xlsx.spec.roster import School
from macros_free_validation.report import Severity
from macros_free_validation.rules import Rule
from tests.support.fill import fill_plan, is_locked, nfc, read_plan
from tests.support.gnumeric import recalc as gnumeric_recalc
from tests.support.libreoffice import require_soffice, resave

pytestmark = pytest.mark.libreoffice

YEAR = "2025-2026"
ISSUE = dt.date(2025, 9, 5)
KEY = b"phong-gd-test-key"
LEVELS = ("mam-non", "tieu-hoc", "thcs", "thpt", "nhieu-cap")
# Characters XML and the print header treat specially: the stamp must escape them.
SCHOOL_NAME = 'Trường "Lê & Lợi" <cơ sở 2>'
UNIT = "Phòng GD&ĐT Sông Xanh"
STAFF = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cúc"]
TT18, TT57 = "tt18-2018", "tt57-2026-pl2-pho-thong"
FRAMEWORKS = (TT18, TT57)
SCRATCH = "Thử"
MAX_LIST = 60  # INDEX probes per evaluated list (Chủ trì: roles + 30 staff slots)


# -- helpers ---------------------------------------------------------------------------------


def shown(spec: PlanSpec, rule: Rule) -> str:
    """What the Kiểm tra cell shows for a rule, from the rule's own definition."""
    text = rule.message if rule.severity == Severity.ERROR else spec.form.warning_prefix + rule.message
    return nfc(text)


def python_verdict(spec: PlanSpec, row: dict[str, Any], staff: list[str]) -> str:
    """The Python compilation's answer for a row, in the Kiểm tra cell's words."""
    if all(v is None or (isinstance(v, str) and v == "") for v in row.values()):
        return ""
    broken = spec.rules.check_row(row, spec.py_context(staff))
    return shown(spec, broken[0]) if broken else spec.form.ok_text


def rule_id(rule: Rule) -> str:
    return f"{rule.code}@{rule.field}"


_CELL = re.compile(r"^\$?[A-Z]{1,3}\$?\d+$")
_CELL_IN_TEXT = re.compile(r"(?<![\w'!$])\$?[A-Z]{1,3}\$?\d+(?![\w(!])")


def formula_at(formula: str, origin: str, target: str, sheet: str) -> str:
    """A validation formula as it applies to cell ``target`` (relative references moved
    from ``origin``), every cell reference qualified with ``sheet``: ready to be evaluated
    from another sheet."""
    try:
        moved = Translator("=" + formula.lstrip("="), origin=origin).translate_formula(target)
        tokens = Tokenizer(moved).items
    except TokenizerError:
        if origin != target:
            raise
        # Not even valid formula syntax: qualify the references textually and let the
        # spreadsheet program judge it.
        return _CELL_IN_TEXT.sub(lambda m: f"'{sheet}'!{m.group(0)}", formula.lstrip("="))
    out = []
    for tok in tokens:
        if tok.type == Token.OPERAND and tok.subtype == Token.RANGE and _CELL.match(tok.value):
            out.append(f"'{sheet}'!{tok.value}")
        else:
            out.append(tok.value)
    return "".join(out)


def validation_for(ws, column_letter: str, first_row: int):
    """The data validation whose range starts at ``column_letter``/``first_row``."""
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            if rng.split(":")[0] == f"{column_letter}{first_row}":
                return dv
    raise AssertionError(f"no validation starting at {column_letter}{first_row}")


def add_list_probes(path: Path, spec: PlanSpec, probes: list[tuple[str, str, int]]) -> None:
    """Add a scratch sheet that evaluates lists: one row per probe ``(name, dv_column_field,
    plan_row)``: ROWS(list) then INDEX(list, k).  The list formula is the template's own
    validation formula of that column, moved to that row."""
    wb = openpyxl.load_workbook(path)
    plan = wb[spec.form.sheet]
    lay = L.PlanLayout(spec.form)
    ws = wb.create_sheet(SCRATCH)
    first = L.FIRST_INPUT_ROW + 1
    for i, (_name, field, excel_row) in enumerate(probes, 1):
        letter = lay.letter(field)
        dv = validation_for(plan, letter, first)
        origin = str(dv.sqref).split()[0].split(":")[0]
        fx = formula_at(dv.formula1, origin, f"{letter}{excel_row}", spec.form.sheet)
        ws.cell(row=i, column=1, value=f"=ROWS({fx})")
        for k in range(1, MAX_LIST + 1):
            ws.cell(row=i, column=k + 1, value=f"=INDEX({fx},{k})")
    wb.save(path)


def read_probes(path: Path, probes: list[tuple[str, str, int]]) -> dict[str, Any]:
    table = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SCRATCH).to_python(skip_empty_area=False)
    out: dict[str, Any] = {}
    for i, (name, _field, _row) in enumerate(probes):
        row = table[i] if i < len(table) else []
        count = row[0] if row else None
        if not isinstance(count, (int, float)):
            out[name] = f"ROWS gave {count!r}"
            continue
        out[name] = [nfc(v) for v in row[1:1 + int(count)]]
    return out


# -- issued templates and their plain LibreOffice re-save ----------------------------------------


@dataclasses.dataclass
class Issued:
    level: str
    spec: PlanSpec
    identity: ident.Identity
    path: Path


@pytest.fixture(scope="session")
def issued(tmp_path_factory, sources) -> dict[str, Issued]:
    """One signed template per level, for a school whose name needs escaping."""
    folder = tmp_path_factory.mktemp("issued")
    factory = TemplateFactory(sources, YEAR, key=KEY, issue_date=ISSUE)
    out = {}
    for level in LEVELS:
        school = School(f"KCL-{level.upper()}-01", f"{SCHOOL_NAME} {level}", level, UNIT)
        data, identity = factory.make(level, school)
        path = folder / f"{level}.xlsx"
        path.write_bytes(data)
        out[level] = Issued(level, factory.spec(level), identity, path)
    return out


@pytest.fixture(scope="session")
def resaved(issued, tmp_path_factory) -> dict[str, Path]:
    require_soffice()
    outs = resave([i.path for i in issued.values()], tmp_path_factory.mktemp("resaved"), recalc=False)
    return dict(zip(issued, outs))


@pytest.fixture(scope="session")
def workbooks(issued, resaved) -> dict[str, tuple[Any, Any]]:
    """level -> (the template as issued, as LibreOffice saved it), loaded once."""
    return {level: (openpyxl.load_workbook(issued[level].path), openpyxl.load_workbook(resaved[level]))
            for level in LEVELS}


def test_every_level_passes_the_ooxml_schemas(issued, ooxml_validate):
    ooxml_validate(*(i.path for i in issued.values()))


@pytest.mark.parametrize("level", LEVELS)
def test_resave_keeps_data_validations(level, issued, workbooks):
    spec = issued[level].spec
    lay = L.PlanLayout(spec.form)
    before, after = (wb[spec.form.sheet] for wb in workbooks[level])
    first, last = L.FIRST_INPUT_ROW + 1, lay.last_input_row + 1
    for field in spec.form.fields:
        if field.derived_from:
            continue  # shown, not typed: a locked formula, no validation
        letter = lay.letter(field.key)
        want = validation_for(before, letter, first)
        got = validation_for(after, letter, first)
        assert str(got.sqref) == f"{letter}{first}:{letter}{last}", field.key
        assert got.type == want.type, field.key
        assert re.sub(r"\s", "", got.formula1 or "") == re.sub(r"\s", "", want.formula1 or ""), field.key
        assert (got.errorStyle or "stop") == (want.errorStyle or "stop"), field.key
        if field.type == "choice" or field.suggest:
            assert got.type == "list", field.key
        if field.type == "choice" and not field.soft:
            assert (got.errorStyle or "stop") == "stop", field.key
    # plain ranges only (Google Sheets takes no formula as a list source)
    assert validation_for(after, lay.letter("criterion"), first).formula1 == L.list_name("criteria")
    assert validation_for(after, lay.letter("lead"), first).formula1 == L.list_name("owners")


@pytest.mark.parametrize("level", LEVELS)
def test_resave_keeps_protection_with_input_cells_unlocked(level, issued, workbooks):
    spec = issued[level].spec
    form, lay = spec.form, L.PlanLayout(spec.form)
    _before, wb = workbooks[level]
    printed = (L.PRINT_SHEET, L.PRINT_DATA_SHEET) if form.print_view else ()
    for name in (L.GUIDE_SHEET, form.info_sheet, form.sheet, *printed, L.LISTS_SHEET, ident.SHEET):
        assert wb[name].protection.sheet, f"{name} lost its protection"
    plan = wb[form.sheet]
    for excel_row in (L.FIRST_INPUT_ROW + 1, lay.last_input_row + 1):
        for key, col in lay.columns.items():
            derived = bool(form.field(key).derived_from)  # shown, not typed: locked
            assert is_locked(plan, excel_row, col + 1) == derived, f"{key} row {excel_row}"
        assert is_locked(plan, excel_row, lay.check_col + 1)  # Kiểm tra
        assert is_locked(plan, excel_row, lay.tt_col + 1)  # TT
    for col in [*lay.columns.values(), lay.check_col]:
        for row in (L.TITLE_ROW, L.SUBTITLE_ROW, L.BANNER_ROW, L.GROUP_ROW, L.HEADER_ROW):
            assert is_locked(plan, row + 1, col + 1), (row, col)
    assert is_locked(plan, L.BANNER_ROW + 1, 1)
    info = wb[form.info_sheet]
    for field in form.info_fields:
        locked = info.cell(lay.info_row(field.key) + 1, 2).protection.locked
        assert locked == (field.source == "identity"), field.key
    for k in (0, form.staff_rows - 1):
        assert not info.cell(lay.staff_first_row + k + 1, 2).protection.locked


@pytest.mark.parametrize("level", LEVELS)
def test_resave_keeps_sheets_hidden(level, issued, workbooks):
    form = issued[level].spec.form
    _before, wb = workbooks[level]
    states = {ws.title: ws.sheet_state for ws in wb.worksheets}
    printed = [L.PRINT_SHEET, L.LISTS_SHEET, ident.SHEET, L.PRINT_DATA_SHEET] if form.print_view else [
        L.LISTS_SHEET, ident.SHEET]
    assert list(states) == [L.GUIDE_SHEET, form.info_sheet, form.sheet, *printed]
    assert states[L.GUIDE_SHEET] == states[form.info_sheet] == states[form.sheet] == "visible"
    assert states[L.LISTS_SHEET] == "hidden"
    assert states[ident.SHEET] in ("hidden", "veryHidden")  # LibreOffice writes veryHidden as hidden


def _identity_sheet(wb) -> dict[str, str]:
    rows = list(wb[ident.SHEET].iter_rows(min_row=2, max_col=2, values_only=True))
    return {str(k): nfc("" if v is None else str(v)) for k, v in rows if k}


@pytest.mark.parametrize("level", LEVELS)
def test_resave_keeps_the_identity(level, issued, workbooks):
    expected = {k: nfc(v) for k, v in issued[level].identity.items()}
    assert expected["school_name"] == nfc(f"{SCHOOL_NAME} {level}") and expected["signature"] != ident.UNSIGNED
    _before, wb = workbooks[level]
    assert _identity_sheet(wb) == expected
    props = {p.name[len(ident.PROPERTY_PREFIX):]: nfc(p.value or "") for p in wb.custom_doc_props.props
             if p.name.startswith(ident.PROPERTY_PREFIX)}
    assert props == expected
    name = wb.defined_names[ident.DEFINED_NAME].attr_text
    assert name == '"' + "|".join((expected["template_id"], expected["file_id"], expected["signature"])) + '"'
    assert ident.Identity.from_mapping(_identity_sheet(wb)).verify(KEY) is True


@pytest.mark.parametrize("level", LEVELS)
def test_resave_keeps_school_name_and_code_on_info_sheet(level, issued, workbooks):
    spec, identity = issued[level].spec, issued[level].identity
    lay = L.PlanLayout(spec.form)
    _before, wb = workbooks[level]
    info = wb[spec.form.info_sheet]
    assert nfc(info.cell(lay.info_row("school_name") + 1, 2).value) == nfc(identity.school_name)
    assert info.cell(lay.info_row("school_code") + 1, 2).value == identity.school_code
    assert nfc(info.cell(lay.info_row("unit") + 1, 2).value) == nfc(UNIT)
    subtitle = nfc(wb[spec.form.sheet].cell(L.SUBTITLE_ROW + 1, 1).value)
    assert nfc(identity.school_name) in subtitle and identity.school_code in subtitle


# -- rows that break each live rule, computed by LibreOffice ----------------------------------------


@dataclasses.dataclass
class Case:
    name: str
    row: dict[str, Any]
    expected: str  # the Kiểm tra text, from the rule definitions
    rule: Rule | None = None


def _first_broken(spec: PlanSpec, row: dict[str, Any]) -> Rule | None:
    broken = spec.rules.check_row(row, spec.py_context(STAFF))
    return broken[0] if broken else None


def _candidates(rule: Rule, spec: PlanSpec, good: dict[str, Any]):
    """Rows meant to break ``rule``, derived from its kind and parameters."""
    f = rule.field
    months = spec.choices.months(spec.year)
    if rule.kind == "required":
        yield {**good, f: ""}
    elif rule.kind == "in_list":
        yield {**good, f: "Giá trị ngoài danh sách"}
    elif rule.kind == "number":
        yield {**good, f: "năm triệu"}
    elif rule.kind == "min":
        yield {**good, f: rule.p("min") - 2.5}
    elif rule.kind == "max":
        yield {**good, f: rule.p("max") + 1}
    elif rule.kind == "not_before":
        yield {**good, rule.p("start_field"): months[3].label, f: months[0].label}
    elif rule.kind == "forbid_when":
        yield {**good, f: 12.5, rule.p("when_field"): rule.p("when_value")}
    elif rule.kind == "require_when":
        yield {**good, f: "", rule.p("when_positive"): 12.5}
    elif rule.kind == "pair_in":  # any Mức / Tiêu chuẩn / Tiêu chí combination
        fw = spec.framework
        levels = [spec.choices.level_label(lv) for lv in fw.levels]
        stds = [s.label for s in fw.standards] + ([""] if fw.top_items else [])
        for muc in levels:
            for std in stds:
                for item in fw.all_items():
                    yield {**good, "muc": muc, "standard": std, "criterion": item.label}


def _breaking_row(rule: Rule, spec: PlanSpec, good: dict[str, Any]) -> dict[str, Any] | None:
    for row in _candidates(rule, spec, good):
        row = spec.with_derived(row)  # as the sheet shows it: a derived field is not typed
        hit = _first_broken(spec, row)
        if hit is not None and rule_id(hit) == rule_id(rule):
            return row
    return None


def _unreachable_ok(rule: Rule, spec: PlanSpec) -> bool:
    """A live rule no row can show first: 'level not defined' in a framework where every
    criterion defines every level (TT57: Mức 1 and 2 everywhere); a rule on a derived field
    (shown by a formula of the criterion, never typed: its value is always in its list); the
    (standard, criterion) pair when the standard is derived and there is no Mức 4 (TT57)."""
    derived = {f.key for f in spec.form.derived}
    if rule.field in derived:
        return True
    if rule.kind == "pair_in" and rule.p("key_field") in derived and not rule.p("override_field"):
        return True  # (standard, criterion) with the standard shown from the criterion: always a pair
    fw = spec.framework
    return rule.code == "criterion.level_not_defined" and all(set(c.levels) == set(fw.levels) for c in fw.criteria)


def shown_standard_rows(spec: PlanSpec) -> list[dict[str, Any]]:
    """A valid row for every criterion and Mức 4 item (``standard``: what the sheet must show),
    then three the lookup must survive: the criterion in other case with spaces around, a text
    not in the list, no criterion."""
    good, fw, ch = example_row(spec), spec.framework, spec.choices
    rows = []
    for i, std in enumerate(fw.standards):
        for c in std.criteria:
            rows.append({**good, "muc": ch.level_label(c.levels[-1]), "criterion": c.label, "standard": std.label})
    for c in fw.top_items:
        rows.append({**good, "muc": spec.top_label, "criterion": c.label, "standard": ""})
    first = fw.standards[-1].criteria[0]
    rows += [{**good, "criterion": f"  {first.label.upper()} ", "standard": fw.standards[-1].label},
             {**good, "criterion": "Không có trong danh sách", "standard": ""},
             {**good, "criterion": "", "standard": ""}]
    return [{**r, "target": f"{r['target']} [{i}]"} for i, r in enumerate(rows)]


WILD = {"1.1": "Ngôi sao * và dấu hỏi ?", "1.2": "Ngã ~ rồi sao ~*", "2.1": 'Trích "đặc biệt" ? *'}


def wild_template(folder: Path) -> tuple[PlanSpec, Path]:
    """A district's catalog (TT18) whose criterion and Mức 4 names hold *, ?, ~ and a quote."""
    catalog = yaml.safe_load((resources.files("workbook_templates") / "data" / "criteria_catalog.yaml")
                             .read_text("utf-8"))
    fw = next(c for c in catalog["circulars"] if c["id"] == TT18)
    for std in fw["standards"]:
        for c in std["criteria"]:
            c["name"] = WILD.get(str(c["code"]), c["name"])
    fw["muc4"][0]["short_name"] = "Mục * Mức 4 ?"
    path = folder / "catalog-wild.yaml"
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    factory = TemplateFactory(Sources.load(catalog=path), YEAR, framework=TT18, issue_date=ISSUE)
    template = folder / "template-wild.xlsx"
    template.write_bytes(factory.make("thcs")[0])
    spec = factory.spec("thcs")
    assert sum(any(ch in label for ch in "*?~") for label in spec.lists["criteria"]) == 4
    return spec, template


def rule_cases(spec: PlanSpec) -> list[Case]:
    fw, ch = spec.framework, spec.choices
    ok = spec.form.ok_text
    good = example_row(spec)
    months = ch.months(spec.year)
    by_code = {r.code: r for r in spec.rules.live if r.field in ("criterion", "end")}
    cases = [
        Case("valid", good, ok),
        Case("empty", {}, ""),
        Case("staff-lead", {**good, "lead": STAFF[-1]}, ok),
        Case("unknown-person-lead", {**good, "lead": "Phạm Văn Lạ"},
             shown(spec, next(r for r in spec.rules.live if r.field == "lead" and r.kind == "in_list"))),
        Case("case-insensitive", {**good, "muc": good["muc"].lower(), "lead": good["lead"].upper()}, ok),
        Case("year-to-a-month", {**good, "start": ch.periods(spec.year)[-1].label, "end": months[3].label}, ok),
        Case("semesters-reversed", {**good, "start": "Học kỳ II", "end": "Học kỳ I"},
             shown(spec, by_code["period.end_before_start"])),
        Case("no-money-needed", {**good, "budget": 0, "funding": ch.no_funding.label}, ok),
        Case("no-budget", {**good, "budget": "", "funding": ""}, ok),
    ]
    if fw.top_items:
        top = {**good, "muc": spec.top_label, "standard": ""}
        cases += [
            Case("muc4-item", {**top, "criterion": fw.top_items[-1].label}, ok),
            Case("muc4-with-a-standard-criterion", {**top, "criterion": fw.criteria[0].label},
                 shown(spec, by_code["criterion.not_in_standard"])),
        ]
    for rule in spec.rules.live:
        row = _breaking_row(rule, spec, good)
        if row is None:
            assert _unreachable_ok(rule, spec), f"{fw.id}: no row designed to break {rule_id(rule)}"
            continue
        cases.append(Case(f"breaks {rule_id(rule)}", row, shown(spec, rule), rule))
    # a derived field (form 2026.1: Tiêu chuẩn) is not typed: each row as the sheet shows it
    return [dataclasses.replace(c, row=spec.with_derived(c.row) if c.row else c.row) for c in cases]


@dataclasses.dataclass
class Computed:
    spec: PlanSpec
    cases: list[Case]
    out: Path


UNTIDY = {
    # name: changes made to the valid example row
    "lowercase-choice": {"muc": "mức 2"},
    "uppercase-owner": {"lead": "HIỆU TRƯỞNG"},
    "trailing-space-owner": {"lead": "Hiệu trưởng "},
    "trailing-space-choice": {"muc": "Mức 2 "},
    "decomposed-unicode-choice": {"muc": unicodedata.normalize("NFD", "Mức 2")},
    "decomposed-unicode-owner": {"lead": unicodedata.normalize("NFD", "Phó hiệu trưởng")},
    "inner-double-space-owner": {"lead": "Hiệu  trưởng"},
    "no-break-space-after-choice": {"muc": "Mức 2\u00a0"},
    "no-break-space-only-text": {"target": "\u00a0"},
    "spaces-and-no-break-space-text": {"target": " \u00a0 "},
    "spaces-only-text": {"target": "   "},
    "number-as-text": {"budget": "5"},
    "spaces-only-number": {"budget": "  "},
    "text-looking-like-a-formula": {"target": "=1+1"},
}
# Where the two sides may differ on purpose, in the safe direction: the sheet flags the cell,
# the ingest side normalises the text (and reports that it did) before checking.
_UNTIDY_BY_DESIGN = {  # name -> the field whose list rule the sheet shows
    "decomposed-unicode-choice": "muc",
    "decomposed-unicode-owner": "lead",
}
@pytest.fixture(scope="session")
def computed(tmp_path_factory, sources) -> dict[str, Any]:
    """Every file whose formulas LibreOffice must compute, in one recalculating call."""
    require_soffice()
    folder = tmp_path_factory.mktemp("computed")
    jobs: list[tuple[str, Path, Callable[[Path], Any]]] = []  # (key, filled file, reader of the output)
    info = {"preparer": "Nguyễn Văn An", "position": "Hiệu trưởng", "email": "a@example.edu.vn"}

    for fid in FRAMEWORKS:
        factory = TemplateFactory(sources, YEAR, framework=fid, issue_date=ISSUE)
        spec = factory.spec("thcs")
        template = folder / f"template-{fid}.xlsx"
        template.write_bytes(factory.make("thcs", School("CS-T", "Trường THCS Thử", "thcs"))[0])

        cases = rule_cases(spec)
        filled = fill_plan(template, folder / f"rules-{fid}.xlsx", [c.row for c in cases], info, STAFF)
        jobs.append((f"rules:{fid}", filled, lambda out, spec=spec, cases=cases: Computed(spec, cases, out)))

        good = example_row(spec)
        calm = [good, {}, {**good, "lead": "Phạm Văn Lạ"}]  # valid, empty, a warning only
        filled = fill_plan(template, folder / f"warnings-only-{fid}.xlsx", calm, None, STAFF)
        jobs.append((f"warnings-only:{fid}", filled, lambda out: out))

        # the lists: Tiêu chí (first and last row), Chủ trì (first and last row)
        lay = L.PlanLayout(spec.form)
        last = lay.last_input_row + 1
        probes = [("criteria", "criterion", L.FIRST_INPUT_ROW + 1), ("criteria-last-row", "criterion", last),
                  ("owners", "lead", L.FIRST_INPUT_ROW + 1), ("owners-last-row", "lead", last)]
        filled = fill_plan(template, folder / f"lists-{fid}.xlsx", [{"muc": good["muc"]}], None, STAFF)
        add_list_probes(filled, spec, probes)
        jobs.append((f"lists:{fid}", filled, lambda out, p=probes: read_probes(out, p)))

        # the shown Tiêu chuẩn of every criterion and Mức 4 item, typed as a school would
        rows = shown_standard_rows(spec)
        filled = fill_plan(template, folder / f"standards-{fid}.xlsx", rows, None, STAFF)
        jobs.append((f"standards:{fid}", filled, lambda out, n=len(rows): read_plan(out, n)))

        if fid == TT18:
            untidy = [{**good, **change} for change in UNTIDY.values()]
            filled = fill_plan(template, folder / "untidy.xlsx", untidy, None, STAFF)
            jobs.append(("untidy", filled, lambda out, spec=spec: (spec, read_plan(out, len(UNTIDY)))))

    # a district's catalog whose labels hold what MATCH would read as wildcards, and a quote
    spec, template = wild_template(folder)
    rows = shown_standard_rows(spec)
    filled = fill_plan(template, folder / "standards-wild.xlsx", rows, None, None)
    probes = [("criteria", "criterion", L.FIRST_INPUT_ROW + 1)]
    add_list_probes(filled, spec, probes)
    jobs.append(("wild", filled, lambda out, p=probes, n=len(rows), spec=spec: (spec, read_probes(out, p),
                                                                           read_plan(out, n))))

    outs = resave([j[1] for j in jobs], folder / "lo", recalc=True)
    result = {key: reader(out) for (key, _f, reader), out in zip(jobs, outs)}
    result[FILLED] = {key: (filled, reader) for key, filled, reader in jobs if not key.startswith("cascade")}
    return result


FILLED = "filled"  # computed[FILLED]: key -> (filled file, reader): what Gnumeric recalculates too
ENGINES = ("libreoffice", pytest.param("gnumeric", marks=pytest.mark.gnumeric))


@pytest.fixture(scope="session")
def gnumeric_computed(computed, tmp_path_factory) -> dict[str, Any]:
    """The same filled files as ``computed`` (not the dropdown probes: OFFSET lists are a
    LibreOffice matter here), recalculated by Gnumeric (``ssconvert --recalc``)."""
    jobs = computed[FILLED]
    outs = gnumeric_recalc([f for f, _r in jobs.values()], tmp_path_factory.mktemp("gnumeric"))
    return {key: reader(out) for (key, (_f, reader)), out in zip(jobs.items(), outs)}


@pytest.fixture
def engine_results(request) -> Callable[[str], dict[str, Any]]:
    """engine name -> that engine's results, fixtures resolved only when asked for."""
    return lambda engine: request.getfixturevalue("computed" if engine == "libreoffice" else "gnumeric_computed")


def sheet_errors(path: Path, sheet: str) -> list[str]:
    """Cells of ``sheet`` whose cached value is an error (#VALUE!...): calamine reads them as
    "", which would pass for a blank Kiểm tra cell."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gnumeric's styles have no default: openpyxl says so
        wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    try:
        return [f"{c.coordinate}={c.value}" for row in wb[sheet].iter_rows() for c in row
                if getattr(c, "data_type", None) == "e"]
    finally:
        wb.close()


def tt_numbers(path: Path, count: int) -> list[Any]:
    table = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Kế hoạch").to_python(skip_empty_area=False)
    return [table[r][0] if r < len(table) else "" for r in range(L.FIRST_INPUT_ROW, L.FIRST_INPUT_ROW + count)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fid", FRAMEWORKS)
def test_live_checks_compute_and_agree_with_python(fid, engine, engine_results):
    """Every Kiểm tra text, TT number and the banner, computed by the spreadsheet program,
    equal what the Python check says of the rows read back."""
    got: Computed = engine_results(engine)[f"rules:{fid}"]
    spec, cases = got.spec, got.cases
    assert not sheet_errors(got.out, spec.form.sheet)
    # every live rule has a row that shows it (or provably cannot be shown first)
    shown_rules = {rule_id(c.rule) for c in cases if c.rule is not None}
    for rule in spec.rules.live:
        assert rule_id(rule) in shown_rules or _unreachable_ok(rule, spec), rule_id(rule)
    read = read_plan(got.out, len(cases))
    problems = []
    for i, case in enumerate(cases):
        excel_row = L.FIRST_INPUT_ROW + 1 + i
        lo = read.checks[i]
        py = python_verdict(spec, read.rows[i], STAFF)
        if lo != case.expected or py != lo:
            problems.append(f"row {excel_row} [{case.name}]: {engine} {lo!r}, Python {py!r}, "
                            f"expected {case.expected!r}")
    assert not problems, "\n".join(problems)
    numbers = tt_numbers(got.out, len(cases))
    assert numbers == [("" if c.expected == "" else i + 1) for i, c in enumerate(cases)]
    errors = sum(1 for c in cases if c.expected not in ("", spec.form.ok_text)
                 and not c.expected.startswith(nfc(spec.form.warning_prefix)))
    assert errors >= 10
    assert read.banner == nfc(f"Có {errors} dòng cần sửa (xem cột {spec.form.check_header})")


@pytest.mark.parametrize("fid", FRAMEWORKS)
def test_read_back_rows_are_what_was_typed(fid, computed):
    got: Computed = computed[f"rules:{fid}"]
    read = read_plan(got.out, len(got.cases))
    for case, row in zip(got.cases, read.rows):
        for key in got.spec.form.keys:
            typed = case.row.get(key, "")
            assert row[key] == (nfc(typed) if isinstance(typed, str) else typed), (case.name, key)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fid", FRAMEWORKS)
def test_warnings_are_not_counted_in_the_banner(fid, engine, engine_results):
    out = engine_results(engine)[f"warnings-only:{fid}"]
    assert not sheet_errors(out, "Kế hoạch")
    assert tt_numbers(out, 3) == [1, "", 3]
    read = read_plan(out, 3)
    assert read.checks[0] == "OK" and read.checks[1] == "" and read.checks[2].startswith("Cảnh báo: ")
    assert read.banner == "Chưa phát hiện lỗi ở các dòng đã nhập"


@pytest.mark.parametrize("fid", FRAMEWORKS)
def test_criterion_dropdown_lists_every_criterion_with_its_code_then_muc4(fid, computed, sources):
    lists = computed[f"lists:{fid}"]
    fw = sources.spec("thcs", YEAR, fid).framework
    expected = [nfc(c.label) for s in fw.standards for c in s.criteria] + [nfc(c.label) for c in fw.top_items]
    assert len(expected) <= MAX_LIST
    assert all(re.match(r"^(\d+\.\d+|M4\.\d+) - ", label) for label in expected)  # the code leads
    assert lists["criteria"] == expected
    assert lists["criteria-last-row"] == expected


@pytest.mark.parametrize("fid", FRAMEWORKS)
def test_owner_dropdown_lists_roles_then_typed_staff(fid, computed, sources):
    """A plain range: the roles, then one cell per staff slot (blank until typed)."""
    lists = computed[f"lists:{fid}"]
    roles = [nfc(x) for x in sources.choices.owners]
    staff_slots = sources.form.staff_rows
    expected = roles + [nfc(x) for x in STAFF] + [""] * (staff_slots - len(STAFF))
    assert len(expected) <= MAX_LIST
    assert lists["owners"] == expected
    assert lists["owners-last-row"] == lists["owners"]


@pytest.mark.parametrize("fid", FRAMEWORKS)
def test_shown_standard_is_the_chosen_criterions(fid, computed, sources):
    spec = sources.spec("thcs", YEAR, fid)
    read = computed[f"standards:{fid}"]
    rows = shown_standard_rows(spec)
    assert [r["standard"] for r in read.rows] == [nfc(r["standard"]) for r in rows]
    assert all(c == spec.form.ok_text for c in read.checks[:len(rows) - 3]), read.checks  # valid rows stay valid


def test_shown_standard_and_list_survive_wildcards_and_quotes(computed):
    """Labels with *, ?, ~ and a quote: MATCH would read them as patterns; the lookup does not."""
    spec, lists, read = computed["wild"]
    assert lists["criteria"] == [nfc(x) for x in spec.lists["criteria"]]
    assert [r["standard"] for r in read.rows] == [nfc(r["standard"]) for r in shown_standard_rows(spec)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(UNTIDY))
def test_python_and_sheet_agree_on_untidy_text(name, engine, engine_results):
    spec, read = engine_results(engine)["untidy"]
    i = list(UNTIDY).index(name)
    lo = read.checks[i]
    py = python_verdict(spec, read.rows[i], STAFF)
    # Gnumeric compares text after Unicode normalisation (measured): it agrees with Python
    if name in _UNTIDY_BY_DESIGN and engine == "libreoffice":
        field = _UNTIDY_BY_DESIGN[name]
        rule = next(r for r in spec.rules.live if r.kind == "in_list" and r.field == field)
        assert (lo, py) == (shown(spec, rule), spec.form.ok_text)
    else:
        assert lo == py, f"{engine} {lo!r}, Python {py!r}"


@pytest.mark.gnumeric
def test_identity_and_rows_survive_a_gnumeric_resave(computed, gnumeric_computed, sources):
    """Gnumeric shows the hidden sheets and, for a file openpyxl saved (as the tests fill
    them), writes the custom properties out empty: the checker finds the identity in the
    identity sheet, says where it read it (identity.source), and reads the same rows."""
    from kcl_xlsx.check.checker import CheckOptions, check_path

    before_path = computed[FILLED]["rules:" + TT18][0]
    after_path = gnumeric_computed["rules:" + TT18].out
    opts = CheckOptions(year=YEAR)
    before, after = check_path(before_path, opts), check_path(after_path, opts)
    assert after.identity.get("school_code") == before.identity.get("school_code") == "CS-T"
    assert after.identity.get("template_id") == before.identity.get("template_id")
    assert nfc(after.identity.get("school_name")) == nfc("Trường THCS Thử")
    sources_read = [i.value for i in after.issues if i.code == "identity.source"]
    assert sources_read, [i.code for i in after.issues]
    assert [(r.row, {k: nfc(v) for k, v in r.values.items()}) for r in after.rows] == \
        [(r.row, {k: nfc(v) for k, v in r.values.items()}) for r in before.rows]
    assert {i.code for i in after.issues if i.severity.name == "ERROR"} == \
        {i.code for i in before.issues if i.severity.name == "ERROR"}
