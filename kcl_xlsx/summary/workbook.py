"""Write the summary workbook with XlsxWriter: pivot-style sheets computed in pandas, native
charts, an Excel table of every action.  Every text from a submission is written with
``write_string``; totals are formulas carrying the computed value as their cached result.
The file is written to a temporary name and renamed; an earlier summary is kept under a
timestamped name."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from functools import lru_cache
from typing import Any, NamedTuple

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

import numpy as np

from macros_free_validation.report import Severity

from kcl_xlsx.summary.fast_sheet import Bulk, FastSheet, FastWorkbook
from kcl_xlsx.base.output import replace_keeping_backup, temporary_beside
from kcl_xlsx.summary.labels import framework_short, labelled
from kcl_xlsx.summary.tables import FUNDING_PREFIX, UNIT_STATUS_COLUMNS, SummaryData, months_text

MAX_ROWS = 1_048_576
S_OVERVIEW, S_SCHOOL, S_UNIT, S_CRIT, S_STD, S_FUND, S_TIME, S_LEAD, S_DETAIL, S_ISSUES, S_MISSING, S_FILES, S_CHANGES = (
    "Tổng quan", "Theo trường", "Theo đơn vị", "Theo tiêu chí", "Theo tiêu chuẩn", "Nguồn kinh phí", "Thời gian",
    "Chủ trì", "Chi tiết", "Lỗi", "Chưa nộp", "Tệp", "Thay đổi")
S_CHARTS, S_CHART_DATA = "Biểu đồ", "Dữ liệu biểu đồ"
TITLE = "TỔNG HỢP KẾ HOẠCH CẢI TIẾN CHẤT LƯỢNG"

HEADERS = {
    "school_code": "Mã trường", "school_name": "Tên trường", "unit": "Đơn vị quản lý", "level": "Cấp học",
    "framework": "Khung tiêu chí", "year": "Năm học", "section": "Phần", "standard": "Tiêu chuẩn",
    "criterion": "Mã tiêu chí", "criterion_name": "Tiêu chí", "target": "Kết quả cần đạt",
    "actions": "Công việc/giải pháp", "lead": "Chủ trì", "collaborators": "Phối hợp", "start": "Bắt đầu",
    "end": "Kết thúc", "budget_min_mvnd": "Kinh phí tối thiểu (tr.đ)", "budget_max_mvnd": "Kinh phí tối đa (tr.đ)",
    "funding_source": "Nguồn kinh phí", "status": "Tình trạng", "source_file": "Tệp nguồn",
    "source_sheet": "Trang nguồn", "source_row": "Dòng nguồn", "actions_n": "Số công việc", "criteria": "Số tiêu chí",
    "schools": "Số trường", "school_list": "Các trường", "month": "Tháng bắt đầu", "file": "Tệp",
    "classification": "Phân loại", "match": "Nhận diện theo", "errors": "Số lỗi", "warnings": "Số cảnh báo",
    "size": "Dung lượng (byte)", "sha256": "SHA-256", "saved_at": "Trường lưu lúc", "received": "Nhận lúc",
    "collected_at": "Tổng hợp lần đầu", "template_id": "Mã mẫu", "late": "Muộn", "note": "Ghi chú",
    "severity": "Mức độ", "code": "Mã", "where": "Vị trí", "column": "Cột", "value": "Giá trị",
    "message": "Nội dung", "hint": "Cách sửa", "progress": "Tiến độ", "previous": "Bản trước", "change": "Thay đổi",
    "key": "Dòng (tiêu chí | công việc)", "row": "Dòng thay đổi (tiêu chí | công việc)",
    "submission": "Tình trạng nộp", **{key: status.label for status, key in UNIT_STATUS_COLUMNS.items()},
    "start_month": "Tháng bắt đầu (năm-tháng)", "end_month": "Tháng kết thúc (năm-tháng)",
    "form_version": "Phiên bản mẫu",
    "source_kind": "Loại tệp",
}
# Headers of earlier versions, still read back by the roll-up.
EARLIER_HEADERS = {"Số lưu ý": "warnings"}
NUMERIC_SUMMED = ("actions", "schools", "criteria", "budget_min_mvnd", "budget_max_mvnd", "errors", "warnings",
                  *UNIT_STATUS_COLUMNS.values())
TOTAL = "Tổng"
TOTAL_DISTINCT = "Tổng (số trường khác nhau)"  # a total row whose "Số trường" counts each school once
TOTAL_LABELS = (TOTAL, TOTAL_DISTINCT)

# Column widths (characters) and which columns wrap; anything else: 9, not wrapped.  A
# landscape page holds about 145 characters of columns at a print scale where 11 pt text
# still prints 8 pt high (LibreOffice with its substitute fonts; Excel fits more).
WIDTHS = {
    "school_code": 9, "school_name": 13, "unit": 20, "level": 11, "framework": 11, "year": 10, "section": 10,
    "standard": 20, "criterion": 7, "criterion_name": 24, "target": 14, "actions": 20, "lead": 11,
    "collaborators": 14, "start": 9, "end": 9, "budget_min_mvnd": 9, "budget_max_mvnd": 9,
    "funding_source": 10, "status": 11, "progress": 10, "source_file": 24, "source_sheet": 10, "source_row": 8,
    "start_month": 10, "end_month": 10, "schools": 7, "criteria": 7, "school_list": 16, "month": 13,
    "file": 24, "classification": 14, "match": 12, "errors": 6, "warnings": 8, "size": 11, "sha256": 20,
    "saved_at": 17, "received": 17, "collected_at": 19, "template_id": 20, "late": 6, "note": 16,
    "severity": 9, "code": 16, "where": 12, "column": 14, "value": 14, "message": 30, "hint": 22,
    "previous": 24, "change": 10, "key": 30, "row": 50, "submission": 11, "source_kind": 9,
    **{key: 8 for key in UNIT_STATUS_COLUMNS.values()},
}
WRAPPED = {"school_name", "unit", "level", "framework", "standard", "criterion_name", "target", "actions", "lead",
           "collaborators", "funding_source", "status", "progress", "source_file", "school_list", "file",
           "classification", "match", "note", "column", "value", "message", "hint", "previous", "row",
           "submission", "where", "start", "end", "month", "severity"}
# Columns kept for filters and for the roll-up, grouped and folded away (not printed): the
# "+" above the sheet opens them.
FOLDED = {
    S_DETAIL: {"unit", "framework", "year", "section", "standard", "criterion", "collaborators", "budget_min_mvnd",
               "status", "source_file", "source_sheet", "source_row", "start_month", "end_month"},
    S_SCHOOL: {"source_file", "budget_min_mvnd"},  # and the per-source budgets (see _write_pivots)
    S_ISSUES: {"code"},
    S_FILES: {"size", "sha256", "collected_at", "template_id", "source_kind"},  # Theo trường prints the kind
    S_CHANGES: {"key"},
    S_CRIT: {"criterion"},
}

# The printed page (points): A4, margins of 0.4" left and right, 0.75" top and bottom.
A4_LONG, A4_SHORT = 841.9, 595.3
MARGIN_X, MARGIN_Y = 0.4, 0.75
PRINT_WIDTH_LANDSCAPE = A4_LONG - 2 * 72 * MARGIN_X
PRINT_WIDTH_PORTRAIT = A4_SHORT - 2 * 72 * MARGIN_X
PRINT_HEIGHT_LANDSCAPE = A4_SHORT - 2 * 72 * MARGIN_Y
LINE = 15.0  # points a line of 11 pt text takes
PORTRAIT_CHARS = 88  # columns this wide (in characters) print on a portrait page at a readable scale


def _h(col: str) -> str:
    if col == "actions":
        return "Số công việc"
    return HEADERS.get(col, col)


def col_pixels(width: float) -> int:
    """Excel's pixel width of a column ``width`` characters wide (Calibri 11)."""
    return int(width * 7 + 5)


def lines_needed(text: Any, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide (word by word, a
    little pessimistic: LibreOffice's substitute fonts are wider than Calibri)."""
    if text is None or text == "" or (isinstance(text, float) and math.isnan(text)):
        return 1
    return _wrapped_lines(str(text), int(width))


@lru_cache(maxsize=65536)
def _wrapped_lines(text: str, width: int) -> int:
    room = max(1.0, width * 1.1)
    total = 0
    for part in text.split("\n"):
        lines, used = 1, 0.0
        for word in part.split():
            n = len(word)
            if used and used + 1 + n > room:
                lines, used = lines + 1, 0.0
            while n > room:  # a word longer than the column breaks anywhere
                lines, n = lines + 1, n - room
            used = used + (1 if used else 0) + n
        total += lines
    return total


def _heights(df: pd.DataFrame, widths: list[float], wrapped: list[bool], hidden: list[bool]) -> list[float] | None:
    """Row heights (points) fitting the wrapped columns' text; None when nothing wraps."""
    cols = [c for c, w in enumerate(wrapped) if w and not hidden[c]]
    if not cols or not len(df):
        return None
    lines = np.ones(len(df))
    for c in cols:
        width = int(widths[c])
        values = df.iloc[:, c].tolist()
        lines = np.maximum(lines, [_wrapped_lines(v, width) if v.__class__ is str else 1 for v in values])
    lines = np.minimum(lines, 27)  # Excel's row height limit: 409 pt
    return [0.0 if n <= 1 else float(LINE * n + 2) for n in lines]


DETAIL_LIMIT = 100_000  # rows of the Chi tiết sheet; past it the detail is in the export only


def write_summary(data: SummaryData, out: Path, detail_limit: int = DETAIL_LIMIT, detail_note: str = "", *,
                  show_info: bool | None = None) -> Path | None:
    """Write ``out``; return the backup name of an earlier summary (None if there was none).
    ``show_info`` (default: ``data.show_info``) lists info-level issues on Lỗi too."""
    out = Path(out)
    if show_info is not None:
        data = dataclasses.replace(data, show_info=show_info)
    with temporary_beside(out, suffix=".xlsx") as tmp:
        _write(data, tmp, detail_limit, detail_note)
        return replace_keeping_backup(tmp, out)


class _W:
    def __init__(self, wb: xlsxwriter.Workbook, d: SummaryData):
        self.wb, self.d = wb, d
        self.head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.subtitle = wb.add_format({"bold": True, "font_size": 12})
        self.num = wb.add_format({"num_format": "#,##0.0##", "valign": "top"})
        self.int = wb.add_format({"num_format": "#,##0", "valign": "top"})
        self.tot = wb.add_format({"bold": True, "top": 1, "num_format": "#,##0.0##", "valign": "top"})
        self.tot_int = wb.add_format({"bold": True, "top": 1, "num_format": "#,##0", "valign": "top"})
        self.totl = wb.add_format({"bold": True, "top": 1, "text_wrap": True, "valign": "top"})
        self.text = wb.add_format({"valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.label = wb.add_format({"bold": True, "valign": "top", "text_wrap": True})

    def cell(self, ws, r: int, c: int, v: Any, col: str = "", fmt=None) -> None:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            ws.write_blank(r, c, None)
        elif isinstance(v, bool):
            ws.write_string(r, c, "có" if v else "", fmt)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            whole = float(v).is_integer() and not col.startswith(("budget", FUNDING_PREFIX))  # counts show as counts
            ws.write_number(r, c, float(v), self.int if whole else self.num)
        else:
            ws.write_string(r, c, str(v), fmt)

    def number_format(self, col: str, values: pd.Series):
        if col.startswith(("budget", FUNDING_PREFIX)):
            return self.num
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            return None  # a number among text shows as typed
        whole = values.dropna()
        return self.int if not len(whole) or bool((whole % 1 == 0).all()) else self.num

    def layout(self, ws, cols: list[str], sheet: str, widths: dict[str, float] | None = None,
               folded: set[str] | None = None) -> _Layout:
        folded = FOLDED.get(sheet, set()) if folded is None else folded
        counts = [sheet != S_DETAIL and c == "actions" for c in cols]  # a pivot's "actions" is a count
        ws_widths = [float((widths or {}).get(c, 8 if n else WIDTHS.get(c, 9))) for c, n in zip(cols, counts)]
        wrapped = [(c in WRAPPED or c.startswith(FUNDING_PREFIX)) and not n for c, n in zip(cols, counts)]
        hidden = [c in folded for c in cols]
        for i, (width, hide) in enumerate(zip(ws_widths, hidden)):
            ws.set_column(i, i, width, None, {"hidden": True, "level": 1} if hide else None)
        return _Layout(cols, ws_widths, wrapped, hidden)

    def header(self, ws, r: int, lay: _Layout) -> None:
        for c, col in enumerate(lay.cols):
            ws.write_string(r, c, _h(col), self.head)
        lines = max((lines_needed(_h(col), w) for col, w, h in zip(lay.cols, lay.widths, lay.hidden) if not h),
                    default=1)
        ws.set_row(r, LINE * lines + 3)

    def table(self, ws, df: pd.DataFrame, r0: int = 0, totals: bool = True, title: str = "", sheet: str = "",
              widths: dict[str, float] | None = None, distinct: dict[str, int | None] | None = None,
              layout: bool = True, folded: set[str] | None = None) -> tuple[int, int]:
        """Header row, data rows, a total row of SUM formulas (cached values); a column in
        ``distinct`` gets that figure (a count of different schools) or a blank (None)
        instead of a sum.  Returns (first data row, last data row)."""
        if title:
            ws.write_string(r0, 0, title, self.subtitle)
            r0 += 1
        cols = list(df.columns)
        lay = self.layout(ws, cols, sheet, widths, folded) if layout else _Layout(
            cols, [float(OVERVIEW_WIDTHS[c]) for c in range(len(cols))], [True] * len(cols), [False] * len(cols))
        self.header(ws, r0, lay)
        first = r0 + 1
        ws.add_bulk(Bulk(first, [_plain(df[c]) for c in cols], [self.number_format(c, df[c]) for c in cols],
                         [self.wrap if w else self.text for w in lay.wrapped],
                         _heights(df, lay.widths, lay.wrapped, lay.hidden)))
        last = first + len(df) - 1
        if totals:
            distinct = distinct or {}
            tr = last + 1
            label = TOTAL_DISTINCT if any(v is not None for v in distinct.values()) else TOTAL
            ws.write_string(tr, 0, label, self.totl)
            ws.set_row(tr, LINE * lines_needed(label, lay.widths[0]) + 3)
            for c, col in enumerate(cols):
                if c and (col in NUMERIC_SUMMED or col not in HEADERS) and pd.api.types.is_numeric_dtype(df[col]):
                    counts = pd.api.types.is_integer_dtype(df[col]) or col in ("actions", "schools", "criteria")
                    fmt = self.tot_int if counts else self.tot
                    if col in distinct:
                        if distinct[col] is None:
                            ws.write_blank(tr, c, None, fmt)
                        else:
                            ws.write_number(tr, c, distinct[col], fmt)
                        continue
                    value = float(df[col].sum())
                    if len(df):
                        rng = f"{xl_rowcol_to_cell(first, c)}:{xl_rowcol_to_cell(last, c)}"
                        ws.write_formula(tr, c, f"=SUM({rng})", fmt, value)
                    else:
                        ws.write_number(tr, c, 0, fmt)
        ws.freeze_panes(r0 + 1, 0)
        if layout:
            self.print_setup(ws, lay, header_row=r0)
        return first, last

    def print_setup(self, ws, lay: _Layout | None, header_row: int | None, landscape: bool | None = None) -> None:
        """A4, one page wide, landscape unless the sheet is narrow, header rows repeated,
        the page header naming the summary, its office and school year, "Trang n/m" below."""
        if landscape is None:
            chars = sum(w for w, h in zip(lay.widths, lay.hidden) if not h) if lay else 0
            landscape = chars > PORTRAIT_CHARS
        ws.set_paper(9)
        ws.set_landscape() if landscape else ws.set_portrait()
        ws.set_margins(left=MARGIN_X, right=MARGIN_X, top=MARGIN_Y, bottom=MARGIN_Y)
        ws.fit_to_pages(1, 0)
        if header_row is not None:
            ws.repeat_rows(header_row)
        ws.set_header(page_header(self.d), {"margin": 0.3})
        ws.set_footer("&C&9Trang &P/&N", {"margin": 0.3})


class _Layout(NamedTuple):
    cols: list[str]
    widths: list[float]
    wrapped: list[bool]
    hidden: list[bool]


def page_header(d: SummaryData) -> str:
    """Title (left), office (centre), school year and sheet (right); at most 255 characters."""
    def esc(text: str) -> str:
        return text.replace("&", "&&")

    office = "; ".join(d.units) if d.units else ""
    if len(office) > 90:
        office = f"{d.units[0][:60]}… ({len(d.units)} đơn vị)"
    return (f'&L&9&"-,Bold"{esc(TITLE)}&C&9{esc(office)}'
            f'&R&9{esc("Năm học " + d.year if d.year else "")} – &A')


def _plain(values: pd.Series) -> list:
    """Python values, a missing one (NaN, NA, NaT) as None."""
    out = values.astype(object).tolist()
    if values.isna().any():
        out = [None if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v
               for v in out]
    return out


def detail_for_people(detail: pd.DataFrame) -> pd.DataFrame:
    """The rows table as the Chi tiết sheet and the export show it: months as "YYYY-MM"."""
    return detail.assign(start_month=months_text(detail["start_month"]), end_month=months_text(detail["end_month"]))


def school_labels(by_school: pd.DataFrame) -> list[str]:
    """A school as a chart names it: its name, and its code where two schools share a name."""
    names = by_school["school_name"].astype(str)
    repeated = names.duplicated(keep=False)
    return [f"{n} ({c})" if rep or not n else n
            for n, c, rep in zip(names, by_school["school_code"].astype(str), repeated)]


_PIVOT_SHEETS = (S_SCHOOL, S_UNIT, S_CRIT, S_STD, S_FUND, S_TIME, S_LEAD)


def _write(d: SummaryData, path: Path, detail_limit: int = DETAIL_LIMIT, detail_note: str = "") -> None:
    """The workbook, sheet by sheet.  Cells are written in the order of the sheets: the
    shared-string table takes the texts in the order they are written."""
    wb = FastWorkbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                  "strings_to_numbers": False, "nan_inf_to_errors": True})
    w = _W(wb, d)
    ov = wb.add_worksheet(S_OVERVIEW, FastSheet)
    charts = wb.add_worksheet(S_CHARTS, FastSheet)
    pivots = {n: wb.add_worksheet(n, FastSheet) for n in _PIVOT_SHEETS}
    _write_overview(w, ov, d)
    _write_pivots(w, pivots, d)
    _write_detail(wb, w, d, detail_limit, detail_note)
    _write_lists(wb, w, d)
    data_sheet = wb.add_worksheet(S_CHART_DATA, FastSheet)
    _write_charts(wb, w, charts, data_sheet, d)
    data_sheet.hide()
    ov.activate()
    wb.close()


OVERVIEW_WIDTHS = (36, 40, 14)  # Tổng quan is portrait: about 100 characters of columns


def _write_overview(w: _W, ov: FastSheet, d: SummaryData) -> None:
    """Tổng quan, on its own: what the summary covers and when and from what it was made,
    the headline figures, then funding, status and progress tables (portrait, one page wide)."""
    widths = dict(enumerate(OVERVIEW_WIDTHS))
    for c, width in widths.items():
        ov.set_column(c, c, width)
    ov.write_string(0, 0, TITLE, w.title)
    r = 2
    for block, lines in (("Thông tin chung", d.context), ("Số liệu chính", d.overview)):
        ov.write_string(r, 0, block, w.subtitle)
        r += 1
        for label, value in lines:
            ov.write_string(r, 0, label, w.label)
            w.cell(ov, r, 1, value, "actions" if isinstance(value, int) else "", w.wrap)
            n = max(lines_needed(value, widths[1]) if isinstance(value, str) else 1, lines_needed(label, widths[0]))
            if n > 1:
                ov.set_row(r, LINE * n + 2)
            r += 1
        r += 1
    w.table(ov, d.funding_totals, r, title="Kinh phí theo nguồn (triệu đồng)", layout=False)
    r += len(d.funding_totals) + 4
    w.table(ov, d.status_counts, r, title="Tình trạng nộp của các trường", layout=False)
    r += len(d.status_counts) + 4
    if d.progress_counts is not None:
        w.table(ov, d.progress_counts, r, title="Tiến độ thực hiện các công việc", layout=False)
    for c, width in widths.items():  # the tables above set no widths; these fit both
        ov.set_column(c, c, width)
    ov.freeze_panes(0, 0)
    w.print_setup(ov, None, None, landscape=False)


def _write_pivots(w: _W, sheets: dict[str, FastSheet], d: SummaryData) -> None:
    """Theo trường ... Chủ trì, codes shown as their labels."""
    form = d.form
    school = labelled(d.by_school, form)
    folded = (FOLDED[S_SCHOOL] | {c for c in school.columns if c.startswith(FUNDING_PREFIX)}
              | ({"unit"} if len(d.units) <= 1 else set()))  # one office: its name heads each page
    w.table(sheets[S_SCHOOL], school, sheet=S_SCHOOL, distinct=d.distinct.get("by_school"), folded=folded)
    w.table(sheets[S_UNIT], d.by_unit, sheet=S_UNIT, widths={"unit": 30})
    w.table(sheets[S_CRIT], labelled(d.by_criterion, form), sheet=S_CRIT, distinct=d.distinct.get("by_criterion"),
            widths={"standard": 18})
    w.table(sheets[S_STD], labelled(d.by_standard, form), sheet=S_STD, widths={"standard": 36},
            distinct=d.distinct.get("by_standard"))
    fund = labelled(d.standard_funding, form)
    if len(fund.columns) > 2:
        fund = fund.assign(**{"Tổng": d.standard_funding.iloc[:, 2:].sum(axis=1)})
    w.table(sheets[S_FUND], fund, sheet=S_FUND, widths={"standard": 24})
    w.table(sheets[S_TIME], d.by_month.drop(columns=["start_month"]), sheet=S_TIME,
            distinct=d.distinct.get("by_month"))
    w.table(sheets[S_LEAD], d.by_lead, sheet=S_LEAD, widths={"lead": 26}, distinct=d.distinct.get("by_lead"))


# --------------------------------------------------------------------------- charts

# The Biểu đồ sheet: one block of rows per printed page (a row break after each), each chart
# inside its block, so no chart is ever cut by a page break.  The page is A4 landscape, one
# page wide (a scale of at most 100 %): 30 rows of 15 pt (450 pt) fit its 487 pt of height.
CHART_COLUMNS = 15
CHART_ROWS = 30  # rows per page block
CHART_HEIGHT_ROWS = 28  # rows a chart spans (its block's last two rows stay empty)
SCHOOLS_PER_CHART = 30
MAX_SCHOOL_CHARTS = 10


def _count_axis(top: float) -> dict:
    """A count's axis: whole numbers only."""
    return {"min": 0, "major_unit": max(1, math.ceil(top / 10)) if top else 1, "num_format": "0",
            "major_gridlines": {"visible": True}}


class _ChartData:
    """The hidden sheet of the charts' figures, filled block after block from its left."""

    def __init__(self, w: _W, data: FastSheet):
        self.w, self.data, self.col = w, data, 0

    def block(self, header: list[str], rows: list[list[Any]]) -> tuple[int, int, int]:
        """Columns col.. of the data sheet: header then rows; returns (first col, first row, last row)."""
        for c, h in enumerate(header):
            self.data.write_string(0, self.col + c, h)
        for r, values in enumerate(rows, start=1):
            for c, v in enumerate(values):
                self.w.cell(self.data, r, self.col + c, v)
        first = self.col
        self.col += len(header) + 1
        return first, 1, len(rows)


def _one_series(wb: xlsxwriter.Workbook, kind: str, name: str, at: tuple[int, int, int], title: str,
                labels: bool = False, legend: bool = False):
    """A chart of one series: categories in the block's first column, values in its second."""
    c0, r1, r2 = at
    ch = wb.add_chart({"type": kind})
    series = {"name": name, "categories": [S_CHART_DATA, r1, c0, r2, c0], "values": [S_CHART_DATA, r1, c0 + 1, r2, c0 + 1]}
    if labels:
        series["data_labels"] = {"value": True}
    ch.add_series(series)
    ch.set_title({"name": title})
    if not legend:
        ch.set_legend({"none": True})
    return ch


def _chart_budget_by_standard(wb, figures: _ChartData, d: SummaryData) -> list:
    std = d.by_standard
    if not len(std):
        return []
    labels = [f"{framework_short(f)} · {str(s).split(' - ')[0]}" for f, s in zip(std["framework"], std["standard"])]
    at = figures.block(["Tiêu chuẩn", "Kinh phí tối đa (tr.đ)"], [[lb, v] for lb, v in zip(labels, std["budget_max_mvnd"])])
    ch = _one_series(wb, "bar", "Kinh phí tối đa (tr.đ)", at, "Kinh phí theo tiêu chuẩn (triệu đồng)", labels=True)
    ch.set_y_axis({"reverse": True})
    return [[(ch, 0, CHART_COLUMNS)]]


def _chart_schools_by_criterion(wb, figures: _ChartData, d: SummaryData) -> list:
    crit = d.by_criterion
    if not len(crit):
        return []
    labels = [f"{framework_short(f)} · {c}" for f, c in zip(crit["framework"], crit["criterion"])]
    at = figures.block(["Tiêu chí", "Số trường"], [[lb, v] for lb, v in zip(labels, crit["schools"])])
    ch = _one_series(wb, "column", "Số trường", at, "Số trường theo tiêu chí")
    ch.set_y_axis(_count_axis(float(crit["schools"].max())))
    ch.set_x_axis({"num_font": {"rotation": -90, "size": 9}})
    return [[(ch, 0, CHART_COLUMNS)]]


def _charts_status_and_progress(wb, figures: _ChartData, d: SummaryData) -> list:
    """One page: submission status (pie) beside follow-up progress (columns)."""
    at = figures.block(["Tình trạng nộp", "Số trường"], d.status_counts.values.tolist())
    page = [(_one_series(wb, "pie", "Tình trạng nộp", at, "Tình trạng nộp", labels=True, legend=True), 0, 7)]
    pc = d.progress_counts
    if pc is not None and len(pc):
        at = figures.block(["Tiến độ", "Số công việc"], pc.values.tolist())
        ch = _one_series(wb, "column", "Số công việc", at, "Tiến độ thực hiện", labels=True)
        ch.set_y_axis(_count_axis(float(pc["actions"].max())))
        page.append((ch, 7, 8))
    return [page]


def _charts_progress_by_school(wb, ws: FastSheet, figures: _ChartData, d: SummaryData, pages_before: int) -> list:
    """Stacked bars of each school's actions by follow-up state, SCHOOLS_PER_CHART a page;
    too many schools for a few pages: a line pointing at Theo trường instead."""
    progress = d.progress_counts["progress"].tolist() if d.progress_counts is not None else []
    bs = d.by_school
    states = [p for p in progress if p in bs.columns]
    if not (len(bs) and states):
        return []
    if len(bs) > SCHOOLS_PER_CHART * MAX_SCHOOL_CHARTS:
        ws.write_string(pages_before * CHART_ROWS, 0, f"Tiến độ theo trường: {len(bs)} trường, quá nhiều cho một "
                                                      f"biểu đồ; xem trang {S_SCHOOL}.")
        return []
    names = school_labels(bs)
    c0, r1, r2 = figures.block(["Trường", *states], [[n, *row] for n, row in zip(names, bs[states].values.tolist())])
    parts = math.ceil(len(bs) / SCHOOLS_PER_CHART)
    top = float(bs[states].sum(axis=1).max())
    blocks = []
    for k in range(parts):
        a, b = r1 + k * SCHOOLS_PER_CHART, min(r2, r1 + (k + 1) * SCHOOLS_PER_CHART - 1)
        ch = wb.add_chart({"type": "bar", "subtype": "stacked"})
        for i, state in enumerate(states, start=1):
            ch.add_series({"name": [S_CHART_DATA, 0, c0 + i], "categories": [S_CHART_DATA, a, c0, b, c0],
                           "values": [S_CHART_DATA, a, c0 + i, b, c0 + i]})
        ch.set_title({"name": "Tiến độ theo trường" + (f" ({k + 1}/{parts})" if parts > 1 else "")})
        ch.set_x_axis(_count_axis(top))
        ch.set_y_axis({"reverse": True})
        ch.set_legend({"position": "bottom"})
        blocks.append([(ch, 0, CHART_COLUMNS)])
    return blocks


def _write_charts(wb: xlsxwriter.Workbook, w: _W, ws: FastSheet, data: FastSheet, d: SummaryData) -> None:
    """The charts, on their own sheet, one block of CHART_ROWS rows a page (a page break
    after each, so no chart is ever cut); their figures on a hidden sheet (labels made for
    an axis: a criterion with its framework, a school with its code where names repeat)."""
    ws.set_column(0, CHART_COLUMNS - 1, 8.43)
    figures = _ChartData(w, data)
    blocks = (_chart_budget_by_standard(wb, figures, d) + _chart_schools_by_criterion(wb, figures, d)
              + _charts_status_and_progress(wb, figures, d))
    blocks += _charts_progress_by_school(wb, ws, figures, d, len(blocks))
    for n, page in enumerate(blocks):
        top_row = n * CHART_ROWS
        for ch, c, span in page:
            ch.set_size({"width": span * 60 - 8, "height": CHART_HEIGHT_ROWS * 20})
            ws.insert_chart(top_row, c, ch, {"x_offset": 4, "y_offset": 4, "object_position": 3})
    rows = max(len(blocks), 1) * CHART_ROWS
    for r in range(rows):
        ws.set_row(r, LINE)
    ws.set_h_pagebreaks([n * CHART_ROWS for n in range(1, len(blocks))])
    ws.print_area(0, 0, rows - 1, CHART_COLUMNS - 1)
    w.print_setup(ws, None, None, landscape=True)  # one page wide: never larger than 100 %, so a block fits a page


def _write_detail(wb: xlsxwriter.Workbook, w: _W, d: SummaryData, detail_limit: int, detail_note: str) -> None:
    """Chi tiết: an Excel table, continued on further sheets past the row limit; past
    detail_limit rows (province scale) the rows live only in the export, and it says so."""
    det = d.detail
    if len(det) > detail_limit:
        ws = wb.add_worksheet(S_DETAIL, FastSheet)
        ws.set_column(0, 0, 120)
        ws.write_string(0, 0, f"Có {len(det):,} dòng kế hoạch, nhiều hơn giới hạn {detail_limit:,} dòng của bảng chi "
                              f"tiết trong tệp này.".replace(",", "."), w.title)
        ws.write_string(1, 0, f"Toàn bộ các dòng có trong tệp xuất dữ liệu: {detail_note} (rows.csv, rows.parquet); "
                              "có thể mở bằng Excel hoặc Power BI để lập PivotTable.")
        w.print_setup(ws, None, None, landscape=True)
        det = det.iloc[0:0]
    det = labelled(detail_for_people(det), d.form)  # only the rows written here (none past the limit)
    detail_headers = {**HEADERS, **d.column_labels}  # the action columns are headed as the form's fields
    per = MAX_ROWS - 1
    chunks = [det.iloc[i:i + per] for i in range(0, len(det), per)] or [det]
    for n, chunk in enumerate(chunks if len(det) or len(d.detail) <= detail_limit else []):
        name = S_DETAIL if n == 0 else f"{S_DETAIL} ({n + 1})"
        ws = wb.add_worksheet(name, FastSheet)
        cols = list(chunk.columns)
        lay = w.layout(ws, cols, S_DETAIL)
        ws.add_bulk(Bulk(1, [_plain(chunk[c]) for c in cols], [w.number_format(c, chunk[c]) for c in cols],
                         [w.wrap if wr else w.text for wr in lay.wrapped],
                         _heights(chunk, lay.widths, lay.wrapped, lay.hidden)))
        last = max(len(chunk), 1)
        ws.add_table(0, 0, last, len(cols) - 1, {
            "name": f"ChiTiet{n + 1}", "style": "Table Style Light 9", "autofilter": True,
            "columns": [{"header": detail_headers.get(c, c), "header_format": w.head} for c in cols]})
        lines = max(lines_needed(detail_headers.get(c, c), wd) for c, wd, h in zip(cols, lay.widths, lay.hidden)
                    if not h)
        ws.set_row(0, LINE * lines + 3)
        ws.freeze_panes(1, 0)
        w.print_setup(ws, lay, header_row=0)


def _write_lists(wb: xlsxwriter.Workbook, w: _W, d: SummaryData) -> None:
    """Lỗi, Chưa nộp, Tệp, Thay đổi: plain filtered lists, no totals.  Lỗi leaves
    info-level issues out unless ``d.show_info`` (the export always has them)."""
    issues = d.issues if d.show_info else d.issues[d.issues["severity"] != Severity.INFO.value]
    for name, df in ((S_ISSUES, labelled(issues.reset_index(drop=True), d.form)),
                     (S_MISSING, labelled(d.missing, d.form)),
                     (S_FILES, labelled(d.files, d.form, file_status=True)),
                     (S_CHANGES, labelled(d.changes.assign(row=[r or k for r, k in zip(d.changes["row"].fillna(""),
                                                                                         d.changes["key"])]), d.form))):
        ws = wb.add_worksheet(name, FastSheet)
        w.table(ws, df, totals=False, sheet=name)
        ws.autofilter(0, 0, max(len(df), 1), max(len(df.columns) - 1, 0))
