"""Check one returned file: pre-flight, read, recognise, normalise, run every rule.

The result is data (:class:`Submission`): the rows as read and normalised, and every issue
with its position.  A bad file is a submission with a status and one issue, not an
exception.  This function runs inside a worker process (see :mod:`sandbox`), so it must be
importable and its inputs and outputs picklable.
"""
from __future__ import annotations

import dataclasses
import hashlib
import html
import io
import re
import zipfile
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Mapping

from python_calamine import CalamineError
from xlsxwriter.utility import xl_rowcol_to_cell

from macros_free_validation.report import Severity
from workbook_templates.errors import SpecError

from kcl_xlsx.base.text import number_text
from kcl_xlsx.spec import layout as L
from kcl_xlsx.intake.entries import file_sha256
from kcl_xlsx.spec.freetext import fold
from kcl_xlsx.check.identity_check import resolve_identity
from kcl_xlsx.check.normalize import RowNormalizer
from kcl_xlsx.spec.issues import Code, Issue
from kcl_xlsx.spec.plan_spec import PlanSpec, Sources, version_key
from kcl_xlsx.spec.vocab import CheckStatus, SourceKind
from kcl_xlsx.intake.preflight import Bounds, preflight
from kcl_xlsx.intake.readers.xlsx import RawPlan, read_plan
from kcl_xlsx.intake.word_convert import converted_preflight


_NOT_WORKBOOK = {"empty", "html", "csv_text", "pdf", "unknown", "zip_other", "ole_other"}
_CONVERTED = ("doc", "odt")  # Word plans read after LibreOffice made a .docx of them
_REQUIRED_INFO = ("preparer",)


@dataclasses.dataclass(frozen=True)
class CheckOptions:
    catalog: str | None = None
    choices: str | None = None
    key: bytes | None = None
    year: str | None = None  # the school year expected (a file of another year is an error)
    level: str | None = None  # used when a file has no identity
    bounds: Bounds = Bounds()
    form: str | None = None  # the form file (None: built-in)


@dataclasses.dataclass
class PlanRow:
    row: int
    values: dict[str, Any]
    derived: dict[str, Any]
    errors: int = 0


@dataclasses.dataclass
class Submission:
    file: str
    kind: str = ""
    size: int = 0
    sha256: str = ""
    status: CheckStatus = CheckStatus.UNREADABLE
    identity: dict[str, str] = dataclasses.field(default_factory=dict)
    identity_source: str = ""  # custom | sheet | info (identity_check); "document" for a Word plan (its header block)
    signature: str = ""  # verified | invalid | unsigned | unknown
    level: str = ""
    year: str = ""
    framework: str = ""
    info: dict[str, str] = dataclasses.field(default_factory=dict)
    staff: list[str] = dataclasses.field(default_factory=list)
    rows: list[PlanRow] = dataclasses.field(default_factory=list)
    issues: list[Issue] = dataclasses.field(default_factory=list)
    application: str = ""
    saved_at: str = ""
    sheet: str = ""  # the plan's sheet; for a Word plan its table ("Bảng 2")
    # What the school sent: "workbook" (a template or any spreadsheet) or "word" (a plan
    # written in Word: .docx, or .doc/.odt converted); the summary shows it.
    source_kind: str = "workbook"

    def __post_init__(self) -> None:
        self.status = CheckStatus(self.status)  # the code as stored (the ledger) is the member

    @property
    def school_code(self) -> str:
        return self.identity.get("school_code", "") or self.info.get("school_code", "")

    @property
    def school_name(self) -> str:
        return self.identity.get("school_name", "") or self.info.get("school_name", "")

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == Severity.WARNING)


WORD = SourceKind.WORD.value  # a plan read from a Word document (Submission.source_kind)


def _word():
    """The Word reader (kcl_xlsx.intake.readers.docx), imported when a Word plan is checked:
    python-docx is not loaded by a run that has none."""
    from kcl_xlsx.intake.readers import docx

    return docx


@lru_cache(maxsize=8)
def _sources(catalog: str | None, choices: str | None, form: str | None = None) -> Sources:
    return Sources.load(catalog=catalog, choices=choices, form=form)


_GIVEN: dict[tuple[str | None, ...], Sources] = {}


def sources_of(options: CheckOptions) -> Sources:
    """The spec files ``options`` name: as the parent process loaded them (see
    :func:`give_sources`), else loaded here once."""
    key = (options.catalog, options.choices, options.form)
    return _GIVEN.get(key) or _sources(*key)


def give_sources(given: tuple[CheckOptions, Sources]) -> None:
    """Make ``sources`` the ones of ``options`` in this process: a worker gets the spec files
    its parent already loaded and validated, instead of reading and parsing them again."""
    options, sources = given
    _GIVEN[(options.catalog, options.choices, options.form)] = sources


def check_path(path: str | Path, options: CheckOptions = CheckOptions(), display: str | None = None) -> Submission:
    """Check one file; never raises for anything the file contains."""
    path = Path(path)
    name = display or str(path)
    pf = preflight(path, options.bounds, display_name=name)
    sub = Submission(file=name, kind=pf.kind)
    try:
        sub.size = path.stat().st_size
    except OSError:
        pass
    sub.issues.extend(pf.issues)
    if not pf.ok:
        sub.status = _failed_status(pf.kind)
        if sub.size < options.bounds.max_file_bytes:
            sub.sha256 = file_sha256(path)
        return _stamp_file(sub)
    if pf.kind in _CONVERTED:  # .doc / .odt: read as the .docx LibreOffice makes of it
        sub.source_kind, sub.sha256 = WORD, hashlib.sha256(pf.package).hexdigest()
        converted, failed = converted_preflight(path, pf.kind, options.bounds, name, pf.package)
        sub.issues.extend(failed)
        if converted is None or not converted.ok:
            sub.issues.extend(converted.issues if converted else ())
            sub.status = CheckStatus.UNREADABLE
            return _stamp_file(sub)
        sub.issues.extend(converted.issues)
        return _stamp_file(check_bytes(converted.package, "docx", sub, options))
    # the hash is of the file as sent (for an encrypted file, not of its decrypted content);
    # the bytes read are the ones the pre-flight checked, not the file read a second time
    sub.sha256 = file_sha256(path) if pf.decrypt_password else hashlib.sha256(pf.package).hexdigest()
    try:
        return _stamp_file(check_bytes(pf.package, pf.kind, sub, options, pf.parts))
    except CalamineError as exc:  # the reader refused the content (ill-formed XML...): a damaged file, not a crash
        sub.issues = list(pf.issues) + [Issue.make(Code.FILE_CORRUPT, file=name, value=f"{type(exc).__name__}: {exc}"[:300])]
        sub.status = CheckStatus.UNREADABLE
        sub.rows = []
        return _stamp_file(sub)


def _failed_status(kind: str) -> CheckStatus:
    if kind == "lock_file":
        return CheckStatus.TEMPORARY
    if kind in _NOT_WORKBOOK:
        return CheckStatus.NOT_WORKBOOK
    return CheckStatus.UNREADABLE


def _stamp_file(sub: Submission) -> Submission:
    sub.issues = [dataclasses.replace(i, file=sub.file, school_code=i.school_code or sub.school_code,
                                      template_id=i.template_id or sub.identity.get("template_id", ""))
                  for i in sub.issues]
    return sub


def check_bytes(data: bytes, kind: str, sub: Submission, options: CheckOptions,
                parts: Mapping[str, bytes | None] | None = None) -> Submission:
    sources = sources_of(options)
    if kind == "docx":
        return _check_word(data, sub, options, sources)
    # read with the form of the version the file declares (a file of form 2025.1 exactly as then)
    try:
        raw = read_plan(data, kind, sources.form, parts, form_for=sources.form_for)
    except Exception as exc:  # python-calamine's errors are plain exceptions
        bad = _bad_number_cell(data, kind, exc)
        if bad is None:
            raise
        sheet, cell, text = bad
        sub.issues.append(Issue.make(Code.FILE_BAD_NUMBER_CELL, file=sub.file, where=f"{sheet}!{cell}", sheet=sheet,
                                     cell=cell, value=text[:50]))
        sub.status = CheckStatus.UNREADABLE
        return sub
    form = raw.form or sources.form
    sub.issues.extend(raw.issues)
    sub.info, sub.staff, sub.sheet = raw.info, raw.staff, raw.sheet or ""
    sub.application, sub.saved_at = raw.meta.application, raw.meta.modified
    cells = {k: _info_cell(raw, form, k) for k in ("school_code", "school_name")}
    resolved = resolve_identity(raw.identity_copies, options.key, raw.info, form.info_sheet, cells)
    sub.identity, sub.identity_source, sub.signature = resolved.values, resolved.source, resolved.signature
    sub.issues.extend(resolved.issues)
    spec = _spec_for(sub, sources, options)
    if spec is None or raw.sheet is None:
        sub.status = CheckStatus.WRONG_TEMPLATE
        return sub
    sub.level, sub.year, sub.framework = spec.level.key, spec.year.label, spec.framework.id
    _check_lists(raw, spec, sub)
    _check_info(raw, spec, sub)
    _check_rows(raw, spec, sub)
    sub.status = CheckStatus.ERRORS if sub.errors else CheckStatus.VALID
    return sub


_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*)>(.*?)</c>', re.S)
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_KIND = re.compile(rb'\bt="([^"]*)"')


def _bad_number_cell(data: bytes, kind: str, exc: Exception) -> tuple[str, str, str] | None:
    """(sheet, cell, text) of the first number cell whose value is not a number, when that is
    why the reader failed (python-calamine: "Parse float error"); None otherwise.  The parts
    were bounded by the pre-flight before any parser saw them."""
    if kind not in ("xlsx", "xlsm") or "float" not in str(exc).lower():
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = _sheet_names(zf)
            for part in sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")):
                for m in _CELL.finditer(zf.read(part)):
                    kind, value = _KIND.search(m.group(2)), _VALUE.search(m.group(3))
                    if value is None or (kind and kind.group(1) != b"n"):
                        continue
                    text = value.group(1).decode("utf-8", "replace").strip()
                    if not text:  # an empty cached result (openpyxl writes them): no value
                        continue
                    try:
                        float(text)
                    except ValueError:
                        return names.get(part, part), m.group(1).decode(), text
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return None


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """worksheet part -> the sheet's name (through workbook.xml and its relationships)."""
    try:
        book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    target = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rid, tgt = re.search(r'\bId="([^"]+)"', rel), re.search(r'\bTarget="([^"]+)"', rel)
        if rid and tgt:
            target[rid.group(1)] = "xl/" + tgt.group(1).lstrip("/").removeprefix("xl/")
    out = {}
    for sheet in re.findall(r"<sheet\b[^>]*>", book):
        name, rid = re.search(r'\bname="([^"]*)"', sheet), re.search(r'\br:id="([^"]+)"', sheet)
        if name and rid and rid.group(1) in target:
            out[target[rid.group(1)]] = html.unescape(name.group(1))
    return out


def _check_word(data: bytes, sub: Submission, options: CheckOptions, sources: Sources) -> Submission:
    """A plan written in Word: read (readers/docx.py), identified from the document's own
    header (its school, year, the circular it cites), then checked with the same rules."""
    from kcl_xlsx.intake.readers.docx import WordReadError, read_docx  # python-docx: loaded for Word plans only

    sub.source_kind = WORD
    try:
        raw = read_docx(data, sources.form, sources.catalog, file_name=Path(sub.file).name)
    except WordReadError as exc:
        sub.issues.append(Issue.make(Code.FILE_CORRUPT, file=sub.file, value=str(exc)))
        sub.status = CheckStatus.UNREADABLE
        return sub
    sub.issues.extend(raw.issues)
    sub.info, sub.sheet = raw.info, raw.sheet or ""
    sub.application, sub.saved_at = raw.meta.application, raw.meta.modified
    if raw.sheet is None:  # no plan table (a letter, a report: not a plan), or none to trust
        no_table = any(i.code == Code.WORD_NO_PLAN_TABLE.value for i in raw.issues)
        sub.status = CheckStatus.NOT_WORKBOOK if no_table else CheckStatus.ERRORS
        return sub
    # the document is its own identity: what it states, nothing signed
    sub.identity = {k: raw.info[k] for k in _WORD_IDENTITY if raw.info.get(k)}
    sub.identity_source, sub.signature = "document", "unknown"
    sub.issues.append(Issue.make(Code.WORD_USE_TEMPLATE))
    spec = _spec_for(sub, sources, options)
    if spec is None:
        sub.status = CheckStatus.WRONG_TEMPLATE
        return sub
    sub.level, sub.year, sub.framework = spec.level.key, spec.year.label, spec.framework.id
    _check_rows(raw, spec, sub)
    sub.status = CheckStatus.ERRORS if sub.errors else CheckStatus.VALID
    return sub


# What a Word plan's header says that stands for a template's identity.
_WORD_IDENTITY = ("school_name", "level", "year", "framework")


def _spec_for(sub: Submission, sources: Sources, options: CheckOptions) -> PlanSpec | None:
    idt = sub.identity
    level, year = idt.get("level") or options.level, idt.get("year") or options.year
    if not level or not year:
        sub.issues.append(Issue.make(Code.TEMPLATE_UNKNOWN))
        return None
    if options.year and idt.get("year") and idt["year"] != options.year:
        sub.issues.append(Issue.make(Code.TEMPLATE_WRONG_YEAR, value=idt["year"], year=options.year))
    framework = idt.get("framework")
    if framework and framework not in {f.id for f in sources.catalog.frameworks}:
        framework = None
    version = idt.get("form_version") or None
    if sources.form_for(version) is None:
        known = ", ".join(sources.known_versions)
        if version_key(version) > version_key(sources.form.version):
            sub.issues.append(Issue.make(Code.TEMPLATE_FORM_NEWER, value=version, known=known))
            return None
        sub.issues.append(Issue.make(Code.TEMPLATE_FORM_UNKNOWN, value=version, current=sources.form.version))
        version = None
    try:
        spec = sources.spec(level, year, framework, form_version=version)
    except SpecError:
        sub.issues.append(Issue.make(Code.TEMPLATE_UNKNOWN))
        return None
    if not idt.get("template_id"):
        sub.issues.append(Issue.make(Code.FILE_CHECKED_WITH_ASSUMED_TEMPLATE, value=level, year=year))
    return spec


def _check_lists(raw: RawPlan, spec: PlanSpec, sub: Submission) -> None:
    for name, values in spec.lists.items():
        found = raw.lists.get(name)
        if found is None or not raw.lists:
            continue
        if found == values:
            continue  # the common case, decided without folding
        if [fold(number_text(v)) for v in found] != [fold(number_text(v)) for v in values]:
            sub.issues.append(Issue.make(Code.STRUCTURE_LISTS_CHANGED, sheet=L.LISTS_SHEET, value=name))


def _check_info(raw: RawPlan, spec: PlanSpec, sub: Submission) -> None:
    if spec.form.info_sheet not in raw.sheet_names:
        return
    labels = {f.key: f.label for f in spec.form.info_fields}
    for key in _REQUIRED_INFO:
        if not raw.info.get(key):
            cell = _info_cell(raw, spec.form, key)
            sub.issues.append(Issue.make(Code.INFO_MISSING, sheet=spec.form.info_sheet, cell=cell, column=labels[key],
                                         where=f"{spec.form.info_sheet}!{cell}"))


def _info_cell(raw: RawPlan, form, key: str) -> str:
    """The value cell of a Thông tin field: where its label was found, else the template's."""
    row = raw.info_rows.get(key, L.PlanLayout(form).info_row(key))
    return xl_rowcol_to_cell(row, 1)


def _check_rows(raw: RawPlan, spec: PlanSpec, sub: Submission) -> None:
    # a Word plan has no funding column: a cell of Điều kiện hỗ trợ khác may name the source
    funding_from = _word().funding_source_field(spec.form) if raw.source_kind == WORD else None
    normalizer = RowNormalizer(spec, raw.staff, funding_from=funding_from, keep_range_text=raw.source_kind == WORD)
    broken_rules = spec.rules.bind(spec.py_context(raw.staff))
    where = _WordNamer(raw, spec) if raw.source_kind == WORD else _CellNamer(raw, spec)
    seen: dict[tuple, int] = {}
    duplicate_key, criterion = spec.form.duplicate_key, spec.form.roles.criterion

    for raw_row in raw.rows:
        at = partial(where, raw_row.row)
        norm = normalizer.normalize(raw_row.cells, at)
        sub.issues.extend(norm.issues)
        errors = 0
        for rule in broken_rules(norm.values):
            if rule.field not in raw.columns:
                continue  # structure.column_missing already speaks for the whole column
            value = norm.values.get(rule.field)
            issue = _rule_issue(rule, at(rule.field), value, spec, norm.derived)
            errors += issue.severity == Severity.ERROR
            sub.issues.append(issue)
        sub.rows.append(PlanRow(raw_row.row, norm.values, norm.derived, errors))
        key = tuple([fold(norm.values.get(k) or "") for k in duplicate_key])
        if key in seen:
            sub.issues.append(Issue.make(Code.ROW_DUPLICATE, other=where.shown_row(seen[key]), **at(criterion)))
        else:
            seen[key] = raw_row.row
    if not sub.rows:
        sub.issues.append(Issue.make(Code.PLAN_EMPTY, sheet=raw.sheet))


class _CellNamer:
    """``namer(row, field)``: the position of a plan cell, for an issue (only asked for when
    there is one, so nothing is formatted for the rows without issues)."""

    def __init__(self, raw: RawPlan, spec: PlanSpec):
        self.sheet, self.form = raw.sheet, spec.form
        self.columns = {**L.PlanLayout(spec.form).columns, **raw.columns}  # found by header, else the template's

    def __call__(self, row: int, field: str) -> dict:
        cell = xl_rowcol_to_cell(row - 1, self.columns[field])
        return {"sheet": self.sheet, "cell": cell, "row": row, "column": self.form.field(field).header,
                "where": f"{self.sheet}!{cell}"}

    def shown_row(self, row: int) -> int:
        return row


class _WordNamer:
    """A Word plan's position: its table, the row in that table and the column's header as
    the document writes it ("Bảng 2, dòng 7, cột Dự kiến kinh phí")."""

    def __init__(self, raw: RawPlan, spec: PlanSpec):
        self.places, self.headers, self.form = raw.row_places, raw.column_headers, spec.form
        self.first = raw.row_places[min(raw.row_places)][0] if raw.row_places else 0

    def __call__(self, row: int, field: str) -> dict:
        table, r = self.places.get(row, (self.first, row))
        column = self.headers.get(field) or self.form.field(field).header
        word = _word()
        return {"sheet": word.table_label(table), "cell": "", "row": r, "column": column,
                "where": word.place(table, r, column)}

    def shown_row(self, row: int) -> int:
        return self.places.get(row, (0, row))[1]


def _rule_issue(rule, pos: dict, value: Any, spec: PlanSpec, derived: dict) -> Issue:
    roles = spec.form.roles
    month = {roles.start: "start_month", roles.end: "end_month"}.get(rule.field)
    if rule.kind == "in_list" and rule.p("list") == "periods" and month and derived.get(month) is not None:
        return Issue.make(Code.PERIOD_OUTSIDE_WINDOW, value=value, year=spec.year.label,
                          after=spec.choices.years_after, **pos)
    shown = "" if value is None else value
    return Issue(code=rule.code, severity=rule.severity, message=f"{pos['where']}: {rule.message}",
                 hint=rule.hint, sheet=pos["sheet"], cell=pos["cell"], row=pos["row"], column=pos["column"],
                 value=str(shown)[:200])
