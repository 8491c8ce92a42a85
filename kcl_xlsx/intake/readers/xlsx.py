"""Read a returned workbook: values (python-calamine), identity copies, the plan table found
by its header text.  No judgement here beyond what reading needs; :mod:`checker` judges.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from functools import lru_cache
from typing import Any, Callable, Mapping

from python_calamine import CalamineWorkbook

from workbook_templates.form import Form

from kcl_xlsx.base.text import number_text
from kcl_xlsx.spec import identity as ident
from kcl_xlsx.spec import layout as L
from kcl_xlsx.spec.freetext import clean, fold
from kcl_xlsx.spec.issues import Code, Issue
from kcl_xlsx.intake.package_meta import PackageMeta, ods_merged, read_meta


_HEADER_SCAN_ROWS = 25


def norm_header(text: Any) -> str:
    """Header text compared NFC, case, spacing and diacritic-insensitively."""
    return _norm_header(text) if isinstance(text, str) else _norm_header(str(text))


@lru_cache(maxsize=1 << 14)
def _norm_header(text: str) -> str:
    return _NON_ALNUM.sub(" ", fold(text)).strip()


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclasses.dataclass
class RawRow:
    row: int  # Excel row, 1-based (Word: the row's number in the plan, see RawPlan.row_places)
    cells: dict[str, Any]  # field key -> the value as read (Word: the cell's text, paragraphs on lines)


@dataclasses.dataclass
class RawPlan:
    """What a reader gives the checker, whatever the file was.  A workbook fills every field;
    a Word plan (readers/docx.py) has ``sheet`` = the plan's table ("Bảng 2", None when no
    plan table was read), ``header_row`` = its header rows, ``columns`` = field -> the grid
    column its text came from (the fields sharing one official column point at the same
    one; no Mức column: the level comes from the section row), ``info`` = what the
    document's frame states (school_name, authority, doc_number, place, date YYYY-MM-DD,
    year, level, framework, signer), no identity copies, staff, lists or sheets, and the
    four fields below."""

    sheet: str | None
    header_row: int | None  # Excel row
    columns: dict[str, int]  # field -> 0-based column
    rows: list[RawRow]
    identity_copies: dict[str, dict[str, str]]
    info: dict[str, str]
    info_rows: dict[str, int]  # Thông tin field -> 0-based row where its label was found
    staff: list[str]
    lists: dict[str, list[Any]]
    sheet_names: list[str]
    sheet_states: dict[str, str]
    meta: PackageMeta
    issues: list[Issue]
    form: Form | None = None  # the form the file was read with
    # A plan read from another kind of document (readers/docx.py): "word"; its tables
    # ("Bảng N") stand where a workbook's sheets do.
    source_kind: str = "workbook"
    tables: int = 0  # tables in the document (Word)
    row_places: dict[int, tuple[int, int]] = dataclasses.field(default_factory=dict)  # RawRow.row -> (table, row), 1-based
    column_headers: dict[str, str] = dataclasses.field(default_factory=dict)  # field -> its column's header as written


def read_plan(data: bytes, kind: str, form: Form, parts: Mapping[str, bytes | None] | None = None,
              form_for: Callable[[str], Form | None] | None = None) -> RawPlan:
    """Everything the checker needs from the file's bytes (kind comes from sniffing;
    ``parts``: metadata parts the pre-flight already decompressed, see ``read_meta``).
    ``form_for(version)``: the form of the version the file declares (its identity's
    form_version), read with instead of ``form`` when there is one."""
    meta = read_meta(data, kind, parts)
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = list(wb.sheet_names)
    states = {m.name: _state(m.visible) for m in wb.sheets_metadata}
    grids = _Grids(wb, names)
    if form_for is not None:
        form = form_for(declared_form_version(meta, grids)) or form
    issues: list[Issue] = []
    plan_sheet, header_row, columns = _find_plan(grids, form, issues)
    rows: list[RawRow] = []
    if plan_sheet:  # every sheet-level fact (merged ranges, the grid) from the sheet the plan was found on
        merged = ods_merged(data, plan_sheet) if kind == "ods" else grids.merged(plan_sheet)
        rows = _rows(grids[plan_sheet], plan_sheet, header_row, columns, form, merged, issues)
    for expected in (form.info_sheet, L.LISTS_SHEET, ident.SHEET):
        if expected not in names:
            issues.append(Issue.make(Code.STRUCTURE_SHEET_MISSING, sheet=expected))
    info, info_rows, staff = _info(grids.get(form.info_sheet), form)
    return RawPlan(
        sheet=plan_sheet, header_row=header_row, columns=columns, rows=rows,
        identity_copies=_identity_copies(meta, grids, info, form),
        info=info, info_rows=info_rows, staff=staff, lists=_lists(grids.get(L.LISTS_SHEET)),
        sheet_names=names, sheet_states=states, meta=meta, issues=issues, form=form,
    )


def declared_form_version(meta: PackageMeta, grids) -> str:
    """The form_version a file's identity declares: its custom property, else its identity
    sheet's ("" if neither has one)."""
    value = meta.custom.get(ident.PROPERTY_PREFIX + "form_version", "")
    if value and value != "-":
        return str(value)
    for row in grids.get(ident.SHEET) or []:
        if len(row) > 1 and row[0] == "form_version":
            return _text_value(row[1])
    return ""


class _Grids(dict):
    """Sheet name -> cell values, read from calamine on first use: the guide sheet and any
    sheet a school added are read only when the plan is not where the template put it."""

    def __init__(self, wb: CalamineWorkbook, names: list[str]):
        super().__init__()
        self.wb, self.names = wb, names
        self.sheets: dict[str, Any] = {}

    def sheet(self, name: str):
        if name not in self.sheets:
            self.sheets[name] = self.wb.get_sheet_by_name(name)
        return self.sheets[name]

    def __missing__(self, name: str) -> list[list[Any]]:
        if name not in self.names:
            raise KeyError(name)
        grid = self.sheet(name).to_python(skip_empty_area=False)
        self[name] = grid
        return grid

    def merged(self, name: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        try:
            return list(self.sheet(name).merged_cell_ranges or [])
        except Exception:  # merged ranges are not available for every format
            return []

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self.names else default

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self):
        return iter(self.names)


def _state(visible: Any) -> str:
    text = str(visible).rsplit(".", 1)[-1].lower()
    return {"veryhidden": "veryHidden", "hidden": "hidden"}.get(text, "visible")


def _find_plan(grids: dict[str, list[list[Any]]], form: Form, issues: list[Issue]):
    wanted = {norm_header(f.header): f.key for f in form.fields}
    best: tuple[int, str | None, int | None] = (0, None, None)
    # The print view repeats the official column headers: it is never the plan table.
    printed = (L.PRINT_SHEET, L.PRINT_DATA_SHEET)
    order = [form.sheet] + [n for n in grids if n != form.sheet and n not in printed]
    for name in order:
        if name not in grids:
            continue
        for r, row in enumerate(grids[name][:_HEADER_SCAN_ROWS]):
            hits = sum(1 for v in row if isinstance(v, str) and v and (
                norm_header(v) in wanted or _prefix_hit(norm_header(v), wanted)))
            if hits > best[0]:
                best = (hits, name, r)
            if best[1] == form.sheet and best[0] == len(wanted):
                break  # every header found where the template put it: no need to look further
        if best[1] == form.sheet and best[0] >= len(wanted) // 2:
            break
    hits, sheet, r = best
    if sheet is None or hits < 3:
        issues.append(Issue.make(Code.STRUCTURE_PLAN_SHEET_MISSING, sheet=form.sheet))
        return None, None, {}
    if sheet != form.sheet:
        issues.append(Issue.make(Code.STRUCTURE_PLAN_SHEET_RENAMED, sheet=sheet))
    columns = _map_columns(grids[sheet][r], r, sheet, form, issues)
    return sheet, r + 1, columns


def _prefix_hit(header: str, wanted: dict[str, str]) -> str | None:
    if len(header) < 4:
        return None
    return next((k for w, k in wanted.items() if w.startswith(header) or header.startswith(w)), None)


def _map_columns(header: list[Any], r: int, sheet: str, form: Form, issues: list[Issue]) -> dict[str, int]:
    from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

    wanted = {norm_header(f.header): f.key for f in form.fields}
    known_other = {norm_header("TT"), norm_header(form.check_header), norm_header("STT")}
    lay = L.PlanLayout(form)
    columns: dict[str, int] = {}
    for c, value in enumerate(header):
        h = norm_header(value)
        if not h:
            continue
        key = wanted.get(h) or _prefix_hit(h, wanted)
        if key and key not in columns:
            columns[key] = c
        elif h not in known_other:
            issues.append(Issue.make(Code.STRUCTURE_COLUMN_EXTRA, sheet=sheet, cell=xl_rowcol_to_cell(r, c), row=r + 1,
                                     value=clean(value), where=f"{sheet}!{xl_rowcol_to_cell(r, c)}"))
    for f in form.fields:
        where = f"{sheet}!{xl_rowcol_to_cell(r, lay.columns[f.key])}"
        if f.key not in columns:
            issues.append(Issue.make(Code.STRUCTURE_COLUMN_MISSING, severity=None if f.required else "warning",
                                     sheet=sheet, row=r + 1, column=f.header, where=where))
        elif columns[f.key] != lay.columns[f.key]:
            issues.append(Issue.make(Code.STRUCTURE_COLUMN_MOVED, sheet=sheet, row=r + 1, column=f.header, where=where,
                                     cell=xl_rowcol_to_cell(r, columns[f.key]),
                                     expected=xl_col_to_name(lay.columns[f.key])))
    return columns


def _rows(grid, sheet: str, header_row: int, columns: dict[str, int], form: Form, merged,
          issues: list[Issue]) -> list[RawRow]:
    from xlsxwriter.utility import xl_rowcol_to_cell

    fill = _merge_fill(grid, merged, header_row)
    filled_rows = {r for r, _c in fill}
    last_template_row = header_row + form.input_rows  # Excel row of the last input row, wherever the header is
    keys, places = tuple(columns), tuple(columns.values())
    out, outside_reported = [], False
    for r in range(header_row, len(grid)):
        row = grid[r]
        if r in filled_rows:
            values = [fill.get((r, c), row[c] if c < len(row) else None) for c in places]
        elif row.count("") == len(row):
            continue  # nothing at all in the row (most of the template's 200 input rows)
        else:
            width = len(row)
            values = [row[c] if c < width else None for c in places]
        values = [None if v == "" else v for v in values]
        if all(v is None or (isinstance(v, str) and not clean(v)) for v in values):
            continue
        cells = dict(zip(keys, values))
        if r + 1 > last_template_row and not outside_reported:
            outside_reported = True
            first_col = min(columns.values()) if columns else 0
            cell = xl_rowcol_to_cell(r, first_col)
            issues.append(Issue.make(Code.STRUCTURE_ROWS_OUTSIDE, sheet=sheet, cell=cell, row=r + 1,
                                     last=last_template_row, where=f"{sheet}!{cell}"))
        out.append(RawRow(r + 1, cells))
    for (r0, c0), (r1, c1) in merged:
        if r1 > r0 and r0 >= header_row and any(c0 <= c <= c1 for c in columns.values()):
            cell = xl_rowcol_to_cell(r0, c0)
            span = f"{cell}:{xl_rowcol_to_cell(r1, c1)}"
            issues.append(Issue.make(Code.CELL_MERGED, sheet=sheet, cell=cell, row=r0 + 1, value=span,
                                     where=f"{sheet}!{cell}"))
    return out


def _merge_fill(grid, merged, header_row: int) -> dict[tuple[int, int], Any]:
    # calamine gives the value only at the top-left of a merged area; a person reads the
    # merged criterion cell as belonging to every row it spans.
    fill: dict[tuple[int, int], Any] = {}
    for (r0, c0), (r1, c1) in merged:
        if r0 < header_row or r0 >= len(grid) or c0 >= len(grid[r0]):
            continue
        top = grid[r0][c0]
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0, c1 + 1):
                fill[(r, c)] = top
    return fill


def _info(grid, form: Form) -> tuple[dict[str, str], dict[str, int], list[str]]:
    if not grid:
        return {}, {}, []
    by_label = {norm_header(f.label): f.key for f in form.info_fields}
    info: dict[str, str] = {}
    rows: dict[str, int] = {}
    staff: list[str] = []
    staff_title = norm_header(form.staff_title)
    in_staff = False
    for r, row in enumerate(grid):
        label = norm_header(row[0]) if row else ""
        value = row[1] if len(row) > 1 else None
        if in_staff:
            if clean(value):
                staff.append(clean(value))
            continue
        if staff_title and label == staff_title:
            in_staff = True
        elif label in by_label:
            info[by_label[label]] = _text_value(value)
            rows[by_label[label]] = r
    return info, rows, staff


def _text_value(value: Any) -> str:
    # number_text for a number read as a float; a date as its day ("2025-09-05"); any
    # other value cleaned (a float's text has nothing to clean).
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return clean(value)


def _lists(grid) -> dict[str, list[Any]]:
    if not grid:
        return {}
    out: dict[str, list[Any]] = {}
    columns = _columns(grid[1:], len(grid[0]))
    for c, name in enumerate(grid[0]):
        if isinstance(name, str) and name:
            out[name] = [v for v in columns[c] if v not in ("", None)]
    return out


def _columns(rows: list[list[Any]], width: int) -> list[list[Any]]:
    """The first ``width`` columns of ``rows``; a short row has nothing in its missing cells."""
    if all(len(row) == width for row in rows):  # calamine's grids are rectangular
        return [list(column) for column in zip(*rows)] if rows else [[] for _ in range(width)]
    return [[row[c] for row in rows if c < len(row)] for c in range(width)]


def _identity_copies(meta: PackageMeta, grids, info: dict[str, str], form: Form) -> dict[str, dict[str, str]]:
    copies: dict[str, dict[str, str]] = {}
    props = {k[len(ident.PROPERTY_PREFIX):]: ("" if v == "-" else v) for k, v in meta.custom.items()
             if k.startswith(ident.PROPERTY_PREFIX)}
    if props:
        copies["custom"] = props
    sheet = grids.get(ident.SHEET)
    if sheet:
        copies["sheet"] = {str(r[0]): _text_value(r[1]) for r in sheet[1:] if len(r) > 1 and r[0]}
    name = meta.defined_names.get(ident.DEFINED_NAME, "").strip().strip('=').strip('"')
    if name.count("|") == 2:
        t, f, s = name.split("|")
        copies["name"] = {"template_id": t, "file_id": f, "signature": s}
    visible = {k: v for k, v in info.items() if k in ("school_code", "school_name") and v}
    if visible:
        copies["info"] = visible
    return copies
