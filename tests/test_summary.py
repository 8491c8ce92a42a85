"""The summary workbook: sheets, tables, formulas with cached values, text never a formula,
OOXML schema validity, LibreOffice opens it, an earlier summary is kept."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from workbook_templates.form import load_form
from kcl_xlsx.check.checker import PlanRow, Submission
from kcl_xlsx.collect.result import CheckStatus, Classification, CollectResult, InboxFile, SchoolResult, SchoolStatus
from kcl_xlsx.collect.row_block import block_of
from kcl_xlsx.summary.tables import build_summary
from kcl_xlsx.summary.workbook import write_summary
from tests.support.libreoffice import resave

SHEETS = ["Tổng quan", "Biểu đồ", "Theo trường", "Theo đơn vị", "Theo tiêu chí", "Theo tiêu chuẩn", "Nguồn kinh phí", "Thời gian", "Chủ trì",
          "Chi tiết", "Lỗi", "Chưa nộp", "Tệp", "Thay đổi", "Dữ liệu biểu đồ"]
EVIL = '=HYPERLINK("http://evil.example","x")'


def result(tmp_path: Path) -> CollectResult:
    rows = [PlanRow(6 + i, {"standard": "Tiêu chuẩn 1 - A", "criterion": "1.1 - X", "actions": EVIL if i == 0 else f"Làm {i}",
                            "lead": "Hiệu trưởng", "start": "Tháng 9/2025", "end": "Tháng 10/2025", "budget": 10.0 * i,
                            "funding": "Chi thường xuyên" if i % 2 else "Xã hội hóa", "target": "http://x.example"},
                    {"criterion_code": "1.1", "standard_code": "1", "section": "muc1_3", "budget_min": 10.0 * i,
                     "budget_max": 10.0 * i, "start_month": 2025 * 12 + 8, "end_month": 2025 * 12 + 9})
            for i in range(3)]
    sub = Submission("a.xlsx", kind="xlsx", status=CheckStatus.VALID, sha256="ab", identity={"school_code": "S1",
                     "school_name": "+Trường @A"}, level="thcs", year="2025-2026", framework="tt18", rows=rows,
                     sheet="Kế hoạch")
    f = InboxFile("a.xlsx", tmp_path / "a.xlsx", 10, 0, "ab", sub, "parsed", Classification.ACCEPTED, "S1",
                  "identity", "2025-01-01", block=block_of(rows, load_form().roles))
    s = SchoolResult("S1", "+Trường @A", "thcs", "-Phòng", SchoolStatus.SUBMITTED_VALID, f, files=[f])
    return CollectResult(tmp_path, None, tmp_path / "l.sqlite", [f], {"S1": s}, None, "2025-2026", None)


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("sum")
    out = tmp / "tong-hop.xlsx"
    assert write_summary(build_summary(result(tmp)), out) is None
    return out


def test_sheets_in_order(summary):
    assert CalamineWorkbook.from_path(str(summary)).sheet_names == SHEETS


def test_texts_are_strings_never_formulas(summary):
    with zipfile.ZipFile(summary) as zf:
        xml = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
        strings = zf.read("xl/sharedStrings.xml").decode()
    formulas = re.findall(r"<f>(.*?)</f>", xml)
    assert formulas and all(f.startswith("SUM(") for f in formulas)  # totals are formulas, nothing else is
    assert "HYPERLINK" not in xml and "<t>=HYPERLINK(" in strings  # the school's text, as a shared string
    assert "<hyperlink" not in xml.lower()
    detail = CalamineWorkbook.from_path(str(summary)).get_sheet_by_name("Chi tiết").to_python()
    assert EVIL in [c for row in detail for c in row]


def test_totals_have_cached_values(summary):
    rows = CalamineWorkbook.from_path(str(summary)).get_sheet_by_name("Theo trường").to_python()
    assert rows[-1][0] == "Tổng" and rows[-1][rows[0].index("Kinh phí tối đa (tr.đ)")] == pytest.approx(30.0)


def test_detail_is_a_table_with_frozen_header(summary):
    with zipfile.ZipFile(summary) as zf:
        assert any(n.startswith("xl/tables/table") for n in zf.namelist())
        charts = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/chart")]
    titles = ("Kinh phí theo tiêu chuẩn", "Số trường theo tiêu chí", "Tình trạng nộp", "Tiến độ thực hiện",
              "Tiến độ theo trường")
    assert len(charts) == len(titles)
    for title in titles:
        assert any(title in c for c in charts), title


def test_earlier_summary_is_kept(tmp_path):
    out = tmp_path / "t.xlsx"
    out.write_bytes(b"old")
    backup = write_summary(build_summary(result(tmp_path)), out)
    assert backup is not None and backup.read_bytes() == b"old" and out.read_bytes()[:2] == b"PK"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kcl-")]


def test_ooxml_valid(summary, ooxml_validate):
    ooxml_validate(summary)


def test_libreoffice_opens_it(summary, tmp_path):
    out = resave(summary, tmp_path / "lo", fmt="xlsx", recalc=True)[0]
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Theo trường").to_python()
    assert rows[-1][7] == pytest.approx(30.0)


def test_end_to_end_summary_valid_and_opens(tmp_path, sources, ooxml_validate):
    """A collected summary (with an empty inbox: every sheet still well formed)."""
    from kcl_xlsx.app import collect
    from kcl_xlsx.spec.roster import load_roster

    (tmp_path / "inbox").mkdir()
    res = collect(tmp_path / "inbox", tmp_path / "o.xlsx", roster=load_roster("sample", sources.form), jobs=0)
    assert res.parsed == 0
    ooxml_validate(tmp_path / "o.xlsx")
    resave(tmp_path / "o.xlsx", tmp_path / "lo")


def test_detail_past_the_limit_lives_in_the_export_and_the_sheet_says_so(tmp_path, ooxml_validate):
    out = tmp_path / "tinh.xlsx"
    write_summary(build_summary(result(tmp_path)), out, detail_limit=2, detail_note="xuat-du-lieu/")
    detail = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Chi tiết").to_python()
    text = " ".join(str(c) for row in detail for c in row)
    assert "Có 3 dòng kế hoạch" in text and "giới hạn 2 dòng" in text and "xuat-du-lieu/" in text
    assert len(detail) == 2  # the note, not the rows
    ooxml_validate(out)


def test_collect_exports_the_detail_itself_when_it_is_too_large(tmp_path, monkeypatch):
    import kcl_xlsx.summary.workbook as sw
    from kcl_xlsx.app import collect
    from kcl_xlsx.demo import run_demo

    run_demo(tmp_path / "demo", jobs=1)
    monkeypatch.setattr(sw, "DETAIL_LIMIT", 5)  # read by collect at run time
    out = tmp_path / "o" / "tinh.xlsx"
    res = collect(tmp_path / "demo" / "2-hop-thu", out, year="2025-2026", jobs=1)  # no --export given
    folder = out.with_name("tinh-xuat-du-lieu")
    assert folder / "rows.parquet" in res.exported and (folder / "rows.csv").exists()
    detail = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Chi tiết").to_python()
    assert str(folder) in " ".join(str(c) for row in detail for c in row)


def test_months_text_is_month_text_of_every_value():
    import pandas as pd

    from kcl_xlsx.summary.tables import month_text, months_text

    ordinals = pd.Series([2025 * 12 + 8, None, 2026 * 12 + 4, 2025 * 12 + 8, 2025 * 12 + 11], dtype="Int64",
                         index=[10, 11, 12, 13, 14])
    got = months_text(ordinals)
    assert got.tolist() == ["2025-09", "", "2026-05", "2025-09", "2025-12"]
    assert got.tolist() == [month_text(v) for v in ordinals]
    assert list(got.index) == [10, 11, 12, 13, 14]
    assert months_text(pd.Series([], dtype="Int64")).tolist() == []


def test_both_outputs_written(tmp_path):
    from kcl_xlsx.summary.outputs import write_outputs

    data = build_summary(result(tmp_path))
    done = write_outputs(data, tmp_path / "o.xlsx", tmp_path / "xuat")
    names = sorted(p.name for p in done.exported)
    assert names == sorted(f"{t}.{e}" for t in ("rows", "issues", "schools", "files") for e in ("csv", "parquet"))
    assert all(p.exists() for p in done.exported) and set(done.seconds) == {"workbook", "export"}
    assert CalamineWorkbook.from_path(str(tmp_path / "o.xlsx")).sheet_names == SHEETS


def test_an_output_that_cannot_be_written_is_one_line_and_leaves_no_temporary(tmp_path):
    from kcl_xlsx.base.output import OutputError
    from kcl_xlsx.summary.outputs import write_outputs

    data = build_summary(result(tmp_path))
    (tmp_path / "la-tep").write_text("x")
    with pytest.raises(OutputError, match="la-tep"):  # the export folder is a file
        write_outputs(data, tmp_path / "o.xlsx", tmp_path / "la-tep" / "xuat")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kcl-")] == []
    assert (tmp_path / "o.xlsx").exists()  # the workbook, written first, is whole
    with pytest.raises(OutputError, match="la-tep"):  # the workbook's folder is a file
        write_outputs(data, tmp_path / "la-tep" / "o.xlsx", tmp_path / "xuat")
