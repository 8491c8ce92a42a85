"""The application's issues: every code kcl-xlsx raises (:class:`Code`), the issue type that
knows its file and school (:class:`Issue`), and the catalogue of their texts
(:class:`IssueCatalogue`).

The texts are data: ``workbook_templates/data/issues.yaml`` for the codes the code raises,
form.yaml (``field_rules`` and ``rules``) for the plan rules' codes.  :func:`build_catalogue`
reads both and checks them against :class:`Code` both ways, so a code without its text or
a text nothing raises is one :class:`SpecError` line when the catalogue is built, not a
KeyError in the middle of a run.  Nothing is registered on import: :func:`catalogue` builds
the built-in catalogue on first use (in each process, worker processes included) and keeps it.
"""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import yaml

from macros_free_validation import report
from macros_free_validation.report import CodeSpec, Severity
from workbook_templates.errors import SpecError
from workbook_templates.form import Form, load_form
from workbook_templates.spec_io import SAFE_LOADER, need, read_yaml

BUILTIN_ISSUES = "issues.yaml"


class Code(str, enum.Enum):
    """Every code the application raises besides the plan rules' (whose codes are in
    form.yaml).  Each has its text in issues.yaml.  An issue stores ``code.value`` (plain
    text: a str-Enum member prints differently across Python versions)."""

    # the file itself, before any parser sees it (preflight) or while a worker reads it
    FILE_EMPTY = "file.empty"
    FILE_TOO_LARGE = "file.too_large"
    FILE_LOCK_FILE = "file.lock_file"
    FILE_NOT_SPREADSHEET = "file.not_spreadsheet"
    FILE_HTML_AS_XLS = "file.html_as_xls"
    FILE_CSV_AS_XLS = "file.csv_as_xls"
    FILE_CORRUPT = "file.corrupt"
    FILE_ENCRYPTED = "file.encrypted"
    FILE_DEFAULT_PASSWORD = "file.default_password"
    FILE_MACRO_ENABLED = "file.macro_enabled"
    FILE_EXTERNAL_LINKS = "file.external_links"
    FILE_TOO_MANY_PARTS = "file.too_many_parts"
    FILE_DUPLICATE_PART = "file.duplicate_part"
    FILE_PART_MISSING = "file.part_missing"
    FILE_PART_OUTSIDE = "file.part_outside"
    FILE_PART_TOO_LARGE = "file.part_too_large"
    FILE_DECLARED_COUNT = "file.declared_count"
    FILE_NOT_UTF8 = "file.not_utf8"
    FILE_TOO_MANY_SHEETS = "file.too_many_sheets"
    FILE_DUPLICATE_SHEET = "file.duplicate_sheet"
    FILE_LOCAL_LINK = "file.local_link"
    FILE_ZIP_BOMB = "file.zip_bomb"
    FILE_XML_ENTITIES = "file.xml_entities"
    FILE_OUT_OF_BOUNDS = "file.out_of_bounds"
    FILE_CELL_TOO_LONG = "file.cell_too_long"
    FILE_PARSER_CRASHED = "file.parser_crashed"
    FILE_BAD_NUMBER_CELL = "file.bad_number_cell"  # a number cell whose <v> is not a number: no sheet can be read
    FILE_TIMEOUT = "file.timeout"
    # the workbook's structure (reader)
    STRUCTURE_PLAN_SHEET_RENAMED = "structure.plan_sheet_renamed"
    STRUCTURE_PLAN_SHEET_MISSING = "structure.plan_sheet_missing"
    STRUCTURE_SHEET_MISSING = "structure.sheet_missing"
    STRUCTURE_COLUMN_MISSING = "structure.column_missing"
    STRUCTURE_COLUMN_MOVED = "structure.column_moved"
    STRUCTURE_COLUMN_EXTRA = "structure.column_extra"
    STRUCTURE_ROWS_OUTSIDE = "structure.rows_outside"
    CELL_MERGED = "cell.merged"
    # the template's identity
    IDENTITY_SOURCE = "identity.source"
    IDENTITY_MISSING = "identity.missing"
    IDENTITY_MISMATCH = "identity.mismatch"
    IDENTITY_TAMPERED = "identity.tampered"
    IDENTITY_BAD_SIGNATURE = "identity.bad_signature"
    IDENTITY_UNSIGNED = "identity.unsigned"
    # values read leniently (normalize)
    TEXT_NORMALIZED = "text.normalized"
    TEXT_FORMULA_LIKE = "text.formula_like"
    VALUE_INTERPRETED = "value.interpreted"
    NUMBER_NOT_FINITE = "number.not_finite"  # inf, -inf, NaN stored in a cell: no spreadsheet holds one
    NUMBER_TINY = "number.tiny"  # a subnormal (below 2.2e-308): Excel reads it as 0, and so do we
    BUDGET_PARSED_FROM_TEXT = "budget.parsed_from_text"
    BUDGET_RANGE = "budget.range"
    OWNER_SPLIT = "owner.split"
    PERIOD_SPLIT = "period.split"
    # the plan as a whole (checker)
    PLAN_EMPTY = "plan.empty"
    ROW_DUPLICATE = "row.duplicate"
    PERIOD_OUTSIDE_WINDOW = "period.outside_window"
    TEMPLATE_UNKNOWN = "template.unknown"
    TEMPLATE_WRONG_YEAR = "template.wrong_year"
    TEMPLATE_FORM_NEWER = "template.form_newer"
    TEMPLATE_FORM_UNKNOWN = "template.form_unknown"
    STRUCTURE_LISTS_CHANGED = "structure.lists_changed"
    INFO_MISSING = "info.missing"
    FILE_CHECKED_WITH_ASSUMED_TEMPLATE = "file.checked_with_assumed_template"
    # a plan written in Word (intake/readers/docx.py, checker)
    WORD_TABLE_CHOSEN = "word.table_chosen"
    WORD_NO_PLAN_TABLE = "word.no_plan_table"
    WORD_TWO_PLAN_TABLES = "word.two_plan_tables"
    WORD_TABLE_TOO_LONG = "word.table_too_long"
    WORD_USE_TEMPLATE = "word.use_template"
    WORD_CONVERTER_MISSING = "word.converter_missing"
    WORD_CONVERSION_FAILED = "word.conversion_failed"
    # the roster and the roll-up
    ROSTER_UNKNOWN_SCHOOL = "roster.unknown_school"
    ROSTER_LEVEL_MISMATCH = "roster.level_mismatch"
    ROSTER_NAME_MISMATCH = "roster.name_mismatch"
    ROLLUP_DUPLICATE_SCHOOL = "rollup.duplicate_school"


@dataclasses.dataclass(frozen=True)
class Issue(report.Issue):
    """An issue of a school's file: the engine's issue plus the file, school and template."""

    file: str = ""
    school_code: str = ""
    template_id: str = ""

    @classmethod
    def make(cls, code: Code | str, *, severity: Severity | str | None = None, **ctx: Any) -> "Issue":
        """The issue of ``code`` with the built-in catalogue's texts; ``ctx`` fills the
        message template and the positional fields (file, sheet, cell, row, column, value...)."""
        return catalogue().make(code, severity=severity, **ctx)

    def to_dict(self) -> dict[str, Any]:
        d = {f: getattr(self, f) for f in FIELDS}
        d["severity"] = self.severity.value
        return d


# The fields in the order exports have always had them (file after the texts).
FIELDS = ("code", "severity", "message", "hint", "file", "sheet", "cell", "row", "column", "value",
          "school_code", "template_id")
assert set(FIELDS) == {f.name for f in dataclasses.fields(Issue)}


@dataclasses.dataclass(frozen=True)
class IssueCatalogue(Mapping[str, CodeSpec]):
    """Every code's texts, by code: the application's codes and the plan rules' codes.
    Build it with :func:`build_catalogue` (validated) or use :func:`catalogue`."""

    specs: Mapping[str, CodeSpec]
    sources: tuple[str, ...] = ()

    def __getitem__(self, code: str) -> CodeSpec:
        return self.specs[_plain(code)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and _plain(code) in self.specs

    def make(self, code: Code | str, *, severity: Severity | str | None = None, **ctx: Any) -> Issue:
        try:
            spec = self.specs[_plain(code)]
        except KeyError:
            raise KeyError(f"issue code {_plain(code)!r} is not in the catalogue ({', '.join(self.sources)})") from None
        return Issue.from_spec(spec, severity=severity, **ctx)


def _plain(code: Code | str) -> str:
    return code.value if isinstance(code, Code) else code


def load_issue_codes(path: str | Path | None = None) -> tuple[CodeSpec, ...]:
    """The codes of an issues file (default: the built-in issues.yaml), as they are written;
    a bad file (not a table of codes, a missing text, an unknown severity or key, a code
    written twice) is one SpecError line."""
    return _read_issue_codes(path)[0]


def _read_issue_codes(path: str | Path | None) -> tuple[tuple[CodeSpec, ...], str]:
    data, source, raw = read_yaml(path, BUILTIN_ISSUES)
    entries = need(data, "codes", source, "tệp mã lỗi")
    if not isinstance(entries, dict):
        raise SpecError(source, "'codes' phải là một bảng mã: nội dung", "'codes' must be a mapping")
    twice = _written_twice(raw)
    if twice:
        raise SpecError(source, f"mã {twice} được viết hai lần", f"code {twice} written twice")
    out = []
    for code, spec in entries.items():
        where = f"mã {code}"
        if not isinstance(spec, dict):
            raise SpecError(source, f"{where}: cần severity, message, hint", f"{where}: needs severity, message, hint")
        extra = set(spec) - {"severity", "message", "hint"}
        if extra:
            raise SpecError(source, f"{where}: khóa lạ {', '.join(sorted(map(str, extra)))}",
                            f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}")
        severity = _severity(need(spec, "severity", source, where), source, where)
        out.append(CodeSpec(str(code), severity, str(need(spec, "message", source, where)),
                            str(spec.get("hint") or "")))
    return tuple(out), source


def _severity(value: Any, source: str, where: str) -> Severity:
    known = [s.value for s in Severity]
    if value not in known:
        raise SpecError(source, f"{where}: severity '{value}' không hợp lệ ({', '.join(known)})",
                        f"{where}: unknown severity '{value}'")
    return Severity(value)


def _written_twice(raw: bytes) -> str | None:
    """A code written twice under ``codes:`` (YAML keeps the last one silently)."""
    root = yaml.compose(raw.decode("utf-8"), Loader=SAFE_LOADER)
    node = next((v for k, v in root.value if k.value == "codes"), None) if isinstance(root, yaml.MappingNode) else None
    if not isinstance(node, yaml.MappingNode):
        return None
    seen: set[str] = set()
    for key, _value in node.value:
        if key.value in seen:
            return str(key.value)
        seen.add(key.value)
    return None


def rule_codes(form: Form) -> tuple[CodeSpec, ...]:
    """The plan rules' codes with their texts as written (placeholders such as {label} left
    in): one per field rule (an unknown choice of a soft list is a warning, see
    plan_spec._field_rules) and one per cross-field rule.  A code may serve several rules
    with one text; two texts for one code is one SpecError line."""
    out: dict[str, CodeSpec] = {}
    entries = [(f"field_rules.{key}", spec, Severity.WARNING if key == "in_list_soft" else Severity.ERROR)
               for key, spec in form.field_rules.items()]
    entries += [(f"rules[{n}]", spec, None) for n, spec in enumerate(form.rules)]
    for where, spec, severity in entries:
        code = str(need(spec, "code", form.source, where))
        if severity is None:
            severity = _severity(spec.get("severity", "error"), form.source, f"{where} ({code})")
        text = CodeSpec(code, severity, str(need(spec, "message", form.source, where)), str(spec.get("hint", "")))
        if out.get(code, text) != text:
            raise SpecError(form.source, f"mã {code} có hai nội dung khác nhau", f"code {code} defined twice")
        out[code] = text
    return tuple(out.values())


def build_catalogue(issues: str | Path | None = None, form: str | Path | Form | None = None) -> IssueCatalogue:
    """The catalogue of ``issues`` (default: the built-in issues.yaml) and of the plan rules
    of ``form`` (default: the built-in form.yaml), checked: every :class:`Code` has its text
    in the issues file, every code of the file is a Code, and no code is written twice
    (within the file, or in both files).  A problem is one SpecError line naming the file
    and the code."""
    texts, source = _read_issue_codes(issues)
    listed = {t.code for t in texts}
    missing = [c.value for c in Code if c.value not in listed]
    if missing:
        raise SpecError(source, f"thiếu nội dung của mã {', '.join(missing)}", f"no text for code(s) {', '.join(missing)}")
    raised = {c.value for c in Code}
    unknown = [t.code for t in texts if t.code not in raised]
    if unknown:
        raise SpecError(source, f"mã {', '.join(unknown)} không được chương trình dùng",
                        f"code(s) {', '.join(unknown)} never raised")
    plan_form = form if isinstance(form, Form) else load_form(form)
    rules = rule_codes(plan_form)
    both = [r.code for r in rules if r.code in listed]
    if both:
        raise SpecError(source, f"mã {', '.join(both)} đã có trong {plan_form.source}",
                        f"code(s) {', '.join(both)} also in {plan_form.source}")
    return IssueCatalogue({t.code: t for t in (*texts, *rules)}, (source, plan_form.source))


@lru_cache(maxsize=1)
def catalogue() -> IssueCatalogue:
    """The built-in catalogue, built (and checked) on first use in each process."""
    return build_catalogue()
