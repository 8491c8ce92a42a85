"""Make tests/fixtures/rollup-332af89: two offices' export folders and the roll-up of them
written by the code of commit 332af89 (pandas, a Python call per cell), which today's
roll-up must reproduce exactly (tests/test_rollup_same.py).

    git archive 332af89 | tar -x -C /tmp/kcl-old
    PYTHONPATH=/tmp/kcl-old python3 tests/data/make_rollup_332af89.py tests/fixtures/rollup-332af89

The offices: the schema-1 fixture's inbox (tests/fixtures/ledger-schema1) collected with the
sample roster, once as Parquet + CSV and once as CSV only (so both readers are compared);
the second office repeats the first's schools, so the duplicate-school lines are compared too.
"""
from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

from kcl_xlsx.app import collect
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.summary.rollup import rollup

INBOX = Path(__file__).resolve().parent.parent / "fixtures" / "ledger-schema1" / "inbox"
AS_OF = dt.date(2026, 1, 15)


def main(dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    roster = load_roster("sample", Sources.load().form)
    with tempfile.TemporaryDirectory() as tmp:
        collect(INBOX, Path(tmp) / "t.xlsx", roster=roster, year="2025-2026", jobs=0, export=dest / "phong-a",
                as_of=AS_OF)
    shutil.copytree(dest / "phong-a", dest / "phong-b")
    for p in (dest / "phong-b").glob("*.parquet"):
        p.unlink()
    rollup([dest / "phong-a", dest / "phong-b"], None, export=dest / "expected", as_of=AS_OF)
    for p in (dest / "expected").glob("*.csv"):
        p.unlink()  # the Parquet files are compared (typed); the CSVs are written by the same writer


if __name__ == "__main__":
    main(Path(sys.argv[1]))
