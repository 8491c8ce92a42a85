"""The summary as data: pandas DataFrames computed from a :class:`CollectResult`.

Only accepted (newest valid) submissions feed the figures; files and schools of every other
kind are listed (Lỗi, Chưa nộp, Tệp).  Budgets are in million VND (triệu đồng).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from workbook_templates.choices import Choices, load_choices

from .collect import CLASS_LABELS, LATE, MISSING, SUBMITTED_ERRORS, SUBMITTED_VALID, CollectResult
from .freetext import fold

DETAIL_COLUMNS = ["school_code", "school_name", "unit", "level", "framework", "year", "section", "standard",
                  "criterion", "criterion_name", "target", "actions", "lead", "collaborators", "start", "end",
                  "budget_min_mvnd", "budget_max_mvnd", "funding_source", "status", "source_file", "source_sheet",
                  "source_row", "start_month"]
STATUSES = (SUBMITTED_VALID, LATE, SUBMITTED_ERRORS, MISSING)
NO_FUNDING = "(không ghi nguồn)"


@dataclasses.dataclass
class SummaryData:
    overview: list[tuple[str, Any]]  # (label, value) headline figures, in order
    funding_totals: pd.DataFrame  # funding_source, budget_min, budget_max
    status_counts: pd.DataFrame  # status, schools
    detail: pd.DataFrame
    by_school: pd.DataFrame
    by_standard: pd.DataFrame
    by_criterion: pd.DataFrame
    standard_funding: pd.DataFrame  # rows: standard, columns: funding sources (budget max)
    by_month: pd.DataFrame
    by_lead: pd.DataFrame
    issues: pd.DataFrame
    missing: pd.DataFrame
    files: pd.DataFrame
    changes: pd.DataFrame
    contact_headers: tuple[str, ...] = ()
    progress_counts: pd.DataFrame | None = None  # actions per follow-up state (Hoàn thành, Trễ hạn...)


def month_label(ordinal: Any, choices: Choices) -> str:
    """The month as the template's dropdown writes it (the choices' month_label)."""
    if ordinal is None or pd.isna(ordinal):
        return ""
    o = int(ordinal)
    return choices.month_label.format(month=o % 12 + 1, year=o // 12)


LATE_PROGRESS = "Trễ hạn"


def progress_of(status: str, end_month: Any, as_of_month: int, choices: Choices) -> str:
    """Follow-up state of one action: the school's Trạng thái, except that an action whose
    end month has passed without being done (or given up) is late."""
    option = next((o for o in choices.statuses if fold(o.label) == fold(status)), None)
    if option is not None and (option.done or option.dropped):
        return option.label
    if end_month is not None and not pd.isna(end_month) and int(end_month) < as_of_month:
        return LATE_PROGRESS
    return option.label if option is not None else choices.statuses[0].label


def progress_labels(choices: Choices) -> list[str]:
    labels = [o.label for o in choices.statuses]
    return labels[:2] + [LATE_PROGRESS] + labels[2:] if len(labels) >= 2 else labels + [LATE_PROGRESS]


def detail_frame(res: CollectResult) -> pd.DataFrame:
    # built column by column: a dict per row costs ~1 KB, 400 MB at province scale
    columns: dict[str, list] = {c: [] for c in DETAIL_COLUMNS + ["end_month"]}
    for s in res.schools.values():
        f = s.accepted
        if f is None:
            continue
        sub = f.sub
        for r in sub.rows:
            v, d = r.values, r.derived
            for key, value in ({
                "school_code": s.code, "school_name": s.name or sub.school_name, "unit": s.unit or sub.identity.get("unit", ""),
                "level": sub.level or s.level, "framework": sub.framework, "year": sub.year,
                "section": d.get("section") or "", "standard": v.get("standard") or v.get("muc") or "",
                "criterion": d.get("criterion_code") or "", "criterion_name": v.get("criterion") or "",
                "target": v.get("target") or "", "actions": v.get("actions") or "", "lead": v.get("lead") or "",
                "collaborators": v.get("collaborators") or "", "start": v.get("start") or "", "end": v.get("end") or "",
                "budget_min_mvnd": _num(d.get("budget_min")), "budget_max_mvnd": _num(d.get("budget_max")),
                "funding_source": v.get("funding") or "", "status": v.get("status") or "",
                "source_file": f.rel, "source_sheet": sub.sheet, "source_row": r.row,
                "start_month": d.get("start_month"), "end_month": d.get("end_month"),
            }).items():
                columns[key].append(value)
    # an empty inbox still gives text columns (a merge on school_code needs matching types)
    df = pd.DataFrame({k: pd.Series(v, dtype=object) if not v else v for k, v in columns.items()})
    choices = load_choices(res.choices)
    as_of = res.as_of.year * 12 + res.as_of.month - 1
    df["progress"] = [progress_of(s, e, as_of, choices) for s, e in zip(df["status"], df["end_month"])]
    return df.astype({"budget_min_mvnd": float, "budget_max_mvnd": float})


def _progress_counts(det: pd.DataFrame, keys: list[str], labels: list[str]) -> pd.DataFrame:
    """Actions per progress state for each group (one column per state)."""
    if not len(det):
        return pd.DataFrame(columns=keys + labels)
    table = pd.crosstab([det[k] for k in keys], det["progress"]).reindex(columns=labels, fill_value=0)
    table.columns = [str(c) for c in table.columns]
    return table.reset_index()


def _num(x: Any) -> float:
    try:
        return float(x) if x is not None and x != "" else 0.0
    except (TypeError, ValueError):
        return 0.0


def build_summary(res: CollectResult) -> SummaryData:
    det = detail_frame(res)
    fund = det.assign(funding_source=det["funding_source"].replace("", NO_FUNDING))
    budget = {"budget_min_mvnd": "sum", "budget_max_mvnd": "sum"}

    labels = progress_labels(load_choices(res.choices))
    by_school = (det.groupby(["school_code", "school_name", "unit", "level"], sort=True)
                 .agg(actions=("actions", "size"), criteria=("criterion", "nunique"),
                      budget_min_mvnd=("budget_min_mvnd", "sum"), budget_max_mvnd=("budget_max_mvnd", "sum"))
                 .reset_index())
    by_school = by_school.merge(_progress_counts(det, ["school_code"], labels), on="school_code", how="left")
    by_standard = (det.groupby("standard", sort=True)
                   .agg(schools=("school_code", "nunique"), actions=("actions", "size"),
                        budget_min_mvnd=("budget_min_mvnd", "sum"), budget_max_mvnd=("budget_max_mvnd", "sum"))
                   .reset_index())
    by_criterion = (det.groupby(["standard", "criterion", "criterion_name"], sort=True)
                    .agg(schools=("school_code", "nunique"), actions=("actions", "size"),
                         budget_max_mvnd=("budget_max_mvnd", "sum"),
                         school_list=("school_code", lambda c: ", ".join(sorted(set(c)))))
                    .reset_index())
    keys = ["standard", "criterion", "criterion_name"]  # codes repeat across frameworks
    by_criterion = by_criterion.merge(_progress_counts(det, keys, labels), on=keys, how="left")
    progress_counts = pd.DataFrame({"progress": labels, "actions": [int((det["progress"] == lb).sum()) for lb in labels]})
    if len(fund):
        std_fund = fund.pivot_table(index="standard", columns="funding_source", values="budget_max_mvnd",
                                    aggfunc="sum", fill_value=0.0).sort_index()
        std_fund.columns = [str(c) for c in std_fund.columns]
        std_fund = std_fund.reset_index()
    else:
        std_fund = pd.DataFrame({"standard": []})
    by_month = (det.dropna(subset=["start_month"]).groupby("start_month", sort=True)
                .agg(actions=("actions", "size"), schools=("school_code", "nunique"), **{k: (k, v) for k, v in budget.items()})
                .reset_index())
    choices = load_choices(res.choices)
    by_month.insert(0, "month", [month_label(m, choices) for m in by_month["start_month"]])
    by_lead = (det.groupby("lead", sort=True)
               .agg(actions=("actions", "size"), schools=("school_code", "nunique"), **{k: (k, v) for k, v in budget.items()})
               .reset_index())
    funding_totals = (fund.groupby("funding_source", sort=True)
                      .agg(budget_min_mvnd=("budget_min_mvnd", "sum"), budget_max_mvnd=("budget_max_mvnd", "sum"))
                      .reset_index())

    schools = list(res.schools.values())
    status_counts = pd.DataFrame({"status": list(STATUSES),
                                  "schools": [sum(1 for s in schools if s.status == st) for st in STATUSES]})
    expected = len(res.roster.schools) if res.roster else None
    received = sum(1 for s in schools if s.files)
    valid = sum(1 for s in schools if s.accepted is not None)
    overview: list[tuple[str, Any]] = [
        ("Năm học", res.year or ", ".join(sorted(set(det["year"])))),
        ("Số trường phải nộp", expected if expected is not None else "(không có danh sách)"),
        ("Số trường đã nộp", received),
        ("Số trường nộp hợp lệ (được tổng hợp)", valid),
        ("Số trường nộp có lỗi", sum(1 for s in schools if s.status == SUBMITTED_ERRORS)),
        ("Số trường nộp muộn", sum(1 for s in schools if s.status == LATE)),
        ("Số trường chưa nộp", sum(1 for s in schools if s.status == MISSING)),
        ("Số tệp trong hộp thư", len(res.files)),
        ("Số tệp không xác định được trường", len(res.unmatched)),
        ("Số công việc/giải pháp", int(len(det))),
        ("Tổng kinh phí tối thiểu (triệu đồng)", float(det["budget_min_mvnd"].sum())),
        ("Tổng kinh phí tối đa (triệu đồng)", float(det["budget_max_mvnd"].sum())),
    ]

    issues = []
    for f in res.files:
        if f.sub is None:
            continue
        for i in f.sub.issues:
            issues.append({"file": f.rel, "school_code": f.school or i.school_code, "severity": i.severity.value,
                           "code": i.code, "where": f"{i.sheet}!{i.cell}" if i.sheet and i.cell else (i.sheet or ""),
                           "column": i.column, "value": i.value, "message": i.message, "hint": i.hint,
                           "classification": CLASS_LABELS.get(f.classification, f.classification)})
    issues_df = pd.DataFrame.from_records(issues, columns=["file", "school_code", "severity", "code", "where", "column",
                                                           "value", "message", "hint", "classification"])
    contact_headers = res.roster.contact_headers if res.roster else ()
    missing = pd.DataFrame.from_records(
        [{"school_code": s.code, "school_name": s.name, "level": s.level, "unit": s.unit, "status": s.status,
          **dict(s.contact)} for s in schools if s.status in (MISSING, SUBMITTED_ERRORS)],
        columns=["school_code", "school_name", "level", "unit", "status", *contact_headers])
    files = pd.DataFrame.from_records(
        [{"file": f.rel, "classification": CLASS_LABELS.get(f.classification, f.classification),
          "school_code": f.school, "match": f.match, "status": f.sub.status if f.sub else "",
          "errors": f.sub.errors if f.sub else 0, "warnings": f.sub.warnings if f.sub else 0,
          "size": f.size, "sha256": f.sha256 or (f.sub.sha256 if f.sub else ""),
          "saved_at": f.sub.saved_at if f.sub else "", "received": f.mtime.strftime("%Y-%m-%dT%H:%M:%SZ"),
          "collected_at": f.collected_at, "template_id": f.sub.identity.get("template_id", "") if f.sub else "",
          "late": "muộn" if f.late else "", "note": f.note} for f in res.files],
        columns=["file", "classification", "school_code", "match", "status", "errors", "warnings", "size", "sha256",
                 "saved_at", "received", "collected_at", "template_id", "late", "note"])
    changes = pd.DataFrame.from_records(
        [{"school_code": s.code, "file": s.accepted.rel, "previous": s.previous.rel if s.previous else "",
          "change": c.kind, "key": c.key} for s in schools if s.accepted for c in s.changes],
        columns=["school_code", "file", "previous", "change", "key"])
    return SummaryData(overview, funding_totals, status_counts, det, by_school, by_standard, by_criterion, std_fund,
                       by_month, by_lead, issues_df, missing, files, changes, tuple(contact_headers), progress_counts)
