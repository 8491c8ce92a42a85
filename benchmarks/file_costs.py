"""Where one file's time goes in a worker, measured in one process over a sample of an
inbox: the bare python-calamine read (the floor's own loop), the pre-flight, the check
(pre-flight, reading, identity, normalising, rules), and the packing for the ledger.

bench_collect.py prints it beside the province's ratio: on 2 cores, a worker's CPU per file
divided by 2 is the least time per file a run can take (nothing else counted), and the
issue's ratio is taken to the floor's one-process time per file."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.inbox_factory import calamine_floor


@dataclass(frozen=True)
class FileCosts:
    files: int
    floor_ms: float  # the bare read of every sheet
    preflight_ms: float
    check_ms: float  # check_path: the pre-flight, reading, identity, normalising, rules
    ledger_ms: float  # check_for_ledger: check_path and the packing a worker sends back

    @property
    def worker_ms(self) -> float:
        return self.ledger_ms

    def line(self, cores: int) -> str:
        best = self.worker_ms / cores / self.floor_ms
        return (f"a file in a worker, CPU (best of 2 over {self.files} files, one process): "
                f"{self.worker_ms:.2f} ms = pre-flight {self.preflight_ms:.2f} + reading and checking "
                f"{self.check_ms - self.preflight_ms:.2f} + packing for the ledger {self.ledger_ms - self.check_ms:.2f}; "
                f"the floor reads one in {self.floor_ms:.2f} ms: on {cores} cores with nothing else at all, "
                f"{best:.2f}x the floor")


def measure(files: list[Path], rounds: int = 2) -> FileCosts:
    from kcl_xlsx.check.checker import CheckOptions, check_path
    from kcl_xlsx.collect.run import check_for_ledger
    from kcl_xlsx.intake.preflight import preflight

    options = CheckOptions(year="2025-2026")
    check_path(files[0], options)  # the spec files loaded, the caches warm: as in a worker after its first file

    def best(each) -> float:
        times = []
        for _ in range(rounds):
            t = time.process_time()
            for f in files:
                each(f)
            times.append(time.process_time() - t)
        return 1000 * min(times) / len(files)

    floor = min(calamine_floor(files) for _ in range(rounds)) * 1000 / len(files)
    return FileCosts(
        len(files), floor,
        preflight_ms=best(lambda f: preflight(f, options.bounds)),
        check_ms=best(lambda f: check_path(f, options)),
        ledger_ms=best(lambda f: check_for_ledger((str(f), options, str(f)))),
    )
