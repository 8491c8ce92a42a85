"""Write the feedback copies of a check or collect run, one per file that has issues."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Callable, Iterator, Sequence

from macros_free_validation.report import Severity

from kcl_xlsx.check.checker import Submission
from kcl_xlsx.base.output import check_writable_dir
from kcl_xlsx.spec.vocab import CheckStatus, SourceKind


def feedback_name(sub: Submission, source: Path) -> str:
    """One name per school and file content: a re-run finds its earlier feedback."""
    prefix = sub.school_code or "khong-ro-truong"
    return f"phan-hoi_{prefix}_{source.stem}_{sub.sha256[:8]}.xlsx"


# (submission, its file, the feedback file to write) -> the file written: how a plan sent in
# another form than the template is answered (a Word plan: the school's template pre-filled
# from it, kcl_xlsx.issue.word_import, given by the command, a later stage than this one)
OtherForm = Callable[[Submission, Path, Path], Path]


def write_feedback_files(subs: Sequence[Submission], sources: Sequence[Path], out_dir: Path, *,
                         show_info: bool = False, word: OtherForm | None = None,
                         jobs: int | None = 0) -> list[Path]:
    """Feedback for every submission with errors or warnings; temporary/lock files skipped.
    A feedback file that exists already (same school, same file content) is kept as it is.
    Info-level issues are left off the copies unless ``show_info``.  A Word plan (every one
    has a warning: the template next time) is answered by ``word`` when given.  ``jobs``:
    the copies are written by that many worker processes (None: one per core) when there
    are enough of them; 0 writes them all in this process.  The copies come back in the
    order of ``subs`` either way."""
    check_writable_dir(out_dir)
    written: dict[int, Path] = {}
    copies: list[tuple[int, _Copy]] = []
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    for n, (sub, src) in enumerate(zip(subs, sources)):
        if sub.status == CheckStatus.TEMPORARY:
            continue
        if not any(i.severity in (Severity.ERROR, Severity.WARNING) for i in sub.issues):
            continue
        target = out_dir / feedback_name(sub, src)
        if target.exists():
            continue
        # the copy says Hợp lệ, Cần sửa or (any file not read as a plan) Sai mẫu
        status = sub.status if sub.status in (CheckStatus.VALID, CheckStatus.ERRORS) else CheckStatus.WRONG_TEMPLATE
        info = {"school_code": sub.school_code, "school_name": sub.school_name, "checked_at": stamp,
                "unit": str(sub.identity.get("unit", "") or ""), "year": sub.year or ""}
        if word is not None and sub.source_kind == SourceKind.WORD:
            written[n] = word(sub, src, target)
            continue
        copies.append((n, (Path(src), list(sub.issues), status, target, info, show_info)))
    written.update(_copies_written(copies, jobs))
    return [written[n] for n in sorted(written)]


# (the school's file, its issues, the status the copy shows, the copy's path, its title
# block, whether info-level issues are shown): one feedback copy, sent to a worker as is
_Copy = tuple[Path, list, CheckStatus, Path, dict, bool]

# Fewer copies than this are written here: a worker takes ~0.5 s to start, a copy ~0.17 s
# (openpyxl reads and writes the school's whole workbook; measured on 40-row plans).
POOL_FROM_COPIES = 8
TIMEOUT_S = 120.0


def write_copy(copy: _Copy) -> Path:
    """One feedback copy (in a worker, or here)."""
    from kcl_xlsx.check.feedback import write_feedback  # openpyxl: loaded only when feedback is written

    src, issues, status, target, info, show_info = copy
    return write_feedback(src, issues, status, target, title_info=info, show_info=show_info)


def _copies_written(copies: list[tuple[int, _Copy]], jobs: int | None) -> Iterator[tuple[int, Path]]:
    """(index, path) of every copy written.  A province's first run answers thousands of
    files, one openpyxl round trip each (~14 minutes for 5,000 in one process): worker
    processes of the sandbox the checks run in share them out.  A copy its worker could
    not write (an exception, a crash, an overrun) is written again here, so that its error,
    if it has one, is this run's own (a full disk: one line and exit 2), as when every copy
    is written here."""
    pool = None if jobs == 0 or len(copies) < POOL_FROM_COPIES else _started_pool(jobs, len(copies))
    if pool is None:
        for n, copy in copies:
            yield n, write_copy(copy)
        return
    index = {id(copy): n for n, copy in copies}
    again: list[tuple[int, _Copy]] = []
    with pool:
        for copy, outcome in pool.imap_unordered([copy for _, copy in copies]):
            if outcome.ok:
                yield index[id(copy)], outcome.value
            else:
                again.append((index[id(copy)], copy))
    for n, copy in sorted(again, key=lambda item: item[0]):
        target = copy[3]
        # written after all when its worker overran just after renaming it into place
        yield n, target if target.exists() else write_copy(copy)


def _started_pool(jobs: int | None, copies: int):
    """Workers ready to write copies, or None when none can be had (process limits)."""
    from kcl_xlsx.intake.sandbox import WorkerPool

    pool = WorkerPool(write_copy, jobs=min(max(1, jobs or os.cpu_count() or 1), copies), timeout_s=TIMEOUT_S)
    try:
        pool.start()
    except (OSError, RuntimeError):
        pool.close()
        return None
    return pool
