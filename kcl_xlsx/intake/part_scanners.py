"""The streaming scanners of :mod:`kcl_xlsx.intake.preflight`: what each part of a zip
package is checked for, and the checks themselves.

:func:`scan_plan` says which scanners read which part (every XML part: DOCTYPE/ENTITY
declarations; worksheets and shared strings, or ODS ``content.xml``: also UTF-16, text
runs longer than Excel's cell limit, and cells, merges and dimensions beyond the
:class:`~kcl_xlsx.intake.preflight.Bounds`).  The run in preflight decompresses each part
in chunks, counts them against the size bounds, and feeds them to its scanners.

A scanner sees a part only as a sequence of byte chunks and uses regular expressions, not
an XML parser; it raises :class:`Reject` on its first finding, which the run turns into
the file's issue.  Its state carries what a chunk boundary may cut in two.
"""
from __future__ import annotations

import codecs
import functools
import html
import posixpath
import re
import zipfile
from typing import Callable, Iterator, NoReturn

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from kcl_xlsx.intake.bounds import Bounds
from kcl_xlsx.intake.package_meta import parse_xml
from kcl_xlsx.intake.sniff import SMALL_MEMBER_BYTES, read_member_head
from kcl_xlsx.spec.issues import Code


# The codes a scanner raises (the whole list, with the run's own, is in preflight).
CORRUPT = Code.FILE_CORRUPT.value
XML_ENTITIES = Code.FILE_XML_ENTITIES.value
OUT_OF_BOUNDS = Code.FILE_OUT_OF_BOUNDS.value
CELL_TOO_LONG = Code.FILE_CELL_TOO_LONG.value
PART_MISSING = Code.FILE_PART_MISSING.value
PART_OUTSIDE = Code.FILE_PART_OUTSIDE.value
PART_TOO_LARGE = Code.FILE_PART_TOO_LARGE.value
DECLARED_COUNT = Code.FILE_DECLARED_COUNT.value
NOT_UTF8 = Code.FILE_NOT_UTF8.value
TOO_MANY_SHEETS = Code.FILE_TOO_MANY_SHEETS.value
DUPLICATE_SHEET = Code.FILE_DUPLICATE_SHEET.value
STYLES_PART = "xl/styles.xml"
WORKBOOK_PART = "xl/workbook.xml"

# A tag longer than this cannot be a cell/row tag; carrying it between chunks would turn a
# hostile part into quadratic copying.
MAX_TAG_BYTES = 64 * 1024


class Reject(Exception):
    """Stops the scan at the first error; ``ctx`` fills the issue message."""

    def __init__(self, code: str, **ctx: object) -> None:
        super().__init__(code)
        self.code, self.ctx = code, ctx


def reject(code: str, **ctx: object) -> NoReturn:
    raise Reject(code, **ctx)


# --------------------------------------------------------------------------- scan plan

_WORKSHEET_REL_TYPES = ("/worksheet", "/macrosheet", "/dialogsheet")


def scan_plan(zf: zipfile.ZipFile, data: bytes, kind: str, bounds: Bounds) -> Callable[[str], list[Scanner]]:
    """Which scanners read which part: every XML part is checked for DTDs; worksheets and
    shared strings (ODS: content.xml) also for bounds and text length."""
    sheets: set[str] = set()
    strings: set[str] = set()
    if kind in ("xlsx", "xlsm"):
        sheets, strings = _xlsx_sheet_and_string_parts(zf, data)
    elif kind == "ods":
        sheets = strings = {"content.xml"}
    elif kind in ("docx", "odt"):
        # a Word plan's text is in its main part: read as text (UTF-8, runs bounded); the
        # sheet bounds mean nothing there (the reader bounds the plan table's rows itself)
        strings = {"word/document.xml"} if kind == "docx" else {"content.xml"}
    bounds_scanner = _OdsBoundsScanner if kind == "ods" else _SheetBoundsScanner

    def scanners_for(name: str) -> list[Scanner]:
        lowered = name.lower()
        found: list[Scanner] = [] if lowered.endswith(".bin") else [_DtdScanner()]
        if lowered in sheets or lowered in strings:
            found += [_Utf8Guard(), _TextRunScanner(bounds.max_text_run)]
        if lowered in sheets:
            found.append(bounds_scanner(bounds))
        if kind in ("xlsx", "xlsm", "xlsb") and (lowered in sheets or lowered in strings or lowered == STYLES_PART):
            found.append(_DeclaredCountScanner(bounds.max_declared_count))
        if kind in ("xlsx", "xlsm", "xlsb") and lowered == WORKBOOK_PART:
            found.append(_SheetCountScanner(bounds.max_sheets))
        return found

    return scanners_for


def _xlsx_sheet_and_string_parts(zf: zipfile.ZipFile, data: bytes) -> tuple[set[str], set[str]]:
    """Worksheet and shared-string part names (lower case).  Readers find sheets through
    ``xl/_rels/workbook.xml.rels``, not by folder, so a sheet hidden elsewhere is found too.
    The package's structure is checked on the way, each finding named: the workbook part
    missing, the relationships part too large to be a plan's (thousands of sheets), a sheet
    or shared-strings relationship pointing outside the package or at a part it lacks."""
    names = {n.lower(): n for n in zf.namelist()}
    if WORKBOOK_PART not in names:
        reject(PART_MISSING, part=WORKBOOK_PART, value="[Content_Types].xml")
    sheets = {n for n in names if n.startswith("xl/worksheets/") and not n.endswith("/")}
    strings = {"xl/sharedstrings.xml"}
    rels_name = names.get("xl/_rels/workbook.xml.rels")
    if rels_name is None:
        return sheets, strings
    xml = read_member_head(zf, rels_name, limit=SMALL_MEMBER_BYTES + 1, data=data)
    if len(xml) > SMALL_MEMBER_BYTES:  # a plan's workbook relationships are a few KB
        reject(PART_TOO_LARGE, part=rels_name, value=f"hơn {SMALL_MEMBER_BYTES // 1024} KB, "
                                                      f"khai báo {zf.getinfo(rels_name).file_size} byte")
    for rel_type, target in _relationships(xml, rels_name):
        part = _resolve_target(target)
        is_sheet, is_strings = rel_type.endswith(_WORKSHEET_REL_TYPES), rel_type.endswith("/sharedStrings")
        if not (is_sheet or is_strings):
            continue
        if part == ".." or part.startswith("../"):
            reject(PART_OUTSIDE, part=rels_name, value=target)
        if part not in names:
            reject(PART_MISSING, part=part, value=rels_name)
        (sheets if is_sheet else strings).add(part)
    return sheets, strings


def _relationships(xml: bytes, part: str) -> Iterator[tuple[str, str]]:
    if not xml:
        return  # missing or unreadable: streaming the part reports it
    try:
        root = parse_xml(xml, forbid_dtd=True)
    except DefusedXmlException:
        reject(XML_ENTITIES, part=part)
    except SafeET.ParseError as exc:
        reject(CORRUPT, part=part, value=f"{part}: {exc}")
    for rel in root.iter():
        if rel.tag.endswith("Relationship") and rel.get("TargetMode") != "External":
            yield rel.get("Type", ""), rel.get("Target", "")


def _resolve_target(target: str) -> str:
    path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    return posixpath.normpath(path).lower()


# --------------------------------------------------------------------------- scanners
#
# A scanner sees a part as a sequence of byte chunks and raises Reject on a finding.
# Anything it looks for may be split between two chunks; each one says how it copes.


class Scanner:
    def feed(self, chunk: bytes) -> None:
        raise NotImplementedError


DTD = re.compile(  # UTF-8 and UTF-16 (either byte order): optional NUL between letters
    rb"<\x00?!\x00?(?:D\x00?O\x00?C\x00?T\x00?Y\x00?P\x00?E|E\x00?N\x00?T\x00?I\x00?T\x00?Y)", re.I)


class _DtdScanner(Scanner):
    """Any DOCTYPE or ENTITY declaration: Excel and LibreOffice never write one."""

    OVERLAP = 32  # longer than the longest match, so a split declaration is seen whole

    def __init__(self) -> None:
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        window = self.tail + chunk
        # A declaration starts with "<!" (UTF-16: "<\0!"); a search for the rare "!" is
        # nearly free, "<!" costs a little more (XML is full of "<"), the regex much more.
        if b"!" in window and (b"<!" in window or b"<\x00!" in window) and DTD.search(window):
            reject(XML_ENTITIES)
        self.tail = window[-self.OVERLAP:]


class _Utf8Guard(Scanner):
    """The content scanners read bytes as UTF-8/ASCII; a UTF-16 part would slip past them.
    Text that is not UTF-8 is named as such (python-calamine fails on it, which read as
    "the parser crashed")."""

    # the XML declaration (after an optional UTF-8 byte-order mark) naming its encoding
    DECLARED = re.compile(rb'(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\sencoding\s*=\s*["\']([^"\']{1,40})["\']')

    def __init__(self) -> None:
        self.first = True
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.seen = 0
        self.other = ""  # the encoding the part declares when it is not UTF-8

    def feed(self, chunk: bytes) -> None:
        if self.first and (chunk[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in chunk[:8]):
            reject(CORRUPT, value="UTF-16 XML part")
        if self.first:
            declared = self.DECLARED.match(chunk)
            if declared and declared[1].lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
                self.other = declared[1].decode("ascii", "replace")
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]  # a UTF-8 byte-order mark: not text
                self.seen += 3
        self.first = False
        if not chunk.isascii():
            if self.other:  # text beyond ASCII in a part that says it is not UTF-8
                reject(NOT_UTF8, value=f'encoding="{self.other}"')
            try:
                self.decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = exc.object[exc.start:exc.start + 4].hex(" ")
                reject(NOT_UTF8, value=f"byte {self.seen + exc.start}: {bad}")
        self.seen += len(chunk)


class _TagScanner(Scanner):
    """Base for scanners that look at whole start tags: a tag cut by the chunk end is
    carried over and completed by the next chunk."""

    def __init__(self) -> None:
        self.carry = b""

    def feed(self, chunk: bytes) -> None:
        window = self.carry + chunk
        cut = window.rfind(b"<")
        if cut >= 0 and window.find(b">", cut) < 0:
            window, self.carry = window[:cut], window[cut:]
            if len(self.carry) > MAX_TAG_BYTES:
                reject(CORRUPT, value="XML tag longer than 64 KB")
        else:
            self.carry = b""
        self.scan(window)

    def scan(self, window: bytes) -> None:
        """Look at the complete tags of ``window``."""
        raise NotImplementedError


class _DeclaredCountScanner(_TagScanner):
    """A ``count``/``uniqueCount`` attribute beyond any plan's size, found before a parser
    reserves memory for it (python-calamine aborted on 2**31 declared shared strings)."""

    # the attribute from its "ount" on; its name ([cC] or "uniqueC" before) is checked by hand
    VALUE = re.compile(rb'ount\s*=\s*["\'](\d{7,})["\']')

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def scan(self, window: bytes) -> None:
        """Every ``count``/``Count``/``uniqueCount`` attribute of 7 digits or more, inside a
        tag (after a "<" with no ">" since: not a school's text).  Found from each "ount"
        by a plain search: a regex walking every tag took a third of the pre-flight's time
        on a sheet whose formulas say COUNTIF (measured: 1.7 ms of a 5 ms pre-flight)."""
        at = window.find(b"ount")
        while at >= 0:
            value = self.VALUE.match(window, at)
            if value is not None and window[at - 1:at] in (b"c", b"C"):
                start = at - 7 if window[at - 7:at - 1] == b"unique" and window[at - 1:at] == b"C" else at - 1
                inside_tag = window.rfind(b"<", 0, start) > window.rfind(b">", 0, start)
                if start > 0 and window[start - 1:start].isspace() and inside_tag and int(value[1]) > self.limit:
                    name = window[start:at + 4].decode()
                    reject(DECLARED_COUNT, value=f'{name}="{int(value[1])}"', limit=self.limit)
            at = window.find(b"ount", at + 4)


class _SheetCountScanner(_TagScanner):
    """The sheets a workbook lists, counted before a parser reads each of them."""

    SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet[\s/>][^<>]*")
    NAME = re.compile(rb'\sname\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit, self.count = limit, 0
        self.names: set[str] = set()

    def scan(self, window: bytes) -> None:
        for tag in self.SHEET.findall(window):
            self.count += 1
            if self.count > self.limit:
                reject(TOO_MANY_SHEETS, count=f"hơn {self.limit}", limit=self.limit)
            name = self.NAME.search(tag)
            if name:  # Excel compares sheet names without case; two of one name is no Excel file
                text = html.unescape((name[1] if name[1] is not None else name[2]).decode("utf-8", "replace"))
                if text.casefold() in self.names:
                    reject(DUPLICATE_SHEET, sheet=text, value=text)
                self.names.add(text.casefold())


class _BoundsCheck:
    def __init__(self, bounds: Bounds) -> None:
        self.max_row, self.max_col = bounds.max_row, bounds.max_col

    def check(self, col: int, row: int) -> None:
        if row > self.max_row or col > self.max_col:
            self.out_of_bounds(col, row)

    def out_of_bounds(self, col: int, row: int) -> NoReturn:
        reject(OUT_OF_BOUNDS, cell=f"{_col_letters(col)}{row}",
                max_row=self.max_row, max_col=_col_letters(self.max_col))


_DIGITS = b"0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _at_most(limit: str, alphabet: str, first: str) -> str:
    """A regex for the strings over ``alphabet`` (first character from ``first``) that
    are <= ``limit`` in (length, then lexicographic) order: the order of row numbers and,
    since columns are bijective base 26, of column letters too.  Alphabets are runs of
    consecutive characters, written as ranges, and no quantifier is written where none is
    needed: the regex runs on every cell of every sheet, and "[A-Z]" matches much faster
    than "[ABC...Z]{1}" (same language)."""
    alts = [_chars(first) + _repeat(_chars(alphabet), 0, len(limit) - 2)] if len(limit) > 1 else []
    for i, ch in enumerate(limit):
        smaller = "".join(c for c in (first if i == 0 else alphabet) if c < ch)
        if smaller:
            rest = len(limit) - i - 1
            alts.append(re.escape(limit[:i]) + _chars(smaller) + _repeat(_chars(alphabet), rest, rest))
    alts.append(re.escape(limit))
    return "(?:" + "|".join(alts) + ")"


def _chars(run: str) -> str:
    """A character class for a run of consecutive characters."""
    return re.escape(run) if len(run) == 1 else f"[{re.escape(run[0])}-{re.escape(run[-1])}]"


def _repeat(item: str, low: int, high: int) -> str:
    if high == 0:
        return ""
    if (low, high) == (1, 1):
        return item
    return item + (f"{{{low}}}" if low == high else f"{{{low},{high}}}")


@functools.lru_cache(maxsize=8)
def _unusual_cell_pattern(max_row: int, max_col: int) -> re.Pattern[bytes]:
    """Matches a cell tag that is NOT ``<c r="REF"`` with REF inside the bounds.  (Written
    as "not that, and a tag": one lookahead per cell, the fastest form measured.)"""
    return re.compile(rb'<c(?! r="' + _in_bounds(max_row, max_col) + rb'")(?=[\s/>])')


def _in_bounds(max_row: int, max_col: int) -> bytes:
    """A regex for a plain cell reference ("BC12", no "$") inside the bounds."""
    columns = _at_most(_col_letters(max_col), _LETTERS, _LETTERS)
    return (columns + _at_most(str(max_row), "0123456789", "123456789")).encode()


@functools.lru_cache(maxsize=8)
def _usual_range_pattern(max_row: int, max_col: int) -> re.Pattern[bytes]:
    """Matches (fully) a range "A1" or "A1:C3" whose corners are inside the bounds."""
    corner = _in_bounds(max_row, max_col)
    return re.compile(corner + rb"(?::" + corner + rb")?")


_UNUSUAL_ROW = re.compile(rb'<row(?=[\s/>])(?! r=")')
_PREFIXED_CELL_OR_ROW = re.compile(rb":(?:c|row)[\s/>]")
_RANGE_REF = re.compile(rb"<(?:[\w.-]+:)?(?:dimension|mergeCell)(?=[\s/>])[^<>]*?\sref\s*=\s*[\"']([^\"']*)[\"']")


class _SheetBoundsScanner(_TagScanner, _BoundsCheck):
    """OOXML worksheet: cells with content, ``<dimension>`` and ``<mergeCell>`` must stay
    inside the bounds.  Cells and rows without an ``r`` attribute take the next position,
    as readers place them.  Empty self-closing cells (``<c r="Z9" s="3"/>``, written by
    Excel for formatting only) do not count: no reader allocates anything for them.

    Speed matters (a real template sheet has thousands of cells and long formulas), so a
    window where every cell tag is ``<c r="REF"`` with REF inside the bounds and every row
    tag is ``<row r=`` is recognised by three regex searches in C; only other windows
    are walked tag by tag (:meth:`scan_precisely`).  Both give the same answer."""

    TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|dimension|mergeCell)(?=[\s/>])"
                     rb"""(?:[^<>]*?\s(?:ref|r)\s*=\s*["']([^"']*)["'])?[^<>]*?(/?)>""")

    def __init__(self, bounds: Bounds) -> None:
        _TagScanner.__init__(self)
        _BoundsCheck.__init__(self, bounds)
        self.row = 0  # position of the last row/cell tag seen, for tags without r
        self.col = 0
        self.columns: dict[bytes, int] = {}  # "BC" -> 55, memoised: a sheet has few columns
        self.unusual_cell = _unusual_cell_pattern(bounds.max_row, bounds.max_col)
        self.usual_range = _usual_range_pattern(bounds.max_row, bounds.max_col)

    def scan(self, window: bytes) -> None:
        if self.is_usual(window) and self.follow(window):
            self.check_ranges(window)
        else:
            self.scan_precisely(window)

    def check_ranges(self, window: bytes) -> None:
        """The few range tags (the dimension, the merges), in document order, so the cell
        named in the issue is the one the tag-by-tag walk would name.  Found by their name
        (fast: a plain search), then read from the '<' that opens the tag (a namespace
        prefix may sit in between).  A range of one or two plain references inside the
        bounds (nearly all of them) is passed by one regex match, without parsing it."""
        found = []
        for word in (b"dimension", b"mergeCell"):
            at = window.find(word)
            while at >= 0:
                start = window.rfind(b"<", 0, at)
                tag = _RANGE_REF.match(window, start)
                if tag:  # else the word was in some text
                    found.append((start, tag.group(1)))
                at = window.find(word, at + len(word))
        for _start, ref in sorted(found):
            if not self.usual_range.fullmatch(ref):
                self.check_range(ref)

    def is_usual(self, window: bytes) -> bool:
        return not (self.unusual_cell.search(window) or _UNUSUAL_ROW.search(window)
                    or _PREFIXED_CELL_OR_ROW.search(window))

    def follow(self, window: bytes) -> bool:
        """Move the position to the last row/cell of a usual window (False: cannot)."""
        row_at, cell_at = window.rfind(b'<row r="'), window.rfind(b'<c r="')
        row, col = self.row, self.col
        if row_at >= 0:
            number = window[row_at + 8:window.find(b'"', row_at + 8)]
            if not number.isdigit():
                return False
            row, col = int(number), 0
        if cell_at > row_at:
            col = self.parse_ref(window[cell_at + 6:window.find(b'"', cell_at + 6)])[0]
        self.row, self.col = row, col
        return True

    def scan_precisely(self, window: bytes) -> None:
        max_row, max_col = self.max_row, self.max_col
        for name, ref, empty in self.TAG.findall(window):
            if name == b"c":
                if ref:
                    col, row = self.parse_ref(ref)
                else:
                    col, row = self.col + 1, self.row
                self.col = col
                if not empty and (row > max_row or col > max_col):
                    self.out_of_bounds(col, row)
            elif name == b"row":
                self.row = int(ref) if ref.isdigit() else self.row + 1
                self.col = 0
            else:
                self.check_range(ref)

    def check_range(self, ref: bytes) -> None:
        """``<dimension ref="A1:Q205">``, ``<mergeCell ref="A1:C1">``: a range claim."""
        for corner in ref.split(b":"):
            if corner:
                self.check(*self.parse_ref(corner))

    def parse_ref(self, ref: bytes) -> tuple[int, int]:
        letters = ref.rstrip(_DIGITS)
        digits = ref[len(letters):]
        col = self.columns.get(letters)
        if col is None:
            col = self.column_number(letters)
        if not digits or len(digits) > 10:
            reject(CORRUPT, value=f"invalid cell reference {ref[:40]!r}")
        return col, int(digits)

    def column_number(self, letters: bytes) -> int:
        plain = letters.replace(b"$", b"")
        if not plain.isalpha() or len(plain) > 10:
            reject(CORRUPT, value=f"invalid cell reference {letters[:40]!r}")
        col = _col_number(plain)
        if len(self.columns) < 4096:
            self.columns[letters] = col
        return col


def _attr(name: bytes) -> re.Pattern[bytes]:
    """An attribute by local name, any namespace prefix, either quote."""
    return re.compile(rb"(?:^|\s)(?:[\w.-]+:)?" + name + rb"""\s*=\s*["']([^"']*)["']""")


_ROWS_REPEATED, _COLS_REPEATED = _attr(b"number-rows-repeated"), _attr(b"number-columns-repeated")
_ROWS_SPANNED, _COLS_SPANNED = _attr(b"number-rows-spanned"), _attr(b"number-columns-spanned")


def _count(pattern: re.Pattern[bytes], attrs: bytes, hint: bytes) -> int:
    """A repeat/span count; ``hint`` is a plain substring tested first (most tags have none)."""
    if hint not in attrs:
        return 1
    found = pattern.search(attrs)
    return int(found.group(1)) if found and found.group(1).isdigit() else 1


class _OdsBoundsScanner(_TagScanner, _BoundsCheck):
    """ODS content.xml: rows and cells carry repeat counts.  LibreOffice itself writes a
    row "repeated 1,048,570 times" for the empty rest of every sheet, so a repeat only
    counts when the repeated row/cell has content."""

    TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^<>]*)>")

    def __init__(self, bounds: Bounds) -> None:
        _TagScanner.__init__(self)
        _BoundsCheck.__init__(self, bounds)
        self.row = 0  # rows of the current table before the current row
        self.repeat = 1  # how many times the current row repeats
        self.col = 0
        self.content_cols = 0  # rightmost column with content in the current row
        self.content_rows = 1  # tallest vertical merge of a content cell in the current row

    def scan(self, window: bytes) -> None:
        for closing, name, attrs in self.TAG.findall(window):
            if name == b"table-cell" or name == b"covered-table-cell":
                if not closing:
                    self.on_cell(attrs)
            elif name == b"table-row":
                if closing:
                    self.end_row()
                else:
                    self.start_row(attrs)
            elif not closing:  # a new table (sheet)
                self.row = 0

    def start_row(self, attrs: bytes) -> None:
        self.repeat = _count(_ROWS_REPEATED, attrs, b"repeated")
        self.col, self.content_cols, self.content_rows = 0, 0, 1
        if attrs.endswith(b"/"):  # <table:table-row .../>: no cells at all
            self.row += self.repeat

    def on_cell(self, attrs: bytes) -> None:
        repeat = _count(_COLS_REPEATED, attrs, b"repeated")
        empty = attrs.endswith(b"/") and b"value-type" not in attrs and b"formula" not in attrs
        if not empty:
            spanned = _count(_COLS_SPANNED, attrs, b"spanned")
            self.content_cols = max(self.content_cols, self.col + max(repeat, spanned))
            self.content_rows = max(self.content_rows, _count(_ROWS_SPANNED, attrs, b"spanned"))
            self.check(self.content_cols, self.row + 1)  # early stop on a wide row
        self.col += repeat

    def end_row(self) -> None:
        if self.content_cols:
            self.check(self.content_cols, self.row + self.repeat + self.content_rows - 1)
        self.row += self.repeat


_ENTITY = re.compile(rb"&#?\w{1,10};")
_UTF8_CONTINUATION = bytes(range(0x80, 0xC0))


def _char_count(text: bytes) -> int:
    """Characters in a piece of XML text: every byte that does not continue a UTF-8
    sequence starts a character (exact even when a chunk cuts a character in two), and an
    entity counts once (an entity cut by a chunk boundary is over-counted by a few)."""
    count = len(text.translate(None, _UTF8_CONTINUATION))
    if b"&" in text:
        entities = _ENTITY.findall(text)  # each one counts once: len(entity) - 1 too many
        count -= sum(map(len, entities)) - len(entities)
    return count


class _TextRunScanner(Scanner):
    """The longest text node (characters between a tag's '>' and the next '<'), measured
    across chunks without ever joining it: a 10 MB cell is never one string here.

    Fast path: splitting a chunk at '<' gives pieces "tag>text"; a text node is shorter
    than its piece, so unless some piece is longer than the limit only the two pieces at
    the chunk's edges (text nodes that continue in the neighbouring chunks) are measured.
    (A regex such as ``>[^<]{N,}`` would be quadratic on text full of '>'.)  Whether a
    piece can be that long is first asked of a few plain searches (:meth:`may_hold_long_piece`):
    a normal chunk is not even split.
    Whitespace-only runs are not cell text (a bomb of blanks is the size checks' job)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # No '<' in some aligned block of this many bytes: the test for a long piece.
        self.block = (limit + 2) // 2
        self.in_tag = False  # the previous chunk ended inside a tag
        self.run_chars = 0  # characters of the text node still open
        self.run_has_text = False  # ... and whether it has more than whitespace

    def feed(self, chunk: bytes) -> None:
        first = chunk.find(b"<")
        if first < 0:
            self.continue_run(chunk)
        else:
            self.continue_run(chunk[:first])
            self.check_run()  # the '<' closed the open text node
            if self.may_hold_long_piece(chunk):
                for piece in chunk.split(b"<")[1:-1]:
                    if len(piece) > self.limit:
                        self.start_run(piece)
                        self.check_run()
            self.start_run(chunk[chunk.rfind(b"<") + 1:])
        self.check_run()  # also stops early inside a huge text node

    def may_hold_long_piece(self, chunk: bytes) -> bool:
        """False only when no stretch of the chunk without '<' is longer than the limit:
        such a stretch (limit + 1 >= 2 * block - 1 bytes) covers a whole aligned block."""
        block = self.block
        return any(chunk.find(b"<", at, at + block) < 0 for at in range(0, len(chunk) - block + 1, block))

    def start_run(self, piece: bytes) -> None:
        """``piece`` follows a '<': a tag, then maybe the start of a text node."""
        self.run_chars, self.run_has_text = 0, False
        end_of_tag = piece.find(b">")
        self.in_tag = end_of_tag < 0
        if not self.in_tag:
            self.add_text(piece[end_of_tag + 1:])

    def continue_run(self, piece: bytes) -> None:
        if self.in_tag:
            end_of_tag = piece.find(b">")
            if end_of_tag < 0:
                return
            self.in_tag = False
            piece = piece[end_of_tag + 1:]
        self.add_text(piece)

    def add_text(self, text: bytes) -> None:
        if text:
            self.run_chars += _char_count(text)
            self.run_has_text = self.run_has_text or bool(text.strip())

    def check_run(self) -> None:
        if self.run_has_text and self.run_chars > self.limit:
            reject(CELL_TOO_LONG, limit=f"{self.limit:,}".replace(",", "."))


# --------------------------------------------------------------------------- cell references


def _col_letters(col: int) -> str:
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _col_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number
