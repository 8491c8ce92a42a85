"""Which entries of a folder may be opened (regular files only), and a file's hash.

Inside a folder a symbolic link is never followed (it could point at any file of the
machine, or at /dev/zero) and a special file is never opened (reading a pipe waits for
ever).  Both are listed with the reason, never dropped silently.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

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
