"""Issue 14, point 1: every number that enters a total is finite and within the form's bounds.

* the check: a budget cell holding ``<v>inf</v>``, ``<v>NaN</v>``, ``<v>1e400</v>``... is one
  error at its cell (number.not_finite), in every form version; a magnitude beyond the form's
  ceiling (50,000 triệu) is an error (budget.implausible); -0 and subnormals read as 0, as
  Excel reads them; text such as "∞" or "1e400" is not a number (tests/malformed_corpus.py
  NUMBER_CORPUS);
* ``kcl-xlsx check`` exits 1 on such a file, in one clear line, no traceback;
* collect's summary workbook, CSV and Parquet hold no non-finite number (the XML and the
  files scanned);
* the tables count only finite budgets (a ledger written before the check refused them);
* a roll-up input holding "inf" or "nan" is refused in one line;
* the writers refuse a non-finite number (NonFiniteNumber): fed a SummaryData with inf,
  neither the workbook nor the export is written;
* property: random finite and non-finite numbers and numeric strings in budget cells, through
  the check's normaliser and rules and then the summary tables: the district's totals are the
  sum over the accepted rows, and always finite.
"""
from __future__ import annotations

import dataclasses
import math
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kcl_xlsx import app as commands
from kcl_xlsx.check.checker import CheckOptions, PlanRow, Submission, check_path
from kcl_xlsx.check.normalize import RowNormalizer
from kcl_xlsx.cli import app
from kcl_xlsx.collect.result import CheckStatus, Classification, CollectResult, InboxFile, SchoolResult, SchoolStatus
from kcl_xlsx.collect.row_block import block_of
from kcl_xlsx.spec.plan_spec import Sources, example_row
from kcl_xlsx.summary.export import export
from kcl_xlsx.summary.fast_sheet import NonFiniteNumber
from kcl_xlsx.summary.rollup import read_export, rollup
from kcl_xlsx.summary.tables import build_summary, summarise, tables_from_collect
from kcl_xlsx.summary.workbook import write_summary
from macros_free_validation.report import Severity
from tests import malformed_corpus as mc
from workbook_templates.errors import SpecError

YEAR, KEY = mc.NUMBER_YEAR, mc.NUMBER_KEY
OPTIONS = CheckOptions(year=YEAR, key=KEY)
SOURCES = Sources.load()
SPEC = SOURCES.spec("thcs", YEAR)
FORM = SPEC.form
CEILING = FORM.budget_ceiling
TOTAL_MAX = "Tổng kinh phí tối đa (triệu đồng)"
TOTAL_MIN = "Tổng kinh phí tối thiểu (triệu đồng)"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("numbers")
    return {name: mc.build_number(name, base) for name in mc.NUMBER_CORPUS}


def test_the_tables_cover_the_corpus():
    assert set(mc.NUMBER_READ) == set(mc.NUMBER_CORPUS)
    assert CEILING == 50000  # the form's bound: 50 tỷ đồng for one action


def test_the_bound_is_an_error_of_the_sheet_and_of_the_office():
    rule = next(r for r in SPEC.rules.rules if r.code == "budget.implausible")
    assert rule.severity == Severity.ERROR and rule.live  # the Kiểm tra cell says it too
    assert rule.p("max") == CEILING and rule.kind == "max"
    assert "50.000" in rule.message
    # form 2025.1 is checked as then (a warning, no live formula), but inf is refused there too
    old = SOURCES.spec("thcs", YEAR, form_version=mc.NUMBER_V1)
    assert next(r for r in old.rules.rules if r.code == "budget.implausible").severity == Severity.WARNING


@pytest.mark.parametrize("name", list(mc.NUMBER_CORPUS))
def test_check_gives_one_clear_issue_at_the_cell(name, corpus):
    version = mc.NUMBER_V1 if name.startswith("v1_") else None
    cell = mc.budget_cell(version)
    sub = check_path(corpus[name], OPTIONS)
    code = mc.NUMBER_CORPUS[name][1]
    errors = [(i.code, i.cell) for i in sub.issues if i.severity == Severity.ERROR]
    assert errors == ([(code, cell)] if code else []), [i.message for i in sub.issues]
    assert sub.status == ("errors" if code else "valid")
    assert sub.rows[0].derived["budget_max"] == mc.NUMBER_READ[name]
    for row in sub.rows:  # nothing the summary could add up is ever non-finite
        for key in ("budget_min", "budget_max"):
            assert row.derived[key] is None or math.isfinite(row.derived[key])
        assert not any(isinstance(v, float) and not math.isfinite(v) for v in row.values.values())
    if code == "number.not_finite":
        issue = next(i for i in sub.issues if i.code == code)
        assert issue.message.startswith(f"Kế hoạch!{cell}: giá trị không phải số hữu hạn (")
        assert issue.hint and issue.value in ("inf", "-inf", "nan")
    if name in ("budget_subnormal", "budget_minus_subnormal"):
        assert [i.code for i in sub.issues if i.cell == cell] == ["number.tiny"]


@pytest.mark.parametrize("name", list(mc.NUMBER_UNREADABLE))
def test_a_number_cell_holding_no_number_is_named(name, tmp_path):
    """python-calamine refuses the whole sheet ("Parse float error"): the check says which
    cell and what it holds, not "parser crashed"."""
    sub = check_path(mc.build_number(name, tmp_path), OPTIONS)
    assert [(i.code, i.sheet, i.cell, i.value) for i in sub.issues] == [
        ("file.bad_number_cell", "Kế hoạch", mc.budget_cell(), mc.NUMBER_UNREADABLE[name][1])]
    assert sub.status == "unreadable"
    assert f"ô Kế hoạch!{mc.budget_cell()} là ô số nhưng chứa" in sub.issues[0].message


def test_check_command_exits_1_in_one_line(corpus, tmp_path):
    folder = tmp_path / "nop"
    folder.mkdir()
    for name in ("budget_inf", "budget_nan", "budget_1e308", "v1_budget_inf"):
        shutil.copy(corpus[name], folder / f"{name}.xlsx")
    shutil.copy(mc.build_number("budget_hex_literal", tmp_path), folder / "hex.xlsx")
    res = CliRunner().invoke(app, ["check", str(folder), "--year", YEAR, "--key", KEY.decode(), "--jobs", "1"],
                             env={"COLUMNS": "250"})
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit)
    assert res.output.count("không phải số hữu hạn") == 3
    assert "Kinh phí trên 50.000 triệu đồng" in res.output
    res = CliRunner().invoke(app, ["check", str(folder / "hex.xlsx"), "--year", YEAR, "--format", "csv", "--jobs", "1"])
    assert res.exit_code == 1 and "file.bad_number_cell" in res.output and "là ô số nhưng chứa '0x10'" in res.output
    assert "file.parser_crashed" not in res.output and "Traceback" not in res.output


def _numeric_values(xml: str) -> list[str]:
    """The <v> of every cell that is a number (or a formula's numeric cached result)."""
    out = []
    for attrs, body in re.findall(r"<c ([^>]*)>(.*?)</c>", xml, flags=re.S):
        kind = re.search(r'\bt="([^"]+)"', attrs)
        if kind and kind.group(1) in ("s", "inlineStr", "str", "b", "e"):
            continue
        out += re.findall(r"<v>([^<]*)</v>", body)
    return out


def assert_workbook_finite(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                for v in _numeric_values(zf.read(name).decode("utf-8")):
                    assert math.isfinite(float(v)), f"{name}: <v>{v}</v>"


def assert_export_finite(folder: Path) -> None:
    for parquet in folder.glob("*.parquet"):
        table = pq.read_table(parquet).to_pandas()
        for col in table.columns:
            if pd.api.types.is_float_dtype(table[col].dtype):
                assert table[col].dropna().map(math.isfinite).all(), f"{parquet.name}: {col}"
    for csv in folder.glob("*.csv"):
        frame = pd.read_csv(csv, encoding="utf-8-sig", keep_default_na=False, dtype=str)
        for col in frame.columns:
            if col.endswith("_mvnd") or col in ("errors", "warnings", "size", "source_row"):
                for v in frame[col]:
                    assert v == "" or math.isfinite(float(v)), f"{csv.name}: {col} = {v!r}"


@pytest.fixture(scope="module")
def collected(corpus, tmp_path_factory):
    """An inbox of the number corpus (one school's files: its newest valid one is accepted)
    and a second school's valid plan of 12.5 + 5 triệu."""
    base = tmp_path_factory.mktemp("collect")
    inbox = base / "hop-thu"
    inbox.mkdir()
    for name, path in corpus.items():
        shutil.copy(path, inbox / f"{name}.xlsx")
    res = commands.collect(inbox, base / "out" / "tong-hop.xlsx", year=YEAR, options=OPTIONS, jobs=0,
                           export=base / "xuat", ledger_path=base / "ledger.sqlite")
    return res, base / "out" / "tong-hop.xlsx", base / "xuat"


def test_collect_outputs_hold_no_non_finite_number(collected):
    res, workbook, folder = collected
    assert workbook.is_file() and (folder / "rows.csv").is_file()
    assert_workbook_finite(workbook)
    assert_export_finite(folder)
    issues = pd.read_csv(folder / "issues.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str)
    refused = issues[issues["code"] == "number.not_finite"]
    assert sorted(refused["file"]) == sorted(f"{n}.xlsx" for n, (_, c) in mc.NUMBER_CORPUS.items()
                                             if c == "number.not_finite")
    rows = pd.read_csv(folder / "rows.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str)
    accepted = {f.rel for f in res.files if f.classification == Classification.ACCEPTED}
    assert set(rows["source_file"]) <= accepted
    assert all(float(v) <= CEILING for v in rows["budget_max_mvnd"])


def _result(tmp_path: Path, budgets: list, code: str = "S1") -> CollectResult:
    """One school's accepted plan whose rows' derived budgets are ``budgets`` as given (a
    ledger written before the check refused non-finite numbers could hold anything)."""
    rows = [PlanRow(6 + i, {"criterion": "1.1 - X", "actions": f"Làm {i}", "lead": "Hiệu trưởng",
                            "funding": "Chi thường xuyên", "budget": b},
                    {"criterion_code": "1.1", "standard_code": "1", "section": "muc1_3", "budget_min": b,
                     "budget_max": b, "start_month": 2025 * 12 + 8, "end_month": 2025 * 12 + 9})
            for i, b in enumerate(budgets)]
    sub = Submission("a.xlsx", kind="xlsx", status=CheckStatus.VALID, sha256="ab",
                     identity={"school_code": code, "school_name": "Trường A"}, level="thcs", year=YEAR,
                     framework="tt18", rows=rows, sheet="Kế hoạch")
    f = InboxFile("a.xlsx", tmp_path / "a.xlsx", 10, 0, "ab", sub, "parsed", Classification.ACCEPTED, code,
                  "identity", "2025-01-01", block=block_of(rows, FORM.roles))
    s = SchoolResult(code, "Trường A", "thcs", "Phòng A", SchoolStatus.SUBMITTED_VALID, f, files=[f])
    return CollectResult(tmp_path, None, tmp_path / "l.sqlite", [f], {code: s}, None, YEAR, None)


def test_tables_count_only_finite_budgets(tmp_path):
    """A stale ledger's accepted rows holding inf and NaN: counted as 0, each said on Lỗi."""
    t = tables_from_collect(_result(tmp_path, [12.5, math.inf, math.nan, -math.inf, 5.0]))
    assert list(t.rows["budget_max_mvnd"]) == [12.5, 0.0, 0.0, 0.0, 5.0]
    said = t.issues[t.issues["code"] == "number.not_finite"]
    assert list(said["where"]) == ["Kế hoạch!7:7", "Kế hoạch!8:8", "Kế hoạch!9:9"]
    assert set(said["severity"]) == {"error"}
    data = summarise(t)
    overview = dict(data.overview)
    assert overview[TOTAL_MAX] == overview[TOTAL_MIN] == 17.5
    out = tmp_path / "tong-hop.xlsx"
    write_summary(data, out)
    assert_workbook_finite(out)
    export(data, tmp_path / "xuat")
    assert_export_finite(tmp_path / "xuat")


def test_writers_refuse_a_non_finite_number(tmp_path):
    """Fed a SummaryData holding inf (a bug upstream: it must never happen), the workbook and
    the export refuse it with a named cell, and leave nothing behind."""
    data = build_summary(_result(tmp_path, [12.5, 5.0]))
    poisoned = dataclasses.replace(data, overview=[*data.overview, ("Hỏng", math.inf)])
    out = tmp_path / "o" / "tong-hop.xlsx"
    out.parent.mkdir()
    with pytest.raises(NonFiniteNumber, match=r"Tổng quan!B\d+"):
        write_summary(poisoned, out)
    detail = data.detail.assign(budget_max_mvnd=[12.5, math.inf])
    with pytest.raises(NonFiniteNumber, match=r"Chi tiết!"):
        write_summary(dataclasses.replace(data, detail=detail), out)
    funding = data.funding_totals.assign(budget_max_mvnd=-math.inf)  # a total's cached value
    with pytest.raises(NonFiniteNumber):
        write_summary(dataclasses.replace(data, funding_totals=funding), out)
    assert list(out.parent.iterdir()) == []
    with pytest.raises(NonFiniteNumber, match=r"budget_max_mvnd"):
        export(dataclasses.replace(data, detail=detail), tmp_path / "xuat")
    assert not list((tmp_path / "xuat").glob("rows.*"))
    # NaN is pandas' missing value: a blank cell, never "nan"
    write_summary(dataclasses.replace(data, detail=data.detail.assign(budget_min_mvnd=[math.nan, 1.0])), out)
    assert_workbook_finite(out)


@pytest.mark.parametrize("bad", ["inf", "-inf", "nan", "NaN", "1e400", "Infinity"])
def test_rollup_refuses_an_export_holding_a_non_finite_budget(bad, tmp_path):
    data = build_summary(_result(tmp_path, [12.5, 5.0]))
    folder = tmp_path / "xuat"
    export(data, folder)
    (folder / "rows.parquet").unlink()  # the CSV is what a person edits
    csv = folder / "rows.csv"
    frame = pd.read_csv(csv, encoding="utf-8-sig", keep_default_na=False, dtype=str)
    frame.loc[1, "budget_max_mvnd"] = bad
    frame.to_csv(csv, index=False, encoding="utf-8-sig")
    with pytest.raises(SpecError, match=r"dòng 3, cột budget_max_mvnd: giá trị .* không phải số hữu hạn"):
        read_export(folder)
    with pytest.raises(SpecError):
        rollup([folder], tmp_path / "tinh.xlsx")
    assert not (tmp_path / "tinh.xlsx").exists()


def test_rollup_of_a_clean_export_is_finite(tmp_path):
    data = build_summary(_result(tmp_path, [12.5, 5.0]))
    export(data, tmp_path / "xuat")
    res = rollup([tmp_path / "xuat"], tmp_path / "tinh.xlsx", export=tmp_path / "tinh")
    assert float(res.tables.rows["budget_max_mvnd"].sum()) == 17.5
    assert_workbook_finite(tmp_path / "tinh.xlsx")
    assert_export_finite(tmp_path / "tinh")


# --------------------------------------------------------------------------- property

_NUMERIC_TEXT = st.sampled_from(["inf", "-inf", "NaN", "nan", "1e400", "-1e400", "∞", "1e308", "12,5", "1.500",
                                 "-0", "0", "7", "1e-320", "9" * 40, "50000", "50000,5", "40000 - 60000 triệu",
                                 "1,5 tỷ", "Infinity", "0x10"])
BUDGETS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=2 * CEILING),
    st.integers(min_value=-2**63, max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    _NUMERIC_TEXT,
    st.none(),
)
_EXAMPLE = example_row(SPEC)


def _checked(budgets: list) -> tuple[list[PlanRow], bool]:
    """The rows of one plan whose budget cells hold ``budgets``, through the check's
    normaliser and rules: (rows, accepted)."""
    normalizer = RowNormalizer(SPEC, [])
    broken = SPEC.rules.bind(SPEC.py_context([]))
    rows, errors = [], 0
    for i, budget in enumerate(budgets):
        raw = {**_EXAMPLE, "target": f"Kết quả {i}", "budget": budget}
        if budget in (None, "") or (isinstance(budget, (int, float)) and budget == 0):
            raw["funding"] = "Chi thường xuyên"
        where = lambda field, r=6 + i: {"sheet": "Kế hoạch", "cell": f"K{r}", "row": r, "column": field,
                                         "where": f"Kế hoạch!K{r}"}
        norm = normalizer.normalize(raw, where)
        errors += sum(1 for x in norm.issues if x.severity == Severity.ERROR)
        errors += sum(1 for rule in broken(norm.values) if rule.severity == Severity.ERROR)
        rows.append(PlanRow(6 + i, norm.values, norm.derived))
    return rows, errors == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(BUDGETS, min_size=1, max_size=6), min_size=1, max_size=5))
def test_district_totals_are_the_sum_of_accepted_rows_and_finite(plans):
    files, schools, expected_max, expected_min = [], {}, [], []
    tmp = Path("/nonexistent")
    for n, budgets in enumerate(plans):
        rows, accepted = _checked(budgets)
        code = f"S{n}"
        sub = Submission(f"{code}.xlsx", kind="xlsx", status=CheckStatus.VALID if accepted else CheckStatus.ERRORS,
                         sha256=code, identity={"school_code": code, "school_name": code}, level="thcs", year=YEAR,
                         framework=SPEC.framework.id, rows=rows, sheet="Kế hoạch")
        f = InboxFile(f"{code}.xlsx", tmp / code, 10, 0, code, sub, "parsed",
                      Classification.ACCEPTED if accepted else Classification.WITH_ERRORS, code, "identity", "2025-01-01",
                      block=block_of(rows, FORM.roles) if accepted else None)
        files.append(f)
        schools[code] = SchoolResult(code, code, "thcs", "Phòng A", SchoolStatus.SUBMITTED_VALID if accepted
                                     else SchoolStatus.SUBMITTED_ERRORS, f if accepted else None, files=[f])
        if accepted:
            for r in rows:
                for key in ("budget_min", "budget_max"):
                    v = r.derived[key]
                    assert v is None or (math.isfinite(v) and -CEILING <= v <= CEILING), (budgets, v)
                expected_max.append(r.derived["budget_max"] or 0.0)
                expected_min.append(r.derived["budget_min"] or 0.0)
    res = CollectResult(tmp, None, tmp / "l.sqlite", files, schools, None, YEAR, None)
    data = build_summary(res)
    overview = dict(data.overview)
    assert math.isfinite(overview[TOTAL_MAX]) and math.isfinite(overview[TOTAL_MIN])
    assert overview[TOTAL_MAX] == pytest.approx(math.fsum(expected_max), abs=1e-6)
    assert overview[TOTAL_MIN] == pytest.approx(math.fsum(expected_min), abs=1e-6)
    for frame in (data.by_school, data.by_unit, data.by_standard, data.by_lead, data.funding_totals):
        for col in frame.columns:
            if pd.api.types.is_float_dtype(frame[col].dtype):
                assert frame[col].map(math.isfinite).all(), col
    assert data.by_unit["budget_max_mvnd"].sum() == pytest.approx(math.fsum(expected_max), abs=1e-6)
