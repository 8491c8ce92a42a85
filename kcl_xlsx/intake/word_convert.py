""".doc (Word 97-2003) and .odt plans become .docx through LibreOffice, then are read as any
.docx.  The conversion runs inside the checking worker, under its own time limit (below
the worker's, so that a slow LibreOffice is reported as such, not as a hung file), with
LibreOffice's own temporary profile (:func:`kcl_xlsx.base.office.convert`); without
LibreOffice it is one clear issue on that file.  The .docx made is pre-flighted again like
any file a school sends: nothing LibreOffice writes is trusted more than the original.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from kcl_xlsx.base.office import OfficeError, convert, find_soffice
from kcl_xlsx.spec.issues import Code, Issue
from kcl_xlsx.intake.bounds import Bounds
from kcl_xlsx.intake.preflight import Preflight, preflight

# Below the worker's 60 s (check/run.py TIMEOUT_S): LibreOffice starts in 2-5 s here.
CONVERT_TIMEOUT_S = 45.0
FILTER = "docx:MS Word 2007 XML"
KIND_TEXT = {"doc": "văn bản Word 97-2003 (.doc)", "odt": "văn bản OpenDocument (.odt)"}


def converted_preflight(path: Path, kind: str, bounds: Bounds, name: str, data: bytes | None = None,
                        timeout: float | None = None) -> tuple[Preflight | None, list[Issue]]:
    """The pre-flight of ``path`` (a .doc or .odt, as pre-flighted: ``data`` its bytes)
    converted to .docx, or (None, [the issue]) when it cannot be converted."""
    what = KIND_TEXT.get(kind, kind)
    if find_soffice() is None:
        return None, [Issue.make(Code.WORD_CONVERTER_MISSING, file=name, what=what)]
    work = Path(tempfile.mkdtemp(prefix="kcl-word-"))
    try:
        # LibreOffice names its output after the input: give it a plain name of the right kind
        src = work / f"plan.{kind}"
        if data is not None:
            src.write_bytes(data)
        else:
            shutil.copyfile(path, src)
        try:
            made = convert(src, FILTER, work / "out", timeout=timeout or CONVERT_TIMEOUT_S, target=name)
        except OfficeError as exc:
            return None, [Issue.make(Code.WORD_CONVERSION_FAILED, file=name, what=what, value=str(exc)[:200])]
        return preflight(made, bounds, display_name=name), []
    finally:
        shutil.rmtree(work, ignore_errors=True)
