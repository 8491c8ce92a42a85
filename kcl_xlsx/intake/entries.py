"""The one walk over what a user hands us (files, folders, .zip attachments), for `check`
and `collect` alike, and a file's hash.

Inside a folder a symbolic link is never followed (it could point at any file of the
machine, or at /dev/zero) and a special file is never opened (reading a pipe waits for
ever).  Both are listed with the reason, never dropped silently.  The workbooks inside a
.zip attachment are copied (bounded) into a private folder and named
``attachment.zip!inner.xlsx``; a .zip inside it is opened the same way, to ``MAX_ZIP_DEPTH``
levels, within the same bounds (``MAX_ZIP_MEMBERS`` per archive, ``MAX_ZIP_TOTAL`` bytes for
the whole attachment).  Every other member (not a workbook, encrypted, too large, a name
leaving the archive, an archive nested too deep, the members past the count) is an entry
listed with the reason: nothing in an inbox is unaccounted.  Nothing given is ever changed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Iterable

from kcl_xlsx.intake.sniff import zip_directory

LINK = "liên kết tượng trưng (symlink): không đọc theo liên kết / a symbolic link, not followed"
SPECIAL = "không phải tệp thường (ống, thiết bị...): không mở / not a regular file, not opened"
GONE = "không còn ở đó khi đọc (đã bị xóa hoặc di chuyển) / gone when read (deleted or moved meanwhile)"


def look(p: Path, follow_links: bool = False) -> tuple[os.stat_result | None, str | None]:
    """``p``'s status and why it is not to be opened (None for a regular file or a
    folder).  A link that the user named on the command line is followed
    (``follow_links``); one found inside a folder is not.  One or two system calls: an
    inbox of 10,000 files was walked with five per file (issue 15)."""
    try:
        st = p.lstat()
    except OSError:  # gone since it was listed
        return None, GONE
    if stat.S_ISLNK(st.st_mode):
        if not follow_links:
            return st, LINK
        try:
            target = p.stat()
        except OSError:  # a dangling link
            return st, SPECIAL
        if not (stat.S_ISREG(target.st_mode) or stat.S_ISDIR(target.st_mode)):
            return st, SPECIAL
        return target, None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return st, SPECIAL
    return st, None


def file_sha256(path: Path | str) -> str:
    """The SHA-256 of a file's bytes, read in 1 MB pieces; "" when it cannot be read (the
    caller reports the file by what it could learn, never by a traceback)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(2**20), b""):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
WORD_SUFFIXES = (".docx", ".docm", ".doc", ".odt")  # plans written in Word: checked too (readers/docx.py)
PLAN_SUFFIXES = WORKBOOK_SUFFIXES + WORD_SUFFIXES
MAX_ZIP_MEMBERS = 200  # per archive; the rest is counted and named in one entry
MAX_ZIP_TOTAL = 256 * 2**20  # bytes copied out of one attachment, its nested archives included
MAX_ZIP_DEPTH = 2  # an attachment is level 1; a .zip inside it (level 2) is opened, one deeper is listed
MAX_ZIP_DIRECTORY_BYTES = 8 * 2**20  # zipfile parses the whole directory: ~100,000 names; more is not opened

FILE, ARCHIVE, SKIPPED = "file", "archive", "skipped"

# Why a member of an archive is not checked (the user reads "a.zip!x: bỏ qua, <reason>").
NOT_WORKBOOK = "không phải bảng tính hay văn bản Word, không kiểm tra / not a workbook or Word plan, not checked"
ENCRYPTED = "được đặt mật khẩu trong tệp nén, không mở / encrypted inside the archive, not opened"
TRAVERSAL = "tên có đường dẫn ra ngoài tệp nén (../ hoặc tuyệt đối), không mở / a path leaving the archive, not opened"
TOO_LARGE = "quá lớn ({limit} byte), không mở / over the size bound, not opened"
DUPLICATE = "trùng tên với một mục trước trong tệp nén, không mở / the same name as an earlier member, not opened"
UNREADABLE = "không đọc được trong tệp nén ({error}) / cannot be read from the archive"
NESTED_TOO_DEEP = ("Bỏ qua: tệp nén lồng nhau quá {depth} cấp, không mở / a nested archive deeper than "
                   "{depth} levels, not opened")
TOO_MANY = ("còn {count} mục nữa không mở (tệp nén có hơn {max} mục): {names} / {count} more members "
            "not opened (over {max} members)")
MACOS = "tệp phụ của macOS (__MACOSX), không kiểm tra / macOS metadata, not checked"
HUGE_DIRECTORY = ("tệp nén có {count} mục (danh mục {size} byte), quá nhiều để mở / an archive of {count} "
                  "members, too many to open")


@dataclasses.dataclass
class Entry:
    """One thing found: a file to check, a .zip attachment (every member is an entry of
    its own: its workbooks to check, the rest listed with the reason) or an entry only
    listed (a link, a special file, an archive member not opened)."""

    name: str  # what the user reads: the path as given, or relative to the inbox; "a.zip!b.xlsx"
    path: Path  # where to read it (where it is, the private copy of a zip member; a skipped member: its archive)
    size: int
    mtime_ns: int
    kind: str = FILE  # FILE | ARCHIVE | SKIPPED
    note: str = ""  # why skipped; what an archive held
    sha256: str = ""  # an archive's (its members are hashed when checked)


def walk(inputs: Iterable[Path], tmp: Path, max_member_bytes: int, relative_to: Path | None = None) -> list[Entry]:
    """Every file named and every file below the folders named (sorted, so runs are
    stable), every member of .zip attachments (workbooks copied into ``tmp``, nested
    archives opened to ``MAX_ZIP_DEPTH``), and the entries not opened with the reason.
    Names are relative to ``relative_to`` when given (an inbox), else the paths as given."""
    out: list[Entry] = []
    for given in inputs:
        given = Path(given)
        below = _below(given) if given.is_dir() and not given.is_symlink() else [given]
        base = relative_to.as_posix().rstrip("/") + "/" if relative_to is not None else ""
        for p in below:
            name = _relative(p, relative_to, base)
            st, reason = look(p, follow_links=p == given)  # a link the user named is followed
            if reason:
                out.append(Entry(name, p, st.st_size if st else 0, st.st_mtime_ns if st else 0, SKIPPED, reason))
                continue
            assert st is not None
            if stat.S_ISDIR(st.st_mode):
                continue
            entry = Entry(name, p, st.st_size, st.st_mtime_ns)
            if p.suffix.lower() == ".zip" and not p.name.startswith("~$"):
                opened = _Archives(tmp, max_member_bytes).open(entry, 1)
                if opened is not None:
                    out.extend(opened)
                    continue
            out.append(entry)
    return out


def _below(folder: Path) -> list[Path]:
    """Every entry below ``folder`` (links listed, never followed into), in the order of
    ``sorted(folder.rglob("*"))``: by path components.  One scandir per folder: pathlib's
    rglob and sort took a third of a second for an inbox of 10,000 files."""
    found: list[tuple[tuple[str, ...], str]] = []

    def visit(path: str, parts: tuple[str, ...]) -> None:
        try:
            with os.scandir(path) as listing:
                entries = list(listing)
        except OSError:  # unreadable folder: what is below it cannot be listed (as rglob)
            return
        for entry in entries:
            found.append((parts + (entry.name,), entry.path))
            try:
                if entry.is_dir(follow_symlinks=False):
                    visit(entry.path, parts + (entry.name,))
            except OSError:
                pass

    visit(os.fspath(folder), ())
    found.sort()
    return [Path(path) for _parts, path in found]


def _relative(p: Path, relative_to: Path | None, base: str) -> str:
    """``p.relative_to(relative_to).as_posix()`` (``base``: the folder's text with a "/"),
    by text when ``p`` was listed below it."""
    if relative_to is None:
        return str(p)
    text = p.as_posix()
    return text[len(base):] if base and text.startswith(base) else p.relative_to(relative_to).as_posix()


def _is_zip(p: Path) -> bool:
    try:
        return zipfile.is_zipfile(p)
    except OSError:
        return False


def _leaves_archive(inner: str) -> bool:
    """A member name that would land outside a folder it were extracted into ("zip slip")."""
    parts = inner.replace("\\", "/").split("/")
    return inner.startswith(("/", "\\")) or ".." in parts or (len(inner) > 1 and inner[1] == ":")


class _Archives:
    """The members of one attachment (and of the archives inside it), within one budget of
    bytes copied out (``MAX_ZIP_TOTAL``) whatever the nesting."""

    def __init__(self, tmp: Path, max_member_bytes: int):
        self.tmp, self.max_member_bytes, self.total = tmp, max_member_bytes, 0

    def open(self, archive: Entry, depth: int) -> list[Entry] | None:
        """``archive`` as an ARCHIVE entry followed by one entry per member; None when it
        is not a zip, is a workbook package named .zip or cannot be read (then it is
        checked as a file, and the checker says what it is)."""
        if not _is_zip(archive.path):
            return None
        try:
            with open(archive.path, "rb") as f:
                directory = zip_directory(f)
        except OSError:
            return None
        if directory is not None and directory.size > MAX_ZIP_DIRECTORY_BYTES:  # read before zipfile parses it
            return [Entry(archive.name, archive.path, archive.size, archive.mtime_ns, SKIPPED,
                          HUGE_DIRECTORY.format(count=directory.entries, size=directory.size))]
        try:
            with zipfile.ZipFile(archive.path) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
                names = {i.filename for i in infos}
                if "[Content_Types].xml" in names or "mimetype" in names:
                    return None  # an OOXML/ODF package renamed .zip: let the checker judge it
                members, own = self._members(zf, infos, archive, depth)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError):
            return None
        workbooks, skipped = own.count(FILE), own.count(SKIPPED)  # its own members, not the nested ones'
        note = f"{workbooks} bảng tính bên trong"
        if skipped:
            note += f", {skipped} mục bỏ qua"
        head = Entry(archive.name, archive.path, archive.size, archive.mtime_ns, ARCHIVE, note,
                     archive.sha256 or file_sha256(archive.path))
        return [head, *members]

    def _members(self, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], archive: Entry,
                 depth: int) -> tuple[list[Entry], list[str]]:
        """Every entry below ``archive``, and the kinds of its own members (not of those
        of an archive inside it)."""
        out: list[Entry] = []
        seen: set[str] = set()
        own: list[str] = []
        for n, info in enumerate(infos):
            before = len(out)
            if n >= MAX_ZIP_MEMBERS:
                rest = [i.filename for i in infos[n:]]
                shown = ", ".join(rest[:5]) + (", ..." if len(rest) > 5 else "")
                out.append(Entry(f"{archive.name}!…", archive.path, sum(i.file_size for i in infos[n:]),
                                 archive.mtime_ns, SKIPPED,
                                 TOO_MANY.format(count=len(rest), max=MAX_ZIP_MEMBERS, names=shown)))
                own.append(SKIPPED)
                break
            inner = info.filename
            name = f"{archive.name}!{inner}"
            base = inner.replace("\\", "/").rsplit("/", 1)[-1]

            def skip(reason: str) -> None:
                out.append(Entry(name, archive.path, info.file_size, archive.mtime_ns, SKIPPED, reason))

            if _leaves_archive(inner):
                skip(TRAVERSAL)
            elif inner in seen:
                skip(DUPLICATE)
            elif inner.startswith("__MACOSX/") or base.startswith("._"):
                skip(MACOS)
            elif info.flag_bits & 0x1:
                skip(ENCRYPTED)
            elif base.lower().endswith(".zip") and not base.startswith("~$"):
                if depth >= MAX_ZIP_DEPTH:
                    skip(NESTED_TOO_DEEP.format(depth=MAX_ZIP_DEPTH))
                else:
                    out.extend(self._nested(zf, info, name, archive, depth, skip))
            elif base.lower().endswith(PLAN_SUFFIXES) or base.startswith("~$"):
                copied = self._copy(zf, info, base, skip)
                if copied is not None:
                    out.append(Entry(name, copied[0], copied[1], archive.mtime_ns))
            else:
                skip(NOT_WORKBOOK)
            seen.add(inner)
            if len(out) > before:
                own.append(out[before].kind)  # the member itself comes first (an archive, then its members)
        return out, own

    def _nested(self, zf, info, name, archive, depth, skip) -> list[Entry]:
        copied = self._copy(zf, info, info.filename.rsplit("/", 1)[-1], skip)
        if copied is None:
            return []
        inner = Entry(name, copied[0], copied[1], archive.mtime_ns)
        return self.open(inner, depth + 1) or [inner]  # not a zip after all: checked as a file

    def _copy(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, base: str, skip) -> tuple[Path, int] | None:
        """The member copied (bounded) into the private folder, with its size; None (and
        the member listed as skipped) when it is over the bounds or cannot be read."""
        limit = min(self.max_member_bytes, MAX_ZIP_TOTAL - self.total)
        if info.file_size > limit:  # declared: a first answer, the copy is bounded anyway
            skip(TOO_LARGE.format(limit=limit))
            return None
        self.tmp.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkdtemp(prefix="z", dir=self.tmp)) / _safe(base)
        try:
            size = _copy_bounded(zf, info, target, limit)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
            target.unlink(missing_ok=True)
            skip(UNREADABLE.format(error=f"{type(exc).__name__}: {exc}"[:200]))
            return None
        if size > limit:  # the directory lied about its size
            target.unlink(missing_ok=True)
            skip(TOO_LARGE.format(limit=limit))
            return None
        self.total += size
        return target, size


def _copy_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> int:
    """Copy a member, reading at most ``limit`` + 1 bytes (the declared size is not
    trusted); a result over ``limit`` means the member is too large."""
    n = 0
    with zf.open(info) as src, open(target, "wb") as dst:
        while True:
            chunk = src.read(min(2**20, limit + 1 - n))
            if not chunk:
                break
            dst.write(chunk)
            n += len(chunk)
            if n > limit:
                break
    return n


def _safe(name: str) -> str:
    return re.sub(r"[^\w.~$ -]+", "_", name)[:120] or "file"
