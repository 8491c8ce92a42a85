"""Benchmark: feedback copies (`collect --feedback DIR`, `check --feedback DIR`) for many
files at once, as a province's first run writes them: in the run's own process, then by
worker processes (one per core).  Every generated plan has warnings (it is unsigned, and
its Thông tin lacks the preparer), so every one gets a copy.

Run: python benchmarks/bench_feedback.py [--plans 400] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.inbox_factory import make_inbox  # noqa: E402
from kcl_xlsx.check.checker import CheckOptions, check_path  # noqa: E402
from kcl_xlsx.check.feedback_run import write_feedback_files  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plans", type=int, default=400)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kcl-bench-feedback-") as tmp:
        files, _roster = make_inbox(Path(tmp) / "inbox", args.plans, resaved=0)
        options = CheckOptions(year="2025-2026")
        subs = [check_path(f, options) for f in files]
        times: dict[str, list[float]] = {"here": [], "workers": []}
        for r in range(args.runs):
            for how, jobs in (("here", 0), ("workers", None)):
                out = Path(tmp) / f"{how}-{r}"
                t = time.perf_counter()
                written = write_feedback_files(subs, files, out, jobs=jobs)
                times[how].append(time.perf_counter() - t)
                assert len(written) == len(files)
                shutil.rmtree(out)
    here, there = statistics.median(times["here"]), statistics.median(times["workers"])
    print(f"{args.plans:,} feedback copies (medians of {args.runs}; {os.cpu_count()} cores): in one process "
          f"{here:.1f} s ({1000 * here / args.plans:.0f} ms a copy), by worker processes {there:.1f} s "
          f"({1000 * there / args.plans:.0f} ms a copy): {here / there:.2f}x; 5,000 copies would take "
          f"~{5000 * here / args.plans / 60:.0f} and ~{5000 * there / args.plans / 60:.0f} minutes")


if __name__ == "__main__":
    main()
