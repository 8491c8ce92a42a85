"""Compile a list of rules into the two artefacts: in-sheet formulas and a Python checker."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping

from .report import Severity
from .rules import KINDS, ExcelContext, PyContext, Rule


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

    def chain(self) -> list[Rule]:
        """The live rules in the order a Kiểm tra cell tries them: the first broken one shows."""
        return self.ordered(self.live)

    def check_messages(self, ok: str, warn_prefix: str) -> list[str]:
        """What a Kiểm tra cell can show, in :meth:`chain` order, then ``ok``: a template
        writes these once (a list on a hidden sheet) and each row shows one by number."""
        return [r.message if r.severity == Severity.ERROR else warn_prefix + r.message for r in self.chain()] + [ok]

    def check_number(self, ctx: ExcelContext) -> str:
        """An expression for the number of the first live rule the row breaks, in
        :meth:`chain` order (1-based; ``len(chain) + 1``, the ``ok`` message, when none).

        Nested IFs returning small integers: no text in the row formula.  A rule the row
        has passed further up proves something of its field (``Rule.proves``: filled, or a
        list value), so later rules of the chain drop their own test of it."""
        known: dict[str, set] = {"filled": set(ctx.filled), "clean": set(ctx.clean)}
        tests = []
        for rule in self.chain():
            tests.append(rule.excel(dataclasses.replace(
                ctx, filled=frozenset(known["filled"]), clean=frozenset(known["clean"]))))
            what, fact = rule.proves()
            if what:
                known[what].add(fact)
        expr = str(len(tests) + 1)
        for n in range(len(tests), 0, -1):
            expr = f"IF({tests[n - 1]},{n},{expr})"
        return expr

    def check_formula(self, ctx: ExcelContext, empty_expr: str, messages: str) -> str:
        """The Kiểm tra cell: blank for an empty row, else the message (from the list named
        ``messages``, see :meth:`check_messages`) of the first problem, else ``ok``."""
        return f'=IF({empty_expr},"",INDEX({messages},{self.check_number(ctx)}))'

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
