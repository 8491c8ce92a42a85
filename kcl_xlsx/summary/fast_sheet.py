"""Big tables written straight to worksheet XML, inside an XlsxWriter workbook.

XlsxWriter keeps one Python object per cell and spends ~5 µs on each: a province's
summary (tens of thousands of rows on Chi tiết, Lỗi, Tệp, Theo trường) took most of a
collect run's time and a gigabyte of memory there.  A :class:`FastSheet` is an ordinary
XlsxWriter worksheet (titles, headers, totals, tables, charts, freeze panes all work as
usual) that can also hold *bulk* row blocks: columns of values kept as they are and
rendered to ``<row>`` XML only when the workbook is closed, at about a microsecond a cell.

The XML is what XlsxWriter itself writes: numbers as ``<v>``, text as shared strings
(never formulas: a school's "=HYPERLINK(...)" stays text; a text that XlsxWriter would
take for rich-text markup is written inline, escaped), the row spans left out (they are
optional).  Hooking in uses XlsxWriter internals (``_write_rows``, ``_check_dimensions``,
the shared string table, a table's stored ranges); the tests read every sheet back with
python-calamine and LibreOffice and validate the package against the OOXML schemas, so a
change in XlsxWriter that broke this would be caught there.
"""
from __future__ import annotations

import itertools
import math
import re
import threading
import zipfile
from typing import Any, Sequence

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_col_to_name, xl_range, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed raw in XML: _xHHHH_ as Excel does
_CHUNK_ROWS = 2000
MAX_TEXT = 32767


class NonFiniteNumber(ValueError):
    """A summary cell was about to hold inf or NaN as a number (a value, or a formula's cached
    result).  Excel cannot load such a file (it "repairs" it) and the schema check does not
    catch it.  The check refuses such numbers and the tables count only finite ones (issue
    14): reaching this is a bug, so the writer stops instead of writing a wrong summary."""

    def __init__(self, sheet: str, ref: str, value: Any):
        super().__init__(f"{sheet}!{ref}: số không hữu hạn ({value!r}) không được ghi vào bảng tổng hợp "
                         f"(lỗi của kcl-xlsx, hãy báo lại) / a non-finite number reached the summary writer")
        self.sheet, self.ref, self.value = sheet, ref, value

    def __reduce__(self):  # raised in the export's process, raised again in the run's (see rows_export)
        return type(self), (self.sheet, self.ref, self.value)


def _finite_number(v: Any) -> bool:
    return not isinstance(v, float) or v - v == 0


class Bulk:
    """Rows ``first``.. of the sheet: ``columns[c][i]`` is the value of row ``first + i``,
    column ``c``; ``formats[c]`` the number format of that column's numbers (None: general)."""

    def __init__(self, first: int, columns: Sequence[Sequence[Any]], formats: Sequence[Format | None],
                 text_formats: Sequence[Format | None] | None = None, heights: Sequence[float] | None = None):
        self.first, self.columns = first, columns
        self.heights = heights  # row heights in points (None: the default height)
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
        self.shared_ids: dict[str, int] = {}  # text of the bulk cells -> shared string index

    def add_bulk(self, bulk: Bulk) -> None:
        if not bulk.rows:
            return
        if any(b.first <= bulk.last and bulk.first <= b.last for b in self.bulks):
            raise ValueError("bulk row blocks overlap")
        self.bulks.append(bulk)
        self.bulks.sort(key=lambda b: b.first)
        # Text goes to the workbook's shared string table now: XlsxWriter freezes the table
        # before it writes any worksheet.  Labels repeat by the thousand, so the sheet holds
        # small indexes instead of the same text again and again.
        table, ids = self.str_table, self.shared_ids
        add = table._get_shared_string_index
        for c, column in enumerate(bulk.columns):
            again = 0  # uses of a text already in the table: counted, not looked up again
            for i, v in enumerate(column):
                if v.__class__ is str:
                    if v in ids:
                        again += 1
                    elif v and not (v[0] == "<" and _rich_looking(v)):
                        ids[v] = add(_fit(v))  # the table itself is emptied when it is frozen
                elif isinstance(v, float) and v - v != 0 and v == v:  # inf (NaN: a missing value, blank)
                    raise NonFiniteNumber(self.name, xl_rowcol_to_cell(bulk.first + i, c), v)
            table.count += again  # the <sst count>: every use, as XlsxWriter's own lookup counts
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

    # -- the guard: no number cell and no cached result is ever inf or NaN ---------------------

    def _write_number(self, row: int, col: int, number, cell_format=None):
        if not _finite_number(number):
            raise NonFiniteNumber(self.name, xl_rowcol_to_cell(row, col), number)
        return super()._write_number(row, col, number, cell_format)

    def _write_formula(self, row: int, col: int, formula: str, cell_format=None, value=0):
        if not _finite_number(value):
            raise NonFiniteNumber(self.name, xl_rowcol_to_cell(row, col), value)
        return super()._write_formula(row, col, formula, cell_format, value)

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
        """Rendered a column at a time (one tight loop per column, no call per cell), then
        joined row by row in C."""
        for start in range(0, bulk.rows, _CHUNK_ROWS):
            stop = min(start + _CHUNK_ROWS, bulk.rows)
            numbers = range(bulk.first + start + 1, bulk.first + stop + 1)  # Excel rows
            shared = self.shared_ids
            columns = [_column_cells(xl_col_to_name(c), numbers, values[start:stop], bulk.styles[c],
                                     bulk.text_styles[c], shared) for c, values in enumerate(bulk.columns)]
            if bulk.heights is not None:
                opens = [f'<row r="{r}" ht="{h:g}" customHeight="1">' if h else f'<row r="{r}">'
                         for r, h in zip(numbers, bulk.heights[start:stop])]
            else:
                opens = [f'<row r="{r}">' for r in numbers]
            self.fh.write("".join(itertools.chain.from_iterable(zip(opens, *columns, itertools.repeat("</row>")))))


def _column_cells(letter: str, numbers: range, values: Sequence[Any], style: str, text_style: str,
                  shared: dict[str, int]) -> list[str]:
    """The <c> elements of one column: text as shared strings, numbers inline, anything
    unusual (a blank, a bool, NaN, text that looks like rich-text markup) through
    :func:`_cell`."""
    out = []
    for r, v in zip(numbers, values):
        kind = v.__class__
        if kind is str and (index := shared.get(v)) is not None:  # every text add_bulk registered
            out.append(f'<c r="{letter}{r}"{text_style} t="s"><v>{index}</v></c>')
        elif kind is int:
            out.append(f'<c r="{letter}{r}"{style}><v>{v}</v></c>')
        elif kind is float and v - v == 0:  # finite
            out.append(f'<c r="{letter}{r}"{style}><v>{v!r}</v></c>')
        elif isinstance(v, float) and v == v:  # inf (NaN is a missing value: blank)
            raise NonFiniteNumber("?", f"{letter}{r}", v)
        else:
            out.append(_cell(f"{letter}{r}", v, style, text_style))
    return out


def _cell(ref: str, v: Any, style: str, text_style: str) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, bool):
        return _text(ref, "có", text_style) if v else ""
    if isinstance(v, (int, float)):
        if isinstance(v, float) and math.isnan(v):
            return ""  # pandas' missing value: a blank cell
        if isinstance(v, float) and not math.isfinite(v):
            raise NonFiniteNumber("?", ref, v)
        return f'<c r="{ref}"{style}><v>{v!r}</v></c>' if isinstance(v, float) else f'<c r="{ref}"{style}><v>{v}</v></c>'
    return _text(ref, str(v), text_style)


def _rich_looking(s: str) -> bool:
    # XlsxWriter writes a shared string "<r>...</r>" as raw rich-text XML: such a text from a
    # school is written inline (escaped) instead
    return s.startswith("<r>") and s.endswith("</r>")


def _fit(s: str) -> str:
    """Excel's cell limit: 32,767 UTF-16 units (a province's "Các trường" list can pass it)."""
    if len(s) <= MAX_TEXT // 2 or len(s.encode("utf-16-le")) // 2 <= MAX_TEXT:
        return s
    out = s[:MAX_TEXT - 1]
    while len(out.encode("utf-16-le")) // 2 > MAX_TEXT - 1:
        out = out[:-1]
    return out + "…"


def _text(ref: str, s: str, style: str) -> str:
    s = _fit(s)
    if "&" in s or "<" in s or ">" in s:  # plain tests first: most texts need no escaping
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if not s.isprintable() and _CONTROL.search(s):
        s = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", s)
    space = ' xml:space="preserve"' if s[0].isspace() or s[-1].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{s}</t></is></c>'


# --------------------------------------------------------------------------- the shared strings


class FastWorkbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook whose shared string table is written a string at a time only
    where XlsxWriter's escaping has something to do: a summary's 50,000 texts went through
    three regular expressions each (0.25 s of a 10,000-school workbook); a plain text is
    written as XlsxWriter writes it, the others by XlsxWriter itself (the same bytes).

    Its parts are deflated at level :data:`DEFLATE_LEVEL`, not zlib's default 6: a
    10,000-school summary is 23 MB of XML, which level 6 took 0.39 s to pack into 2.70 MB
    and level 3 packs in 0.14 s into 2.89 MB (measured); every reader inflates any level."""

    def _get_packager(self):
        return _Packager()

    def _store_workbook(self) -> None:
        _DEFLATE.level = DEFLATE_LEVEL
        try:
            super()._store_workbook()
        finally:
            _DEFLATE.level = None


DEFLATE_LEVEL = 3
_DEFLATE = threading.local()  # the level of the workbook this thread is closing (None: zlib's default)


class _LevelledZipFile(zipfile.ZipFile):
    """XlsxWriter opens its zip without a compression level (there is no option for one):
    this stands in for its ``ZipFile`` and takes the level of the FastWorkbook being closed
    in this thread; any other workbook gets ``compresslevel=None``, XlsxWriter's own."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("compresslevel", getattr(_DEFLATE, "level", None))
        super().__init__(*args, **kwargs)


xlsxwriter.workbook.ZipFile = _LevelledZipFile  # type: ignore[misc]


class _Packager(Packager):
    def _write_shared_strings_file(self) -> None:  # XlsxWriter's own, with the class below
        if not self.workbook.str_table.count:
            return
        sst = _SharedStrings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class _SharedStrings(SharedStrings):
    def _write_sst_strings(self) -> None:
        plain: list[str] = []
        for s in self.string_table.string_array:
            # nothing to escape (&, <, >, control characters, a literal _xHHHH_), no space to
            # keep at either end, not rich text: <si><t>text</t></si>
            if (s and s.isprintable() and s[0] != " " and s[-1] != " " and "_x" not in s
                    and "&" not in s and "<" not in s and ">" not in s):
                plain.append(f"<si><t>{s}</t></si>")
                continue
            self.fh.write("".join(plain))
            plain = []
            self._write_si(s)
        self.fh.write("".join(plain))

