"""Write the summary workbook with XlsxWriter: pivot-style sheets computed in pandas, native
charts, an Excel table of every action.  Every text from a submission is written with
``write_string``; totals are formulas carrying the computed value as their cached result.
The file is written to a temporary name and renamed; an earlier summary is kept under a
timestamped name."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from kcl_xlsx.summary.fast_sheet import Bulk, FastSheet
from kcl_xlsx.base.output import replace_keeping_backup, temporary_beside
from kcl_xlsx.summary.tables import FUNDING_PREFIX, SummaryData, months_text

MAX_ROWS = 1_048_576
S_OVERVIEW, S_SCHOOL, S_UNIT, S_CRIT, S_STD, S_FUND, S_TIME, S_LEAD, S_DETAIL, S_ISSUES, S_MISSING, S_FILES, S_CHANGES = (
    "Tổng quan", "Theo trường", "Theo đơn vị", "Theo tiêu chí", "Theo tiêu chuẩn", "Nguồn kinh phí", "Thời gian",
    "Chủ trì", "Chi tiết", "Lỗi", "Chưa nộp", "Tệp", "Thay đổi")

HEADERS = {
    "school_code": "Mã trường", "school_name": "Tên trường", "unit": "Đơn vị quản lý", "level": "Cấp học",
    "framework": "Khung tiêu chí", "year": "Năm học", "section": "Phần", "standard": "Tiêu chuẩn",
    "criterion": "Mã tiêu chí", "criterion_name": "Tiêu chí", "target": "Kết quả cần đạt",
    "actions": "Công việc/giải pháp", "lead": "Chủ trì", "collaborators": "Phối hợp", "start": "Bắt đầu",
    "end": "Kết thúc", "budget_min_mvnd": "Kinh phí tối thiểu (tr.đ)", "budget_max_mvnd": "Kinh phí tối đa (tr.đ)",
    "funding_source": "Nguồn kinh phí", "status": "Tình trạng", "source_file": "Tệp nguồn",
    "source_sheet": "Trang nguồn", "source_row": "Dòng nguồn", "actions_n": "Số công việc", "criteria": "Số tiêu chí",
    "schools": "Số trường", "school_list": "Các trường", "month": "Tháng bắt đầu", "file": "Tệp",
    "classification": "Phân loại", "match": "Nhận diện theo", "errors": "Số lỗi", "warnings": "Số lưu ý",
    "size": "Dung lượng (byte)", "sha256": "SHA-256", "saved_at": "Trường lưu lúc", "received": "Nhận lúc",
    "collected_at": "Tổng hợp lần đầu", "template_id": "Mã mẫu", "late": "Muộn", "note": "Ghi chú",
    "severity": "Mức độ", "code": "Mã", "where": "Vị trí", "column": "Cột", "value": "Giá trị",
    "message": "Nội dung", "hint": "Cách sửa", "progress": "Tiến độ", "previous": "Bản trước", "change": "Thay đổi", "key": "Dòng (tiêu chí | công việc)",
    "submission": "Tình trạng nộp", "valid": "Nộp hợp lệ", "submitted_late": "Nộp muộn", "with_errors": "Nộp có lỗi", "missing": "Chưa nộp",
    "start_month": "Tháng bắt đầu (năm-tháng)", "end_month": "Tháng kết thúc (năm-tháng)",
    "form_version": "Phiên bản mẫu",
}
NUMERIC_SUMMED = ("actions", "schools", "criteria", "budget_min_mvnd", "budget_max_mvnd", "errors", "warnings",
                  "valid", "submitted_late", "with_errors", "missing")


def _h(col: str) -> str:
    if col == "actions":
        return "Số công việc"
    return HEADERS.get(col, col)


DETAIL_LIMIT = 100_000  # rows of the Chi tiết sheet; past it the detail is in the export only


def write_summary(data: SummaryData, out: Path, detail_limit: int = DETAIL_LIMIT, detail_note: str = "") -> Path | None:
    """Write ``out``; return the backup name of an earlier summary (None if there was none)."""
    out = Path(out)
    with temporary_beside(out, suffix=".xlsx") as tmp:
        _write(data, tmp, detail_limit, detail_note)
        return replace_keeping_backup(tmp, out)


class _W:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self.head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.num = wb.add_format({"num_format": "#,##0.0##"})
        self.int = wb.add_format({"num_format": "#,##0"})
        self.tot = wb.add_format({"bold": True, "top": 1, "num_format": "#,##0.0##"})
        self.tot_int = wb.add_format({"bold": True, "top": 1, "num_format": "#,##0"})
        self.totl = wb.add_format({"bold": True, "top": 1})
        self.text = wb.add_format({"text_wrap": False})

    def cell(self, ws, r: int, c: int, v: Any, col: str = "") -> None:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            ws.write_blank(r, c, None)
        elif isinstance(v, bool):
            ws.write_string(r, c, "có" if v else "")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            whole = float(v).is_integer() and not col.startswith(("budget", FUNDING_PREFIX))  # counts show as counts
            ws.write_number(r, c, float(v), self.int if whole else self.num)
        else:
            ws.write_string(r, c, str(v))

    def rows(self, ws: FastSheet, df: pd.DataFrame, first: int) -> None:
        """The frame's rows from row ``first`` on, as one bulk block (see fast_sheet): numbers
        as numbers (budgets with decimals, counts as counts), everything else as text."""
        ws.add_bulk(Bulk(first, [_plain(df[c]) for c in df.columns],
                         [self.number_format(c, df[c]) for c in df.columns]))

    def number_format(self, col: str, values: pd.Series):
        if col.startswith(("budget", FUNDING_PREFIX)):
            return self.num
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            return None  # a number among text shows as typed
        whole = values.dropna()
        return self.int if not len(whole) or bool((whole % 1 == 0).all()) else self.num

    def table(self, ws, df: pd.DataFrame, r0: int = 0, totals: bool = True, title: str = "",
              widths: dict[str, int] | None = None) -> tuple[int, int]:
        """Header row, data rows, a total row of SUM formulas (cached values); returns
        (first data row, last data row)."""
        if title:
            ws.write_string(r0, 0, title, self.title)
            r0 += 2
        cols = list(df.columns)
        for c, col in enumerate(cols):
            ws.write_string(r0, c, _h(col), self.head)
            ws.set_column(c, c, (widths or {}).get(col, 14 if col not in ("school_name", "standard", "criterion_name",
                                                                           "message", "file", "school_list") else 40))
        first = r0 + 1
        self.rows(ws, df, first)
        last = first + len(df) - 1
        if totals:
            tr = last + 1
            ws.write_string(tr, 0, "Tổng", self.totl)
            for c, col in enumerate(cols):
                if c and (col in NUMERIC_SUMMED or col not in HEADERS) and pd.api.types.is_numeric_dtype(df[col]):
                    value = float(df[col].sum())
                    counts = pd.api.types.is_integer_dtype(df[col]) or col in ("actions", "schools", "criteria")
                    fmt = self.tot_int if counts else self.tot
                    if len(df):
                        rng = f"{xl_rowcol_to_cell(first, c)}:{xl_rowcol_to_cell(last, c)}"
                        ws.write_formula(tr, c, f"=SUM({rng})", fmt, value)
                    else:
                        ws.write_number(tr, c, 0, fmt)
        ws.freeze_panes(r0 + 1, 0)
        return first, last


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


def _progress_chart(wb, ws, by_school: pd.DataFrame, labels: list[str]) -> None:
    """Theo trường: actions of each school by follow-up state, stacked."""
    if not len(by_school):
        return
    cols = list(by_school.columns)
    ch = wb.add_chart({"type": "bar", "subtype": "stacked"})
    for label in labels:
        if label in cols:
            c = cols.index(label)
            ch.add_series({"name": label, "categories": [ws.name, 1, 1, len(by_school), 1],
                           "values": [ws.name, 1, c, len(by_school), c]})
    ch.set_title({"name": "Tiến độ theo trường"})
    ws.insert_chart(len(by_school) + 4, 1, ch, {"x_scale": 1.5, "y_scale": 1.3})


class _Spans(NamedTuple):
    """First and last data rows of the tables the overview's charts draw."""

    status: tuple[int, int]  # Tổng quan: submission status
    progress: tuple[int, int] | None  # Tổng quan: follow-up progress, when there is one
    criteria: tuple[int, int]  # Theo tiêu chí
    standards: tuple[int, int]  # Theo tiêu chuẩn


_PIVOT_SHEETS = (S_SCHOOL, S_UNIT, S_CRIT, S_STD, S_FUND, S_TIME, S_LEAD)


def _write(d: SummaryData, path: Path, detail_limit: int = DETAIL_LIMIT, detail_note: str = "") -> None:
    """The workbook, sheet by sheet.  Cells are written in the order of the sheets (the
    overview's charts, which point into the pivot sheets, after those): the shared-string
    table takes the texts in the order they are written."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "nan_inf_to_errors": True})
    w = _W(wb)
    ov = wb.add_worksheet(S_OVERVIEW, FastSheet)
    pivots = {n: wb.add_worksheet(n, FastSheet) for n in _PIVOT_SHEETS}
    status, progress = _write_overview(w, ov, d)
    criteria, standards = _write_pivots(w, pivots, d)
    _overview_charts(wb, ov, pivots[S_SCHOOL], d, _Spans(status, progress, criteria, standards))
    _write_detail(wb, w, d, detail_limit, detail_note)
    _write_lists(wb, w, d)
    ov.activate()
    wb.close()


def _write_overview(w: _W, ov: FastSheet, d: SummaryData) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """Tổng quan: the headline figures, then funding, status and progress tables; returns
    the data rows of the status and progress tables (for the charts)."""
    ov.write_string(0, 0, "TỔNG HỢP KẾ HOẠCH CẢI TIẾN CHẤT LƯỢNG", w.title)
    ov.set_column(0, 0, 42)
    ov.set_column(1, 3, 18)
    r = 2
    for label, value in d.overview:
        ov.write_string(r, 0, label)
        w.cell(ov, r, 1, value, "actions" if isinstance(value, int) else "")
        r += 1
    r += 1
    ov.write_string(r, 0, "Kinh phí theo nguồn (triệu đồng)", w.title)
    _, fund_last = w.table(ov, d.funding_totals, r + 1)
    r = fund_last + 3
    ov.write_string(r, 0, "Tình trạng nộp của các trường", w.title)
    status = w.table(ov, d.status_counts, r + 1)
    progress = None
    if d.progress_counts is not None:
        r = status[1] + 3
        ov.write_string(r, 0, "Tiến độ thực hiện các công việc", w.title)
        progress = w.table(ov, d.progress_counts, r + 1)
    ov.set_column(0, 0, 42)  # the tables above set their own widths: the labels need this one
    ov.freeze_panes(0, 0)
    return status, progress


def _write_pivots(w: _W, sheets: dict[str, FastSheet], d: SummaryData) -> tuple[tuple[int, int], tuple[int, int]]:
    """Theo trường ... Chủ trì; returns the data rows of Theo tiêu chí and Theo tiêu chuẩn."""
    w.table(sheets[S_SCHOOL], d.by_school, widths={"source_file": 40})
    w.table(sheets[S_UNIT], d.by_unit, widths={"unit": 40})
    criteria = w.table(sheets[S_CRIT], d.by_criterion)
    standards = w.table(sheets[S_STD], d.by_standard)
    w.table(sheets[S_FUND], d.standard_funding.assign(**{"Tổng": d.standard_funding.iloc[:, 1:].sum(axis=1)})
            if len(d.standard_funding.columns) > 1 else d.standard_funding)
    w.table(sheets[S_TIME], d.by_month.drop(columns=["start_month"]))
    w.table(sheets[S_LEAD], d.by_lead)
    return criteria, standards


def _overview_charts(wb: xlsxwriter.Workbook, ov: FastSheet, school_sheet: FastSheet, d: SummaryData,
                     spans: _Spans) -> None:
    """The charts on Tổng quan (budget by standard, schools by criterion, status, progress),
    and the progress by school on Theo trường."""
    anchor = 3
    for kind, sheet, rows, cat, val, series, title, present in (
            ("bar", S_STD, spans.standards, 0, 4, "Kinh phí tối đa (tr.đ)", "Kinh phí theo tiêu chuẩn",
             len(d.by_standard)),
            ("column", S_CRIT, spans.criteria, 1, 3, "Số trường", "Số trường theo tiêu chí",
             len(d.by_criterion))):
        if present:
            ch = wb.add_chart({"type": kind})
            ch.add_series({"name": series, "categories": [sheet, rows[0], cat, rows[1], cat],
                           "values": [sheet, rows[0], val, rows[1], val]})
            ch.set_title({"name": title})
            ch.set_legend({"none": True})
            ov.insert_chart(anchor, 4, ch, {"x_scale": 1.4, "y_scale": 1.2})
            anchor += 20
    st_first, st_last = spans.status
    ch = wb.add_chart({"type": "pie"})
    ch.add_series({"name": "Tình trạng nộp", "categories": [S_OVERVIEW, st_first, 0, st_last, 0],
                   "values": [S_OVERVIEW, st_first, 1, st_last, 1], "data_labels": {"value": True}})
    ch.set_title({"name": "Tình trạng nộp"})
    ov.insert_chart(anchor, 4, ch)
    anchor += 16
    if spans.progress is not None and len(d.progress_counts):
        pr_first, pr_last = spans.progress
        ch = wb.add_chart({"type": "column"})
        ch.add_series({"name": "Số công việc", "categories": [S_OVERVIEW, pr_first, 0, pr_last, 0],
                       "values": [S_OVERVIEW, pr_first, 1, pr_last, 1], "data_labels": {"value": True}})
        ch.set_title({"name": "Tiến độ thực hiện"})
        ch.set_legend({"none": True})
        ov.insert_chart(anchor, 4, ch)
        _progress_chart(wb, school_sheet, d.by_school, d.progress_counts["progress"].tolist())


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
        det = det.iloc[0:0]
    det = detail_for_people(det)  # only the rows written here (none past the limit)
    detail_headers = {**HEADERS, **d.column_labels}  # the action columns are headed as the form's fields
    per = MAX_ROWS - 1
    chunks = [det.iloc[i:i + per] for i in range(0, len(det), per)] or [det]
    for n, chunk in enumerate(chunks if len(det) or len(d.detail) <= detail_limit else []):
        name = S_DETAIL if n == 0 else f"{S_DETAIL} ({n + 1})"
        ws = wb.add_worksheet(name, FastSheet)
        cols = list(chunk.columns)
        w.rows(ws, chunk, 1)
        last = max(len(chunk), 1)
        ws.add_table(0, 0, last, len(cols) - 1, {
            "name": f"ChiTiet{n + 1}", "style": "Table Style Light 9", "autofilter": True,
            "columns": [{"header": detail_headers.get(c, c)} for c in cols]})  # "actions": the text here, not a count
        for c, col in enumerate(cols):
            ws.set_column(c, c, 40 if col in ("school_name", "standard", "criterion_name", "target", "actions") else 14)
        ws.freeze_panes(1, 0)


def _write_lists(wb: xlsxwriter.Workbook, w: _W, d: SummaryData) -> None:
    """Lỗi, Chưa nộp, Tệp, Thay đổi: plain filtered lists, no totals."""
    for name, df in ((S_ISSUES, d.issues), (S_MISSING, d.missing), (S_FILES, d.files), (S_CHANGES, d.changes)):
        ws = wb.add_worksheet(name, FastSheet)
        w.table(ws, df, totals=False)
        ws.autofilter(0, 0, max(len(df), 1), max(len(df.columns) - 1, 0))
