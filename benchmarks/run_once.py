"""One measured command of bench_collect.py, run in its own process (see measure.py):
``collect INBOX OUT ROSTER.pickle JOBS`` or ``rollup OUT INPUT...``; prints the stage
timings and its own maxrss as one JSON line."""
from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    from benchmarks.measure import own_maxrss

    report: dict = {}
    t = time.perf_counter()
    if argv[0] == "collect":
        from kcl_xlsx.app import collect
        from kcl_xlsx.check.checker import CheckOptions

        inbox, out, roster_file, jobs = Path(argv[1]), Path(argv[2]), Path(argv[3]), int(argv[4])
        roster = pickle.loads(roster_file.read_bytes())
        res = collect(inbox, out / "tong-hop.xlsx", roster=roster, year="2025-2026", jobs=jobs,
                      options=CheckOptions(year="2025-2026"), export=out / "xuat")
        report = {"timings": res.timings, "parsed": res.parsed, "cached": res.cached, "accepted": len(res.accepted),
                  "warnings": res.warnings}
    elif argv[0] == "rollup":
        from kcl_xlsx.summary.rollup import rollup

        out = Path(argv[1])
        res = rollup([Path(p) for p in argv[2:]], out / "tong-hop-tinh.xlsx", export=out / "xuat")
        report = {"schools": len(res.tables.schools), "rows": len(res.tables.rows), "timings": res.timings}
    report["seconds"] = time.perf_counter() - t
    report.update(own_maxrss())
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
