"""Typed validation issues: a problem is data, never an exception.

Every issue carries a stable ``code`` (for machines and for the office's filters), a
severity, an exact position (sheet, A1 cell, 1-based row, column header) and a Vietnamese
message plus a hint saying how to fix it.  Codes are declared once with :func:`define_code`
by the module that can raise them; :func:`codes` lists them all (used for the docs).
"""
from __future__ import annotations

import dataclasses
import enum
from types import MappingProxyType
from typing import Any, Iterable, Mapping


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


_CODES: dict[str, CodeSpec] = {}


def define_code(code: str, severity: Severity | str, message: str, hint: str = "") -> CodeSpec:
    """Register an issue code.  Re-defining a code with a different text is a bug."""
    spec = CodeSpec(code, Severity(severity), message, hint)
    old = _CODES.get(code)
    if old is not None and old != spec:
        raise ValueError(f"issue code {code!r} defined twice with different texts")
    _CODES[code] = spec
    return spec


def codes() -> Mapping[str, CodeSpec]:
    return MappingProxyType(dict(sorted(_CODES.items())))


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
    file: str = ""
    sheet: str = ""
    cell: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""
    school_code: str = ""
    template_id: str = ""

    @classmethod
    def make(cls, code: str, *, severity: Severity | str | None = None, **ctx: Any) -> "Issue":
        """Build an issue from its registered code; ``ctx`` fills the message template
        and the positional fields (file, sheet, cell, row, column, value...)."""
        spec = _CODES[code]
        fields = {f.name for f in dataclasses.fields(cls)}
        pos = {k: v for k, v in ctx.items() if k in fields}
        if "value" in pos and pos["value"] is not None:
            pos["value"] = _short(str(pos["value"]))
        fmt = _Blank({k: ("" if v is None else v) for k, v in ctx.items()})
        return cls(
            code=code,
            severity=Severity(severity) if severity else spec.severity,
            message=spec.message.format_map(fmt),
            hint=spec.hint.format_map(fmt),
            **pos,
        )

    def where(self) -> str:
        """``Kế hoạch!F12`` style position, or the file alone."""
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
