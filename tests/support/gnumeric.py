"""Drive Gnumeric's ``ssconvert``: the second, independent formula engine of these machines.

``recalc`` opens each file with ``ssconvert --recalc`` and saves it as .xlsx (Gnumeric's
ISO 29500 exporter), so the saved cached values are Gnumeric's own results.  One process per
file (ssconvert converts one file a call; ~0.5 s each).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.tools import require

EXPORTER = "Gnumeric_Excel:xlsx2"


def recalc(files: list[Path] | Path, outdir: Path, timeout: float = 120) -> list[Path]:
    """Recalculate and re-save each file into ``outdir`` (same file names); return the new paths."""
    exe = require("ssconvert")
    files = [files] if isinstance(files, Path) else list(files)
    outdir.mkdir(parents=True, exist_ok=True)
    outs = []
    for f in files:
        out = outdir / (Path(f).stem + ".xlsx")
        run = subprocess.run([exe, "--recalc", "-T", EXPORTER, str(f), str(out)],
                             capture_output=True, text=True, timeout=timeout)
        if not out.exists():
            raise RuntimeError(f"Gnumeric did not write {out}: rc={run.returncode} {run.stderr[-500:]}")
        outs.append(out)
    return outs
