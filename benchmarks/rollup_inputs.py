"""The national roll-up's inputs, made without collecting 45,000 plans 34 times: one real
export folder (written by ``collect --export``) is replicated into ``provinces`` province
exports, each school given a new code (``P07-000123``) and its province as its unit, until
the exports hold ``schools`` schools in all.  Written by the export writer itself
(:func:`kcl_xlsx.summary.export.write_tables`, Parquet: what the roll-up reads first)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from kcl_xlsx.summary.export import write_tables

TABLES = ("rows", "schools", "issues", "files")


def make_province_exports(seed: Path, dest: Path, provinces: int = 34, schools: int = 45_000) -> list[Path]:
    frames = {name: pd.read_parquet(seed / f"{name}.parquet") for name in TABLES}
    codes = list(frames["schools"]["school_code"])
    folders = []
    start = 0
    for p in range(provinces):
        n = schools // provinces + (1 if p < schools % provinces else 0)
        picked = [codes[(start + k) % len(codes)] for k in range(n)]
        start += n
        new = {old: f"P{p:02d}-{(start - n + k):06d}" for k, old in enumerate(picked)}
        folder = dest / f"tinh-{p:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, df in frames.items():
            part = df[df["school_code"].isin(new)].copy() if len(df) else df.copy()
            if name == "schools" and len(part) < n:  # a seed smaller than a province: schools repeat
                part = pd.concat([df[df["school_code"] == old] for old in picked], ignore_index=True)
            part["school_code"] = part["school_code"].map(new).fillna(part["school_code"])
            if "unit" in part.columns:
                part["unit"] = f"Sở GD&ĐT tỉnh {p:02d}"
            write_tables(part.reset_index(drop=True), None, folder / f"{name}.parquet")
        folders.append(folder)
    return folders
