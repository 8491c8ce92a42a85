"""Fill a plan template as a school would, and read a filled (re-saved) plan back.

``fill_plan`` types rows (dicts keyed by the form's field keys) into the Kế hoạch sheet,
values into Thông tin and staff names into the staff list, with openpyxl, finding every
cell through :mod:`kcl_xlsx.layout` (the layout the builder wrote).  It keeps everything
else of the template (formulas, validations, names, protection, identity): a test then
lets LibreOffice recalculate the saved file to see what a school would see.

``read_plan`` reads the Kế hoạch rows back with python-calamine (cached values, as the
ingest side reads them): field values, the Kiểm tra text of each row and the banner.
"""
from __future__ import annotations

import dataclasses
import unicodedata
from pathlib import Path
from typing import Any, Mapping, Sequence

import openpyxl
from python_calamine import CalamineWorkbook

from kcl_xlsx import layout as L
from workbook_templates.form import Form, load_form


def fill_plan(src: str | Path, dst: str | Path, rows: Sequence[Mapping[str, Any]],
              info: Mapping[str, Any] | None = None, staff: Sequence[str] | None = None,
              *, form: Form | None = None) -> Path:
    """Copy template ``src`` to ``dst`` with ``rows`` typed into the input block.

    ``rows[i]`` goes to the i-th input row (an empty dict leaves that row empty); keys are
    field keys of the form, missing keys stay blank, ``None`` or ``""`` clear a cell.
    ``info`` maps Thông tin field keys to values; ``staff`` names go to the staff list from
    its first slot down.  Text is always stored as text (a value starting with ``=`` is
    not turned into a formula), numbers as numbers.  ``form`` defaults to the built-in one.
    """
    form = form or load_form()
    lay = L.PlanLayout(form)
    rows, info, staff = list(rows), dict(info or {}), list(staff or [])
    if len(rows) > form.input_rows:
        raise ValueError(f"{len(rows)} rows do not fit the {form.input_rows} input rows")
    unknown = {k for r in rows for k in r} - set(form.keys)
    if unknown:
        raise ValueError(f"unknown field key(s): {', '.join(sorted(unknown))}")
    info_keys = {f.key for f in form.info_fields}
    if set(info) - info_keys:
        raise ValueError(f"unknown info key(s): {', '.join(sorted(set(info) - info_keys))}")
    if len(staff) > form.staff_rows:
        raise ValueError(f"{len(staff)} staff names do not fit the {form.staff_rows} slots")

    wb = openpyxl.load_workbook(src)
    plan = wb[form.sheet]
    for i, row in enumerate(rows):
        excel_row = L.FIRST_INPUT_ROW + i + 1
        for key, value in row.items():
            _put(plan.cell(row=excel_row, column=lay.columns[key] + 1), value)
    sheet = wb[form.info_sheet]
    for key, value in info.items():
        _put(sheet.cell(row=lay.info_row(key) + 1, column=2), value)
    for k, name in enumerate(staff):
        _put(sheet.cell(row=lay.staff_first_row + k + 1, column=2), name)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


def _put(cell, value: Any) -> None:
    if value is None or value == "":
        cell.value = None
        return
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would make "=..." a formula


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
