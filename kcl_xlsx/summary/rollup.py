"""Roll-up: several offices' summaries (or their exports) become one summary, grouped by unit.

Each input is read back into the :class:`~kcl_xlsx.summary.tables.Tables` its office's summary
was computed from: an export folder (``rows``, ``schools``, ``issues``, ``files`` as
.parquet, else .csv) or a summary workbook written by ``collect`` (its Chi tiết, Theo
trường, Chưa nộp, Lỗi, Tệp and Thay đổi sheets).  The tables are concatenated and go
through the same :func:`~kcl_xlsx.summary.tables.summarise` as one office's run, so a
province's workbook has the same sheets, with Theo đơn vị comparing the offices.

Every input is only read.  A school found in two inputs is counted once (the first input
named) and the other is reported on the Lỗi sheet; inputs of different school years are
refused, since adding them up would mean nothing.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from workbook_templates.choices import load_choices
from workbook_templates.errors import SpecError
from workbook_templates.form import load_form

from kcl_xlsx.base.memory import release_freed_memory
from kcl_xlsx.base.text import number_text
from kcl_xlsx.summary.export import RISKY_STARTS
from kcl_xlsx.intake.preflight import Bounds, preflight
from kcl_xlsx.summary.tables import (CHANGE_COLUMNS, FILE_COLUMNS, ISSUE_COLUMNS, ROW_COLUMNS, SCHOOL_COLUMNS, Tables,
                           parse_month_text, progress_column, summarise)
from kcl_xlsx.summary.outputs import write_outputs
from kcl_xlsx.summary.pdf import require_libreoffice, write_pdf
from kcl_xlsx.spec.issues import Code, Issue
from kcl_xlsx.summary.columns import KEEP, per_distinct
from kcl_xlsx.summary.labels import codes_of
from kcl_xlsx.summary.workbook import (EARLIER_HEADERS, HEADERS, S_CHANGES, S_DETAIL, S_FILES, S_ISSUES, S_MISSING,
                                       S_OVERVIEW, S_SCHOOL, TOTAL_LABELS, _h)


# A summary is not a school's plan: up to 100,000 rows on Chi tiết (past that the rows are in
# the export), a column per funding source; still bounded, against a damaged or hostile file.
SUMMARY_BOUNDS = Bounds(max_file_bytes=512 * 2**20, max_parts=2000, max_part_uncompressed=2**31,
                        max_total_uncompressed=2**32, max_ratio=1000, max_row=1_048_576, max_col=2000)
NUMBER_COLUMNS = ("budget_min_mvnd", "budget_max_mvnd")
INT_COLUMNS = ("source_row", "errors", "warnings")
_OVERVIEW_YEAR = "Năm học"
_OVERVIEW_EXPECTED = "Số trường phải nộp"


@dataclasses.dataclass
class Office:
    """One input, read back."""

    label: str  # how the province's summary names it (its unit when the data has none)
    tables: Tables


@dataclasses.dataclass
class RollupResult:
    offices: list[Office]
    tables: Tables
    out: Path | None = None
    backup: Path | None = None
    exported: list[Path] = dataclasses.field(default_factory=list)
    pdf: Path | None = None
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per stage, for benchmarks


def rollup(inputs: list[Path], out: Path | None, *, export: Path | None = None, as_of: dt.date | None = None,
           choices: str | None = None, show_info: bool = False, pdf: bool = False) -> RollupResult:
    """Read every input, add them up and write the summary ``out`` (and the export, and
    with ``pdf`` the summary printed by LibreOffice); ``show_info`` lists info-level issues
    on its Lỗi sheet too."""
    if pdf and out is not None:
        require_libreoffice(Path(out).with_suffix(".pdf"))
    if not inputs:
        raise SpecError("rollup", "cần ít nhất một tệp tổng hợp hoặc thư mục xuất dữ liệu",
                        "give at least one summary workbook or export folder")
    t = time.perf_counter()
    paths = [Path(p) for p in inputs]
    offices = [Office(label, read_input(p)) for p, label in zip(paths, _labels(paths))]
    timings = {"read": time.perf_counter() - t}
    tables = combine(offices, as_of or dt.date.today(), choices)
    release_freed_memory()  # the offices' rows, now concatenated (see base/memory.py)
    tables.sources = tuple((f"Đầu vào {n}" if len(paths) > 1 else "Đầu vào", str(p)) for n, p in enumerate(paths, 1))
    tables.show_info = show_info
    res = RollupResult(offices, tables, out, timings=timings)
    timings["combine"] = time.perf_counter() - t - timings["read"]
    t = time.perf_counter()
    data = summarise(tables)
    release_freed_memory()
    timings["pivots"] = time.perf_counter() - t
    written = write_outputs(data, Path(out) if out is not None else None, Path(export) if export is not None else None)
    res.backup, res.exported = written.backup, written.exported
    timings.update(written.seconds)
    if pdf and out is not None:
        res.pdf = write_pdf(Path(out))
    return res


def _labels(paths: list[Path]) -> list[str]:
    """Short names (file or folder name); the path as given when two would be the same."""
    names = [p.name if p.is_dir() else p.stem for p in paths]
    return [n if names.count(n) == 1 else str(p) for n, p in zip(names, paths)]


# --------------------------------------------------------------------------- reading inputs


def read_input(path: Path) -> Tables:
    if path.is_dir():
        return read_export(path)
    if path.is_file():
        return read_workbook(path)
    raise SpecError(path, "không có tệp hoặc thư mục này", "no such file or folder")


def read_export(folder: Path) -> Tables:
    """An export folder written by ``collect --export`` (or by a roll-up)."""
    def table(name: str, required: bool) -> pd.DataFrame | None:
        for suffix, reader in ((".parquet", pd.read_parquet), (".csv", _read_csv)):
            p = folder / f"{name}{suffix}"
            if p.is_file():
                try:
                    found = reader(p)
                    found.attrs["source"] = p
                    return found
                except Exception as exc:  # a damaged or foreign file: name it, one line
                    raise SpecError(p, f"không đọc được ({type(exc).__name__})", "cannot be read") from None
        if required:
            raise SpecError(folder, f"không phải thư mục xuất dữ liệu của kcl-xlsx (thiếu {name}.parquet/.csv)",
                            f"not a kcl-xlsx export folder (no {name}.parquet/.csv)")
        return None

    rows, schools = table("rows", True), table("schools", True)
    issues, files = table("issues", False), table("files", False)
    _require(rows, ROW_COLUMNS, rows.attrs["source"])
    _require(schools, SCHOOL_COLUMNS, schools.attrs["source"])
    contact = tuple(c for c in schools.columns if c not in SCHOOL_COLUMNS and c not in _SCHOOL_FIGURES)
    return Tables(_typed(rows, ROW_COLUMNS), _typed(schools, SCHOOL_COLUMNS + list(contact)),
                  _typed(issues, ISSUE_COLUMNS), _typed(files, FILE_COLUMNS), _empty(CHANGE_COLUMNS),
                  year=_one_year(rows), expected=len(schools), contact_headers=contact)


_SCHOOL_FIGURES = ("actions", "criteria", "budget_min_mvnd", "budget_max_mvnd", "level_label")  # not contacts


def _read_csv(p: Path) -> pd.DataFrame:
    df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    # undo the export's protection of formula-like text ('=...): the roll-up writes text as text
    return df.map(lambda v: v[1:] if isinstance(v, str) and v.startswith("'") and v[1:].startswith(RISKY_STARTS) else v)


def read_workbook(path: Path) -> Tables:
    """A summary workbook written by ``collect`` (or by a roll-up)."""
    from python_calamine import CalamineWorkbook

    pf = preflight(path, SUMMARY_BOUNDS)
    if not pf.ok or pf.kind not in ("xlsx", "xlsm"):
        first = next((i.message for i in pf.issues), "không phải tệp .xlsx")
        raise SpecError(path, f"không dùng được làm đầu vào: {first}", "not a usable summary workbook")
    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names
                  if name in (S_OVERVIEW, S_SCHOOL, S_MISSING, S_ISSUES, S_FILES, S_CHANGES)
                  or name.startswith(S_DETAIL)}
    except Exception as exc:  # calamine's errors are plain exceptions
        raise SpecError(path, f"không đọc được ({type(exc).__name__})", "cannot be read") from None
    for needed in (S_OVERVIEW, S_SCHOOL, S_DETAIL):
        if needed not in sheets:
            raise SpecError(path, f"không phải bảng tổng hợp của kcl-xlsx (thiếu trang '{needed}')",
                            f"not a kcl-xlsx summary (no sheet '{needed}')")
    overview = {str(r[0]): r[1] for r in sheets[S_OVERVIEW] if len(r) > 1 and r[0]}
    detail_names = sorted((n for n in sheets if n.startswith(S_DETAIL)), key=_sheet_order)
    parts = [_sheet_table(sheets[n], detail_header_names(), path, n) for n in detail_names]
    if any(p is None for p in parts):
        raise SpecError(path, "trang Chi tiết không chứa các dòng (quá nhiều dòng); dùng thư mục xuất dữ liệu "
                              "của đơn vị này", "the detail rows are only in the export folder: use that instead")
    rows = codes_of(pd.concat(parts, ignore_index=True))  # labels (this version) or codes (earlier ones)
    _require(rows, [c for c in ROW_COLUMNS if c not in ("start_month", "end_month")], path, S_DETAIL)
    school_names = {_h(c): c for c in ("school_code", "school_name", "unit", "level", "errors", "warnings",
                                        "source_file")}
    school_names[HEADERS["submission"]] = "status"
    school_names.update({h: c for h, c in EARLIER_HEADERS.items() if c in school_names.values()})
    schools = _sheet_table(sheets[S_SCHOOL], school_names, path, S_SCHOOL, totals=True)
    if schools is not None:
        schools = codes_of(schools)
    _require(schools, SCHOOL_COLUMNS, path, S_SCHOOL)
    schools, contact = _with_contacts(schools[SCHOOL_COLUMNS], sheets.get(S_MISSING))
    expected = overview.get(_OVERVIEW_EXPECTED)
    return Tables(_typed(rows, ROW_COLUMNS, f"{path}!{S_DETAIL}"), _typed(schools, SCHOOL_COLUMNS + list(contact)),
                  _typed(_optional(sheets, S_ISSUES, ISSUE_COLUMNS, path), ISSUE_COLUMNS),
                  _typed(_optional(sheets, S_FILES, FILE_COLUMNS, path), FILE_COLUMNS),
                  _typed(_optional(sheets, S_CHANGES, CHANGE_COLUMNS, path), CHANGE_COLUMNS),
                  year=str(overview.get(_OVERVIEW_YEAR) or _one_year(rows)),
                  expected=int(expected) if isinstance(expected, (int, float)) else len(schools),
                  contact_headers=contact)


# Headers of Chi tiết written by versions before the action columns were headed as the
# form's fields: their summaries are still read.
_EARLIER_DETAIL_HEADERS = {"Kết thúc": "end", "Tình trạng": "status"}


def detail_header_names() -> dict[str, str]:
    """Chi tiết's header text -> our column name, for summaries of this and earlier versions."""
    names = {HEADERS.get(c, c): c for c in ROW_COLUMNS}
    names.update({label: column for column, label in load_form().column_labels().items()})
    return {**_EARLIER_DETAIL_HEADERS, **names}


def _sheet_order(name: str) -> int:
    """Chi tiết, Chi tiết (2), Chi tiết (3)..."""
    tail = name[len(S_DETAIL):].strip(" ()")
    return int(tail) if tail.isdigit() else 1


def _sheet_table(grid: list[list[Any]], names: dict[str, str], path: Path, sheet: str,
                 totals: bool = False) -> pd.DataFrame | None:
    """A sheet's table (header row first) with our column names; None when the first row
    is not a header we know (e.g. Chi tiết's note that the rows are in the export)."""
    if not grid or not any(isinstance(h, str) and h in names for h in grid[0]):
        return None
    head = [names.get(h, str(h)) if isinstance(h, str) else str(h) for h in grid[0]]
    body = [r for r in grid[1:] if not (totals and r and r[0] in TOTAL_LABELS)]
    return pd.DataFrame([list(r) + [""] * (len(head) - len(r)) for r in body], columns=head)


def _optional(sheets: dict, name: str, columns: list[str], path: Path) -> pd.DataFrame:
    names = {_h(c): c for c in columns}
    names.update({h: c for h, c in EARLIER_HEADERS.items() if c in columns})
    table = _sheet_table(sheets.get(name) or [], names, path, name)
    return codes_of(table, file_status=name == S_FILES) if table is not None else _empty(columns)


def _with_contacts(schools: pd.DataFrame, missing: list[list[Any]] | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The roster's contact columns, from the Chưa nộp sheet (after its status column)."""
    if not missing or HEADERS["status"] not in missing[0]:
        return schools, ()
    head = [str(h) for h in missing[0]]
    contact = tuple(head[head.index(HEADERS["status"]) + 1:])
    if not contact:
        return schools, ()
    table = pd.DataFrame([list(r) + [""] * (len(head) - len(r)) for r in missing[1:]], columns=head)
    table = table.rename(columns={_h("school_code"): "school_code"})[["school_code", *contact]]
    table["school_code"] = table["school_code"].astype(str)
    merged = schools.assign(school_code=schools["school_code"].astype(str)).merge(table, on="school_code", how="left")
    return merged.fillna({c: "" for c in contact}), contact


def _require(df: pd.DataFrame, columns: list[str], source: Path, sheet: str = "") -> None:
    lacking = [c for c in columns if c not in df.columns]
    if lacking:
        where = f"{source}!{sheet}" if sheet else str(source)
        shown = ", ".join(lacking[:5]) + (f"... ({len(lacking)} cột)" if len(lacking) > 5 else "")
        raise SpecError(where, f"thiếu cột {shown}; không phải bảng do phiên bản kcl-xlsx này tạo ra "
                               "(chạy lại kcl-xlsx collect cho đơn vị đó)",
                        "missing columns: not written by this kcl-xlsx version (run collect again)")


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _typed(df: pd.DataFrame | None, columns: list[str], source: Any = "") -> pd.DataFrame:
    """The columns as the summary expects them: numbers as numbers, months as ordinals,
    text as text (a CSV gives every cell as text, calamine gives 6 as 6.0).  A budget that
    is not a finite number ("inf", "nan", "1e400": no summary or export of kcl-xlsx holds
    one) makes the input unusable, named in one line: it would poison every total."""
    if df is None:
        return _empty(columns)
    df = df.reindex(columns=columns, fill_value="")
    for col in columns:
        if col in NUMBER_COLUMNS:
            df[col] = _finite(df[col], col, source or df.attrs.get("source", ""))
        elif col in INT_COLUMNS:
            df[col] = pd.to_numeric(df[col].replace("", 0), errors="coerce").fillna(0).astype(int)
        elif col in ("start_month", "end_month"):
            df[col] = pd.array(per_distinct(df[col], parse_month_text), dtype="Int64")
        else:  # once per distinct value: 1.8 million cells of a national roll-up hold a few thousand
            df[col] = pd.Series(per_distinct(df[col], _text, ""), index=df.index, dtype=object)
    return df.reset_index(drop=True)


def _finite(values: pd.Series, col: str, source: Any) -> pd.Series:
    numbers = pd.to_numeric(values.replace("", 0), errors="coerce")
    bad = numbers.isin([np.inf, -np.inf]).to_numpy().copy()  # writable: the written NaNs are added below
    for n in numbers.isna().to_numpy().nonzero()[0]:  # only these can be a written NaN: the rest are numbers
        v = values.iloc[n]
        bad[n] = isinstance(v, float) or str(v).strip().casefold() in _NAN_TEXT
    if bad.any():
        n = int(bad.nonzero()[0][0])
        raise SpecError(source or "rollup", f"dòng {n + 2}, cột {col}: giá trị '{values.iloc[n]}' không phải số hữu hạn; "
                                            "không cộng được (chạy lại kcl-xlsx collect cho đơn vị đó)",
                        f"row {n + 2}, column {col}: not a finite number")
    return numbers.fillna(0.0).astype(float)


_NAN_TEXT = frozenset({"nan", "-nan", "+nan", "nan(ind)", "-nan(ind)"})


def _text(v: Any) -> str:
    # number_text (a school code such as 1001 read back as a number), and a blank read
    # back as None or NaN as "".
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return number_text(v)


def _one_year(rows: pd.DataFrame) -> str:
    years = sorted({y for y in rows.get("year", pd.Series(dtype=object)).astype(str) if y})
    return ", ".join(years)


# --------------------------------------------------------------------------- combining


def combine(offices: list[Office], as_of: dt.date, choices: str | None = None) -> Tables:
    years = {o.label: o.tables.year for o in offices if o.tables.year}
    if len(set(years.values())) > 1:
        shown = "; ".join(f"{label}: {year}" for label, year in years.items())
        raise SpecError("rollup", f"các đầu vào thuộc các năm học khác nhau ({shown})",
                        "the inputs are of different school years")
    seen: dict[str, str] = {}  # school code -> the office that counts it
    rows, schools, issues, files, changes = [], [], [], [], []
    duplicates = []
    for o in offices:
        t = o.tables
        mine = t.schools[~t.schools["school_code"].isin(seen)]
        for code in t.schools.loc[t.schools["school_code"].isin(seen), "school_code"]:
            duplicates.append(Issue.make(Code.ROLLUP_DUPLICATE_SCHOOL, value=code, first=seen[code], other=o.label))
        seen.update({code: o.label for code in mine["school_code"]})
        kept = set(mine["school_code"])
        prefix = _prefixer(o.label)
        mine_rows = t.rows if len(kept) == t.schools["school_code"].nunique() else t.rows[t.rows["school_code"].isin(kept)]
        rows.append(_unit_or(mine_rows, o.label).assign(source_file=lambda d: prefix(d["source_file"])))
        t.rows = t.rows.iloc[0:0].copy()  # (a copy: an empty view would keep them) the office's rows live on in ``rows`` only: one copy of a nation's at a time
        del mine_rows
        schools.append(_unit_or(mine, o.label).assign(source_file=lambda d: prefix(d["source_file"])))
        issues.append(t.issues.assign(file=prefix(t.issues["file"])))
        files.append(t.files.assign(file=prefix(t.files["file"])))
        changes.append(t.changes.assign(file=prefix(t.changes["file"]), previous=prefix(t.changes["previous"])))
    contact = tuple(dict.fromkeys(c for o in offices for c in o.tables.contact_headers))
    issue_rows = pd.DataFrame.from_records(
        [("", i.value, i.severity.value, i.code, "", "", i.value, i.message, i.hint, "") for i in duplicates],
        columns=ISSUE_COLUMNS)
    all_rows = _concat(rows, ROW_COLUMNS, consume=True)
    all_rows["progress"] = progress_column(all_rows["status"], all_rows["end_month"], as_of, load_choices(choices))
    expected = sum(o.tables.expected or 0 for o in offices) - len(duplicates)
    return Tables(all_rows, _concat(schools, SCHOOL_COLUMNS + list(contact)).fillna({c: "" for c in contact}),
                  _concat(issues + [issue_rows], ISSUE_COLUMNS), _concat(files, FILE_COLUMNS),
                  _concat(changes, CHANGE_COLUMNS), year=next(iter(years.values()), ""), expected=expected,
                  contact_headers=contact, choices=choices,
                  extra_overview=(("Số đơn vị được tổng hợp", len(offices)),), as_of=as_of)


def _prefixer(label: str) -> Callable[[pd.Series], pd.Series]:
    """File names as the province's summary shows them: under the office's label."""
    return lambda names: pd.Series(per_distinct(names, lambda name: f"{label}/{name}" if name else name, KEEP),
                                   index=names.index, dtype=object)


def _unit_or(df: pd.DataFrame, label: str) -> pd.DataFrame:
    """A school without a unit belongs to the office whose summary listed it."""
    return df.assign(unit=pd.Series(per_distinct(df["unit"], lambda u: u or label, label), index=df.index,
                                    dtype=object))


def _concat(frames: list[pd.DataFrame], columns: list[str], consume: bool = False) -> pd.DataFrame:
    """The frames one after the other.  ``consume``: the frames are taken out of the list
    (the caller keeps no other reference) and copied column by column, each piece dropped
    once copied, so that a national roll-up's 1.8 million rows are held once and a column,
    not twice.  A frame's columns share one 2-D block, freed only with its last column:
    each frame is first split into columns of its own (one frame's worth extra at a time)."""
    live = [f for f in frames if len(f)]
    if not live:
        return _empty(columns).astype({c: t for c, t in (("budget_min_mvnd", float), ("budget_max_mvnd", float))
                                       if c in columns})
    if not consume or any(c not in f.columns for f in live for c in columns):
        return pd.concat([f.reindex(columns=columns) for f in live], ignore_index=True)
    del live
    pieces = []
    while frames:
        f = frames.pop(0)
        if len(f):
            pieces.append({c: (f[c].array.copy(), f[c].dtype) for c in columns})
        del f
        release_freed_memory()  # base/memory.py
    out = {}
    for c in columns:
        # dtype given: pandas would read an object column of text as its own string type (a copy)
        out[c] = pd.concat([pd.Series(*_as_array(p.pop(c))) for p in pieces], ignore_index=True)
        release_freed_memory()
    return pd.DataFrame(out, copy=False)  # no second copy of the rows


def _as_array(piece: tuple) -> tuple:
    array, dtype = piece
    return (array.to_numpy() if dtype == object else array), None, dtype
