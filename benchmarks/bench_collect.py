"""Benchmark: the targets of issue 15, each printed as "target / measured / met".

1. daily re-run: after 1 new file among N collected plans (default 10,000), `collect`
   takes at most 10% of the first run;
2. largest province: 5,000 plans, a tenth of them re-saved by LibreOffice, end to end at
   most 1.6x the bare one-process python-calamine loop over the same files, peak RSS of all
   processes at most 1 GiB;
3. nation: 45,000 plans collected in one run within 1.5 GiB; `rollup` of 34 province
   exports (45,000 schools, ~1.8 million rows) within 60 s and 1 GiB.

Every collect and roll-up runs in a child process measured from outside (benchmarks/
measure.py: wall time, and the peak of the summed RSS of the child and its workers,
sampled from /proc).  Medians of --runs runs (default 3; the national ones once).  The
machine is shared: the load average is printed with the figures, and targets are ratios
to the floor measured in the same run where the issue states them so.  Generated inboxes
go under --tmp (default /tmp) and are deleted at the end.

Run: python benchmarks/bench_collect.py [--quick] [--only daily,province,nation,rollup]
"""
from __future__ import annotations

import argparse
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.file_costs import measure as file_costs  # noqa: E402
from benchmarks.inbox_factory import calamine_floor, make_inbox  # noqa: E402
from benchmarks.measure import run_measured  # noqa: E402
from benchmarks.rollup_inputs import make_province_exports  # noqa: E402

SCENARIOS = ("daily", "province", "rollup", "nation")  # the national collect last: the longest
GIB = 1024.0


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def line(target: str, measured: str, met: bool) -> None:
    print(f"{target} / {measured} / {'met' if met else 'NOT met'}", flush=True)


def settle() -> None:
    """Let the writes so far reach the disk before a measured run.  A daily re-run comes a
    day after the run before it; measured right after it, its first sync of the ledger
    waited for the first run's 300 MB of exports to be written out (0.2-0.6 s, seen with
    strace), which is the first run's cost, not the re-run's."""
    if hasattr(os, "sync"):
        os.sync()


def stages(report: dict) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in report.get("timings", {}).items())


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path):
        self.args, self.tmp, self.jobs = args, tmp, str(args.jobs)

    def inbox(self, name: str, n: int, **kw) -> tuple[Path, list[Path], Path]:
        folder = self.tmp / name
        t = time.perf_counter()
        files, roster = make_inbox(folder / "inbox", n, resaved=0, **kw)
        roster_file = folder / "roster.pickle"
        roster_file.write_bytes(pickle.dumps(roster))
        print(f"  [{name}: {n} plans made in {time.perf_counter() - t:.0f} s]", flush=True)
        return folder / "inbox", files, roster_file

    def collect(self, inbox: Path, out: Path, roster: Path):
        return run_measured("benchmarks.run_once", "collect", str(inbox), str(out), str(roster), self.jobs)

    # ------------------------------------------------------------------------- scenarios

    def daily(self) -> None:
        """First run over N plans, then one new plan arrives: the re-run's share of the first
        run's time; --runs pairs, each from an empty output folder."""
        n, runs = self.args.daily, self.args.runs
        inbox, files, roster = self.inbox("daily", n + runs)
        extra = self.tmp / "daily" / "extra"
        extra.mkdir()
        held = [Path(shutil.move(str(f), extra / f.name)) for f in files[n:]]
        firsts, reruns, ratios = [], [], []
        for r in range(runs):
            for f in held:
                (inbox / f.name).unlink(missing_ok=True)
            out = self.tmp / "daily" / f"out-{r}"
            settle()
            first = self.collect(inbox, out, roster)
            shutil.copy(held[r], inbox / held[r].name)  # the day's one new plan
            settle()
            again = self.collect(inbox, out, roster)
            assert again.report["parsed"] == 1, again.report
            firsts.append(first.seconds)
            reruns.append(again.seconds)
            ratios.append(again.seconds / first.seconds)
            print(f"  run {r + 1}: first {first.seconds:.1f} s ({stages(first.report)}); re-run {again.seconds:.2f} s "
                  f"({stages(again.report)}; main process CPU {again.report.get('self_cpu_s', 0):.2f} s); {load()}",
                  flush=True)
            shutil.rmtree(out)
        ratio = statistics.median(ratios)
        line(f"1. daily re-run, 1 new file among {n:,} plans: <= 10% of the first run",
             f"{statistics.median(reruns):.2f} s against {statistics.median(firsts):.1f} s = {100 * ratio:.1f}% "
             f"(median of {runs})", ratio <= 0.10)

    def province(self) -> None:
        n, runs = self.args.province, self.args.runs
        inbox, files, roster = self.inbox("province", n, resaved_every=10)
        floors, times, peaks = [], [], []
        for r in range(runs):
            floors.append(calamine_floor(files))
            out = self.tmp / "province" / f"out-{r}"
            settle()
            m = self.collect(inbox, out, roster)
            times.append(m.seconds)
            peaks.append(m.peak_tree_mib)
            print(f"  run {r + 1}: floor {floors[-1]:.1f} s, collect {m.seconds:.1f} s ({stages(m.report)}); "
                  f"peak RSS of all processes {m.peak_tree_mib:.0f} MiB (main {m.report['self_maxrss_mib']:.0f}, "
                  f"largest worker {m.report['children_maxrss_mib']:.0f}); {load()}", flush=True)
            shutil.rmtree(out)
        ratio = statistics.median(times) / statistics.median(floors)
        line(f"2. province, {n:,} plans (a tenth re-saved by LibreOffice): <= 1.6x the one-process calamine loop",
             f"{statistics.median(times):.1f} s against {statistics.median(floors):.1f} s = {ratio:.2f}x "
             f"(medians of {runs})", ratio <= 1.6)
        line(f"2. province, {n:,} plans: peak RSS of all processes <= 1 GiB",
             f"{max(peaks):.0f} MiB (largest of {runs})", max(peaks) <= GIB)
        # what bounds the ratio: the first files (a tenth of them re-saved, as in the inbox)
        print("  " + file_costs(files[:self.args.cost_sample]).line(os.cpu_count() or 1), flush=True)

    def nation(self) -> None:
        n = self.args.nation
        inbox, files, roster = self.inbox("nation", n)
        out = self.tmp / "nation" / "out"
        m = self.collect(inbox, out, roster)
        print(f"  {n:,} plans: {m.seconds:.0f} s ({stages(m.report)}); {load()}", flush=True)
        line(f"3. nation, {n:,} plans collected in one run: peak RSS of all processes <= 1.5 GiB",
             f"{m.peak_tree_mib:.0f} MiB (main {m.report['self_maxrss_mib']:.0f}, largest worker "
             f"{m.report['children_maxrss_mib']:.0f}); {m.seconds:.0f} s, once", m.peak_tree_mib <= 1.5 * GIB)
        shutil.rmtree(self.tmp / "nation")

    def rollup(self) -> None:
        """34 province exports replicated from one real export (benchmarks/rollup_inputs.py)."""
        seed_n = self.args.rollup_seed
        inbox, _files, roster = self.inbox("rollup-seed", seed_n)
        seed = self.tmp / "rollup-seed" / "out"
        self.collect(inbox, seed, roster)
        shutil.rmtree(inbox)
        t = time.perf_counter()
        folders = make_province_exports(seed / "xuat", self.tmp / "rollup-in", 34, self.args.rollup_schools)
        print(f"  [34 province exports written in {time.perf_counter() - t:.0f} s]", flush=True)
        m = run_measured("benchmarks.run_once", "rollup", str(self.tmp / "rollup-out"), *map(str, folders))
        print(f"  {m.report['schools']:,} schools, {m.report['rows']:,} rows: {m.seconds:.1f} s "
              f"({stages(m.report)}); {load()}", flush=True)
        line(f"3. rollup of 34 province exports ({m.report['schools']:,} schools, {m.report['rows']:,} rows): "
             "<= 60 s and <= 1 GiB", f"{m.seconds:.1f} s, {m.peak_tree_mib:.0f} MiB, once",
             m.seconds <= 60 and m.peak_tree_mib <= GIB)
        shutil.rmtree(self.tmp / "rollup-in")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (a few minutes): 400/500/1,000 plans, "
                                                         "a 3,400-school roll-up; the targets are still printed")
    ap.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--daily", type=int, default=10_000)
    ap.add_argument("--province", type=int, default=5_000)
    ap.add_argument("--cost-sample", type=int, default=500, help="files of the province's inbox whose costs are "
                                                                 "measured one by one")
    ap.add_argument("--nation", type=int, default=45_000)
    ap.add_argument("--rollup-schools", type=int, default=45_000)
    ap.add_argument("--rollup-seed", type=int, default=2_000, help="plans of the real export the roll-up's are made from")
    ap.add_argument("--tmp", default=tempfile.gettempdir())
    args = ap.parse_args()
    if args.quick:
        args.daily, args.province, args.nation, args.rollup_schools, args.rollup_seed = 400, 500, 1_000, 3_400, 200
    print(f"bench_collect: {os.cpu_count()} cores, jobs {args.jobs}; {load()} at the start "
          f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", flush=True)
    with tempfile.TemporaryDirectory(prefix="kcl-bench-", dir=args.tmp) as tmp:
        bench = Bench(args, Path(tmp))
        for name in args.only.split(","):
            print(f"[{name}]", flush=True)
            getattr(bench, name.strip())()
    print(f"{load()} at the end", flush=True)


if __name__ == "__main__":
    main()
