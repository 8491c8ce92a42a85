"""Acceptance tests of issue 5, follow-up: schools update Trạng thái (and Kết quả thực hiện)
during the year and send the plan again; `collect` shows the progress per school and per
criterion (done, in progress, late = end month passed and not done) on Tổng quan, Theo
trường and Theo tiêu chí, with charts.

Every count is computed here from the fill data and the as-of date, never from the code
under test, and compared with the summary workbook read back by python-calamine.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from kcl_xlsx.summary.workbook import TOTAL_LABELS
from kcl_xlsx.demo import set_saved_time
from kcl_xlsx.check.checker import CheckOptions, check_path
from kcl_xlsx.cli import app
from kcl_xlsx.app import collect
from kcl_xlsx.issue.issuing import TemplateFactory, issue_roster
from kcl_xlsx.spec.plan_spec import PlanSpec
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.spec.vocab import CheckStatus, Classification
from tests.support.fill import fill_plan, nfc

YEAR = "2025-2026"
AS_OF = dt.date(2026, 1, 15)  # library run: the middle of the school year
AS_OF_CLI = dt.date(2026, 4, 20)  # CLI run: later, more actions are late
RESENT = "CS001"
PROGRESS = ("Chưa thực hiện", "Đang thực hiện", "Trễ hạn", "Hoàn thành", "Không thực hiện được")
DONE, DROPPED, LATE, NOT_STARTED = "Hoàn thành", "Không thực hiện được", "Trễ hạn", "Chưa thực hiện"

# (criterion code, Mức, Trạng thái, Bắt đầu, Hoàn thành)
PLAN = [
    ("1.1", 1, "Hoàn thành", "Tháng 9/2025", "Tháng 11/2025"),
    ("1.2", 1, "Đang thực hiện", "Tháng 9/2025", "Tháng 12/2025"),  # late on 15/1
    ("2.1", 2, "Đang thực hiện", "Tháng 10/2025", "Tháng 1/2026"),  # ends in the as-of month: not late yet
    ("3.1", 1, "Chưa thực hiện", "Tháng 9/2025", "Tháng 10/2025"),  # late
    ("3.1", 2, "Chưa thực hiện", "Tháng 2/2026", "Tháng 5/2026"),
    ("5.1", 1, "Không thực hiện được", "Tháng 9/2025", "Tháng 11/2025"),  # given up: never late
    ("5.4", 1, "Đang thực hiện", "Tháng 11/2025", "Học kỳ I"),  # Học kỳ I ends in January
    ("2.1", 1, None, "Tháng 3/2026", "Tháng 6/2026"),  # no status: not started
    ("1.1", 2, "Hoàn thành", "Tháng 1/2026", "Cả năm học"),
    ("5.1", 1, "Đang thực hiện", "Tháng 1/2026", "Tháng 3/2026"),  # late by April
]
# Each school sends a different share of PLAN (so the per-school counts differ).
SCHOOLS = {"MN001": 10, "TH001": 9, "CS001": 8, "PT001": 7}
# The re-sent CS001 plan: row index -> new Trạng thái and Kết quả thực hiện.
UPDATES = {1: ("Hoàn thành", "Đã kiện toàn tổ chức"), 3: ("Đang thực hiện", "Đang sửa chữa"),
           4: ("Không thực hiện được", "Không có kinh phí")}
# Last month of each span of 2025-2026 (choices.yaml: offsets from September).
SPAN_END = {"Học kỳ I": (2026, 1), "Học kỳ II": (2026, 5), "Cả năm học": (2026, 5)}
_MONTH = re.compile(r"^Tháng (\d{1,2})/(\d{4})$")


def ordinal(year: int, month: int) -> int:
    return year * 12 + month - 1


def end_month(label: str) -> int:
    if label in SPAN_END:
        return ordinal(*SPAN_END[label])
    m = _MONTH.match(label)
    assert m, label
    return ordinal(int(m.group(2)), int(m.group(1)))


def expected_progress(row: dict[str, Any], as_of: dt.date) -> str:
    """The issue's rule: done and given-up actions are what they are; an action whose end
    month has passed without being done is late; otherwise the school's Trạng thái."""
    status = row["status"]
    if status in (DONE, DROPPED):
        return status
    if end_month(row["end"]) < ordinal(as_of.year, as_of.month):
        return LATE
    return status or NOT_STARTED


def plan_rows(spec: PlanSpec, code: str) -> list[dict[str, Any]]:
    rows = []
    for i, (crit_code, muc, status, start, end) in enumerate(PLAN[: SCHOOLS[code]]):
        crit = spec.framework.find(crit_code)
        std = next(s for s in spec.framework.standards if s.code == crit.standard)
        rows.append({"muc": spec.choices.level_label(muc), "standard": std.label, "criterion": crit.label,
                     "target": f"Kết quả {i + 1}", "actions": f"{code} công việc {i + 1}",
                     "lead": spec.choices.owners[i % 3], "start": start, "end": end,
                     "budget": 2 + i, "funding": "Chi thường xuyên", "status": status,
                     "result": "Đã xong" if status == DONE else None})
    return rows


set_saved = set_saved_time  # one way of setting a file's save time, shared with the product


def sheet(path: Path, name: str) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def table(path: Path, name: str) -> list[dict[str, Any]]:
    """A pivot sheet's rows as header -> value (the total row left out)."""
    rows = sheet(path, name)
    head = [nfc(h) for h in rows[0]]
    return [dict(zip(head, (nfc(v) for v in r))) for r in rows[1:] if r and r[0] not in TOTAL_LABELS]


def total_row(path: Path, name: str) -> dict[str, Any]:
    rows = sheet(path, name)
    head = [nfc(h) for h in rows[0]]
    return dict(zip(head, next(r for r in rows[1:] if r and r[0] in TOTAL_LABELS)))


def overview_progress(path: Path) -> tuple[dict[str, float], float]:
    """The "Tiến độ thực hiện các công việc" table of Tổng quan: label -> count, and its total."""
    rows = sheet(path, "Tổng quan")
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Tiến độ thực hiện các công việc")
    i = start + 1
    while not rows[i][0]:
        i += 1
    assert [nfc(x) for x in rows[i][:2]] == ["Tiến độ", "Số công việc"]
    out = {}
    for r in rows[i + 1:]:
        if r[0] == "Tổng":
            return out, r[1]
        out[nfc(r[0])] = r[1]
    raise AssertionError("no total row")


def counts_by_school(fills: dict[str, list[dict]], as_of: dt.date) -> dict[str, collections.Counter]:
    return {code: collections.Counter(expected_progress(r, as_of) for r in rows) for code, rows in fills.items()}


def ascii_fold(text: str) -> str:
    """Lower case without diacritics (how the change keys are written)."""
    text = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower().strip()


def code_of(label: str) -> str:
    return label.split(" - ", 1)[0]


# -- the scenario ------------------------------------------------------------------------------


@dataclasses.dataclass
class Scenario:
    inbox: Path
    fills: dict[str, list[dict[str, Any]]]  # school -> rows of its first file
    resent_rows: list[dict[str, Any]]  # CS001's rows as re-sent
    first: Any  # CollectResult, library, as of AS_OF
    first_summary: Path
    cli_summary: Path
    cli_output: str
    second: Any  # CollectResult after CS001 re-sent its plan
    second_summary: Path
    v1: str
    v2: str


@pytest.fixture(scope="module")
def scenario(sources, tmp_path_factory) -> Scenario:
    root = tmp_path_factory.mktemp("followup")
    roster = load_roster("sample", sources.form)
    fac = TemplateFactory(sources, YEAR, issue_date=dt.date(2025, 8, 15))
    issued = {r.school_code: r for r in issue_roster(fac, roster, root / "mau")}
    inbox = root / "hop-thu"
    fills = {}
    for school in roster.schools:
        if school.code not in SCHOOLS:
            continue
        rows = plan_rows(fac.spec(school.level), school.code)
        dst = inbox / "lan-1" / issued[school.code].file
        fill_plan(root / "mau" / issued[school.code].file, dst, rows, info={"preparer": "Nguyễn Văn A"},
                  saved=dt.datetime(2025, 10, 1, 8, 0))
        set_saved(dst, dt.datetime(2025, 10, 1, 8, 0))
        fills[school.code] = rows

    first_summary = root / "tong-hop" / "tong-hop.xlsx"
    first = collect(inbox, first_summary, roster=roster, year=YEAR, as_of=AS_OF, jobs=0)
    kept_first = first_summary.with_name("lan-1.xlsx")
    kept_first.write_bytes(first_summary.read_bytes())

    cli_summary = root / "tong-hop-cli" / "tong-hop.xlsx"
    res = CliRunner().invoke(app, ["collect", str(inbox), "-o", str(cli_summary), "--roster", "sample",
                                   "--year", YEAR, "--as-of", AS_OF_CLI.isoformat()])
    assert res.exit_code == 0, res.stderr + res.output

    # CS001 updates Trạng thái and Kết quả thực hiện in the same workbook and sends it again.
    v1 = f"lan-1/{issued[RESENT].file}"
    v2 = f"lan-2/{issued[RESENT].file}"
    edits = [{"status": UPDATES[i][0], "result": UPDATES[i][1]} if i in UPDATES else {}
             for i in range(len(fills[RESENT]))]
    fill_plan(inbox / v1, inbox / v2, edits, saved=dt.datetime(2026, 1, 12, 9, 30))
    set_saved(inbox / v2, dt.datetime(2026, 1, 12, 9, 30))
    resent = [{**r, **edits[i]} for i, r in enumerate(fills[RESENT])]
    second = collect(inbox, first_summary, roster=roster, year=YEAR, as_of=AS_OF, jobs=0)
    assert second.backup is not None  # the first summary is kept under another name
    return Scenario(inbox, fills, resent, first, kept_first, cli_summary, res.output, second, first_summary, v1, v2)


# -- per school, per criterion, overview --------------------------------------------------------


@pytest.mark.parametrize("run", ["library", "cli"])
def test_progress_per_school_on_theo_truong(scenario, run):
    path, as_of = (scenario.first_summary, AS_OF) if run == "library" else (scenario.cli_summary, AS_OF_CLI)
    expected = counts_by_school(scenario.fills, as_of)
    rows = {r["Mã trường"]: r for r in table(path, "Theo trường")}
    with_plan = {code for code, r in rows.items() if r["Tình trạng nộp"] != "Chưa nộp"}
    assert with_plan == set(SCHOOLS)  # the roster's other schools are listed too, with no actions
    assert all(r["Số công việc"] == 0 for code, r in rows.items() if code not in SCHOOLS)
    for code, want in expected.items():
        assert rows[code]["Số công việc"] == SCHOOLS[code]
        for label in PROGRESS:
            assert rows[code][label] == want.get(label, 0), (run, code, label)
    total = total_row(path, "Theo trường")
    for label in PROGRESS:
        assert total[label] == sum(c.get(label, 0) for c in expected.values())
    assert sum(total[label] for label in PROGRESS) == sum(SCHOOLS.values())


def test_late_depends_on_the_as_of_date(scenario):
    """Chosen so that the two dates differ: some actions late in April are not in January."""
    jan = sum(c[LATE] for c in counts_by_school(scenario.fills, AS_OF).values())
    apr = sum(c[LATE] for c in counts_by_school(scenario.fills, AS_OF_CLI).values())
    assert 0 < jan < apr
    assert total_row(scenario.first_summary, "Theo trường")[LATE] == jan
    assert total_row(scenario.cli_summary, "Theo trường")[LATE] == apr


def _criterion_counts(fills: dict[str, list[dict]], as_of: dt.date):
    """(standard, code, criterion label) -> progress counter, and (standard, code) -> labels."""
    counts: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    names: dict[tuple, set] = collections.defaultdict(set)
    for rows in fills.values():
        for r in rows:
            key = (nfc(r["standard"]), code_of(nfc(r["criterion"])), nfc(r["criterion"]))
            counts[key][expected_progress(r, as_of)] += 1
            names[key[:2]].add(key[2])
    return counts, names


def _summary_criteria(path: Path) -> dict[tuple, dict[str, Any]]:
    """(standard, code, label) -> its figures, added up over the frameworks that share the
    three (the sheet keys criteria by framework too, which the fills here do not record)."""
    out: dict[tuple, dict[str, Any]] = {}
    for r in table(path, "Theo tiêu chí"):
        key = (r["Tiêu chuẩn"], r["Mã tiêu chí"], r["Tiêu chí"])
        if key in out:
            out[key] = {k: out[key][k] + v if isinstance(v, (int, float)) else v for k, v in r.items()}
        else:
            out[key] = dict(r)
    return out


def test_progress_per_criterion_on_theo_tieu_chi(scenario):
    """Criteria whose code is unique under its standard across the levels' frameworks (see
    the next test for a code two frameworks share)."""
    counts, names = _criterion_counts(scenario.fills, AS_OF)
    got = _summary_criteria(scenario.first_summary)
    assert set(got) == set(counts)
    checked = 0
    for key, want in counts.items():
        if len(names[key[:2]]) > 1:
            continue
        checked += 1
        for label in PROGRESS:
            assert got[key][label] == want.get(label, 0), (key, label)
        assert got[key]["Số công việc"] == sum(want.values())
    assert checked >= 3


def test_progress_per_criterion_when_frameworks_share_a_code(scenario):
    counts, names = _criterion_counts(scenario.fills, AS_OF)
    assert any(len(v) > 1 for v in names.values())  # the sample has such codes (several levels)
    got = _summary_criteria(scenario.first_summary)
    for key, want in counts.items():
        for label in PROGRESS:
            assert got[key][label] == want.get(label, 0), (key, label)
    total = total_row(scenario.first_summary, "Theo tiêu chí")
    assert sum(total[label] for label in PROGRESS) == sum(SCHOOLS.values())


def test_progress_table_on_tong_quan(scenario):
    for path, as_of in ((scenario.first_summary, AS_OF), (scenario.cli_summary, AS_OF_CLI)):
        want = collections.Counter()
        for c in counts_by_school(scenario.fills, as_of).values():
            want.update(c)
        got, total = overview_progress(path)
        assert list(got) == list(PROGRESS)
        assert got == {label: want.get(label, 0) for label in PROGRESS}
        assert total == sum(SCHOOLS.values())


def test_summary_has_the_progress_charts(scenario):
    with zipfile.ZipFile(scenario.first_summary) as zf:
        charts = {n: zf.read(n).decode("utf-8") for n in zf.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)}
    overall = [c for c in charts.values() if "Tiến độ thực hiện" in c]
    by_school = [c for c in charts.values() if "Tiến độ theo trường" in c]
    assert len(overall) == 1 and len(by_school) == 1
    assert "'Dữ liệu biểu đồ'!" in overall[0] and "'Dữ liệu biểu đồ'!" in by_school[0]
    assert by_school[0].count("<c:ser>") == len(PROGRESS)  # one series per state, stacked by school
    for label in PROGRESS:
        assert label in by_school[0]


def test_summaries_pass_the_ooxml_schemas(scenario, ooxml_validate):
    ooxml_validate(scenario.first_summary, scenario.cli_summary, scenario.second_summary)


def test_cli_bad_as_of_exit_2(scenario, tmp_path):
    res = CliRunner().invoke(app, ["collect", str(scenario.inbox), "-o", str(tmp_path / "t.xlsx"),
                                   "--as-of", "15/01/2026"])
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 1 and "--as-of" in lines[0], res.stderr
    assert not (tmp_path / "t.xlsx").exists()


# -- a school updates its plan and sends it again -------------------------------------------------


def test_resent_plan_supersedes_the_first(scenario):
    school = scenario.second.schools[RESENT]
    assert school.accepted is not None and school.accepted.rel == scenario.v2
    assert school.accepted.sub.status == CheckStatus.VALID
    first = next(f for f in scenario.second.files if f.rel == scenario.v1)
    assert first.classification == Classification.SUPERSEDED
    assert school.previous is not None and school.previous.rel == scenario.v1
    results = {nfc(r.values["actions"]): r.values.get("result") for r in school.accepted.sub.rows}
    for i, (status, result) in UPDATES.items():
        assert results[nfc(scenario.resent_rows[i]["actions"])] == result


def test_counts_follow_the_resent_plan(scenario):
    fills = {**scenario.fills, RESENT: scenario.resent_rows}
    expected = counts_by_school(fills, AS_OF)
    before = counts_by_school(scenario.fills, AS_OF)
    assert expected[RESENT] != before[RESENT]  # the update changes the picture
    rows = {r["Mã trường"]: r for r in table(scenario.second_summary, "Theo trường")}
    for code, want in expected.items():
        for label in PROGRESS:
            assert rows[code][label] == want.get(label, 0), (code, label)
    want = collections.Counter()
    for c in expected.values():
        want.update(c)
    got, _ = overview_progress(scenario.second_summary)
    assert got == {label: want.get(label, 0) for label in PROGRESS}
    files = {r["Tệp"]: r for r in table(scenario.second_summary, "Tệp")}
    assert files[scenario.v2]["Phân loại"] == "Được tổng hợp"
    assert files[scenario.v1]["Phân loại"] == "Bản cũ (đã có bản mới hơn)"


def test_changes_sheet_lists_the_updated_rows(scenario):
    changes = [r for r in table(scenario.second_summary, "Thay đổi") if r["Mã trường"] == RESENT]
    assert len(changes) == len(UPDATES)
    assert {r["Thay đổi"] for r in changes} == {"Thay đổi"}  # the label of "changed"
    keys = {ascii_fold(r["Dòng (tiêu chí | công việc)"]) for r in changes}  # "criterion | actions", folded
    assert {k.split(" | ", 1)[1] for k in keys} == {ascii_fold(scenario.resent_rows[i]["actions"]) for i in UPDATES}
    shown = {r["Dòng thay đổi (tiêu chí | công việc)"].split(" | ", 1)[1] for r in changes}  # as the school wrote it
    assert shown == {nfc(scenario.resent_rows[i]["actions"]) for i in UPDATES}


def test_fill_plan_saved_sets_the_saved_time(scenario, tmp_path, sources):
    fac = TemplateFactory(sources, YEAR)
    from kcl_xlsx.spec.roster import School

    data, _ = fac.make("thcs", School("CS009", "Trường THCS Thử", "thcs"))
    (tmp_path / "mau.xlsx").write_bytes(data)
    dst = fill_plan(tmp_path / "mau.xlsx", tmp_path / "gui.xlsx", plan_rows(fac.spec("thcs"), "CS001")[:2],
                    info={"preparer": "A"}, saved=dt.datetime(2025, 9, 21, 8, 0))
    assert check_path(dst, CheckOptions()).saved_at.startswith("2025-09-21T08:00")
