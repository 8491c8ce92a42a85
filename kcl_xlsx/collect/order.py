"""Which of a school's submissions is the newest: one documented total order (see
:func:`newest_key`), shared by the collect (which plan is summarised) and the summary (which
file speaks for a school)."""
from __future__ import annotations

import datetime as dt
import functools

from kcl_xlsx.collect.result import InboxFile


def newest_key(f: InboxFile) -> tuple[str, int, str, str]:
    """The total order that picks a school's newest submission: the school's own save time
    (the file's "last modified" property, to the second), then the file's modified time in
    the inbox (when it arrived), then its content hash, then its name.  Nothing in it depends
    on the order in which workers finish or the second a file was recorded, so the same inbox
    always gives the same answer."""
    sub = f.sub
    return (norm_time(sub.saved_at) if sub else "", f.mtime_ns, f.sha256 or (sub.sha256 if sub else ""), f.rel)


@functools.lru_cache(maxsize=1 << 16)  # asked several times per file while a school's newest is chosen
def norm_time(s: str) -> str:
    """An ISO time as UTC to the second ("" when it is not one): what a school's program
    records as the file's last save."""
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return ""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
