"""Write the feedback copies of a check or collect run, one per file that has issues."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Sequence

from macros_free_validation.report import Severity

from kcl_xlsx.check.checker import Submission
from kcl_xlsx.base.output import check_writable_dir
from kcl_xlsx.spec.vocab import CheckStatus, SourceKind


def feedback_name(sub: Submission, source: Path) -> str:
    """One name per school and file content: a re-run finds its earlier feedback."""
    prefix = sub.school_code or "khong-ro-truong"
    return f"phan-hoi_{prefix}_{source.stem}_{sub.sha256[:8]}.xlsx"


# (submission, its file, the feedback file to write) -> the file written: how a plan sent in
# another form than the template is answered (a Word plan: the school's template pre-filled
# from it, kcl_xlsx.issue.word_import, given by the command, a later stage than this one)
OtherForm = Callable[[Submission, Path, Path], Path]


def write_feedback_files(subs: Sequence[Submission], sources: Sequence[Path], out_dir: Path, *,
                         show_info: bool = False, word: OtherForm | None = None) -> list[Path]:
    """Feedback for every submission with errors or warnings; temporary/lock files skipped.
    A feedback file that exists already (same school, same file content) is kept as it is.
    Info-level issues are left off the copies unless ``show_info``.  A Word plan (every one
    has a warning: the template next time) is answered by ``word`` when given."""
    from kcl_xlsx.check.feedback import write_feedback  # openpyxl: loaded only when feedback is written

    check_writable_dir(out_dir)
    written = []
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    for sub, src in zip(subs, sources):
        if sub.status == CheckStatus.TEMPORARY:
            continue
        if not any(i.severity in (Severity.ERROR, Severity.WARNING) for i in sub.issues):
            continue
        target = out_dir / feedback_name(sub, src)
        if target.exists():
            continue
        # the copy says Hợp lệ, Cần sửa or (any file not read as a plan) Sai mẫu
        status = sub.status if sub.status in (CheckStatus.VALID, CheckStatus.ERRORS) else CheckStatus.WRONG_TEMPLATE
        info = {"school_code": sub.school_code, "school_name": sub.school_name, "checked_at": stamp,
                "unit": str(sub.identity.get("unit", "") or ""), "year": sub.year or ""}
        if word is not None and sub.source_kind == SourceKind.WORD:
            written.append(word(sub, src, target))
            continue
        written.append(write_feedback(src, sub.issues, status, target, title_info=info, show_info=show_info))
    return written
