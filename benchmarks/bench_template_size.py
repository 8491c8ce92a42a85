"""Benchmark: how heavy a filled plan is, as issued and after another program re-saved it.

For a 40-row filled thcs plan (typed with openpyxl, as the tests do): the file size, the sum
of the uncompressed worksheet XML (xl/worksheets/*.xml) and the plan sheet's own XML, for

* the template as issued (empty), the filled file,
* the filled file re-saved by LibreOffice (recalculating, as a school's LibreOffice would),
* the filled file re-saved by Gnumeric (``ssconvert --recalc``),

and the median time (--runs) of ``check_path`` on each filled variant.  Ends with the issue
target: a filled plan re-saved by LibreOffice carries at most 330 KB of worksheet XML.
Run: python benchmarks/bench_template_size.py [--runs 5] [--keep DIR]
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kcl_xlsx.check.checker import CheckOptions, check_path  # noqa: E402
from kcl_xlsx.demo import fill_plan  # noqa: E402
from kcl_xlsx.issue.issuing import TemplateFactory  # noqa: E402
from kcl_xlsx.spec.plan_spec import Sources  # noqa: E402
from kcl_xlsx.spec.roster import School  # noqa: E402
from kcl_xlsx.spec.sample_plans import plan_rows  # noqa: E402
from tests.support.gnumeric import recalc as gnumeric_recalc  # noqa: E402
from tests.support.libreoffice import resave  # noqa: E402

TARGET_KB = 330
YEAR = "2025-2026"
STAFF = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cúc"]
INFO = {"preparer": "Nguyễn Văn An", "position": "Hiệu trưởng", "email": "a@example.edu.vn"}
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "p": "http://schemas.openxmlformats.org/package/2006/relationships"}


def sheet_part(zf: zipfile.ZipFile, sheet: str) -> str:
    """The part name of the worksheet called ``sheet`` (through workbook.xml and its rels)."""
    wb = ET.fromstring(zf.read("xl/workbook.xml"))
    rid = next(s.get(f"{{{_NS['r']}}}id") for s in wb.iterfind("m:sheets/m:sheet", _NS) if s.get("name") == sheet)
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target") for r in rels.iterfind("p:Relationship", _NS) if r.get("Id") == rid)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def sizes(path: Path, sheet: str) -> tuple[int, int, int]:
    """(file bytes, worksheet XML bytes in all, the plan sheet's XML bytes)."""
    with zipfile.ZipFile(path) as zf:
        sheets = sum(i.file_size for i in zf.infolist()
                     if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"))
        plan = zf.getinfo(sheet_part(zf, sheet)).file_size
    return path.stat().st_size, sheets, plan


def check_time(path: Path, runs: int) -> float:
    opts = CheckOptions(year=YEAR)
    check_path(path, opts)  # warm caches (spec, catalogs) once
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        check_path(path, opts)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--keep", type=Path, help="keep the files in this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        factory = TemplateFactory(Sources.load(), YEAR, issue_date=dt.date(2025, 9, 5), key=b"bench")
        spec = factory.spec("thcs")
        issued = folder / "issued.xlsx"
        issued.write_bytes(factory.make("thcs", School("BENCH-01", "Trường THCS Thử", "thcs"))[0])
        filled = fill_plan(issued, folder / "filled.xlsx", plan_rows(spec, args.rows), INFO, STAFF)
        lo = resave([filled], folder / "libreoffice", recalc=True)[0]
        gn = gnumeric_recalc([filled], folder / "gnumeric")[0]
        sheet = spec.form.sheet
        print(f"{args.rows}-row filled thcs plan; sizes in KB (1 KB = 1000 bytes); check_path median of {args.runs}")
        print(f"{'':34}{'file':>9}{'sheets XML':>12}{'plan XML':>10}{'check ms':>10}")
        rows = [("issued template (empty)", issued, False), ("filled (openpyxl)", filled, True),
                ("filled, LibreOffice re-save", lo, True), ("filled, Gnumeric re-save", gn, True)]
        measured = {}
        for label, path, timed in rows:
            f, s, p = sizes(path, sheet)
            measured[label] = s
            ms = f"{check_time(path, args.runs) * 1000:10.1f}" if timed else f"{'':10}"
            print(f"{label:34}{f / 1000:9.1f}{s / 1000:12.1f}{p / 1000:10.1f}{ms}")
        got = measured["filled, LibreOffice re-save"] / 1000
        print(f"target (worksheet XML of a LibreOffice re-save) <= {TARGET_KB} KB / measured {got:.1f} KB / "
              f"{'met' if got <= TARGET_KB else 'NOT met'}")


if __name__ == "__main__":
    main()
