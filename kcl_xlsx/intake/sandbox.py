"""Run a parsing function over many files in worker processes, so that one bad file
cannot take the whole run down.

python-calamine aborts the interpreter on some files (a Rust allocation failure is not an
exception: nothing in the process can catch it), a hostile file can make a parser hang,
and a memory bomb can exhaust the machine.  Each :class:`WorkerPool` worker is a long-lived
process with an address-space limit (``RLIMIT_AS``); the parent gives one task at a time
to each idle worker over a pipe and watches a per-task deadline.  A worker that dies or
overruns is killed and replaced, and only ITS task fails (``file.parser_crashed`` /
``file.timeout``); the other tasks go on.

A worker's standard error goes to a private file, emptied before each task, never to the
user's terminal: a Rust panic or abort message with its backtrace is read back when the
worker dies and told in one line (the reason given with ``file.parser_crashed``).

Workers are started with the "forkserver" method on Linux (else "spawn"): they do not
inherit the parent's threads, locks or open pipes (a forked child holding a sibling's pipe
would hide that sibling's death), so ``func`` must be a picklable module-level function.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import tempfile
import time
from typing import Any, Callable, Iterable, Iterator

from kcl_xlsx.spec.issues import Code, Issue

# --------------------------------------------------------------------------- issue codes
# (their texts are in workbook_templates/data/issues.yaml; plain text, as issues carry them)

PARSER_CRASHED = Code.FILE_PARSER_CRASHED.value
TIMEOUT = Code.FILE_TIMEOUT.value


DEFAULT_MEM_BYTES = 3 * 2**29  # 1.5 GiB of address space per worker
# A task travels as a 1-tuple ``(item,)``, so that any item (None included) is a task and
# a bare None can mean "stop".
_STOP = None
_NO_MORE = object()  # end of the caller's items
_READY = "ready"  # a new worker's first message: it could import ``func`` and set its limits
_DIED_BUSY = object()  # hand_over's answer for a worker found dead with tasks queued (never yielded)
_START_SECONDS = 60.0  # a cold start imports the parser; a slow machine may take a while
_JOIN_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class Outcome:
    ok: bool
    value: Any = None
    error: str | None = None  # "ExcType: message", or what happened to the worker
    # PARSER_CRASHED when the worker died (or ran out of memory), TIMEOUT when it overran;
    # None for success and for an ordinary exception raised by ``func``.
    code: str | None = None
    seconds: float | None = None  # how long a crashed or overrunning task had run

    def issue(self, file: str) -> Issue | None:
        """The issue for a worker failure; None for success or a plain exception (the
        caller knows best how to word its own exceptions)."""
        if not self.code:
            return None
        seconds = f"{self.seconds or 0:.1f}".replace(".", ",")
        return Issue.make(self.code, file=file, seconds=seconds, value=self.error)


# --------------------------------------------------------------------------- worker side


def _worker_main(conn: multiprocessing.connection.Connection, func: Callable[[Any], Any],
                 mem_bytes: int | None, setup: tuple[Callable[[Any], None], Any] | None = None,
                 err_path: str | None = None) -> None:
    """Module level, so every start method can import it.  Runs tasks until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if err_path is not None:
        _capture_stderr(err_path)
    _limit_resources(mem_bytes)
    if setup is not None:
        setup[0](setup[1])  # e.g. the spec files the parent loaded: sent once, not re-read per worker
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if task is _STOP:
            return
        if err_path is not None:
            _empty_stderr()
        reply = _call(func, task[0])
        try:
            conn.send(reply)
        except Exception as exc:  # the value could not be pickled: say so instead
            conn.send((False, None, f"result not sendable: {type(exc).__name__}: {exc}", None))
        if reply[3] == PARSER_CRASHED:
            return  # after a MemoryError the heap may be in a poor state: start afresh


def _capture_stderr(err_path: str) -> None:
    """Standard error (file descriptor 2, so Rust's and C's writes too) into ``err_path``."""
    fd = os.open(err_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)


def _empty_stderr() -> None:
    try:
        os.ftruncate(2, 0)
    except OSError:
        pass


_ERR_TAIL_BYTES = 16 * 1024


def _last_words(err_path: str | None) -> str:
    """The one line of a dead worker's standard error that says what happened (a Rust
    abort or panic message, else the last line that is not a backtrace frame); "" if none."""
    if not err_path:
        return ""
    try:
        with open(err_path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - _ERR_TAIL_BYTES))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(("note:", "stack backtrace:", "at ")) and
              not line.split(":", 1)[0].strip().isdigit()]
    for marker in ("memory allocation of", "panicked at", "Fatal Python error", "Error", "error"):
        for i, line in enumerate(useful):
            if marker in line:
                # a panic's message is on the line after "panicked at <place>:"
                if marker == "panicked at" and line.endswith(":") and i + 1 < len(useful):
                    line = f"{line} {useful[i + 1]}"
                return " ".join(line.split())[:300]
    return " ".join(useful[-1].split())[:300] if useful else ""


def _limit_resources(mem_bytes: int | None) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not write a core file
    if mem_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = mem_bytes if hard == resource.RLIM_INFINITY else min(mem_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _call(func: Callable[[Any], Any], item: Any) -> tuple[bool, Any, str | None, str | None]:
    try:
        return True, func(item), None, None
    except MemoryError as exc:
        return False, None, f"MemoryError: {exc}", PARSER_CRASHED
    except BaseException as exc:  # SystemExit included: a task cannot end its worker
        return False, None, f"{type(exc).__name__}: {exc}", None


# --------------------------------------------------------------------------- parent side


@dataclasses.dataclass(eq=False)  # compared and hashed by identity
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    # Tasks sent and not answered yet, oldest first: the worker runs them in this order.
    # Keeping a second one queued means a worker never waits for the parent between tasks.
    queue: collections.deque = dataclasses.field(default_factory=collections.deque)
    started: float = 0.0  # monotonic time the oldest queued task started running
    err_path: str | None = None  # the worker's standard error (see _capture_stderr)
    ready: bool = False  # it said it started (see await_ready)

    @property
    def item(self) -> Any:
        return self.queue[0] if self.queue else None

    def deadline(self, timeout_s: float) -> float:
        return self.started + timeout_s


def default_context() -> multiprocessing.context.BaseContext:
    """Forkserver where the system has it (no copy of the parent's threads, locks or pipes),
    else spawn.  Start its processes inside :func:`startable_main`."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@contextlib.contextmanager
def startable_main() -> Iterator[None]:
    """Processes started inside this do not try to run a main script that is no file.

    A forkserver or spawn child first runs the parent's ``__main__`` again, from its
    ``__file__``.  A script fed on standard input (``python - <<EOF``, as an office's own
    script may be) has the ``__file__`` "<stdin>": every child died at its start, and
    ``collect`` stopped with a traceback.  Such a script is run as if it were typed (as
    an interactive session or ``python -c`` is): its children import only what their task
    names, as every task of ours is a module-level function of the package."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or getattr(main, "__spec__", None) is not None or os.path.isfile(
            os.path.join(multiprocessing.process.ORIGINAL_DIR or "", path)):
        yield  # no script, a module run with -m, or a script the child can run again
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


class WorkerPool:
    """``with WorkerPool(read_file, jobs=2) as pool: for path, outcome in pool.imap_unordered(paths)``

    ``func`` is a picklable module-level function of one item; what it returns must be
    picklable too.  An exception it raises comes back as ``Outcome(ok=False, error=...)``
    and the worker stays; a crash, an overrun or a MemoryError costs only that task."""

    def __init__(self, func: Callable[[Any], Any], jobs: int | None = None, timeout_s: float = 30.0,
                 mem_bytes: int | None = DEFAULT_MEM_BYTES,
                 context: multiprocessing.context.BaseContext | None = None,
                 setup: tuple[Callable[[Any], None], Any] | None = None) -> None:
        """``setup``: (module-level function, its argument), called once in each worker
        before its first task."""
        self.func = func
        self.setup = setup
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.timeout_s = timeout_s
        self.mem_bytes = mem_bytes
        self.context = context or default_context()
        self.workers: list[_Worker] = []
        self.running = False
        self.depth = 2  # tasks a worker holds at once (see imap_unordered)

    # ------------------------------------------------------------------ life cycle

    def __enter__(self) -> "WorkerPool":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the missing workers (in parallel) and wait until each is ready."""
        self.launch_missing()
        for worker in [w for w in self.workers if not w.ready]:
            self.await_ready(worker)

    def launch_missing(self, up_to: int | None = None) -> None:
        """Start workers up to ``up_to`` (default: ``jobs``) without waiting for them: a
        caller with other work to do first (collect reads its ledger) lets them start
        meanwhile; :meth:`start` waits for them."""
        self.workers += [self.launch() for _ in range(min(up_to or self.jobs, self.jobs) - len(self.workers))]

    def close(self) -> None:
        """Stop every worker: politely, then by force.  Safe to call twice.  A worker still
        starting (launched early, never needed: a re-run with nothing new) is stopped at
        once rather than waited for."""
        ready = [w for w in self.workers if w.ready]
        for worker in self.workers:
            if not worker.ready:
                self.discard(worker)
        for worker in ready:
            try:
                worker.conn.send(_STOP)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + _JOIN_SECONDS
        for worker in ready:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            self.discard(worker)
        self.workers = []

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self.workers if w.process.pid is not None]

    def spawn(self) -> _Worker:
        worker = self.launch()
        self.await_ready(worker)
        return worker

    def launch(self) -> _Worker:
        parent_end, child_end = self.context.Pipe(duplex=True)
        fd, err_path = tempfile.mkstemp(prefix="kcl-worker-", suffix=".stderr")
        os.close(fd)
        process = self.context.Process(target=_worker_main,
                                       args=(child_end, self.func, self.mem_bytes, self.setup, err_path),
                                       daemon=True, name="kcl-xlsx-worker")
        with startable_main():
            process.start()
        child_end.close()  # only the child holds its end now: its death reads as EOF here
        return _Worker(process, parent_end, err_path=err_path)

    def await_ready(self, worker: _Worker) -> None:
        """A worker that cannot even start (``func`` not importable in a fresh process, a
        broken environment) is a set-up error, not a bad file: raise instead of failing
        every file one by one."""
        try:
            if worker.conn.poll(_START_SECONDS) and worker.conn.recv() == _READY:
                worker.ready = True
                return
            problem = "did not start in time"
        except (EOFError, OSError):
            problem = self.death_of(worker)
        if worker not in self.workers:  # a replacement: close() does not know it
            self.discard(worker)
        self.close()
        raise RuntimeError(f"kcl-xlsx worker process could not start ({problem}); "
                           f"is {getattr(self.func, '__module__', '?')}.{getattr(self.func, '__qualname__', '?')} "
                           "importable from a fresh interpreter?")

    @staticmethod
    def discard(worker: _Worker) -> None:
        """Kill (if still alive) and reap a worker, so no zombie is left behind."""
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(_JOIN_SECONDS)
        worker.conn.close()
        if worker.process.exitcode is not None:
            worker.process.close()
        if worker.err_path:
            try:
                os.unlink(worker.err_path)
            except OSError:
                pass

    def replace(self, worker: _Worker) -> _Worker:
        self.discard(worker)
        fresh = self.spawn()
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def retire(self, worker: _Worker) -> None:
        """Drop a worker without a replacement (the next run starts one)."""
        self.discard(worker)
        self.workers.remove(worker)

    # ------------------------------------------------------------------ running tasks

    def imap_unordered(self, items: Iterable[Any]) -> Iterator[tuple[Any, Outcome]]:
        """Yield ``(item, Outcome)`` for every item, in completion order.  Each worker holds
        up to ``depth`` tasks, so it goes straight on to its next file while the parent (or
        the consumer of this iterator) is busy."""
        if self.running:
            raise RuntimeError("WorkerPool.imap_unordered is already running")
        self.start()
        self.running = True
        pending = iter(items)
        retry: collections.deque = collections.deque()  # tasks queued behind a task that killed its worker
        exhausted = False
        try:
            while True:
                for worker in list(self.workers):
                    while len(worker.queue) < self.depth:
                        if retry:
                            item = retry.popleft()
                        elif not exhausted and (item := next(pending, _NO_MORE)) is not _NO_MORE:
                            pass
                        else:
                            exhausted = True
                            break
                        worker, refused = self.hand_over(worker, item)
                        if refused is _DIED_BUSY:
                            retry.appendleft(item)  # never sent: collect() reports the worker's death
                            break
                        if refused:
                            yield item, refused
                if not any(w.queue for w in self.workers):
                    return
                for item, outcome, orphans in self.collect():
                    retry.extend(orphans)
                    yield item, outcome
        finally:
            self.running = False
            for worker in [w for w in self.workers if w.queue]:  # abandoned mid-task (the consumer stopped, Ctrl-C)
                self.retire(worker)

    def hand_over(self, worker: _Worker, item: Any) -> tuple[_Worker, Any]:
        """Send ``item`` to ``worker``; one that died while idle is replaced once.  Returns
        the worker now in charge, and an Outcome if the item cannot be sent."""
        for _ in range(2):
            try:
                worker.conn.send((item,))
            except (OSError, EOFError):  # the pipe is broken: the worker died while idle
                if worker.queue:  # it died with tasks queued: collect() will tell their fate
                    return worker, _DIED_BUSY
                worker = self.replace(worker)
                continue
            except Exception as exc:  # pickling failed before anything was written
                return worker, Outcome(False, error=f"item not sendable: {type(exc).__name__}: {exc}")
            if not worker.queue:
                worker.started = time.monotonic()
            worker.queue.append(item)
            return worker, None
        return worker, Outcome(False, error="no worker could take the task", code=PARSER_CRASHED, seconds=0.0)

    def collect(self) -> list[tuple[Any, Outcome, list]]:
        """Wait until some busy worker replies, dies or overruns; returns (item, outcome,
        tasks to hand to another worker) for each finished task."""
        busy = [w for w in self.workers if w.queue]
        first_deadline = min(w.deadline(self.timeout_s) for w in busy)
        by_handle = {}
        for worker in busy:
            by_handle[worker.conn] = by_handle[worker.process.sentinel] = worker
        timeout = max(0.0, first_deadline - time.monotonic())
        ready = {by_handle[h] for h in multiprocessing.connection.wait(list(by_handle), timeout)}
        now = time.monotonic()
        ready.update(w for w in busy if w.deadline(self.timeout_s) <= now)
        finished = []
        for worker in ready:
            outcome = self.outcome_of(worker, now)
            item = worker.queue.popleft()
            orphans: list = []
            if outcome.code:  # dead, overran or out of memory: a fresh process takes over
                orphans = list(worker.queue)  # never started: they deserve a worker that is alive
                worker.queue.clear()
                self.replace(worker)
            else:
                worker.started = now  # its next queued task (if any) is running from now on
            finished.append((item, outcome, orphans))
            # a quick worker may already have answered its next task too
            while not outcome.code and worker.queue and worker.conn.poll():
                outcome = self.outcome_of(worker, time.monotonic())
                item = worker.queue.popleft()
                worker.started = time.monotonic()
                if outcome.code:
                    orphans = list(worker.queue)
                    worker.queue.clear()
                    self.replace(worker)
                    finished.append((item, outcome, orphans))
                    break
                finished.append((item, outcome, []))
        return finished

    def outcome_of(self, worker: _Worker, now: float) -> Outcome:
        ran = now - worker.started
        if worker.conn.poll():  # a reply, or EOF if the worker died
            try:
                ok, value, error, code = worker.conn.recv()
            except (EOFError, OSError):
                return Outcome(False, error=self.death_of(worker), code=PARSER_CRASHED, seconds=ran)
            except Exception as exc:  # the reply could not be unpickled here
                return Outcome(False, error=f"result not readable: {type(exc).__name__}: {exc}")
            return Outcome(ok, value, error, code, seconds=ran if code else None)
        if not worker.process.is_alive():
            return Outcome(False, error=self.death_of(worker), code=PARSER_CRASHED, seconds=ran)
        return Outcome(False, error=f"timeout: no result after {self.timeout_s:g} s", code=TIMEOUT, seconds=ran)

    @staticmethod
    def death_of(worker: _Worker) -> str:
        """What happened, in one line: the signal or exit code, and what the worker last
        said on its standard error (never shown to the user as such)."""
        worker.process.join(_JOIN_SECONDS)
        code = worker.process.exitcode
        said = _last_words(worker.err_path)
        said = f": {said}" if said else ""
        if code is not None and code < 0:
            try:
                return f"worker killed by {signal.Signals(-code).name}{said}"
            except ValueError:
                pass
        return f"worker exited with code {code}{said}"


def run_one(func: Callable[[Any], Any], item: Any, timeout_s: float = 30.0,
            mem_bytes: int | None = DEFAULT_MEM_BYTES) -> Outcome:
    """One task in a fresh worker process (same rules as :class:`WorkerPool`)."""
    with WorkerPool(func, jobs=1, timeout_s=timeout_s, mem_bytes=mem_bytes) as pool:
        [(_, outcome)] = list(pool.imap_unordered([item]))
    return outcome
