"""The commands as library calls: each is one short chain of the stages' functions and
returns a result object.  The CLI (:mod:`kcl_xlsx.cli`) parses options and prints; tests and
other programs call these directly."""
from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from kcl_xlsx.base import office
from kcl_xlsx.check.checker import CheckOptions, Submission, check_path, sources_of
from kcl_xlsx.check.feedback_run import write_feedback_files
from kcl_xlsx.check.run import check_many, with_roster
from kcl_xlsx.collect.result import CollectResult
from kcl_xlsx.collect.lock import one_run_at_a_time
from kcl_xlsx.collect.run import collect_inbox, ledger_for, remember
from kcl_xlsx.intake import entries
from kcl_xlsx.intake.entries import Entry, walk
from kcl_xlsx.spec.roster import Roster, School
from kcl_xlsx.base.memory import long_lived_objects
from kcl_xlsx.base.output import OutputError
from kcl_xlsx.summary.outputs import summarise_collect
from kcl_xlsx.summary.pdf import require_libreoffice, write_pdf

if TYPE_CHECKING:  # imported where used: python-docx and openpyxl are not loaded by `collect`
    from workbook_templates.document_text import DocumentText
    from kcl_xlsx.issue.document import Written
    from kcl_xlsx.issue.word_import import Imported


@dataclasses.dataclass
class CheckRun:
    submissions: list[Submission]  # one per file checked, in the order found
    listed: list[Entry]  # entries not checked themselves: .zip attachments, and (skipped, with the reason) links, special files, archive members
    feedback: list[Path] = dataclasses.field(default_factory=list)  # feedback copies written

    @property
    def errors(self) -> bool:
        return any(s.errors for s in self.submissions)


def check(paths: list[Path], options: CheckOptions, *, roster: Roster | None = None, feedback: Path | None = None,
          jobs: int | None = None, show_info: bool = False) -> CheckRun:
    """`kcl-xlsx check`: walk -> check (in workers) -> roster -> feedback copies."""
    with tempfile.TemporaryDirectory(prefix="kcl-check-") as tmp:  # workbooks of .zip attachments, copied
        found = walk(paths, Path(tmp), options.bounds.max_file_bytes)
        files = [e for e in found if e.kind == entries.FILE]
        results = dict(check_many([(e.path, e.name) for e in files], options, jobs))
        subs = [results[e.path] for e in files]
        if roster is not None:
            subs = [with_roster(s, roster) for s in subs]
        run = CheckRun(subs, [e for e in found if e.kind != entries.FILE])
        if feedback is not None:  # inside: zip members are readable only until the clean-up
            run.feedback = write_feedback_files(subs, [e.path for e in files], feedback, show_info=show_info,
                                                word=_word_feedback(options, roster), jobs=jobs)
    return run


def _document_text(path: Path | None) -> "DocumentText":
    # the document's wording: read where a document is made (a collect run without --render
    # does not load it)
    from workbook_templates.document_text import load_document_text

    return load_document_text(path)


def collect(inbox: Path, out: Path | None, *, roster: Roster | None = None, year: str | None = None,
            deadline: dt.date | str | None = None, ledger_path: Path | None = None, jobs: int | None = None,
            options: CheckOptions | None = None, progress: Callable[[str, int, int], None] | None = None,
            write_summary: bool = True, feedback: Path | None = None, export: Path | None = None,
            as_of: dt.date | None = None, show_info: bool = False, pdf: bool = False,
            on_wait: Callable[[Path], None] | None = None, render: Path | None = None,
            document_text: Path | None = None) -> CollectResult:
    """`kcl-xlsx collect`: the collect stage -> the summary (workbook ``out``, an earlier one
    kept under a timestamped name; the export folder; with ``pdf`` the workbook printed by
    LibreOffice beside it) -> the run recorded in the ledger.  ``show_info`` lists info-level
    issues on the Lỗi sheet and the feedback copies too.  An inbox unchanged since the last
    run for the same outputs does nothing.  A run on a ledger another run is using waits for
    it (``on_wait(lock file)`` is told once).  ``render``: a folder for the official
    document of every accepted plan (see :func:`render_accepted`; with ``pdf`` their PDFs too)."""
    if pdf and (out is None or not write_summary):
        raise OutputError("--pdf: cần bảng tổng hợp (-o) để in / --pdf needs the summary workbook")
    if pdf:
        require_libreoffice(Path(out).with_suffix(".pdf"))
    text = _document_text(document_text) if render is not None else None  # a bad file: one line, before any work
    with one_run_at_a_time(ledger_for(inbox, out, ledger_path), on_wait), long_lived_objects():  # see base/memory.py
        res = collect_inbox(inbox, out, roster=roster, year=year, deadline=deadline, ledger_path=ledger_path,
                            jobs=jobs, options=options, progress=progress, write_summary=write_summary,
                            feedback=feedback, export=export, as_of=as_of,
                            outputs_key=(show_info, pdf) + ((str(render), str(document_text)) if render else ()),
                            show_info=show_info, word_feedback=_word_feedback(options or CheckOptions(), roster))
        if res.unchanged:
            return res
        if (out is not None and write_summary) or export is not None:
            summarise_collect(res, Path(out) if out is not None and write_summary else None, export)
        if pdf:
            res.pdf = write_pdf(Path(out))
        if render is not None:
            res.rendered = render_accepted(res, Path(render), text=text, options=options or CheckOptions(year=year),
                                           pdf=pdf)
        remember(res)
    return res


@dataclasses.dataclass
class Rendered:
    """`kcl-xlsx render`: the plan as checked and where its document went."""

    submission: Submission
    written: Written
    seconds: float

    @property
    def errors(self) -> int:
        return self.submission.errors


def render(path: Path, out: Path, *, pdf: bool = False, options: CheckOptions = CheckOptions(),
           document_text: Path | None = None) -> Rendered:
    """`kcl-xlsx render`: check ``path`` (a filled template, or any plan the checker reads)
    -> the official document at ``out`` (.docx; with ``pdf`` its PDF beside).  A plan with
    errors is rendered (the school needs its document; ``errors`` says so); a file that is
    not a readable plan raises :class:`~kcl_xlsx.issue.document.RenderError` (one line).  An
    earlier document of the same name is kept under a timestamped name."""
    t0 = time.perf_counter()
    text = _document_text(document_text)
    if pdf:
        office.require_libreoffice(Path(out).with_suffix(".pdf"))
    sub = check_path(path, options)
    from kcl_xlsx.issue.document import render_submission  # python-docx: loaded when a document is made

    written = render_submission(sub, Path(out), sources=sources_of(options), text=text, pdf=pdf)
    return Rendered(sub, written, time.perf_counter() - t0)


def render_accepted(res: CollectResult, folder: Path, *, text: DocumentText, options: CheckOptions,
                    pdf: bool = False) -> list[Written]:
    """`collect --render`: the document of every school's accepted plan (the newest valid
    one, the plan the summary counts; a school whose plans all have errors gets none: its
    feedback goes back first) in ``folder``, named as the school's template
    (``<code>_<name>.docx``).  A document already there for the same content is left as it
    is; one for an older plan is kept under a timestamped name."""
    accepted = [s for s in res.schools.values() if s.accepted is not None and s.accepted.sub is not None]
    from kcl_xlsx.issue.issuing import file_names  # the issue stage's module: loaded when documents are made

    names = file_names([School(s.code, s.name, s.level, s.unit) for s in accepted])
    from kcl_xlsx.issue.document import render_submission

    sources = sources_of(options)
    written = []
    for s in accepted:
        sub = s.accepted.sub
        out = folder / Path(names[s.code]).with_suffix(".docx")
        written.append(render_submission(sub, out, sources=sources, text=text, pdf=pdf, rows=list(sub.rows),
                                         keep_same=True))
    return written


def import_plan(path: Path, out: Path, *, options: CheckOptions = CheckOptions(), roster: Roster | None = None) -> Imported:
    """`kcl-xlsx import`: a Word plan -> the school's template (form of today) pre-filled from
    it, its problems marked (see :mod:`kcl_xlsx.issue.word_import`)."""
    from kcl_xlsx.issue.word_import import import_word

    return import_word(Path(path), Path(out), options=options, roster=roster)


def _word_feedback(options: CheckOptions, roster: Roster | None):
    """How a Word plan is answered (feedback): the school's template pre-filled from it."""
    def answer(sub, source, target):
        from kcl_xlsx.issue.word_import import word_feedback

        return word_feedback(sub, source, target, options=options, roster=roster)
    return answer
