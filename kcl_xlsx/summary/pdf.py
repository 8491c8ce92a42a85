"""The summary workbook as PDF, printed by LibreOffice (headless, see :mod:`kcl_xlsx.base.office`).

The workbook carries its own print setup (A4, one page wide, repeated headers, page header
and "Trang n/m" footer, charts in page-sized blocks), so the PDF is what printing the
workbook gives.  LibreOffice runs with a temporary profile of its own (a user's open
LibreOffice, or another run, is never disturbed), under a time limit; the PDF is written
beside its target and renamed into place, so a failed run leaves no half file.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from kcl_xlsx.base import office
from kcl_xlsx.base.office import CONVERT_TIMEOUT as PDF_TIMEOUT, OfficeError as PdfError
from kcl_xlsx.base.output import OutputError, replace_keeping_backup, temporary_beside  # noqa: F401 (OutputError: the base of PdfError, for callers)


def find_soffice() -> str | None:
    """LibreOffice's program (see :func:`kcl_xlsx.base.office.find_soffice`); looked up
    through this module so a test can take LibreOffice away from the summary alone."""
    return office.find_soffice()


def require_libreoffice(target: Path | str) -> str:
    """soffice's path, or the one-line :class:`PdfError` that ``target`` cannot be printed:
    asked before any work, so a missing LibreOffice does not cost the whole run."""
    exe = find_soffice()
    if exe is None:
        raise office.not_installed(target)
    return exe


def write_pdf(xlsx: Path | str, pdf: Path | str | None = None, *, timeout: float = PDF_TIMEOUT) -> Path:
    """Print ``xlsx`` to ``pdf`` (default: the same name with .pdf) and return its path.
    An existing PDF is kept under a timestamped name, as the summary is.  Raises :class:`PdfError`
    (one line, Vietnamese / English) when LibreOffice is missing, fails or takes too long."""
    xlsx = Path(xlsx)
    target = Path(pdf) if pdf is not None else xlsx.with_suffix(".pdf")
    require_libreoffice(target)
    if not xlsx.is_file():
        raise PdfError(f"{xlsx}: không có tệp bảng tổng hợp / no such workbook")
    work = Path(tempfile.mkdtemp(prefix="kcl-pdf-"))
    try:
        made = office.convert(xlsx, "pdf", work, timeout=timeout, target=target)
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
