"""The daily re-run's caches (issue 15): the summary's columns per plan in the ledger
(schema 2) and the summary-rows cache beside it.  A re-run must give the very same summary
and export as a fresh full run; another options key must not use them; a damaged cache is
rebuilt with a warning line; a ledger written before them (schema 1) is used and upgraded."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from python_calamine import CalamineWorkbook

import kcl_xlsx.collect.run as collect_run
from kcl_xlsx.app import collect
from kcl_xlsx.collect.ledger import SCHEMA_VERSION
from kcl_xlsx.demo import fill_plan, set_saved_time
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.spec.sample_plans import plan_rows
from kcl_xlsx.summary.rows_cache import PLAN, RowsCache, cache_path, load

YEAR = "2025-2026"
FIXTURE = Path(__file__).parent / "fixtures" / "ledger-schema1"  # see tests/data/make_ledger_schema1.py
# what differs between two runs by design: when the summary was made, when a file was first collected
VOLATILE_OVERVIEW = {"Lập lúc"}
VOLATILE_FILE_COLUMNS = {"collected_at", "Tổng hợp lần đầu"}


@pytest.fixture(scope="module")
def roster(sources):
    return load_roster("sample", sources.form)


@pytest.fixture(scope="module")
def new_plan(sources, roster, tmp_path_factory) -> Path:
    """A plan the fixture's inbox does not hold (PT001's), to arrive on the second day."""
    fac = TemplateFactory(sources, YEAR)
    school = roster.by_code()["PT001"]
    work = tmp_path_factory.mktemp("new")
    data, _ = fac.make(school.level, school)
    (work / "t.xlsx").write_bytes(data)
    fill_plan(work / "t.xlsx", work / "PT001.xlsx", plan_rows(fac.spec(school.level), 5, 11), info={"preparer": "B"})
    set_saved_time(work / "PT001.xlsx", "2025-10-06T08:00:00Z")
    return work / "PT001.xlsx"


def fixture_inbox(tmp_path: Path) -> Path:
    """The schema-1 fixture's inbox, its files given back the times its ledger recorded."""
    inbox = tmp_path / "inbox"
    shutil.copytree(FIXTURE / "inbox", inbox)
    with sqlite3.connect(FIXTURE / "kcl-ledger.sqlite") as conn:
        for path, mtime in conn.execute("SELECT path, mtime_ns FROM files"):
            os.utime(inbox / path, ns=(mtime, mtime))
    return inbox


def run(inbox: Path, out_dir: Path, roster, **kw):
    return collect(inbox, out_dir / "tong-hop.xlsx", roster=roster, year=YEAR, jobs=0, export=out_dir / "xuat",
                   **kw)


def content(out_dir: Path) -> dict:
    """Every sheet's cells and every exported table, without what differs by design."""
    wb = CalamineWorkbook.from_path(str(out_dir / "tong-hop.xlsx"))
    sheets = {}
    for name in wb.sheet_names:
        grid = wb.get_sheet_by_name(name).to_python()
        if name == "Tổng quan":
            grid = [r for r in grid if not (r and r[0] in VOLATILE_OVERVIEW)]
        if grid and any(h in VOLATILE_FILE_COLUMNS for h in grid[0]):
            keep = [i for i, h in enumerate(grid[0]) if h not in VOLATILE_FILE_COLUMNS]
            grid = [[r[i] for i in keep if i < len(r)] for r in grid]
        sheets[name] = grid
    exports = {}
    for p in sorted((out_dir / "xuat").glob("*.parquet")):
        if p.stem not in ("rows", "schools", "issues", "files"):
            continue  # an earlier run's export, kept under a timestamped name
        df = pd.read_parquet(p)
        exports[p.name] = df.drop(columns=[c for c in VOLATILE_FILE_COLUMNS if c in df.columns])
    return {"sheets": sheets, "exports": exports}


def same(a: dict, b: dict) -> None:
    assert a["sheets"] == b["sheets"]
    assert a["exports"].keys() == b["exports"].keys()
    for name in a["exports"]:
        pd.testing.assert_frame_equal(a["exports"][name], b["exports"][name], check_dtype=True)


def test_rerun_after_a_new_file_gives_what_a_fresh_run_gives(roster, new_plan, tmp_path):
    inbox = fixture_inbox(tmp_path)
    daily = tmp_path / "daily"
    run(inbox, daily, roster)
    assert cache_path(daily / "kcl-ledger.sqlite").is_file()
    shutil.copy(new_plan, inbox / new_plan.name)
    again = run(inbox, daily, roster)
    assert again.parsed == 1 and again.cached == 3 and not again.warnings
    fresh = tmp_path / "fresh"
    run(inbox, fresh, roster)
    same(content(daily), content(fresh))
    # the re-run stored its rows from the cache it read, the new plan's added: the same
    # cache as a fresh run writes from scratch
    pd.testing.assert_frame_equal(stored_rows(daily), stored_rows(fresh))
    assert stored_rows(daily)[PLAN].nunique() == len(again.accepted) == 3


def stored_rows(out_dir: Path) -> pd.DataFrame:
    return load(cache_path(out_dir / "kcl-ledger.sqlite"), cache_key(out_dir), [])


def cache_key(out_dir: Path) -> str:
    with pa.memory_map(str(cache_path(out_dir / "kcl-ledger.sqlite"))) as source:
        return json.loads(pa.ipc.open_file(source).schema.metadata[b"kcl-xlsx-summary-rows"])["key"]


def test_the_rows_cache_is_used_and_another_options_key_does_not_use_it(roster, new_plan, tmp_path, monkeypatch):
    inbox = fixture_inbox(tmp_path)
    first = run(inbox, tmp_path / "o", roster)
    path = cache_path(first.ledger_path)
    # tamper with the cache (same key): the next run takes its rows as they are...
    with pa.memory_map(str(path)) as source:
        key = json.loads(pa.ipc.open_file(source).schema.metadata[b"kcl-xlsx-summary-rows"])["key"]
    cache = RowsCache(first.ledger_path, key, [])
    stored = cache.stored()
    stored["budget_max_mvnd"] = 1000.0
    cache.store(stored)
    shutil.copy(new_plan, inbox / new_plan.name)
    tampered = run(inbox, tmp_path / "o", roster)
    budgets = pd.read_parquet(tmp_path / "o" / "xuat" / "rows.parquet")
    mine = budgets[budgets["school_code"] != "PT001"]["budget_max_mvnd"]
    assert tampered.parsed == 1 and (mine == 1000.0).all()
    # ...and under other rules (another options key) neither the ledger's results nor the
    # cache's rows are used: every file is checked again and the true figures come back
    monkeypatch.setattr(collect_run, "RULES_REVISION", collect_run.RULES_REVISION + 1)
    (inbox / "PT001.xlsx").touch()
    other = run(inbox, tmp_path / "o", roster)
    assert other.parsed == 4
    mine = pd.read_parquet(tmp_path / "o" / "xuat" / "rows.parquet")
    assert not (mine[mine["school_code"] != "PT001"]["budget_max_mvnd"] == 1000.0).all()
    fresh = tmp_path / "fresh"
    run(inbox, fresh, roster)
    same(content(tmp_path / "o"), content(fresh))


@pytest.mark.parametrize("damage", ["rows cache", "ledger block"])
def test_a_damaged_cache_is_rebuilt_with_a_warning_line(roster, new_plan, tmp_path, damage):
    inbox = fixture_inbox(tmp_path)
    first = run(inbox, tmp_path / "o", roster)
    if damage == "rows cache":
        cache_path(first.ledger_path).write_bytes(b"ARROW1\x00\x00 not really")
    else:
        with sqlite3.connect(first.ledger_path) as conn:
            conn.execute("UPDATE files SET block=? WHERE path='MN001.xlsx'", (b"\x78 damaged",))
        cache_path(first.ledger_path).unlink()  # so that the block is needed
    shutil.copy(new_plan, inbox / new_plan.name)
    again = run(inbox, tmp_path / "o", roster)
    if damage == "rows cache":
        assert len(again.warnings) == 1 and "summary rows cache damaged" in again.warnings[0]
    fresh = tmp_path / "fresh"
    run(inbox, fresh, roster)
    same(content(tmp_path / "o"), content(fresh))


# The rules revision the fixture ledger was written under (332af89); Word plans made it 3.
FIXTURE_RULES = 2


def test_a_ledger_written_before_blocks_is_used_and_upgraded(roster, tmp_path, monkeypatch):
    """Under the rules it was written with, a schema-1 ledger's results are used as they are
    and the ledger is upgraded (the rules revision itself is the subject of the next test)."""
    monkeypatch.setattr(collect_run, "RULES_REVISION", FIXTURE_RULES)
    inbox = fixture_inbox(tmp_path)
    out = tmp_path / "o"
    out.mkdir()
    shutil.copy(FIXTURE / "kcl-ledger.sqlite", out / "kcl-ledger.sqlite")
    with sqlite3.connect(out / "kcl-ledger.sqlite") as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
        assert "block" not in {r[1] for r in conn.execute("PRAGMA table_info(files)")}
    res = run(inbox, out, roster)
    assert res.parsed == 0 and res.cached == 3 and not res.warnings  # every result taken from the old ledger
    with sqlite3.connect(out / "kcl-ledger.sqlite") as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        assert conn.execute("SELECT COUNT(*) FROM files WHERE block IS NULL").fetchone()[0] == 0
    fresh = tmp_path / "fresh"
    run(inbox, fresh, roster)
    same(content(out), content(fresh))


def test_an_old_ledger_under_newer_rules_is_checked_again_once(roster, tmp_path):
    """A ledger written under an earlier rules revision (Word plans were then refused): its
    files are checked again, once, and the next run takes them from the upgraded ledger."""
    assert collect_run.RULES_REVISION > FIXTURE_RULES
    inbox = fixture_inbox(tmp_path)
    out = tmp_path / "o"
    out.mkdir()
    shutil.copy(FIXTURE / "kcl-ledger.sqlite", out / "kcl-ledger.sqlite")
    first = run(inbox, out, roster)
    assert first.parsed == 3 and first.cached == 0
    (inbox / "new-day.txt").write_text("a note that is not a plan", encoding="utf-8")  # the inbox changed
    second = run(inbox, out, roster)
    assert second.cached == 3


def test_a_rerun_writes_the_classifications_that_changed(roster, sources, tmp_path):
    """A re-run writes back only the files whose classification changed (rewriting every
    unchanged one touched most of the ledger's pages): a newer plan of MN001 makes the
    earlier one superseded in the ledger (reissue reads its matched school from there), and
    the others keep what they had."""
    inbox = fixture_inbox(tmp_path)
    run(inbox, tmp_path / "o", roster)
    fac = TemplateFactory(sources, YEAR)
    school = roster.by_code()["MN001"]
    data, _ = fac.make(school.level, school)
    (tmp_path / "t.xlsx").write_bytes(data)
    fill_plan(tmp_path / "t.xlsx", inbox / "MN001-moi.xlsx", plan_rows(fac.spec(school.level), 4, 3),
              info={"preparer": "B"})
    set_saved_time(inbox / "MN001-moi.xlsx", "2025-10-09T08:00:00Z")
    again = run(inbox, tmp_path / "o", roster)
    assert again.parsed == 1
    with sqlite3.connect(again.ledger_path) as conn:
        stored = dict(((p, (c, m)) for p, c, m in conn.execute("SELECT path, classification, matched_school FROM files")))
    assert stored == {"MN001.xlsx": ("superseded", "MN001"), "MN001-moi.xlsx": ("accepted", "MN001"),
                      "TH001-a.xlsx": ("superseded", "TH001"), "TH001-b.xlsx": ("accepted", "TH001")}


@pytest.mark.parametrize("day", ["first run", "re-run"])
def test_rows_exported_from_the_stored_rows_are_the_rows_exported_from_the_frame(roster, new_plan, tmp_path,
                                                                                    monkeypatch, day):
    """The export takes the rows' plan columns from the table the rows cache stored in the
    same run (Tables.rows_arrow; whole on a first run, from the stored rows on a re-run)
    instead of converting them again: rows.csv and rows.parquet are the same bytes as when
    every column is converted from the frame."""
    import kcl_xlsx.summary.export as E
    import kcl_xlsx.summary.tables as T

    real, used = E.write_tables, []

    def spy(df, csv_path, parquet_path, shown=None, stored=None):
        if "source_row" in df.columns:  # the rows table
            used.append(stored is not None)
        return real(df, csv_path, parquet_path, shown, stored)

    monkeypatch.setattr(E, "write_tables", spy)
    monkeypatch.setattr(E, "CHUNK_ROWS", 7)  # several chunks: each takes its own slice of the stored rows
    outs = {}
    for from_stored in (True, False):
        inbox = fixture_inbox(tmp_path / f"in-{from_stored}")
        out = tmp_path / f"out-{from_stored}"
        with monkeypatch.context() as m:
            if not from_stored:
                m.setattr(T, "_stored_whole", lambda cache, rows: None)
            run(inbox, out, roster)
            if day == "re-run":
                shutil.copy(new_plan, inbox / new_plan.name)
                assert run(inbox, out, roster).parsed == 1
        outs[from_stored] = out / "xuat"
    runs = 2 if day == "re-run" else 1
    assert used == [True] * runs + [False] * runs  # taken from the stored rows, then (patched) not
    for name in ("rows.csv", "rows.parquet"):
        assert (outs[True] / name).read_bytes() == (outs[False] / name).read_bytes(), name
