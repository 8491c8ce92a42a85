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
from hypothesis import given
from hypothesis import strategies as st
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
def test_rows_exported_by_the_process_from_the_stored_rows_or_from_the_frame_are_the_same_bytes(
        roster, new_plan, tmp_path, monkeypatch, day):
    """rows.csv and rows.parquet are written three ways, the same bytes each way:
    - by the export's own process (summary/rows_export.py), which rebuilds the rows a chunk
      at a time from the rows cache's file and one value per plan (tables.RowsParts);
    - by a thread of the run, with the plan columns' text taken from the table the rows
      cache stored in the same run (Tables.rows_arrow; whole on a first run, from the stored
      rows on a re-run);
    - by a thread, every column converted from the frame."""
    import kcl_xlsx.summary.export as E
    import kcl_xlsx.summary.outputs as O
    import kcl_xlsx.summary.rows_cache as rows_cache
    import kcl_xlsx.summary.tables as T

    real, used = E.write_tables, []

    def spy(df, csv_path, parquet_path, shown=None, stored=None):
        if "source_row" in df.columns:  # the rows table
            used.append(stored is not None)
        return real(df, csv_path, parquet_path, shown, stored)

    monkeypatch.setattr(E, "write_tables", spy)
    monkeypatch.setattr(E, "CHUNK_ROWS", 3)  # several chunks (7 rows, then 12), each rebuilt or sliced on its own
    monkeypatch.setattr(rows_cache, "BATCH_ROWS", 2)  # the file's batches: a chunk is made of parts of two or three
    outs = {}
    for way in ("process", "stored", "frame"):
        inbox = fixture_inbox(tmp_path / f"in-{way}")
        out = tmp_path / f"out-{way}"
        with monkeypatch.context() as m:
            if way != "process":
                m.setattr(O, "ROWS_IN_PROCESS", False)
            if way == "frame":
                m.setattr(T, "_stored_whole", lambda cache, rows: None)
            runs = [run(inbox, out, roster)]
            if day == "re-run":
                shutil.copy(new_plan, inbox / new_plan.name)
                runs.append(run(inbox, out, roster))
                assert runs[-1].parsed == 1
        assert all(O.ROWS_HERE not in r.warnings for r in runs)  # the process wrote them, no fallback
        outs[way] = out / "xuat"
    n = 2 if day == "re-run" else 1
    assert used == [True] * n + [False] * n  # the process's rows never went through this process
    for name in ("rows.csv", "rows.parquet"):
        assert len({(outs[way] / name).read_bytes() for way in outs}) == 1, name


def _dies(parts, folder, form, chunk_rows, umask):
    """Stands in for the export process's task (rows_export._write_rows): the process dies
    (killed, out of memory) without a word."""
    os._exit(3)


def test_when_the_export_process_dies_the_rows_are_written_here_with_a_line_saying_so(roster, tmp_path, monkeypatch):
    import kcl_xlsx.summary.outputs as O
    import kcl_xlsx.summary.rows_export as R

    outs = {}
    for way in ("dies", "thread"):
        with monkeypatch.context() as m:
            if way == "dies":
                m.setattr(R, "_write_rows", _dies)
            else:
                m.setattr(O, "ROWS_IN_PROCESS", False)
            res = run(fixture_inbox(tmp_path / f"in-{way}"), tmp_path / f"out-{way}", roster)
        assert (O.ROWS_HERE in res.warnings) == (way == "dies")
        assert {p.name for p in res.exported} >= {"rows.csv", "rows.parquet"}
        outs[way] = tmp_path / f"out-{way}" / "xuat"
    for name in ("rows.csv", "rows.parquet"):
        assert (outs["dies"] / name).read_bytes() == (outs["thread"] / name).read_bytes(), name


@pytest.mark.parametrize("change", ["another run's", "damaged", "gone"])
def test_the_export_process_refuses_a_rows_cache_file_that_is_not_this_runs(roster, new_plan, tmp_path, change):
    """The export's process rebuilds the rows from the rows cache's file: a file replaced
    since it was written (another run's rows), damaged or gone is refused (StaleRows), in
    the process as here, and nothing is written: the run writes the rows itself."""
    from kcl_xlsx.collect.run import collect_inbox
    from kcl_xlsx.summary.rows_export import RowsExport
    from kcl_xlsx.summary.tables import StaleRows, tables_from_collect

    inbox, out = fixture_inbox(tmp_path), tmp_path / "out"
    res = collect_inbox(inbox, out / "tong-hop.xlsx", roster=roster, year=YEAR, jobs=0)
    parts = tables_from_collect(res, None, RowsCache(res.ledger_path, "k", res.warnings)).rows_parts
    assert parts is not None and [len(f) for _s, f, _t in parts.chunks(4)] == [4, 3]
    cache = Path(parts.cache)
    if change == "another run's":  # the same plans and one more
        shutil.copy(new_plan, inbox / new_plan.name)
        again = collect_inbox(inbox, out / "tong-hop.xlsx", roster=roster, year=YEAR, jobs=0)
        assert tables_from_collect(again, None, RowsCache(again.ledger_path, "k", again.warnings)).rows_parts
    elif change == "damaged":
        cache.write_bytes(cache.read_bytes()[:500])
    else:
        cache.unlink()
    with pytest.raises(StaleRows):
        next(parts.chunks(4))
    process = RowsExport().start()
    try:
        assert process.submit(parts, tmp_path / "xuat", None)
        assert process.result() is None
    finally:
        process.close()
    assert not (tmp_path / "xuat").exists() or not list((tmp_path / "xuat").iterdir())


def test_a_non_finite_number_raised_in_the_export_process_is_raised_again_the_same():
    import pickle

    from kcl_xlsx.summary.fast_sheet import NonFiniteNumber

    error = pickle.loads(pickle.dumps(NonFiniteNumber("rows", "budget_max_mvnd, dòng 9", float("inf"))))
    assert (error.sheet, error.ref, error.value) == ("rows", "budget_max_mvnd, dòng 9", float("inf"))
    assert str(error).startswith("rows!budget_max_mvnd, dòng 9: số không hữu hạn (inf)")


@given(st.lists(st.integers(0, 9), max_size=8), st.integers(1, 7))
def test_the_stored_batches_are_cut_into_the_exports_chunks_whatever_their_sizes(sizes, size):
    """The export's chunks are its Parquet row groups: the export's process cuts the rows
    cache's batches, of any sizes, into chunks of ``size`` rows (the last one shorter), in
    order, and gives one empty chunk for no rows, as the thread's slices of the frame do."""
    from kcl_xlsx.summary.tables import _rechunked

    schema = pa.schema([("n", pa.int64())])
    values = list(range(sum(sizes)))
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    batches = [pa.record_batch([pa.array(values[a:a + n], pa.int64())], schema=schema) for a, n in zip(starts, sizes)]
    chunks = list(_rechunked(iter(batches), schema, size))
    whole, rest = divmod(len(values), size)
    assert [len(c) for c in chunks] == ([size] * whole + ([rest] if rest else []) or [0])
    assert [v for c in chunks for v in c.column("n").to_pylist()] == values
