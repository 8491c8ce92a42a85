"""Acceptance tests of issue 5: `kcl-xlsx reissue`, next year's templates with each school's
unfinished actions carried over.

The flow is the one an office runs: the sample roster's templates for 2025-2026 are issued,
filled by script (the statuses and months of every row chosen here), one school never sends
its plan, the inbox is collected (ledger next to the summary).  Then `reissue LEDGER --year
2026-2027 --roster R -o DIR` (CLI and library) writes the new templates; they are filled
further by script and collected into the same ledger.

Every expectation is computed here from the fill data (which rows are unfinished, which
months exist in the new year's lists), never from the code under test.  LibreOffice
(recalculating) shows what a school sees in the Kiểm tra column; the OOXML schemas stand in
for Excel.  LibreOffice is started once for all files (module fixture `recalculated`).
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
import shutil
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from kcl_xlsx.spec import identity as ident
from kcl_xlsx.spec import layout as L
from workbook_templates.form import load_form
from kcl_xlsx.check.checker import CheckOptions
from kcl_xlsx.cli import app
from kcl_xlsx.app import collect
from kcl_xlsx.issue.issuing import MANIFEST, TemplateFactory, issue_roster
from kcl_xlsx.collect.ledger import Ledger, submission_from_row
from kcl_xlsx.spec.plan_spec import PlanSpec
from kcl_xlsx.issue.reissue import NEVER_SENT, NO_VALID_PLAN, REPORT, reissue
from kcl_xlsx.spec.sample_plans import plan_rows
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.issue.template_build import PREVIOUS_SHEET
from kcl_xlsx.spec.vocab import CheckStatus, Classification
from macros_free_validation.report import Severity
from tests.support.fill import fill_plan, nfc, read_plan
from tests.support.libreoffice import resave

YEAR1, YEAR2, YEAR3 = "2025-2026", "2026-2027", "2027-2028"
KEY = "phong-gd-reissue-test-key"
TT57 = "tt57-2026-pl2-pho-thong"
CARRIED = "Chuyển tiếp từ năm học 2025-2026"
FILLED = ("MN001", "TH001", "CS001", "CS002", "PT001")  # the others send nothing in 2025-2026
REMOVED = "CS002"  # has a 2025-2026 plan, not in the 2026-2027 roster
NEW_SCHOOL = "CS003"  # in the 2026-2027 roster only
NEW_END = "Tháng 5/2027"  # what the schools type where the carried end was blanked
MAPPING = "old_code,new_code\n1.1,1.1\n5.4,3.2\n"

# One 2025-2026 plan: (criterion code, Mức, Trạng thái, Bắt đầu, Hoàn thành, Ghi chú).
PLAN = [
    ("1.1", 1, "Hoàn thành", "Tháng 9/2025", "Tháng 12/2025", None),  # done
    ("1.2", 1, "Đang thực hiện", "Tháng 10/2025", "Tháng 5/2026", None),  # carried; end not in the new list
    ("2.1", 2, "Chưa thực hiện", "Tháng 3/2026", "Tháng 12/2026", "Ưu tiên"),  # carried; end kept
    ("3.1", 1, "Hoàn thành", "Tháng 9/2025", "Tháng 10/2026", None),  # done but ends in the new year: carried
    ("5.4", 1, "Không thực hiện được", "Tháng 9/2025", "Tháng 11/2026", None),  # carried; 5.4 is gone in TT57
    ("5.1", 1, "Hoàn thành", "Tháng 11/2025", "Cả năm học", None),  # done (the whole old year)
    ("1.1", 2, "Đang thực hiện", "Tháng 11/2025", "Học kỳ II", None),  # carried; the span exists in the new list
    ("2.1", 1, None, "Tháng 1/2026", "Tháng 9/2026", None),  # no status: carried
    ("3.1", 2, "Hoàn thành", "Tháng 2/2026", "Học kỳ II", None),  # done
    ("1.2", 2, "Không thực hiện được", "Tháng 1/2026", "Tháng 6/2026", None),  # carried; end blanked
]
# Last month of each span of the school year 2025-2026 (choices.yaml: offsets from September).
OLD_SPAN_END = {"Học kỳ I": (2026, 1), "Học kỳ II": (2026, 5), "Cả năm học": (2026, 5)}
SPANS = set(OLD_SPAN_END)
_MONTH = re.compile(r"^Tháng (\d{1,2})/(\d{4})$")


def ordinal(year: int, month: int) -> int:
    return year * 12 + month - 1


NEW_YEAR_START = ordinal(2026, 9)


def end_month_old_year(label: str) -> int:
    if label in OLD_SPAN_END:
        return ordinal(*OLD_SPAN_END[label])
    m = _MONTH.match(label)
    assert m, label
    return ordinal(int(m.group(2)), int(m.group(1)))


def in_new_lists(label: str | None) -> bool:
    """Is ``label`` offered by the 2026-2027 Bắt đầu/Hoàn thành lists?  (Months from
    September 2026 on, and the spans; the test data stays well inside the window.)"""
    if not label:
        return False
    if label in SPANS:
        return True
    m = _MONTH.match(label)
    return bool(m) and ordinal(int(m.group(2)), int(m.group(1))) >= NEW_YEAR_START


def unfinished(row: dict[str, Any]) -> bool:
    return row["status"] != "Hoàn thành" or end_month_old_year(row["end"]) >= NEW_YEAR_START


# -- helpers ---------------------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def criterion_row(spec: PlanSpec, code: str, muc: int) -> dict[str, Any]:
    crit = spec.framework.find(code)
    assert crit is not None, (spec.framework.id, code)
    std = next(s for s in spec.framework.standards if s.code == crit.standard)
    return {"muc": spec.choices.level_label(muc), "standard": std.label, "criterion": crit.label}


def school_rows(spec: PlanSpec, code: str) -> list[dict[str, Any]]:
    """The school's 2025-2026 plan: PLAN, with texts of its own (one with XML specials)."""
    owners = spec.choices.owners
    rows = []
    for i, (crit, muc, status, start, end, note) in enumerate(PLAN):
        action = f"{code} việc {i + 1}" + (' sửa "mái" & <tường> lớp 1' if i == 2 else "")
        rows.append({**criterion_row(spec, crit, muc), "target": f"Kết quả {i + 1} của {code}", "actions": action,
                     "lead": owners[i % 4], "collaborators": "Tổ chuyên môn", "start": start, "end": end,
                     "budget": 5 + i if i % 3 else None, "funding": "Chi thường xuyên" if i % 3 else None,
                     "support": None, "note": note, "status": status,
                     "result": "Đã xong" if status == "Hoàn thành" else None})
    if code == "MN001":  # a Mức 4 item (no standard), still going on
        top = spec.framework.top_items[0]
        rows.append({"muc": spec.top_label, "standard": None, "criterion": top.label, "target": "Mức 4",
                     "actions": f"{code} việc Mức 4", "lead": owners[0], "collaborators": None,
                     "start": "Tháng 9/2025", "end": "Tháng 2/2027", "budget": None, "funding": None,
                     "support": None, "note": None, "status": "Đang thực hiện", "result": None})
    if code == "PT001":  # one more finished action
        rows.append({**rows[0], "actions": f"{code} việc xong thêm", "start": "Tháng 10/2025", "end": "Tháng 1/2026"})
    return rows


def carried_expected(row: dict[str, Any]) -> dict[str, Any]:
    """A carried row as the new template must show it (same framework)."""
    out = dict(row)
    if not in_new_lists(out["start"]):
        out["start"] = "Tháng 9/2026"  # goes on from the new year's start
    if not in_new_lists(out["end"]):
        out["end"] = None  # the school sets a new end
    out["note"] = CARRIED if not row["note"] else f"{CARRIED}. {row['note']}"
    return out


def cmp(v: Any) -> Any:
    """Values as read back by calamine: blanks are "", numbers floats, text NFC."""
    if v is None:
        return ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return nfc(v)


def filled_rows(path: Path) -> list[dict[str, Any]]:
    """The non-empty input rows of a template's Kế hoạch sheet, in order, without the derived
    fields (form 2026.1: Tiêu chuẩn is a formula of the criterion, computed only when a
    program opens the file: the recalculated tests compare it; here it must be the formula)."""
    back = read_plan(path)
    derived = {f.key for f in load_form().derived}
    ws = openpyxl.load_workbook(path)[load_form().sheet]
    lay = L.PlanLayout(load_form())
    for r in range(L.FIRST_INPUT_ROW + 1, lay.last_input_row + 2, 50):
        for key in derived:
            assert str(ws.cell(r, lay.columns[key] + 1).value or "").startswith("="), (path, key, r)
    rows = [{k: v for k, v in r.items() if k not in derived} for r in back.rows]
    return [r for r in rows if any(v not in ("", None) for v in r.values())]


def identity_of(path: Path) -> dict[str, str]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(ident.SHEET).to_python()
    return {str(r[0]): ("" if r[1] is None else str(r[1])) for r in rows[1:] if r and r[0]}


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>")
            for p in sorted(root.rglob("*"))}


def sample_roster_rows() -> list[dict[str, str]]:
    text = (resources.files("kcl_xlsx") / "data" / "sample_roster.csv").read_text("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def write_roster(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def one_line_exit_2(res, *named: str) -> None:
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 2, f"exit {res.exit_code}: {res.stderr}{res.output}"
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr + res.output
    for text in named:
        assert nfc(text) in nfc(lines[0]), f"{text!r} not in {lines[0]!r}"


# -- the scenario ------------------------------------------------------------------------------


@dataclasses.dataclass
class Year1:
    root: Path
    inbox: Path
    ledger: Path
    summary: Path
    fills: dict[str, list[dict[str, Any]]]  # school code -> rows typed into its 2025-2026 plan
    template_ids: dict[str, str]  # school code -> its 2025-2026 template id (manifest)
    roster2: Path  # the 2026-2027 roster: sample without CS002, with CS003
    roster_tt57: Path  # the same without the preschools (TT57 PL2 is for general schools)
    ledger_snapshot: Path  # a copy of the ledger as 2025-2026 left it (year 2 is collected into the ledger)


@pytest.fixture(scope="module")
def year1(sources, tmp_path_factory) -> Year1:
    root = tmp_path_factory.mktemp("reissue")
    roster = load_roster("sample", sources.form)
    fac = TemplateFactory(sources, YEAR1, key=KEY.encode(), issue_date=dt.date(2025, 8, 15))
    issued = {r.school_code: r for r in issue_roster(fac, roster, root / "mau-2025-2026")}
    inbox = root / "hop-thu-2025-2026"
    fills = {}
    for school in roster.schools:
        if school.code not in FILLED:
            continue
        rows = school_rows(fac.spec(school.level), school.code)
        name = issued[school.code].file
        fill_plan(root / "mau-2025-2026" / name, inbox / name, rows, info={"preparer": "Nguyễn Văn A"})
        fills[school.code] = rows
    summary = root / "tong-hop" / "tong-hop-2025-2026.xlsx"
    res = collect(inbox, summary, roster=roster, year=YEAR1, options=CheckOptions(key=KEY.encode(), year=YEAR1),
                  jobs=0)
    for code in FILLED:
        acc = res.schools[code].accepted
        assert acc is not None and acc.sub.status == CheckStatus.VALID, (code, [i.message for i in acc.sub.issues])
    assert res.ledger_path == summary.parent / "kcl-ledger.sqlite" and res.ledger_path.exists()

    rows = sample_roster_rows()
    new = [r for r in rows if r["school_code"] != REMOVED]
    new.append({**next(r for r in rows if r["school_code"] == "CS001"), "school_code": NEW_SCHOOL,
                "school_name": "Trường THCS Hòa Bình"})
    roster2 = write_roster(root / "danh-sach-2026-2027.csv", new)
    roster_tt57 = write_roster(root / "danh-sach-tt57.csv", [r for r in new if r["level"] != "mam-non"])
    snapshot = root / "kcl-ledger-2025-2026.sqlite"
    shutil.copy(res.ledger_path, snapshot)
    if res.ledger_path.with_name(res.ledger_path.name + "-wal").exists():  # closed cleanly, normally none
        shutil.copy(res.ledger_path.with_name(res.ledger_path.name + "-wal"), snapshot.with_name(snapshot.name + "-wal"))
    return Year1(root, inbox, res.ledger_path, summary, fills, {c: r.template_id for c, r in issued.items()},
                 roster2, roster_tt57, snapshot)


@dataclasses.dataclass
class Reissued:
    out: Path
    stdout: str
    manifest: dict[str, dict[str, str]]  # school code -> manifest row
    report: dict[str, dict[str, str]]  # school code -> chuyen-tiep.csv row

    def file(self, code: str) -> Path:
        return self.out / self.manifest[code]["file"]


def _reissued(out: Path, stdout: str = "") -> Reissued:
    return Reissued(out, stdout, {r["school_code"]: r for r in read_csv(out / MANIFEST)},
                    {r["school_code"]: r for r in read_csv(out / REPORT)})


def _cli_reissue(source: Path, roster: Path, out: Path, *extra) -> Reissued:
    res = invoke("reissue", source, "--year", YEAR2, "--roster", roster, "-o", out, "--key", KEY,
                 "--issue-date", "2026-08-15", *extra)
    assert res.exit_code == 0, res.stderr + res.output
    return _reissued(out, res.output)


@pytest.fixture(scope="module")
def cli_run(year1) -> Reissued:
    """`kcl-xlsx reissue LEDGER --year 2026-2027 --roster R -o DIR`."""
    return _cli_reissue(year1.ledger, year1.roster2, year1.root / "mau-2026-2027")


@pytest.fixture(scope="module")
def lib_run(year1, sources):
    """The library function on the same ledger and roster."""
    fac = TemplateFactory(sources, YEAR2, key=KEY.encode(), issue_date=dt.date(2026, 8, 15))
    res = reissue(year1.ledger, YEAR2, year1.root / "mau-2026-2027-lib", fac,
                  load_roster(year1.roster2, sources.form), options=CheckOptions(key=KEY.encode()))
    return res, _reissued(year1.root / "mau-2026-2027-lib")


@pytest.fixture(scope="module")
def tt57_runs(year1):
    """A framework change: without a mapping, and with one (1.1->1.1, 5.4->3.2)."""
    plain = _cli_reissue(year1.ledger, year1.roster_tt57, year1.root / "mau-tt57", "--framework", TT57)
    mapping = year1.root / "anh-xa.csv"
    mapping.write_text(MAPPING, encoding="utf-8")
    mapped = _cli_reissue(year1.ledger, year1.roster_tt57, year1.root / "mau-tt57-anh-xa", "--framework", TT57,
                          "--mapping", mapping)
    return plain, mapped


@pytest.fixture(scope="module")
def inbox_run(year1, tmp_path_factory):
    """The same reissue, from the 2025-2026 inbox folder instead of the ledger."""
    before = tree(year1.inbox)
    parent_before = sorted(p.name for p in year1.inbox.parent.iterdir())
    out = tmp_path_factory.mktemp("from-inbox") / "mau"
    run = _cli_reissue(year1.inbox, year1.roster2, out)
    return run, before, tree(year1.inbox), parent_before, sorted(p.name for p in year1.inbox.parent.iterdir())


@pytest.fixture(scope="module")
def recalculated(year1, cli_run, tt57_runs, tmp_path_factory):
    """Reissued templates as LibreOffice computes them (one start for all files):
    (run name, school code) -> the recalculated copy."""
    stage = tmp_path_factory.mktemp("lo-in")
    plain, mapped = tt57_runs
    wanted = {("same", c): cli_run.file(c) for c in ("MN001", "TH001", "CS001", "PT001", "TH003")}
    for name, run in (("tt57", plain), ("tt57-map", mapped)):
        wanted.update({(name, c): run.file(c) for c in ("TH001", "CS001", "PT001")})
    staged = {}
    for (name, code), src in wanted.items():
        staged[(name, code)] = stage / f"{name}-{code}.xlsx"
        shutil.copy(src, staged[(name, code)])
    outs = resave(list(staged.values()), tmp_path_factory.mktemp("lo-out"), recalc=True)
    return dict(zip(staged, outs))


@dataclasses.dataclass
class Year2:
    inbox: Path
    summary: Path
    fills: dict[str, list[dict[str, Any]]]  # what was typed into each reissued template
    result: Any


@pytest.fixture(scope="module")
def year2(year1, cli_run, lib_run, tt57_runs, sources) -> Year2:
    """The reissued templates filled further by script, collected into the same ledger
    (after every reissue of 2025-2026's plans, whatever order the tests run in)."""
    inbox = year1.root / "hop-thu-2026-2027"
    fills = {}
    for code in ("MN001", "TH001", "CS001", "PT001", "TH003", NEW_SCHOOL):
        spec = sources.spec(cli_run.manifest[code]["level"], YEAR2)
        carried = filled_rows(cli_run.file(code))
        edits: list[dict[str, Any]] = []
        for i, row in enumerate(carried):
            edit: dict[str, Any] = {}
            if row["end"] == "":
                edit["end"] = NEW_END
            if i == 0:
                edit.update(status="Đang thực hiện", result="Đã làm một phần")
            edits.append(edit)
        edits.append({**criterion_row(spec, "1.1", 1), "target": "Mới", "actions": f"{code} việc mới 2026-2027",
                      "lead": spec.choices.owners[0], "start": "Tháng 9/2026", "end": "Tháng 12/2026",
                      "status": "Chưa thực hiện"})
        fill_plan(cli_run.file(code), inbox / cli_run.manifest[code]["file"], edits, info={"preparer": "Trần Thị B"})
        fills[code] = edits
    summary = year1.summary.with_name("tong-hop-2026-2027.xlsx")  # same folder: same ledger
    res = collect(inbox, summary, roster=load_roster(year1.roster2, sources.form), year=YEAR2,
                  options=CheckOptions(key=KEY.encode(), year=YEAR2), jobs=0)
    assert res.ledger_path == year1.ledger
    return Year2(inbox, summary, fills, res)


# -- 1. the CLI and the library ------------------------------------------------------------------


def test_cli_says_what_it_did(year1, cli_run):
    out = nfc(cli_run.stdout)
    assert "Đã tạo 9 mẫu năm học 2026-2027" in out
    carried = sum(sum(unfinished(r) for r in rows) for code, rows in year1.fills.items() if code != REMOVED)
    assert f"chuyển tiếp {carried} công việc" in out
    assert REMOVED in out and "không còn trong danh sách" in out  # the school that left is named


def test_every_roster_school_gets_a_template_and_the_manifest_lists_them(cli_run, year1):
    codes = [r["school_code"] for r in sample_roster_rows() if r["school_code"] != REMOVED] + [NEW_SCHOOL]
    assert list(cli_run.manifest) == codes
    assert sorted(p.name for p in cli_run.out.glob("*.xlsx")) == sorted(r["file"] for r in cli_run.manifest.values())
    for code, rec in cli_run.manifest.items():
        data = cli_run.file(code).read_bytes()
        assert rec["sha256"] == hashlib.sha256(data).hexdigest()
        idt = identity_of(cli_run.file(code))
        assert idt["year"] == YEAR2 and idt["school_code"] == code and idt["file_id"] == rec["file_id"]
        assert idt["template_id"] == rec["template_id"] and rec["template_id"].startswith(f"KCL-{YEAR2}-")


@pytest.mark.parametrize("run", ["cli", "library"])
def test_carried_rows_are_exactly_the_unfinished_ones(run, year1, cli_run, lib_run):
    issued = cli_run if run == "cli" else lib_run[1]
    for code, typed in year1.fills.items():
        if code == REMOVED:
            continue
        expected = [carried_expected(r) for r in typed if unfinished(r)]
        back = filled_rows(issued.file(code))
        assert {nfc(r["actions"]) for r in back} == {nfc(r["actions"]) for r in expected}, code
        assert len(back) == len(expected), code
        for got, want in zip(back, expected):
            assert {k: cmp(v) for k, v in got.items()} == {k: cmp(want.get(k)) for k in got}, (code, want["actions"])


def test_library_result_matches_the_files(year1, lib_run):
    res, issued = lib_run
    by = {s.school.code: s for s in res.schools}
    for code, typed in year1.fills.items():
        if code == REMOVED:
            continue
        assert [nfc(r["actions"]) for r in by[code].carried] == [nfc(r["actions"]) for r in typed if unfinished(r)]
        assert [nfc(r["actions"]) for r in by[code].done] == [nfc(r["actions"]) for r in typed if not unfinished(r)]
        assert by[code].unmapped == []
    assert [s.school.code for s in res.left] == [REMOVED]
    assert [r.file for r in res.issued] == [issued.manifest[c]["file"] for c in issued.manifest]


def test_carried_rows_are_marked_in_ghi_chu(year1, cli_run):
    for code in ("MN001", "TH001", "CS001", "PT001"):
        for row in filled_rows(cli_run.file(code)):
            assert nfc(row["note"]).startswith(CARRIED), (code, row["note"])
        notes = [nfc(r["note"]) for r in filled_rows(cli_run.file(code))]
        assert f"{CARRIED}. Ưu tiên" in notes  # a note the school wrote is kept after the mark


def test_carried_rows_stay_editable(year1, cli_run, sources):
    from kcl_xlsx.spec import layout as L
    from tests.support.fill import is_locked

    lay = L.PlanLayout(sources.form)
    for code in ("MN001", "TH001", "CS001", "PT001"):
        wb = openpyxl.load_workbook(cli_run.file(code))
        ws = wb[sources.form.sheet]
        assert ws.protection.sheet  # the sheet is protected as in every template...
        n = len(filled_rows(cli_run.file(code)))
        assert n > 0
        for r in range(L.FIRST_INPUT_ROW + 1, L.FIRST_INPUT_ROW + 1 + n):
            for key, col in lay.columns.items():
                derived = bool(sources.form.field(key).derived_from)  # shown, not typed: a locked formula
                assert is_locked(ws, r, col + 1) is derived, (code, r, key)  # ...its input cells are not
            assert ws.cell(row=r, column=lay.check_col + 1).protection.locked is True


def test_completed_rows_are_listed_read_only_on_nam_truoc(year1, cli_run, sources):
    for code in ("MN001", "TH001", "CS001", "PT001"):
        done = [r for r in year1.fills[code] if not unfinished(r)]
        wb = openpyxl.load_workbook(cli_run.file(code))
        assert PREVIOUS_SHEET in wb.sheetnames
        ws = wb[PREVIOUS_SHEET]
        assert ws.protection.sheet and ws.sheet_state == "visible"
        assert YEAR1 in nfc(ws["A1"].value)
        headers = [nfc(c.value) for c in ws[3]][: len(sources.form.fields)]
        assert headers == [nfc(f.header) for f in sources.form.fields]
        listed = [[c for c in row] for row in ws.iter_rows(min_row=4) if any(c.value is not None for c in row)]
        assert len(listed) == len(done), code
        actions_col = [f.key for f in sources.form.fields].index("actions")
        assert {nfc(r[actions_col].value) for r in listed} == {nfc(r["actions"]) for r in done}
        for row in listed:
            assert all(c.protection.locked for c in row)
            status = row[[f.key for f in sources.form.fields].index("status")].value
            assert status == "Hoàn thành"


def test_identity_chains_to_last_years_template(year1, cli_run):
    for code in ("MN001", "TH001", "CS001", "PT001"):
        old = year1.template_ids[code]
        assert old.startswith(f"KCL-{YEAR1}-")
        assert identity_of(cli_run.file(code))["previous_template_id"] == old
        assert cli_run.manifest[code]["previous_template_id"] == old
        assert cli_run.report[code]["previous_template_id"] == old


def test_schools_without_a_previous_plan_get_a_blank_template(cli_run):
    for code in ("MN002", "TH002", "TH003", "NC001", NEW_SCHOOL):
        assert filled_rows(cli_run.file(code)) == [], code
        assert PREVIOUS_SHEET not in CalamineWorkbook.from_path(str(cli_run.file(code))).sheet_names
        assert identity_of(cli_run.file(code))["previous_template_id"] == ""
        assert cli_run.manifest[code]["previous_template_id"] == ""
        rep = cli_run.report[code]
        assert rep["in_roster"] == "có" and rep["carried_rows"] == "0" and rep["previous_file"] == ""
        assert "mẫu trống" in rep["note"]


def test_a_school_that_left_the_roster_is_listed_and_gets_no_file(year1, cli_run):
    rep = cli_run.report[REMOVED]
    assert rep["in_roster"] == "không"
    assert rep["previous_template_id"] == year1.template_ids[REMOVED]
    assert "không còn trong danh sách" in rep["note"]
    assert REMOVED not in cli_run.manifest
    assert not [p for p in cli_run.out.iterdir() if REMOVED.lower() in p.name.lower()]


def test_report_counts_carried_and_completed_rows(year1, cli_run):
    for code, typed in year1.fills.items():
        if code == REMOVED:
            continue
        rep = cli_run.report[code]
        assert int(rep["carried_rows"]) == sum(unfinished(r) for r in typed)
        assert int(rep["completed_rows"]) == sum(not unfinished(r) for r in typed)
        assert rep["unmapped_criteria"] == "" and rep["in_roster"] == "có"
        assert rep["previous_file"] and rep["previous_file"].endswith(".xlsx")


# -- 2. the same template checks -----------------------------------------------------------------


def test_reissued_templates_pass_the_ooxml_schemas(cli_run, tt57_runs, ooxml_validate):
    _plain, mapped = tt57_runs
    ooxml_validate(*sorted(cli_run.out.glob("*.xlsx")), *sorted(mapped.out.glob("*.xlsx")))


def _verdict(spec: PlanSpec, row: dict[str, Any]) -> str:
    """What the Kiểm tra cell must show, from the rules' Python side."""
    values = {k: (None if v == "" else v) for k, v in row.items()}
    broken = spec.rules.check_row(values, spec.py_context())
    if not broken:
        return spec.form.ok_text
    first = broken[0]
    return nfc(first.message if first.severity == Severity.ERROR else spec.form.warning_prefix + first.message)


def _rule_message(spec: PlanSpec, code: str, field: str) -> str:
    return nfc(next(r.message for r in spec.rules.rules if r.code == code and r.field == field))


@pytest.mark.libreoffice
def test_libreoffice_kiem_tra_ok_for_complete_carried_rows_error_for_blanked_end(year1, cli_run, recalculated,
                                                                                  sources):
    for code in ("MN001", "TH001", "CS001", "PT001"):
        spec = sources.spec(cli_run.manifest[code]["level"], YEAR2)
        missing_end = _rule_message(spec, "field.required", "end")
        expected = [carried_expected(r) for r in year1.fills[code] if unfinished(r)]
        back = read_plan(recalculated[("same", code)], len(expected) + 1)
        assert back.checks[len(expected)] == ""  # the first empty row stays blank
        for row, want, check in zip(back.rows, expected, back.checks):
            assert nfc(row["actions"]) == nfc(want["actions"])
            if want["end"] is None:
                assert check == missing_end, (code, want["actions"], check)
            else:
                assert check == spec.form.ok_text, (code, want["actions"], check)
            assert check == _verdict(spec, row)  # the sheet and the Python rules agree
        blanked = sum(w["end"] is None for w in expected)
        assert blanked and back.banner == nfc(f"Có {blanked} dòng cần sửa (xem cột {spec.form.check_header})")
    blank = read_plan(recalculated[("same", "TH003")], 3)
    assert blank.checks == ["", "", ""] and blank.banner == "Chưa phát hiện lỗi ở các dòng đã nhập"


# -- 3. a framework change ------------------------------------------------------------------------


def test_framework_change_keeps_and_lists_rows_whose_criterion_is_gone(year1, tt57_runs, sources):
    plain, _ = tt57_runs
    tt57 = sources.catalog.get(TT57)
    gone = {c for c, *_ in PLAN if tt57.find(c) is None}
    assert gone == {"5.1", "5.4"}
    for code in ("TH001", "CS001", "PT001"):
        typed = [r for r in year1.fills[code] if unfinished(r)]
        expect_gone = [r["criterion"].split(" - ")[0] for r in typed if tt57.find(r["criterion"].split(" - ")[0]) is None]
        assert expect_gone == ["5.4"]
        assert plain.report[code]["unmapped_criteria"].split() == expect_gone
        back = filled_rows(plain.file(code))
        assert len(back) == len(typed)  # kept, not dropped
        spec = sources.spec(plain.manifest[code]["level"], YEAR2, TT57)
        for row, old in zip(back, typed):
            old_code = old["criterion"].split(" - ")[0]
            if old_code in expect_gone:
                assert nfc(row["criterion"]) == nfc(old["criterion"])  # left as it was, for the school to see
            else:
                assert nfc(row["criterion"]) == nfc(tt57.find(old_code).label)
                assert row["criterion"] in spec.lists["criteria"]
        assert identity_of(plain.file(code))["framework"] == TT57
    assert "5.4" in nfc(plain.stdout) and "--mapping" in plain.stdout
    assert plain.report["MN001"]["in_roster"] == "không"  # preschools are not in this roster


@pytest.mark.libreoffice
def test_framework_change_flags_gone_criteria_in_kiem_tra(year1, tt57_runs, recalculated, sources):
    plain, _ = tt57_runs
    for code in ("TH001", "CS001", "PT001"):
        spec = sources.spec(plain.manifest[code]["level"], YEAR2, TT57)
        flags = {_rule_message(spec, "field.not_in_list", "standard"),
                 _rule_message(spec, "field.not_in_list", "criterion"),
                 _rule_message(spec, "criterion.not_in_standard", "criterion")}
        typed = [r for r in year1.fills[code] if unfinished(r)]
        back = read_plan(recalculated[("tt57", code)], len(typed))
        for row, old, check in zip(back.rows, typed, back.checks):
            assert check == _verdict(spec, row), (code, old["actions"])
            if old["criterion"].startswith("5.4 "):
                assert check in flags, (code, check)
            elif in_new_lists(old["end"]):
                assert check == spec.form.ok_text, (code, old["actions"], check)


@pytest.mark.libreoffice
def test_mapping_translates_criteria_and_the_rows_check_ok(year1, tt57_runs, recalculated, sources):
    _, mapped = tt57_runs
    tt57 = sources.catalog.get(TT57)
    mapping = {"1.1": "1.1", "5.4": "3.2"}
    std_label = {s.code: s.label for s in tt57.standards}
    for code in ("TH001", "CS001", "PT001"):
        assert mapped.report[code]["unmapped_criteria"] == ""
        spec = sources.spec(mapped.manifest[code]["level"], YEAR2, TT57)
        typed = [r for r in year1.fills[code] if unfinished(r)]
        back = read_plan(recalculated[("tt57-map", code)], len(typed))
        for row, old, check in zip(back.rows, typed, back.checks):
            old_code = old["criterion"].split(" - ")[0]
            target = tt57.find(mapping.get(old_code, old_code))
            assert nfc(row["criterion"]) == nfc(target.label)
            assert nfc(row["standard"]) == nfc(std_label[target.standard])
            assert check == (spec.form.ok_text if in_new_lists(old["end"])
                             else _rule_message(spec, "field.required", "end")), (code, old["actions"], check)
        assert "không còn trong khung mới" not in nfc(mapped.stdout)


def test_bad_mapping_file_exit_2_one_line_nothing_written(year1, tmp_path):
    bad = tmp_path / "anh-xa.csv"
    bad.write_text("1.1\n5.4\n", encoding="utf-8")  # one column
    out = tmp_path / "mau"
    res = invoke("reissue", year1.ledger, "--year", YEAR2, "--roster", year1.roster_tt57, "-o", out,
                 "--framework", TT57, "--mapping", bad)
    one_line_exit_2(res, "anh-xa.csv")
    assert not out.exists() or not any(out.iterdir())


def test_framework_that_does_not_apply_to_a_roster_level_exit_2(year1, tmp_path):
    out = tmp_path / "mau"
    res = invoke("reissue", year1.ledger, "--year", YEAR2, "--roster", year1.roster2, "-o", out, "--framework", TT57)
    one_line_exit_2(res, TT57)  # the roster has preschools: TT57 PL2 is for general schools
    assert not out.exists() or not any(out.iterdir())


# -- 4. from an inbox folder; bad sources --------------------------------------------------------


def test_reissue_from_the_inbox_works_the_same(year1, cli_run, inbox_run):
    run = inbox_run[0]
    assert list(run.manifest) == list(cli_run.manifest)
    for code in run.manifest:
        assert [nfc(r["actions"]) for r in filled_rows(run.file(code))] == \
               [nfc(r["actions"]) for r in filled_rows(cli_run.file(code))], code
        assert run.manifest[code]["previous_template_id"] == cli_run.manifest[code]["previous_template_id"]
        for col in ("carried_rows", "completed_rows", "unmapped_criteria", "previous_template_id"):
            assert run.report[code][col] == cli_run.report[code][col], (code, col)


def test_reissue_from_the_inbox_writes_nothing_into_it(year1, inbox_run):
    _run, before, after, parent_before, parent_after = inbox_run
    assert after == before  # same files, same bytes, nothing new
    assert parent_after == parent_before  # no ledger or summary dropped beside it either
    assert not (year1.inbox.parent / "kcl-ledger.sqlite").exists()


def test_reissue_from_the_inbox_lists_the_school_that_left(inbox_run):
    run = inbox_run[0]
    assert REMOVED in run.report and run.report[REMOVED]["in_roster"] == "không"


def test_source_that_is_neither_ledger_nor_folder_exit_2(tmp_path, year1):
    text = tmp_path / "ghi-chu.txt"
    text.write_text("Kính gửi Phòng GD&ĐT\n", encoding="utf-8")
    res = invoke("reissue", text, "--year", YEAR2, "--roster", year1.roster2, "-o", tmp_path / "mau")
    one_line_exit_2(res, "ghi-chu.txt")
    assert not (tmp_path / "mau").exists() or not any((tmp_path / "mau").iterdir())
    res = invoke("reissue", tmp_path / "khong-co.sqlite", "--year", YEAR2, "-o", tmp_path / "mau2")
    one_line_exit_2(res, "khong-co.sqlite")


def test_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path, year1):
    db = tmp_path / "khac.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE hoc_sinh (ten TEXT)")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    res = invoke("reissue", db, "--year", YEAR2, "--roster", year1.roster2, "-o", tmp_path / "mau")
    after = hashlib.sha256(db.read_bytes()).hexdigest()
    assert after == before, "the foreign database was modified"
    one_line_exit_2(res, "khac.sqlite")


# -- 5. the next year, collected into the same ledger ----------------------------------------------


def test_refilled_templates_are_accepted_and_signed(year2):
    res = year2.result
    for code in year2.fills:
        acc = res.schools[code].accepted
        assert acc is not None, code
        assert acc.sub.status == CheckStatus.VALID, (code, [i.message for i in acc.sub.issues if i.severity.value == "error"])
        assert acc.sub.signature == "verified" and acc.sub.year == YEAR2
    carried = {code: [r for r in res.schools[code].accepted.sub.rows if nfc(r.values.get("note") or "").startswith(CARRIED)]
               for code in year2.fills}
    for code in ("TH003", NEW_SCHOOL):
        assert carried[code] == []
    for code in ("MN001", "TH001", "CS001", "PT001"):
        assert all(r.values["end"] for r in carried[code])  # the school set the blanked ends
        assert len(carried[code]) == len(year2.fills[code]) - 1


def test_ledger_links_both_years_per_school(year1, cli_run, year2):
    with Ledger(year1.ledger) as led:
        rows = [r for r in led.all() if r["classification"] == Classification.ACCEPTED.value]
    by: dict[tuple[str, str], Any] = {}
    for row in rows:
        assert (row["matched_school"], row["year"]) not in by, "one accepted plan per school and year"
        by[(row["matched_school"], row["year"])] = row
    assert {c for c, y in by if y == YEAR1} == set(FILLED)
    assert {c for c, y in by if y == YEAR2} == set(year2.fills)
    for code in ("MN001", "TH001", "CS001", "PT001"):
        old = submission_from_row(by[(code, YEAR1)])
        new = submission_from_row(by[(code, YEAR2)])
        assert by[(code, YEAR1)]["template_id"] == old.identity["template_id"] == year1.template_ids[code]
        assert new.identity["previous_template_id"] == old.identity["template_id"]  # the chain
        assert new.identity["file_id"] == cli_run.manifest[code]["file_id"]
        assert new.identity["school_code"] == old.identity["school_code"] == code
        carried = {nfc(r.values["actions"]) for r in new.rows if nfc(r.values.get("note") or "").startswith(CARRIED)}
        assert carried == {nfc(r.values["actions"]) for r in old.rows
                           if unfinished({"status": r.values.get("status"), "end": r.values["end"]})}
    for code in ("TH003", NEW_SCHOOL):
        assert submission_from_row(by[(code, YEAR2)]).identity["previous_template_id"] == ""
    assert (REMOVED, YEAR2) not in by


def test_next_reissue_from_the_same_ledger_chains_to_the_newest_year(year1, cli_run, year2, sources, tmp_path):
    fac = TemplateFactory(sources, YEAR3, key=KEY.encode(), issue_date=dt.date(2027, 8, 15))
    res = reissue(year1.ledger, YEAR3, tmp_path / "mau-2027-2028", fac, load_roster(year1.roster2, sources.form),
                  options=CheckOptions(key=KEY.encode()))
    by = {s.school.code: s for s in res.schools}
    for code in year2.fills:
        assert by[code].previous is not None and by[code].previous.year == YEAR2, code
        assert by[code].previous.identity["template_id"] == cli_run.manifest[code]["template_id"]
    manifest = {r["school_code"]: r for r in read_csv(tmp_path / "mau-2027-2028" / MANIFEST)}
    assert manifest["CS001"]["previous_template_id"] == cli_run.manifest["CS001"]["template_id"]
    assert [s.school.code for s in res.left] == [REMOVED]


# -- smaller cases ---------------------------------------------------------------------------------


def test_without_roster_last_years_schools_get_templates(year1, sources, tmp_path):
    """No --roster: the new roster is every school last year's run knew of: those that had a
    plan (carried) and the roster's schools that never sent (a blank template, and the
    report says why); none is 'left', none is dropped without a word."""
    fac = TemplateFactory(sources, YEAR2, issue_date=dt.date(2026, 8, 15))
    res = reissue(year1.ledger_snapshot, YEAR2, tmp_path / "mau", fac, None, options=CheckOptions(key=KEY.encode()))
    every = [s.code for s in load_roster("sample", sources.form).schools]
    assert sorted(r.school_code for r in res.issued) == sorted(every)
    assert res.left == [] and res.not_issued == []
    assert {s.school.code: s.note for s in res.blank} == {c: NEVER_SENT for c in every if c not in FILLED}
    report = {r["school_code"]: r for r in read_csv(tmp_path / "mau" / REPORT)}
    assert {c for c, r in report.items() if r["note"] == NEVER_SENT} == set(every) - set(FILLED)
    manifest = {r["school_code"]: r for r in read_csv(tmp_path / "mau" / MANIFEST)}
    for code in FILLED:
        rec = manifest[code]
        assert rec["previous_template_id"] == year1.template_ids[code]
        assert rec["level"] == {"MN": "mam-non", "TH": "tieu-hoc", "CS": "thcs", "PT": "thpt"}[code[:2]]
        back = filled_rows(tmp_path / "mau" / rec["file"])
        assert {nfc(r["actions"]) for r in back} == {nfc(r["actions"]) for r in year1.fills[code] if unfinished(r)}


def test_carried_lead_from_the_staff_list_stays_valid(sources, tmp_path):
    from kcl_xlsx.spec import layout as L
    from kcl_xlsx.spec.roster import School

    fac = TemplateFactory(sources, YEAR1, issue_date=dt.date(2025, 8, 15))
    data, _ = fac.make("thcs", School("CS001", "Trường THCS Lê Quý Đôn", "thcs"))
    (tmp_path / "mau.xlsx").write_bytes(data)
    spec = fac.spec("thcs")
    staff = ["Nguyễn Văn An", "Trần Thị Bình"]
    row = {**criterion_row(spec, "1.1", 1), "target": "T", "actions": "Việc do cô Bình chủ trì", "lead": staff[1],
           "start": "Tháng 9/2025", "end": "Tháng 12/2026", "status": "Đang thực hiện"}
    fill_plan(tmp_path / "mau.xlsx", tmp_path / "hop-thu" / "cs001.xlsx", [row], info={"preparer": "A"}, staff=staff)
    res = reissue(tmp_path / "hop-thu", YEAR2, tmp_path / "moi", TemplateFactory(sources, YEAR2))
    new = tmp_path / "moi" / res.issued[0].file
    carried = filled_rows(new)
    assert [r["lead"] for r in carried] == [staff[1]]
    # The Chủ trì list of the new template: the roles, then the staff typed on Thông tin.
    ws = openpyxl.load_workbook(new)[sources.form.info_sheet]
    lay = L.PlanLayout(sources.form)
    on_sheet = [ws.cell(row=lay.staff_first_row + k + 1, column=2).value for k in range(sources.form.staff_rows)]
    new_spec = sources.spec("thcs", YEAR2)
    values = {k: (None if v == "" else v) for k, v in carried[0].items()}
    assert new_spec.rules.check_row(values, new_spec.py_context([s for s in on_sheet if s])) == []


def test_without_roster_a_school_whose_plan_had_errors_gets_a_blank_template_and_is_named(sources, tmp_path):
    """Read from an inbox with no roster: one school's plan is valid, another's has errors.
    Both get next year's template; the one with errors carries nothing, and the report and
    the terminal say why (the issue: it used to get nothing, without a word)."""
    from kcl_xlsx.spec.roster import School

    fac = TemplateFactory(sources, YEAR1, issue_date=dt.date(2025, 8, 15))
    inbox = tmp_path / "hop-thu"
    good, bad = School("CS101", "Trường THCS Tốt", "thcs"), School("CS102", "Trường THCS Lỗi", "thcs")
    for school, rows in ((good, plan_rows(fac.spec("thcs"), 3, seed=2)),
                         (bad, [{**plan_rows(fac.spec("thcs"), 1, seed=3)[0], "target": None}])):
        data, _ = fac.make("thcs", school)
        tpl = tmp_path / f"{school.code}.xlsx"
        tpl.write_bytes(data)
        fill_plan(tpl, inbox / f"{school.code}.xlsx", rows, info={"preparer": "Nguyễn Văn A"})
    out = tmp_path / "mau-moi"
    res = invoke("reissue", inbox, "--year", YEAR2, "-o", out)
    assert res.exit_code == 0, res.output
    manifest = {r["school_code"] for r in read_csv(out / MANIFEST)}
    assert manifest == {good.code, bad.code}
    report = {r["school_code"]: r for r in read_csv(out / REPORT)}
    assert report[bad.code]["note"] == NO_VALID_PLAN and report[bad.code]["carried_rows"] == "0"
    assert int(report[good.code]["carried_rows"]) > 0 and report[good.code]["note"] == ""
    line = next(x for x in res.output.splitlines() if bad.code in x)
    assert "còn lỗi" in line and bad.name in line
