"""`collect --export DIR`: the collected rows and issues as CSV and Parquet for other tools.

Column names are stable English identifiers (documented in README.md).  CSV is UTF-8 with a
BOM so Excel opens Vietnamese correctly, and any cell starting with = + - @ is prefixed
with ' so that opening the CSV in a spreadsheet never runs a school's text as a formula.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from kcl_xlsx.base.memory import release_freed_memory
from kcl_xlsx.base.output import cannot_write, replace_keeping_backup, temporary_beside
from kcl_xlsx.summary.labels import label_columns
from kcl_xlsx.summary.fast_sheet import NonFiniteNumber
from kcl_xlsx.summary.tables import PLAN_COLUMNS, ROW_COLUMNS, RowsParts, SummaryData, Tables
from kcl_xlsx.summary.workbook import detail_for_people

EXPORTED_SCHOOLS = ["school_code", "school_name", "unit", "level", "status", "actions", "criteria",
                    "budget_min_mvnd", "budget_max_mvnd", "errors", "warnings", "source_file"]
RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would read these as a formula (one character each)


Shown = Callable[[pd.DataFrame], pd.DataFrame]  # a table's rows as exported, from its rows as held


TABLES = ("rows", "issues", "schools", "files")  # the export's tables, in the order they are written
# the tables the collected plans give as they are (rows, issues, files: Tables has them before
# any pivot); schools needs the pivots (what each school's plan holds)
COLLECTED_TABLES = ("rows", "issues", "files")


def frames(data: SummaryData | Tables, names: tuple[str, ...] = TABLES) -> dict[str, tuple[pd.DataFrame, Shown]]:
    """rows: ROW_COLUMNS (months as "YYYY-MM"); schools: every school with its submission
    status, what its plan holds and the roster's contact columns; issues (every severity,
    info included); files.  Codes stay codes; each coded column has its Vietnamese label in
    a ``<column>_label`` column after all the others (level_label, framework_label,
    section_label, severity_label, match_label, status_label).  Each table comes with the
    function that shows it so, applied a chunk at a time as it is written (a nation's 1.8
    million rows, shown whole, held five more columns of them: 130 MB at the summary's peak)."""
    out = {}
    for name in names:
        if name == "rows":
            out[name] = (data.detail, functools.partial(_shown_rows, form=data.form))
        elif name == "issues":
            out[name] = (data.issues, lambda df: label_columns(df, data.form))
        elif name == "schools":
            figures = data.by_school.rename(columns={"submission": "status"})
            schools = figures[EXPORTED_SCHOOLS].merge(
                data.schools[["school_code", *data.contact_headers]], on="school_code", how="left")
            out[name] = (schools, lambda df: label_columns(df, data.form))
        elif name == "files":
            out[name] = (data.files, lambda df: label_columns(df, data.form, file_status=True))
    return out


def _shown_rows(df: pd.DataFrame, form: str | None) -> pd.DataFrame:
    return label_columns(detail_for_people(df)[ROW_COLUMNS], form)


def export(data: SummaryData | Tables, out_dir: Path, names: tuple[str, ...] = TABLES) -> list[Path]:
    """Write the tables ``names`` (default all: rows/issues/schools/files) as .csv and
    .parquet; earlier exports are kept with a timestamp, never overwritten.  ``data``: the
    summary, or for COLLECTED_TABLES the collected tables it is made from."""
    written = []
    for name, (df, shown) in frames(data, names).items():
        stored = getattr(data, "rows_arrow", None) if name == "rows" else None
        written += _export_table(Path(out_dir), name,
                                 lambda csv, parquet: write_tables(df, csv, parquet, shown, stored))
    return written


def export_rows(parts: RowsParts, out_dir: Path, form: str | None, chunk_rows: int | None = None) -> list[Path]:
    """The rows table (rows.csv, rows.parquet) rebuilt a chunk at a time from its parts (see
    tables.RowsParts): the same bytes as :func:`export` writes from the frame, written by a
    process that does not hold the frame (summary/rows_export.py).  Raises StaleRows when
    the rows cache's file is not this run's."""
    def write(csv_path: Path, parquet_path: Path) -> None:
        chunks = _releasing(parts.chunks(chunk_rows or CHUNK_ROWS))
        first = next(chunks)  # reads and checks the rows cache's file before anything is written
        _write_chunks(itertools.chain([first], chunks), first[1].iloc[0:0], csv_path, parquet_path,
                      functools.partial(_shown_rows, form=form))

    return _export_table(Path(out_dir), "rows", write)


def _releasing(chunks: Iterable) -> Iterator:
    """The chunks, what each one freed given back to the system before the next is made:
    the export's process holds little else, and its allocators kept ~40 MB of freed chunks
    at 10,000 plans (244 -> 217 MB at its peak, measured)."""
    for chunk in chunks:
        yield chunk
        release_freed_memory()


def _export_table(out_dir: Path, name: str, writer: Callable[[Path, Path], None]) -> list[Path]:
    """``writer(csv, parquet)`` into temporaries, renamed to ``name``.csv and .parquet."""
    csv_path, parquet_path = out_dir / f"{name}.csv", out_dir / f"{name}.parquet"
    with temporary_beside(csv_path) as csv_tmp, temporary_beside(parquet_path) as parquet_tmp:
        writer(csv_tmp, parquet_tmp)
        _replace(csv_tmp, csv_path)
        _replace(parquet_tmp, parquet_path)
    release_freed_memory()  # the table's Arrow chunks (base/memory.py)
    return [csv_path, parquet_path]


def _replace(tmp: Path, path: Path) -> None:
    # Its own cannot_write: inside two temporaries, the inner one would name the wrong file.
    try:
        replace_keeping_backup(tmp, path)
    except OSError as exc:
        raise cannot_write(path, exc) from None


def _write(path: Path, writer) -> Path:
    """``writer(tmp)`` into a temporary file beside ``path``, then renamed; an earlier file
    is kept with a timestamp."""
    with temporary_beside(path) as tmp:
        writer(tmp)
        _replace(tmp, path)
    return path


CHUNK_ROWS = 20_000  # rows converted at a time: a province's 400,000 rows never sit in memory as text twice


def _texty(column: pd.Series) -> bool:
    # pandas >= 3 gives text its own "str" dtype, older versions "object": both hold school text
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)


def _chunks(df: pd.DataFrame):
    for start in range(0, max(len(df), 1), CHUNK_ROWS):
        yield start, df.iloc[start:start + CHUNK_ROWS]


# The rows' columns that the rows cache holds and that showing leaves as they are (shown()
# turns the months into text and adds the label columns after all the others).
FROM_STORED = tuple(c for c in PLAN_COLUMNS if c not in ("start_month", "end_month"))


def _schema(df: pd.DataFrame):
    """One schema for every chunk (a chunk whose text column is all blank would otherwise
    guess another type): text stays text, numbers stay numbers."""
    import pyarrow as pa

    fields = []
    for col in df.columns:
        dtype = df[col].dtype
        if _texty(df[col]):
            kind = pa.string()
        elif pd.api.types.is_bool_dtype(dtype):
            kind = pa.bool_()
        elif pd.api.types.is_integer_dtype(dtype):
            kind = pa.int64()
        elif pd.api.types.is_float_dtype(dtype):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(str(col), kind))
    return pa.schema(fields)


def _arrow(chunk: pd.DataFrame, schema, stored=None):
    """The chunk as an Arrow table, converted in C++; a text column holding something else
    than text (a number in Giá trị) is converted value by value.  ``stored``: the same rows
    as the rows cache stored them (see Tables.rows_arrow): its FROM_STORED columns are taken
    from there, decoded in C++, instead of being converted again from Python's strings
    (converting the text of 400,000 rows held Python's lock for ~0.5 s of the export, beside
    the workbook being written)."""
    import pyarrow as pa

    arrays = []
    for field in schema:
        if stored is not None and field.name in FROM_STORED and field.name in stored.column_names:
            arrays.append(stored.column(field.name).cast(field.type).combine_chunks())
            continue
        values = chunk[field.name]
        try:
            arrays.append(pa.array(values, type=field.type, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
                                    for v in values], type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _csv_safe(table):
    """Text starting with = + - @ (or a tab/CR) gets a leading ': a spreadsheet opening
    the CSV shows it as text instead of running it as a formula.  Most columns hold no such
    text: they are passed through as they are (see :func:`_starts_risky`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) and _starts_risky(column):
            starts = pa.array(RISKY_STARTS)  # single characters: compared with each text's first one
            risky = pc.is_in(pc.utf8_slice_codeunits(column, 0, 1), value_set=starts)  # a null is not risky
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)


_RISKY_BYTES = np.frombuffer("".join(RISKY_STARTS).encode("ascii"), dtype=np.uint8)


def _starts_risky(column) -> bool:
    """Whether any text of an Arrow string column starts with one of RISKY_STARTS, read from
    the column's own buffers: each text's first byte is the byte at its offset (the risky
    characters are ASCII: a first byte is one only when the first character is).  Two
    compute calls per column and chunk (a slice of every text, then a lookup) took 0.25 s
    of a 10,000-plan export, for columns that almost never hold such a text."""
    for chunk in column.chunks:
        validity, offsets, data = chunk.buffers()
        if not len(chunk) or data is None:
            continue
        ends = np.frombuffer(offsets, dtype=np.int32, count=len(chunk) + 1, offset=chunk.offset * 4)
        firsts = ends[:-1]
        keep = ends[1:] > firsts  # not empty
        if chunk.null_count:
            keep &= chunk.is_valid().to_numpy(zero_copy_only=False)
        if np.isin(np.frombuffer(data, dtype=np.uint8)[firsts[keep]], _RISKY_BYTES).any():
            return True
    return False


def write_tables(df: pd.DataFrame, csv_path: Path | None, parquet_path: Path | None,
                 shown: Shown | None = None, stored=None) -> None:
    """The frame as CSV and/or Parquet, in one pass of chunks (each converted to Arrow once);
    ``shown``: what each chunk is turned into before it is written (see :func:`frames`);
    ``stored``: the rows as the rows cache stored them, row for row (see :func:`_arrow`)."""
    if stored is not None and len(stored) != len(df):
        stored = None  # not the same rows: every column from the frame
    chunks = ((start, chunk, stored.slice(start, len(chunk)) if stored is not None else None)
              for start, chunk in _chunks(df))
    _write_chunks(chunks, df.iloc[0:0], csv_path, parquet_path, shown or _as_held)


def _write_chunks(chunks: Iterable[tuple[int, pd.DataFrame, Any]], empty: pd.DataFrame, csv_path: Path | None,
                  parquet_path: Path | None, shown: Shown) -> None:
    """Each (first row, frame, its stored text or None) as shown, converted to Arrow once,
    appended to the CSV and/or the Parquet file; ``empty``: the frame's columns, no row."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    schema = _schema(shown(empty))
    with contextlib.ExitStack() as stack:
        fh = stack.enter_context(open(csv_path, "wb")) if csv_path else None
        parquet = stack.enter_context(pq.ParquetWriter(str(parquet_path), schema)) if parquet_path else None
        if fh:
            fh.write(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
        for start, chunk, stored in chunks:
            _refuse_non_finite(chunk, csv_path or parquet_path, start)  # the numbers are the same shown or held
            table = _arrow(shown(chunk), schema, stored)
            if parquet:
                parquet.write_table(table)
            if fh:
                pcsv.write_csv(_csv_safe(table), fh, pcsv.WriteOptions(include_header=start == 0))


def _as_held(df: pd.DataFrame) -> pd.DataFrame:
    return df


def _refuse_non_finite(df: pd.DataFrame, path: Path | None, first: int = 0) -> None:
    """No CSV or Parquet of ours holds inf (a missing value, NaN, is written empty / null):
    the tables count only finite numbers (issue 14), so one here is a bug: stop."""
    import numpy as np

    for col in df.columns:
        if pd.api.types.is_float_dtype(df[col].dtype):
            values = df[col].to_numpy(dtype=float, na_value=np.nan)
            bad = np.isinf(values)
            if bad.any():
                n = int(bad.nonzero()[0][0])
                raise NonFiniteNumber(Path(path).stem if path else "export", f"{col}, dòng {first + n + 2}", values[n])


def write_csv(df: pd.DataFrame, path: Path) -> None:
    write_tables(df, path, None)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    write_tables(df, None, path)
