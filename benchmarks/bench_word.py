"""Benchmark: read + check a 40-row plan written in Word against a 40-row workbook.

Both go through `check_path` in one process (pre-flight, read, identify, normalise, every
rule), timed over --runs runs each; prints both medians and their ratio.  The Word plan is
seed 001's layout (merged group rows, a criterion merged down two rows, free text in every
cell), its action rows repeated to 40; the workbook is a filled template of 40 rows.
Run: python benchmarks/bench_word.py [--runs 15]
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.inbox_factory import make_inbox  # noqa: E402
from kcl_xlsx.check.checker import CheckOptions, check_path  # noqa: E402
from tests.support import word_plans as wp  # noqa: E402


def word_plan(path: Path, rows: int) -> Path:
    """Seed 001 with its action rows repeated (each action numbered, so none is a duplicate)."""
    seed = wp.seed_001(criterion_merged=False)
    actions = [r for r in seed.rows if not isinstance(r, wp.Section)]
    body: list = [wp.Section("MỨC 1, 2, 3"), wp.Section("Tiêu chuẩn 1: Tổ chức và quản lý nhà trường", "1")]
    for n in range(rows):
        row = list(actions[n % 3])  # the rows of Tiêu chuẩn 1 (1.6, 1.6, 1.10)
        row[3] = f"{n + 1}. {row[3] if isinstance(row[3], str) else ' '.join(row[3])}"
        body.append(row)
    return wp.build_plan(path, dataclasses.replace(seed, rows=body, vmerge=()))


def median_seconds(path: Path, runs: int, options: CheckOptions) -> tuple[float, int]:
    check_path(path, options)  # warm: spec files loaded, catalogue built
    times, rows = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        sub = check_path(path, options)
        times.append(time.perf_counter() - t)
        rows = len(sub.rows)
    return statistics.median(times), rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docx_path = word_plan(Path(tmp) / "ke-hoach.docx", args.rows)
        files, _roster = make_inbox(Path(tmp) / "inbox", 1, args.rows)
        word, word_rows = median_seconds(docx_path, args.runs, CheckOptions())
        book, book_rows = median_seconds(files[0], args.runs, CheckOptions(year="2025-2026"))
    print(f"runs: {args.runs} each (medians), one process")
    print(f"Word plan (.docx), {word_rows} rows:  {word * 1000:.1f} ms")
    print(f"workbook (.xlsx), {book_rows} rows:   {book * 1000:.1f} ms")
    print(f"Word / workbook: {word / book:.1f}x")


if __name__ == "__main__":
    main()
