"""Render check results: a rich table per file (text), or one record per issue (json/csv)."""
from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from macros_free_validation.report import Severity

from kcl_xlsx.check.checker import Submission
from kcl_xlsx.spec.vocab import label_of

RECORD_FIELDS = ("file", "school_code", "template_id", "severity", "code", "sheet", "cell", "row", "column",
                 "value", "message", "hint")
SEVERITY_VI = {s: label_of(s) for s in Severity}  # Lỗi / Cảnh báo / Thông tin (labels.yaml)
_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def records(subs: Iterable[Submission]) -> list[dict]:
    out = []
    for sub in subs:
        for issue in sub.issues:
            d = issue.to_dict()
            d["file"] = sub.file
            d["school_code"] = d.get("school_code") or sub.school_code
            out.append({k: ("" if d.get(k) is None else d.get(k)) for k in RECORD_FIELDS})
    return out


def to_json(subs: Sequence[Submission]) -> str:
    return json.dumps(records(subs), ensure_ascii=False, indent=1)


def to_csv(subs: Sequence[Submission]) -> str:
    """CSV text starting with a BOM: Excel on Windows then reads it as UTF-8."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.DictWriter(buf, RECORD_FIELDS, lineterminator="\n")
    w.writeheader()
    for rec in records(subs):
        w.writerow({k: _csv_safe(v) for k, v in rec.items()})
    return buf.getvalue()


def _csv_safe(value: object) -> object:
    # A school's text opened by Excel from a CSV must not become a formula (CWE-1236).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def print_text(console: Console, subs: Sequence[Submission], show_info: bool = False) -> None:
    for sub in subs:
        who = " - ".join(x for x in (sub.school_code, sub.school_name) if x)
        # file names and school text are data: never rich markup ("[/]" in a name must print as is)
        console.print(Text.assemble((sub.file, "bold"), f"  {who}  → {sub.status.label} "
                                    f"({sub.errors} lỗi, {sub.warnings} cảnh báo, {len(sub.rows)} dòng)"))
        shown = [i for i in sub.issues if show_info or i.severity != Severity.INFO]
        if not shown:
            continue
        table = Table(show_header=True, header_style="bold", expand=False)
        for col in ("Mức độ", "Vị trí", "Mã", "Nội dung", "Cách sửa"):
            table.add_column(col, overflow="fold")
        for i in shown:
            message = i.message.removeprefix(f"{i.where()}: ") if i.where() else i.message
            table.add_row(*(Text(x) for x in (SEVERITY_VI[i.severity], i.where(), i.code, message, i.hint)),
                          style=_STYLE[i.severity])
        console.print(table)
    errs = sum(1 for s in subs if s.errors)
    console.print(f"Tổng: {len(subs)} tệp, {errs} tệp có lỗi, "
                  f"{sum(s.errors for s in subs)} lỗi, {sum(s.warnings for s in subs)} cảnh báo "
                  f"/ {len(subs)} files, {errs} with errors", highlight=False, markup=False)
