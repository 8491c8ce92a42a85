"""The summary workbook as PDF, printed by LibreOffice (headless).

The workbook carries its own print setup (A4, one page wide, repeated headers, page header
and "Trang n/m" footer, charts in page-sized blocks), so the PDF is what printing the
workbook gives.  LibreOffice runs with a temporary profile of its own (a user's open
LibreOffice, or another run, is never disturbed), under a time limit; the PDF is written
beside its target and renamed into place, so a failed run leaves no half file.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kcl_xlsx.base.output import OutputError, replace_keeping_backup, temporary_beside

PDF_TIMEOUT = 180.0  # seconds; a 10,000-row summary prints in well under a minute


class PdfError(OutputError):
    """The PDF cannot be made (no LibreOffice, a failure, a time-out); ``str()`` is one line."""


def find_soffice() -> str | None:
    """LibreOffice's program on PATH (``soffice``, or ``libreoffice`` in some packages)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_libreoffice(target: Path | str) -> str:
    """soffice's path, or the one-line :class:`PdfError` that ``target`` cannot be printed:
    asked before any work, so a missing LibreOffice does not cost the whole run."""
    exe = find_soffice()
    if exe is None:
        raise PdfError(f"{target}: không tạo được PDF vì máy chưa cài LibreOffice (soffice) / "
                       "LibreOffice is not installed: no PDF")
    return exe


def write_pdf(xlsx: Path | str, pdf: Path | str | None = None, *, timeout: float = PDF_TIMEOUT) -> Path:
    """Print ``xlsx`` to ``pdf`` (default: the same name with .pdf) and return its path.
    An existing PDF is kept under a timestamped name, as the summary is.  Raises :class:`PdfError`
    (one line, Vietnamese / English) when LibreOffice is missing, fails or takes too long."""
    xlsx = Path(xlsx)
    target = Path(pdf) if pdf is not None else xlsx.with_suffix(".pdf")
    exe = require_libreoffice(target)
    if not xlsx.is_file():
        raise PdfError(f"{xlsx}: không có tệp bảng tổng hợp / no such workbook")
    work = Path(tempfile.mkdtemp(prefix="kcl-pdf-"))
    try:
        profile, outdir = work / "profile", work / "out"
        outdir.mkdir()
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", "pdf", "--outdir", str(outdir), str(xlsx.resolve())]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                 env={**os.environ, "HOME": str(work)})
        except subprocess.TimeoutExpired:
            raise PdfError(f"{target}: LibreOffice không in xong trong {timeout:g} giây / "
                           f"LibreOffice timed out after {timeout:g} s") from None
        except OSError as exc:
            raise PdfError(f"{target}: không chạy được LibreOffice ({exc.strerror}) / cannot run LibreOffice") from None
        made = outdir / (xlsx.stem + ".pdf")
        if not made.is_file() or made.stat().st_size == 0:
            detail = (run.stderr or run.stdout or "").strip().splitlines()
            raise PdfError(f"{target}: LibreOffice không tạo được PDF (mã {run.returncode}"
                           f"{': ' + detail[-1][:120] if detail else ''}) / LibreOffice wrote no PDF")
        _place(made, target)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _place(made: Path, target: Path) -> Path | None:
    """Copy into a temporary name beside ``target``, then rename: readers never see half a
    PDF, and an earlier one is kept under a timestamped name (as the summary is).  Returns
    that name, or None."""
    with temporary_beside(target) as tmp:
        shutil.copyfile(made, tmp)
        return replace_keeping_backup(tmp, target)
