"""The Hướng dẫn sheet: how to fill the plan, in Vietnamese, with one worked example row.

It prints on A4 portrait at 100 % (no fit-to-width: the text stays at its 11 pt on paper):
two columns, labels in B and text in C, the long paragraphs merged over B:C.  Programs do
not fit a merged cell's height to its text, so each row gets a height from its length.
"""
from __future__ import annotations

import math
from typing import Any

from kcl_xlsx.spec.plan_spec import PlanSpec, example_row

LABEL_WIDTH, TEXT_WIDTH = 24, 62  # XlsxWriter units: about 470 pt, inside A4 portrait's 523 pt
LINE_PT = 15  # one line of 11 pt Times New Roman
CHARS_PER_UNIT = 1.05  # characters of 11 pt Vietnamese text per width unit (measured, with margin)


def _height(text: str, width: int) -> float:
    lines = max(1, math.ceil(len(text) / (width * CHARS_PER_UNIT)))
    return lines * LINE_PT + 3


def write_guide(ws, f: Any, spec: PlanSpec, lay: Any) -> None:
    guide, form = spec.form.guide, spec.form
    ws.set_column(0, 0, 3)
    ws.set_column(1, 1, LABEL_WIDTH)
    ws.set_column(2, 2, TEXT_WIDTH)
    both = LABEL_WIDTH + TEXT_WIDTH
    title = str(guide.get("title", "HƯỚNG DẪN"))
    ws.merge_range(0, 1, 0, 2, title, f.title)
    ws.set_row(0, _height(title, both) + 4)
    row = 2
    if not spec.framework.verified:
        text = str(guide.get("unverified", "")).format(number=spec.framework.number)
        ws.merge_range(row, 1, row, 2, text, f.bold)
        ws.set_row(row, _height(text, both))
        row += 2
    paragraphs = list(guide.get("paragraphs") or [])
    if form.print_view and form.print_guide:  # how to print the Bản in sheet, before the closing note
        paragraphs.insert(max(len(paragraphs) - 1, 0), form.print_guide)
    for para in paragraphs:
        ws.merge_range(row, 1, row, 2, str(para), f.text)
        ws.set_row(row, _height(str(para), both))
        row += 1
    row += 1
    ws.write_string(row, 1, "Các cột của trang Kế hoạch:", f.bold)
    row += 1
    for field in form.fields:
        ws.write_string(row, 1, field.header, f.bold)
        ws.write_string(row, 2, field.help, f.text)
        ws.set_row(row, max(_height(field.header, LABEL_WIDTH), _height(field.help, TEXT_WIDTH)))
        row += 1
    row += 1
    ws.write_string(row, 1, str(guide.get("example_title", "Ví dụ:")), f.bold)
    row += 1
    example = example_row(spec)
    for field in form.fields:
        value = example[field.key]
        ws.write_string(row, 1, field.header, f.header)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(row, 2, value, f.example)
        else:
            ws.write_string(row, 2, str(value), f.example)
        ws.set_row(row, max(_height(field.header, LABEL_WIDTH), _height(str(value), TEXT_WIDTH)))
        row += 1
    ws.write_string(row, 1, form.check_header, f.header)
    ws.write_string(row, 2, form.ok_text, f.example)
    ws.set_portrait()
    ws.set_paper(9)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)  # a safety net: the columns already fit, so the scale stays 100 %
