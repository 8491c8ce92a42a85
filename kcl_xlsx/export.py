"""`collect --export DIR`: the collected rows and issues as CSV and Parquet for other tools.

Column names are stable English identifiers (documented in README.md).  CSV is UTF-8 with a
BOM so Excel opens Vietnamese correctly, and any cell starting with = + - @ is prefixed
with ' so that opening the CSV in a spreadsheet never runs a school's text as a formula.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from .output import OutputError, replace_keeping_backup
from .summary_data import ROW_COLUMNS, SummaryData
from .summary_write import detail_for_people

EXPORTED_SCHOOLS = ["school_code", "school_name", "unit", "level", "status", "actions", "criteria",
                    "budget_min_mvnd", "budget_max_mvnd", "errors", "warnings", "source_file"]
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def frames(data: SummaryData) -> dict[str, pd.DataFrame]:
    """rows: ROW_COLUMNS (months as "YYYY-MM"); schools: every school with its submission
    status, what its plan holds and the roster's contact columns; issues; files."""
    figures = data.by_school.rename(columns={"submission": "status"})
    schools = figures[EXPORTED_SCHOOLS].merge(
        data.schools[["school_code", *data.contact_headers]], on="school_code", how="left")
    return {"rows": detail_for_people(data.detail)[ROW_COLUMNS], "issues": data.issues, "schools": schools,
            "files": data.files}


def export(data: SummaryData, out_dir: Path) -> list[Path]:
    """Write rows/issues/schools/files as .csv and .parquet; earlier exports are kept with a
    timestamp, never overwritten."""
    out_dir = Path(out_dir)
    written = []
    for name, df in frames(data).items():
        written.append(_write(out_dir / f"{name}.csv", lambda tmp, df=df: write_csv(df, tmp)))
        written.append(_write(out_dir / f"{name}.parquet", lambda tmp, df=df: write_parquet(df, tmp)))
    return written


def _write(path: Path, writer) -> Path:
    """Stream into a temporary file beside ``path`` (a province's rows do not fit in memory
    twice), then rename; an earlier file is kept with a timestamp."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".kcl-", suffix=path.suffix, dir=path.parent)
        os.close(fd)
        writer(Path(tmp))
        replace_keeping_backup(Path(tmp), path)
    except OSError as exc:
        raise OutputError(f"{path}: không ghi được ({exc.strerror}) / cannot write") from None
    finally:
        if "tmp" in locals() and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _texty(column: pd.Series) -> bool:
    # pandas >= 3 gives text its own "str" dtype, older versions "object": both hold school text
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    safe = df.copy()
    for col in safe.columns:
        if _texty(safe[col]):
            safe[col] = safe[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_RISKY) else v)
    return safe


def write_csv(df: pd.DataFrame, path: Path) -> None:
    _csv_safe(df).to_csv(path, index=False, lineterminator="\r\n", encoding="utf-8-sig")


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    clean = df.copy()
    for col in clean.columns:  # mixed object columns (text and numbers) become text
        if _texty(clean[col]):
            clean[col] = clean[col].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    return clean


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    _parquet_safe(df).to_parquet(path, index=False)
