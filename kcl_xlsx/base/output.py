"""Writing outputs safely: to a temporary name, then renamed into place; never over an
existing file unless the caller asked for that explicitly."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Iterator


class OutputError(RuntimeError):
    """An output cannot be written.  ``str()`` is one line naming the path."""


def cannot_write(path: Path | str, exc: OSError) -> OutputError:
    """The one line for an output the system refused to write (no room, no permission, a
    file where a folder should be)."""
    return OutputError(f"{path}: không ghi được ({exc.strerror}) / cannot write")


def file_mode() -> int:
    """The mode a new file gets from the user's umask (0644 under 022).  A temporary file is
    created 0600; renamed into place it would keep that, and colleagues on a shared drive
    could not open the summary or the templates."""
    return 0o666 & ~current_umask()


def current_umask() -> int:
    """This process's umask, read without changing it where the system allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return next(int(line.split()[1], 8) for line in fh if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0o022)  # elsewhere the only way to read it is to set it
        os.umask(umask)
        return umask


@contextlib.contextmanager
def temporary_beside(path: Path, suffix: str | None = None) -> Iterator[Path]:
    """A temporary file beside ``path`` (same file system: the rename is atomic), removed
    if it is still there at the end; a refusal (OSError) is :func:`cannot_write` of ``path``.
    ``suffix``: the temporary name's ending (default: ``path``'s)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".kcl-", suffix=path.suffix if suffix is None else suffix, dir=path.parent)
        os.fchmod(fd, file_mode())  # the rename keeps the temporary's mode: make it an ordinary file's
        os.close(fd)
    except OSError as exc:  # the folder is a file, or not writable
        raise cannot_write(path, exc) from None
    try:
        yield Path(tmp)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_writable_dir(path: Path) -> None:
    """``path`` is a folder we may write in, or one we can create: its nearest existing
    ancestor is a writable folder (not a file standing where a folder is needed)."""
    path = Path(path)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe == path and not path.is_dir():
        raise OutputError(f"{path}: đã có một tệp cùng tên, cần một thư mục / exists and is not a folder")
    if not probe.is_dir():
        raise OutputError(f"{path}: {probe} là một tệp, không phải thư mục / {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        raise OutputError(f"{path}: không có quyền ghi / not writable")


def refuse_existing(path: Path) -> None:
    if Path(path).exists():
        raise OutputError(f"{path}: tệp đã tồn tại, không ghi đè (chọn tên khác hoặc xóa tệp cũ) "
                          f"/ already exists, not overwritten")


def write_atomic(path: Path, data: bytes, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename, so a
    reader never sees half a file and a failure leaves nothing behind."""
    path = Path(path)
    if not overwrite:
        refuse_existing(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".kcl-", suffix=".part", dir=path.parent)
        os.fchmod(fd, file_mode())
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if the name appeared meanwhile: never clobber a file we did not check
            os.link(tmp, path)
            os.unlink(tmp)
    except FileExistsError:
        os.unlink(tmp)
        raise OutputError(f"{path}: tệp đã tồn tại, không ghi đè / already exists, not overwritten") from None
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise cannot_write(path, exc) from None


def backup_name(path: Path) -> Path:
    """``name.YYYYmmdd-HHMMSS.ext`` (from the earlier file's time), unique in its folder."""
    path = Path(path)
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
    candidate, n = path.with_name(f"{path.stem}.{stamp}{path.suffix}"), 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{stamp}-{n}{path.suffix}")
        n += 1
    return candidate


def replace_keeping_backup(tmp: Path, out: Path) -> Path | None:
    """Move the finished ``tmp`` to ``out``; an earlier ``out`` is kept under a timestamped
    name (returned), never silently overwritten."""
    backup = None
    if out.exists():
        backup = backup_name(out)
        os.link(out, backup)  # the earlier file stays reachable before it is replaced
    os.replace(tmp, out)
    return backup
