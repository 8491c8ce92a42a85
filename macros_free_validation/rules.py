"""Row rules declared once, compiled two ways.

A :class:`Rule` is data (a kind, the fields it reads, a message).  Each kind knows how to
say "this row breaks me" twice:

* as an Excel formula, for the live Kiểm tra cell and the red conditional formats of the
  template (macro-free: plain functions every spreadsheet program evaluates), and
* as a Python predicate, run by the ingest side on every row read back from a file.

The two must agree on every row a school can type: tests fill rows, let LibreOffice
compute the formulas, and compare with the Python verdicts.  This module knows nothing of
schools: fields, list names and messages come from the form (workbook_templates).

Formula notes (measured, see research/excel_pitfalls.md): membership uses SUMPRODUCT over a
defined name, not COUNTIF/MATCH, because those treat ``*``/``?`` as wildcards and fail on
text over 255 characters; comparisons of text are case-insensitive in Excel, so the Python
side compares casefolded text too.
"""
from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
import unicodedata
from typing import Any, Callable, Mapping, Sequence

from .report import Severity

_SPACES = re.compile(" {2,}")
NBSP = "\u00a0"

# -- the row as the Python side sees it ------------------------------------------------


@dataclasses.dataclass
class PyContext:
    """What a Python predicate may consult besides the row itself."""

    lists: Mapping[str, Sequence[str]]
    # name -> function(value) -> (first_month_ordinal, last_month_ordinal) | None
    spans: Mapping[str, Callable[[Any], tuple[int, int] | None]] = dataclasses.field(default_factory=dict)
    _folded: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict, repr=False)
    _pairs: dict[tuple[str, str], frozenset[tuple[str, str]]] = dataclasses.field(default_factory=dict, repr=False)

    def in_list(self, name: str, value: Any) -> bool:
        if name not in self._folded:
            self._folded[name] = _remembered(_folded_set, tuple(self.lists[name]))
        return _excel_fold(value) in self._folded[name]

    def pair_in(self, keys: str, values: str, key: Any, value: Any) -> bool:
        if (keys, values) not in self._pairs:
            self._pairs[(keys, values)] = _remembered(_folded_pairs, tuple(zip(self.lists[keys], self.lists[values])))
        return (_excel_fold(key), _excel_fold(value)) in self._pairs[(keys, values)]


# A context is made per file, but its lists are the template's (only the owners gain the
# school's staff): their folded forms are kept across contexts, keyed by the lists' items.
@lru_cache(maxsize=64)
def _folded_set(items: tuple) -> frozenset[str]:
    return frozenset(_excel_fold(v) for v in items)


@lru_cache(maxsize=64)
def _folded_pairs(pairs: tuple) -> frozenset[tuple[str, str]]:
    return frozenset((_excel_fold(k), _excel_fold(v)) for k, v in pairs)


def _remembered(make: Callable[[tuple], frozenset], items: tuple) -> frozenset:
    try:
        return make(items)
    except TypeError:  # an unhashable item: nothing to remember it by
        return make.__wrapped__(items)


@dataclasses.dataclass(frozen=True)
class ExcelContext:
    """How a predicate names things in a formula: ``ref("budget")`` -> ``$K5``,
    ``name("owners")`` -> the workbook-level defined name of that list.

    ``nbsp``, ``space`` and ``guard`` are how a formula writes the no-break space, a space and
    the character a no-break space becomes before TRIM (see :func:`_xl_val`): string literals
    by default, or defined names of cells holding them (a name is shorter than a literal,
    and a template writes its check formula in each of 200 rows).  ``filled`` and ``clean``:
    what earlier rules of the same check chain have already proved (see Rule.proves), so a
    later rule need not test it again (see RuleSet.check_number)."""

    ref: Callable[[str], str]
    name: Callable[[str], str]
    nbsp: str = '"' + NBSP + '"'
    space: str = '" "'
    guard: str = '"|"'
    filled: frozenset = frozenset()
    clean: frozenset = frozenset()


def is_blank(value: Any) -> bool:
    # the sheet's blank test: spaces and no-break spaces only
    return value is None or (isinstance(value, str) and not value.strip(" \u00a0"))


def is_number(value: Any) -> bool:
    # a finite number: inf and NaN are what no spreadsheet cell holds (Excel refuses the
    # file), so they are "not a number" for every rule, in every form version
    if isinstance(value, float):
        return value - value == 0
    return isinstance(value, int) and not isinstance(value, bool)


def _excel_fold(value: Any) -> str:
    # Like the sheet's TRIM (ends trimmed, inner runs of spaces collapsed) and Excel's
    # case-insensitive comparison; NFC on top (see _xl_val).  Nothing looser
    # (diacritics and invisible characters stay): a rule's Python side must agree with its
    # Excel formula, whatever matching the application does on its own side.
    return _excel_fold_text(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=1 << 16)
def _excel_fold_text(text: str) -> str:
    # cached: a run compares the same labels thousands of times
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).strip(" ")).casefold()


def xl_text(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


GUARD = "|"  # what a no-break space becomes before TRIM: no list value may hold it (the builder checks)


def _xl_val(cell: str, ctx: ExcelContext, field: str = "") -> str:
    """A cell's text as the Python side sees it after cleaning (ends trimmed, inner runs of
    spaces collapsed).  Unicode normalisation has no sheet function: NFD text stays an
    error in the sheet (the safe direction) while ingest fixes it and says so.

    Excel's and LibreOffice's TRIM remove spaces only; Gnumeric's also removes no-break
    spaces (and other Unicode white space) at the ends (measured, Gnumeric 1.12.55).  The
    no-break spaces become ``GUARD`` first, so "Mức 2" followed by a no-break space is not
    in a list in any program, as in Python.  A field the chain has proved ``clean`` (a
    list value, or blank) holds none: plain TRIM."""
    if field and field in ctx.clean:
        return f"TRIM({cell})"
    return f"TRIM(SUBSTITUTE({cell},{ctx.nbsp},{ctx.guard}))"


def _xl_blank(cell: str, ctx: ExcelContext) -> str:
    # The no-break space is written literally (or as a name of a cell holding it): CHAR(160)
    # depends on the code page (in LibreOffice on Linux it is not U+00A0) and UNICHAR is
    # missing from Excel 2010.
    # Compared with "" rather than LEN(...)=0: the same verdict in every program (a number
    # or date becomes its text, an error stays an error) in fewer characters, written in
    # each of the template's rows.
    return f'TRIM(SUBSTITUTE({cell},{ctx.nbsp},{ctx.space}))=""'


def _xl_filled(cell: str, ctx: ExcelContext, field: str = "") -> str:
    if field and field in ctx.clean:  # no no-break space in it
        return f'TRIM({cell})<>""'
    return f'TRIM(SUBSTITUTE({cell},{ctx.nbsp},{ctx.space}))<>""'


# -- rule kinds ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Rule:
    """One declared rule.  ``field`` is the cell reported and turned red."""

    code: str
    kind: str
    field: str
    message: str  # short Vietnamese text shown in the Kiểm tra cell
    hint: str = ""
    severity: Severity = Severity.ERROR
    live: bool = True  # False: checked on ingest only (no in-sheet formula)
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def violated(self, row: Mapping[str, Any], ctx: PyContext) -> bool:
        return self.predicate(ctx)(row)

    def predicate(self, ctx: PyContext) -> "Predicate":
        """The Python side bound to a context: ``predicate(row)`` is True when the row
        breaks the rule.  Bind once and call it for every row."""
        return KINDS[self.kind].python(self, ctx)

    def excel(self, ctx: ExcelContext) -> str:
        return KINDS[self.kind].excel(self, ctx)

    def p(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    def proves(self) -> tuple[str, tuple]:
        """What a row that passed this rule is known to hold, for the rules after it in a
        check chain: ("filled", field) for a plain ``required`` rule, ("filled", (field,
        unless_field, unless_value)) for one with an exception, ("clean", field) for an
        ``in_list`` rule (the field is blank or a list value: no no-break space in it)."""
        if self.kind == "required":
            other = self.p("unless_field")
            return "filled", (self.field, other, _excel_fold(self.p("unless_value", ""))) if other else self.field
        if self.kind == "in_list":
            return "clean", self.field
        return "", ()


Predicate = Callable[[Mapping[str, Any]], bool]


@dataclasses.dataclass(frozen=True)
class Kind:
    # python(rule, ctx) -> predicate(row): the rule's parameters are read when it is bound,
    # not again for every row (a file has hundreds of rows, a rule set dozens of rules)
    python: Callable[[Rule, PyContext], Predicate]
    excel: Callable[[Rule, ExcelContext], str]
    params: tuple[str, ...] = ()


def _on_value(field: str, verdict: Callable[[Any], bool]) -> Predicate:
    """The predicate of a rule that reads one field: ``verdict(value)``, remembered per
    text value (and for an empty cell), since a file repeats its dropdown values row after
    row.  (Numbers and dates are judged each time: they are cheap, and 1 == 1.0 == True
    would share a slot.)"""
    known: dict[str | None, bool] = {}

    def broken(row: Mapping[str, Any]) -> bool:
        value = row.get(field)
        if value.__class__ is not str and value is not None:
            return verdict(value)
        hit = known.get(value)
        if hit is None:
            hit = known[value] = verdict(value)
        return hit
    return broken


def _on_pair(read: Callable[[Mapping[str, Any]], tuple[Any, Any]], verdict: Callable[[Any, Any], bool]) -> Predicate:
    """:func:`_on_value` for a rule that reads two values: ``verdict(*read(row))``."""
    known: dict[tuple[str | None, str | None], bool] = {}

    def broken(row: Mapping[str, Any]) -> bool:
        pair = read(row)
        a, b = pair
        if (a.__class__ is not str and a is not None) or (b.__class__ is not str and b is not None):
            return verdict(a, b)
        hit = known.get(pair)
        if hit is None:
            hit = known[pair] = verdict(a, b)
        return hit
    return broken


def _all(*terms: str) -> str:
    """AND of the terms that are not known TRUE ("" stands for a term known TRUE)."""
    terms = tuple(t for t in terms if t)
    return terms[0] if len(terms) == 1 else f"AND({','.join(terms)})"


def _filled_xl(field: str, cell: str, ctx: ExcelContext) -> str:
    """``field`` is not blank: "" (known TRUE) when an earlier rule of the chain proved it."""
    return "" if field in ctx.filled else _xl_filled(cell, ctx)


def _required_py(rule: Rule, ctx: PyContext) -> Predicate:
    field, other = rule.field, rule.p("unless_field")
    if not other:
        return _on_value(field, is_blank)
    excused = _excel_fold(rule.p("unless_value", ""))
    return _on_pair(lambda row: (row.get(field), row.get(other)),
                    lambda value, other_value: is_blank(value) and _excel_fold(other_value or "") != excused)


def _required_xl(rule: Rule, ctx: ExcelContext) -> str:
    cell, other = ctx.ref(rule.field), rule.p("unless_field")
    if not other:
        return _xl_blank(cell, ctx)
    return f"AND({_xl_blank(cell, ctx)},{_xl_val(ctx.ref(other), ctx, other)}<>{xl_text(rule.p('unless_value', ''))})"


def _in_list_py(rule: Rule, ctx: PyContext) -> Predicate:
    name = rule.p("list")
    return _on_value(rule.field, lambda value: not is_blank(value) and not ctx.in_list(name, value))


def _in_list_xl(rule: Rule, ctx: ExcelContext) -> str:
    cell = ctx.ref(rule.field)
    return _all(_filled_xl(rule.field, cell, ctx), f"SUMPRODUCT(--({ctx.name(rule.p('list'))}={_xl_val(cell, ctx, rule.field)}))=0")


def _pair_key_py(rule: Rule) -> Callable[[Mapping[str, Any]], Any]:
    key_field, override = rule.p("key_field"), rule.p("override_field")
    if not override:
        return lambda row: row.get(key_field)
    when, key = _excel_fold(rule.p("override_value")), rule.p("override_key")
    return lambda row: key if _excel_fold(row.get(override) or "") == when else row.get(key_field)


def _pair_key_xl(rule: Rule, ctx: ExcelContext) -> str:
    key = ctx.ref(rule.p("key_field"))
    if not rule.p("override_field"):
        return key
    other = rule.p("override_field")
    return (f"IF({_xl_val(ctx.ref(other), ctx, other)}={xl_text(rule.p('override_value'))},"
            f"{xl_text(rule.p('override_key'))},{key})")


def _pair_in_py(rule: Rule, ctx: PyContext) -> Predicate:
    field, key_of, keys, values = rule.field, _pair_key_py(rule), rule.p("keys"), rule.p("values")

    def broken(key: Any, value: Any) -> bool:
        if is_blank(value) or is_blank(key):
            return False  # the required rules speak for a missing half
        return not ctx.pair_in(keys, values, key, value)
    return _on_pair(lambda row: (key_of(row), row.get(field)), broken)


def _pair_in_xl(rule: Rule, ctx: ExcelContext) -> str:
    cell, key = ctx.ref(rule.field), _pair_key_xl(rule, ctx)
    keys, values = ctx.name(rule.p("keys")), ctx.name(rule.p("values"))
    # The key is a field, or IF(override, constant, field): known filled when the field is,
    # or when a "required unless override" rule passed (the constant itself not blank);
    # clean when the field is (a constant never holds a no-break space).
    key_field, other = rule.p("key_field"), rule.p("override_field")
    excused = (key_field, other, _excel_fold(rule.p("override_value", ""))) in ctx.filled
    key_known = key_field in ctx.filled or (other and excused and not is_blank(rule.p("override_key")))
    key_val_field = key_field if not other or NBSP not in str(rule.p("override_key")) else ""
    key_val = _xl_val(key, ctx, key_val_field)
    return _all(_filled_xl(rule.field, cell, ctx), "" if key_known else _xl_filled(key, ctx, key_val_field),
                f"SUMPRODUCT(({keys}={key_val})*({values}={_xl_val(cell, ctx, rule.field)}))=0")


def _number_py(rule: Rule, ctx: PyContext) -> Predicate:
    return _on_value(rule.field, lambda value: not is_blank(value) and not is_number(value))


def _number_xl(rule: Rule, ctx: ExcelContext) -> str:
    cell = ctx.ref(rule.field)  # a cell of spaces only is blank, as in Python
    return _all(_filled_xl(rule.field, cell, ctx), f"NOT(ISNUMBER({cell}))")


def _min_py(rule: Rule, ctx: PyContext) -> Predicate:
    low = rule.p("min")
    return _on_value(rule.field, lambda value: is_number(value) and value < low)


def _min_xl(rule: Rule, ctx: ExcelContext) -> str:
    cell = ctx.ref(rule.field)
    return f"AND(ISNUMBER({cell}),{cell}<{rule.p('min')})"


def _max_py(rule: Rule, ctx: PyContext) -> Predicate:
    high = rule.p("max")
    return _on_value(rule.field, lambda value: is_number(value) and value > high)


def _max_xl(rule: Rule, ctx: ExcelContext) -> str:
    cell = ctx.ref(rule.field)
    return f"AND(ISNUMBER({cell}),{cell}>{rule.p('max')})"


def _not_before_py(rule: Rule, ctx: PyContext) -> Predicate:
    span, start_field, field = ctx.spans.get(rule.p("spans")), rule.p("start_field"), rule.field

    def broken(start: Any, end: Any) -> bool:
        if span is None or is_blank(start) or is_blank(end):
            return False
        a, b = span(start), span(end)
        return a is not None and b is not None and b[1] < a[0]
    return _on_pair(lambda row: (row.get(start_field), row.get(field)), broken)


def _not_before_xl(rule: Rule, ctx: ExcelContext) -> str:
    # The period table has three parallel lists: labels, first month, last month.
    labels, first, last = (ctx.name(f"{rule.p('spans')}{s}") for s in ("", "_first", "_last"))
    fields = (rule.p("start_field"), rule.field)
    start, end = (ctx.ref(f) for f in fields)
    if all(f in ctx.filled and f in ctx.clean for f in fields):
        # Earlier rules of the chain proved both are list values (filled, and in the list
        # once trimmed): each matches one label, so no test that they are known, and TRIM
        # makes "Tháng 9 " the label it was accepted as (Python trims too).
        start, end = f"TRIM({start})", f"TRIM({end})"
        return f"SUMPRODUCT(({labels}={end})*{last})<SUMPRODUCT(({labels}={start})*{first})"
    first_of_start = f"SUMPRODUCT(({labels}={start})*{first})"
    last_of_end = f"SUMPRODUCT(({labels}={end})*{last})"
    known = f"SUMPRODUCT(--({labels}={start}))*SUMPRODUCT(--({labels}={end}))>0"
    filled = (f"{c}<>\"\"" for f, c in zip(fields, (start, end)) if f not in ctx.filled)
    return _all(*filled, known, f"{last_of_end}<{first_of_start}")


def _positive(value: Any) -> bool:
    return is_number(value) and value > 0


def _positive_xl(cell: str) -> str:
    # Not AND(ISNUMBER(x),N(x)>0): AND evaluates every argument, and Gnumeric's N of an
    # empty cell is #NUM! (measured, 1.12.55).  IF without an else part is FALSE.
    return f"IF(ISNUMBER({cell}),{cell}>0)"


def _forbid_when_py(rule: Rule, ctx: PyContext) -> Predicate:
    field, other_field, when = rule.field, rule.p("when_field"), _excel_fold(rule.p("when_value"))

    def broken(row: Mapping[str, Any]) -> bool:
        other = row.get(other_field)
        return _positive(row.get(field)) and not is_blank(other) and _excel_fold(other) == when
    return broken


def _forbid_when_xl(rule: Rule, ctx: ExcelContext) -> str:
    cell, other = ctx.ref(rule.field), ctx.ref(rule.p("when_field"))
    return f"AND({_positive_xl(cell)},{_xl_val(other, ctx, rule.p('when_field'))}={xl_text(rule.p('when_value'))})"


def _require_when_py(rule: Rule, ctx: PyContext) -> Predicate:
    field, other = rule.field, rule.p("when_positive")
    return lambda row: is_blank(row.get(field)) and _positive(row.get(other))


def _require_when_xl(rule: Rule, ctx: ExcelContext) -> str:
    cell, other = ctx.ref(rule.field), ctx.ref(rule.p("when_positive"))
    return f"AND({_xl_blank(cell, ctx)},{_positive_xl(other)})"


KINDS: Mapping[str, Kind] = {
    "required": Kind(_required_py, _required_xl, ("unless_field", "unless_value")),
    "in_list": Kind(_in_list_py, _in_list_xl, ("list",)),
    "pair_in": Kind(_pair_in_py, _pair_in_xl,
                    ("key_field", "keys", "values", "override_field", "override_value", "override_key")),
    "number": Kind(_number_py, _number_xl),
    "min": Kind(_min_py, _min_xl, ("min",)),
    "max": Kind(_max_py, _max_xl, ("max",)),
    "not_before": Kind(_not_before_py, _not_before_xl, ("start_field", "spans")),
    "forbid_when": Kind(_forbid_when_py, _forbid_when_xl, ("when_field", "when_value")),
    "require_when": Kind(_require_when_py, _require_when_xl, ("when_positive",)),
}
