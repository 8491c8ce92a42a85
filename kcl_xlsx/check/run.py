"""Check many files in worker processes: a file that crashes or hangs its parser is
rejected alone (see :mod:`sandbox`), and the run goes on."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from kcl_xlsx.spec.issues import Code, Issue

from kcl_xlsx.check.checker import CheckOptions, Submission, check_path, give_sources, sources_of
from kcl_xlsx.spec.roster import compare_with_roster
from kcl_xlsx.intake.sandbox import WorkerPool
from kcl_xlsx.spec.vocab import CheckStatus

TIMEOUT_S = 60.0
MEMORY_BYTES = 1536 * 2**20


def _check_item(item: tuple[str, CheckOptions, str]) -> Submission:
    path, options, display = item
    return check_path(path, options, display)


def worker_pool(options: CheckOptions, jobs: int | None = None,
                func: Callable[[tuple[str, CheckOptions, str]], Any] = _check_item) -> WorkerPool:
    """The pool :func:`check_many` checks with (not started: see WorkerPool.launch_missing)."""
    setup = (give_sources, (options, sources_of(options)))
    return WorkerPool(func, jobs=max(1, jobs or os.cpu_count() or 1), timeout_s=TIMEOUT_S, mem_bytes=MEMORY_BYTES,
                      setup=setup)


def check_many(items: list[tuple[Path, str]], options: CheckOptions, jobs: int | None = None,
               progress: Callable[[int], None] | None = None,
               func: Callable[[tuple[str, CheckOptions, str]], Any] = _check_item,
               pool: WorkerPool | None = None) -> Iterator[tuple[Path, Any]]:
    """Yield (path, submission) for each (path, display name), in completion order.
    ``func`` (a module-level function of (path, options, display name)) may return more
    than the submission; a file whose worker crashed or hung gets a bare Submission.
    ``pool``: one made by :func:`worker_pool` for the same options and func, perhaps
    already starting; it is closed at the end like the pool made here."""
    if not items:
        if pool is not None:
            pool.close()
        return
    pool = pool or worker_pool(options, jobs, func)
    pool.jobs = max(1, min(pool.jobs, len(items)))  # no more workers than files
    work = [(str(p), options, d) for p, d in items]
    with pool:
        for item, outcome in pool.imap_unordered(work):
            path, _opts, display = item
            sub = outcome.value if outcome.ok else _crashed(display, outcome)
            if progress:
                progress(1)
            yield Path(path), sub


def _crashed(display: str, outcome) -> Submission:
    sub = Submission(file=display, status=CheckStatus.UNREADABLE)
    # a worker that died or hung has its own code; an exception escaping check_path (a bug)
    # is still reported on that file alone
    sub.issues.append(outcome.issue(display) or Issue.make(Code.FILE_PARSER_CRASHED, file=display, value=outcome.error))
    return sub


def with_roster(sub: Submission, roster) -> Submission:
    """The submission with the roster's view of its school added (status updated)."""
    if sub.status not in (CheckStatus.VALID, CheckStatus.ERRORS):
        return sub
    extra = compare_with_roster(sub.school_code, sub.school_name, sub.level, roster)
    if not extra:
        return sub
    sub.issues = sub.issues + [dataclasses.replace(i, file=sub.file, school_code=sub.school_code) for i in extra]
    sub.status = CheckStatus.ERRORS if sub.errors else sub.status
    return sub
