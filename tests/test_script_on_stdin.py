"""An office's own script that calls the library, fed to Python on standard input
(``python - <<EOF``): its worker processes and the export's process start as they do for
the command line.  Before, every child tried to run "<stdin>" again as a file, died at its
start, and ``collect`` stopped with a traceback."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.spec.sample_plans import plan_rows
from tests.support.fill import fill_plan

YEAR = "2025-2026"
ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
from pathlib import Path
from kcl_xlsx.app import collect
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.spec.plan_spec import Sources

inbox, out = Path(sys.argv[1]), Path(sys.argv[2])
roster = load_roster("sample", Sources.load().form)
res = collect(inbox, out / "tong-hop.xlsx", roster=roster, year="{year}", jobs=2, export=out / "xuat")
print("accepted", len(res.accepted), "warnings", len(res.warnings))
"""


def test_collect_from_a_script_on_standard_input_uses_its_workers_and_the_exports_process(sources, tmp_path):
    roster = load_roster("sample", sources.form)
    factory = TemplateFactory(sources, YEAR)
    inbox = tmp_path / "inbox"
    schools = roster.schools[:3]
    for s in schools:
        data, _ = factory.make(s.level, school=s)
        (tmp_path / f"{s.code}.xlsx").write_bytes(data)
        fill_plan(tmp_path / f"{s.code}.xlsx", inbox / f"{s.code}.xlsx", plan_rows(factory.spec(s.level), 2, 1))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-", str(inbox), str(out)], input=SCRIPT.format(year=YEAR),
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    # every plan accepted, and no line saying the export's rows were written in the run instead
    assert done.stdout.split() == ["accepted", "3", "warnings", "0"], done.stdout
    with open(out / "xuat" / "rows.csv", encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.reader(f))) == 1 + 2 * 3
