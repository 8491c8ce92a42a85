"""The summary's rows of every accepted plan, kept beside the ledger between collect runs.

A daily re-run at 10,000 plans spent most of its time turning each plan's stored columns
back into the 400,000-row table the pivots are computed from (decoding, interning, a Python
loop per plan): issue 15 measured 7.5 s of a 15.7 s re-run.  This file keeps that table's
per-plan part (the columns that come from the plan itself, not from its school or file
name) as one Arrow IPC file, text dictionary-encoded, one group of rows per plan keyed by
the plan's content hash.  A run reads it back in a few hundred milliseconds, keeps the
plans still accepted and builds only the new ones from their blocks.

The file is a cache, never a source of truth: it is written after the tables are built,
atomically; its metadata names a format and a key (the checks' options key and the form's
summary columns), and a file of another format or key, or one that cannot be read, is
ignored (with a warning line for a damaged one) and the table is built from the ledger.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from kcl_xlsx.base.output import OutputError, temporary_beside

FORMAT = 1
BATCH_ROWS = 20_000  # rows of a stored batch: the export's process reads the file a batch at a time
PLAN = "plan"  # the key column: the plan's sha256
_META = b"kcl-xlsx-summary-rows"


class RowsCache:
    """The cache of one collect run: ``stored()`` once, ``store(frame)`` when it changed.
    ``key``: what the rows depend on besides each plan's bytes; ``warnings``: the run's."""

    def __init__(self, ledger_path: Path, key: str, warnings: list[str]):
        self.path, self.key, self.warnings = cache_path(ledger_path), key, warnings
        self.table = None  # the stored rows as read (Arrow), reused by store()
        self.written = None  # the rows store() was given, as Arrow (text dictionary-encoded), in their order
        self.kinds: dict[str, str] = {}  # their columns' kinds (see _kind)
        self.on_disk = False  # whether the file holds them (a cache that cannot be written is skipped)

    def stored(self) -> pd.DataFrame | None:
        got = read(self.path, self.key, self.warnings)
        self.table = got[0] if got else None
        return got[1] if got else None

    def store(self, frame: pd.DataFrame, recipe: Recipe | None = None) -> None:
        """Write ``frame``.  With ``recipe`` (how ``frame`` was made from the stored rows),
        the stored rows are taken as they were read, still encoded: only the new plans'
        rows are encoded, where re-encoding all 400,000 rows of a district cost a daily
        re-run ~0.3 s."""
        if recipe is None or self.table is None:
            self.written, self.kinds, self.on_disk = save(self.path, self.key, frame)
            return
        import pyarrow as pa

        kinds = {name: _kind(frame[name]) for name in frame.columns}
        fresh = pa.Table.from_arrays([_arrow(recipe.fresh[name], kinds[name]) for name in frame.columns],
                                     names=list(frame.columns))
        table = pa.concat_tables([self.table.take(recipe.kept), fresh]).unify_dictionaries().combine_chunks()
        table = table.take(recipe.order)
        if recipe.mask is not None:
            table = table.filter(recipe.mask)
        self.on_disk = write(self.path, self.key, table, kinds)
        self.written, self.kinds = table, kinds


@dataclasses.dataclass
class Recipe:
    """How the run's rows table was made: the stored rows at positions ``kept``, then
    ``fresh`` (the new plans' rows), put in the order ``order`` (positions in that
    concatenation); the rows where ``mask`` is False are not to be stored."""

    kept: np.ndarray
    fresh: pd.DataFrame
    order: np.ndarray
    mask: np.ndarray | None = None


def cache_path(ledger_path: Path) -> Path:
    ledger_path = Path(ledger_path)
    return ledger_path.with_name(ledger_path.name + ".summary-rows.arrow")


def load(path: Path, key: str, warnings: list[str]) -> pd.DataFrame | None:
    """The stored rows (column PLAN first, then the plan columns as the summary builds them:
    text as object, numbers as float64/int64/Int64), or None when there is no usable file.
    A file that exists but cannot be read adds a line to ``warnings``."""
    got = read(path, key, warnings)
    return got[1] if got else None


def read(path: Path, key: str, warnings: list[str]) -> tuple[Any, pd.DataFrame] | None:
    """The stored rows as read (an Arrow table) and as :func:`load` gives them, or None."""
    if not path.is_file():
        return None
    try:
        got = read_table(path, key)
        if got is None:
            return None
        table, kinds = got
        frame = pd.DataFrame({name: column_values(table.column(name), kinds[name]) for name in table.column_names})
        return table, frame
    except unreadable() as exc:
        warnings.append(f"{path}: bộ đệm các dòng tổng hợp bị hỏng ({type(exc).__name__}), đã dựng lại từ sổ theo dõi "
                        "/ summary rows cache damaged, rebuilt from the ledger")
        return None


def unreadable() -> tuple[type[BaseException], ...]:
    """What reading a damaged file raises."""
    import pyarrow as pa

    return OSError, ValueError, KeyError, TypeError, pa.ArrowException


def read_table(path: Path, key: str) -> tuple[Any, dict[str, str]] | None:
    """The stored rows as an Arrow table (memory-mapped: a page is read when it is used) and
    their columns' kinds; None for a file written for other checks, form or format.  A
    file that cannot be read raises one of :func:`unreadable`."""
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    kinds = _kinds(table.schema, key)
    return None if kinds is None else (table.replace_schema_metadata(None), kinds)


def read_batches(path: Path, key: str) -> tuple[Any, dict[str, str], Iterator[Any]] | None:
    """The stored rows a batch of BATCH_ROWS at a time, read when asked (never the whole
    file in memory, as a memory map would come to hold: a nation's file is ~170 MB): the
    schema, the columns' kinds and the batches; None as for :func:`read_table`."""
    import pyarrow as pa

    source = pa.OSFile(str(path))
    try:
        reader = pa.ipc.open_file(source)
        kinds = _kinds(reader.schema, key)
    except BaseException:
        source.close()
        raise
    if kinds is None:
        source.close()
        return None

    def batches():
        with source:
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i).replace_schema_metadata(None)

    return reader.schema.remove_metadata(), kinds, batches()


def _kinds(schema, key: str) -> dict[str, str] | None:
    meta = json.loads((schema.metadata or {}).get(_META, b"{}"))
    if meta.get("format") != FORMAT or meta.get("key") != key:
        return None  # written for other checks, form or format: not this run's rows
    kinds = meta["kinds"]
    if set(kinds) != set(schema.names):
        raise KeyError("kinds")
    return kinds


def save(path: Path, key: str, frame: pd.DataFrame) -> tuple[Any, dict[str, str], bool]:
    """Write ``frame`` (PLAN + plan columns) atomically; returns it as written (Arrow), its
    columns' kinds and whether the file now holds it.  A cache that cannot be written costs
    the next run time, never this run's outputs: an OSError is ignored."""
    import pyarrow as pa

    kinds = {name: _kind(frame[name]) for name in frame.columns}
    table = pa.Table.from_arrays([_arrow(frame[name], kinds[name]) for name in frame.columns],
                                 names=list(frame.columns))
    return table, kinds, write(path, key, table, kinds)


def write(path: Path, key: str, table, kinds: dict[str, str]) -> bool:
    """Whether the file was written."""
    import pyarrow as pa

    meta = {_META: json.dumps({"format": FORMAT, "key": key, "kinds": kinds}).encode()}
    table = table.replace_schema_metadata(meta)
    try:
        with temporary_beside(path) as tmp:
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table, max_chunksize=BATCH_ROWS)
            os.replace(tmp, path)
    except (OSError, OutputError):  # a full disk, a read-only folder: the cache is optional
        return False
    return True


def _kind(series: pd.Series) -> str:
    if isinstance(series.dtype, pd.Int64Dtype):
        return "Int64"
    if pd.api.types.is_float_dtype(series.dtype):
        return "float64"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "int64"
    return "text"


def _arrow(series: pd.Series, kind: str):
    """Text dictionary-encoded: a few hundred distinct labels among 400,000 cells."""
    import pyarrow as pa

    if kind == "text":  # encoded from pandas' codes: the 1.8 million texts of a nation are never copied
        codes, labels = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
        return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32(), mask=codes < 0),
                                              pa.array(list(labels), type=pa.string()))
    if kind == "Int64":
        return pa.array(series.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True).cast(pa.int64())
    return pa.array(series.to_numpy())


def column_values(chunked, kind: str) -> pd.Series:
    """A stored column back as the summary builds it; text as object arrays whose values
    are shared (one str per distinct label), as the blocks' interned labels are."""
    import pyarrow as pa

    if kind == "text":
        if chunked.num_chunks == 0:
            return pd.Series([], dtype=object)
        combined = pa.chunked_array([c.cast(pa.dictionary(pa.int32(), pa.string())) for c in chunked.chunks])
        combined = combined.unify_dictionaries().combine_chunks()
        labels = np.array(combined.dictionary.to_pylist() + [None], dtype=object)
        codes = combined.indices.fill_null(len(labels) - 1).to_numpy(zero_copy_only=False)
        return pd.Series(labels[codes], dtype=object)
    array = chunked.combine_chunks()
    if kind == "Int64":
        mask = array.is_null().to_numpy(zero_copy_only=False)
        values = array.fill_null(0).to_numpy(zero_copy_only=False).astype("int64")
        return pd.Series(pd.arrays.IntegerArray(values, mask))
    return pd.Series(array.to_numpy(zero_copy_only=False), dtype=kind)
