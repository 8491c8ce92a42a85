"""End-to-end: templates of the sample roster filled by script, collected, summarised.

Totals are recomputed here from the fill data (not from the code under test) and compared
with the summary workbook read back by python-calamine.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from workbook_templates.form import load_form
from kcl_xlsx.demo import set_saved_time
from kcl_xlsx.app import collect
from kcl_xlsx.collect.run import diff_rows
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.collect.ledger import Ledger
from kcl_xlsx.spec.roster import load_roster
from tests.support.fill import fill_plan
from tests.support.libreoffice import resave
from kcl_xlsx.spec.sample_plans import plan_rows
from kcl_xlsx.spec.vocab import Classification, SchoolStatus

YEAR = "2025-2026"
JOBS = 0  # in-process; see test_sandboxed_run for the worker pool


set_saved = set_saved_time  # one way of setting a file's save time, shared with the product


def tree_hashes(root: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def scenario(sources, tmp_path_factory):
    """An inbox and the totals expected of it."""
    roster = load_roster("sample", sources.form)
    fac = TemplateFactory(sources, YEAR)
    work = tmp_path_factory.mktemp("work")
    inbox = tmp_path_factory.mktemp("inbox")
    (inbox / "thu-den").mkdir()
    by = {s.code: s for s in roster.schools}
    expected_rows: dict[str, list[dict]] = {}

    def make(code: str, n: int, seed: int, dst: Path, saved: str | None = None, errors: bool = False) -> list[dict]:
        s = by[code]
        data, _ = fac.make(s.level, s)
        tpl = work / f"{code}-{seed}.xlsx"
        tpl.write_bytes(data)
        rows = plan_rows(fac.spec(s.level), n, seed)
        if errors:
            rows[0] = {**rows[0], "target": None, "start": "không rõ"}
        fill_plan(tpl, dst, rows, info={"preparer": "Nguyễn Văn A"})
        if saved:
            set_saved(dst, saved)
        return rows

    expected_rows["MN001"] = make("MN001", 6, 1, inbox / "MN001_hoa-sen.xlsx", "2025-10-01T08:00:00Z")
    # TH001 twice: an older and a newer version (newest by saved time wins)
    old = make("TH001", 5, 2, inbox / "thu-den" / "TH001_ban-dau.xlsx", "2025-10-01T08:00:00Z")
    expected_rows["TH001"] = make("TH001", 7, 3, inbox / "TH001_sua-lai.xlsx", "2025-10-05T08:00:00Z")
    # TH003 converted to .xls by LibreOffice
    expected_rows["TH003"] = make("TH003", 4, 4, work / "TH003_vo-thi-sau.xlsx")
    xls = resave(work / "TH003_vo-thi-sau.xlsx", work / "xls", fmt="xls")[0]
    shutil.copy(xls, inbox / "TH003_vo-thi-sau.xls")
    # CS001 inside a zip attachment
    expected_rows["CS001"] = make("CS001", 5, 5, work / "CS001.xlsx", "2025-10-02T08:00:00Z")
    with zipfile.ZipFile(inbox / "thu-den" / "dinh-kem.zip", "w") as zf:
        zf.write(work / "CS001.xlsx", "ke-hoach/CS001.xlsx")
        zf.writestr("ghi-chu.txt", "xin gửi")
    # CS002 only with errors
    make("CS002", 4, 6, inbox / "CS002_nguyen-du.xlsx", errors=True)
    # PT001 valid, plus an exact copy (duplicate)
    expected_rows["PT001"] = make("PT001", 3, 7, inbox / "PT001.xlsx", "2025-10-03T08:00:00Z")
    shutil.copy(inbox / "PT001.xlsx", inbox / "thu-den" / "PT001 (1).xlsx")
    # junk: a lock file, a PDF, a plain text file
    (inbox / "~$MN001_hoa-sen.xlsx").write_bytes(b"\x00" * 165)
    (inbox / "cong-van.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    (inbox / "ghi-chu.txt").write_text("Kính gửi Phòng", encoding="utf-8")
    # MN002, TH002, NC001 missing
    return roster, inbox, work, expected_rows, old


@pytest.fixture(scope="module")
def runs(scenario, tmp_path_factory):
    roster, inbox, work, expected, old = scenario
    before = tree_hashes(inbox)
    out = tmp_path_factory.mktemp("out") / "tong-hop.xlsx"
    first = collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS)
    first_copy = out.with_name("first.xlsx")
    shutil.copy(out, first_copy)
    second = collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS)
    after = tree_hashes(inbox)
    return first, second, out, first_copy, before, after


def sheet(path: Path, name: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def overview(path: Path) -> dict[str, object]:
    return {r[0]: r[1] for r in sheet(path, "Tổng quan") if r and isinstance(r[0], str) and len(r) > 1}


def test_classification(runs):
    first = runs[0]
    cls = {f.rel: f.classification for f in first.files}
    assert cls["MN001_hoa-sen.xlsx"] == Classification.ACCEPTED
    assert cls["TH001_sua-lai.xlsx"] == Classification.ACCEPTED
    assert cls["thu-den/TH001_ban-dau.xlsx"] == Classification.SUPERSEDED
    assert cls["TH003_vo-thi-sau.xls"] == Classification.ACCEPTED
    assert cls["thu-den/dinh-kem.zip"] == Classification.ARCHIVE
    assert cls["thu-den/dinh-kem.zip!ke-hoach/CS001.xlsx"] == Classification.ACCEPTED
    assert cls["thu-den/dinh-kem.zip!ghi-chu.txt"] == Classification.SKIPPED  # listed, with the reason
    assert cls["CS002_nguyen-du.xlsx"] == Classification.WITH_ERRORS
    assert {cls["PT001.xlsx"], cls["thu-den/PT001 (1).xlsx"]} == {Classification.ACCEPTED, Classification.DUPLICATE}
    assert cls["~$MN001_hoa-sen.xlsx"] == Classification.TEMPORARY
    assert cls["cong-van.pdf"] == Classification.NOT_WORKBOOK
    assert cls["ghi-chu.txt"] == Classification.NOT_WORKBOOK
    st = {c: s.status for c, s in first.schools.items()}
    valid, missing = SchoolStatus.SUBMITTED_VALID, SchoolStatus.MISSING
    assert st == {"MN001": valid, "MN002": missing, "TH001": valid, "TH002": missing, "TH003": valid, "CS001": valid,
                  "CS002": SchoolStatus.SUBMITTED_ERRORS, "PT001": valid, "NC001": missing}


def test_changes_against_previous_version(runs, scenario):
    th = runs[0].schools["TH001"]
    assert th.previous is not None and th.previous.rel == "thu-den/TH001_ban-dau.xlsx"
    kinds = {c.kind for c in th.changes}
    assert kinds <= {"added", "removed", "changed"} and th.changes
    # every action text ends with "(i)": rows 6, 7 of the new version are new
    assert sum(c.kind == "added" for c in th.changes) >= 2


def test_summary_figures_equal_independent_totals(runs, scenario):
    _roster, _inbox, _work, expected, _old = scenario
    out = runs[2]
    rows = [r for code in expected for r in expected[code]]
    total = sum(r["budget"] or 0 for r in rows)
    ov = overview(out)
    assert ov["Số công việc/giải pháp"] == len(rows)
    assert ov["Tổng kinh phí tối đa (triệu đồng)"] == pytest.approx(total)
    assert ov["Số trường phải nộp"] == 9
    assert ov["Số trường nộp hợp lệ (được tổng hợp)"] == 5
    assert ov["Số trường chưa nộp"] == 3
    by_fund: dict[str, float] = {}
    for r in rows:
        if r["budget"]:
            by_fund[r["funding"]] = by_fund.get(r["funding"], 0) + r["budget"]
    # Nguồn kinh phí pivot: total column per standard, and grand total
    fund_sheet = sheet(out, "Nguồn kinh phí")
    header = fund_sheet[0]
    for src, amount in by_fund.items():
        col = header.index(src)
        assert fund_sheet[-1][col] == pytest.approx(amount)  # the SUM formula's cached value
    assert fund_sheet[-1][header.index("Tổng")] == pytest.approx(total)
    # per school
    table = sheet(out, "Theo trường")
    school = {r[0]: dict(zip(table[0], r)) for r in table[1:] if r and r[0] != "Tổng"}
    assert len(school) == 9  # every roster school, whatever its status
    for code, rs in expected.items():
        assert school[code]["Tình trạng nộp"] in (SchoolStatus.SUBMITTED_VALID.label, SchoolStatus.LATE.label)
        assert school[code]["Số công việc"] == len(rs)
        assert school[code]["Kinh phí tối đa (tr.đ)"] == pytest.approx(sum(r["budget"] or 0 for r in rs))
        for src in {r["funding"] for r in rs if r["budget"]}:
            assert school[code][f"Kinh phí tối đa: {src}"] == pytest.approx(
                sum(r["budget"] for r in rs if r["budget"] and r["funding"] == src))
    assert {c for c, r in school.items() if r["Tình trạng nộp"] == "Chưa nộp"} == {"MN002", "TH002", "NC001"}
    assert all(school[c]["Số công việc"] == 0 for c in ("MN002", "TH002", "NC001", "CS002"))
    # Theo đơn vị: one office here, its schools by status
    units = sheet(out, "Theo đơn vị")
    unit = dict(zip(units[0], units[1]))
    assert (unit["Số trường"], unit["Chưa nộp"], unit["Số công việc"]) == (9, 3, len(rows))
    detail = sheet(out, "Chi tiết")
    assert len(detail) - 1 == len(rows)
    # missing list with roster contacts
    missing = sheet(out, "Chưa nộp")
    assert missing[0][-3:] == ["principal", "phone", "email"]
    assert {r[0] for r in missing[1:]} == {"MN002", "TH002", "NC001", "CS002"}


def test_second_run_parses_nothing_and_gives_same_figures(runs):
    first, second, out, first_copy, *_ = runs
    assert first.parsed > 0
    # an unchanged inbox: nothing parsed, nothing rewritten, the same result reported
    assert second.unchanged and second.parsed == 0
    listed_only = (Classification.ARCHIVE, Classification.SKIPPED)
    assert second.cached == len([f for f in first.files if f.classification not in listed_only])
    assert second.counts() == first.counts()
    assert {c: s.status for c, s in second.schools.items()} == {c: s.status for c, s in first.schools.items()}
    assert overview(out) == overview(first_copy)
    assert sheet(out, "Theo trường") == sheet(first_copy, "Theo trường")
    assert out.read_bytes() == first_copy.read_bytes() and second.backup is None


def _collected_copy(scenario, tmp_path: Path):
    """A copy of the scenario's inbox (to be changed) collected once: roster, inbox, out, result."""
    roster, inbox, *_ = scenario
    copy = tmp_path / "inbox"
    shutil.copytree(inbox, copy)
    out = tmp_path / "o" / "t.xlsx"
    return roster, copy, out, collect(copy, out, roster=roster, year=YEAR, jobs=JOBS)


def test_changed_inbox_reparses_only_the_new_file_and_keeps_the_old_summary(scenario, tmp_path):
    roster, copy, out, first = _collected_copy(scenario, tmp_path)
    (copy / "ghi-chu.txt").write_text("thư gửi kèm", encoding="utf-8")
    second = collect(copy, out, roster=roster, year=YEAR, jobs=JOBS)
    assert first.parsed > 1 and not second.unchanged and second.parsed == 1  # only the new file
    assert second.backup is not None and second.backup.exists()  # the first summary was kept


@pytest.mark.parametrize("damage", ["deleted", "garbage", "another run's", "outputs not a mapping"])
def test_without_the_outputs_record_an_unchanged_inbox_is_rebuilt(scenario, tmp_path, damage):
    """The outputs' record beside the ledger (collect/cache.py) is only a cache: gone,
    unreadable or of another run, the next run rebuilds the outputs, in one piece."""
    from kcl_xlsx.collect.cache import outputs_file
    import kcl_xlsx.collect.run as C

    roster, inbox, *_ = scenario
    out = tmp_path / "o" / "t.xlsx"
    first = collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS)
    record = outputs_file(C.default_ledger(out))
    assert record.is_file() and collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS).unchanged
    if damage == "deleted":
        record.unlink()
    elif damage == "garbage":
        record.write_bytes(b"\x00{not json")
    elif damage == "outputs not a mapping":
        written = json.loads(record.read_text(encoding="utf-8"))
        record.write_text(json.dumps({**written, "outputs": list(written["outputs"].items())}), encoding="utf-8")
    else:
        record.write_text(record.read_text(encoding="utf-8").replace('"fingerprint": "', '"fingerprint": "0'),
                          encoding="utf-8")
    again = collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS)
    assert not again.unchanged and again.parsed == 0 and again.cached == first.parsed
    assert again.backup is not None and out.is_file()  # written anew, the earlier one kept
    assert collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS).unchanged  # and recorded again


def test_a_run_failing_after_its_ledger_record_is_done_again(scenario, tmp_path, monkeypatch):
    """The ledger's record (what the run found) is written before the outputs: a run that
    fails while writing them leaves a record the outputs' record does not match, so the
    next run over the same inbox writes the outputs instead of calling them unchanged."""
    from kcl_xlsx.base.output import OutputError
    import kcl_xlsx.summary.workbook as W

    roster, copy, out, first = _collected_copy(scenario, tmp_path)
    (copy / "ghi-chu-them.txt").write_text("thư gửi kèm", encoding="utf-8")
    real = W.write_summary

    def full_disk(*a, **k):
        raise OutputError(f"{out}: không ghi được (đĩa đầy) / cannot write (disk full)")

    monkeypatch.setattr(W, "write_summary", full_disk)
    with pytest.raises(OutputError):
        collect(copy, out, roster=roster, year=YEAR, jobs=JOBS)
    monkeypatch.setattr(W, "write_summary", real)
    again = collect(copy, out, roster=roster, year=YEAR, jobs=JOBS)
    assert not again.unchanged and again.backup is not None
    assert overview(out)["Số tệp trong hộp thư"] == len(again.files) == len(first.files) + 1  # the note counted


def test_inbox_unchanged(runs):
    assert runs[4] == runs[5]


def test_ledger_records_every_file(runs):
    first = runs[0]
    with Ledger(first.ledger_path) as led:
        rows = led.all()
    paths = {r["path"] for r in rows}
    listed_only = (Classification.ARCHIVE, Classification.SKIPPED)  # an attachment, a member not checked
    assert {f.rel for f in first.files if f.classification not in listed_only} <= paths
    row = next(r for r in rows if r["path"] == "TH001_sua-lai.xlsx")
    assert row["school_code"] == "TH001" and row["classification"] == Classification.ACCEPTED.value and row["template_id"]
    assert row["saved_at"].startswith("2025-10-05")


def test_ledger_keeps_rows_compressed_and_reads_older_json_rows(runs, tmp_path):
    import sqlite3

    from kcl_xlsx.collect.ledger import read_rows, rows_to_json

    first = runs[0]
    f = next(f for f in first.accepted if f.rel == "TH001_sua-lai.xlsx")
    with sqlite3.connect(first.ledger_path) as conn:
        stored, okey = conn.execute("SELECT rows_json, options_key FROM files WHERE path=? AND sha256=?",
                                    (f.rel, f.sha256)).fetchone()
    rows = read_rows(first.ledger_path, f.rel, f.sha256, okey)
    as_json = rows_to_json(rows).encode("utf-8")
    assert isinstance(stored, bytes) and stored[:1] == b"\x78" and len(stored) * 2 < len(as_json)
    assert rows and all(r.values.get("criterion") for r in rows)
    # a ledger written before compression held the JSON itself, as text or UTF-8 bytes
    old = tmp_path / "old.sqlite"
    shutil.copyfile(first.ledger_path, old)
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE files SET rows_json=? WHERE sha256=?", (as_json.decode("utf-8"), f.sha256))
    assert read_rows(old, f.rel, f.sha256, okey) == rows
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE files SET rows_json=? WHERE sha256=?", (as_json, f.sha256))
    assert read_rows(old, f.rel, f.sha256, okey) == rows


def test_touched_file_is_rehashed_not_reparsed(scenario, tmp_path):
    roster, inbox, *_ = scenario
    copy = tmp_path / "inbox"
    shutil.copytree(inbox, copy)
    out = tmp_path / "o" / "t.xlsx"
    collect(copy, out, roster=roster, year=YEAR, jobs=JOBS)
    (copy / "PT001.xlsx").rename(copy / "PT001-renamed.xlsx")
    res = collect(copy, out, roster=roster, year=YEAR, jobs=JOBS)
    assert res.parsed == 0 and res.same_hash == 1


def test_interrupted_run_resumes(scenario, tmp_path, monkeypatch):
    roster, inbox, *_ = scenario
    import kcl_xlsx.collect.run as C

    calls = {"n": 0}
    real = C.check_path

    def dying(*a, **k):
        calls["n"] += 1
        if calls["n"] > C.BATCH:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(C, "BATCH", 4)
    monkeypatch.setattr(C, "check_path", dying)
    out = tmp_path / "o" / "t.xlsx"
    with pytest.raises(KeyboardInterrupt):
        collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS)
    assert not out.exists()
    with Ledger(C.default_ledger(out)) as led:
        assert led.count() == 4  # one whole batch, nothing half-written
    monkeypatch.setattr(C, "check_path", real)
    res = collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS)
    assert res.cached == 4 and res.parsed > 0 and out.exists()


def test_match_by_name_and_file_name(sources, tmp_path):
    roster = load_roster("sample", sources.form)
    fac = TemplateFactory(sources, YEAR)
    inbox = tmp_path / "inbox"
    s = roster.by_code()["CS002"]
    data, _ = fac.make(s.level)  # a blank template: no school in its identity
    (tmp_path / "t.xlsx").write_bytes(data)
    rows = plan_rows(fac.spec(s.level), 2, 9)
    fill_plan(tmp_path / "t.xlsx", inbox / "ke-hoach-cs002.xlsx", rows, info={"preparer": "A"})
    fill_plan(tmp_path / "t.xlsx", inbox / "ke-hoach.xlsx", rows[:1], info={"preparer": "B"})
    res = collect(inbox, tmp_path / "o.xlsx", roster=roster, year=YEAR, jobs=JOBS)
    got = {f.rel: (f.classification, f.school, f.match) for f in res.files}
    assert got["ke-hoach-cs002.xlsx"] == (Classification.ACCEPTED, "CS002", "file_name")
    assert got["ke-hoach.xlsx"][0] == Classification.UNMATCHED


def test_diff_rows_keys_on_criterion_and_actions():
    from kcl_xlsx.check.checker import PlanRow

    a = [PlanRow(6, {"criterion": "1.1 - X", "actions": "Làm A", "budget": 1}, {"criterion_code": "1.1"}),
         PlanRow(7, {"criterion": "1.2 - Y", "actions": "Làm B"}, {"criterion_code": "1.2"})]
    b = [PlanRow(6, {"criterion": "1.1 - X", "actions": "lam a", "budget": 2}, {"criterion_code": "1.1"}),
         PlanRow(7, {"criterion": "2.1 - Z", "actions": "Làm C"}, {"criterion_code": "2.1"})]
    kinds = sorted(c.kind for c in diff_rows(a, b, load_form()))
    assert kinds == ["added", "changed", "removed"]


def test_summary_valid_ooxml_and_opens_in_libreoffice(runs, ooxml_validate, tmp_path):
    out = runs[2]
    ooxml_validate(out)
    back = resave(out, tmp_path / "lo", fmt="xlsx", recalc=True)[0]
    assert overview(back)["Số công việc/giải pháp"] == overview(out)["Số công việc/giải pháp"]


def test_sandboxed_run(scenario, tmp_path):
    """The same inbox through the worker pool (kcl_xlsx.intake.sandbox) gives the same result."""
    pytest.importorskip("kcl_xlsx.intake.sandbox", reason="kcl_xlsx/sandbox.py not there yet")
    roster, inbox, *_ = scenario
    res = collect(inbox, tmp_path / "t.xlsx", roster=roster, year=YEAR, jobs=2)
    assert res.sandboxed
    assert {c: s.status for c, s in res.schools.items()}["TH001"] == SchoolStatus.SUBMITTED_VALID


@pytest.mark.parametrize("where", ["-o", "--export", "--feedback", "--ledger", "rollup -o"])
def test_an_output_blocked_by_a_file_is_one_line_before_any_work(tmp_path, where):
    from typer.testing import CliRunner

    from kcl_xlsx.cli import app

    inbox = tmp_path / "hop-thu"
    inbox.mkdir()
    (tmp_path / "la-tep").write_text("một tệp, không phải thư mục", encoding="utf-8")
    blocked = tmp_path / "la-tep" / "ra"
    out = tmp_path / "ra" / "tong-hop.xlsx"
    cmd = {"-o": ["collect", str(inbox), "-o", str(blocked / "t.xlsx")],
           "--export": ["collect", str(inbox), "-o", str(out), "--export", str(blocked)],
           "--feedback": ["collect", str(inbox), "-o", str(out), "--feedback", str(blocked)],
           "--ledger": ["collect", str(inbox), "-o", str(out), "--ledger", str(blocked / "l.sqlite")],
           "rollup -o": ["rollup", str(tmp_path / "x.xlsx"), "-o", str(blocked / "t.xlsx")]}[where]
    res = CliRunner().invoke(app, cmd)
    lines = res.output.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert "la-tep" in lines[0] and "Traceback" not in res.output
    assert not (tmp_path / "ra").exists()  # refused before anything was written


def test_a_ledger_that_is_not_a_database_is_one_line(tmp_path):
    from kcl_xlsx.base.output import OutputError

    bad = tmp_path / "so.sqlite"
    bad.write_bytes(b"day khong phai co so du lieu" * 100)
    with pytest.raises(OutputError, match="so.sqlite.*cannot open the ledger"):
        Ledger(bad)
    assert bad.read_bytes() == b"day khong phai co so du lieu" * 100  # left as it was


def test_links_and_special_files_are_listed_never_opened(scenario, tmp_path):
    import os

    roster, inbox, *_ = scenario
    box = tmp_path / "inbox"
    box.mkdir()
    shutil.copyfile(inbox / "PT001.xlsx", box / "PT001.xlsx")
    secret = tmp_path / "bi-mat.xlsx"
    secret.write_text("không được đọc", encoding="utf-8")
    (box / "lien-ket.xlsx").symlink_to(secret)
    (box / "zero.xlsx").symlink_to("/dev/zero")
    (box / "vong").symlink_to(box)  # a folder link back to the inbox itself
    os.mkfifo(box / "ong.xlsx")  # opening it to read would wait for ever
    out = tmp_path / "o" / "t.xlsx"
    res = collect(box, out, roster=roster, year=YEAR, jobs=JOBS)
    by_rel = {f.rel: f for f in res.files}
    assert sorted(by_rel) == ["PT001.xlsx", "lien-ket.xlsx", "ong.xlsx", "vong", "zero.xlsx"]
    assert by_rel["PT001.xlsx"].classification == Classification.ACCEPTED and res.parsed == 1
    for rel in ("lien-ket.xlsx", "zero.xlsx", "vong"):
        assert by_rel[rel].classification == Classification.SKIPPED and "symlink" in by_rel[rel].note and by_rel[rel].sub is None
    assert by_rel["ong.xlsx"].classification == Classification.SKIPPED and "not a regular file" in by_rel["ong.xlsx"].note
    listed = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Tệp").to_python()
    shown = {row[0]: row for row in listed[1:]}
    assert "Bỏ qua (không mở, xem lý do)" in shown["ong.xlsx"]
    assert "không được đọc" not in str(listed)


@pytest.mark.parametrize("command", ["collect", "rollup"])
def test_a_summary_name_that_is_a_folder_is_refused_before_any_work(tmp_path, command):
    from typer.testing import CliRunner

    from kcl_xlsx.cli import app

    inbox = tmp_path / "hop-thu"
    inbox.mkdir()
    folder = tmp_path / "tong-hop.xlsx"
    folder.mkdir()
    source = [str(inbox)] if command == "collect" else [str(tmp_path / "x.xlsx")]
    res = CliRunner().invoke(app, [command, *source, "-o", str(folder)])
    assert res.exit_code == 2 and res.output.strip().splitlines() == [
        f"kcl-xlsx: {folder}: là một thư mục, cần tên tệp .xlsx / is a folder, not a file name"]
    assert sorted(tmp_path.iterdir()) == sorted([inbox, folder]) and list(folder.iterdir()) == []  # nothing written


def test_file_sha256_reads_in_pieces_and_is_blank_when_unreadable(scenario, tmp_path):
    from kcl_xlsx.intake.entries import file_sha256

    _roster, inbox, *_ = scenario
    data = (inbox / "PT001.xlsx").read_bytes()
    big = tmp_path / "lon.bin"
    big.write_bytes(data * 40)  # more than one 1 MB piece
    assert file_sha256(inbox / "PT001.xlsx") == hashlib.sha256(data).hexdigest()
    assert file_sha256(big) == hashlib.sha256(data * 40).hexdigest() and big.stat().st_size > 2**20
    assert file_sha256(tmp_path) == "" and file_sha256(tmp_path / "khong-co.xlsx") == ""


def test_a_school_that_sent_only_a_pdf_or_word_is_wrong_format_not_missing(sources, tmp_path):
    """A PDF or Word file matched to a school by its folder, its file name or the school's
    name makes that school "Nộp sai định dạng" with the file named, not "Chưa nộp"; a school
    that also sent a plan keeps its plan's status."""
    from kcl_xlsx.spec.vocab import SchoolStatus

    roster = load_roster("sample", sources.form)
    fac = TemplateFactory(sources, YEAR)
    inbox = tmp_path / "inbox"
    (inbox / "cs001").mkdir(parents=True)
    (inbox / "cs001" / "ke-hoach.pdf").write_bytes(b"%PDF-1.4\n% a scanned plan\n")  # by folder
    # by file name: a Word letter, no plan table in it (a Word plan is read as a plan: test_word_reader.py)
    import docx

    letter = docx.Document()
    letter.add_paragraph("Kính gửi Phòng GD&ĐT: nhà trường gửi kế hoạch bản in kèm theo.")
    letter.save(inbox / "KH_PT001_2025.docx")
    (inbox / "Truong THCS Nguyen Du").mkdir()
    (inbox / "Truong THCS Nguyen Du" / "anh-chup.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo")  # by name
    (inbox / "ghi-chu.txt").write_bytes("không của trường nào".encode())  # nobody's
    # MN001 sends a PDF and a valid plan: the plan speaks for it
    data, _ = fac.make("mam-non", next(s for s in roster.schools if s.code == "MN001"))
    (tmp_path / "mn.xlsx").write_bytes(data)
    fill_plan(tmp_path / "mn.xlsx", inbox / "mn001" / "ke-hoach.xlsx", plan_rows(fac.spec("mam-non"), 2, 1),
              info={"preparer": "Nguyễn Văn A"})
    (inbox / "mn001" / "cong-van.pdf").write_bytes(b"%PDF-1.4\n")
    res = collect(inbox, tmp_path / "out" / "t.xlsx", roster=roster, year=YEAR, jobs=JOBS)
    status = {code: s.status for code, s in res.schools.items()}
    assert status["CS001"] == status["PT001"] == status["CS002"] == SchoolStatus.WRONG_FORMAT
    assert status["MN001"] == SchoolStatus.SUBMITTED_VALID and status["TH001"] == SchoolStatus.MISSING
    files = {f.rel: (f.school, f.match) for f in res.files}
    assert files["cs001/ke-hoach.pdf"] == ("CS001", "folder")
    assert files["KH_PT001_2025.docx"] == ("PT001", "file_name")
    assert files["Truong THCS Nguyen Du/anh-chup.jpg"] == ("CS002", "name")
    assert files["ghi-chu.txt"] == ("", "")
    book = CalamineWorkbook.from_path(str(tmp_path / "out" / "t.xlsx"))
    to_act = {row[0]: row for row in book.get_sheet_by_name("Chưa nộp").to_python()[1:]}
    assert "Nộp sai định dạng" in to_act["CS001"]  # listed among the schools the office must chase
    by_school = {row[0]: row for row in book.get_sheet_by_name("Theo trường").to_python()[1:]}
    assert "Nộp sai định dạng" in by_school["CS001"] and "cs001/ke-hoach.pdf" in by_school["CS001"]
    # Theo đơn vị: a column per status, and they add up to the number of schools
    head, unit = book.get_sheet_by_name("Theo đơn vị").to_python()[:2]
    unit = dict(zip(head, unit))
    statuses = [s.label for s in SchoolStatus]
    assert unit["Nộp sai định dạng"] == 3 and sum(unit[s] for s in statuses) == unit["Số trường"] == 9


@pytest.mark.parametrize("jobs", [0, 2])
@pytest.mark.parametrize("names", [("a.xlsx", "b.xlsx"), ("b.xlsx", "a.xlsx")])
def test_the_newest_version_is_one_answer_whatever_the_order(sources, tmp_path, jobs, names):
    """Two versions of one school's plan saved within the same second: the later arrival
    (file modified time) is summarised; with the same arrival time too, the content hash
    decides. File names and worker completion order never matter."""
    import datetime as dt
    import os

    roster = load_roster("sample", sources.form)
    fac = TemplateFactory(sources, YEAR)
    school = next(s for s in roster.schools if s.code == "CS001")
    data, _ = fac.make(school.level, school)
    (tmp_path / "mau.xlsx").write_bytes(data)
    spec = fac.spec(school.level)
    saved = dt.datetime(2025, 9, 20, 8, 0, 0)
    inbox = tmp_path / "inbox"
    two_rows, four_rows = inbox / names[0], inbox / names[1]
    fill_plan(tmp_path / "mau.xlsx", two_rows, plan_rows(spec, 2, 5), info={"preparer": "A"}, saved=saved)
    fill_plan(tmp_path / "mau.xlsx", four_rows, plan_rows(spec, 4, 5), info={"preparer": "A"}, saved=saved)
    os.utime(two_rows, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    os.utime(four_rows, ns=(1_700_000_000_500_000_000, 1_700_000_000_500_000_000))  # arrived half a second later
    res = collect(inbox, tmp_path / "o1" / "t.xlsx", roster=roster, year=YEAR, jobs=jobs)
    assert res.schools["CS001"].accepted.rel == four_rows.name
    # the same arrival time as well: the content hash decides, the same way every time
    os.utime(two_rows, ns=(1_700_000_000_500_000_000, 1_700_000_000_500_000_000))
    res = collect(inbox, tmp_path / "o2" / "t.xlsx", roster=roster, year=YEAR, jobs=jobs)
    by_hash = max((two_rows, four_rows), key=lambda p: hashlib.sha256(p.read_bytes()).hexdigest())
    assert res.schools["CS001"].accepted.rel == by_hash.name


def test_results_cached_under_older_rules_are_checked_again(scenario, tmp_path, monkeypatch):
    """A file the ledger knows is re-checked once the rules change (RULES_REVISION), so an
    upgrade never keeps an old verdict; without a change, nothing is re-read."""
    import kcl_xlsx.collect.run as C

    roster, inbox, *_ = scenario
    out = tmp_path / "o" / "t.xlsx"
    first = collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS)
    assert first.parsed > 0
    (tmp_path / "o" / "t.xlsx").unlink()  # the outputs are gone: the run is not "unchanged"
    same = collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS)
    assert same.parsed == 0 and same.cached == first.parsed
    monkeypatch.setattr(C, "RULES_REVISION", C.RULES_REVISION + 1)
    out.unlink()
    newer = collect(inbox, out, roster=roster, year=YEAR, jobs=JOBS)
    assert newer.parsed == first.parsed and newer.cached == 0


def test_a_run_hands_its_objects_back_to_the_collector(scenario, tmp_path):
    """collect sets what it keeps aside from the cyclic collector while it runs (base/memory.py)
    and hands it all back when it returns: a caller's later garbage is collected as before."""
    import gc

    roster, inbox, *_ = scenario
    collect(inbox, tmp_path / "o" / "t.xlsx", roster=roster, year=YEAR, jobs=JOBS)
    assert gc.get_freeze_count() == 0
