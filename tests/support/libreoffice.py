"""Drive the real spreadsheet program of these machines: LibreOffice, headless.

``resave`` opens files in LibreOffice and saves them again, as a person re-saving in
LibreOffice would.  With ``recalc=True`` LibreOffice runs with its own profile whose
setting makes it recalculate every formula on load (OOXMLRecalcMode = 0, "always"), so the
cached values of the saved file are LibreOffice's own results: this is how a test proves an
in-sheet check really computes.  Without that setting LibreOffice keeps cached values.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.tools import REQUIRE_ENV, require, which  # noqa: F401  (REQUIRE_ENV: old import path)

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""

FILTERS = {
    "xlsx": 'xlsx:"Calc MS Excel 2007 XML"',
    "xls": 'xls:"MS Excel 97"',
    "ods": "ods",
    "pdf": "pdf",
}


def soffice() -> str | None:
    return which("soffice")


def require_soffice() -> str:
    """The soffice path; skip the test without it, or fail where CI demands the tool."""
    return require("soffice")


def _profile(recalc: bool) -> Path:
    root = Path(tempfile.mkdtemp(prefix="kcl-lo-profile-"))
    user = root / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_XCU.format(mode=0 if recalc else 1), encoding="utf-8")
    return root


def resave(files: list[Path] | Path, outdir: Path, fmt: str = "xlsx", recalc: bool = True,
           timeout: float = 300) -> list[Path]:
    """Open each file in LibreOffice and save it into ``outdir`` as ``fmt``; return the new
    paths in the same order.  One LibreOffice start for all files (about 1.5 s)."""
    exe = require_soffice()
    files = [files] if isinstance(files, Path) else list(files)
    outdir.mkdir(parents=True, exist_ok=True)
    profile = _profile(recalc)
    try:
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", FILTERS[fmt].replace('"', ""), "--outdir", str(outdir), *map(str, files)]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    outs = [outdir / (Path(f).stem + "." + fmt) for f in files]
    missing = [str(p) for p in outs if not p.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not write {missing}: rc={run.returncode} {run.stderr[-500:]}")
    return outs
