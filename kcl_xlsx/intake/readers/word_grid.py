"""A Word document's text and tables as a person sees them, from its XML.

python-docx opens the package and parses ``word/document.xml`` (its lxml parser does not
resolve entities, and the pre-flight has already refused any DTD); this module walks the
elements itself, because python-docx's own view is not what a reader of the plan sees:

* ``row.cells`` repeats a horizontally merged cell (``w:gridSpan``) and cannot tell a
  vertical merge's continuation (``w:vMerge``) from its start; here every grid position
  points at the cell that covers it (:class:`Cell` ``row``/``col`` = where it starts);
* ``Paragraph.text`` leaves out runs inside a tracked insertion (``w:ins``); here inserted
  text is kept and deleted text (``w:del``, ``w:moveFrom``, ``w:delText``) dropped, as Word
  shows the document with all changes accepted;
* a cell may hold several paragraphs (kept, one per line) and a nested table (its text
  kept, one line per row); a table nested in a layout table is found like any other.

Tables are numbered in document order, nested ones included: "Bảng 2" is the second table
a person meets reading the document from the top.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator

from docx.oxml.ns import qn

W_P, W_TBL, W_TR, W_TC, W_T = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:t")
W_TAB, W_BR, W_CR = qn("w:tab"), qn("w:br"), qn("w:cr")
W_SDT, W_SDT_CONTENT, W_CUSTOM_XML = qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")
W_TC_PR, W_TR_PR, W_GRID_SPAN, W_V_MERGE, W_GRID_BEFORE = (
    qn("w:tcPr"), qn("w:trPr"), qn("w:gridSpan"), qn("w:vMerge"), qn("w:gridBefore"))
W_VAL = qn("w:val")
# Content Word does not show as the cell's text: deleted or moved-away runs, the fallback
# copy of a drawing (mc:Fallback repeats mc:Choice), text boxes anchored in a paragraph.
_HIDDEN = frozenset({qn("w:del"), qn("w:moveFrom"), qn("w:txbxContent"),
                     "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"})
# Cells a row may claim (a hostile gridSpan of 10**9 must not build a huge row).
MAX_SPAN = 64


@dataclasses.dataclass(frozen=True)
class Cell:
    row: int  # 0-based row of the table where this cell starts (a vertical merge's first row)
    col: int  # 0-based grid column where it starts (a horizontal merge's first column)
    text: str  # its paragraphs, one per line


class Table:
    """One ``w:tbl``: its rows are counted at once, its grid built only as far as it is asked
    for (choosing the plan's table reads a few header rows of each; a table of thousands of
    rows is refused before its cells are built)."""

    HEAD_ROWS = 8  # rows enough for any header: what the width is measured on

    def __init__(self, number: int, element) -> None:
        self.number = number  # 1-based, in document order (nested tables included)
        self.element = element
        self._trs = list(_rows(element))
        self._grid: list[list[Cell | None]] = []

    @property
    def row_count(self) -> int:
        return len(self._trs)

    def head(self, n: int) -> list[list[Cell | None]]:
        """The grid's first ``n`` rows: position (r, c) -> the cell covering it, None where
        no cell is."""
        while len(self._grid) < min(n, len(self._trs)):
            r = len(self._grid)
            self._grid.append(_grid_row(self._trs[r], r, self._grid[-1] if self._grid else None))
        return self._grid[:n]

    @property
    def grid(self) -> list[list[Cell | None]]:
        return self.head(len(self._trs))

    @property
    def width(self) -> int:
        return max((len(r) for r in self.head(self.HEAD_ROWS)), default=0)


def paragraph_text(p) -> str:
    """The text of one ``w:p`` as Word shows it with tracked changes accepted."""
    out: list[str] = []
    _runs_text(p, out)
    return "".join(out)


def _runs_text(element, out: list[str]) -> None:
    for child in element:
        tag = child.tag
        if tag in _HIDDEN or not isinstance(tag, str):
            continue
        if tag == W_T:
            out.append(child.text or "")
        elif tag == W_TAB:
            out.append("\t")
        elif tag in (W_BR, W_CR):
            out.append("\n")
        elif tag == W_P or tag == W_TBL:
            continue  # a text box's paragraphs are skipped above; nothing else nests them
        else:
            _runs_text(child, out)


def block_lines(element) -> Iterator[str]:
    """The lines of a body, a cell or a table: each paragraph, each nested table's rows."""
    for child in _content(element):
        if child.tag == W_P:
            yield paragraph_text(child)
        elif child.tag == W_TBL:
            for tr in _rows(child):
                cells = [" ".join(t for t in block_lines(tc) if t.strip()) for tc in _cells(tr)]
                yield " | ".join(c for c in cells if c)


def paragraphs(element) -> Iterator[str]:
    """Every paragraph's text under ``element`` (a table's cells included), in reading
    order: the lines of a header block laid out as a table come out one by one."""
    for p in element.iter(W_P):
        if not _inside_hidden(p, element):
            yield paragraph_text(p)


def _content(element) -> Iterator:
    """Children, looking through the wrappers that hold content without being it (content
    controls, custom XML)."""
    for child in element:
        if child.tag in (W_SDT, W_CUSTOM_XML):
            inner = child.find(W_SDT_CONTENT) if child.tag == W_SDT else child
            if inner is not None:
                yield from _content(inner)
        elif child.tag not in _HIDDEN:
            yield child


def _rows(tbl) -> Iterator:
    return (c for c in _content(tbl) if c.tag == W_TR)


def _cells(tr) -> Iterator:
    return (c for c in _content(tr) if c.tag == W_TC)


def tables(body) -> list[Table]:
    """Every table of the document, outer before inner, in reading order."""
    found = [t for t in body.iter(W_TBL) if not _inside_hidden(t, body)]
    return [Table(n, t) for n, t in enumerate(found, 1)]


def _inside_hidden(element, stop) -> bool:
    parent = element.getparent()
    while parent is not None and parent is not stop:
        if parent.tag in _HIDDEN:
            return True
        parent = parent.getparent()
    return False


def _grid_row(tr, r: int, above: list[Cell | None] | None) -> list[Cell | None]:
    """Row ``r`` of the grid.  A horizontally merged cell covers its gridSpan columns; a
    ``vMerge`` continuation covers its position with the cell above it (the merge's first
    cell); ``gridBefore`` leaves the first positions empty."""
    row: list[Cell | None] = [None] * _grid_before(tr)
    for tc in _cells(tr):
        span, merge = _tc_props(tc)
        c = len(row)
        on_top = above[c] if merge == "continue" and above is not None and c < len(above) else None
        row.extend([on_top if on_top is not None else Cell(r, c, _cell_text(tc))] * span)
    return row


def _cell_text(tc) -> str:
    return "\n".join(line for line in block_lines(tc) if line.strip())


def _grid_before(tr) -> int:
    pr = tr.find(W_TR_PR)
    el = pr.find(W_GRID_BEFORE) if pr is not None else None
    return _int(el.get(W_VAL) if el is not None else None, 0)


def _tc_props(tc) -> tuple[int, str]:
    """(gridSpan, "restart" | "continue" | "")."""
    pr = tc.find(W_TC_PR)
    if pr is None:
        return 1, ""
    span_el, merge_el = pr.find(W_GRID_SPAN), pr.find(W_V_MERGE)
    span = _int(span_el.get(W_VAL) if span_el is not None else None, 1)
    merge = "" if merge_el is None else ("restart" if merge_el.get(W_VAL) == "restart" else "continue")
    return span, merge


def _int(text: str | None, default: int) -> int:
    try:
        return max(0 if default == 0 else 1, min(int(text), MAX_SPAN)) if text is not None else default
    except ValueError:
        return default
