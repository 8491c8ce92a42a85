"""Feedback copies written by worker processes (a province's first run answers thousands of
files): the same copies as written in the run's own process, in the same order, and a copy
a worker could not write is written by the run itself."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from kcl_xlsx.check import feedback_run
from kcl_xlsx.check.checker import CheckOptions, check_path
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.spec.sample_plans import plan_rows
from tests.support.fill import fill_plan

YEAR = "2025-2026"
COPIES = feedback_run.POOL_FROM_COPIES + 2  # enough for the workers to be used


@pytest.fixture(scope="module")
def checked(sources, tmp_path_factory):
    """Plans of several schools, each with an error (its first row's Người phụ trách
    emptied), checked."""
    folder = tmp_path_factory.mktemp("feedback-workers")
    roster = load_roster("sample", sources.form)
    factory = TemplateFactory(sources, YEAR)
    lead = sources.form.roles.lead
    files = []
    for n in range(COPIES):
        s = roster.schools[n % len(roster.schools)]
        template = folder / f"t{n}.xlsx"
        template.write_bytes(factory.make(s.level, school=s)[0])
        rows = plan_rows(factory.spec(s.level), 2 + n % 3, seed=n)
        rows[0] = {**rows[0], lead: ""}
        files.append(fill_plan(template, folder / "inbox" / f"ke-hoach-{n:02d}.xlsx", rows))
    options = CheckOptions(year=YEAR)
    subs = [check_path(f, options) for f in files]
    assert all(s.errors for s in subs)
    return subs, files


def _shown(path: Path) -> dict[str, list]:
    """What a person sees in a copy: every sheet's cells."""
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def _parts(path: Path) -> dict[str, bytes]:
    """The copy's parts but the one that holds the time it was written (docProps/core.xml)."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if name != "docProps/core.xml"}


def _pools(monkeypatch) -> list:
    """The worker pools the copies are written with, as they are started."""
    started, real = [], feedback_run._started_pool
    monkeypatch.setattr(feedback_run, "_started_pool", lambda *a: started.append(real(*a)) or started[-1])
    return started


def test_copies_written_by_workers_are_the_ones_written_here_in_the_same_order(checked, tmp_path, monkeypatch):
    subs, files = checked
    here = feedback_run.write_feedback_files(subs, files, tmp_path / "here", jobs=0)
    pools = _pools(monkeypatch)
    there = feedback_run.write_feedback_files(subs, files, tmp_path / "workers", jobs=2)
    assert len(pools) == 1 and pools[0] is not None and pools[0].jobs == 2
    assert len(here) == COPIES
    assert [p.name for p in there] == [p.name for p in here]  # the order of the submissions
    assert sorted(p.name for p in (tmp_path / "workers").iterdir()) == sorted(p.name for p in here)
    for a, b in zip(here, there):
        assert _parts(a) == _parts(b)  # the same bytes, formatting and all
        assert _shown(a) == _shown(b)


def test_a_copy_its_worker_could_not_write_is_written_here(checked, tmp_path, monkeypatch):
    subs, files = checked
    here = feedback_run.write_feedback_files(subs, files, tmp_path / "here", jobs=0)
    monkeypatch.setattr(feedback_run, "TIMEOUT_S", 0.001)  # every worker overruns
    pools = _pools(monkeypatch)
    there = feedback_run.write_feedback_files(subs, files, tmp_path / "workers", jobs=2)
    assert len(pools) == 1 and pools[0] is not None
    assert [p.name for p in there] == [p.name for p in here]
    for a, b in zip(here, there):
        assert b.exists() and _parts(a) == _parts(b)


def test_a_second_run_keeps_the_copies_it_finds(checked, tmp_path):
    subs, files = checked
    first = feedback_run.write_feedback_files(subs, files, tmp_path, jobs=2)
    times = {p: p.stat().st_mtime_ns for p in first}
    assert feedback_run.write_feedback_files(subs, files, tmp_path, jobs=2) == []
    assert {p: p.stat().st_mtime_ns for p in first} == times
