"""A plan written in Word, carried into the school's template (form of today).

The Word plan is read and checked as any submission is (:func:`check_path`: the reader of
:mod:`kcl_xlsx.intake.readers.docx`, the same rules); its rows go into the input block of the
school's template and what its header states (authority, Số, place, date, signer) into the
Thông tin sheet.  Nothing the school wrote is lost:

* a value the reader understood goes in as the template's own value (a criterion as its
  dropdown label "1.1 - ...", a period as "Tháng 9/2025", an owner split into Chủ trì and
  Phối hợp);
* a value it did not understand stays as the school wrote it, as text in its cell, where the
  template's live check flags it (a criterion not in the list, an amount in words);
* a cost written as a range ("400 - 500 triệu") stays as written: the template takes one
  number, and which one is the school's choice, not ours;
* a row of the "MỨC 1, 2, 3" section names no single Mức: the cell stays blank and the
  check asks for it.

The template is then checked like any returned file, and the problems are marked on it as
on a feedback copy (:mod:`kcl_xlsx.check.feedback`): a red cell with a comment, and the
"Kết quả kiểm tra" sheet first.  The school fixes it and sends the template.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from macros_free_validation.report import Severity

from kcl_xlsx.base.output import OutputError, refuse_existing
from kcl_xlsx.check.checker import CheckOptions, Submission, check_path
from kcl_xlsx.check.feedback import write_feedback
from kcl_xlsx.check.run import check_many
from kcl_xlsx.spec import identity as ident
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import Roster, School, name_key
from kcl_xlsx.spec.vocab import CheckStatus, SourceKind
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.issue.template_build import Prefill

# Thông tin fields a Word plan's header can fill (the school's own, not the identity's)
_HEADER_INFO = ("authority", "doc_number", "place", "date", "signer", "preparer", "position")


class WordImportError(OutputError):
    """The file cannot be imported (not a Word plan, unreadable, no level or year); one line."""


@dataclasses.dataclass
class Imported:
    word: Submission  # the Word plan as read and checked
    school: School  # the school the template is made for
    identity: ident.Identity
    template: Submission  # the pre-filled template, checked
    out: Path | None = None  # the file written (the template with its problems marked)
    left_out: int = 0  # rows of the Word plan past the template's input rows (not carried)

    @property
    def rows(self) -> int:
        return len(self.template.rows)


def import_word(path: Path, out: Path, *, options: CheckOptions = CheckOptions(), roster: Roster | None = None,
                sources: Sources | None = None, issue_date: dt.date | None = None) -> Imported:
    """`kcl-xlsx import`: read the Word plan ``path``, write the school's template pre-filled
    from it, with its problems marked, to ``out`` (which must not exist)."""
    path, out = Path(path), Path(out)
    refuse_existing(out)
    if out.suffix.lower() != ".xlsx":
        raise WordImportError(f"{out}: tệp kết quả phải là .xlsx / the output must be an .xlsx file")
    # a school's file: read in a sandboxed worker, as check and collect read it
    [(_p, word)] = list(check_many([(path, path.name)], options, jobs=1))
    data, imported = prefilled_template(word, options, roster=roster, sources=sources, issue_date=issue_date)
    return _write_marked(data, imported, options, out)


def word_feedback(word: Submission, source: Path, target: Path, *, options: CheckOptions,
                  roster: Roster | None = None) -> Path:
    """The feedback of a Word plan (check and collect ``--feedback``): the school's template
    pre-filled from it, its problems marked, so the school fixes and sends the template.
    A Word file with no plan to carry gets the report-only copy any unreadable file gets."""
    try:
        data, imported = prefilled_template(word, options, roster=roster)
    except WordImportError:
        status = word.status if word.status in (CheckStatus.VALID, CheckStatus.ERRORS) else CheckStatus.WRONG_TEMPLATE
        return write_feedback(Path(source), word.issues, status, target,
                              title_info={"school_code": word.school_code, "school_name": word.school_name})
    return _write_marked(data, imported, options, target).out


def _write_marked(data: bytes, imported: Imported, options: CheckOptions, out: Path) -> Imported:
    """Check the pre-filled template ``data`` as the office would, and write it to ``out``
    with its problems marked (the feedback copy's red cells, comments and results sheet)."""
    with tempfile.TemporaryDirectory(prefix="kcl-import-") as tmp:
        plain = Path(tmp) / out.name
        plain.write_bytes(data)
        checked = check_path(plain, options, display=out.name)
        imported.template = checked
        status = checked.status if checked.status in (CheckStatus.VALID, CheckStatus.ERRORS) else CheckStatus.ERRORS
        info = {"school_code": imported.school.code, "school_name": imported.school.name,
                "checked_at": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "unit": imported.school.unit,
                "year": checked.year}
        imported.out = write_feedback(plain, checked.issues, status, out, title_info=info)
    return imported


def prefilled_template(word: Submission, options: CheckOptions, *, roster: Roster | None = None,
                       sources: Sources | None = None,
                       issue_date: dt.date | None = None) -> tuple[bytes, Imported]:
    """The school's template (bytes) pre-filled from the checked Word plan ``word``.
    ``Imported.template`` is left to the caller to fill (the template checked)."""
    _require_word_plan(word)
    sources = sources or Sources.load(catalog=options.catalog, choices=options.choices, form=options.form)
    level = word.level or options.level
    year = word.year or options.year
    if not level or not year:
        raise WordImportError(f"{word.file}: không rõ cấp học hoặc năm học của kế hoạch; dùng --level, --year / "
                           "the plan's level or school year is unknown: give --level and --year")
    school = _school(word, level, roster, sources)
    factory = TemplateFactory(sources, year, framework=word.framework or None, key=options.key,
                              issue_date=issue_date)
    spec = factory.spec(level)
    rows = tuple(_template_row(r.values, r.derived, spec.form) for r in word.rows[: spec.form.input_rows])
    stated = dict(word.info)
    if stated.get("signer") and not stated.get("preparer"):
        stated["preparer"] = stated["signer"]  # the principal who signs the document drew up the plan
    info = tuple((k, _info_value(k, stated.get(k))) for k in _HEADER_INFO if stated.get(k))
    data, identity = factory.make(level, school, prefill=Prefill(rows=rows, info=info))
    return data, Imported(word, school, identity, Submission(file=""), left_out=len(word.rows) - len(rows))


def _require_word_plan(word: Submission) -> None:
    if word.source_kind != SourceKind.WORD:
        raise WordImportError(f"{word.file}: không phải kế hoạch viết bằng Word (.docx, .doc, .odt) / not a Word plan")
    if word.status not in (CheckStatus.VALID, CheckStatus.ERRORS) or not word.rows:
        first = next((i.message for i in word.issues if i.severity == Severity.ERROR), "")
        raise WordImportError(f"{word.file}: không đọc được bảng kế hoạch{': ' + first if first else ''} / "
                           "no plan table could be read")


def _school(word: Submission, level: str, roster: Roster | None, sources: Sources) -> School:
    """The roster's school the plan names (its code, else its name as a person compares it),
    else a school known by the name the document writes."""
    if roster is not None:
        code = (word.school_code or "").casefold()
        for s in roster.schools:
            if code and s.code.casefold() == code:
                return s
        key = name_key(word.school_name, sources.form) if word.school_name else ""
        found = [s for s in roster.schools if key and name_key(s.name, sources.form) == key]
        if len(found) == 1:
            return found[0]
    return School(code=word.school_code or "", name=word.school_name or "", level=level)


def _template_row(values: dict[str, Any], derived: dict[str, Any], form) -> dict[str, Any]:
    """A checked row as the template's input cells: the values as read, except a cost
    written as a range, which stays as written (see the module's docstring)."""
    row = {k: v for k, v in values.items() if v is not None}
    budget = form.roles.budget
    low, high = derived.get("budget_min"), derived.get("budget_max")
    text = derived.get("budget_text")
    if low is not None and high is not None and low != high and isinstance(text, str) and text:
        row[budget] = text
    elif row.get(budget) == 0:
        del row[budget]  # "Không": the template's way is a blank cost (its guide, Bước 3)
    for f in form.derived:  # shown by the template's own formula
        row.pop(f.key, None)
    return row


def _info_value(key: str, value: Any) -> Any:
    """A Thông tin value: the reader's date (YYYY-MM-DD) as a date cell, anything else as text."""
    if key == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return value
    return value


__all__ = ["Imported", "WordImportError", "import_word", "prefilled_template", "word_feedback"]
