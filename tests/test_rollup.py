"""Roll-up: two offices collect their own schools; the province passes one office's export
folder and the other's summary workbook and gets one summary grouped by unit.

Expected figures are recomputed here from the fill data, not from the code under test.
"""
from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from kcl_xlsx.cli import app
from kcl_xlsx.app import collect
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.summary.rollup import rollup
from kcl_xlsx.spec.sample_plans import plan_rows
from tests.support.fill import fill_plan
from tests.support.libreoffice import resave

YEAR = "2025-2026"
AS_OF = dt.date(2026, 1, 15)
UNITS = {"A": "Phòng GD&ĐT Sông Xanh", "B": "Phòng GD&ĐT Núi Đỏ"}
# office -> (school code, rows sent or None for a school that sent nothing)
OFFICES = {"A": [("MN001", 5), ("TH001", 4), ("TH002", None)],
           "B": [("CS001", 6), ("PT001", 3), ("NC001", None), ("CS002", 2)]}
EVIL = '=HYPERLINK("http://evil.example","x")'
V1 = "2025.1"  # TH001 still fills a template of form 2025.1 (issued before 2026.1)
runner = CliRunner()


def sheet(path: Path, name: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def table(path: Path, name: str) -> dict[str, dict]:
    rows = sheet(path, name)
    return {str(r[0]): dict(zip(rows[0], r)) for r in rows[1:] if r and r[0] != "Tổng"}


def overview(path: Path) -> dict:
    return {r[0]: r[1] for r in sheet(path, "Tổng quan") if r and isinstance(r[0], str) and len(r) > 1}


@pytest.fixture(scope="module")
def offices(sources, tmp_path_factory):
    """Each office's roster, inbox, summary and export, and the rows its schools sent."""
    sample = {s.code: s for s in load_roster("sample", sources.form).schools}
    fac = TemplateFactory(sources, YEAR)
    fac_v1 = TemplateFactory(sources, YEAR, form_version=V1)
    root = tmp_path_factory.mktemp("rollup")
    sent: dict[str, list[dict]] = {}
    out = {}
    for office, schools in OFFICES.items():
        roster = root / f"roster-{office}.csv"
        with roster.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["school_code", "school_name", "level", "unit", "phone"])
            for code, _n in schools:
                s = sample[code]
                w.writerow([code, s.name, s.level, UNITS[office], f"0290 {code}"])
        inbox = root / f"inbox-{office}"
        inbox.mkdir()
        for i, (code, n) in enumerate(schools):
            if n is None:
                continue
            s = sample[code]
            tpl = root / f"{code}.xlsx"
            f = fac_v1 if code == "TH001" else fac
            tpl.write_bytes(f.make(s.level, s)[0])
            rows = plan_rows(f.spec(s.level), n, seed=len(sent) + 3)
            if code == "MN001":
                rows[1] = {**rows[1], "actions": EVIL}  # text that looks like a formula stays text
            if code == "CS002":
                rows[0] = {**rows[0], "target": None}  # an error: CS002 is "Nộp có lỗi"
            fill_plan(tpl, inbox / f"{code}.xlsx", rows, info={"preparer": "Nguyễn Văn A"}, form=f.spec(s.level).form)
            if code != "CS002":
                sent[code] = rows
        summary = root / f"out-{office}" / "tong-hop.xlsx"
        export = root / f"out-{office}" / "xuat"
        collect(inbox, summary, roster=load_roster(str(roster), sources.form), year=YEAR, jobs=0, export=export,
                as_of=AS_OF)
        out[office] = (summary, export)
    return out, sent, root


@pytest.fixture(scope="module")
def province(offices):
    out, _sent, root = offices
    target = root / "tinh" / "tong-hop-tinh.xlsx"
    res = rollup([out["A"][1], out["B"][0]], target, export=root / "tinh" / "xuat", as_of=AS_OF)
    return res, target


def test_figures_equal_the_fill_data(offices, province):
    _out, sent, _root = offices
    res, path = province
    ov = overview(path)
    rows = [r for rs in sent.values() for r in rs]
    assert ov["Số đơn vị được tổng hợp"] == 2
    assert ov["Số trường phải nộp"] == 7
    assert ov["Số trường nộp hợp lệ (được tổng hợp)"] == 4
    assert ov["Số trường nộp có lỗi"] == 1
    assert ov["Số trường chưa nộp"] == 2
    assert ov["Số công việc/giải pháp"] == len(rows)
    assert ov["Tổng kinh phí tối đa (triệu đồng)"] == pytest.approx(sum(r["budget"] or 0 for r in rows))
    assert len(sheet(path, "Chi tiết")) - 1 == len(rows)
    schools = table(path, "Theo trường")
    assert set(schools) == {code for office in OFFICES.values() for code, _n in office}
    for code, rs in sent.items():
        assert schools[code]["Số công việc"] == len(rs)
        assert schools[code]["Kinh phí tối đa (tr.đ)"] == pytest.approx(sum(r["budget"] or 0 for r in rs))


def test_grouped_by_unit(offices, province):
    _out, sent, _root = offices
    _res, path = province
    units = table(path, "Theo đơn vị")
    assert set(units) == set(UNITS.values())
    for office, schools in OFFICES.items():
        got = units[UNITS[office]]
        mine = [code for code, n in schools if code in sent]
        assert got["Số trường"] == len(schools)
        assert got["Đã nộp hợp lệ"] == len(mine)
        assert got["Chưa nộp"] == sum(1 for _c, n in schools if n is None)
        assert got["Số công việc"] == sum(len(sent[c]) for c in mine)
        assert got["Kinh phí tối đa (tr.đ)"] == pytest.approx(sum(r["budget"] or 0 for c in mine for r in sent[c]))


def test_text_stays_text_and_sources_are_named(province):
    _res, path = province
    detail = sheet(path, "Chi tiết")
    head = detail[0]
    actions = [r[head.index("Công việc/giải pháp")] for r in detail[1:]]
    assert EVIL in actions  # through the office's CSV/Parquet and back, never a formula
    files = {r[head.index("Tệp nguồn")] for r in detail[1:]}
    assert all(f.startswith(("xuat/", "tong-hop/")) for f in files), files
    missing = table(path, "Chưa nộp")
    assert missing["TH002"]["phone"] == "0290 TH002"  # roster contacts survive the round trip


def test_valid_ooxml_and_opens_in_libreoffice(province, ooxml_validate, tmp_path):
    _res, path = province
    ooxml_validate(path)
    back = resave(path, tmp_path / "lo", fmt="xlsx", recalc=True)[0]
    assert overview(back)["Số công việc/giải pháp"] == overview(path)["Số công việc/giải pháp"]


def test_rollup_of_rollups_and_csv_only_exports(offices, province, tmp_path):
    """A region can roll up provinces: the roll-up's own export is an input too, and an
    export with only the CSV files (Parquet deleted) reads the same."""
    res, path = province
    export = tmp_path / "csv-only"
    shutil.copytree(path.parent / "xuat", export)
    for p in export.glob("*.parquet"):
        p.unlink()
    again = rollup([export], tmp_path / "vung.xlsx", as_of=AS_OF)
    assert len(again.tables.rows) == len(res.tables.rows)
    assert overview(tmp_path / "vung.xlsx")["Tổng kinh phí tối đa (triệu đồng)"] == pytest.approx(
        overview(path)["Tổng kinh phí tối đa (triệu đồng)"])
    assert EVIL in set(again.tables.rows["actions"])


def test_each_school_shows_its_form_version(offices, province):
    """Theo trường says which form version each school's plan was made with, in an office's
    summary and in the roll-up (read from an export and from a summary workbook)."""
    out, _sent, _root = offices
    current = Sources.load().form.version  # the form templates are written with
    want = {"MN001": current, "TH001": V1, "TH002": "", "CS001": current, "PT001": current, "NC001": "",
            "CS002": current}
    for path in (out["A"][0], out["B"][0], province[1]):
        by_school = table(path, "Theo trường")
        got = {code: row["Phiên bản mẫu"] for code, row in by_school.items()}
        assert {c: v or "" for c, v in got.items()} == {c: want[c] for c in got}, path
    files = csv_rows(out["A"][1] / "files.csv")
    assert {r["school_code"]: r["form_version"] for r in files} == {"MN001": current, "TH001": V1}


def csv_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_an_export_without_form_versions_still_rolls_up(offices, tmp_path):
    """Exports written before the files table had form_version (its last column) still read."""
    out, _sent, _root = offices
    old = tmp_path / "old-export"
    shutil.copytree(out["A"][1], old)
    for p in old.glob("*.parquet"):
        p.unlink()
    rows = csv_rows(old / "files.csv")
    with (old / "files.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[k for k in rows[0] if k != "form_version"])
        w.writeheader()
        w.writerows([{k: v for k, v in r.items() if k != "form_version"} for r in rows])
    res = rollup([old], tmp_path / "tinh.xlsx", as_of=AS_OF)
    assert len(res.tables.rows) == 5 + 4
    assert set(res.tables.files["form_version"]) == {""}
    assert {row["Phiên bản mẫu"] or "" for row in table(tmp_path / "tinh.xlsx", "Theo trường").values()} == {""}


def test_same_school_in_two_inputs_counts_once(offices, tmp_path):
    out, sent, _root = offices
    res = rollup([out["A"][0], out["A"][1]], tmp_path / "twice.xlsx", as_of=AS_OF)
    assert len(res.tables.rows) == sum(len(sent[c]) for c, n in OFFICES["A"] if n)
    dup = res.tables.issues[res.tables.issues["code"] == "rollup.duplicate_school"]
    assert sorted(dup["school_code"]) == sorted(c for c, _n in OFFICES["A"])


def test_cli(offices, tmp_path):
    out, _sent, _root = offices
    target = tmp_path / "t.xlsx"
    got = runner.invoke(app, ["rollup", str(out["A"][0]), str(out["B"][1]), "-o", str(target)])
    assert got.exit_code == 0, got.output
    assert "2 đơn vị" in got.output and target.exists()
    again = runner.invoke(app, ["rollup", str(out["A"][0]), str(out["B"][1]), "-o", str(target)])
    assert again.exit_code == 0
    assert len(list(tmp_path.glob("t*.xlsx"))) == 2  # the first roll-up is kept, never overwritten


@pytest.mark.libreoffice
def test_cli_pdf_prints_the_rollup(offices, tmp_path, soffice):
    out, _sent, _root = offices
    target = tmp_path / "chung.xlsx"
    got = runner.invoke(app, ["rollup", str(out["A"][0]), str(out["B"][1]), "-o", str(target), "--pdf"])
    assert got.exit_code == 0, got.output
    pdf = target.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and f"Bản PDF: {pdf}" in got.output


def _bad_inputs(offices, tmp: Path) -> dict[str, list[str]]:
    out, _sent, root = offices
    other_year = tmp / "khac-nam"
    shutil.copytree(out["B"][1], other_year)
    rows = other_year / "rows.csv"
    rows.write_text(rows.read_text(encoding="utf-8-sig").replace(YEAR, "2024-2025"), encoding="utf-8-sig")
    (other_year / "rows.parquet").unlink()
    not_summary = tmp / "la.xlsx"
    shutil.copy(root / "MN001.xlsx", not_summary)  # a school template, not a summary
    (tmp / "hong.xlsx").write_bytes(b"PK\x03\x04 not really")
    (tmp / "rong").mkdir()
    garbage = tmp / "rac"
    shutil.copytree(out["A"][1], garbage)
    (garbage / "rows.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    lacking = tmp / "thieu-cot"
    lacking.mkdir()
    (lacking / "rows.csv").write_text("school_code,actions\nX,Y\n", encoding="utf-8-sig")
    (lacking / "schools.csv").write_text("school_code\nX\n", encoding="utf-8-sig")
    return {
        "garbage-parquet": [str(garbage)],
        "missing-columns": [str(lacking)],
        "missing": [str(tmp / "khong-co.xlsx")],
        "years": [str(out["A"][1]), str(other_year)],
        "not-summary": [str(not_summary)],
        "broken": [str(tmp / "hong.xlsx")],
        "empty-folder": [str(tmp / "rong")],
        "output-is-input": [str(out["A"][0]), "-o", str(out["A"][0])],
        "not-xlsx-output": [str(out["A"][0]), "-o", str(tmp / "x.csv")],
    }


@pytest.mark.parametrize("case", ["missing", "years", "not-summary", "broken", "empty-folder", "output-is-input",
                                  "not-xlsx-output", "garbage-parquet", "missing-columns"])
def test_bad_inputs_one_line_exit_2(offices, tmp_path, case):
    args = _bad_inputs(offices, tmp_path)[case]
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    got = runner.invoke(app, ["rollup", *args] + ([] if "-o" in args else ["-o", str(tmp_path / "o.xlsx")]))
    assert got.exit_code == 2, (case, got.output)
    lines = [ln for ln in got.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("kcl-xlsx: "), got.output
    assert "Traceback" not in got.output
    assert not (tmp_path / "o.xlsx").exists()
    assert {p: p.stat().st_mtime_ns for p in before} == before  # inputs untouched


def test_detail_only_in_export_is_refused_with_a_pointer(offices, tmp_path, monkeypatch):
    """An office's summary whose rows were too many for its Chi tiết sheet: the roll-up asks
    for that office's export folder instead."""
    from kcl_xlsx.summary import workbook as summary_write
    from kcl_xlsx.summary.rollup import read_input
    from kcl_xlsx.summary.tables import summarise
    from workbook_templates.errors import SpecError

    out, _sent, _root = offices
    tables = read_input(out["A"][1])
    big = tmp_path / "lon.xlsx"
    summary_write.write_summary(summarise(tables), big, detail_limit=2, detail_note="xuat/")
    with pytest.raises(SpecError, match="xuất dữ liệu"):
        read_input(big)


def test_a_large_office_summary_is_read(offices, tmp_path):
    """A district summary has thousands of rows on Chi tiết, far past a school plan's bounds."""
    import pandas as pd

    from kcl_xlsx.summary.rollup import read_input
    from kcl_xlsx.summary.tables import summarise
    from kcl_xlsx.summary.workbook import write_summary

    out, _sent, _root = offices
    tables = read_input(out["A"][1])
    tables.rows = pd.concat([tables.rows] * (6000 // len(tables.rows) + 1), ignore_index=True)
    big = tmp_path / "lon.xlsx"
    write_summary(summarise(tables), big)
    assert len(read_input(big).rows) == len(tables.rows) > 5000
