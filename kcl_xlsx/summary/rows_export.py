"""The export's rows table written by a process of its own, beside the pivots and the workbook.

`collect` wrote rows.csv and rows.parquet in a thread beside the pivots and the workbook
(see summary/outputs.py).  The two held Python's lock in turn: at 10,000 plans the thread
took 2.6-2.8 s there against 1.6-1.8 s alone, and the run waited ~0.7 s for it after the
workbook.  A process has a lock of its own: it starts (with the forkserver, no copy of this
process) while the tables are built, then rebuilds the rows a chunk at a time from their
parts (tables.RowsParts: the rows cache's file, which this run has just written, and one
value per plan for the school and file columns) and writes the same bytes the thread would.

It is used only when the rows cache's file holds every row of the run; otherwise, and when
the process cannot start, dies, or finds the file changed, the rows are written in this
process as before (what the office receives never depends on it).  An error of the export
itself (a full disk, a non-finite number) is raised here as the export's own.
"""
from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import os
import time
from pathlib import Path

from kcl_xlsx.base.output import current_umask
from kcl_xlsx.intake.sandbox import default_context, startable_main
from kcl_xlsx.summary.tables import RowsParts, StaleRows


class RowsExport:
    """``start()`` while the tables are built, ``submit(parts, folder, form)`` once they are,
    ``result()`` for (the written paths, the seconds), or None when the rows must be written
    here instead; ``close()`` in every case."""

    def __init__(self) -> None:
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.future: concurrent.futures.Future | None = None

    def start(self) -> RowsExport:
        try:
            self.pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=default_context())
            with startable_main():
                self.pool.submit(_ready)  # the process starts and imports the export now
        except (OSError, RuntimeError):  # no process to be had (limits): written here instead
            self.close()
        return self

    def submit(self, parts: RowsParts, folder: Path, form: str | None) -> bool:
        """Whether the process took the rows."""
        if self.pool is None:
            return False
        from kcl_xlsx.summary.export import CHUNK_ROWS  # read now: a test lowers it

        try:
            with startable_main():  # a pool starts a process again when it lacks one
                self.future = self.pool.submit(_write_rows, parts, Path(folder), form, CHUNK_ROWS, current_umask())
        except (OSError, RuntimeError):  # a broken pool is a RuntimeError
            self.close()
            return False
        return True

    def result(self) -> tuple[list[Path], float] | None:
        if self.future is None:
            return None
        try:
            return self.future.result()
        except (concurrent.futures.process.BrokenProcessPool, StaleRows):
            return None  # the process died (killed, out of memory) or the file changed: written here

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _ready() -> None:
    import kcl_xlsx.summary.export  # noqa: F401  (pandas, pyarrow, the labels: ~0.5 s)


def _write_rows(parts: RowsParts, folder: Path, form: str | None, chunk_rows: int,
                umask: int) -> tuple[list[Path], float]:
    """In the export's process.  ``umask``: the run's, which the files get (the process was
    started by the fork server with the umask of its own start)."""
    from kcl_xlsx.summary.export import export_rows

    os.umask(umask)
    t = time.perf_counter()
    return export_rows(parts, folder, form, chunk_rows), time.perf_counter() - t
