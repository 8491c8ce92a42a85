"""Benchmark: templates for a 1,000-school roster (issue target: >= 100 templates/s).

Prints files per second (median of --runs), the one-off base-build time per level, and the
process's peak RSS.  Run: python benchmarks/bench_templates.py [--schools 1000] [--runs 3]
"""
from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import tempfile
import time
from pathlib import Path

from kcl_xlsx.issue.issuing import TemplateFactory, issue_roster
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import Roster, School

LEVELS = ("mam-non", "tieu-hoc", "thcs", "thpt", "nhieu-cap")


def roster(n: int) -> Roster:
    schools = tuple(School(f"S{i:05d}", f"Trường số {i} Nguyễn Văn Trỗi", LEVELS[i % len(LEVELS)],
                           "Phòng GD&ĐT mẫu") for i in range(n))
    return Roster("<bench>", schools)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--schools", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    sources, r = Sources.load(), roster(args.schools)
    rates, bases = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            factory = TemplateFactory(sources, "2025-2026", issue_date=dt.date(2025, 8, 15), key=b"bench")
            t0 = time.perf_counter()
            for lvl in LEVELS:
                factory.spec(lvl)
                factory.make(lvl)  # builds the level's base once
            t1 = time.perf_counter()
            issue_roster(factory, r, Path(tmp) / "out")
            t2 = time.perf_counter()
            bases.append((t1 - t0) / len(LEVELS))
            rates.append(args.schools / (t2 - t0))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"schools: {args.schools}, runs: {args.runs}")
    print(f"templates/s (end to end incl. base builds, median): {statistics.median(rates):.0f}")
    print(f"base build per level (median): {statistics.median(bases) * 1000:.0f} ms")
    print(f"peak RSS: {peak:.0f} MiB")
    print(f"target >= 100 templates/s: {'met' if statistics.median(rates) >= 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
