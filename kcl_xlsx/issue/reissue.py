"""Next school year's templates, with each school's unfinished actions carried over.

Stages: previous plans (from a ledger, or by collecting an inbox) -> per school, rows split
into carried (not "Hoàn thành", or ending in the new year) and done -> carried rows moved
into the new year's vocabulary (periods, criteria of a possibly new framework, via an
optional old->new code mapping) -> one prefilled template per school, its identity chained
to last year's template -> manifest plus a report of what was carried and what was not.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from workbook_templates.choices import SchoolYear, parse_school_year
from workbook_templates.errors import SpecError

from kcl_xlsx.check.checker import CheckOptions, Submission
from kcl_xlsx.spec.freetext import clean, fold
from kcl_xlsx.issue.issuing import IssuedFile, TemplateFactory, issue_roster
from kcl_xlsx.collect.ledger import submission_from_row
from kcl_xlsx.base.output import write_atomic
from kcl_xlsx.spec.plan_spec import PlanSpec
from kcl_xlsx.spec.roster import Roster, School
from kcl_xlsx.issue.template_build import Prefill
from kcl_xlsx.collect.cache import KEY as RUN_KEY
from kcl_xlsx.spec.vocab import CheckStatus, Classification, SchoolStatus

REPORT = "chuyen-tiep.csv"
REPORT_COLUMNS = ("school_code", "school_name", "in_roster", "previous_file", "previous_template_id",
                  "carried_rows", "completed_rows", "unmapped_criteria", "note")


@dataclasses.dataclass
class SchoolCarry:
    school: School
    previous: Submission | None = None
    carried: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    done: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    unmapped: list[str] = dataclasses.field(default_factory=list)
    in_roster: bool = True
    note: str = ""  # why nothing was carried (or no template was made), for the report and the terminal


@dataclasses.dataclass
class ReissueResult:
    issued: list[IssuedFile]
    schools: list[SchoolCarry]
    left: list[SchoolCarry]  # schools with a previous plan that are no longer in the roster
    report: Path
    not_issued: list[SchoolCarry] = dataclasses.field(default_factory=list)  # known, but no template (no level)

    @property
    def blank(self) -> list[SchoolCarry]:
        """Schools that got a template with nothing carried, and why (the report's note)."""
        return [s for s in self.schools if s.previous is None]


def load_mapping(path: str | Path | None) -> dict[str, str]:
    """A CSV of ``old_code,new_code`` (header optional) translating criterion codes."""
    if path is None:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, f"không đọc được tệp ánh xạ ({exc})", "cannot read the mapping file") from None
    mapping = {}
    for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [clean(c) for c in row]
        if not any(cells) or (n == 1 and fold(cells[0]) in ("old", "old_code", "ma cu")):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise SpecError(path, f"dòng {n}: cần hai cột mã cũ, mã mới", f"row {n}: needs old_code,new_code")
        mapping[cells[0]] = cells[1]
    return mapping


# Why a school known to last year's run has no plan to carry (it still gets a template).
NO_VALID_PLAN = "kế hoạch năm trước còn lỗi (không được tổng hợp): phát hành mẫu trống"
NEVER_SENT = "chưa nộp kế hoạch năm trước: phát hành mẫu trống"
NO_PREVIOUS = "chưa có kế hoạch năm trước: phát hành mẫu trống"
NO_LEVEL = "không rõ cấp học của trường: không phát hành mẫu (dùng --roster)"


@dataclasses.dataclass
class PreviousYear:
    plans: dict[str, Submission]  # school code -> its newest valid plan
    without_plan: dict[str, tuple[School, str]]  # school code -> (the school as known, why it has no plan)


def previous_year(source: Path, options: CheckOptions) -> PreviousYear:
    """Every school last year's run knew of: the newest valid plan of each, and the schools
    without one (their files had errors, or they never sent), from a ledger file or by
    collecting an inbox folder (its ledger then lives in a temporary folder: the inbox is
    never written to)."""
    source = Path(source)
    if source.is_dir():
        from kcl_xlsx.collect.run import collect_inbox

        with tempfile.TemporaryDirectory() as tmp:
            # no roster here: every school's plan is found by its identity, including the
            # schools that left the new roster (they are listed, not silently dropped)
            res = collect_inbox(source, None, ledger_path=Path(tmp) / "ledger.sqlite", options=options,
                                write_summary=False)
            # the rows are read from the temporary ledger now, before it goes
            plans = {code: dataclasses.replace(s.accepted.sub, rows=list(s.accepted.sub.rows))
                     for code, s in res.schools.items() if s.accepted and s.accepted.sub}
            without = {code: (School(code, s.name, s.level, s.unit), _why(s.status))
                       for code, s in res.schools.items() if code not in plans}
            return PreviousYear(plans, without)
    if not source.is_file():
        raise SpecError(source, "không có sổ theo dõi hoặc thư mục này", "no such ledger or folder")
    rows, last_run = read_ledger(source)
    best: dict[str, tuple[tuple, Submission]] = {}
    seen: dict[str, School] = {}
    for row in rows:
        sub = submission_from_row(row)
        code = row["matched_school"] or sub.school_code
        if not code:
            continue
        seen.setdefault(code, School(code, sub.school_name, sub.level, sub.identity.get("unit", "")))
        if row["classification"] != Classification.ACCEPTED.value or sub.status != CheckStatus.VALID:
            continue
        key = (sub.year, sub.saved_at, row["collected_at"])  # newest year, then newest save
        if code not in best or key > best[code][0]:
            best[code] = (key, sub)
    plans = {code: sub for code, (_key, sub) in best.items()}
    without = {code: (school, NO_VALID_PLAN) for code, school in seen.items() if code not in plans}
    for code, known in (last_run.get("schools") or {}).items():  # the roster's schools that never sent
        if code not in plans and code not in without:
            school = School(code, known.get("name", ""), known.get("level", ""), known.get("unit", ""))
            without[code] = (school, _why(known.get("status", "")))
    return PreviousYear(plans, without)


def _why(status: object) -> str:
    missing = status in (SchoolStatus.MISSING, SchoolStatus.MISSING.value, SchoolStatus.MISSING.label)
    return NEVER_SENT if missing else NO_VALID_PLAN


def previous_plans(source: Path, options: CheckOptions, roster: Roster | None = None) -> dict[str, Submission]:
    """The newest valid plan of each school (see :func:`previous_year`)."""
    return previous_year(source, options).plans


def read_ledger(path: Path) -> tuple[list, dict]:
    """Every file row of a kcl-xlsx ledger and its last run's record (schools and their
    status; empty for a ledger of an older version), read-only: a file that is not one
    (another SQLite database, anything else) is refused and left exactly as it was."""
    if path.read_bytes()[:16] != b"SQLite format 3\x00":
        raise SpecError(path, "không phải sổ theo dõi (SQLite) của kcl-xlsx", "not a kcl-xlsx ledger")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        raise SpecError(path, "không mở được sổ theo dõi", "cannot open the ledger") from None
    try:
        conn.row_factory = sqlite3.Row
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"files", "meta"} <= tables:
            raise SpecError(path, "không phải sổ theo dõi của kcl-xlsx (thiếu bảng files/meta)", "not a kcl-xlsx ledger")
        rows = conn.execute("SELECT * FROM files ORDER BY path, collected_at").fetchall()
        record = conn.execute("SELECT value FROM meta WHERE key=?", (RUN_KEY,)).fetchone()
    except sqlite3.Error as exc:
        raise SpecError(path, f"sổ theo dõi hỏng ({exc})", "corrupt ledger") from None
    finally:
        conn.close()
    try:
        last_run = json.loads(record[0]) if record else {}
    except ValueError:
        last_run = {}
    return rows, last_run if isinstance(last_run, dict) else {}


def split_rows(sub: Submission, spec: PlanSpec, new_year: SchoolYear) -> tuple[list[dict], list[dict]]:
    """(carried, done): carried = not completed, or ending inside the new school year."""
    done_labels = {fold(o.label) for o in spec.choices.statuses if o.done}
    status = spec.form.roles.status
    start_of_new = new_year.start * 12 + spec.choices.first_month - 1
    carried, done = [], []
    for row in sub.rows:
        finished = fold(row.values.get(status) or "") in done_labels
        end = row.derived.get("end_month")
        if not finished or (end is not None and end >= start_of_new):
            carried.append(dict(row.values))
        else:
            done.append(dict(row.values))
    return carried, done


def carry_row(row: dict[str, Any], spec: PlanSpec, old_year: str, mapping: dict[str, str]) -> tuple[dict, str | None]:
    """One carried row in the new year's vocabulary; returns (row, unmapped criterion code)."""
    out = dict(row)
    r = spec.form.roles
    periods = {p.label for p in spec.periods}
    if out.get(r.start) not in periods:
        out[r.start] = spec.periods[0].label  # an unfinished action goes on from the new year's start
    if out.get(r.end) not in periods:
        out[r.end] = None  # the school must set a new end: the Kiểm tra cell says so
    unmapped = None
    criterion = out.get(r.criterion)
    if isinstance(criterion, str) and criterion not in spec.lists["criteria"]:
        code = criterion.split(" - ", 1)[0].strip()
        target = spec.framework.find(mapping.get(code, code))
        if target is not None:
            out[r.criterion] = target.label
            std = next((s for s in spec.framework.standards if s.code == target.standard), None)
            out[r.standard] = std.label if std else None
        else:
            unmapped = code
    if out.get(r.level) not in spec.lists["levels"]:
        out[r.level] = None  # e.g. a Mức 4 row under a framework without Mức 4: the school chooses again
    note = f"Chuyển tiếp từ năm học {old_year}"
    out[r.note] = note if not out.get(r.note) else f"{note}. {out[r.note]}"
    return out, unmapped


def plan_school(school: School, prev: Submission | None, factory: TemplateFactory, new_year: SchoolYear,
                mapping: dict[str, str]) -> SchoolCarry:
    carry = SchoolCarry(school, prev)
    if prev is None:
        return carry
    spec = factory.spec(school.level)
    carried, carry.done = split_rows(prev, spec, new_year)
    for row in carried:
        new, unmapped = carry_row(row, spec, prev.year, mapping)
        carry.carried.append(new)
        if unmapped:
            carry.unmapped.append(unmapped)
    return carry


def reissue(source: Path, year: str, out_dir: Path, factory: TemplateFactory, roster: Roster | None = None,
            mapping: dict[str, str] | None = None, options: CheckOptions | None = None) -> ReissueResult:
    new_year = parse_school_year(year)
    last = previous_year(source, options or CheckOptions())
    previous = last.plans
    not_issued: list[SchoolCarry] = []
    if roster is None:  # every school last year's run knew of: with a plan, with errors, or missing
        schools = [School(code, sub.school_name, sub.level, sub.identity.get("unit", ""))
                   for code, sub in sorted(previous.items())]
        for code, (school, _why) in sorted(last.without_plan.items()):
            if school.level:
                schools.append(school)
            else:
                not_issued.append(SchoolCarry(school, note=NO_LEVEL))
        roster = Roster(str(source), tuple(schools))
    for lvl in sorted({s.level for s in roster.schools}):
        factory.spec(lvl)  # a bad --year/--framework stops here, before any file
    plans = {s.code: plan_school(s, previous.get(s.code), factory, new_year, mapping or {}) for s in roster.schools}
    for code, carry in plans.items():
        if carry.previous is None:
            carry.note = last.without_plan[code][1] if code in last.without_plan else NO_PREVIOUS
    left = [SchoolCarry(School(code, sub.school_name, sub.level), sub, in_roster=False)
            for code, sub in sorted(previous.items()) if code not in plans]

    def make(school: School):
        plan = plans[school.code]
        prev_id = plan.previous.identity.get("template_id", "") if plan.previous else ""
        prev = plan.previous
        prefill = Prefill(tuple(plan.carried), tuple(plan.done), prev.year if prev else "",
                          tuple(prev.staff) if prev else ())
        return factory.make(school.level, school, previous_template_id=prev_id, prefill=prefill)

    issued = issue_roster(factory, roster, Path(out_dir), make)
    report = Path(out_dir) / REPORT
    write_atomic(report, _report(list(plans.values()) + left + not_issued, factory.sources.form.input_rows))
    return ReissueResult(issued, list(plans.values()), left, report, not_issued)


def _report(carries: list[SchoolCarry], input_rows: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(REPORT_COLUMNS)
    for c in carries:
        prev = c.previous
        note = c.note if c.in_roster else "không còn trong danh sách trường: không phát hành mẫu"
        if len(c.carried) > input_rows:
            note = f"chỉ {input_rows} dòng đầu được chuyển vào mẫu (mẫu có {input_rows} dòng nhập)"
        w.writerow([c.school.code, c.school.name, "có" if c.in_roster else "không", prev.file if prev else "",
                    prev.identity.get("template_id", "") if prev else "", len(c.carried), len(c.done),
                    " ".join(c.unmapped), note])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
