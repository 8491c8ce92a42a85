"""The program's own vocabularies as enums: stable English codes (what the ledger stores and
the program compares), each with its Vietnamese ``.label`` from
``workbook_templates/data/labels.yaml`` (what a user reads, and what some exports hold).

``str(member)`` and ``f"{member}"`` are the code on every Python version (``__str__`` and
``__format__`` below); still, wherever a value leaves the program (a file, a CSV, JSON,
SQLite) write ``.value`` or ``.label`` explicitly.
"""
from __future__ import annotations

import enum
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping, TypeVar

from macros_free_validation.report import Severity
from workbook_templates.errors import SpecError
from workbook_templates.labels import Labels, load_labels

V = TypeVar("V", bound="Vocab")


class Vocab(str, enum.Enum):
    """A code of one vocabulary; its class is registered in :data:`VOCABULARIES`."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def label(self) -> str:
        return label_of(self)

    @classmethod
    def from_label(cls: type[V], text: str) -> V:
        """The member whose label is ``text`` (reading an export back); ValueError if none."""
        by_label = _by_label(cls)
        if text not in by_label:
            raise ValueError(f"{text!r} is not a label of {cls.__name__}")
        return by_label[text]


class CheckStatus(Vocab):
    """A checked file."""

    VALID = "valid"
    ERRORS = "errors"
    WRONG_TEMPLATE = "wrong_template"
    UNREADABLE = "unreadable"
    NOT_WORKBOOK = "not_workbook"
    TEMPORARY = "temporary"


class Classification(Vocab):
    """A file of a collected inbox."""

    ACCEPTED = "accepted"
    SUPERSEDED = "superseded"
    DUPLICATE = "duplicate"
    WITH_ERRORS = "errors"  # a workbook of the right template with errors (not summarised)
    UNMATCHED = "unmatched"  # a readable plan no school of the roster claims
    WRONG_TEMPLATE = "wrong_template"
    UNREADABLE = "unreadable"
    NOT_WORKBOOK = "not_workbook"
    TEMPORARY = "temporary"
    ARCHIVE = "archive"  # a .zip attachment; its workbooks are listed on their own
    SKIPPED = "skipped"  # a symbolic link, a special file, an archive member not checked: listed with the reason


class SchoolStatus(Vocab):
    """A school of a collect run, in the order the summary lists them."""

    SUBMITTED_VALID = "submitted_valid"
    LATE = "late"
    SUBMITTED_ERRORS = "submitted_errors"
    WRONG_FORMAT = "wrong_format"  # sent only files that are not a plan workbook (PDF, Word, a photo...)
    MISSING = "missing"


class Progress(Vocab):
    """The follow-up states kcl-xlsx works out itself; the others are the school's own
    Trạng thái (the choice list ``statuses`` of choices.yaml)."""

    LATE = "late"  # not done (nor given up) and its end month has passed


class ChangeKind(Vocab):
    """A row of a plan between two versions."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class Match(Vocab):
    """How a collected file was tied to its school."""

    IDENTITY = "identity"  # the template's identity (document properties or Thông tin)
    NAME = "name"  # the school name written in the plan
    FILE_NAME = "file_name"  # the file or folder name


class SourceKind(Vocab):
    """What a school sent as its plan."""

    WORKBOOK = "workbook"  # a template, or any spreadsheet
    WORD = "word"  # a plan written in Word (.docx; .doc, .odt converted)


class Section(Vocab):
    """The part of a plan a row belongs to."""

    MUC1_3 = "muc1_3"
    MUC4 = "muc4"


# vocabulary name in labels.yaml -> its enum (an issue's Severity is macros_free_validation's own)
VOCABULARIES: Mapping[str, type[enum.Enum]] = MappingProxyType({
    "check_status": CheckStatus, "classification": Classification, "school_status": SchoolStatus,
    "progress": Progress, "severity": Severity, "change": ChangeKind, "section": Section, "match": Match,
    "source_kind": SourceKind,
})
_NAMES = {cls: name for name, cls in VOCABULARIES.items()}

# A file the check rejected outright is classified by its status alone; a readable plan
# (valid, errors) is classified by the collect (accepted, superseded, duplicate, unmatched...).
STATUS_CLASSIFICATION: Mapping[CheckStatus, Classification] = MappingProxyType({
    CheckStatus.WRONG_TEMPLATE: Classification.WRONG_TEMPLATE, CheckStatus.UNREADABLE: Classification.UNREADABLE,
    CheckStatus.NOT_WORKBOOK: Classification.NOT_WORKBOOK, CheckStatus.TEMPORARY: Classification.TEMPORARY,
})


# typed: members of two vocabularies with the same code are equal (str enums), their labels are not
@lru_cache(maxsize=None, typed=True)  # a few dozen members; a summary asks 60,000 times (every file, issue)
def label_of(member: enum.Enum) -> str:
    """The label of a member of any vocabulary (``Severity.WARNING`` included)."""
    return labels()[_NAMES[type(member)]][member.value]


def labels() -> Labels:
    """The built-in labels file, checked against the enums (once per process)."""
    return _checked(None)


@lru_cache(maxsize=4)
def _checked(path: str | None) -> Labels:
    return check_labels(load_labels(path), path or "<built-in>/labels.yaml")


def check_labels(found: Labels, source: str) -> Labels:
    """``found`` if it labels every code of every vocabulary and nothing else; else one
    SpecError line naming ``source`` and what is wrong."""
    for name in found:
        if name not in VOCABULARIES:
            raise SpecError(source, f"bộ nhãn lạ '{name}' (có: {', '.join(VOCABULARIES)})",
                            f"unknown vocabulary '{name}'")
    for name, cls in VOCABULARIES.items():
        given = found.get(name)
        if given is None:
            raise SpecError(source, f"thiếu bộ nhãn '{name}'", f"missing vocabulary '{name}'")
        codes = [m.value for m in cls]
        missing = [c for c in codes if c not in given]
        extra = [c for c in given if c not in codes]
        if missing:
            raise SpecError(source, f"{name}: thiếu nhãn cho {', '.join(missing)}",
                            f"{name}: no label for {', '.join(missing)}")
        if extra:
            raise SpecError(source, f"{name}: mã lạ {', '.join(extra)} (có: {', '.join(codes)})",
                            f"{name}: unknown code(s) {', '.join(extra)}")
    return found


@lru_cache(maxsize=None)
def _by_label(cls: type[Vocab]) -> Mapping[str, Vocab]:
    return MappingProxyType({m.label: m for m in cls})
