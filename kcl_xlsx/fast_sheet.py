"""Big tables written straight to worksheet XML, inside an XlsxWriter workbook.

XlsxWriter keeps one Python object per cell and spends ~5 µs on each: a province's
summary (tens of thousands of rows on Chi tiết, Lỗi, Tệp, Theo trường) took most of a
collect run's time and a gigabyte of memory there.  A :class:`FastSheet` is an ordinary
XlsxWriter worksheet (titles, headers, totals, tables, charts, freeze panes all work as
usual) that can also hold *bulk* row blocks: columns of values kept as they are and
rendered to ``<row>`` XML only when the workbook is closed, at about a microsecond a cell.

The XML is what XlsxWriter itself writes in constant-memory mode: numbers as ``<v>``,
text as inline strings (never formulas: a school's "=HYPERLINK(...)" stays text), the
row spans left out (they are optional).  Hooking in uses two XlsxWriter internals,
``_write_rows`` and ``_check_dimensions``; the summary tests read every sheet back with
python-calamine and LibreOffice and validate the package against the OOXML schemas, so a
change in XlsxWriter that broke this would be caught there.
"""
from __future__ import annotations

import math
import re
from typing import Any, Sequence

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_range
from xlsxwriter.worksheet import Worksheet

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed raw in XML: _xHHHH_ as Excel does
_CHUNK_ROWS = 2000


class Bulk:
    """Rows ``first``.. of the sheet: ``columns[c][i]`` is the value of row ``first + i``,
    column ``c``; ``formats[c]`` the number format of that column's numbers (None: general)."""

    def __init__(self, first: int, columns: Sequence[Sequence[Any]], formats: Sequence[Format | None],
                 text_formats: Sequence[Format | None] | None = None):
        self.first, self.columns = first, columns
        self.rows = len(columns[0]) if columns else 0
        self.last = self.first + self.rows - 1
        # a Format's index must be taken before the workbook closes, or it is not written
        self.styles = [f' s="{f._get_xf_index()}"' if f is not None else "" for f in formats]
        self.text_styles = [f' s="{f._get_xf_index()}"' if f is not None else ""
                            for f in (text_formats or [None] * len(columns))]


class FastSheet(Worksheet):
    """``wb.add_worksheet(name, worksheet_class=FastSheet)``, then :meth:`add_bulk`."""

    def __init__(self) -> None:
        super().__init__()
        self.bulks: list[Bulk] = []

    def add_bulk(self, bulk: Bulk) -> None:
        if not bulk.rows:
            return
        if any(b.first <= bulk.last and bulk.first <= b.last for b in self.bulks):
            raise ValueError("bulk row blocks overlap")
        self.bulks.append(bulk)
        self.bulks.sort(key=lambda b: b.first)
        self._check_dimensions(bulk.first, 0)
        self._check_dimensions(bulk.last, len(bulk.columns) - 1)

    def add_table(self, first_row: int, first_col: int, last_row: int, last_col: int, options=None):
        """XlsxWriter records every cell of a table's range in a dict, to refuse overlaps: two
        million entries (seconds, hundreds of MB) for a province's Chi tiết.  The table is
        added over its header and first row, then stretched to its real size: its range and
        autofilter range are the only fields that depend on the last row (no total row here)."""
        options = options or {}
        if options.get("total_row"):
            raise ValueError("FastSheet.add_table: total rows are not supported")
        result = super().add_table(first_row, first_col, min(last_row, first_row + 1), last_col, options)
        if result == 0 and last_row > first_row + 1:
            table = self.tables[-1]
            table["range"] = table["a_range"] = xl_range(first_row, first_col, last_row, last_col)
            if table.get("autofilter"):
                table["autofilter"] = table["a_range"]
        return result

    # -- writing (called by XlsxWriter when the workbook is closed) ----------------------------

    def _write_rows(self) -> None:
        if not self.bulks:
            super()._write_rows()
            return
        low, high = self.dim_rowmin, self.dim_rowmax
        try:
            start = low
            for bulk in self.bulks:
                self._rows_between(start, bulk.first - 1)
                self._write_bulk(bulk)
                start = bulk.last + 1
            self._rows_between(start, high)
        finally:
            self.dim_rowmin, self.dim_rowmax = low, high

    def _rows_between(self, first: int, last: int) -> None:
        """XlsxWriter's own rows (titles, headers, totals) outside the bulk blocks."""
        cells = [r for r in self.table if first <= r <= last and self.table[r]]
        if first > last or not (cells or any(first <= r <= last for r in self.row_info)):
            return
        self.dim_rowmin, self.dim_rowmax = first, last
        super()._write_rows()

    def _write_bulk(self, bulk: Bulk) -> None:
        letters = [xl_col_to_name(c) for c in range(len(bulk.columns))]
        out: list[str] = []
        for i, values in enumerate(zip(*bulk.columns)):
            r = bulk.first + i + 1
            out.append(f'<row r="{r}">')
            for c, v in enumerate(values):
                out.append(_cell(f"{letters[c]}{r}", v, bulk.styles[c], bulk.text_styles[c]))
            out.append("</row>")
            if i % _CHUNK_ROWS == _CHUNK_ROWS - 1:
                self.fh.write("".join(out))
                out.clear()
        self.fh.write("".join(out))


def _cell(ref: str, v: Any, style: str, text_style: str) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, bool):
        return _text(ref, "có", text_style) if v else ""
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return ""
        return f'<c r="{ref}"{style}><v>{v!r}</v></c>' if isinstance(v, float) else f'<c r="{ref}"{style}><v>{v}</v></c>'
    return _text(ref, str(v), text_style)


def _text(ref: str, s: str, style: str) -> str:
    if "&" in s or "<" in s or ">" in s:  # plain tests first: most texts need no escaping
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if not s.isprintable() and _CONTROL.search(s):
        s = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", s)
    space = ' xml:space="preserve"' if s[0].isspace() or s[-1].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{s}</t></is></c>'
