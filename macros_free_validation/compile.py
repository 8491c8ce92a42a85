"""Compile a list of rules into the two artefacts: in-sheet formulas and a Python checker."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping

from .report import Severity
from .rules import KINDS, ExcelContext, PyContext, Rule, xl_text


@dataclasses.dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        for rule in self.rules:
            kind = KINDS.get(rule.kind)
            if kind is None:
                raise ValueError(f"rule {rule.code}: unknown kind {rule.kind!r} (known: {', '.join(KINDS)})")
            extra = set(rule.params) - set(kind.params) - {"min", "max", "list"}
            if extra:
                raise ValueError(f"rule {rule.code}: unknown parameter(s) {', '.join(sorted(extra))}")

    @property
    def live(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.live)

    def ordered(self, rules: Iterable[Rule]) -> list[Rule]:
        """Errors before warnings, declaration order inside each: the first problem shown in
        the Kiểm tra cell is the most serious one."""
        rules = list(rules)
        return [r for r in rules if r.severity == Severity.ERROR] + [
            r for r in rules if r.severity != Severity.ERROR]

    # -- Excel ---------------------------------------------------------------------------

    def check_formula(self, ctx: ExcelContext, empty_expr: str, ok: str, warn_prefix: str) -> str:
        """The Kiểm tra cell: blank for an empty row, else the first problem, else ``ok``."""
        text = xl_text(ok)
        for rule in reversed(self.ordered(self.live)):
            shown = rule.message if rule.severity == Severity.ERROR else warn_prefix + rule.message
            text = f"IF({rule.excel(ctx)},{xl_text(shown)},{text})"
        return f"=IF({empty_expr},\"\",{text})"

    def highlight(self, ctx: ExcelContext, severity: Severity) -> dict[str, str]:
        """Per field, one expression that is TRUE when any live rule of ``severity`` on that
        field is broken: the conditional format that turns the cell red (or amber)."""
        per_field: dict[str, list[str]] = {}
        for rule in self.live:
            if rule.severity == severity:
                per_field.setdefault(rule.field, []).append(rule.excel(ctx))
        return {f: (e[0] if len(e) == 1 else f"OR({','.join(e)})") for f, e in per_field.items()}

    # -- Python --------------------------------------------------------------------------

    def bind(self, ctx: PyContext) -> Callable[[Mapping[str, Any]], list[Rule]]:
        """``check_row`` with ``ctx`` bound: every rule's parameters are read once here,
        so checking many rows against one context costs one predicate call per rule."""
        checks = tuple((rule, rule.predicate(ctx)) for rule in self.ordered(self.rules))
        return lambda row: [rule for rule, broken in checks if broken(row)]

    def check_row(self, row: Mapping[str, Any], ctx: PyContext) -> list[Rule]:
        """Every rule the row breaks, most serious first."""
        return self.bind(ctx)(row)
