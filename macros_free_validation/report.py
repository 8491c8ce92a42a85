"""Typed validation issues: a problem is data, never an exception.

Every issue carries a stable ``code`` (for machines and for the office's filters), a
severity, an exact position (sheet, A1 cell, 1-based row, column header) and a Vietnamese
message plus a hint saying how to fix it.  A code's texts are a :class:`CodeSpec`; which
codes exist is the application's business (it keeps its own catalogue and builds issues
with :meth:`Issue.from_spec`): this module has no registry.
"""
from __future__ import annotations

import dataclasses
import enum
from typing import Any, Iterable, TypeVar


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclasses.dataclass(frozen=True)
class CodeSpec:
    code: str
    severity: Severity
    message: str  # str.format template (Vietnamese)
    hint: str = ""


I = TypeVar("I", bound="Issue")


class _Blank(dict):
    """format_map helper: a missing placeholder renders as nothing, not a KeyError."""

    def __missing__(self, key: str) -> str:  # pragma: no cover - defensive
        return ""


@dataclasses.dataclass(frozen=True)
class Issue:
    code: str
    severity: Severity
    message: str
    hint: str = ""
    sheet: str = ""
    cell: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""

    @classmethod
    def from_spec(cls: type[I], spec: CodeSpec, *, severity: Severity | str | None = None, **ctx: Any) -> I:
        """Build an issue from its code's texts; ``ctx`` fills the message template and
        the positional fields (sheet, cell, row, column, value, and a subclass's own)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        pos = {k: v for k, v in ctx.items() if k in fields}
        if "value" in pos and pos["value"] is not None:
            pos["value"] = _short(str(pos["value"]))
        fmt = _Blank({k: ("" if v is None else v) for k, v in ctx.items()})
        return cls(
            code=spec.code,
            severity=Severity(severity) if severity else spec.severity,
            message=spec.message.format_map(fmt),
            hint=spec.hint.format_map(fmt),
            **pos,
        )

    def where(self) -> str:
        """``Kế hoạch!F12`` style position, or the sheet alone."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["severity"] = self.severity.value
        return d


FIELDS = [f.name for f in dataclasses.fields(Issue)]


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def count(issues: Iterable[Issue], severity: Severity) -> int:
    return sum(1 for i in issues if i.severity == severity)
