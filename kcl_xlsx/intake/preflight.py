"""Pre-flight: decide whether a submitted file may be handed to a parser at all.

Everything here is bounded and pure Python, so nothing a school sends can crash or hang it:

* the kind comes from the bytes (:mod:`kcl_xlsx.intake.sniff`), never from the extension;
* zip packages: member count, declared sizes and compression ratios from the central
  directory, then the REAL decompressed size of every part a reader would decompress,
  counted in chunks with a hard stop at the bound (declared sizes can lie).  A part that
  declares at most ``INFLATE_AT_ONCE_BYTES`` is inflated with one zlib call (its output
  bounded, whatever it declared) and cut into the same chunks; bigger or unusual parts
  are streamed through zipfile;
* every XML part is scanned for DOCTYPE/ENTITY declarations (billion laughs, XXE);
* worksheets (and ODS ``content.xml``) are scanned for content beyond ``Bounds.max_row`` /
  ``max_col``: python-calamine aborts the whole process (a Rust allocation failure, not an
  exception) on a single value at XFD1048576, and openpyxl expands merges and dimensions;
* text nodes in worksheets/shared strings longer than Excel's own 32,767-character cell
  limit, measured without ever joining the text;
* password-encrypted files are tried with Excel's built-in password first.

Scans use regular expressions over a stream, not an XML parser: they only need to find a
few tags and must stay fast (a normal template takes a few ms).  The small XML documents
that are really parsed (workbook relationships) get defusedxml's answer
(:func:`kcl_xlsx.intake.package_meta.parse_xml`).  Which part is scanned for what, and the
scanners themselves, are in :mod:`kcl_xlsx.intake.part_scanners`; this module is the run:
the file's kind, encryption, the zip directory and the size bounds, each part's chunks fed
to its scanners.

The file is read into memory once (it is smaller than ``Bounds.max_file_bytes``); an accepted
file's bytes and its small metadata parts are handed back in the :class:`Preflight`, so the
reader parses exactly what was checked without reading or decompressing it again.

The first error stops the scan (the file is rejected anyway); warnings accumulate.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import os
import re
import zipfile
from typing import BinaryIO, Iterator, Mapping

import msoffcrypto
import olefile

from kcl_xlsx.intake.bounds import Bounds
from kcl_xlsx.intake.package_meta import META_PARTS
from kcl_xlsx.intake.part_scanners import DTD, Reject, Scanner, reject, scan_plan
from kcl_xlsx.intake.sniff import (
    INFLATE_AT_ONCE_BYTES,
    SPREADSHEET_KINDS,
    WORD_KINDS,
    ZIP_KINDS,
    Sniff,
    inflate,
    is_lock_file_name,
    read_member_head,
    sniff_bytes,
    sniff_stream,
    zip_directory,
)
from kcl_xlsx.spec.issues import Code, Issue
from macros_free_validation.report import Severity

# --------------------------------------------------------------------------- issue codes
# (their texts are in workbook_templates/data/issues.yaml; plain text, as issues carry them)

EMPTY = Code.FILE_EMPTY.value
TOO_LARGE = Code.FILE_TOO_LARGE.value
LOCK_FILE = Code.FILE_LOCK_FILE.value
NOT_SPREADSHEET = Code.FILE_NOT_SPREADSHEET.value
HTML_AS_XLS = Code.FILE_HTML_AS_XLS.value
CSV_AS_XLS = Code.FILE_CSV_AS_XLS.value
CORRUPT = Code.FILE_CORRUPT.value
ENCRYPTED = Code.FILE_ENCRYPTED.value
DEFAULT_PASSWORD = Code.FILE_DEFAULT_PASSWORD.value
MACRO_ENABLED = Code.FILE_MACRO_ENABLED.value
EXTERNAL_LINKS = Code.FILE_EXTERNAL_LINKS.value
TOO_MANY_PARTS = Code.FILE_TOO_MANY_PARTS.value
DUPLICATE_PART = Code.FILE_DUPLICATE_PART.value
LOCAL_LINK = Code.FILE_LOCAL_LINK.value
ZIP_BOMB = Code.FILE_ZIP_BOMB.value
XML_ENTITIES = Code.FILE_XML_ENTITIES.value
OUT_OF_BOUNDS = Code.FILE_OUT_OF_BOUNDS.value
CELL_TOO_LONG = Code.FILE_CELL_TOO_LONG.value


# What a rejected kind is, for the NOT_SPREADSHEET message ("... mà là {what}").
_KIND_VI = {
    "pdf": "tệp PDF",
    "zip_other": "tệp nén hoặc tài liệu PowerPoint",
    "ole_other": "tài liệu Office đời cũ không phải Excel hay Word",
    "unknown": "dữ liệu không rõ định dạng",
}
_REJECTED_KINDS = {
    "empty": EMPTY,
    "corrupt": CORRUPT,
    "html": HTML_AS_XLS,
    "csv_text": CSV_AS_XLS,
    **{kind: NOT_SPREADSHEET for kind in _KIND_VI},
}

BUILTIN_PASSWORD = "VelvetSweatshop"  # Excel encrypts "protected structure" .xls with it
MAX_SPIN_COUNT = 1_000_000  # Excel writes 100,000; a hostile EncryptionInfo could ask 2**31
MAX_ENCRYPTION_INFO_BYTES = 64 * 1024
CHUNK_BYTES = 64 * 1024
# Parts a reader never decompresses: checked on their declared size only.
_MEDIA_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf",
                   ".wdp", ".jfif", ".svg", ".ico", ".odttf", ".ttf")


# What a reader takes: workbooks, and Word plans (readers/docx.py; .doc and .odt after a
# LibreOffice conversion, itself pre-flighted again as a .docx).
READABLE_KINDS = SPREADSHEET_KINDS | WORD_KINDS


@dataclasses.dataclass(frozen=True)
class Preflight:
    kind: str
    issues: tuple[Issue, ...]
    ok: bool  # the file may be handed to a parser
    # Set when the file is encrypted with Excel's built-in password: the reader must read
    # ``decrypt(path, decrypt_password)`` instead of the file itself.
    decrypt_password: str | None = None
    # What was checked, for the reader (empty unless ok): the package's bytes (decrypted
    # when it was encrypted), and the metadata parts (package_meta.META_PARTS) by name:
    # their bytes, or None when the package has no such part.  A part that was not read
    # plainly is left out; the reader then reads the package itself.
    package: bytes = dataclasses.field(default=b"", compare=False, repr=False)
    parts: Mapping[str, bytes | None] = dataclasses.field(default_factory=dict, compare=False, repr=False)


def preflight(path: str | os.PathLike[str], bounds: Bounds = Bounds(),
              display_name: str | None = None) -> Preflight:
    """Check one file; never raises (an unexpected failure is reported as a corrupt file)."""
    run = _Run(display_name or os.path.basename(os.fspath(path)), bounds)
    error = None
    try:
        run.check_file(os.fspath(path))
    except Reject as rejection:
        error = run.issue(rejection.code, **rejection.ctx)
    except Exception as exc:  # a scanner bug or an exotic OS error must not stop the run
        error = run.issue(CORRUPT, value=f"{type(exc).__name__}: {exc}")
    issues = tuple(run.warnings) + ((error,) if error else ())
    ok = run.kind in READABLE_KINDS and not any(i.severity == Severity.ERROR for i in issues)
    if not ok:
        return Preflight(run.kind, issues, ok, run.password)
    return Preflight(run.kind, issues, ok, run.password, run.package, run.parts)


def decrypt(path: str | os.PathLike[str], password: str = BUILTIN_PASSWORD) -> bytes:
    """The decrypted package of an encrypted file (see ``Preflight.decrypt_password``)."""
    with open(path, "rb") as f:
        return _decrypt_stream(f, password).getvalue()


class _Run:
    """State of one preflight: the file's name, the bounds, what was found so far."""

    def __init__(self, name: str, bounds: Bounds) -> None:
        self.name, self.bounds = name, bounds
        self.kind = "unknown"
        self.warnings: list[Issue] = []
        self.password: str | None = None
        self.real_left = bounds.max_total_uncompressed  # real bytes the package may still expand to
        self.package = b""  # the bytes a parser reads (decrypted when the file was encrypted)
        self.parts: dict[str, bytes | None] = {}  # see Preflight.parts

    def issue(self, code: str, **ctx: object) -> Issue:
        return Issue.make(code, file=self.name, **ctx)

    def warn(self, code: str, **ctx: object) -> None:
        self.warnings.append(self.issue(code, **ctx))

    # ------------------------------------------------------------------ dispatch

    def check_file(self, path: str) -> None:
        if is_lock_file_name(path):
            self.kind = "lock_file"
            self.warn(LOCK_FILE)
            return
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > self.bounds.max_file_bytes:
                self.kind = sniff_stream(f).kind  # bounded: the head and the container's directory only
                reject(TOO_LARGE, size_mb=_mb(size), limit_mb=_mb(self.bounds.max_file_bytes))
            data = f.read()
        self.check_contents(data)

    def check_contents(self, data: bytes) -> None:
        found, zf = sniff_bytes(data)
        with zf or contextlib.nullcontext():
            self.accept_kind(found)
            if found.kind == "encrypted":
                self.check_contents_decrypted(data)
            else:
                self.check_sniffed(data, found, zf)

    def check_contents_decrypted(self, data: bytes) -> None:
        plain = self.decrypt_with_builtin_password(io.BytesIO(data)).getvalue()
        found, zf = sniff_bytes(plain)
        with zf or contextlib.nullcontext():
            self.accept_kind(found)
            if found.kind == "encrypted":  # encrypted twice: nothing Excel would write
                reject(ENCRYPTED)
            self.check_sniffed(plain, found, zf)

    def check_sniffed(self, data: bytes, found: Sniff, zf: zipfile.ZipFile | None) -> None:
        if found.macros:
            self.warn(MACRO_ENABLED)
        if found.kind in ZIP_KINDS:
            assert zf is not None  # sniffing opened it: else the kind would be "corrupt"
            self.check_package(data, zf, found.kind)
        self.package = data

    def accept_kind(self, found: Sniff) -> None:
        """Record the kind; reject what is no workbook at all (or is unreadable as one)."""
        self.kind = found.kind
        code = _REJECTED_KINDS.get(found.kind)
        if code:
            reject(code, what=_KIND_VI.get(found.kind, ""), value=found.detail)

    # ------------------------------------------------------------------ encryption

    def decrypt_with_builtin_password(self, f: BinaryIO) -> BinaryIO:
        _check_encryption_info(f)
        try:
            plain = _decrypt_stream(f, BUILTIN_PASSWORD)
        except Exception:  # wrong password, unsupported scheme, damaged container
            reject(ENCRYPTED)
        self.password = BUILTIN_PASSWORD
        self.warn(DEFAULT_PASSWORD)
        return plain

    # ------------------------------------------------------------------ zip packages

    def check_package(self, data: bytes, zf: zipfile.ZipFile, kind: str) -> None:
        """``zf`` is ``data`` opened by sniffing (which also found its directory readable and
        the entries few enough to list)."""
        directory = zip_directory(io.BytesIO(data))
        if directory is None:
            reject(CORRUPT, value="zip central directory unreadable")
        self.check_part_count(directory.entries)
        infos = zf.infolist()
        self.check_part_count(len(infos))  # the end record may have understated them
        _check_unique_names(infos)
        self.check_declared_sizes(infos)
        if kind in ("ods", "odt"):
            _check_ods_not_encrypted(zf, data)
        elif any(i.filename.lower().startswith("xl/externallinks/") for i in infos):
            self.warn(EXTERNAL_LINKS)
        scanners_for = scan_plan(zf, data, kind, self.bounds)
        self.parts = {name: None for name in META_PARTS if name not in zf.NameToInfo}
        for info in infos:
            if _is_decompressed_by_readers(info):
                whole = self.scan_part(zf, data, info, scanners_for(info.filename))
                if whole is not None and info.filename in META_PARTS:
                    self.keep_part(zf, info, whole)
        if kind not in ("ods", "odt"):
            self.check_hyperlinks(zf, data, infos)

    def check_hyperlinks(self, zf: zipfile.ZipFile, data: bytes, infos: list[zipfile.ZipInfo]) -> None:
        """A hyperlink to a file on a computer or a share (file:///, \\\\server): named once,
        as a warning; it is never followed."""
        for info in infos:
            if not info.filename.lower().endswith(".rels"):
                continue
            for tag in _RELATIONSHIP.findall(read_member_head(zf, info.filename, data=data)):
                found = _TARGET.search(tag)
                target = (found[1] if found[1] is not None else found[2]).strip() if found else b""
                if b"/hyperlink" in tag and target.lower().startswith((b"file:", b"\\\\", b"//")):
                    self.warn(LOCAL_LINK, part=info.filename, value=target.decode("utf-8", "replace")[:200])
                    return

    def keep_part(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, whole: bytes) -> None:
        # The reader opens a part by name (the last entry of that name) and zipfile stops at
        # the declared size: a part longer than declared is left for it to read.
        if zf.NameToInfo.get(info.filename) is info and len(whole) <= info.file_size:
            self.parts[info.filename] = whole

    def check_part_count(self, count: int) -> None:
        if count > self.bounds.max_parts:
            reject(TOO_MANY_PARTS, count=count, limit=self.bounds.max_parts)

    def check_declared_sizes(self, infos: list[zipfile.ZipInfo]) -> None:
        total = 0
        for info in infos:
            total += info.file_size
            self.check_size(info, info.file_size, "declared")
        if total > self.bounds.max_total_uncompressed:
            reject(ZIP_BOMB, part="tổng các phần", value=f"declared total {total} bytes")

    def check_size(self, info: zipfile.ZipInfo, size: int, which: str) -> None:
        bounds = self.bounds
        if size > bounds.max_part_uncompressed:
            reject(ZIP_BOMB, part=info.filename, value=f"{which} size over {bounds.max_part_uncompressed} bytes")
        if size > bounds.ratio_floor_bytes and size > bounds.max_ratio * max(info.compress_size, 1):
            reject(ZIP_BOMB, part=info.filename,
                    value=f"{which} compression ratio over {bounds.max_ratio:g} ({size}/{info.compress_size})")

    def scan_part(self, zf: zipfile.ZipFile, data: bytes, info: zipfile.ZipInfo,
                  scanners: list[Scanner]) -> bytes | None:
        """Feed the part to its scanners; returns its content when it was inflated at once."""
        whole = inflate(data, info, INFLATE_AT_ONCE_BYTES) if info.file_size <= INFLATE_AT_ONCE_BYTES else None
        chunks = _chunks(whole) if whole is not None else self.stream_part(zf, info)
        try:
            for chunk in self.counted(info, chunks):
                for scanner in scanners:
                    scanner.feed(chunk)
        except Reject as rejection:
            rejection.ctx.setdefault("part", info.filename)
            raise
        return whole

    def counted(self, info: zipfile.ZipInfo, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """The chunks, each counted against the bounds before it is scanned: the first
        chunk past a bound stops the scan."""
        real = 0
        for chunk in chunks:
            real += len(chunk)
            self.real_left -= len(chunk)
            self.check_size(info, real, "real")
            if self.real_left < 0:
                reject(ZIP_BOMB, part="tổng các phần",
                        value=f"real total over {self.bounds.max_total_uncompressed} bytes")
            yield chunk

    def stream_part(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The part's real decompressed bytes through zipfile, in chunks, for as long as
        they are asked for; what zipfile finds wrong is a corrupt file."""
        # zipfile stops at the DECLARED size (and then fails the CRC): declare "no limit" so
        # that it decompresses to the real end; the caller counts (and stops).  Each read
        # still inflates at most CHUNK_BYTES (zipfile passes max_length to zlib).
        probe = copy.copy(info)
        probe.file_size = 1 << 62
        try:
            with zf.open(probe) as member:
                while chunk := member.read(CHUNK_BYTES):
                    yield chunk
        except Exception as exc:  # BadZipFile (CRC), zlib.error, encrypted or exotic method
            reject(CORRUPT, value=f"{info.filename}: {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------- helpers


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f}".replace(".", ",")  # Vietnamese decimal comma


def _chunks(whole: bytes) -> Iterator[bytes]:
    """A part inflated at once, in the chunks zipfile would have read it in."""
    size = CHUNK_BYTES
    for at in range(0, len(whole), size):
        yield whole[at:at + size]


def _is_decompressed_by_readers(info: zipfile.ZipInfo) -> bool:
    return not info.is_dir() and not info.filename.lower().endswith(_MEDIA_SUFFIXES)


def _decrypt_stream(f: BinaryIO, password: str) -> io.BytesIO:
    f.seek(0)
    office = msoffcrypto.OfficeFile(f)
    if getattr(office, "type", "") == "agile" and office.info.get("spinValue", 0) > MAX_SPIN_COUNT:
        raise ValueError("spin count too high")  # would hash for hours
    if office.format == "ooxml":
        office.load_key(password=password, verify_password=True)
    else:
        office.load_key(password=password)
    plain = io.BytesIO()
    office.decrypt(plain)
    plain.seek(0)
    return plain


def _check_encryption_info(f: BinaryIO) -> None:
    """msoffcrypto parses the EncryptionInfo XML with minidom: check it first."""
    f.seek(0)
    ole = olefile.OleFileIO(f)
    if not ole.exists("EncryptionInfo"):
        return  # an encrypted .xls: binary FilePass record, no XML
    if ole.get_size("EncryptionInfo") > MAX_ENCRYPTION_INFO_BYTES:
        reject(CORRUPT, value="EncryptionInfo stream too large")
    if DTD.search(ole.openstream("EncryptionInfo").read()):
        reject(XML_ENTITIES, part="EncryptionInfo")


_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\s[^<>]*")
_TARGET = re.compile(rb'\sTarget\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _check_unique_names(infos: list[zipfile.ZipInfo]) -> None:
    """Two members of one name (part names are case-insensitive in OPC): zipfile, calamine
    and Excel may each read a different one, so what is checked need not be what is read."""
    seen: set[str] = set()
    for info in infos:
        key = info.filename.replace("\\", "/").lstrip("/").casefold()
        if key in seen:
            reject(DUPLICATE_PART, part=info.filename)
        seen.add(key)


def _check_ods_not_encrypted(zf: zipfile.ZipFile, data: bytes) -> None:
    # A password-protected .ods keeps its zip readable but encrypts content.xml.
    if b"encryption-data" in read_member_head(zf, "META-INF/manifest.xml", data=data):
        reject(ENCRYPTED)
