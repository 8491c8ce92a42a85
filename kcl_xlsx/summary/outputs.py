"""The summary's two outputs, the workbook and the export folder, for `collect` and `rollup`.

Each file is written atomically by its own writer (:mod:`summary_write`, :mod:`export`).
`collect` writes the export's tables that the collected plans give as they are beside the
pivots and the workbook: rows.csv and rows.parquet in a process of their own
(:mod:`rows_export`), issues and files in a thread.  Measured at 10,000 plans: pivots,
workbook and export took 4.4 s one after the other, 3.4 s with the whole export in a
thread (pandas' group-bys, Arrow's converters and writers release the GIL), and the re-run
was 5.2-5.3 s with the rows in the thread, 4.3-4.4 s with them in their own process (the
thread and the pivots held Python's lock in turn).  `rollup` writes one after the other:
its memory, not its time, is what a nation's roll-up is short of.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import time
from pathlib import Path

from kcl_xlsx.base.memory import release_freed_memory
from kcl_xlsx.collect.result import CollectResult
from workbook_templates.form import load_form

from kcl_xlsx.summary.rows_cache import RowsCache
from kcl_xlsx.summary.rows_export import RowsExport
from kcl_xlsx.summary.tables import SummaryData, summarise, tables_from_collect
from kcl_xlsx.summary import workbook
from kcl_xlsx.summary.workbook import DETAIL_LIMIT


@dataclasses.dataclass
class Written:
    backup: Path | None = None  # the earlier summary, renamed (see output.replace_keeping_backup)
    exported: list[Path] = dataclasses.field(default_factory=list)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # "workbook", "export": for benchmarks


def write_outputs(data: SummaryData, out: Path | None, export: Path | None, *, detail_limit: int = DETAIL_LIMIT,
                  detail_note: str = "", export_tables: tuple[str, ...] | None = None) -> Written:
    """Write the summary workbook ``out`` and/or the export folder ``export`` (its tables
    ``export_tables``, default all)."""
    from kcl_xlsx.summary.export import TABLES, export as write_export
    from kcl_xlsx.summary.workbook import write_summary

    done = Written()
    if out is not None:
        t = time.perf_counter()
        done.backup = write_summary(data, Path(out), detail_limit=detail_limit, detail_note=detail_note)
        release_freed_memory()
        done.seconds["workbook"] = time.perf_counter() - t
    if export is not None:
        done.exported, done.seconds["export"] = _timed(write_export, data, Path(export),
                                                       TABLES if export_tables is None else export_tables)
    return done


def summarise_collect(res: CollectResult, out: Path | None, export: Path | None) -> None:
    """The summary of a collect run: its workbook ``out`` and/or its export folder; what was
    written (the earlier summary's backup name, the exported files, the seconds) goes into
    ``res``."""
    t = time.perf_counter()
    # its own process for the rows export (see rows_export.py), started now: its imports
    # overlap the tables being built; it is used only if the export is written beside the workbook
    rows_process = RowsExport().start() if ROWS_IN_PROCESS and out is not None and export is not None else None
    try:
        _summarise_collect(res, out, export, t, rows_process)
    finally:
        if rows_process is not None:
            rows_process.close()


# False: the export's rows are written in a thread of this process (as when the process is
# not to be had); the tests compare the two
ROWS_IN_PROCESS = True


def _summarise_collect(res: CollectResult, out: Path | None, export: Path | None, t: float,
                       rows_process: RowsExport | None) -> None:
    key = json.dumps([res.options_key, load_form(res.form).summary_columns])
    # the blocks are let go as the rows table takes their rows: they would add to the peak
    tables = tables_from_collect(res, res.form, RowsCache(res.ledger_path, key, res.warnings), release=True)
    for f in res.files:  # and those of the files not summarised (superseded, with errors)
        f.release_block()
    release_freed_memory()  # the blocks, and the lists the rows table was built from (base/memory.py)
    limit = workbook.DETAIL_LIMIT  # read now, not at import: a test lowers it
    if export is None and out is not None and len(tables.rows) > limit:
        export = Path(out).with_name(f"{Path(out).stem}-xuat-du-lieu")  # the detail must live somewhere
    from kcl_xlsx.summary.export import COLLECTED_TABLES, TABLES, export as write_export

    early = COLLECTED_TABLES if export is not None and out is not None else ()
    elsewhere = ("rows",) if (early and rows_process is not None and tables.rows_parts is not None
                              and rows_process.submit(tables.rows_parts, Path(export), tables.form)) else ()
    in_thread = tuple(n for n in early if n not in elsewhere)
    if elsewhere:  # the stored rows' text serves only a rows export written here (+79 MiB at a nation's scale)
        tables.rows_arrow = None
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kcl-export") as pool:
        # see the module's docstring: these tables are written beside the pivots and the workbook
        exporting = pool.submit(_timed, write_export, tables, Path(export), in_thread) if in_thread else None
        data = summarise(tables)
        del tables
        release_freed_memory()  # the blocks and the pivots' temporaries (see base/memory.py)
        res.timings["pivots"] = time.perf_counter() - t
        written = write_outputs(data, Path(out) if out is not None else None, export, detail_limit=limit,
                                detail_note=str(export or ""),
                                export_tables=tuple(n for n in TABLES if n not in early))
        first: list[Path] = []
        if exporting is not None:  # its error, if any, is raised here, as the export's own
            first, seconds = exporting.result()
            written.seconds["export"] = written.seconds.get("export", 0.0) + seconds
    if elsewhere:  # the process's error, if any, is raised here too
        got = rows_process.result()
        if got is None:  # it could not write them: written here, the same bytes
            got = _timed(write_export, data, Path(export), elsewhere)
            res.warnings.append(ROWS_HERE)
        first += got[0]
        written.seconds["export"] = written.seconds.get("export", 0.0) + got[1]
    written.exported = [p for name in TABLES for p in first + written.exported if p.stem == name]
    res.backup, res.exported = written.backup, written.exported
    res.timings.update(written.seconds)


ROWS_HERE = ("tiến trình riêng không ghi được rows.csv/rows.parquet (đã dừng hoặc bộ đệm đã đổi), đã ghi lại trong "
             "tiến trình chính / the rows export's own process could not write them; written by the main process")


def _timed(func, *args):
    t = time.perf_counter()
    return func(*args), time.perf_counter() - t
