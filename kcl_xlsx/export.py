"""`collect --export DIR`: the collected rows and issues as CSV and Parquet for other tools.

Column names are stable English identifiers (documented in README.md).  CSV is UTF-8 with a
BOM so Excel opens Vietnamese correctly, and any cell starting with = + - @ is prefixed
with ' so that opening the CSV in a spreadsheet never runs a school's text as a formula.
"""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from .output import write_keeping_backup
from .summary_data import SummaryData

EXPORTED_DETAIL = ["school_code", "school_name", "unit", "level", "framework", "year", "section", "standard",
                   "criterion", "criterion_name", "target", "actions", "lead", "collaborators", "start", "end",
                   "budget_min_mvnd", "budget_max_mvnd", "funding_source", "status", "progress", "source_file",
                   "source_sheet", "source_row"]
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def frames(data: SummaryData) -> dict[str, pd.DataFrame]:
    return {"rows": data.detail[EXPORTED_DETAIL], "issues": data.issues, "schools": data.by_school,
            "files": data.files}


def export(data: SummaryData, out_dir: Path) -> list[Path]:
    """Write rows/issues/schools/files as .csv and .parquet; earlier exports are kept with a
    timestamp, never overwritten."""
    out_dir = Path(out_dir)
    written = []
    for name, df in frames(data).items():
        written.append(_write(out_dir / f"{name}.csv", csv_bytes(df)))
        written.append(_write(out_dir / f"{name}.parquet", parquet_bytes(df)))
    return written


def _write(path: Path, data: bytes) -> Path:
    write_keeping_backup(path, data)
    return path


def csv_bytes(df: pd.DataFrame) -> bytes:
    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == object:
            safe[col] = safe[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_RISKY) else v)
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    clean = df.copy()
    for col in clean.columns:  # mixed object columns (text and numbers) become text
        if clean[col].dtype == object:
            clean[col] = clean[col].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    clean.to_parquet(buf, index=False)
    return buf.getvalue()
