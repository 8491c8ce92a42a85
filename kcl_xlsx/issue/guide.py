"""The Hướng dẫn sheet: how to fill the plan, in Vietnamese, with one worked example row."""
from __future__ import annotations

from typing import Any

from kcl_xlsx.spec.plan_spec import PlanSpec, example_row


def write_guide(ws, f: Any, spec: PlanSpec, lay: Any) -> None:
    guide, form = spec.form.guide, spec.form
    ws.set_column(0, 0, 4)
    ws.set_column(1, len(form.fields), 18)
    ws.write_string(0, 1, str(guide.get("title", "HƯỚNG DẪN")), f.title)
    row = 2
    if not spec.framework.verified:
        ws.write_string(row, 1, str(guide.get("unverified", "")).format(number=spec.framework.number), f.bold)
        row += 2
    for para in guide.get("paragraphs") or []:
        ws.merge_range(row, 1, row, len(form.fields), str(para), f.text)
        ws.set_row(row, 32)
        row += 1
    row += 1
    ws.write_string(row, 1, "Các cột của trang Kế hoạch:", f.bold)
    row += 1
    for field in form.fields:
        ws.write_string(row, 1, field.header, f.bold)
        ws.merge_range(row, 2, row, len(form.fields), field.help, f.text)
        row += 1
    row += 1
    ws.write_string(row, 1, str(guide.get("example_title", "Ví dụ:")), f.bold)
    row += 1
    example = example_row(spec)
    for i, field in enumerate(form.fields, 1):
        ws.write_string(row, i, field.header, f.header)
        value = example[field.key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(row + 1, i, value, f.example)
        else:
            ws.write_string(row + 1, i, str(value), f.example)
    ws.set_row(row + 1, 90)
    ws.write_string(row, len(form.fields) + 1, form.check_header, f.header)
    ws.write_string(row + 1, len(form.fields) + 1, form.ok_text, f.example)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
