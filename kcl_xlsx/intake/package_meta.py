"""Package metadata of a returned file, read from the zip with defusedxml (a few KB of XML,
no workbook load): custom properties, defined names, sheet states and protection, the
program that saved it and when.  Sizes were bounded by the pre-flight already; parts are
still read with a cap, and any XML problem gives empty metadata, never an exception.
The pre-flight hands over the parts it already decompressed (:data:`META_PARTS`), so
normally nothing here opens the zip again.

XML goes through :func:`parse_xml`: defusedxml's answer, mostly from the standard library's
C parser (a document without a DOCTYPE has no entity to declare, nothing to refuse).
"""
from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as StdET
import zipfile
from io import BytesIO
from typing import Callable, Mapping

from defusedxml import ElementTree as ET

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "ep": "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
    "core": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dcterms": "http://purl.org/dc/terms/",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
}
_PART_CAP = 8 * 1024 * 1024
_XLSX_PARTS = ("xl/workbook.xml", "docProps/app.xml", "docProps/core.xml", "docProps/custom.xml")
_ODS_PARTS = ("meta.xml",)
_DOCX_PARTS = ("docProps/app.xml", "docProps/core.xml", "docProps/custom.xml")
# Every part read_meta may read, for whoever decompressed them already (the pre-flight).
META_PARTS = frozenset(_XLSX_PARTS + _ODS_PARTS)


@dataclasses.dataclass(frozen=True)
class SheetInfo:
    name: str
    state: str  # visible | hidden | veryHidden


@dataclasses.dataclass(frozen=True)
class PackageMeta:
    custom: dict[str, str] = dataclasses.field(default_factory=dict)
    defined_names: dict[str, str] = dataclasses.field(default_factory=dict)
    sheets: tuple[SheetInfo, ...] = ()
    application: str = ""
    modified: str = ""  # ISO 8601 as written by the saving program
    modified_by: str = ""
    date1904: bool = False

    def sheet(self, name: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.name == name), None)


# A part's bytes by name, None when the package has none (or it is too big to read).
_Read = Callable[[str], "bytes | None"]


def read_meta(data: bytes, kind: str, parts: Mapping[str, bytes | None] | None = None) -> PackageMeta:
    """``parts``: metadata parts already decompressed (see ``Preflight.parts``); used when
    it has every part this kind needs, else the parts are read from ``data``."""
    reader = {"ods": _ods, "xlsx": _xlsx, "xlsm": _xlsx, "docx": _docx}.get(kind)
    if reader is None:
        return PackageMeta()
    try:
        if parts is not None and all(name in parts for name in _parts_of(kind)):
            return reader(lambda name: parts[name])
        with zipfile.ZipFile(BytesIO(data)) as zf:
            return reader(lambda name: _zip_part(zf, name))
    except (zipfile.BadZipFile, ET.ParseError, KeyError, ValueError, OSError):
        pass
    except Exception:  # defusedxml's refusals (entities...) are not ParseError subclasses
        pass
    return PackageMeta()


def _parts_of(kind: str) -> tuple[str, ...]:
    return _ODS_PARTS if kind == "ods" else _DOCX_PARTS if kind == "docx" else _XLSX_PARTS


def _zip_part(zf: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _PART_CAP:
        return None
    with zf.open(info) as fh:
        return fh.read(_PART_CAP + 1)


def _xml(read: _Read, name: str):
    xml = read(name)
    return None if xml is None else parse_xml(xml)


class _DoctypeFound(Exception):
    pass


class _StopAtDoctype(StdET.TreeBuilder):
    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise _DoctypeFound(name)


def parse_xml(xml: bytes, forbid_dtd: bool = False) -> StdET.Element:
    """``defusedxml.ElementTree.fromstring(xml, forbid_dtd=forbid_dtd)``: the same tree, or
    the same exception.  The (much faster) C parser gives the same tree for a well-formed
    document without a DOCTYPE; anything else is left to defusedxml, to refuse or report."""
    if b"<!" in xml or b"<\x00!" in xml:  # maybe a DOCTYPE (UTF-8, UTF-16): straight to defusedxml
        return ET.fromstring(xml, forbid_dtd=forbid_dtd)
    parser = StdET.XMLParser(target=_StopAtDoctype())
    try:
        parser.feed(xml)
        return parser.close()
    except Exception:  # a DOCTYPE (or broken XML, reported in defusedxml's own words)
        return ET.fromstring(xml, forbid_dtd=forbid_dtd)


def _xlsx(read: _Read) -> PackageMeta:
    wb = _xml(read, "xl/workbook.xml")
    if wb is None:
        return PackageMeta()
    sheets = [SheetInfo(s.get("name", ""), s.get("state", "visible")) for s in wb.iterfind("m:sheets/m:sheet", NS)]
    names = {d.get("name", ""): (d.text or "") for d in wb.iterfind("m:definedNames/m:definedName", NS)}
    pr = wb.find("m:workbookPr", NS)
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    app = _xml(read, "docProps/app.xml")
    core = _xml(read, "docProps/core.xml")
    return PackageMeta(
        custom=_custom(read), defined_names=names, sheets=tuple(sheets),
        application=_text(app, "ep:Application") + (" " + _text(app, "ep:AppVersion") if _text(app, "ep:AppVersion") else ""),
        modified=_text(core, "dcterms:modified"), modified_by=_text(core, "core:lastModifiedBy"),
        date1904=date1904,
    )


def _docx(read: _Read) -> PackageMeta:
    """A Word document's saving program and time (when the school saved it: lateness)."""
    app = _xml(read, "docProps/app.xml")
    core = _xml(read, "docProps/core.xml")
    version = _text(app, "ep:AppVersion")
    return PackageMeta(custom=_custom(read), application=_text(app, "ep:Application") + (" " + version if version else ""),
                       modified=_text(core, "dcterms:modified"), modified_by=_text(core, "core:lastModifiedBy"))


def _custom(read: _Read) -> dict[str, str]:
    root = _xml(read, "docProps/custom.xml")
    if root is None:
        return {}
    out = {}
    for p in root.iterfind("cp:property", NS):
        value = next(iter(p), None)
        out[p.get("name", "")] = (value.text or "") if value is not None else ""
    return out


def _ods(read: _Read) -> PackageMeta:
    meta = _xml(read, "meta.xml")
    if meta is None:
        return PackageMeta()
    custom = {u.get(f"{{{NS['meta']}}}name", ""): (u.text or "")
              for u in meta.iter(f"{{{NS['meta']}}}user-defined")}
    gen = meta.find(".//meta:generator", NS)
    modified = meta.find(".//dc:date", {"dc": "http://purl.org/dc/elements/1.1/"})
    return PackageMeta(custom=custom, application=(gen.text or "") if gen is not None else "",
                       modified=(modified.text or "") if modified is not None else "")


def _text(root, path: str) -> str:
    if root is None:
        return ""
    el = root.find(path, NS)
    return (el.text or "").strip() if el is not None else ""


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def ods_merged(data: bytes, sheet: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Merged ranges of one sheet of an .ods, as ((row0, col0), (row1, col1)), 0-based.

    python-calamine does not report them for .ods; LibreOffice stores a merge as
    ``number-rows-spanned``/``number-columns-spanned`` on the top-left cell, so positions
    are counted through the rows and cells (with their repeat counts) up to each one.
    """
    t = f"{{{_TABLE}}}"
    out: list[tuple[tuple[int, int], tuple[int, int]]] = []
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf, zf.open("content.xml") as fh:
            inside, row, col = False, -1, 0
            for event, el in ET.iterparse(fh, events=("start", "end")):
                tag = el.tag
                if tag == t + "table":
                    if event == "start":
                        inside = el.get(t + "name") == sheet
                    elif inside:
                        break
                    continue
                if not inside:
                    continue
                if tag == t + "table-row" and event == "start":
                    row, col = row + 1, 0
                elif tag == t + "table-row" and event == "end":
                    row += int(el.get(t + "number-rows-repeated", "1")) - 1
                    el.clear()
                elif tag in (t + "table-cell", t + "covered-table-cell") and event == "start":
                    rows = int(el.get(t + "number-rows-spanned", "1"))
                    cols = int(el.get(t + "number-columns-spanned", "1"))
                    if rows > 1 or cols > 1:
                        out.append(((row, col), (row + rows - 1, col + cols - 1)))
                    col += int(el.get(t + "number-columns-repeated", "1"))
    except Exception:  # a broken part means no merges known, never a failed check
        return out
    return out
