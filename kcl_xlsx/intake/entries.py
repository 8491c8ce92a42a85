"""The one walk over what a user hands us (files, folders, .zip attachments), for `check`
and `collect` alike, and a file's hash.

Inside a folder a symbolic link is never followed (it could point at any file of the
machine, or at /dev/zero) and a special file is never opened (reading a pipe waits for
ever).  Both are listed with the reason, never dropped silently.  The workbooks inside a
.zip attachment are copied (bounded) into a private folder and named
``attachment.zip!inner.xlsx``; nothing given is ever changed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
import zipfile
from pathlib import Path
from typing import Iterable

LINK = "liên kết tượng trưng (symlink): không đọc theo liên kết / a symbolic link, not followed"
SPECIAL = "không phải tệp thường (ống, thiết bị...): không mở / not a regular file, not opened"


def skip_reason(p: Path, follow_links: bool = False) -> str | None:
    """Why ``p`` is not to be opened, or None for a regular file or a folder.  A link that
    the user named on the command line is followed (``follow_links``); one found inside a
    folder is not."""
    if p.is_symlink() and not follow_links:
        return LINK
    if not (p.is_file() or p.is_dir()):
        return SPECIAL
    return None


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
MAX_ZIP_MEMBERS = 200
MAX_ZIP_TOTAL = 256 * 2**20

FILE, ARCHIVE, SKIPPED = "file", "archive", "skipped"


@dataclasses.dataclass
class Entry:
    """One thing found: a file to check, a .zip attachment (its workbooks are entries of
    their own) or an entry only listed (a link, a special file)."""

    name: str  # what the user reads: the path as given, or relative to the inbox; "a.zip!b.xlsx"
    path: Path  # where to read it (where it is, or the private copy of a zip member)
    size: int
    mtime_ns: int
    kind: str = FILE  # FILE | ARCHIVE | SKIPPED
    note: str = ""  # why skipped; what an archive held
    sha256: str = ""  # an archive's (its members are hashed when checked)


def walk(inputs: Iterable[Path], tmp: Path, max_member_bytes: int, relative_to: Path | None = None) -> list[Entry]:
    """Every file named and every file below the folders named (sorted, so runs are
    stable), the workbooks of .zip attachments (copied into ``tmp``), and the entries not
    opened with the reason.  Names are relative to ``relative_to`` when given (an inbox),
    else the paths as given."""
    out: list[Entry] = []
    for given in inputs:
        given = Path(given)
        below = sorted(given.rglob("*")) if given.is_dir() and not given.is_symlink() else [given]
        for p in below:
            name = p.relative_to(relative_to).as_posix() if relative_to is not None else str(p)
            reason = skip_reason(p, follow_links=p == given)  # a link the user named is followed
            if reason:
                st = p.lstat()
                out.append(Entry(name, p, st.st_size, st.st_mtime_ns, SKIPPED, reason))
                continue
            if p.is_dir():
                continue
            st = p.stat()
            if p.suffix.lower() == ".zip" and not p.name.startswith("~$") and _is_zip(p):
                members = _extract(p, name, tmp, max_member_bytes, st.st_mtime_ns)
                if members is not None:
                    out.append(Entry(name, p, st.st_size, st.st_mtime_ns, ARCHIVE,
                                     f"{len(members)} bảng tính bên trong", file_sha256(p)))
                    out.extend(members)
                    continue
            out.append(Entry(name, p, st.st_size, st.st_mtime_ns))
    return out


def _is_zip(p: Path) -> bool:
    try:
        return zipfile.is_zipfile(p)
    except OSError:
        return False


def _extract(p: Path, name: str, tmp: Path, max_member_bytes: int, mtime_ns: int) -> list[Entry] | None:
    """Workbooks inside a .zip attachment, copied (bounded) into ``tmp``; None when the zip
    is itself a workbook package or cannot be read (then it is checked as a file)."""
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" in names or "mimetype" in names:
                return None  # an OOXML/ODF package renamed .zip: let the checker judge it
            out: list[Entry] = []
            total = 0
            for n, info in enumerate(i for i in infos if not i.is_dir()):
                inner = info.filename
                base = inner.rsplit("/", 1)[-1]
                if inner.startswith("__MACOSX/") or not base:
                    continue
                if n >= MAX_ZIP_MEMBERS:
                    break
                if not base.lower().endswith(WORKBOOK_SUFFIXES) and not base.startswith("~$"):
                    continue
                tmp.mkdir(parents=True, exist_ok=True)
                target = tmp / f"z{len(list(tmp.iterdir()))}" / _safe(base)
                target.parent.mkdir(parents=True)
                limit = min(max_member_bytes, MAX_ZIP_TOTAL - total)
                size = _copy_bounded(zf, info, target, limit)
                total += max(size, 0)
                out.append(Entry(f"{name}!{inner}", target, size if size >= 0 else info.file_size, mtime_ns))
            return out
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        return None


def _copy_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> int:
    """Copy a member, reading at most ``limit`` bytes (the declared size is not trusted); a
    member over the limit is truncated, so the checker rejects it as unreadable."""
    n = 0
    try:
        with zf.open(info) as src, open(target, "wb") as dst:
            while True:
                chunk = src.read(min(2**20, limit + 1 - n))
                if not chunk:
                    break
                dst.write(chunk)
                n += len(chunk)
                if n > limit:
                    break
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        target.write_bytes(b"")
        return 0
    return n


def _safe(name: str) -> str:
    return re.sub(r"[^\w.~$ -]+", "_", name)[:120] or "file"
