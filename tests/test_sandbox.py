"""The worker pool: a task that aborts its process, hangs or blows up its memory fails
alone; the others in the same pool complete; no process is left behind.

The functions the workers run are defined here at module level (workers import this
module by name, as ``tests.test_sandbox``).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kcl_xlsx.intake.sandbox import PARSER_CRASHED, TIMEOUT, Outcome, WorkerPool, run_one
from macros_free_validation.report import Severity
from tests import malformed_corpus as mc

ROOT = Path(__file__).resolve().parent.parent
GOOD = [f"ok-{i}" for i in range(30)]


# --------------------------------------------------------------------------- worker functions


def behave(item: str):
    """What a parser might do with a file."""
    if item == "abort":
        os.abort()  # what python-calamine does on a failed Rust allocation
    if item == "panic":  # what python-calamine writes before aborting (issue 14), then aborts
        os.write(2, PANIC_TEXT.encode())
        os.abort()
    if item == "sleep":
        time.sleep(60)
    if item == "allocate":
        return len(bytearray(4 * 2**30))
    if item == "raise":
        raise ValueError("không đọc được")
    if item == "pid":
        return os.getpid()
    if item == "slow":
        time.sleep(0.6)
    return item.upper()


PANIC_TEXT = ("thread '<unnamed>' panicked at src/xlsx/mod.rs:512:9:\ncapacity overflow\nstack backtrace:\n"
              "   0: rust_begin_unwind\n   1: core::panicking::panic_fmt\nnote: Some details are omitted, run with "
              "`RUST_BACKTRACE=full` for a verbose backtrace.\nmemory allocation of 51539607552 bytes failed\n")


def read_with_calamine(path: str):
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_path(path)
    return [workbook.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in workbook.sheet_names]


class _CannotStart:
    """Unpickling it in a fresh worker fails: a set-up error, not a bad file."""

    def __reduce__(self):
        return (_refuse_in_worker, (os.getpid(),))  # the pid of the process that pickles it

    def __call__(self, item):
        return item


def _refuse_in_worker(parent_pid: int):
    if os.getpid() != parent_pid:
        raise ImportError("this environment cannot run the parser")
    return _CannotStart()


# --------------------------------------------------------------------------- helpers


def _run(items: list, **options) -> dict:
    options = {"jobs": 2, "timeout_s": 20.0, **options}
    with WorkerPool(behave, **options) as pool:
        results = dict(pool.imap_unordered(items))
    assert sorted(results, key=str) == sorted(items, key=str)
    return results


def _only_failure(results: dict, bad: str) -> Outcome:
    for item in GOOD:
        assert results[item] == Outcome(True, item.upper()), item
    assert not results[bad].ok
    return results[bad]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# --------------------------------------------------------------------------- failures stay local


def test_an_aborting_worker_fails_only_its_task():
    items = GOOD[:15] + ["abort"] + GOOD[15:]
    failure = _only_failure(_run(items), "abort")
    assert failure.code == PARSER_CRASHED
    assert failure.error == "worker killed by SIGABRT"


def test_a_hanging_worker_fails_only_its_task():
    started = time.monotonic()
    items = ["sleep"] + GOOD
    failure = _only_failure(_run(items, timeout_s=1.0), "sleep")
    assert failure.code == TIMEOUT
    assert 1.0 <= failure.seconds < 5
    assert time.monotonic() - started < 10


def test_a_4_gib_allocation_fails_only_its_task():
    items = GOOD[:10] + ["allocate"] + GOOD[10:]
    failure = _only_failure(_run(items, mem_bytes=2**30), "allocate")
    assert failure.code == PARSER_CRASHED
    assert failure.error.startswith("MemoryError")


def test_an_exception_is_returned_and_the_worker_stays():
    with WorkerPool(behave, jobs=1, timeout_s=20.0) as pool:
        results = list(pool.imap_unordered(["pid", "raise", "pid"]))
    (_, first), (_, raised), (_, second) = results
    assert raised == Outcome(False, None, "ValueError: không đọc được")
    assert raised.issue("a.xlsx") is None  # the caller words its own exceptions
    assert first.value == second.value  # the same process served all three


def test_any_item_is_a_task_none_included():
    assert run_one(behave, "pid").ok
    with WorkerPool(repr, jobs=1) as pool:
        assert list(pool.imap_unordered([None, 0, ""])) == [(None, Outcome(True, "None")), (0, Outcome(True, "0")),
                                                           ("", Outcome(True, "''"))]


def test_the_file_that_kills_python_calamine_is_rejected_alone(tmp_path):
    """XFD1048576 makes python-calamine 0.9.1 try a 512 GiB allocation and abort the whole
    interpreter; in the pool it only costs its own task."""
    bomb = mc.cell_at_xfd1048576(tmp_path)
    good = mc.good_xlsx(tmp_path)
    with WorkerPool(read_with_calamine, jobs=2, timeout_s=30.0) as pool:
        results = dict(pool.imap_unordered([str(good), str(bomb), str(good) + "?"]))
    assert results[str(good)].ok and results[str(good)].value[1][0][0] == "STT"
    failure = results[str(bomb)]
    assert not failure.ok and failure.code in (PARSER_CRASHED, TIMEOUT)
    issue = failure.issue("o-cuoi-cung.xlsx")
    assert issue.severity == Severity.ERROR and "o-cuoi-cung.xlsx" in issue.message
    assert not results[str(good) + "?"].ok  # a missing file: an ordinary exception


def test_outcome_issues_are_vietnamese_and_name_the_file():
    timeout = Outcome(False, error="timeout: no result after 30 s", code=TIMEOUT, seconds=30.02).issue("a.xlsx")
    assert timeout.message == "Đọc tệp a.xlsx mất quá 30,0 giây nên đã dừng."
    crash = Outcome(False, error="worker killed by SIGABRT", code=PARSER_CRASHED, seconds=0.1).issue("b.xlsx")
    assert crash.code == PARSER_CRASHED and "b.xlsx" in crash.message and crash.value == "worker killed by SIGABRT"
    assert Outcome(True, 1).issue("c.xlsx") is None


# --------------------------------------------------------------------------- processes


def test_no_process_is_left_behind():
    with WorkerPool(behave, jobs=2, timeout_s=1.0) as pool:
        first = list(pool.pids)
        results = dict(pool.imap_unordered(["abort", "sleep", "ok"]))
        replaced = list(pool.pids)
    assert (results["abort"].code, results["sleep"].code, results["ok"].ok) == (PARSER_CRASHED, TIMEOUT, True)
    assert len(replaced) == 2 and not set(replaced) <= set(first)  # crashed workers were replaced
    assert all(_gone(pid) for pid in first + replaced)


@pytest.mark.parametrize("bad, code", [("abort", PARSER_CRASHED), ("sleep", TIMEOUT), ("allocate", PARSER_CRASHED)])
def test_a_task_queued_behind_a_failing_one_still_runs(bad, code):
    """A worker holds two tasks at once; when the first kills or hangs it, the second was
    never run: it goes to a fresh worker, with a deadline counted from its own start."""
    with WorkerPool(behave, jobs=1, timeout_s=1.0, mem_bytes=2**30) as pool:
        results = dict(pool.imap_unordered([bad, "slow", "ok"]))
    assert results[bad].code == code
    assert results["slow"] == Outcome(True, "SLOW") and results["ok"] == Outcome(True, "OK")


def test_workers_are_kept_busy_while_the_consumer_works():
    """The next task is already in the worker's pipe while the parent handles a result."""
    with WorkerPool(behave, jobs=1, timeout_s=10.0) as pool:
        seen = []
        for item, outcome in pool.imap_unordered(["slow", "slow", "slow"]):
            seen.append(len(pool.workers[0].queue))
            time.sleep(0.3)  # the consumer's own work
    assert seen[:2] == [1, 1]  # when a result arrives, the next task is already with the worker


def test_a_consumer_that_stops_early_leaves_no_worker_running():
    with WorkerPool(behave, jobs=2, timeout_s=30.0) as pool:
        for _ in pool.imap_unordered(["ok", "sleep", "sleep", "ok"]):
            break
        pids = list(pool.pids)
        assert dict(pool.imap_unordered(["again"])) == {"again": Outcome(True, "AGAIN")}
        pids += pool.pids
    assert all(_gone(pid) for pid in pids)


def test_a_worker_that_cannot_start_is_a_setup_error():
    with pytest.raises(RuntimeError, match="could not start"):
        WorkerPool(_CannotStart(), jobs=1).start()


_CTRL_C_SCRIPT = textwrap.dedent("""
    import sys
    from kcl_xlsx.intake.sandbox import WorkerPool
    from tests.test_sandbox import behave

    if __name__ == "__main__":
        with WorkerPool(behave, jobs=2, timeout_s=60.0) as pool:
            print(*pool.pids, flush=True)
            for _ in pool.imap_unordered(["sleep", "sleep"]):
                pass
""")


def test_ctrl_c_in_the_parent_stops_the_workers(tmp_path):
    script = tmp_path / "ctrl_c.py"
    script.write_text(_CTRL_C_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2, proc.stderr.read()
        time.sleep(0.3)  # both workers are asleep in their tasks
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "KeyboardInterrupt" in stderr
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in pids)


# --------------------------------------------------------------------------- spec files given to workers


def test_workers_use_the_spec_files_the_parent_loaded(tmp_path):
    """`check` loads and validates the catalog/choices/form once, in the parent; each worker
    receives them when it starts instead of reading the files again.  Proof: the options name
    a choices file that is removed once the parent has loaded it, and the workers still check."""
    import shutil

    from kcl_xlsx.check.checker import CheckOptions, sources_of
    from kcl_xlsx.check.run import check_many
    from kcl_xlsx.issue.issuing import TemplateFactory
    from kcl_xlsx.spec.plan_spec import Sources

    builtin = ROOT / "workbook_templates" / "data" / "choices.yaml"
    own = tmp_path / "lua-chon.yaml"
    shutil.copy(builtin, own)
    options = CheckOptions(choices=str(own), year="2025-2026")
    loaded = sources_of(options)  # the parent loads it (as the CLI does)
    own.unlink()  # a worker that read the file itself would fail on every plan
    data, _ = TemplateFactory(Sources.load(), "2025-2026").make("thcs")
    plans = []
    for i in range(3):
        plans.append(tmp_path / f"p{i}.xlsx")
        plans[-1].write_bytes(data)
    results = dict(check_many([(p, p.name) for p in plans], options, jobs=2))
    assert len(results) == 3
    for sub in results.values():
        assert sub.status == "errors", [i.message for i in sub.issues]  # an empty plan: read and judged
        assert [i.code for i in sub.issues if i.code.startswith("file.")] == []
    assert loaded.choices.owners


_PANIC_SCRIPT = textwrap.dedent("""
    from kcl_xlsx.intake.sandbox import WorkerPool
    from tests.test_sandbox import behave

    if __name__ == "__main__":
        with WorkerPool(behave, jobs=1, timeout_s=60.0) as pool:
            results = dict(pool.imap_unordered(["a", "panic", "b"]))
        print(results["panic"].error)
        print(results["a"].value, results["b"].value)
""")


def test_a_panic_is_told_in_one_line_never_on_the_terminal():
    """Issue 14: a Rust panic with its backtrace landed on the user's terminal.  The
    worker's standard error goes to a private file; its death is told in one line."""
    run = subprocess.run([sys.executable, "-c", _PANIC_SCRIPT], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert run.returncode == 0, run.stderr
    error, values = run.stdout.splitlines()
    assert error == "worker killed by SIGABRT: memory allocation of 51539607552 bytes failed"
    assert values == "A B"  # the tasks before and after it are not affected
    assert "panicked" not in run.stderr and "backtrace" not in run.stderr and "memory allocation" not in run.stderr


def test_no_stderr_file_is_left_behind(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _run(GOOD[:3] + ["abort", "panic"])
    assert list(tmp_path.iterdir()) == []


def test_workers_launched_early_start_when_needed_and_stop_when_not():
    """collect launches a worker before it knows whether any file needs checking (it starts
    while the ledger is read): used, it checks like any other; never used, closing the pool
    stops it at once instead of waiting for it to finish starting."""
    pool = WorkerPool(behave, jobs=2, timeout_s=20.0)
    pool.launch_missing(1)
    assert len(pool.workers) == 1 and not pool.workers[0].ready
    with pool:  # start() adds the second worker and waits for both
        assert len(pool.workers) == 2 and all(w.ready for w in pool.workers)
        assert {item: outcome.value for item, outcome in pool.imap_unordered(["a", "b"])} == {"a": "A", "b": "B"}
    unused = WorkerPool(behave, jobs=2)
    unused.launch_missing(1)
    pids = unused.pids
    unused.close()
    assert unused.workers == [] and pids
    for pid in pids:
        with pytest.raises((ProcessLookupError, ChildProcessError)):
            os.kill(pid, 0)  # gone, and reaped (no zombie)
