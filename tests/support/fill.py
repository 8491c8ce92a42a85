"""Fill a plan template as a school would, and read a filled (re-saved) plan back.

``fill_plan`` (from kcl_xlsx.demo) types rows (dicts keyed by the form's field keys) into the Kế hoạch sheet,
values into Thông tin and staff names into the staff list, with openpyxl, finding every
cell through :mod:`kcl_xlsx.spec.layout` (the layout the builder wrote).  It keeps everything
else of the template (formulas, validations, names, protection, identity): a test then
lets LibreOffice recalculate the saved file to see what a school would see.

``read_plan`` reads the Kế hoạch rows back with python-calamine (cached values, as the
ingest side reads them): field values, the Kiểm tra text of each row and the banner.
"""
from __future__ import annotations

import dataclasses
import unicodedata
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from kcl_xlsx.spec import layout as L
from kcl_xlsx.demo import fill_plan  # noqa: F401  (one way of typing into a template, shared)
from workbook_templates.form import Form, load_form


@dataclasses.dataclass(frozen=True)
class PlanReadBack:
    banner: str
    rows: list[dict[str, Any]]  # one dict per input row: field key -> value ("" when empty)
    checks: list[str]  # the Kiểm tra text of each input row


def read_plan(path: str | Path, count: int | None = None, *, form: Form | None = None) -> PlanReadBack:
    """The first ``count`` input rows (all when None) of a filled plan, read with calamine."""
    form = form or load_form()
    lay = L.PlanLayout(form)
    table = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(form.sheet).to_python(skip_empty_area=False)

    def cell(r: int, c: int) -> Any:
        return table[r][c] if r < len(table) and c < len(table[r]) else ""

    last = lay.last_input_row if count is None else L.FIRST_INPUT_ROW + count - 1
    rows, checks = [], []
    for r in range(L.FIRST_INPUT_ROW, last + 1):
        rows.append({k: cell(r, c) for k, c in lay.columns.items()})
        checks.append(nfc(cell(r, lay.check_col)))
    return PlanReadBack(nfc(cell(L.BANNER_ROW, 0)), rows, checks)


def nfc(value: Any) -> Any:
    """Vietnamese text compared after NFC normalisation; other values as they are."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def is_locked(ws, row: int, col: int) -> bool:
    """A cell's protection as a spreadsheet program applies it: its own format, else its
    column's default format (an input cell has no cell element of its own: see
    template_build._input_block), else locked; a merged area's is its first cell's."""
    for merged in ws.merged_cells.ranges:  # a merged area is protected as its first cell
        if merged.min_row <= row <= merged.max_row and merged.min_col <= col <= merged.max_col:
            row, col = merged.min_row, merged.min_col
    cell = ws.cell(row, col)
    if cell.has_style:
        return cell.protection.locked
    for dim in ws.column_dimensions.values():
        if dim.min and dim.max and dim.min <= col <= dim.max and dim.has_style:
            return dim.protection.locked
    return True
