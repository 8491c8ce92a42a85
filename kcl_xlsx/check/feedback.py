"""The feedback copy sent back to a school: its own workbook, annotated.

For an .xlsx/.xlsm submission the school's own workbook is loaded with openpyxl (the one
job in this project that modifies an existing workbook), and

* every issue that names an existing sheet and cell colours that cell (red for errors, amber
  for warnings, info left uncoloured) and puts one comment on it listing all its issues;
* a first sheet "Kết quả kiểm tra" lists every issue (errors first, then by sheet and row)
  with an internal link to its cell; it is the active sheet when the file opens.

The submitted file is never modified: its bytes are read once and the work is done on a copy
in memory; the output is written with :func:`kcl_xlsx.base.output.write_atomic` (never over an
existing file).  Every text that came from the school (values, messages quoting them, sheet
names) is written as a string, never as a formula.

Anything openpyxl cannot annotate (.xls, .ods, .xlsb, a broken or hostile package, a load or
save error) gets a new workbook holding only the report sheet, with a line asking the school
to re-save its file as .xlsx.

What openpyxl changes on the way.  Measured on our templates: cached formula results are
dropped (the workbook has ``fullCalcOnLoad``, so Excel recomputes; LibreOffice does on its
own too), an empty-string cell comes back blank, non-top-left cells of a merge lose their
own style (openpyxl re-applies the border only), strings are written inline instead of
shared, sheet protection is rewritten with every flag spelled out (same meaning, same
password hash).  Known, not in our templates: data validation and conditional formats in
``x14`` extensions, slicers, sparklines, form controls are dropped; so is VBA
(``keep_vba=False``: the copy is always a plain .xlsx).  Sheet protection, hidden and
very-hidden sheets, defined names (print area/titles move with their sheet), custom
document properties, standard data validation and conditional formatting, merged cells,
frozen panes, comments of the template survive; the tests check that.
"""
from __future__ import annotations

import copy
import io
import math
import zipfile
from pathlib import Path
from typing import Mapping, Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from macros_free_validation.report import Severity

from kcl_xlsx.base.output import refuse_existing, write_atomic
from kcl_xlsx.intake.sniff import sniff_stream
from kcl_xlsx.spec.issues import Issue
from kcl_xlsx.spec.vocab import CheckStatus, label_of

# the copy's Trạng thái, shown as the status's label (Hợp lệ, Cần sửa, Sai mẫu)
STATUSES = (CheckStatus.VALID, CheckStatus.ERRORS, CheckStatus.WRONG_TEMPLATE)

REPORT_SHEET = "Kết quả kiểm tra"
REPORT_TITLE = "KẾT QUẢ KIỂM TRA KẾ HOẠCH CẢI TIẾN CHẤT LƯỢNG"
AUTHOR = "kcl-xlsx"
HEADERS = ("STT", "Mức độ", "Vị trí", "Cột", "Giá trị", "Nội dung", "Cách sửa")
WIDTHS = (5, 10, 16, 16, 20, 44, 34)  # one landscape page wide at a readable scale
SEVERITY_LABEL = {s: label_of(s) for s in Severity}  # Lỗi / Cảnh báo / Thông tin: labels.yaml, the one wording
_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

# Fills put on the school's cells.  Exact colours matter: a later round recognises its own
# marks by them (together with the comment author) and removes them.
ERROR_RGB = "FFFF9999"
WARNING_RGB = "FFFFD966"
_OUR_RGBS = frozenset({ERROR_RGB, WARNING_RGB})
_SEVERITY_RGB = {Severity.ERROR: ERROR_RGB, Severity.WARNING: WARNING_RGB}

_TEMPLATE_NOTE = "— Ghi chú của mẫu —"
_TITLE_LABELS = (("school_code", "Mã trường"), ("school_name", "Tên trường"), ("checked_at", "Thời điểm kiểm tra"))
_MAX_CELL_TEXT = 32_767
# Bound on what openpyxl is asked to inflate (sum of declared member sizes).  A real
# submission is a few MB; above this the school still gets the report-only workbook.
MAX_UNCOMPRESSED = 256 * 1024 * 1024

_THIN = Side(style="thin", color="FF999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_HEADER_FILL = PatternFill("solid", fgColor="FFD9E1F2")
_STATUS_RGB = {CheckStatus.VALID: "FF006100", CheckStatus.ERRORS: "FF9C0006", CheckStatus.WRONG_TEMPLATE: "FF9C0006"}
_LINK_FONT = Font(color="FF0563C1", underline="single")


def write_feedback(source: Path, issues: Sequence[Issue], status: CheckStatus, out_path: Path, *,
                   title_info: Mapping[str, str] | None = None, show_info: bool = False) -> Path:
    """Write the feedback copy of ``source`` to ``out_path`` (an .xlsx that must not exist yet)
    and return ``out_path``.  ``title_info`` may hold ``school_code``, ``school_name``,
    ``checked_at`` (shown on the report sheet), ``unit`` and ``year`` (its printed page
    header).  Info-level issues (nothing for the school to do) are left out unless
    ``show_info``."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {[s.value for s in STATUSES]}, not {status!r}")
    status = CheckStatus(status)
    source, out_path = Path(source), Path(out_path)
    if out_path.suffix.lower() != ".xlsx":
        # keep_vba=False: the copy is always a plain workbook; Excel refuses an .xlsm/.xls
        # name on it ("the file format or extension is not valid").
        raise ValueError(f"{out_path}: the feedback copy is an .xlsx workbook; name it *.xlsx")
    refuse_existing(out_path)  # fail before the work; write_atomic checks again
    data = source.read_bytes()
    info = dict(title_info or {})
    issues = [i for i in issues if show_info or Severity(i.severity) != Severity.INFO]
    kind = _kind(data)
    output: bytes | None = None
    note = ""
    if kind in ("xlsx", "xlsm"):
        try:
            output = _annotated(data, issues, status, source.name, info)
        except Exception as exc:  # openpyxl raises many types on odd packages
            note = _note(f"openpyxl không đọc/ghi được tệp ({type(exc).__name__})")
    else:
        note = _note(_KIND_TEXT.get(kind, "không phải tệp Excel .xlsx"))
    if output is None:
        output = _report_only(issues, status, source.name, info, note)
    write_atomic(out_path, output)
    return out_path


# --------------------------------------------------------------------------- sources

_KIND_TEXT = {
    "xls": "tệp Excel 97-2003 (.xls)",
    "xlsb": "tệp Excel nhị phân (.xlsb)",
    "ods": "tệp OpenDocument (.ods)",
    "encrypted": "tệp có mật khẩu mở",
    "too_big": "tệp quá lớn",
    "corrupt": "tệp bị hỏng",
    "csv_text": "tệp văn bản/CSV",
    "html": "trang web (HTML) đặt tên như tệp Excel",
    "pdf": "tệp PDF",
    "empty": "tệp rỗng",
}


def _note(reason: str) -> str:
    return (f"Lưu ý: không đánh dấu được trực tiếp trên tệp gốc của trường ({reason}). "
            "Hãy mở tệp, chọn Lưu thành (Save As) kiểu Excel Workbook (.xlsx) rồi gửi lại; "
            "các vị trí cần sửa được liệt kê dưới đây.")


def _kind(data: bytes) -> str:
    kind = sniff_stream(io.BytesIO(data)).kind
    if kind in ("xlsx", "xlsm"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = {n.lower() for n in zf.namelist()}
                if "xl/workbook.xml" not in names:
                    return "corrupt"
                if sum(i.file_size for i in zf.infolist()) > MAX_UNCOMPRESSED:
                    return "too_big"
        except Exception:
            return "corrupt"
    return kind


# --------------------------------------------------------------------------- annotate


def _annotated(data: bytes, issues: list[Issue], status: CheckStatus, file_name: str, info: Mapping[str, str]) -> bytes:
    wb = load_workbook(io.BytesIO(data), keep_vba=False, data_only=False, keep_links=True, rich_text=True)
    _remove_previous_round(wb)
    marks: dict[tuple[str, str], list[Issue]] = {}
    links: dict[int, str] = {}
    ordered = _sorted(issues, wb.sheetnames)
    for n, issue in enumerate(ordered):
        target = _target(wb, issue)
        if target is None:
            continue
        ws, coord = target
        marks.setdefault((ws.title, coord), []).append(issue)
        if ws.sheet_state == "visible":
            links[n] = _location(ws.title, coord)
    for (title, coord), found in marks.items():
        _mark(wb[title], coord, found)
    for ws in wb.worksheets:
        _show_marks_over_template_colours(ws)

    report = wb.create_sheet(_free_title(wb), 0)
    _write_report(report, ordered, status, file_name, info, note="", links=links)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is report  # two selected tabs = grouped sheets in Excel
    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _target(wb: Workbook, issue: Issue) -> tuple[Worksheet, str] | None:
    """The worksheet and the A1 cell an issue points at, or None (no cell, a sheet the
    workbook lacks, a chart sheet, a malformed reference)."""
    if not issue.sheet or issue.sheet not in wb.sheetnames:
        return None
    ws = wb[issue.sheet]
    if not isinstance(ws, Worksheet):
        return None
    coord = _coord(issue)
    if coord is None:
        return None
    cell = ws[coord]
    if isinstance(cell, MergedCell):  # only the top-left cell of a merge holds style and comment
        for rng in ws.merged_cells.ranges:
            if coord in rng:
                coord = rng.start_cell.coordinate
                break
    return ws, coord


def _coord(issue: Issue) -> str | None:
    ref = issue.cell.split(":")[0].replace("$", "").strip().upper()
    if not ref:
        return f"A{issue.row}" if issue.row and 0 < issue.row <= 1_048_576 else None
    try:
        col, row = coordinate_from_string(ref)
        if not (1 <= column_index_from_string(col) <= 16_384 and 1 <= row <= 1_048_576):
            return None
    except Exception:  # CellCoordinatesException, ValueError...
        return None
    return f"{col}{row}"


def _mark(ws: Worksheet, coord: str, found: list[Issue]) -> None:
    cell = ws[coord]
    cell_issues = [i for i in found if i.cell]
    if not cell_issues:
        return  # row-level issues (no cell): listed and linked, column A is not marked
    worst = min((Severity(i.severity) for i in cell_issues), key=_RANK.__getitem__)
    rgb = _SEVERITY_RGB.get(worst)
    _take_column_style(ws, cell)
    if rgb:
        cell.fill = PatternFill("solid", fgColor=rgb, bgColor=rgb)
    lines = []
    for i in cell_issues:
        lines.append(f"[{SEVERITY_LABEL[Severity(i.severity)]}] {_clean(i.message)}")
        if i.hint:
            lines.append(f"Cách sửa: {_clean(i.hint)}")
    text = "\n".join(lines)
    if cell.comment is not None and cell.comment.author != AUTHOR and cell.comment.text:
        text += f"\n\n{_TEMPLATE_NOTE}\n{cell.comment.text}"
    text = text[:_MAX_CELL_TEXT]
    height = min(600, 30 + 15 * sum(1 + len(line) // 45 for line in text.split("\n")))
    cell.comment = Comment(text, AUTHOR, height=height, width=320)


def _take_column_style(ws: Worksheet, cell) -> None:
    """A template's input cell has no format of its own, its column's default applies
    (unlocked, bordered): openpyxl would give a cell it styles the workbook default
    (locked), so a marked cell starts from its column's format."""
    if cell.has_style:
        return
    for dim in ws.column_dimensions.values():
        if dim.min and dim.max and dim.min <= cell.column <= dim.max and dim.has_style:
            cell._style = copy.copy(dim._style)
            return


def _our_rule(rule: Rule) -> bool:
    fill = rule.dxf.fill if rule.dxf is not None else None
    rgb = fill.bgColor.rgb if fill is not None and fill.bgColor is not None else None
    return rule.type == "expression" and list(rule.formula or []) == ["TRUE"] and rgb in _OUR_RGBS


def _show_marks_over_template_colours(ws: Worksheet) -> None:
    """The template colours its own checks' cells (pink, light yellow) by conditional
    formatting, which Excel shows over any fill: the cells marked here get a conditional
    format of their own, first in priority, so that each shows the colour the legend names."""
    if not isinstance(ws, Worksheet):
        return
    marked: dict[str, list[str]] = {}
    for cell in list(ws._cells.values()):
        rgb = _fill_rgb(cell)
        if rgb in _OUR_RGBS and cell.comment is not None and cell.comment.author == AUTHOR:
            marked.setdefault(rgb, []).append(cell.coordinate)
    if not marked:
        return
    old = ws.conditional_formatting
    ws.conditional_formatting = ConditionalFormattingList()
    for priority, (rgb, coords) in enumerate(sorted(marked.items()), start=1):
        rule = Rule(type="expression", formula=["TRUE"], stopIfTrue=True,
                    dxf=DifferentialStyle(fill=PatternFill("solid", fgColor=rgb, bgColor=rgb)))
        ws.conditional_formatting.add(" ".join(coords), rule)
        rule.priority = priority
    shift = len(marked)
    for cf in old:
        for rule in cf.rules:
            rule.priority = (rule.priority or 0) + shift
            ws.conditional_formatting.add(str(cf.sqref), rule)


def _remove_previous_conditional_formats(ws: Worksheet) -> None:
    if not isinstance(ws, Worksheet) or not any(_our_rule(r) for cf in ws.conditional_formatting for r in cf.rules):
        return
    old = ws.conditional_formatting
    ws.conditional_formatting = ConditionalFormattingList()
    for cf in old:
        for rule in cf.rules:
            if not _our_rule(rule):
                ws.conditional_formatting.add(str(cf.sqref), rule)


def _remove_previous_round(wb: Workbook) -> None:
    """A school may send back the feedback copy itself: drop the old report sheet and the
    old marks so that this round's copy shows this round's issues only."""
    for ws in list(wb.worksheets):
        if ws.title.casefold() == REPORT_SHEET.casefold() and ws["A1"].value == REPORT_TITLE:
            wb.remove(ws)
    for ws in wb.worksheets:
        _remove_previous_conditional_formats(ws)
        # ws._cells: the stored cells only (iter_rows would create every blank cell)
        old = [c for c in list(ws._cells.values()) if c.comment is not None and c.comment.author == AUTHOR]
        for cell in old:
            text = cell.comment.text or ""
            at = text.find(_TEMPLATE_NOTE)
            cell.comment = Comment(text[at + len(_TEMPLATE_NOTE):].strip(), "") if at >= 0 else None
            if _fill_rgb(cell) in _OUR_RGBS:
                cell.fill = _neighbour_fill(ws, cell)


def _fill_rgb(cell) -> str | None:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid":
        return None
    rgb = fill.fgColor.rgb
    return rgb if isinstance(rgb, str) else None


def _neighbour_fill(ws: Worksheet, cell) -> PatternFill:
    """The fill a marked cell most likely had: that of the nearest cell of its column with
    the same lock state that is not marked itself (input cells share a style)."""
    for d in range(1, 30):
        for r in (cell.row - d, cell.row + d):
            if r < 1:
                continue
            other = ws._cells.get((r, cell.column))
            if other is None or isinstance(other, MergedCell) or other.protection.locked != cell.protection.locked:
                continue
            if _fill_rgb(other) not in _OUR_RGBS:
                return copy.copy(other.fill)
    return PatternFill()


def _free_title(wb: Workbook) -> str:
    taken = {t.casefold() for t in wb.sheetnames}
    title, n = REPORT_SHEET, 2
    while title.casefold() in taken:
        title, n = f"{REPORT_SHEET} ({n})", n + 1
    return title


def _location(sheet: str, coord: str) -> str:
    return "'" + sheet.replace("'", "''") + "'!" + coord


# --------------------------------------------------------------------------- report sheet


def _report_only(issues: list[Issue], status: CheckStatus, file_name: str, info: Mapping[str, str], note: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = REPORT_SHEET
    _write_report(ws, _sorted(issues, []), status, file_name, info, note=note, links={})
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sorted(issues: list[Issue], sheet_order: list[str]) -> list[Issue]:
    """Errors, then warnings, then info; within each: whole-file issues first, then by the
    sheet's place in the workbook, row, column."""
    order = {name: i for i, name in enumerate(sheet_order)}

    def key(issue: Issue):
        coord = _coord(issue) if issue.sheet else None
        row, col = (0, 0)
        if coord:
            letters, row = coordinate_from_string(coord)
            col = column_index_from_string(letters)
        return (_RANK[Severity(issue.severity)], bool(issue.sheet), order.get(issue.sheet, len(order)),
                issue.sheet, issue.row or row, col)

    return sorted(issues, key=key)


def status_line(status: CheckStatus, issues: Sequence[Issue]) -> str:
    """``Trạng thái: Cần sửa — 3 lỗi, 2 cảnh báo`` (plus ``, 1 thông tin`` when there is info)."""
    counts = {s: sum(1 for i in issues if Severity(i.severity) == s) for s in Severity}
    label = CheckStatus(status).label
    warning = label_of(Severity.WARNING).lower()
    text = f"Trạng thái: {label} — {counts[Severity.ERROR]} lỗi, {counts[Severity.WARNING]} {warning}"
    if counts[Severity.INFO]:
        text += f", {counts[Severity.INFO]} thông tin"
    return text


def _write_report(ws: Worksheet, issues: list[Issue], status: CheckStatus, file_name: str, info: Mapping[str, str],
                  note: str, links: Mapping[int, str]) -> None:
    last_col = get_column_letter(len(HEADERS))
    row = 1
    _text(ws.cell(row, 1), REPORT_TITLE).font = Font(bold=True, size=14)
    ws.merge_cells(f"A{row}:{last_col}{row}")
    lines = [f"Tệp: {file_name}"]
    lines += [f"{label}: {info[key]}" for key, label in _TITLE_LABELS if info.get(key)]
    for line in lines:
        row += 1
        _text(ws.cell(row, 1), line)
        ws.merge_cells(f"A{row}:{last_col}{row}")
    row += 1
    _text(ws.cell(row, 1), status_line(status, issues)).font = Font(bold=True, size=12, color=_STATUS_RGB[status])
    ws.merge_cells(f"A{row}:{last_col}{row}")
    row += 1
    guide = note or ("Bấm vào ô ở cột Vị trí để đến ô cần sửa. Ô có lỗi được tô đỏ, ô có cảnh báo tô vàng "
                     "(như ô Mức độ bên dưới); đưa chuột vào ô để xem ghi chú. Sửa xong, xóa trang này nếu muốn rồi "
                     "gửi lại tệp.")
    c = _text(ws.cell(row, 1), guide)
    c.alignment = Alignment(wrap_text=True, vertical="top")
    c.font = Font(italic=True, color="FF9C0006" if note else "FF595959")
    ws.merge_cells(f"A{row}:{last_col}{row}")
    ws.row_dimensions[row].height = 32 if note else 30
    row += 2
    header_row = row
    for col, (head, width) in enumerate(zip(HEADERS, WIDTHS), start=1):
        c = _text(ws.cell(row, col), head)
        c.font = Font(bold=True)
        c.fill = _HEADER_FILL
        c.border = _BORDER
        c.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    if not issues:
        row += 1
        ws.cell(row, 1).border = _BORDER
        _text(ws.cell(row, 6), "Không phát hiện vấn đề nào.")
    for n, issue in enumerate(issues):
        row += 1
        sev = Severity(issue.severity)
        values = (None, SEVERITY_LABEL[sev], _where(issue), issue.column, issue.value, issue.message, issue.hint)
        for col, value in enumerate(values, start=1):
            c = ws.cell(row, col)
            if col == 1:
                c.value = n + 1
            elif value:
                _text(c, value)
            c.border = _BORDER
            c.alignment = _WRAP_TOP
        ws.cell(row, 2).font = Font(bold=sev == Severity.ERROR,
                                     color={Severity.ERROR: "FF9C0006", Severity.WARNING: "FF9C5700"}.get(sev))
        if sev in _SEVERITY_RGB:  # the legend's colours, as the marked cells show them
            ws.cell(row, 2).fill = PatternFill("solid", fgColor=_SEVERITY_RGB[sev])
        if n in links:
            where = ws.cell(row, 3)
            where.hyperlink = Hyperlink(ref=where.coordinate, location=links[n], display=where.value)
            where.font = _LINK_FONT
        ws.row_dimensions[row].height = _height(values)
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    if issues:
        ws.auto_filter.ref = f"A{header_row}:{last_col}{row}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.center.text = "Trang &P/&N"
    school = " - ".join(x for x in (info.get("school_code"), info.get("school_name")) if x)
    ws.oddHeader.left.text = "KẾT QUẢ KIỂM TRA KẾ HOẠCH"
    ws.oddHeader.center.text = "; ".join(x for x in (school, info.get("unit")) if x).replace("&", "&&")[:120]
    ws.oddHeader.right.text = f"Năm học {info['year']}" if info.get("year") else ""
    for part in (ws.oddHeader.left, ws.oddHeader.center, ws.oddHeader.right, ws.oddFooter.center):
        part.size = 9


def _where(issue: Issue) -> str:
    if issue.sheet and issue.cell:
        return issue.where()
    if issue.sheet and issue.row:
        return f"{issue.sheet} (dòng {issue.row})"
    return issue.sheet or "(cả tệp)"


def _height(values: tuple) -> float:
    lines = 1
    for value, width in zip(values, WIDTHS):
        if value is None:
            continue
        chars = max(1, int(width * 1.1))
        lines = max(lines, sum(max(1, math.ceil(len(part) / chars)) for part in str(value).split("\n")))
    return min(409.0, 15.0 * lines + 3)


def _clean(value: object) -> str:
    """Text fit for a cell: no control characters XML cannot hold, within Excel's limit."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    return text[:_MAX_CELL_TEXT]


def _text(cell, value: object):
    """Write ``value`` as a string, never a formula (a school's "=HYPERLINK(...)" stays text)."""
    cell.value = _clean(value)
    cell.data_type = "s"
    return cell


__all__ = ["STATUSES", "REPORT_SHEET",
           "write_feedback", "status_line"]
