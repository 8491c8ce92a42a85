"""One collect at a time per ledger.

Two `collect` runs started a second apart on the same ledger both parsed every file and both
renamed the outputs.  A run now holds an exclusive lock on a file beside the ledger
(``kcl-ledger.sqlite.lock``) from its first look at the ledger until its outputs are written
and recorded; a second run waits for it (and says so), then finds the inbox unchanged and
does nothing.  The lock is the operating system's (released if the process dies), not the
lock file's existence, so a crashed run never leaves a stale lock behind.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Callable, Iterator

from kcl_xlsx.base.output import OutputError, cannot_write, file_mode

try:  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

POLL_S = 0.2


def lock_path(ledger: Path) -> Path:
    return Path(str(ledger) + ".lock")


@contextlib.contextmanager
def one_run_at_a_time(ledger: Path, on_wait: Callable[[Path], None] | None = None,
                      timeout_s: float | None = None) -> Iterator[None]:
    """Hold the ledger's lock for the block.  When another run holds it, ``on_wait(lock)`` is
    called once and this run waits (up to ``timeout_s``, then one line: OutputError)."""
    path = lock_path(ledger)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, file_mode())
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        if not _try_lock(fd):
            if on_wait is not None:
                on_wait(path)
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            while not _try_lock(fd):
                if deadline is not None and time.monotonic() > deadline:
                    raise OutputError(f"{ledger}: một lần chạy khác vẫn đang dùng sổ theo dõi này sau {timeout_s:g} giây "
                                      f"/ another run still holds this ledger")
                time.sleep(POLL_S)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
