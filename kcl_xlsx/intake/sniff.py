"""What is this file really?  Decided from its bytes, never from its extension.

Schools e-mail back anything: the real workbook, Excel's lock file, a PDF print, a web
page a management system exported as ``.xls``, a CSV, an encrypted copy.  :func:`sniff`
looks at the first few KB and, for containers, at the zip central directory or the OLE
directory only; it never decompresses a worksheet (that is :mod:`kcl_xlsx.intake.preflight`'s job,
with bounds).  :func:`sniff_bytes` sniffs a file already read into memory and hands back the
zip directory it opened, so the pre-flight does not parse it a second time.

Kinds: ``empty``, ``lock_file``, ``xlsx``, ``xlsm``, ``xlsb``, ``ods``, ``zip_other``,
``xls``, ``encrypted``, ``ole_other``, ``html``, ``csv_text``, ``pdf``, ``unknown``, and
``corrupt`` (a zip or OLE container whose directory cannot be read, e.g. a truncated file);
and the Word plans schools still send: ``docx`` (also .docm: its macros are never run),
``odt`` and ``doc`` (Word 97-2003), the last two read after a LibreOffice conversion.
"""
from __future__ import annotations

import codecs
import dataclasses
import io
import os
import struct
import zipfile
import zlib
from typing import BinaryIO, NamedTuple

import olefile

HEAD_BYTES = 4096
# Opening a zip builds one ZipInfo per entry; a real workbook has a few dozen.  Above this
# many entries (or this much directory) sniff does not even list them.
SNIFF_MAX_ENTRIES = 10_000
SNIFF_MAX_DIRECTORY_BYTES = 2 * 2**20
# Small metadata members (mimetype, [Content_Types].xml) are read at most this far.
SMALL_MEMBER_BYTES = 256 * 1024

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"

SPREADSHEET_KINDS = frozenset({"xlsx", "xlsm", "xlsb", "ods", "xls"})
# A plan written in Word: read by readers/docx.py (.doc and .odt converted to .docx first).
WORD_KINDS = frozenset({"docx", "doc", "odt"})
ZIP_KINDS = frozenset({"xlsx", "xlsm", "xlsb", "ods", "zip_other", "docx", "odt"})


@dataclasses.dataclass(frozen=True)
class Sniff:
    kind: str
    detail: str = ""
    # VBA / StarBasic code is present (xlsm, an .xls with _VBA_PROJECT_CUR, an .ods with
    # Basic/); values can still be read, the code is never run.
    macros: bool = False


def is_lock_file_name(name: str) -> bool:
    """Excel and LibreOffice write ``~$book.xlsx`` next to an open workbook."""
    return os.path.basename(name).startswith("~$")


def sniff(path: str | os.PathLike[str]) -> Sniff:
    if is_lock_file_name(os.fspath(path)):
        return Sniff("lock_file", "owner/lock file written by Excel while a workbook is open")
    with open(path, "rb") as f:
        return sniff_stream(f)


def sniff_stream(f: BinaryIO) -> Sniff:
    """Sniff an open, seekable binary stream (a file, or decrypted bytes in memory)."""
    found, zf = _sniff(f, None)
    if zf is not None:
        zf.close()
    return found


def sniff_bytes(data: bytes) -> tuple[Sniff, zipfile.ZipFile | None]:
    """:func:`sniff_stream` of a whole file held in memory.  For a zip it also returns the
    open ``ZipFile`` (the caller closes it), and reads the small members it looks at with
    :func:`inflate`."""
    return _sniff(io.BytesIO(data), data)


def _sniff(f: BinaryIO, data: bytes | None) -> tuple[Sniff, zipfile.ZipFile | None]:
    f.seek(0)
    head = f.read(HEAD_BYTES)
    if not head:
        return Sniff("empty", "0 bytes"), None
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(f, data)
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(f), None
    if b"%PDF-" in head[:1024]:  # PDF allows a little junk before the header
        return Sniff("pdf", "PDF document"), None
    return _sniff_text(head), None


# --------------------------------------------------------------------------- zip


class ZipDirectory(NamedTuple):
    entries: int  # as declared by the end record
    size: int  # bytes of the central directory: what zipfile will parse, whatever ``entries`` says


def zip_directory(f: BinaryIO) -> ZipDirectory | None:
    """The end-of-central-directory record (zip64 aware), read without building the
    directory.  None when there is no readable record (a truncated file)."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    tail_len = min(size, 22 + 65535)  # the record plus the longest possible comment
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    entries, directory_size = struct.unpack_from("<HI", tail, at + 10)
    if entries != 0xFFFF and directory_size != 0xFFFFFFFF:
        return ZipDirectory(entries, directory_size)
    locator = at - 20  # the zip64 locator sits right before the classic record
    if locator < 0 or tail[locator:locator + 4] != b"PK\x06\x07":
        return ZipDirectory(entries, directory_size)
    f.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
    record = f.read(56)
    if len(record) < 48 or not record.startswith(b"PK\x06\x06"):
        return None
    return ZipDirectory(*struct.unpack_from("<QQ", record, 32))


def read_member_head(zf: zipfile.ZipFile, name: str, limit: int = SMALL_MEMBER_BYTES,
                     data: bytes | None = None) -> bytes:
    """Up to ``limit`` decompressed bytes of a member; b"" when it is missing or broken
    (preflight reports broken members when it streams them).  ``data``: the zip's own bytes,
    when the caller holds them in memory (a plain member is then read with :func:`inflate`)."""
    try:
        if data is not None:
            info = zf.getinfo(name)
            plain = inflate(data, info, INFLATE_AT_ONCE_BYTES)
            # zipfile stops at the declared size and then checks the CRC of what it read:
            # a member longer than declared is left to it
            if plain is not None and len(plain) <= info.file_size:
                return plain[:limit]
        with zf.open(name) as member:
            return member.read(limit)
    except Exception:  # KeyError, BadZipFile, zlib.error, NotImplementedError (method)...
        return b""


# Members up to this size are inflated with one zlib call (max_length bounds the output even
# when the declared size lies).
INFLATE_AT_ONCE_BYTES = 4 * 2**20
# The local file header (zipfile's structFileHeader): signature, versions, flags, method,
# time, date, CRC, sizes, then the lengths of the name and of the extra field.
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_MAGIC = b"PK\x03\x04"
# Flag bits zipfile refuses or needs a password for: encrypted, patched data, strong encryption.
_FLAGS_NOT_PLAIN = 0x01 | 0x20 | 0x40


def inflate(data: bytes, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The whole decompressed content of one member of the zip ``data``, with one zlib call
    instead of zipfile's file objects, or None when the member is not plain: another
    method, encrypted, a local header that disagrees with the directory, truncated or
    damaged data, a wrong CRC, or more than ``limit`` bytes.

    When it returns bytes they are exactly what zipfile reads to the member's real end,
    and zipfile would not fail on them; None means "ask zipfile", which then reports
    whatever is wrong in its own words."""
    if (info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
            or info.flag_bits & _FLAGS_NOT_PLAIN or info.header_offset < 0):
        return None
    start = info.header_offset
    if len(data) < start + _LOCAL_HEADER.size:
        return None
    header = _LOCAL_HEADER.unpack_from(data, start)
    if header[0] != _LOCAL_MAGIC:
        return None
    name_at = start + _LOCAL_HEADER.size
    name = data[name_at:name_at + header[10]]
    try:  # as zipfile: the local header's own UTF-8 flag decides the encoding
        if name.decode("utf-8" if header[3] & 0x800 else "cp437") != info.orig_filename:
            return None
    except UnicodeDecodeError:
        return None
    begin = name_at + header[10] + header[11]
    raw = memoryview(data)[begin:begin + info.compress_size]
    if len(raw) != info.compress_size:
        return None
    if info.compress_type == zipfile.ZIP_STORED:
        plain = bytes(raw) if len(raw) <= limit else None
    else:
        plain = _inflate_raw(raw, limit)
    return plain if plain is not None and zlib.crc32(plain) == info.CRC else None


def _inflate_raw(raw: memoryview, limit: int) -> bytes | None:
    """A complete raw deflate stream of at most ``limit`` bytes (what follows its end is
    ignored, as zipfile does)."""
    engine = zlib.decompressobj(-15)
    try:
        plain = engine.decompress(raw, limit + 1)
    except zlib.error:
        return None
    return plain if engine.eof and len(plain) <= limit else None


def _sniff_zip(f: BinaryIO, data: bytes | None) -> tuple[Sniff, zipfile.ZipFile | None]:
    directory = zip_directory(f)
    if directory is None:
        return Sniff("corrupt", "zip without a readable central directory (truncated?)"), None
    if directory.entries > SNIFF_MAX_ENTRIES or directory.size > SNIFF_MAX_DIRECTORY_BYTES:
        return Sniff("zip_other", f"zip with {directory.entries} entries, {directory.size} bytes of directory "
                                  "(not listed)"), None
    try:
        zf = zipfile.ZipFile(f)
    except Exception as exc:  # BadZipFile, struct/OSError/ValueError on hostile directories
        return Sniff("corrupt", f"zip: {type(exc).__name__}: {exc}"), None
    return classify_zip(zf, data), zf


def classify_zip(zf: zipfile.ZipFile, data: bytes | None = None) -> Sniff:
    names = {n.lower(): n for n in zf.namelist()}  # OPC part names are case-insensitive
    if "mimetype" in names:
        mimetype = read_member_head(zf, names["mimetype"], 200, data).strip()
        if mimetype == ODS_MIMETYPE:
            has_basic = any(n.startswith(("basic/", "scripts/")) for n in names)
            return Sniff("ods", "OpenDocument spreadsheet", macros=has_basic)
        if mimetype == ODT_MIMETYPE:
            return Sniff("odt", "OpenDocument text document", macros=any(n.startswith(("basic/", "scripts/"))
                                                                           for n in names))
        return Sniff("zip_other", f"zip with mimetype {mimetype[:80]!r}")
    content_types = b""
    if "[content_types].xml" in names:
        content_types = read_member_head(zf, names["[content_types].xml"], data=data).lower()
    has_vba = any(n.endswith("vbaproject.bin") for n in names)
    # Word before the macro test: a .docm has a vbaProject.bin too, and is no workbook
    if (b"wordprocessingml" in content_types or "word/document.xml" in names) and not (
            b"spreadsheetml" in content_types or "xl/workbook.xml" in names):
        return Sniff("docx", "Word document", macros=has_vba)
    # xlsb's main content type is always "...binary.macroEnabled.main", macros or not.
    if b"sheet.binary.macroenabled.main" in content_types or "xl/workbook.bin" in names:
        return Sniff("xlsb", "Excel binary workbook", macros=has_vba)
    if has_vba or b".macroenabled.main+xml" in content_types:
        return Sniff("xlsm", "Excel macro-enabled workbook", macros=True)
    if b"spreadsheetml." in content_types or "xl/workbook.xml" in names:
        return Sniff("xlsx", "Excel workbook")
    if b"presentationml" in content_types:
        return Sniff("zip_other", "PowerPoint document")
    return Sniff("zip_other", "zip archive that is not a workbook")


# --------------------------------------------------------------------------- OLE


def _sniff_ole(f: BinaryIO) -> Sniff:
    try:
        f.seek(0)
        ole = olefile.OleFileIO(f)
    except Exception as exc:  # olefile raises many types on hostile directories
        return Sniff("corrupt", f"OLE: {type(exc).__name__}: {exc}")
    try:
        return _classify_ole(f, ole)
    except Exception as exc:
        return Sniff("corrupt", f"OLE: {type(exc).__name__}: {exc}")


def _classify_ole(f: BinaryIO, ole: olefile.OleFileIO) -> Sniff:
    if ole.exists("EncryptionInfo"):
        return Sniff("encrypted", "password-encrypted OOXML package")
    macros = ole.exists("_VBA_PROJECT_CUR")
    if ole.exists("Workbook"):
        if _xls_is_encrypted(f):
            return Sniff("encrypted", "password-encrypted .xls (FilePass record)", macros=macros)
        return Sniff("xls", "Excel 97-2003 workbook (BIFF8)", macros=macros)
    if ole.exists("Book"):
        return Sniff("xls", "Excel 5.0/95 workbook (BIFF5)", macros=macros)
    if ole.exists("WordDocument"):
        return Sniff("doc", "Word 97-2003 document", macros=macros or ole.exists("Macros"))
    if ole.exists("PowerPoint Document"):
        return Sniff("ole_other", "PowerPoint 97-2003 presentation")
    return Sniff("ole_other", "OLE compound file that is not a workbook")


def _xls_is_encrypted(f: BinaryIO) -> bool:
    from msoffcrypto.format.xls97 import Xls97File  # imported late: only .xls files need it

    f.seek(0)
    return bool(Xls97File(f).is_encrypted())


# --------------------------------------------------------------------------- text


def _sniff_text(head: bytes) -> Sniff:
    text = _decode_text(head)
    if text is None:
        return Sniff("unknown", "binary data of no known format")
    start = text.lstrip().lower()
    if start.startswith("<") or start.startswith("mime-version:"):
        # HTML tables, single-file web pages (MHTML) and Excel 2003 XML: all markup that
        # Excel opens with a warning and that web systems name ".xls".
        return Sniff("html", "markup text (HTML / MHTML / XML spreadsheet)")
    return Sniff("csv_text", "plain text (CSV / tab-separated)")


def _decode_text(head: bytes) -> str | None:
    """The head as text if it plausibly is text, else None."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom):].decode(codec, "ignore")
    if b"\x00" in head:
        return None
    try:
        # The head may end inside a multi-byte character: decode it as an unfinished stream.
        return codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    # Legacy 8-bit encodings (Vietnamese TCVN3/VNI exports): text when control characters
    # other than tab/CR/LF/FF are rare.
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if controls <= len(head) // 100:
        return head.decode("latin-1")
    return None
