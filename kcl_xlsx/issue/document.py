"""The official plan document (.docx, python-docx), and its PDF through LibreOffice.

Layout (Nghị định 30/2020/NĐ-CP on administrative documents): A4, Times New Roman, body
13 pt, margins top 20 mm, bottom 20 mm, left 30 mm, right 15 mm.  Three sections: the header
block, title, I and II in portrait; III (the nine-column table) in landscape, where its
columns get 25 cm instead of 16.5 and a 10-row plan takes two or three pages rather than
five; IV, Nơi nhận and the signature in portrait again.  The table's header row repeats on
every page (``w:tblHeader``), a row is not split across pages (``w:cantSplit``; Word and
LibreOffice still split a row taller than a page), and every page's header names the school
and the year with "Trang n/m" at its right.

Outputs are written to a temporary name beside the target and renamed into place; an
earlier file of the same name is kept under a timestamped name, never overwritten.
"""
from __future__ import annotations

import dataclasses
import hashlib
import shutil
import tempfile
from pathlib import Path

import docx
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from workbook_templates.document_text import DocumentText

from kcl_xlsx.base import office
from kcl_xlsx.base.output import OutputError, replace_keeping_backup, temporary_beside
from kcl_xlsx.check.checker import PlanRow, Submission
from kcl_xlsx.issue.document_data import ROW, SECTION, STANDARD, DocumentData, document_data
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.vocab import CheckStatus

FONT = "Times New Roman"
BODY_PT = 13
TABLE_PT = 12
HEADER_PT = 11  # the page header: still at least 11 pt on paper
# portrait margins (mm): top, bottom, left, right; the landscape section keeps the binding
# (left) margin of the portrait pages on its left too, so the pages file together
PORTRAIT = (20, 20, 30, 15)
LANDSCAPE = (20, 20, 25, 15)
# the nine columns' widths on the landscape page (mm; they add up to its 257 mm text width)
WIDTHS_MM = (10, 30, 42, 46, 37, 30, 28, 20, 14)


@dataclasses.dataclass
class Written:
    """Where a document went: the .docx, the PDF (when asked for), and the earlier files of
    those names, kept under timestamped names."""

    docx: Path
    pdf: Path | None = None
    backups: list[Path] = dataclasses.field(default_factory=list)
    unchanged: bool = False  # ``keep_same``: the document there already says exactly this; not rewritten


RENDERABLE = (CheckStatus.VALID, CheckStatus.ERRORS)  # a plan read with its template's spec, errors or not


class RenderError(OutputError):
    """A file that cannot become the document (not a readable plan); ``str()`` is one line."""


def render_submission(sub: Submission, out: Path, *, sources: Sources, text: DocumentText, pdf: bool = False,
                      rows: list[PlanRow] | None = None, timeout: float = office.CONVERT_TIMEOUT,
                      keep_same: bool = False) -> Written:
    """The document of a checked plan ``sub`` at ``out`` (and its PDF with ``pdf``).  A plan
    with errors is rendered as it is (the school needs its document; the caller says so); a
    file that is not a readable plan is a :class:`RenderError`.  ``keep_same``: a document
    at ``out`` made from the same content (see :func:`write_document`) is left as it is."""
    if sub.status not in RENDERABLE or not sub.level or not sub.year:
        raise RenderError(f"{sub.file}: không phải kế hoạch đọc được ({sub.status.label}), không tạo được văn bản "
                          f"/ not a readable plan ({sub.status.value}): no document")
    spec = sources.spec(sub.level, sub.year, sub.framework or None)
    return write_document(document_data(sub, spec, text, rows), Path(out), pdf=pdf, timeout=timeout,
                          keep_same=keep_same)


def write_document(data: DocumentData, out: Path, *, pdf: bool = False, timeout: float = office.CONVERT_TIMEOUT,
                   keep_same: bool = False) -> Written:
    """Write ``data`` to ``out`` (.docx) and, with ``pdf``, LibreOffice's PDF of it beside
    (same name, .pdf).  LibreOffice is asked for before anything is written.  The document
    records a digest of ``data`` (its core property ``identifier``): with ``keep_same``, a
    document at ``out`` with the same digest (and its PDF, when asked for) is left as it is,
    so a collect run re-renders only the plans that changed, without a backup for each."""
    out = Path(out)
    target = out.with_suffix(".pdf")
    if pdf:
        office.require_libreoffice(target)
    digest = content_digest(data)
    if keep_same and (target.is_file() or not pdf) and _digest_of(out) == digest:
        return Written(out, target if pdf else None, unchanged=True)
    written = Written(out)
    with temporary_beside(out) as tmp:
        build(data, digest).save(str(tmp))
        if pdf:  # converted from the finished temporary file: the PDF is exactly this document
            written.pdf = _pdf_of(tmp, target, timeout, written)
        backup = replace_keeping_backup(tmp, out)
    if backup:
        written.backups.insert(0, backup)
    return written


def _pdf_of(docx: Path, target: Path, timeout: float, written: Written) -> Path:
    work = Path(tempfile.mkdtemp(prefix="kcl-render-"))
    try:
        src = work / (target.stem + ".docx")
        shutil.copyfile(docx, src)
        made = office.convert(src, "pdf", work, timeout=timeout, target=target)
        with temporary_beside(target) as tmp:
            shutil.copyfile(made, tmp)
            backup = replace_keeping_backup(tmp, target)
        if backup:
            written.backups.append(backup)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def content_digest(data: DocumentData) -> str:
    """What the document says, as a digest (same plan and text, same digest)."""
    return "kcl-render:" + hashlib.sha256(repr(data).encode("utf-8")).hexdigest()[:32]


def _digest_of(path: Path) -> str | None:
    """The digest recorded in an existing document, or None (no file, not ours, unreadable)."""
    if not path.is_file():
        return None
    try:
        return docx.Document(str(path)).core_properties.identifier or None
    except Exception:  # anything there that python-docx cannot open is simply not the same document
        return None


def build(data: DocumentData, digest: str = "") -> Document:
    """The python-docx document of ``data``."""
    doc = Document()
    _styles(doc)
    props = doc.core_properties
    props.identifier = digest or content_digest(data)
    props.title = f"Kế hoạch cải tiến chất lượng giáo dục năm học {data.year}"
    props.author = props.last_modified_by = data.school_name or "kcl-xlsx"
    props.comments = "kcl-xlsx render"
    first = doc.sections[0]
    _page(first, landscape=False)
    _header_block(doc, data)
    _title(doc, data)
    _heading(doc, data.headings["purpose"])
    for i, text in enumerate(data.purpose, 1):
        _body(doc, f"{i}. {text}")
    _heading(doc, data.headings["basis"])
    for i, (text, subs) in enumerate(data.basis, 1):
        _body(doc, f"{i}. {text}")
        for line in subs:
            _body(doc, f"- {line}")
    table_section = doc.add_section(WD_SECTION.NEW_PAGE)
    _page(table_section, landscape=True)
    _heading(doc, data.headings["content"])
    _table(doc, data)
    closing = doc.add_section(WD_SECTION.NEW_PAGE)
    _page(closing, landscape=False)
    _heading(doc, data.headings["organisation"])
    for i, (heading, lines) in enumerate(data.organisation, 1):
        _body(doc, f"{i}. {heading}", bold=True)
        for line in lines:
            _body(doc, f"- {line}")
    _body(doc, data.closing)
    _para(doc, after=0)
    _signature(doc, data)
    for section in doc.sections:
        _page_header(section, data.page_header)
    return doc


# -- page set-up ---------------------------------------------------------------------------


def _styles(doc: Document) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):  # Vietnamese letters are not "ascii"
        fonts.set(qn(attr), FONT)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(6), 1.0


def _page(section, landscape: bool) -> None:
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    top, bottom, left, right = LANDSCAPE if landscape else PORTRAIT
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.header_distance = section.footer_distance = Mm(8)


def _text_width(section) -> int:
    return section.page_width - section.left_margin - section.right_margin


def _page_header(section, text: str) -> None:
    """School and year on the left, "Trang n/m" on the right (one header per section: the
    right tab stop is at the section's own text width)."""
    header = section.header
    header.is_linked_to_previous = False
    p = header.paragraphs[0]
    p.text = ""
    p.style = "Normal"  # not "Header": its tab stops (for a portrait Letter page) would come first
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.tab_stops.add_tab_stop(_text_width(section), WD_TAB_ALIGNMENT.RIGHT)
    _run(p, text, size=HEADER_PT, italic=True)
    _run(p, "\tTrang ", size=HEADER_PT)
    _field(p, "PAGE")
    _run(p, "/", size=HEADER_PT)
    _field(p, "NUMPAGES")


def _field(p, code: str) -> None:
    """A Word field (PAGE, NUMPAGES): begin, its code, separate, "1" as the value last shown, end;
    each part in a run of its own, as Word writes them."""

    def element(tag: str, text: str | None = None, **attrs: str):
        el = OxmlElement(tag)
        for name, value in attrs.items():
            el.set(qn(name), value)
        if text is not None:
            el.text = text
        return el

    for el in (element("w:fldChar", **{"w:fldCharType": "begin"}),
               element("w:instrText", f" {code} ", **{"xml:space": "preserve"}),
               element("w:fldChar", **{"w:fldCharType": "separate"}),
               element("w:t", "1"),
               element("w:fldChar", **{"w:fldCharType": "end"})):
        _run(p, "", size=HEADER_PT)._r.append(el)


# -- text ------------------------------------------------------------------------------------


def _run(p, text: str, *, size: float | None = None, bold: bool = False, italic: bool = False,
         underline: bool = False):
    run = p.add_run(text)
    run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
    if size:
        run.font.size = Pt(size)
    return run


def _para(container, text: str = "", *, align=None, size: float | None = None, bold: bool = False,
          italic: bool = False, underline: bool = False, after: float = 0, indent_mm: float = 0):
    p = container.add_paragraph()
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(after)
    if indent_mm:
        p.paragraph_format.first_line_indent = Mm(indent_mm)
    if text:
        _run(p, text, size=size, bold=bold, italic=italic, underline=underline)
    return p


def _body(doc, text: str, bold: bool = False):
    return _para(doc, text, align=WD_ALIGN_PARAGRAPH.JUSTIFY, bold=bold, after=6, indent_mm=10)


def _heading(doc, text: str):
    p = _para(doc, text, bold=True, after=6)
    p.paragraph_format.space_before = Pt(6)
    p.paragraph_format.keep_with_next = True
    return p


def _header_block(doc, data: DocumentData) -> None:
    """The two columns without borders: authority, school (bold) and Số | the national
    motto (bold, the second line underlined) and place and date (italic)."""
    # a little wider than the text (centred, 7.5 mm into each margin), as official headers are:
    # the school's name on one line where it can be, the motto (12 pt bold) on one line
    width = _text_width(doc.sections[0]) + Mm(15)
    left = Mm(78)
    t = doc.add_table(rows=2, cols=2)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    _grid(t, (left, width - left))
    center = WD_ALIGN_PARAGRAPH.CENTER
    a, b = t.cell(0, 0), t.cell(0, 1)
    _cell_text(a, data.authority or " ", align=center, size=12)  # Nghị định 30: 12-13 pt
    _para(a, data.school, align=center, size=12, bold=True)
    _cell_text(b, data.motto[0], align=center, size=12, bold=True)
    _para(b, data.motto[1], align=center, size=BODY_PT, bold=True, underline=True)
    _cell_text(t.cell(1, 0), data.number, align=center, size=BODY_PT)
    _cell_text(t.cell(1, 1), data.date_line, align=center, size=BODY_PT, italic=True)
    for cell in (t.cell(1, 0), t.cell(1, 1)):
        cell.paragraphs[0].paragraph_format.space_before = Pt(8)
    _para(doc, after=6)


def _title(doc, data: DocumentData) -> None:
    center = WD_ALIGN_PARAGRAPH.CENTER
    for line in data.title:
        _para(doc, line, align=center, size=14, bold=True)
    _para(doc, data.year_line, align=center, size=14, bold=True, after=12)


def _signature(doc, data: DocumentData) -> None:
    """Nơi nhận (bold italic, then the recipients) | the signer's title, room to sign, the name."""
    width = _text_width(doc.sections[-1])
    half = int(width * 0.5)
    t = doc.add_table(rows=1, cols=2)
    t.autofit = False
    _grid(t, (half, width - half))
    left, right = t.cell(0, 0), t.cell(0, 1)
    _cell_text(left, data.recipients_title, size=12, bold=True, italic=True)
    for line in data.recipients:
        _para(left, f"- {line}", size=12)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _cell_text(right, data.signer_title, align=center, size=BODY_PT, bold=True)
    for _ in range(4):
        _para(right, "", size=BODY_PT)
    _para(right, data.signer or " ", align=center, size=BODY_PT, bold=True)
    for row in t.rows:
        _cant_split(row)


# -- the table -----------------------------------------------------------------------------


def _table(doc, data: DocumentData) -> None:
    lines = data.lines
    t = doc.add_table(rows=1 + max(len(lines), 1), cols=len(WIDTHS_MM))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    widths = [Mm(w) for w in WIDTHS_MM]
    _grid(t, widths)
    center = WD_ALIGN_PARAGRAPH.CENTER
    head = t.rows[0]
    for cell, text in zip(head.cells, data.headers):
        _cell_text(cell, text, align=center, size=TABLE_PT, bold=True)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    _cant_split(head)  # before tblHeader: the schema's order of w:trPr
    _repeat_header(head)
    if not lines:
        cell = t.rows[1].cells[0].merge(t.rows[1].cells[-1])
        _cell_text(cell, "(Kế hoạch chưa có nội dung)", align=center, size=TABLE_PT, italic=True)
        return
    run_start: dict[int, int] = {}  # table row -> first table row of its criterion run
    for i, line in enumerate(lines, 1):
        row = t.rows[i]
        _cant_split(row)
        cells = row.cells
        if line.kind == SECTION:
            merged = cells[0].merge(cells[-1])
            _cell_text(merged, line.title, size=TABLE_PT, bold=True)
        elif line.kind == STANDARD:
            _cell_text(cells[0], line.tt, align=center, size=TABLE_PT, bold=True)
            merged = cells[1].merge(cells[-1])
            _cell_text(merged, line.title, size=TABLE_PT, bold=True)
        elif line.kind == ROW:
            if line.continues:
                run_start[i] = run_start.get(i - 1, i - 1)
            else:
                _cell_text(cells[0], line.tt, align=center, size=TABLE_PT)
                _cell_text(cells[1], line.cells[0], size=TABLE_PT)
            for cell, text in zip(cells[2:], line.cells[1:]):
                _cell_text(cell, text, size=TABLE_PT)
    # consecutive rows of one criterion: TT and criterion cells merged down (w:vMerge)
    ends: dict[int, int] = {}
    for i, start in run_start.items():
        ends[start] = max(ends.get(start, start), i)
    for start, end in ends.items():
        for col in (0, 1):
            t.cell(start, col).merge(t.cell(end, col))


def _grid(t, widths) -> None:
    """Fixed column widths (``autofit`` off: w:tblLayout fixed): the grid and every cell
    (Word reads the cells, LibreOffice the grid)."""
    for col, w in zip(t.columns, widths):
        col.width = w
    for row in t.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = w


def _cell_text(cell, text: str, *, align=None, size: float | None = None, bold: bool = False,
               italic: bool = False) -> None:
    """``text`` in ``cell``: one paragraph per line (the cell's first paragraph reused)."""
    parts = str(text).split("\n") if text else [""]
    first = cell.paragraphs[0]
    for k, part in enumerate(parts):
        p = first if k == 0 else cell.add_paragraph()
        p.paragraph_format.space_after = Pt(0)
        if align is not None:
            p.alignment = align
        if part:
            _run(p, part, size=size, bold=bold, italic=italic)


def _tr_flag(row, tag: str) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement(tag)
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _repeat_header(row) -> None:
    _tr_flag(row, "w:tblHeader")


def _cant_split(row) -> None:
    _tr_flag(row, "w:cantSplit")
