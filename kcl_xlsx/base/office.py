"""LibreOffice (headless) as a converter: a workbook or document to PDF, a .doc / .odt to
.docx.  Every call runs with a temporary profile of its own (a user's open LibreOffice, or
another run, is never disturbed), with HOME in that temporary folder, under a time limit;
a failure is one :class:`OfficeError` line (Vietnamese / English), never a traceback.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kcl_xlsx.base.output import OutputError

CONVERT_TIMEOUT = 180.0  # seconds; a 10,000-row summary prints in well under a minute


class OfficeError(OutputError):
    """LibreOffice is missing, failed or took too long; ``str()`` is one line."""


def find_soffice() -> str | None:
    """LibreOffice's program on PATH (``soffice``, or ``libreoffice`` in some packages)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_libreoffice(target: Path | str, what: str = "PDF") -> str:
    """soffice's path, or the one-line :class:`OfficeError` that ``target`` cannot be made:
    asked before any work, so a missing LibreOffice does not cost the whole run."""
    exe = find_soffice()
    if exe is None:
        raise not_installed(target, what)
    return exe


def not_installed(target: Path | str, what: str = "PDF") -> OfficeError:
    return OfficeError(f"{target}: không tạo được {what} vì máy chưa cài LibreOffice (soffice) / "
                       f"LibreOffice is not installed: no {what}")


def convert(src: Path | str, to: str, outdir: Path | str, *, timeout: float = CONVERT_TIMEOUT,
            target: Path | str | None = None) -> Path:
    """Convert ``src`` with LibreOffice into ``outdir`` (``to``: "pdf", "docx", ...; LibreOffice's
    --convert-to filter syntax) and return the file made.  ``target`` names the file the caller
    will make of it, for the error line (default ``src``)."""
    src, outdir = Path(src), Path(outdir)
    shown = target if target is not None else src
    what = to.split(":", 1)[0].upper()
    exe = require_libreoffice(shown, what)
    work = Path(tempfile.mkdtemp(prefix="kcl-office-"))
    try:
        profile = work / "profile"
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", to, "--outdir", str(outdir), str(src.resolve())]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                 env={**os.environ, "HOME": str(work)})
        except subprocess.TimeoutExpired:
            raise OfficeError(f"{shown}: LibreOffice không xong trong {timeout:g} giây / "
                              f"LibreOffice timed out after {timeout:g} s") from None
        except OSError as exc:
            raise OfficeError(f"{shown}: không chạy được LibreOffice ({exc.strerror}) / cannot run LibreOffice") from None
        made = outdir / (src.stem + "." + to.split(":", 1)[0])
        if not made.is_file() or made.stat().st_size == 0:
            detail = (run.stderr or run.stdout or "").strip().splitlines()
            raise OfficeError(f"{shown}: LibreOffice không tạo được {what} (mã {run.returncode}"
                              f"{': ' + detail[-1][:120] if detail else ''}) / LibreOffice wrote no {what}")
        return made
    finally:
        shutil.rmtree(work, ignore_errors=True)
