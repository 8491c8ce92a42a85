"""Tests of kcl_xlsx.check.feedback: the annotated copy of a school's own workbook.

A real template is built (TemplateFactory), a few cells are filled with openpyxl as a school
would, issues are made by hand, and the OUTPUT file is read back: report sheet, marks on the
school's cells, what survives of the template, what LibreOffice and the OOXML schemas say.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kcl_xlsx.check.feedback import _our_rule
from kcl_xlsx.check.feedback import (
    ERROR_RGB,
    REPORT_SHEET,
    REPORT_TITLE,
    WARNING_RGB,
    status_line,
    write_feedback,
)
from kcl_xlsx.base.output import OutputError
from kcl_xlsx.spec import layout as L
from workbook_templates.form import load_form
from kcl_xlsx.spec.issues import Issue
from kcl_xlsx.spec.vocab import CheckStatus
from macros_free_validation.report import Severity
from tests.support.libreoffice import require_soffice, resave

PLAN, INFO = "Kế hoạch", "Thông tin"
FORMULA_TEXT = '=HYPERLINK("http://x")'
TITLE_INFO = {"school_code": "THCS-01", "school_name": "Trường THCS Chu Văn An", "checked_at": "2026-01-05 08:30"}
HEADER = ("STT", "Mức độ", "Vị trí", "Cột", "Giá trị", "Nội dung", "Cách sửa")


# --------------------------------------------------------------------------- helpers


def fill(data: bytes, values: dict[str, dict[str, object]]) -> bytes:
    """The workbook with cells typed in, as a school would; strings stay text."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for sheet, cells in values.items():
        for coord, value in cells.items():
            cell = wb[sheet][coord]
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # typed with a leading apostrophe: text, not a formula
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table(ws) -> list[tuple]:
    """Rows of the report table below its header row."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if tuple(r[:7]) == HEADER)
    return [tuple(r[:7]) for r in rows[start + 1:] if any(v is not None for v in r[:7])]


def table_cells(ws) -> list[tuple]:
    start = next(c.row for c in ws["A"] if c.value == "STT")
    return [row for row in ws.iter_rows(min_row=start + 1, max_col=7) if row[0].value is not None]


def sheet_parts(path: Path) -> dict[str, str]:
    """sheet name -> XML text of its worksheet part."""
    with zipfile.ZipFile(path) as zf:
        wb_xml = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        targets = dict(re.findall(r'Id="(rId\d+)"[^>]*?Target="([^"]+)"', rels))
        targets.update({k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*?Id="(rId\d+)"', rels)})
        out = {}
        for name, rid in re.findall(r'<sheet [^>]*?name="([^"]+)"[^>]*?r:id="(rId\d+)"', wb_xml):
            target = targets[rid].lstrip("/")
            part = target if target.startswith("xl/") else "xl/" + target
            out[name] = zf.read(part).decode()
        return out


def defined_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/workbook.xml").decode()
    return sorted(re.findall(r'<definedName [^>]*?name="([^"]+)"', xml))


def issue(severity: Severity, message: str, hint: str = "", **where) -> Issue:
    return Issue(code="TEST", severity=severity, message=message, hint=hint, **where)


ISSUES = [
    issue(Severity.WARNING, "Chủ trì không có trong danh sách", "Chọn tên trong danh sách Chủ trì",
          sheet=PLAN, cell="G6", row=6, column="Chủ trì", value="Ông Ba"),
    issue(Severity.ERROR, f"Công việc/giải pháp không được là công thức: {FORMULA_TEXT}",
          "Nhập văn bản, không bắt đầu bằng dấu =", sheet=PLAN, cell="F6", row=6,
          column="Công việc/giải pháp", value=FORMULA_TEXT),
    issue(Severity.ERROR, "Số điện thoại không hợp lệ", "Nhập số điện thoại 10 chữ số",
          sheet=INFO, cell="B11", row=11, column="Điện thoại", value="abc"),
    issue(Severity.ERROR, "Thiếu Kết quả cần đạt", "Nhập kết quả cần đạt", sheet=PLAN, cell="E6", row=6,
          column="Kết quả cần đạt"),
    issue(Severity.INFO, "Tệp đã được lưu lại bằng LibreOffice"),
    issue(Severity.ERROR, "Công việc/giải pháp quá ngắn", "Mô tả rõ công việc", sheet=PLAN, cell="F6", row=6,
          column="Công việc/giải pháp", value=FORMULA_TEXT),
    issue(Severity.WARNING, "Kinh phí lớn bất thường", "Kiểm tra lại đơn vị (triệu đồng)", sheet=PLAN,
          cell="K6", row=6, column="Dự kiến kinh phí (triệu đồng)", value="123456"),
    issue(Severity.INFO, "Ngày lập để trống", sheet=INFO, cell="B13", row=13, column="Ngày lập"),
]
FILLED = {
    PLAN: {"B6": "Mức 1", "C6": "Tiêu chuẩn 1", "F6": FORMULA_TEXT, "G6": "Ông Ba", "K6": 123456},
    INFO: {"B9": "Nguyễn Văn A", "B11": "abc"},
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def template(sources) -> bytes:
    from kcl_xlsx.issue.issuing import TemplateFactory
    from kcl_xlsx.spec.roster import School

    school = School(code="THCS-01", name="Trường THCS Chu Văn An", level="thcs")
    data, _identity = TemplateFactory(sources, "2025-2026").make("thcs", school)
    return data


@pytest.fixture(scope="module")
def submitted(template, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("inbox") / "THCS-01_ke-hoach.xlsx"
    path.write_bytes(fill(template, FILLED))
    return path


@pytest.fixture(scope="module")
def feedback(submitted, tmp_path_factory) -> tuple[Path, str, str]:
    """(output, source sha256 before, after)."""
    before = sha256(submitted)
    out = tmp_path_factory.mktemp("out") / "phan-hoi.xlsx"
    assert write_feedback(submitted, ISSUES, CheckStatus.ERRORS, out, title_info=TITLE_INFO, show_info=True) == out
    return out, before, sha256(submitted)


@pytest.fixture(scope="module")
def out_wb(feedback):
    return openpyxl.load_workbook(feedback[0])


# --------------------------------------------------------------------------- the report sheet


def test_report_sheet_is_first_and_active_and_alone_selected(out_wb):
    assert out_wb.sheetnames == [REPORT_SHEET, "Hướng dẫn", INFO, PLAN, "Danh mục", "kcl_identity"]
    assert out_wb.active.title == REPORT_SHEET
    # two selected tabs would open as grouped sheets in Excel (typing goes to both)
    assert [ws.title for ws in out_wb.worksheets if ws.sheet_view.tabSelected] == [REPORT_SHEET]


def test_title_school_and_status_line(out_wb):
    ws = out_wb[REPORT_SHEET]
    texts = [ws.cell(r, 1).value for r in range(1, 9)]
    assert texts[0] == REPORT_TITLE
    assert "Tệp: THCS-01_ke-hoach.xlsx" in texts
    assert "Mã trường: THCS-01" in texts
    assert "Tên trường: Trường THCS Chu Văn An" in texts
    assert "Thời điểm kiểm tra: 2026-01-05 08:30" in texts
    assert "Trạng thái: Cần sửa — 4 lỗi, 2 cảnh báo, 2 thông tin" in texts


def test_status_line_counts():
    assert status_line(CheckStatus.ERRORS, ISSUES[:4]) == "Trạng thái: Cần sửa — 3 lỗi, 1 cảnh báo"
    assert status_line(CheckStatus.VALID, []) == "Trạng thái: Hợp lệ — 0 lỗi, 0 cảnh báo"


def test_one_row_per_issue_sorted_with_links(out_wb):
    ws = out_wb[REPORT_SHEET]
    rows = table(ws)
    assert len(rows) == len(ISSUES)
    assert [r[0] for r in rows] == list(range(1, len(ISSUES) + 1))
    assert [r[1] for r in rows] == ["Lỗi"] * 4 + ["Cảnh báo"] * 2 + ["Thông tin"] * 2
    # errors: Thông tin comes before Kế hoạch in the workbook; then row, then column
    assert [r[2] for r in rows] == ["Thông tin!B11", "Kế hoạch!E6", "Kế hoạch!F6", "Kế hoạch!F6",
                                    "Kế hoạch!G6", "Kế hoạch!K6", "(cả tệp)", "Thông tin!B13"]
    links = [(row[2].hyperlink.location if row[2].hyperlink else None) for row in table_cells(ws)]
    assert links == ["'Thông tin'!B11", "'Kế hoạch'!E6", "'Kế hoạch'!F6", "'Kế hoạch'!F6",
                     "'Kế hoạch'!G6", "'Kế hoạch'!K6", None, "'Thông tin'!B13"]
    phone = rows[0]
    assert phone[3:] == ("Điện thoại", "abc", "Số điện thoại không hợp lệ", "Nhập số điện thoại 10 chữ số")


def test_report_sheet_layout(out_wb):
    ws = out_wb[REPORT_SHEET]
    header_row = next(c.row for c in ws["A"] if c.value == "STT")
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["F"].width >= 40
    assert all(c.alignment.wrap_text for c in table_cells(ws)[0])


# --------------------------------------------------------------------------- marks on the school's cells


def test_cells_filled_and_commented(out_wb):
    plan, info = out_wb[PLAN], out_wb[INFO]
    f6 = plan["F6"]
    assert f6.fill.fill_type == "solid" and f6.fill.fgColor.rgb == ERROR_RGB
    assert f6.comment.author == "kcl-xlsx"
    # two issues on one cell: one comment listing both, with their hints
    assert "[Lỗi] Công việc/giải pháp không được là công thức" in f6.comment.text
    assert "[Lỗi] Công việc/giải pháp quá ngắn" in f6.comment.text
    assert "Cách sửa: Mô tả rõ công việc" in f6.comment.text
    assert f6.comment.width and f6.comment.height
    assert plan["G6"].fill.fgColor.rgb == WARNING_RGB  # amber for a warning
    assert "Chủ trì không có trong danh sách" in plan["G6"].comment.text
    assert info["B11"].fill.fgColor.rgb == ERROR_RGB
    assert "Số điện thoại không hợp lệ" in info["B11"].comment.text
    # info: a comment but no colour (the template's ivory input fill stays)
    assert "Ngày lập để trống" in info["B13"].comment.text
    assert info["B13"].fill.fgColor.rgb not in (ERROR_RGB, WARNING_RGB)
    # untouched cells: no mark; the school's values are kept
    assert plan["F7"].comment is None and plan["F7"].fill.fgColor.rgb not in (ERROR_RGB, WARNING_RGB)
    assert plan["B6"].value == "Mức 1" and plan["K6"].value == 123456
    assert info["B9"].value == "Nguyễn Văn A"


def test_protected_sheets_stay_protected(out_wb, template):
    src = openpyxl.load_workbook(io.BytesIO(template))
    for ws in src.worksheets:
        out = out_wb[ws.title]
        assert out.protection.sheet == ws.protection.sheet
        assert out.protection.password == ws.protection.password
    assert out_wb[PLAN].protection.sheet and out_wb[PLAN]["F6"].protection.locked is False


def test_school_text_never_becomes_formula(feedback, submitted):
    out, _, _ = feedback
    parts = sheet_parts(out)
    assert "<f>" not in parts[REPORT_SHEET] and "<f " not in parts[REPORT_SHEET]
    assert "HYPERLINK" in parts[REPORT_SHEET]  # it is there, as text
    # the school's own sheets keep exactly their formulas: none added from text
    src = sheet_parts(submitted)
    for name, xml in src.items():
        assert parts[name].count("<f>") + parts[name].count("<f ") == xml.count("<f>") + xml.count("<f ")
    wb = openpyxl.load_workbook(out)
    assert wb[PLAN]["F6"].data_type == "s" and wb[PLAN]["F6"].value == FORMULA_TEXT
    values = [c.value for row in table_cells(wb[REPORT_SHEET]) for c in row]
    assert FORMULA_TEXT in values
    for row in table_cells(wb[REPORT_SHEET]):
        for c in row[1:]:
            assert c.data_type in ("s", "n")  # "n" is also the type of an empty cell


def test_source_unchanged_and_no_overwrite(feedback, submitted):
    out, before, after = feedback
    assert before == after
    out_hash = sha256(out)
    with pytest.raises(OutputError):
        write_feedback(submitted, ISSUES, CheckStatus.ERRORS, out)
    assert sha256(out) == out_hash
    with pytest.raises(OutputError):  # the source itself is never a target
        write_feedback(submitted, ISSUES, CheckStatus.ERRORS, submitted.with_suffix(".xlsx"))
    assert sha256(submitted) == before
    assert not list(out.parent.glob(".kcl-*"))  # no temporary file left behind


def test_template_features_survive(template, tmp_path, ooxml_validate):
    """openpyxl drops x14 data validations and some extensions; ours are standard: count
    validations, conditional formats, defined names, sheet states before and after."""
    src = tmp_path / "template.xlsx"
    src.write_bytes(template)
    out = tmp_path / "fb.xlsx"
    issues = [issue(Severity.ERROR, "Thiếu Mức", "Chọn mức", sheet=PLAN, cell="B6", row=6)]
    write_feedback(src, issues, CheckStatus.ERRORS, out)
    ooxml_validate(out)
    a, b = openpyxl.load_workbook(src), openpyxl.load_workbook(out)
    for ws in a.worksheets:
        o = b[ws.title]
        assert len(o.data_validations.dataValidation) == len(ws.data_validations.dataValidation), ws.title
        ours = [cf for cf in o.conditional_formatting if all(_our_rule(r) for r in cf.rules)]
        assert [str(cf.sqref) for cf in o.conditional_formatting if cf not in ours] == [
            str(cf.sqref) for cf in ws.conditional_formatting]
        if ws.title == PLAN:  # the marked cell shows the legend's colour over the template's own formats
            assert [str(cf.sqref) for cf in ours] == ["B6"] and ours[0].rules[0].priority == 1
        assert o.sheet_state == ws.sheet_state
        assert o.freeze_panes == ws.freeze_panes
        assert o.merged_cells.ranges == ws.merged_cells.ranges or sorted(map(str, o.merged_cells.ranges)) == sorted(
            map(str, ws.merged_cells.ranges))
    assert sum(len(ws.data_validations.dataValidation) for ws in a.worksheets) > 0
    assert b["Danh mục"].sheet_state == "hidden" and b["kcl_identity"].sheet_state == "veryHidden"
    # defined names (incl. print area/titles, now pointing at the right sheet after the insert)
    names_a, names_b = defined_names(src), defined_names(out)
    # + the report sheet's print titles and filter range
    assert names_b == sorted(names_a + ["_xlnm.Print_Titles", "_xlnm._FilterDatabase"])
    assert b[PLAN].print_title_rows == a[PLAN].print_title_rows
    assert b[PLAN].print_area == a[PLAN].print_area
    # the template's identity: custom properties and the very-hidden sheet
    props = {p.name: p.value for p in b.custom_doc_props.props}
    assert props["kcl_school_code"] == "THCS-01"
    assert props == {p.name: p.value for p in a.custom_doc_props.props}
    # (openpyxl writes an empty-string cell as a blank cell: "" comes back as None)
    def rows(ws):
        return [["" if v is None else v for v in r] for r in ws.values]

    assert rows(b["kcl_identity"]) == rows(a["kcl_identity"])
    # the template's own note on the staff list's title (Thông tin) is still there
    note = f"A{L.PlanLayout(load_form()).staff_first_row}"
    assert a[INFO][note].comment is not None
    assert b[INFO][note].comment.text == a[INFO][note].comment.text


def test_template_note_kept_in_combined_comment(template, tmp_path):
    src = tmp_path / "t.xlsx"
    src.write_bytes(template)
    cell = f"A{L.PlanLayout(load_form()).staff_first_row}"  # the staff list's title
    note = openpyxl.load_workbook(src)[INFO][cell].comment.text
    out = tmp_path / "fb.xlsx"
    write_feedback(src, [issue(Severity.WARNING, "Danh sách cán bộ trống", sheet=INFO, cell=cell)], CheckStatus.ERRORS, out)
    text = openpyxl.load_workbook(out)[INFO][cell].comment.text
    assert text.startswith("[Cảnh báo] Danh sách cán bộ trống") and note in text


def test_second_round_replaces_previous_marks(feedback, tmp_path):
    """A school sends back the feedback copy itself, fixed: the next copy shows this round's
    issues only, on one report sheet, and the old marks are gone."""
    first, _, _ = feedback
    fixed = tmp_path / "round2.xlsx"
    fixed.write_bytes(fill(first.read_bytes(), {INFO: {"B11": "0912345678"}}))
    out = tmp_path / "fb2.xlsx"
    issues = [issue(Severity.ERROR, "Thiếu Kết quả cần đạt", sheet=PLAN, cell="E6", row=6)]
    write_feedback(fixed, issues, CheckStatus.ERRORS, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames.count(REPORT_SHEET) == 1 and wb.sheetnames[0] == REPORT_SHEET
    assert len(table(wb[REPORT_SHEET])) == 1
    assert wb[PLAN]["E6"].fill.fgColor.rgb == ERROR_RGB
    for sheet, coord in ((INFO, "B11"), (PLAN, "F6"), (PLAN, "G6")):
        assert wb[sheet][coord].comment is None, coord
        assert wb[sheet][coord].fill.fgColor.rgb not in (ERROR_RGB, WARNING_RGB), coord
    # the restored fill is that of its neighbours (the template's ivory input cells)
    assert wb[INFO]["B11"].fill.fgColor.rgb == wb[INFO]["B10"].fill.fgColor.rgb


def test_odd_targets_are_listed_not_marked(submitted, tmp_path):
    issues = [
        issue(Severity.ERROR, "Ô ngoài bảng", sheet="Không có", cell="A1"),
        issue(Severity.ERROR, "Ô sai", sheet=PLAN, cell="ZZZZ0"),
        issue(Severity.ERROR, "Tiêu đề", sheet=PLAN, cell="C1"),  # inside the merged title A1:Q1
        issue(Severity.WARNING, "Dòng thiếu", sheet=PLAN, row=8),
        issue(Severity.ERROR, "Ký tự lạ \x0b", value="a\x00b\x1fc", sheet=PLAN, cell="$H$6"),
    ]
    out = tmp_path / "fb.xlsx"
    write_feedback(submitted, issues, CheckStatus.WRONG_TEMPLATE, out)
    wb = openpyxl.load_workbook(out)
    rows = table(wb[REPORT_SHEET])
    assert len(rows) == len(issues)
    assert wb[PLAN]["A1"].comment.text == "[Lỗi] Tiêu đề"
    assert "Ký tự lạ" in wb[PLAN]["H6"].comment.text
    assert any(r[4] == "a\ufffdb\ufffdc" for r in rows)
    links = {row[2].value: row[2].hyperlink for row in table_cells(wb[REPORT_SHEET])}
    assert links["Không có!A1"] is None and links["Kế hoạch!ZZZZ0"] is None
    assert links["Kế hoạch (dòng 8)"].location == "'Kế hoạch'!A8"
    assert wb[PLAN]["A8"].comment is None  # a row-level issue is linked, not marked


def test_no_issues(submitted, tmp_path):
    out = tmp_path / "ok.xlsx"
    write_feedback(submitted, [], CheckStatus.VALID, out, title_info={"school_code": "THCS-01"})
    ws = openpyxl.load_workbook(out)[REPORT_SHEET]
    texts = [c.value for row in ws.iter_rows() for c in row if c.value]
    assert "Trạng thái: Hợp lệ — 0 lỗi, 0 cảnh báo" in texts
    assert "Không phát hiện vấn đề nào." in texts


def test_bad_arguments(submitted, tmp_path):
    with pytest.raises(ValueError):
        write_feedback(submitted, [], "OK", tmp_path / "a.xlsx")
    with pytest.raises(ValueError):  # keep_vba=False: the copy is an .xlsx, never .xlsm
        write_feedback(submitted, [], CheckStatus.VALID, tmp_path / "a.xlsm")
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- report-only workbooks


def test_unreadable_sources_give_report_only(tmp_path, ooxml_validate):
    broken = tmp_path / "broken.xlsx"  # says xlsx, has xl/workbook.xml, is not one
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "not xml")
    csv = tmp_path / "ke-hoach.xls"  # a CSV named .xls, as web systems export
    csv.write_bytes("Mức,Tiêu chí\nMức 1,=1+1\n".encode())
    for src in (broken, csv):
        out = tmp_path / f"fb-{src.stem}.xlsx"
        write_feedback(src, ISSUES, CheckStatus.ERRORS, out, title_info=TITLE_INFO, show_info=True)
        ooxml_validate(out)
        wb = openpyxl.load_workbook(out)
        assert wb.sheetnames == [REPORT_SHEET]
        texts = [c.value for row in wb[REPORT_SHEET].iter_rows() for c in row if isinstance(c.value, str)]
        assert any("không đánh dấu được" in t and ".xlsx" in t for t in texts), texts
        assert len(table(wb[REPORT_SHEET])) == len(ISSUES)


@pytest.mark.libreoffice
def test_ods_source_gives_report_only(submitted, tmp_path, ooxml_validate):
    require_soffice()
    (ods,) = resave([submitted], tmp_path / "ods", fmt="ods", recalc=False)
    before = sha256(ods)
    out = tmp_path / "fb.xlsx"
    write_feedback(ods, ISSUES, CheckStatus.ERRORS, out, title_info=TITLE_INFO, show_info=True)
    assert sha256(ods) == before
    ooxml_validate(out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [REPORT_SHEET] and wb.active.title == REPORT_SHEET
    ws = wb[REPORT_SHEET]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Trạng thái: Cần sửa — 4 lỗi, 2 cảnh báo, 2 thông tin" in texts
    assert any("OpenDocument" in t and "lưu thành" in t.lower() for t in texts)
    rows = table_cells(ws)
    assert len(rows) == len(ISSUES)
    assert all(row[2].hyperlink is None for row in rows)  # nothing to link to in this workbook
    assert "<f>" not in sheet_parts(out)[REPORT_SHEET]


# --------------------------------------------------------------------------- real clients


def test_output_passes_ooxml_schemas(feedback, ooxml_validate):
    ooxml_validate(feedback[0])


@pytest.mark.libreoffice
def test_libreoffice_opens_feedback(feedback, tmp_path):
    require_soffice()
    out = feedback[0]
    (pdf,) = resave([out], tmp_path / "pdf", fmt="pdf", recalc=False)
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 1000
    (xlsx,) = resave([out], tmp_path / "xlsx", fmt="xlsx", recalc=False)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[0] == REPORT_SHEET and wb.active.title == REPORT_SHEET
    assert len(table(wb[REPORT_SHEET])) == len(ISSUES)
    assert "Công việc/giải pháp quá ngắn" in wb[PLAN]["F6"].comment.text
    assert wb[PLAN]["F6"].value == FORMULA_TEXT and wb[PLAN]["F6"].data_type == "s"
    assert wb[PLAN].protection.sheet
    # LibreOffice itself turns veryHidden into hidden on a re-save (the bare template too)
    assert wb["kcl_identity"].sheet_state in ("hidden", "veryHidden")
