"""Acceptance tests of the checks `kcl-xlsx check` runs on a returned plan.

Every check has a file that triggers it and a near miss that does not.  Files are made the
way they reach the office: an issued (signed) template from ``TemplateFactory``, rows typed
with ``fill_plan`` (openpyxl), and, for the structural checks, an edit a school could make
with a spreadsheet program (openpyxl again, after unprotecting the sheet).

Positions are compared fully qualified, ``(code, "Kế hoạch!E6")`` (``Issue.where()``: the
sheet alone when the issue names no cell, "" when it names neither), as a multiset of the
error- and warning-level issues; info-level issues are compared only for the codes a case
is about.  Vietnamese text is compared after NFC.
"""
from __future__ import annotations

import copy
import dataclasses
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest
from xlsxwriter.utility import xl_col_to_name

from kcl_xlsx.spec import layout as L
from kcl_xlsx.check.checker import CheckOptions, PlanRow, Submission, check_path
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.plan_spec import Sources, example_row
from kcl_xlsx.spec.roster import School
from kcl_xlsx.spec.issues import catalogue
from macros_free_validation.report import Severity
from tests.support.fill import fill_plan

YEAR = "2025-2026"
KEY = b"khoa-phong-gd-test"
SCHOOL = School("79000123", "Trường THCS Nguyễn Trãi", "thcs", "Phòng GD&ĐT Quận 1")
PREPARER = {"preparer": "Nguyễn Văn An"}
OPTIONS = CheckOptions(year=YEAR, key=KEY)

SOURCES = Sources.load()
SPEC = SOURCES.spec("thcs", YEAR)  # TT18/2018 (THCS): criteria 1.1-5.6 and M4.1-M4.6
LAY = L.PlanLayout(SPEC.form)
V1 = "2025.1"  # the form before Tiêu chuẩn was shown, not chosen
FORMS = {"template_v1": SOURCES.form_for(V1)}  # the form a template fixture was built with (default: current)
EX = example_row(SPEC)  # the worked example of the Hướng dẫn sheet: valid under every rule
PLAN = SPEC.form.sheet  # "Kế hoạch"
INFO = SPEC.form.info_sheet  # "Thông tin"


def nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def crit(code: str) -> str:
    """The dropdown label of a criterion ("1.2 - Hội đồng trường ...")."""
    return next(c.label for c in SPEC.framework.all_items() if c.code == code)


def std(code: str) -> str:
    return next(s.label for s in SPEC.framework.standards if s.code == code)


def at(field: str, row: int = 6) -> str:
    """``Kế hoạch!E6``: the cell of ``field`` in Excel row ``row`` (6 = first input row)."""
    return f"{PLAN}!{LAY.letter(field)}{row}"


def info_cell(key: str) -> str:
    return f"{INFO}!B{LAY.info_row(key) + 1}"


def flagged(sub: Submission) -> Counter:
    """Error- and warning-level issues as a multiset of (code, where)."""
    return Counter((i.code, i.where()) for i in sub.issues if i.severity != Severity.INFO)


def infos(sub: Submission, wanted: set[str]) -> Counter:
    return Counter((i.code, i.where()) for i in sub.issues if i.severity == Severity.INFO and i.code in wanted)


def unprotected(wb, name: str = PLAN):
    ws = wb[name]
    ws.protection.sheet = False
    return ws


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def factory() -> TemplateFactory:
    return TemplateFactory(SOURCES, YEAR, key=KEY)


@pytest.fixture(scope="module")
def template(factory, tmp_path_factory) -> Path:
    """The signed THCS template issued to SCHOOL."""
    data, identity = factory.make("thcs", SCHOOL)
    assert identity.signature not in ("", "unsigned")
    path = tmp_path_factory.mktemp("tpl") / "79000123_thcs-nguyen-trai.xlsx"
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def template_v1(factory, tmp_path_factory) -> Path:
    """The same school's template of form 2025.1 (Tiêu chuẩn chosen, not shown): files
    issued before form 2026.1 are still checked as then."""
    data, identity = TemplateFactory(SOURCES, YEAR, key=KEY, form_version=V1).make("thcs", SCHOOL)
    assert identity.form_version == V1
    path = tmp_path_factory.mktemp("tpl-v1") / "79000123_thcs-nguyen-trai-2025.1.xlsx"
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def template_2024(tmp_path_factory) -> Path:
    data, _ = TemplateFactory(SOURCES, "2024-2025", key=KEY).make("thcs", SCHOOL)
    path = tmp_path_factory.mktemp("tpl24") / "mau-2024-2025.xlsx"
    path.write_bytes(data)
    return path


def plain_workbook(path: Path, rows: list[dict], sheet: str = PLAN) -> Path:
    """A workbook made from scratch with openpyxl: the template's header row (same row and
    columns) and the rows, nothing else (no identity, no Thông tin, no lists)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.cell(row=L.HEADER_ROW + 1, column=1, value="TT")
    for f in SPEC.form.fields:
        ws.cell(row=L.HEADER_ROW + 1, column=LAY.columns[f.key] + 1, value=f.header)
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value not in (None, ""):
                ws.cell(row=L.FIRST_INPUT_ROW + 1 + i, column=LAY.columns[key] + 1, value=value)
    wb.save(path)
    return path


# --------------------------------------------------------------------------- the table


@dataclasses.dataclass(frozen=True)
class Case:
    """One check.  ``expect`` lists every error/warning issue as (code, where), positions
    written for the first input row (Excel row 6).  A single-row case shares one file with
    the other single-row cases (its row moved down, its issues moved back up to row 6);
    any other case gets a file of its own."""

    id: str
    rows: tuple[dict, ...] = (EX,)  # typed from the first input row (Excel row 6) down
    expect: tuple[tuple[str, str], ...] = ()  # every error/warning issue, (code, where)
    # the info-level issues of the codes in INFO_CODES (None: not compared)
    info_expect: tuple[tuple[str, str], ...] | None = None
    then: Callable[[Submission, PlanRow | None], None] | None = None  # more assertions
    info: dict | None = None  # Thông tin values (default: the preparer filled in)
    edit: Callable | None = None  # edit(openpyxl workbook) after filling
    status: str | None = None  # default: "errors" if an error is expected, else "valid"
    template: str = "template"  # fixture name of the template to fill

    @property
    def one_row(self) -> bool:
        """A single row on the default template, nothing else: it can share a file."""
        return len(self.rows) == 1 and self.info is None and self.edit is None and self.template == "template"


def row(**over: Any) -> dict:
    return {**EX, **over}


def E(code: str, where: str) -> tuple[str, str]:
    return (code, where)


def values_are(**expected: Any):
    def then(sub: Submission, plan_row: PlanRow | None) -> None:
        assert plan_row is not None
        assert {k: nfc(plan_row.values[k]) for k in expected} == {k: nfc(v) for k, v in expected.items()}
    return then


def both(*thens):
    def then(sub: Submission, plan_row: PlanRow | None) -> None:
        for t in thens:
            t(sub, plan_row)
    return then


def message_says(code: str, *fragments: str):
    def then(sub: Submission, plan_row: PlanRow | None) -> None:
        assert plan_row is not None
        issue = next(i for i in sub.issues if i.code == code and i.row == plan_row.row)
        assert all(f in nfc(issue.message) for f in fragments), issue.message
    return then


def derived_are(**expected: Any):
    def then(sub: Submission, plan_row: PlanRow | None) -> None:
        assert plan_row is not None
        assert {k: plan_row.derived[k] for k in expected} == expected
    return then


def rename_plan(wb):
    wb[PLAN].title = "KH 2025-2026"


def delete_lists(wb):
    del wb[L.LISTS_SHEET]


def edit_level_list(wb):
    ws = wb[L.LISTS_SHEET]
    col = next(c.column for c in ws[1] if c.value == "levels")
    cell = next(ws.cell(row=r, column=col) for r in range(2, 10) if ws.cell(row=r, column=col).value == "Mức 3")
    cell.value = "Mức 3 (đã sửa)"


def edit_level_list_noop(wb):
    ws = wb[L.LISTS_SHEET]  # re-typing the same value is not a change
    col = next(c.column for c in ws[1] if c.value == "levels")
    ws.cell(row=2, column=col).value = "Mức 1"


def tamper_school_code(wb):
    wb[INFO][info_cell("school_code").split("!")[1]].value = "79999999"


def retype_school_code(wb):  # same code, typed again: not tampering
    wb[INFO][info_cell("school_code").split("!")[1]].value = "79000123"


def _identity_edit(wb, field: str, value: str, *, sheet: bool = True, custom: bool = True):
    if sheet:
        ws = wb["kcl_identity"]
        hit = [r for r in ws.iter_rows() if r[0].value == field]
        assert hit, field
        hit[0][1].value = value
    if custom:
        props = [p for p in wb.custom_doc_props.props if p.name == f"kcl_{field}"]
        assert props, field
        props[0].value = value


def edit_identity_sheet_only(wb):
    _identity_edit(wb, "issue_date", "2025-01-01", custom=False)


def edit_identity_everywhere(wb):
    """What a person who found both copies (File > Properties > Custom, and the very-hidden
    sheet) could do: change the identity consistently, without the office key."""
    _identity_edit(wb, "issue_date", "2025-01-01")


def insert_column_e(wb):
    unprotected(wb).insert_cols(LAY.columns["target"] + 1)  # a blank column before Kết quả cần đạt


def insert_extra_column(wb):
    ws = unprotected(wb)
    col = LAY.check_col + 1  # before Kiểm tra, after the last field
    ws.insert_cols(col)
    ws.cell(row=L.HEADER_ROW + 1, column=col, value="Cột thêm của trường")
    ws.cell(row=L.FIRST_INPUT_ROW + 1, column=col, value="ghi chú riêng")


def swap_support_and_note(wb):
    ws = unprotected(wb)
    a, b = LAY.columns["support"] + 1, LAY.columns["note"] + 1
    for r in range(L.HEADER_ROW + 1, L.FIRST_INPUT_ROW + 3):
        x, y = ws.cell(row=r, column=a), ws.cell(row=r, column=b)
        x.value, y.value = y.value, x.value


def delete_last_field_column(wb):
    unprotected(wb).delete_cols(LAY.columns["result"] + 1)  # optional column Kết quả thực hiện


def delete_required_column(wb):
    unprotected(wb).delete_cols(LAY.columns["target"] + 1)  # required column Kết quả cần đạt


def row_below_block(excel_row: int):
    def edit(wb):
        ws = unprotected(wb)
        for key, value in row(target="Dòng nhập bên dưới vùng nhập").items():
            if value not in ("", None):
                ws.cell(row=excel_row, column=LAY.columns[key] + 1, value=value)
    return edit


def merge_criterion(wb):
    unprotected(wb).merge_cells(f"{LAY.letter('criterion')}6:{LAY.letter('criterion')}7")


NFD_TARGET = unicodedata.normalize("NFD", "Có kế hoạch chiến lược") + "\u00a0giai đoạn 2025-2030"
OUTSIDE_ROW = LAY.last_input_row + 2  # Excel row just below the 200-row block

STAFF = ("Trần Thị Bình",)  # typed on Thông tin for every file: joins the Chủ trì list

CASES: list[Case] = [
    # ---- field.required (one per required field), and its exemption for Mức 4
    *[Case(f"required-{f}", rows=(row(**{f: ""}),), expect=(E("field.required", at(f)),))
      for f in ("muc", "criterion", "target", "actions", "lead", "start", "end")],
    # form 2026.1: Tiêu chuẩn is shown (a formula of the criterion), never required; 2025.1: chosen
    Case("standard-follows-criterion", rows=(row(standard=std("2"), criterion=crit("1.1")),),
         then=values_are(standard=std("1"))),
    Case("standard-blank-for-muc4", rows=(row(muc="Mức 4", criterion=crit("M4.1")),), then=values_are(standard=None)),
    Case("required-standard-v1", template="template_v1", rows=(row(standard=""),),
         expect=(E("field.required", at("standard")),)),
    Case("required-standard-not-for-muc4", rows=(row(muc="Mức 4", standard="", criterion=crit("M4.1")),)),
    # ---- field.not_in_list
    Case("not-in-list-status", rows=(row(status="Xong rồi"),), expect=(E("field.not_in_list", at("status")),)),
    Case("not-in-list-funding", rows=(row(funding="Quỹ lớp"),), expect=(E("field.not_in_list", at("funding")),)),
    Case("not-in-list-start", rows=(row(start="sớm nhất có thể"),), expect=(E("field.not_in_list", at("start")),)),
    Case("not-in-list-month-13", rows=(row(start="Tháng 13/2025"),), expect=(E("field.not_in_list", at("start")),)),
    Case("in-list-status-funding", rows=(row(status="Hoàn thành", funding="Xã hội hóa"),)),
    Case("in-list-spans", rows=(row(start="Học kỳ I", end="Cả năm học"),)),
    # ---- field.unknown_choice (warning): Chủ trì accepts roles and the staff of Thông tin
    Case("unknown-choice-lead", rows=(row(lead="Ông Ba bảo vệ"),), expect=(E("field.unknown_choice", at("lead")),)),
    Case("lead-from-staff-list", rows=(row(lead=STAFF[0]),), then=values_are(lead=STAFF[0])),
    # ---- numbers
    Case("not-a-number", rows=(row(budget="khoảng vài đồng"),), expect=(E("field.not_a_number", at("budget")),)),
    Case("number-stored-as-text", rows=(row(budget="12,5"),), then=derived_are(budget_min=12.5, budget_max=12.5)),
    Case("below-minimum", rows=(row(budget=-5),), expect=(E("field.below_minimum", at("budget")),)),
    Case("zero-is-not-below-minimum", rows=(row(budget=0),)),
    # ---- cross-field rules of form.yaml
    Case("criterion-not-in-standard", template="template_v1", rows=(row(standard=std("2"), criterion=crit("1.1")),),
         expect=(E("criterion.not_in_standard", at("criterion")),)),
    Case("criterion-in-standard", rows=(row(standard=std("2"), criterion=crit("2.3")),)),
    Case("level-not-defined", rows=(row(muc="Mức 3", criterion=crit("1.2")),),
         expect=(E("criterion.level_not_defined", at("muc")),)),
    Case("level-defined-2", rows=(row(muc="Mức 2", criterion=crit("1.2")),)),
    Case("level-defined-3", rows=(row(muc="Mức 3", criterion=crit("1.1")),)),
    Case("end-before-start", rows=(row(start="Tháng 12/2025", end="Tháng 9/2025"),),
         expect=(E("period.end_before_start", at("end")),)),
    Case("end-same-month-as-start", rows=(row(start="Tháng 12/2025", end="Tháng 12/2025"),)),
    Case("end-before-start-span", rows=(row(start="Học kỳ II", end="Tháng 12/2025"),),
         expect=(E("period.end_before_start", at("end")),)),
    Case("budget-with-no-funding-needed", rows=(row(budget=5, funding="Không cần kinh phí"),),
         expect=(E("budget.with_no_funding_needed", at("budget")),)),
    Case("no-budget-no-funding-needed", rows=(row(budget="", funding="Không cần kinh phí"),)),
    Case("zero-budget-no-funding-needed", rows=(row(budget=0, funding="Không cần kinh phí"),)),
    Case("funding-missing", rows=(row(budget=5, funding=""),), expect=(E("funding.missing", at("funding")),)),
    Case("no-budget-no-funding", rows=(row(budget="", funding=""),)),
    Case("budget-implausible", rows=(row(budget=60000),), expect=(E("budget.implausible", at("budget")),)),
    Case("budget-at-ceiling", rows=(row(budget=50000),)),
    # ---- periods outside the window (the school year and the 5 following ones)
    Case("period-outside-window-before", rows=(row(start="Tháng 8/2025"),),
         expect=(E("period.outside_window", at("start")),)),
    Case("period-outside-window-after", rows=(row(end="Tháng 9/2031"),),
         expect=(E("period.outside_window", at("end")),)),
    Case("period-last-month-of-window", rows=(row(end="Tháng 8/2031"),)),
    # ---- readings of free text: info-level, or a warning when the office should look
    Case("text-normalized", rows=(row(target=NFD_TARGET),), info_expect=(E("text.normalized", at("target")),),
         then=both(values_are(target="Có kế hoạch chiến lược giai đoạn 2025-2030"),
                   message_says("text.normalized", "NFD", "khoảng trắng không ngắt"))),
    Case("text-already-nfc", info_expect=()),
    Case("text-formula-like", rows=(row(actions="=1+1"),), expect=(E("text.formula_like", at("actions")),),
         then=values_are(actions="=1+1")),
    Case("text-with-inner-equals", rows=(row(actions="Tỉ lệ = 100%"),)),
    Case("text-negative-number", rows=(row(note="-5"),)),
    Case("interpreted-criterion", rows=(row(standard=std("2"), criterion="Tiêu chí 2. 3"),),
         info_expect=(E("value.interpreted", at("criterion")),), then=values_are(criterion=crit("2.3"))),
    Case("interpreted-standard", template="template_v1", rows=(row(standard="TC 1"),), info_expect=(E("value.interpreted", at("standard")),),
         then=values_are(standard=std("1"))),
    Case("interpreted-muc", rows=(row(muc="2"),), info_expect=(E("value.interpreted", at("muc")),),
         then=values_are(muc="Mức 2")),
    Case("interpreted-period", rows=(row(start="HK1"),), info_expect=(E("value.interpreted", at("start")),),
         then=values_are(start="Học kỳ I")),
    Case("dropdown-values-not-interpreted", info_expect=()),
    Case("budget-parsed-from-text", rows=(row(budget="400 - 500 triệu"),),
         expect=(E("budget.parsed_from_text", at("budget")),), info_expect=(E("budget.range", at("budget")),),
         then=derived_are(budget_min=400, budget_max=500)),
    Case("owner-split", rows=(row(lead="Hiệu trưởng - Kế toán", collaborators=""),),
         info_expect=(E("owner.split", at("lead")),), then=values_are(lead="Hiệu trưởng", collaborators="Kế toán")),
    Case("owner-not-split", rows=(row(lead="Hiệu trưởng"),), info_expect=()),
    Case("period-split", rows=(row(start="Tháng 10/2025 và hoàn thành tháng 5/2026", end=""),),
         info_expect=(E("period.split", at("start")), E("value.interpreted", at("start"))),
         then=values_are(start="Tháng 10/2025", end="Tháng 5/2026")),
    # ---- plan-level checks (a file each from here on)
    Case("plan-empty", rows=(), expect=(E("plan.empty", PLAN),)),
    Case("row-duplicate", rows=(EX, EX), expect=(E("row.duplicate", at("criterion", 7)),)),
    Case("rows-differing-in-target-are-not-duplicates", rows=(EX, row(target="Một kết quả khác"))),
    Case("row-duplicate-modulo-case-and-spacing", rows=(EX, row(target="  " + EX["target"].upper() + " ")),
         expect=(E("row.duplicate", at("criterion", 7)),)),
    Case("info-missing", info={}, expect=(E("info.missing", info_cell("preparer")),)),
    Case("info-missing-blank", info={"preparer": "   "}, expect=(E("info.missing", info_cell("preparer")),)),
    Case("info-filled", info={"preparer": "Lê Văn Cường", "position": "Phó hiệu trưởng"}),
    # ---- identity
    Case("identity-tampered", edit=tamper_school_code, expect=(E("identity.tampered", info_cell("school_code")),)),
    Case("identity-same-code-retyped", edit=retype_school_code),
    Case("identity-bad-signature", edit=edit_identity_everywhere, expect=(E("identity.bad_signature", ""),),
         then=lambda sub, _: assert_equal(sub.signature, "invalid")),
    # Only the very-hidden sheet copy edited: the trusted copy (custom properties) still
    # verifies; the disagreement is reported, not a bad signature (identity_check's order).
    Case("identity-sheet-copy-edited", edit=edit_identity_sheet_only, expect=(E("identity.mismatch", ""),),
         then=lambda sub, _: assert_equal((sub.identity_source, sub.signature), ("custom", "verified"))),
    Case("template-wrong-year", template="template_2024", expect=(E("template.wrong_year", ""),),
         then=lambda sub, _: assert_equal(sub.year, "2024-2025")),
    # ---- structure of the Kế hoạch sheet
    Case("column-moved", edit=insert_column_e, expect=tuple(
        E("structure.column_moved", f"{PLAN}!{xl_col_to_name(LAY.columns[f.key] + 1)}5")
        for f in SPEC.form.fields if LAY.columns[f.key] >= LAY.columns["target"]),
        then=values_are(**{k: v for k, v in EX.items() if v != ""})),  # read by header
    Case("column-moved-swap", edit=swap_support_and_note,
         expect=(E("structure.column_moved", f"{PLAN}!{LAY.letter('support')}5"),
                 E("structure.column_moved", f"{PLAN}!{LAY.letter('note')}5")),
         rows=(row(support="hỗ trợ", note="ghi chú"),), then=values_are(support="hỗ trợ", note="ghi chú")),
    Case("column-extra", edit=insert_extra_column,
         expect=(E("structure.column_extra", f"{PLAN}!{xl_col_to_name(LAY.check_col)}5"),)),
    # the template's cell of a missing column is in the message; the issue has no cell
    Case("column-missing-optional", edit=delete_last_field_column, expect=(E("structure.column_missing", PLAN),),
         status="valid"),  # Kết quả thực hiện is optional: a warning
    Case("plan-sheet-renamed", rows=(row(target=""),), edit=rename_plan,
         expect=(E("structure.plan_sheet_renamed", "KH 2025-2026"), E("field.required", "KH 2025-2026!E6"))),
    Case("sheet-missing", edit=delete_lists, expect=(E("structure.sheet_missing", L.LISTS_SHEET),)),
    Case("lists-changed", edit=edit_level_list, expect=(E("structure.lists_changed", L.LISTS_SHEET),)),
    Case("lists-retyped-unchanged", edit=edit_level_list_noop),
    Case("rows-outside", edit=row_below_block(OUTSIDE_ROW),
         expect=(E("structure.rows_outside", f"{PLAN}!B{OUTSIDE_ROW}"),),
         then=lambda sub, _: assert_equal([r.row for r in sub.rows], [6, OUTSIDE_ROW])),
    Case("last-row-of-block-is-inside", rows=tuple([{}] * (SPEC.form.input_rows - 1) + [row(target="Dòng 200")]),
         then=lambda sub, _: assert_equal([r.row for r in sub.rows], [LAY.last_input_row + 1])),
    Case("cell-merged", rows=(EX, row(target="Dòng thứ hai", criterion="")), edit=merge_criterion,
         info_expect=(E("cell.merged", at("criterion")),),
         then=lambda sub, _: assert_equal([nfc(r.values["criterion"]) for r in sub.rows], [nfc(EX["criterion"])] * 2)),
]
INFO_CODES = {"cell.merged", "text.normalized", "value.interpreted", "budget.range", "owner.split", "period.split"}
ROW_CASES = [c for c in CASES if c.one_row]
FILE_CASES = [c for c in CASES if not c.one_row]


def assert_equal(seen: Any, expected: Any) -> None:
    assert seen == expected


def _make(case: Case, request, directory: Path, rows: list[dict] | None = None) -> Path:
    out = directory / f"{case.id}.xlsx"
    if case.edit and rows is None and case.rows == (EX,) and case.info is None and case.template == "template":
        wb = openpyxl.load_workbook(request.getfixturevalue("filled"))  # the common start: EX filled in
    else:
        src = request.getfixturevalue(case.template)
        fill_plan(src, out, list(case.rows) if rows is None else rows,
                  info=PREPARER if case.info is None else case.info, staff=list(STAFF), form=FORMS.get(case.template))
        if not case.edit:
            return out
        wb = openpyxl.load_workbook(out)
    case.edit(wb)
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def filled(template, tmp_path_factory) -> Path:
    """The template with the example row, the preparer and the staff filled in."""
    return fill_plan(template, tmp_path_factory.mktemp("filled") / "filled.xlsx", [EX], info=PREPARER,
                     staff=list(STAFF))


def _expected_status(case: Case) -> str:
    errors = any(catalogue()[code].severity == Severity.ERROR for code, _ in case.expect)
    return case.status or ("errors" if errors else "valid")


@pytest.fixture(scope="module")
def row_batch(request, tmp_path_factory) -> Submission:
    """Every single-row case in one file, case i on Excel row 6 + i (a unique Kết quả cần
    đạt suffix keeps the rows from being duplicates of each other): one fill, one check."""
    rows = []
    for i, case in enumerate(ROW_CASES):
        r = dict(case.rows[0])
        if r.get("target") == EX["target"]:
            r["target"] = f"{EX['target']} [{case.id}]"
        rows.append(r)
    path = _make(Case("row-cases", rows=()), request, tmp_path_factory.mktemp("batch"), rows)
    return check_path(path, OPTIONS)


def _at_row6(issue) -> tuple[str, str]:
    col = issue.cell.rstrip("0123456789")
    return (issue.code, f"{issue.sheet}!{col}6")


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.id for c in ROW_CASES])
def test_row_check(case: Case, row_batch: Submission):
    excel_row = 6 + ROW_CASES.index(case)
    mine = [i for i in row_batch.issues if i.row == excel_row]
    assert Counter(_at_row6(i) for i in mine if i.severity != Severity.INFO) == Counter(case.expect), [
        (i.code, i.where(), i.message) for i in mine]
    if case.info_expect is not None:
        assert Counter(_at_row6(i) for i in mine if i.severity == Severity.INFO and i.code in INFO_CODES) == Counter(
            case.info_expect)
    plan_row = next(r for r in row_batch.rows if r.row == excel_row)
    assert plan_row.errors == sum(1 for i in mine if i.severity == Severity.ERROR)
    if case.then:
        case.then(row_batch, plan_row)


def test_row_batch_has_no_other_issue(row_batch: Submission):
    assert [i.code for i in row_batch.issues if i.row is None] == ["identity.source"]
    assert len(row_batch.rows) == len(ROW_CASES)
    assert row_batch.status == "errors"


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.id for c in FILE_CASES])
def test_file_check(case: Case, request, tmp_path):
    sub = check_path(_make(case, request, tmp_path), OPTIONS)
    assert flagged(sub) == Counter(case.expect), [(i.code, i.where(), i.message) for i in sub.issues]
    if case.info_expect is not None:
        assert infos(sub, INFO_CODES) == Counter(case.info_expect)
    assert sub.status == _expected_status(case)
    if case.then:
        case.then(sub, sub.rows[0] if sub.rows else None)


@pytest.mark.parametrize("case", [c for c in ROW_CASES if c.id in ("required-target", "funding-missing",
                                                                   "text-formula-like", "text-already-nfc")],
                         ids=lambda c: c.id)
def test_row_case_alone_gives_the_same_status(case: Case, request, tmp_path):
    """A sample of the batched cases in a file of their own: same issues, and the status."""
    sub = check_path(_make(case, request, tmp_path), OPTIONS)
    assert flagged(sub) == Counter(case.expect)
    assert sub.status == _expected_status(case)


def test_every_row_rule_is_in_the_table():
    """The table above triggers every rule the spec compiles (and every severity it has)."""
    triggered = {code for case in CASES for code, _ in case.expect}
    rule_codes = {r.code for r in SPEC.rules.rules}
    assert rule_codes <= triggered, rule_codes - triggered
    assert {"period.outside_window", "plan.empty", "row.duplicate", "info.missing", "identity.tampered",
            "identity.bad_signature", "template.wrong_year", "structure.column_moved", "structure.column_missing",
            "structure.column_extra", "structure.plan_sheet_renamed", "structure.sheet_missing",
            "structure.lists_changed", "structure.rows_outside", "text.formula_like",
            "budget.parsed_from_text"} <= triggered
    assert {"cell.merged", "text.normalized", "value.interpreted", "owner.split", "period.split"} <= {
        code for case in CASES for code, _ in case.info_expect or ()}


def test_severities_of_the_soft_rules():
    by_code = {r.code: r.severity for r in SPEC.rules.rules}
    assert by_code["field.unknown_choice"] == Severity.WARNING
    assert by_code["budget.implausible"] == Severity.ERROR  # a warning before form 2026.1 (issue 14)
    assert all(by_code[c] == Severity.ERROR for c in by_code if c != "field.unknown_choice")


# --------------------------------------------------------------------------- values read


def _check(request, tmp_path, **kw) -> Submission:
    return check_path(_make(Case("x", **kw), request, tmp_path), OPTIONS)


def test_fully_valid_plan(request, tmp_path):
    rows = (
        EX,
        row(muc="Mức 3", standard=std("2"), criterion=crit("2.2"), target="100% giáo viên đạt chuẩn trình độ",
            lead="Phó hiệu trưởng", start="Học kỳ I", end="Cả năm học", budget=12.5, funding="Ngân sách nhà nước"),
        row(muc="Mức 4", standard="", criterion=crit("M4.4"), target="Thư viện điện tử", budget="",
            funding="Không cần kinh phí", start="Tháng 1/2026", end="Tháng 8/2027", status="Đang thực hiện"),
        row(muc="Mức 1", standard=std("3"), criterion=crit("3.4"), target="Khu vệ sinh đạt chuẩn", budget=350,
            funding="Xã hội hóa", lead="Trần Thị Bình", start="Tháng 6/2026", end="Tháng 8/2026"),
    )
    sub = _check(request, tmp_path, rows=rows)
    assert sub.status == "valid"
    assert [(i.code, i.where()) for i in sub.issues if i.severity != Severity.INFO] == []
    assert [i.code for i in sub.issues] == ["identity.source"]
    assert (sub.level, sub.year, sub.framework) == ("thcs", YEAR, SPEC.framework.id)
    assert (sub.identity_source, sub.signature) == ("custom", "verified")
    assert (sub.school_code, nfc(sub.school_name)) == (SCHOOL.code, nfc(SCHOOL.name))
    assert sub.staff == ["Trần Thị Bình"]
    assert [r.row for r in sub.rows] == [6, 7, 8, 9]
    for typed, got in zip(rows, sub.rows):
        expected = {k: (None if v == "" else v) for k, v in typed.items()}
        assert {k: nfc(v) for k, v in got.values.items()} == {k: nfc(v) for k, v in expected.items()}
        assert got.errors == 0
    assert [r.derived["criterion_code"] for r in sub.rows] == ["1.1", "2.2", "M4.4", "3.4"]
    assert [r.derived["section"] for r in sub.rows] == ["muc1_3", "muc1_3", "muc4", "muc1_3"]
    assert [(r.derived["budget_min"], r.derived["budget_max"]) for r in sub.rows] == [
        (5, 5), (12.5, 12.5), (None, None), (350, 350)]


def test_issue_positions_are_complete(request, tmp_path):
    sub = _check(request, tmp_path, rows=(row(target="", budget="khoảng vài đồng"),))
    by_code = {i.code: i for i in sub.issues}
    req, num = by_code["field.required"], by_code["field.not_a_number"]
    assert (req.sheet, req.cell, req.row, nfc(req.column)) == (PLAN, "E6", 6, "Kết quả cần đạt")
    assert (num.sheet, num.cell, num.row, num.value) == (PLAN, "K6", 6, "khoảng vài đồng")
    assert nfc(req.message).startswith(f"{PLAN}!E6: ") and req.hint
    assert sub.rows[0].errors == 2
    assert all(i.school_code == SCHOOL.code and i.template_id == SPEC.template_id for i in sub.issues)


def test_interpreted_number_is_shown_as_typed(request, tmp_path):
    """A Mức typed as the number 2 reads "đọc '2' là 'Mức 2'", not '2.0' (fixed bug)."""
    sub = _check(request, tmp_path, rows=(row(muc=2),))
    issue = next(i for i in sub.issues if i.code == "value.interpreted")
    assert sub.rows[0].values["muc"] == "Mức 2"
    assert issue.value == "2" and "'2'" in issue.message and "2.0" not in issue.message


def test_required_column_missing(request, tmp_path):
    """The column_missing error speaks for the whole column: no per-row issue blames the
    template's cell E6, which now holds Công việc/giải pháp (fixed bug)."""
    sub = _check(request, tmp_path, edit=delete_required_column)
    target = LAY.columns["target"]
    assert flagged(sub) == Counter({("structure.column_missing", PLAN): 1, **{
        ("structure.column_moved", f"{PLAN}!{xl_col_to_name(LAY.columns[f.key] - 1)}5"): 1
        for f in SPEC.form.fields if LAY.columns[f.key] > target}})
    missing = next(i for i in sub.issues if i.code == "structure.column_missing")
    assert (missing.severity, nfc(missing.column)) == (Severity.ERROR, "Kết quả cần đạt")
    assert sub.status == "errors"
    assert nfc(sub.rows[0].values["actions"]) == nfc(EX["actions"])  # read by header, one column left


def test_signed_template_checked_with_another_key(request, tmp_path):
    path = _make(Case("other-key"), request, tmp_path)
    sub = check_path(path, CheckOptions(year=YEAR, key=b"khoa-khac"))
    assert flagged(sub) == Counter({("identity.bad_signature", ""): 1})
    assert (sub.signature, sub.status) == ("invalid", "errors")
    no_key = check_path(path, CheckOptions(year=YEAR))
    assert (no_key.signature, no_key.status, flagged(no_key)) == ("unknown", "valid", Counter())


def test_forged_unsigned_identity_is_rejected_with_a_key(request, tmp_path):
    """Every copy rewritten consistently for another school, signature replaced by
    "unsigned": with the office key that is a bad signature (fixed bug: it was accepted)."""
    def forge(wb):
        for field, value in (("school_code", "79999999"), ("signature", "unsigned")):
            _identity_edit(wb, field, value)
        tamper_school_code(wb)
        name = wb.defined_names["kcl_identity"]
        t, f, _ = name.attr_text.strip('="').split("|")
        name.attr_text = f'"{t}|{f}|unsigned"'

    sub = _check(request, tmp_path, edit=forge)
    assert sub.school_code == "79999999"  # every copy agrees on the forged code
    assert flagged(sub) == Counter({("identity.bad_signature", ""): 1})
    assert (sub.signature, sub.status) == ("invalid", "errors")


def test_unsigned_template_checked_without_key(factory, tmp_path):
    unsigned = copy.copy(factory)  # shares the built base template; only the key differs
    unsigned.key = None
    data, identity = unsigned.make("thcs", SCHOOL)
    assert identity.signature == "unsigned"
    src = tmp_path / "unsigned.xlsx"
    src.write_bytes(data)
    path = fill_plan(src, tmp_path / "f.xlsx", [EX], info=PREPARER)
    sub = check_path(path, CheckOptions(year=YEAR))
    assert (sub.status, sub.signature, flagged(sub)) == ("valid", "unsigned", Counter())
    assert "identity.unsigned" in {i.code for i in sub.issues}
    # an office that checks with its key signs what it issues: unsigned is not accepted then
    with_key = check_path(path, OPTIONS)
    assert (with_key.status, with_key.signature, flagged(with_key)) == (
        "errors", "invalid", Counter({("identity.bad_signature", ""): 1}))


# --------------------------------------------------------------------------- no identity


def test_identity_missing_checked_with_assumed_template(tmp_path):
    path = plain_workbook(tmp_path / "tu-lam.xlsx", [EX, row(target="", budget=-1)])
    sub = check_path(path, CheckOptions(level="thcs", year=YEAR))
    assert flagged(sub) == Counter({
        ("identity.missing", ""): 1,
        ("structure.sheet_missing", INFO): 1, ("structure.sheet_missing", L.LISTS_SHEET): 1,
        ("structure.sheet_missing", "kcl_identity"): 1,
        ("field.required", at("target", 7)): 1, ("field.below_minimum", at("budget", 7)): 1,
    })
    assert {i.code for i in sub.issues if i.severity == Severity.INFO} == {"file.checked_with_assumed_template"}
    assert (sub.status, sub.level, sub.year, sub.identity_source, sub.signature) == (
        "errors", "thcs", YEAR, "", "unknown")
    assert len(sub.rows) == 2


def test_identity_missing_valid_rows(tmp_path):
    sub = check_path(plain_workbook(tmp_path / "tu-lam.xlsx", [EX]), CheckOptions(level="thcs", year=YEAR))
    assert sub.status == "valid"
    assert ("identity.missing", "") in flagged(sub)


def test_template_unknown(tmp_path):
    path = plain_workbook(tmp_path / "tu-lam.xlsx", [EX])
    for options in (CheckOptions(year=YEAR), CheckOptions(), CheckOptions(level="thcs")):
        sub = check_path(path, options)
        assert flagged(sub)[("template.unknown", "")] == 1, options
        assert sub.status == "wrong_template" and sub.rows == []


def test_template_unknown_for_a_level_that_does_not_exist(tmp_path):
    path = plain_workbook(tmp_path / "tu-lam.xlsx", [EX])
    sub = check_path(path, CheckOptions(level="dai-hoc", year=YEAR))
    assert flagged(sub)[("template.unknown", "")] == 1 and sub.status == "wrong_template"


def test_template_with_the_expected_year_is_not_wrong_year(request, tmp_path):
    sub = _check(request, tmp_path, template="template_2024")
    assert sub.year == "2024-2025"
    ok = check_path(_make(Case("y", template="template_2024"), request, tmp_path / "b"),
                    CheckOptions(year="2024-2025", key=KEY))
    assert (ok.status, flagged(ok)) == ("valid", Counter())
    no_year = check_path(_make(Case("z", template="template_2024"), request, tmp_path / "c"), CheckOptions(key=KEY))
    assert no_year.status == "valid"


def test_partial_identity_does_not_raise(tmp_path):
    """A workbook whose only kcl_ property is kcl_template_id (fixed bug: TypeError)."""
    path = plain_workbook(tmp_path / "mot-phan-dinh-danh.xlsx", [EX])
    wb = openpyxl.load_workbook(path)
    from openpyxl.packaging.custom import StringProperty
    wb.custom_doc_props.append(StringProperty(name="kcl_template_id", value="KCL-2025-THCS"))
    wb.save(path)
    sub = check_path(path, CheckOptions(year=YEAR))
    assert sub.status == "wrong_template"
    assert ("template.unknown", "") in flagged(sub)
    assert sub.identity.get("template_id") == "KCL-2025-THCS"
    with_level = check_path(path, CheckOptions(year=YEAR, level="thcs"))
    assert with_level.status == "valid" and len(with_level.rows) == 1


# --------------------------------------------------------------------------- rows added above


def insert_heading_rows(sheet: str, count: int = 3):
    """What schools do to official documents: lines added on top (the national motto)."""
    def edit(wb):
        ws = unprotected(wb, sheet)
        ws.insert_rows(1, count)
        ws["A1"] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
        ws["A2"] = "Độc lập - Tự do - Hạnh phúc"
    return edit


def test_rows_added_above_the_table_are_followed(request, tmp_path):
    """The header is found by its text; rows and positions follow it."""
    sub = _check(request, tmp_path, rows=(row(target=""),), edit=insert_heading_rows(PLAN))
    assert flagged(sub) == Counter({("field.required", at("target", 9)): 1})
    assert [r.row for r in sub.rows] == [9]


def test_last_input_row_after_rows_added_above(request, tmp_path):
    """The input block moves with the header (fixed bug: its 200th row was "outside")."""
    rows = tuple([{}] * (SPEC.form.input_rows - 1) + [row(target="Dòng 200")])
    sub = _check(request, tmp_path, rows=rows, edit=insert_heading_rows(PLAN))
    assert [r.row for r in sub.rows] == [LAY.last_input_row + 1 + 3]
    assert flagged(sub) == Counter()


def test_info_positions_after_rows_added_above(request, tmp_path):
    """Thông tin issues name the cells where the labels are (fixed bug: the template's B4/B9)."""
    def edit(wb):
        insert_heading_rows(INFO, 2)(wb)
        ws = wb[INFO]
        for r in ws.iter_rows(min_row=1, max_row=20):
            if r[0].value == "Mã trường":
                r[1].value = "79999999"
            if r[0].value == "Người lập kế hoạch":
                r[1].value = None

    sub = _check(request, tmp_path, edit=edit)
    assert flagged(sub) == Counter({("identity.tampered", f"{INFO}!B6"): 1, ("info.missing", f"{INFO}!B11"): 1})
