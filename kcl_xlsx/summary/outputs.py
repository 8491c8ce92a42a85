"""The summary's two outputs, the workbook and the export folder, for `collect` and `rollup`.

Each is written atomically by its own writer (:mod:`summary_write`, :mod:`export`).  They
are written one after the other: running the export in a thread beside the workbook was
measured at 10,000 plans and saved 0.3 s of 4.1 s (7 %), too little for a second thread
reading the same frames.
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from kcl_xlsx.base.memory import release_freed_memory
from kcl_xlsx.collect.result import CollectResult
from workbook_templates.form import load_form

from kcl_xlsx.summary.rows_cache import RowsCache
from kcl_xlsx.summary.tables import SummaryData, summarise, tables_from_collect
from kcl_xlsx.summary import workbook
from kcl_xlsx.summary.workbook import DETAIL_LIMIT


@dataclasses.dataclass
class Written:
    backup: Path | None = None  # the earlier summary, renamed (see output.replace_keeping_backup)
    exported: list[Path] = dataclasses.field(default_factory=list)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # "workbook", "export": for benchmarks


def write_outputs(data: SummaryData, out: Path | None, export: Path | None, *, detail_limit: int = DETAIL_LIMIT,
                  detail_note: str = "") -> Written:
    """Write the summary workbook ``out`` and/or the export folder ``export``."""
    from kcl_xlsx.summary.export import export as write_export
    from kcl_xlsx.summary.workbook import write_summary

    done = Written()
    if out is not None:
        t = time.perf_counter()
        done.backup = write_summary(data, Path(out), detail_limit=detail_limit, detail_note=detail_note)
        release_freed_memory()
        done.seconds["workbook"] = time.perf_counter() - t
    if export is not None:
        t = time.perf_counter()
        done.exported = write_export(data, Path(export))
        done.seconds["export"] = time.perf_counter() - t
    return done


def summarise_collect(res: CollectResult, out: Path | None, export: Path | None) -> None:
    """The summary of a collect run: its workbook ``out`` and/or its export folder; what was
    written (the earlier summary's backup name, the exported files, the seconds) goes into
    ``res``."""
    t = time.perf_counter()
    key = json.dumps([res.options_key, load_form(res.form).summary_columns])
    # the blocks are let go as the rows table takes their rows: they would add to the peak
    tables = tables_from_collect(res, res.form, RowsCache(res.ledger_path, key, res.warnings), release=True)
    for f in res.files:  # and those of the files not summarised (superseded, with errors)
        f.release_block()
    release_freed_memory()  # the blocks, and the lists the rows table was built from (base/memory.py)
    data = summarise(tables)
    del tables
    release_freed_memory()  # the blocks and the pivots' temporaries (see base/memory.py)
    res.timings["pivots"] = time.perf_counter() - t
    limit = workbook.DETAIL_LIMIT  # read now, not at import: a test lowers it
    if export is None and out is not None and len(data.detail) > limit:
        export = Path(out).with_name(f"{Path(out).stem}-xuat-du-lieu")  # the detail must live somewhere
    written = write_outputs(data, Path(out) if out is not None else None, export, detail_limit=limit,
                            detail_note=str(export or ""))
    res.backup, res.exported = written.backup, written.exported
    res.timings.update(written.seconds)
