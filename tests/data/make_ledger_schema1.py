"""Make tests/fixtures/ledger-schema1: a small inbox and the ledger the code of commit 332af89
(ledger schema 1, before the summary's columns were stored per plan) wrote for it.

Run with that commit's code first on the path (the test reads the result with today's code):
    git archive 332af89 | tar -x -C /tmp/kcl-old
    PYTHONPATH=/tmp/kcl-old python3 tests/data/make_ledger_schema1.py tests/fixtures/ledger-schema1
Git keeps no modification times, so the ledger's own (mtime_ns) are written back by the test.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from kcl_xlsx.app import collect
from kcl_xlsx.demo import fill_plan, set_saved_time
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.spec.sample_plans import plan_rows

YEAR = "2025-2026"
PLANS = (("MN001", 3, 1, "MN001.xlsx", "2025-10-01T08:00:00Z"), ("TH001", 2, 2, "TH001-a.xlsx", "2025-10-01T08:00:00Z"),
         ("TH001", 4, 3, "TH001-b.xlsx", "2025-10-05T08:00:00Z"))


def main(dest: Path) -> None:
    sources = Sources.load()
    roster = load_roster("sample", sources.form)
    fac = TemplateFactory(sources, YEAR)
    by = roster.by_code()
    inbox = dest / "inbox"
    shutil.rmtree(dest, ignore_errors=True)
    inbox.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for code, n, seed, name, saved in PLANS:
            data, _ = fac.make(by[code].level, by[code])
            tpl = Path(tmp) / name
            tpl.write_bytes(data)
            fill_plan(tpl, inbox / name, plan_rows(fac.spec(by[code].level), n, seed), info={"preparer": "A"})
            set_saved_time(inbox / name, saved)
        out = Path(tmp) / "out" / "tong-hop.xlsx"
        collect(inbox, out, roster=roster, year=YEAR, jobs=0)
        shutil.copy(out.with_name("kcl-ledger.sqlite"), dest / "kcl-ledger.sqlite")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
