"""Run one command of the benchmark in a child process and measure it: wall time, and the
peak memory of the child and every process it starts (the worker pool, LibreOffice).

Peak RSS of all processes is sampled from /proc every 50 ms (the sum of VmRSS over the
process tree: what the machine must hold at once; shared pages are counted in each process
that maps them, so this over-states a little).  The child also reports
``getrusage(RUSAGE_SELF/RUSAGE_CHILDREN)`` maxrss: its own peak and its largest worker's,
a check on the sampling (a peak shorter than 50 ms can escape the sampler).
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class Measured:
    wall: float  # the child process from start to exit (the interpreter's start and imports included)
    peak_tree_mib: float  # sampled sum over the process tree
    report: dict  # what the child printed (JSON, its last line)

    @property
    def seconds(self) -> float:
        """The command itself, timed inside the child: what a library call costs, the figure
        the targets compare (the interpreter's start, ~1-2 s, is the same for every run)."""
        return self.report.get("seconds", self.wall)


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree_rss_mib(pid: int) -> float:
    """Sum of VmRSS (MiB) of ``pid`` and its descendants now."""
    kids, total, todo = _children(), 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, ()))
        try:
            with open(f"/proc/{p}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total / 1024


def run_measured(module: str, *args: str) -> Measured:
    """``python -m module args`` from the repository root, measured."""
    proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_mib(proc.pid))
            done.wait(0.05)

    t = time.perf_counter()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    seconds = time.perf_counter() - t
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} exited {proc.returncode}")
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    return Measured(seconds, peak[0], json.loads(lines[-1]) if lines else {})


def own_maxrss() -> dict[str, float]:
    """For the child to report: its own peak and its largest child's (MiB)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    return {"self_maxrss_mib": me.ru_maxrss / 1024,
            "children_maxrss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            # the main process's CPU time: steadier than wall time on a shared machine
            "self_cpu_s": round(me.ru_utime + me.ru_stime, 2)}
