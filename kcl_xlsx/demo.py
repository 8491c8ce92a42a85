"""`kcl-xlsx demo DIR`: the whole flow on the built-in sample, for a first look.

Issues the sample roster's templates, fills most of them as schools would (one with
mistakes, one sent twice, one never sent), collects the inbox and writes the summary,
feedback files and exports.  ``fill_plan`` is also what the tests use to type into a
template: one way of filling, shared.
"""
from __future__ import annotations

import copy
import datetime as dt
import os
import re
import time
import zipfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import openpyxl

from kcl_xlsx.spec import layout as L
from kcl_xlsx.issue.issuing import TemplateFactory, issue_roster
from kcl_xlsx.base.output import OutputError
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import load_roster
from kcl_xlsx.spec.sample_plans import plan_rows
from workbook_templates.form import Form, load_form

YEAR = "2025-2026"


def fill_plan(src: str | Path, dst: str | Path, rows: Sequence[Mapping[str, Any]],
              info: Mapping[str, Any] | None = None, staff: Sequence[str] | None = None,
              *, form: Form | None = None, saved: dt.datetime | None = None) -> Path:
    """Copy template ``src`` to ``dst`` with ``rows`` typed into the input block.

    ``rows[i]`` goes to the i-th input row (an empty dict leaves that row empty); keys are
    field keys of the form, missing keys stay blank, ``None`` or ``""`` clear a cell.  A
    derived field (form ``derived_from``: the Tiêu chuẩn of form 2026.1) is shown by a locked
    formula, not typed: its value in ``rows`` is skipped and the formula kept.
    ``info`` maps Thông tin field keys to values; ``staff`` names go to the staff list from
    its first slot down.  Text is always stored as text (a value starting with ``=`` is
    not turned into a formula), numbers as numbers.  ``form`` defaults to the built-in one;
    ``saved`` sets the file's "last modified" property (what a school's program records).
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

    derived = {f.key for f in form.derived}
    wb = openpyxl.load_workbook(src)
    plan = wb[form.sheet]
    for i, row in enumerate(rows):
        excel_row = L.FIRST_INPUT_ROW + i + 1
        for key, value in row.items():
            if key in derived:
                continue
            _put(plan.cell(row=excel_row, column=lay.columns[key] + 1), value)
    sheet = wb[form.info_sheet]
    for key, value in info.items():
        _put(sheet.cell(row=lay.info_row(key) + 1, column=2), value)
    for k, name in enumerate(staff):
        _put(sheet.cell(row=lay.staff_first_row + k + 1, column=2), name)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    if saved is not None:  # openpyxl stamps the save time itself: set the school's one afterwards
        set_saved_time(dst, saved)
    return dst


def set_saved_time(path: Path, when: dt.datetime | str) -> None:
    """Write ``when`` as the file's "last modified" property (dcterms:modified), which the
    checker reports as the school's save time."""
    stamp = (when if isinstance(when, str) else when.strftime("%Y-%m-%dT%H:%M:%SZ")).encode()
    with zipfile.ZipFile(path) as zf:
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", data)
            zf.writestr(info, data)


def _put(cell, value: Any) -> None:
    if value is None or value == "":
        cell.value = None
        return
    if not cell.has_style:  # an input cell takes its column's format (unlocked), as a typing person's does
        ws = cell.parent
        dim = next((d for d in ws.column_dimensions.values()
                    if d.min and d.max and d.min <= cell.column <= d.max and d.has_style), None)
        if dim is not None:
            cell._style = copy.copy(dim._style)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would make "=..." a formula


def run_demo(folder: Path, jobs: int | None = None):
    """Write templates, a filled inbox, the summary and its companions into ``folder``."""
    from kcl_xlsx.app import collect

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise OutputError(f"{folder}: thư mục đã có dữ liệu; chọn thư mục trống / folder is not empty")
    sources = Sources.load()
    roster = load_roster("sample", sources.form)
    factory = TemplateFactory(sources, YEAR, issue_date=dt.date(2025, 8, 15))
    templates = folder / "1-mau-gui-truong"
    issued = issue_roster(factory, roster, templates)
    inbox = folder / "2-hop-thu"
    for n, (school, rec) in enumerate(zip(roster.schools, issued)):
        if n == len(issued) - 1:
            break  # the last school never sends its plan
        spec = factory.spec(school.level)
        rows = plan_rows(spec, 8 + n, seed=n)
        if n == 2:  # a school that pastes text and forgets things
            rows[0].update(budget="khoảng 15 triệu", funding=None)
            rows[1].update(criterion=None, end=spec.periods[0].label, start=spec.periods[5].label)
        info = {"preparer": school.contact[0][1] if school.contact else "Người lập", "position": "Hiệu trưởng"}
        if n == 0:  # sent twice: the second version (a day later) replaces the first
            older = inbox / school.code.lower() / f"ban-dau_{rec.file}"
            fill_plan(templates / rec.file, older, rows[:-2], info=info, saved=dt.datetime(2025, 9, 20, 8, 0))
            past = time.time() - 86400
            os.utime(older, (past, past))
        fill_plan(templates / rec.file, inbox / school.code.lower() / rec.file, rows, info=info,
                  saved=dt.datetime(2025, 9, 21, 8, 0))
    return collect(inbox, folder / "tong-hop.xlsx", roster=roster, year=YEAR, jobs=jobs,
                   feedback=folder / "3-phan-hoi", export=folder / "4-xuat-du-lieu",
                   as_of=dt.date(2026, 1, 15),  # mid-year: some actions done, some late
                   render=folder / "5-van-ban")  # each accepted plan as its official document
