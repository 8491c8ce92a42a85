"""What `kcl-xlsx collect` tells the officer on the terminal: the schools that need action,
by code and name (a count when the list is long), the files no school could be found for,
and one line when most files fail the same template check (a mistyped --year), with exit 1."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kcl_xlsx.cli import app
from kcl_xlsx.demo import run_demo

YEAR = "2025-2026"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "d"
    run_demo(folder, jobs=0)
    return folder


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_the_terminal_names_the_schools_that_need_action(demo, tmp_path):
    inbox = tmp_path / "hop-thu"
    shutil.copytree(demo / "2-hop-thu", inbox)
    # a plan no school of the roster claims: a copy of a school's file with its identity and
    # name gone is not possible to make simply, so take a workbook of another office's roster
    from kcl_xlsx.issue.issuing import TemplateFactory
    from kcl_xlsx.spec.plan_spec import Sources
    from kcl_xlsx.spec.roster import School

    data, _ = TemplateFactory(Sources.load(), YEAR).make("thcs", School("ZZ999", "Trường THCS Ngoài Danh Sách", "thcs"))
    (inbox / "thu-la.xlsx").write_bytes(data)
    res = invoke("collect", inbox, "-o", tmp_path / "o" / "t.xlsx", "--roster", "sample", "--year", YEAR,
                 "--jobs", "1")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    errors = next(x for x in lines if x.startswith("Nộp có lỗi ("))
    assert "TH001 Trường Tiểu học Kim Đồng" in errors  # the demo's school with mistakes (n == 2)
    missing = next(x for x in lines if x.startswith("Chưa nộp ("))
    assert "NC001 Trường TH-THCS-THPT Hy Vọng" in missing
    assert not any(x.startswith("Chú ý:") for x in lines)
    unmatched = next(x for x in lines if x.startswith("Không xác định được trường ("))
    assert "thu-la.xlsx" in unmatched


def test_a_long_list_is_cut_with_a_count(demo, tmp_path):
    from kcl_xlsx.base.text import name_list

    names = [f"CS{i:03d} Trường {i}" for i in range(25)]
    line = name_list(names, 10)
    assert line.startswith("CS000 Trường 0, ") and line.endswith("… và 15 trường khác")
    assert line.count(",") == 9


def test_a_mistyped_year_is_one_line_and_exit_1(demo, tmp_path):
    res = invoke("collect", demo / "2-hop-thu", "-o", tmp_path / "o" / "t.xlsx", "--roster", "sample",
                 "--year", "2024-2025", "--jobs", "1")
    assert res.exit_code == 1, res.output
    advice = [x for x in res.output.splitlines() if x.startswith("Chú ý:")]
    assert len(advice) == 1
    assert "năm học 2025-2026, không phải năm học 2024-2025" in advice[0] and "--year 2025-2026" in advice[0]
    # the same inbox again, unchanged: the same line, the same exit code
    again = invoke("collect", demo / "2-hop-thu", "-o", tmp_path / "o" / "t.xlsx", "--roster", "sample",
                   "--year", "2024-2025", "--jobs", "1")
    assert again.exit_code == 1 and advice[0] in again.output


@pytest.mark.libreoffice
def test_collect_pdf_writes_the_summary_as_pdf_beside_it(demo, tmp_path, soffice):
    out = tmp_path / "o" / "t.xlsx"
    res = invoke("collect", demo / "2-hop-thu", "-o", out, "--roster", "sample", "--year", YEAR, "--jobs", "1", "--pdf")
    assert res.exit_code == 0, res.output
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and f"Bản PDF: {pdf}" in res.output
    # a second run with a changed option writes a new PDF and keeps the earlier one
    again = invoke("collect", demo / "2-hop-thu", "-o", out, "--roster", "sample", "--year", YEAR, "--jobs", "1",
                   "--pdf", "--show-info")
    assert again.exit_code == 0, again.output
    assert len(list(out.parent.glob("t.*.pdf"))) == 1  # the earlier PDF, under a timestamped name


def test_show_info_puts_info_issues_on_the_errors_sheet(demo, tmp_path):
    from python_calamine import CalamineWorkbook

    def severities(path: Path) -> set:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Lỗi").to_python()
        col = rows[0].index("Mức độ")
        return {r[col] for r in rows[1:]}

    plain, shown = tmp_path / "a" / "t.xlsx", tmp_path / "b" / "t.xlsx"
    assert invoke("collect", demo / "2-hop-thu", "-o", plain, "--year", YEAR, "--jobs", "1").exit_code == 0
    assert invoke("collect", demo / "2-hop-thu", "-o", shown, "--year", YEAR, "--jobs", "1", "--show-info").exit_code == 0
    assert "Thông tin" not in severities(plain)
    assert "Thông tin" in severities(shown)


def test_pdf_without_libreoffice_is_one_line_exit_2(demo, tmp_path, monkeypatch):
    import kcl_xlsx.summary.pdf as pdf_module

    monkeypatch.setattr(pdf_module, "find_soffice", lambda: None)
    out = tmp_path / "o" / "t.xlsx"
    res = invoke("collect", demo / "2-hop-thu", "-o", out, "--year", YEAR, "--jobs", "1", "--pdf")
    assert res.exit_code == 2, res.output
    assert "LibreOffice" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not out.parent.exists()  # refused before any work


def _rows_disk_full(parts, folder, form, chunk_rows, umask):
    """Stands in for the export process's task (rows_export._write_rows): run in that process."""
    from kcl_xlsx.base.output import OutputError

    raise OutputError(f"{folder / 'rows.csv'}: không ghi được (đĩa đầy) / cannot write (disk full)")


@pytest.mark.parametrize("where", ["thread", "process"])
def test_an_export_failing_beside_the_workbook_is_one_line_and_exit_2(demo, tmp_path, monkeypatch, where):
    """The export's issues and files are written in a thread, its rows in a process of their
    own (summary/rows_export.py; in the thread too when that cannot be), while the pivots and
    the workbook are made: a failure there (here a full disk) is the run's failure, told in
    one line with exit 2, and the run is not recorded, so the next one writes everything."""
    from kcl_xlsx.base.output import OutputError
    from kcl_xlsx.summary import export, outputs, rows_export

    real = export.write_tables

    def full_disk(df, csv_path, parquet_path, shown=None, stored=None):
        if "source_row" in df.columns:  # the rows table
            raise OutputError(f"{csv_path}: không ghi được (đĩa đầy) / cannot write (disk full)")
        return real(df, csv_path, parquet_path, shown, stored)

    out = tmp_path / "o"
    args = ("collect", demo / "2-hop-thu", "-o", out / "t.xlsx", "--roster", "sample", "--year", YEAR, "--jobs", "1",
            "--export", out / "xuat")
    if where == "thread":
        monkeypatch.setattr(outputs, "ROWS_IN_PROCESS", False)
        monkeypatch.setattr(export, "write_tables", full_disk)
    else:  # the error is raised in the export's process, pickled, and raised again here
        monkeypatch.setattr(rows_export, "_write_rows", _rows_disk_full)
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    said = res.stderr.strip().splitlines()
    assert len(said) == 1 and "đĩa đầy" in said[0] and "Traceback" not in res.output, res.stderr
    assert not (out / "xuat" / "rows.csv").exists()
    monkeypatch.undo()
    again = invoke(*args)
    assert again.exit_code in (0, 1), again.output
    assert all((out / "xuat" / f"{t}.{ext}").is_file() for t in export.TABLES for ext in ("csv", "parquet"))
