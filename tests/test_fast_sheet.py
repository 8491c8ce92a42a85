"""FastSheet: bulk rows rendered straight to worksheet XML inside an XlsxWriter workbook read
back exactly (python-calamine, openpyxl, LibreOffice) and pass the OOXML schemas, with
XlsxWriter's own rows above and below them and a table stretched over them."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from kcl_xlsx.summary.fast_sheet import Bulk, FastSheet
from tests.support.libreoffice import resave

TEXTS = ["<b>&amp;</b> & >", " leading space", "trailing space ", "dòng 1\ndòng 2", "ký tự\x01điều khiển",
         "=SUM(A1:A9)", "+84 912 345 678", "Tiếng Việt có dấu: Trường Mầm non Hoa Sen", "x" * 2000]
NUMBERS = [0, 1, -2.5, 1e15, 123456.789, 7, 0.1, 3, 42]


def build(path: Path, rows: int = len(TEXTS)) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Bảng", FastSheet)
    num = wb.add_format({"num_format": "#,##0.0##"})
    ws.write_string(0, 0, "Tiêu đề")  # XlsxWriter's own row above the block
    texts = (TEXTS * (rows // len(TEXTS) + 1))[:rows]
    numbers = (NUMBERS * (rows // len(NUMBERS) + 1))[:rows]
    blanks = [None if i % 3 == 0 else "" if i % 3 == 1 else True for i in range(rows)]
    ws.add_table(2, 0, 2 + rows, 2, {"name": "Bang", "columns": [{"header": "Chữ"}, {"header": "Số"},
                                                              {"header": "Trống"}]})
    ws.add_bulk(Bulk(3, [texts, numbers, blanks], [None, num, None]))
    ws.write_formula(3 + rows, 1, f"=SUM(B4:B{3 + rows})", num, float(sum(numbers)))  # and below it
    wb.close()


def expected(rows: int = len(TEXTS)) -> list[list]:
    texts = (TEXTS * (rows // len(TEXTS) + 1))[:rows]
    numbers = (NUMBERS * (rows // len(NUMBERS) + 1))[:rows]
    return [[t, float(n), "có" if i % 3 == 2 else ""] for i, (t, n) in enumerate(zip(texts, numbers))]


def calamine_rows(path: Path) -> list[list]:
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Bảng").to_python(skip_empty_area=False)
    return grid


def test_values_read_back_exactly(tmp_path):
    path = tmp_path / "f.xlsx"
    build(path)
    grid = calamine_rows(path)
    assert grid[0][0] == "Tiêu đề"
    assert grid[2] == ["Chữ", "Số", "Trống"]
    got = [[r[0].replace("_x0001_", "\x01"), r[1], r[2]] for r in grid[3:3 + len(TEXTS)]]
    assert got == expected()
    assert grid[3 + len(TEXTS)][1] == pytest.approx(sum(NUMBERS))  # the total's cached value
    ws = openpyxl.load_workbook(path)["Bảng"]
    assert ws.tables["Bang"].ref == f"A3:C{3 + len(TEXTS)}"  # stretched over the whole block
    assert ws.cell(4, 1).value == TEXTS[0] and ws.cell(9, 1).data_type == "s"  # "=SUM" stays text
    assert ws.cell(4, 2).number_format == "#,##0.0##"


def test_valid_ooxml_and_libreoffice_reads_the_same(tmp_path, ooxml_validate):
    path = tmp_path / "f.xlsx"
    build(path, rows=500)
    ooxml_validate(path)
    back = resave(path, tmp_path / "lo", fmt="xlsx")[0]
    mine, theirs = calamine_rows(path), calamine_rows(back)
    assert [r[:2] for r in theirs[3:503]] == [r[:2] for r in mine[3:503]]


def test_overlapping_blocks_are_refused(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    ws = wb.add_worksheet("A", FastSheet)
    ws.add_bulk(Bulk(1, [[1, 2, 3]], [None]))
    with pytest.raises(ValueError):
        ws.add_bulk(Bulk(3, [[4]], [None]))
    wb.close()


def test_over_long_and_markup_looking_text(tmp_path, ooxml_validate):
    """Excel's cell limit (32,767 characters) holds, and a text that looks like XlsxWriter's
    rich-text markup is still plain text."""
    path = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Bảng", FastSheet)
    ws.write_string(0, 0, "Các trường")
    ws.add_bulk(Bulk(1, [["S" * 40_000, "<r><t>đậm</t></r>", "ổn"]], [None]))
    wb.close()
    ooxml_validate(path)
    col = [r[0] for r in calamine_rows(path)]
    assert len(col[1]) == 32767 and col[1].endswith("…")
    assert col[2:] == ["<r><t>đậm</t></r>", "ổn"]


SHARED = ["Trường Mầm non Hoa Sen", " đầu có dấu cách", "cuối có dấu cách ", "a & b", "<r>giống rich text</r>",
          "x < y > z", "_x0041_ đã giống mã thoát", "dòng 1\ndòng 2", "tab\tgiữa", "điều\x01khiển", "nbsp\u00a0",
          "\u00a0nbsp", "emoji 🙂", 'ngoặc "kép"', "Ａ toàn chiều rộng", "x" * 500, "Tiêu chuẩn 1 - Tổ chức"]


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_fast_workbook_writes_the_shared_strings_xlsxwriter_writes(tmp_path, order):
    """FastWorkbook writes the plain texts of the shared string table itself and leaves the
    others to XlsxWriter: the part must be byte for byte XlsxWriter's own, in its order."""
    import zipfile

    from kcl_xlsx.summary.fast_sheet import FastWorkbook

    texts = SHARED if order == "as listed" else SHARED[::-1]
    parts = {}
    for name, cls in (("own", xlsxwriter.Workbook), ("fast", FastWorkbook)):
        path = tmp_path / f"{name}.xlsx"
        wb = cls(str(path))
        ws = wb.add_worksheet()
        for r, text in enumerate(texts * 2):  # each twice: one entry, two uses
            ws.write_string(r, 0, text)
        wb.close()
        with zipfile.ZipFile(path) as z:
            parts[name] = z.read("xl/sharedStrings.xml")
    assert parts["fast"] == parts["own"]
    assert parts["fast"].count(b"<si>") == len(SHARED) and b'count="34"' in parts["fast"]


def test_bulk_texts_used_again_are_counted_as_xlsxwriter_counts_them(tmp_path):
    """add_bulk looks a text up once and counts its later uses: the shared string table's
    count (every use) and uniqueCount are those XlsxWriter gives the same cells."""
    import re
    import zipfile

    texts = ["Hiệu trưởng", "Tổ chuyên môn", "Hiệu trưởng", "", "Hiệu trưởng", "Tổ chuyên môn", "Ban đại diện"]
    counts = {}
    for name in ("bulk", "own"):
        path = tmp_path / f"{name}.xlsx"
        wb = xlsxwriter.Workbook(str(path))
        ws = wb.add_worksheet("Bảng", FastSheet)
        if name == "bulk":
            ws.add_bulk(Bulk(0, [texts, texts[::-1]], [None, None]))
        else:
            for r, (a, b) in enumerate(zip(texts, texts[::-1])):
                for c, v in enumerate((a, b)):
                    if v:
                        ws.write_string(r, c, v)
        wb.close()
        with zipfile.ZipFile(path) as z:
            counts[name] = re.search(rb'count="(\d+)" uniqueCount="(\d+)"', z.read("xl/sharedStrings.xml")).groups()
    assert counts["bulk"] == counts["own"] == (b"12", b"3")


def test_fast_workbook_deflates_at_its_level_and_leaves_other_workbooks_at_xlsxwriters(tmp_path):
    """FastWorkbook's parts are deflated at DEFLATE_LEVEL (faster, a little larger); a plain
    XlsxWriter workbook closed after it in the same thread keeps zlib's default, and both
    hold the same parts and read back the same."""
    import zipfile
    import zlib

    from kcl_xlsx.summary.fast_sheet import DEFLATE_LEVEL, FastWorkbook

    def deflated(data: bytes, level: int) -> int:
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        return len(packer.compress(data) + packer.flush())

    paths = {}
    for name, cls in (("fast", FastWorkbook), ("own", xlsxwriter.Workbook), ("fast again", FastWorkbook)):
        paths[name] = tmp_path / f"{name}.xlsx"
        wb = cls(str(paths[name]))
        ws = wb.add_worksheet("Bảng")
        for r in range(3000):  # enough XML for the levels to differ
            ws.write_row(r, 0, [f"Trường số {r}", r * 1.5, "Hiệu trưởng", r % 7])
        wb.close()
    for name, level in (("fast", DEFLATE_LEVEL), ("own", zlib.Z_DEFAULT_COMPRESSION), ("fast again", DEFLATE_LEVEL)):
        with zipfile.ZipFile(paths[name]) as z:
            for info in z.infolist():
                assert info.compress_size == deflated(z.read(info), level), (name, info.filename)
    with zipfile.ZipFile(paths["fast"]) as fast, zipfile.ZipFile(paths["own"]) as own:
        assert {i.filename: fast.read(i) for i in fast.infolist() if i.filename != "docProps/core.xml"} == \
            {i.filename: own.read(i) for i in own.infolist() if i.filename != "docProps/core.xml"}
        sheet = "xl/worksheets/sheet1.xml"
        assert fast.getinfo(sheet).compress_size > own.getinfo(sheet).compress_size
    grids = [CalamineWorkbook.from_path(str(paths[n])).get_sheet_by_name("Bảng").to_python() for n in ("fast", "own")]
    assert grids[0] == grids[1] and grids[0][2999] == ["Trường số 2999", 4498.5, "Hiệu trưởng", 2999 % 7]
