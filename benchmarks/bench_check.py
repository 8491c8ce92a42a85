"""Benchmark: check N filled 40-row workbooks (issue target: within 2.5x of a bare
python-calamine loop over the same files, the floor).

Prints files/s of `check_path` in one process, of the worker pool (all cores), of the bare
calamine loop, and the ratio.  Run: python benchmarks/bench_check.py [--files 2000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.inbox_factory import calamine_floor, make_inbox  # noqa: E402
from kcl_xlsx.check.run import check_many  # noqa: E402
from kcl_xlsx.check.checker import CheckOptions, check_path  # noqa: E402


def ours_serial(files: list[Path]) -> float:
    t = time.perf_counter()
    opts = CheckOptions(year="2025-2026")
    for p in files:
        check_path(p, opts)
    return time.perf_counter() - t


def ours_pool(files: list[Path]) -> float:
    t = time.perf_counter()
    for _ in check_many([(p, str(p)) for p in files], CheckOptions(year="2025-2026")):
        pass
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files, _roster = make_inbox(Path(tmp) / "inbox", args.files, args.rows)
        bare, serial, pool = [], [], []
        for _ in range(args.runs):
            bare.append(calamine_floor(files))
            serial.append(ours_serial(files))
            pool.append(ours_pool(files))
    n = len(files)
    b, s, p = statistics.median(bare), statistics.median(serial), statistics.median(pool)
    print(f"files: {n} x {args.rows} rows, runs: {args.runs} (medians), cores: {os.cpu_count()}")
    print(f"bare python-calamine loop (floor, 1 process): {n / b:.0f} files/s")
    print(f"kcl-xlsx check, 1 process:                    {n / s:.0f} files/s  (ratio to floor {s / b:.2f}x)")
    print(f"kcl-xlsx check, worker pool ({os.cpu_count()} jobs):         {n / p:.0f} files/s  (ratio to floor {p / b:.2f}x)")
    print(f"target: within 2.5x of the floor: {'met' if min(s, p) / b <= 2.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
