"""Benchmark: placing files that their identity does not place, at a province's scale.

A Word plan whose school name is spelled otherwise than in the roster, a PDF, a photo, a
workbook from another template: `collect` looks for a roster code in the file's name and
folders, then for a roster school's name in its folders.  This times that search for
5,000 such files against a roster of 5,000 schools, and, on a sample, the regex search per
roster school it replaced (issue 15: a province's 5,000 unidentified files took over
12 minutes of the main process with it).

Run: python benchmarks/bench_matching.py [--schools 5000] [--files 5000]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kcl_xlsx.collect.run import _Matcher  # noqa: E402
from kcl_xlsx.spec.freetext import fold  # noqa: E402
from kcl_xlsx.spec.roster import Roster, School  # noqa: E402


def roster_of(n: int) -> Roster:
    return Roster("bench", tuple(School(f"79{i:06d}", f"Trường Tiểu học Số {i}", "tieu-hoc") for i in range(n)))


def paths(n: int) -> list[str]:
    """File paths as offices receive them: most name no school the roster knows; every
    tenth names its school's folder, every twentieth its code."""
    out = []
    for i in range(n):
        if i % 20 == 0:
            out.append(f"zalo/ke-hoach-79{i:06d}.pdf")
        elif i % 10 == 0:
            out.append(f"truong-tieu-hoc-so-{i}/Kế hoạch cải tiến.docx")
        else:
            out.append(f"email/{i % 31}/KH cai tien chat luong nam hoc 2025-2026 ban {i}.pdf")
    return out


def by_regex(matcher: _Matcher, rel: str) -> str:
    """The search as it was: one regex per roster code (longest first), then per name."""
    parts = [fold(p) for p in rel.replace("!", "/").split("/")]
    for part in [parts[-1]] + list(reversed(parts[:-1])):
        for c in sorted(matcher.codes, key=len, reverse=True):
            if re.search(rf"(?<![a-z0-9]){re.escape(fold(c))}(?![a-z0-9])", part):
                return matcher.codes[c]
    words = [" ".join(re.findall(r"[a-z0-9]+", p)) for p in parts]
    for name, code in matcher.names.items():
        wanted = " ".join(re.findall(r"[a-z0-9]+", name))
        if wanted and any(re.search(rf"(?<![a-z0-9]){re.escape(wanted)}(?![a-z0-9])", w) for w in words):
            return code
    return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schools", type=int, default=5_000)
    ap.add_argument("--files", type=int, default=5_000)
    ap.add_argument("--sample", type=int, default=50, help="files timed with the regex search")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    roster, rels = roster_of(args.schools), paths(args.files)
    times, found = [], []
    for _ in range(args.runs):
        matcher = _Matcher(roster)  # its indexes are built inside the timing, as in a run
        t = time.perf_counter()
        found = [matcher.match_path(rel)[0] for rel in rels]
        times.append(time.perf_counter() - t)
    sample = rels[:: max(1, len(rels) // args.sample)][: args.sample]
    t = time.perf_counter()
    before = [by_regex(matcher, rel) for rel in sample]
    per_file_before = (time.perf_counter() - t) / len(sample)
    assert before == [matcher.match_path(rel)[0] for rel in sample], "the two searches disagree"
    placed = sum(1 for code in found if code)
    now = statistics.median(times)
    print(f"{args.files:,} files not placed by their identity, roster of {args.schools:,} schools: "
          f"{now:.2f} s (median of {args.runs}; {placed:,} placed by a code or a name)")
    print(f"the regex search per roster school it replaced: {1000 * per_file_before:.0f} ms per file "
          f"(on {len(sample)} of them) = {per_file_before * args.files:.0f} s for {args.files:,} files, "
          f"{per_file_before * args.files / now:.0f}x")


if __name__ == "__main__":
    main()
