"""One collect at a time per ledger: a second run waits for the first (and says so), then
finds the inbox unchanged; two runs never both parse the inbox or both rename the outputs."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kcl_xlsx.collect.lock import lock_path, one_run_at_a_time
from kcl_xlsx.demo import run_demo

ROOT = Path(__file__).resolve().parent.parent
YEAR = "2025-2026"


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "d"
    run_demo(folder, jobs=0)
    return folder / "2-hop-thu"


def start_collect(inbox: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kcl_xlsx.cli", "collect", str(inbox), "-o", str(out),
                             "--year", YEAR, "--jobs", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_run_waits_while_another_holds_the_ledger(inbox, tmp_path):
    out = tmp_path / "o" / "t.xlsx"
    ledger = out.parent / "kcl-ledger.sqlite"
    with one_run_at_a_time(ledger):  # another run, as far as the CLI can tell
        proc = start_collect(inbox, out)
        time.sleep(3)
        assert proc.poll() is None  # still waiting
        assert not out.exists()  # and has done nothing
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "đang chờ" in stderr and str(lock_path(ledger)) in stderr
    assert out.exists()


def test_two_runs_started_together_do_the_work_once(inbox, tmp_path):
    out = tmp_path / "o" / "t.xlsx"
    first = start_collect(inbox, out)
    time.sleep(0.3)
    second = start_collect(inbox, out)
    results = [p.communicate(timeout=180) for p in (first, second)]
    assert first.returncode == second.returncode == 0, results
    parsed = [r[0] for r in results if "Đã đọc 9 tệp mới" in r[0]]
    unchanged = [r[0] for r in results if "không thay đổi" in r[0]]
    assert len(parsed) == 1 and len(unchanged) == 1, [r[0][-300:] for r in results]
    assert list(out.parent.glob("t.*.xlsx")) == []  # nobody renamed the other's summary


def test_the_lock_is_released_when_a_run_fails(tmp_path):
    ledger = tmp_path / "kcl-ledger.sqlite"
    with pytest.raises(RuntimeError):
        with one_run_at_a_time(ledger):
            raise RuntimeError("a run that fails")
    with one_run_at_a_time(ledger, on_wait=lambda _p: pytest.fail("the lock was left held")):
        pass
