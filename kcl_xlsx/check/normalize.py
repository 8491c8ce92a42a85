"""Turn the raw cells of one plan row into the values the rules check, the way a person
would read them, reporting every automatic fix as info/warning so the office sees it.

Raw values come from python-calamine (str, float, int, bool, datetime, date, time, None).
The output of :func:`normalize_row` is a dict ``field -> value`` in the template's own
vocabulary (dropdown labels, numbers in triệu đồng), plus derived fields used by the
summary (codes, month ordinals, budget min/max, lead and collaborators).

A file's rows repeat the same dropdown labels over and over, and a run checks many files of
one template: the lookup tables are built once per spec (:class:`_SpecTables`), what a
piece of text needs cleaning-wise is worked out once per text (:func:`_text_facts`), and a
cell's position is only asked for when there is an issue to report.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Any, Callable

from kcl_xlsx.base.text import number_text
from kcl_xlsx.spec.freetext import clean, find_sources, fold, match_role, parse_budget, parse_owners, parse_period
from kcl_xlsx.spec.issues import Code, Issue
from kcl_xlsx.spec.plan_spec import PlanSpec


_FORMULA_START = re.compile(r"^(?:[=+@]|-\S)")
_TWO_PART_CODE = re.compile(r"(\d+)\s*[.,]\s*(\d+)")
_ONE_NUMBER = re.compile(r"(?<![\d.])(\d+)(?![\d.])")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


@dataclasses.dataclass
class Normalized:
    values: dict[str, Any]
    derived: dict[str, Any]
    issues: list[Issue]


class _SpecTables:
    """What the normaliser looks up that depends on the spec alone (not on a file's staff)."""

    def __init__(self, spec: PlanSpec):
        lists = spec.lists
        self.keys = tuple(f.key for f in spec.form.fields)
        # field -> the list its dropdown offers (form.yaml `choices`): a value picked from it needs no reading
        self.list_of = {f.key: f.choices for f in spec.form.fields if f.type == "choice" and f.choices in lists}
        self.labels = {name: {fold(v): v for v in lists[name]} for name in set(self.list_of.values())}
        self.std_by_code = {s.code: s.label for s in spec.framework.standards}
        self.std_by_name = {fold(s.name): s.label for s in spec.framework.standards}
        self.crit_by_code = {c.code: c.label for c in spec.framework.all_items()}
        self.crit_by_name = {fold(c.name): c.label for c in spec.framework.all_items()}
        self.code_of = {c.label: c.code for c in spec.framework.all_items()}
        self.std_of = {c.label: c.standard for c in spec.framework.all_items()}
        self.level_by_number = {lv: spec.choices.level_label(lv) for lv in spec.framework.levels}
        self.funding_aliases = spec.choices.funding_aliases()
        self.funding_label = {o.key: o.label for o in spec.choices.funding}
        self.periods = {p.label: p for p in spec.periods}
        self.spans = {label: (a, b) for label, a, b in spec.choices.spans}
        self.exact = {name: frozenset(labels.values()) for name, labels in self.labels.items()}
        self.month_label = spec.choices.month_label
        self.top_label = spec.top_label
        # fields shown, not typed (form derived_from): the criterion's standard
        self.derived = tuple(f.key for f in spec.form.derived)
        self.shown_standard = spec.criterion_standard
        self.role_by_fold = {fold(o): o for o in reversed(spec.choices.owners)}  # first spelling wins
        self.roles = spec.form.roles


class RowNormalizer:
    """Built once per file (its staff join the owners); ``where(field)`` names a cell for
    messages and is only called for an issue."""

    def __init__(self, spec: PlanSpec, staff: list[str], funding_from: str | None = None,
                 keep_range_text: bool = False):
        # funding_from: a field whose cell may name the funding source when nothing else
        # does (a Word plan's nine columns have no Nguồn kinh phí: schools write "Xã hội hóa"
        # under Điều kiện hỗ trợ khác, beside the amount)
        self.spec, self.staff, self.funding_from = spec, staff, funding_from
        # keep_range_text: a cost written as a range keeps its text (derived "budget_text"):
        # `import` puts it back in the template as written (Word plans only, so the rows of
        # a workbook are derived exactly as before)
        self.keep_range_text = keep_range_text
        tables = spec.derived(_SpecTables)
        self.keys, self.labels, self.exact = tables.keys, tables.labels, tables.exact
        self.std_by_code, self.std_by_name = tables.std_by_code, tables.std_by_name
        self.crit_by_code, self.crit_by_name = tables.crit_by_code, tables.crit_by_name
        self.code_of, self.std_of, self.level_by_number = tables.code_of, tables.std_of, tables.level_by_number
        self.funding_aliases, self.funding_label = tables.funding_aliases, tables.funding_label
        self.periods, self.spans, self.month_label = tables.periods, tables.spans, tables.month_label
        self.top_label = tables.top_label
        self.derived, self.shown_standard = tables.derived, tables.shown_standard
        self.r, self.list_of = tables.roles, tables.list_of
        self.owners = list(spec.choices.owners) + list(staff)
        self.owner_by_fold = tables.role_by_fold
        if staff:
            self.owner_by_fold = {fold(o): o for o in reversed(self.owners)}  # first spelling wins

    def normalize(self, raw: dict[str, Any], where: Callable[[str], dict]) -> Normalized:
        out = Normalized({}, {}, [])
        v = out.values
        for key in self.keys:
            value = raw.get(key)
            if value is None:
                v[key] = None
                continue
            if value.__class__ is float and not (value - value == 0 and abs(value) >= _SMALLEST):  # inf, nan, 0, -0, tiny
                v[key] = _odd_number(value, key, where, out)
                continue
            if value.__class__ is str:
                cleaned, what, formula_first = _text_facts(value)
                if not (what or formula_first):  # most cells: nothing to report
                    v[key] = cleaned or None
                    continue
            v[key] = self._text(value, key, where, out)
        r = self.r
        self._choice(r.level, self._muc, v, where, out)
        self._choice(r.standard, self._standard, v, where, out)
        self._choice(r.criterion, lambda t: self._criterion(t, v.get(r.level)), v, where, out)
        for key in self.derived:
            if v.get(key) is None:  # a formula cell without a stored result: what it would show
                crit = v.get(r.criterion)
                v[key] = (self.shown_standard.get(crit) or None) if isinstance(crit, str) else None
        self._choice(r.funding, self._funding, v, where, out)
        self._choice(r.status, lambda t: self.labels_of(r.status).get(fold(t)), v, where, out)
        self._lead(v, where, out)
        self._periods(v, where, out)
        self._budget(v, where, out)
        self._derive(v, out)
        return out

    # -- text ---------------------------------------------------------------------------------

    def labels_of(self, field: str) -> dict[str, str]:
        """The folded labels of ``field``'s dropdown list -> the label as the list writes it."""
        return self.labels.get(self.list_of.get(field, ""), {})

    def _text(self, value: Any, field: str, where, out: Normalized) -> Any:
        if value is None or isinstance(value, bool):
            return None if value is None else str(value)
        if isinstance(value, (int, float, dt.date, dt.datetime, dt.time)):
            return value
        text = str(value)
        cleaned, what, formula_first = _text_facts(text)
        if what:
            out.issues.append(Issue.make(Code.TEXT_NORMALIZED, what=what, value=text, **where(field)))
        if formula_first:
            out.issues.append(Issue.make(Code.TEXT_FORMULA_LIKE, first=formula_first, value=cleaned, **where(field)))
        return cleaned or None

    def _choice(self, field: str, resolve, v: dict, where, out: Normalized) -> None:
        value = v.get(field)
        if value is None or field not in v:
            return
        if isinstance(value, str) and value in self.exact.get(self.list_of.get(field, ""), ()):
            return  # picked from the dropdown: nothing to interpret
        hit = resolve(value if isinstance(value, str) else number_text(value))
        if hit and hit != value:
            shown = value if isinstance(value, str) else number_text(value)
            out.issues.append(Issue.make(Code.VALUE_INTERPRETED, value=shown, result=hit, **where(field)))
            v[field] = hit

    def _muc(self, text: str) -> str | None:
        hit = self.labels_of(self.r.level).get(fold(text))
        if hit:
            return hit
        f = fold(text).replace("muc", "").replace("m", "").strip()
        n = _ROMAN.get(f) or (int(f) if f.isdigit() else None)
        return self.level_by_number.get(n) if n else None

    def _standard(self, text: str) -> str | None:
        hit = self.labels_of(self.r.standard).get(fold(text))
        if hit:
            return hit
        m = _ONE_NUMBER.search(text)
        if m and m.group(1) in self.std_by_code:
            return self.std_by_code[m.group(1)]
        name = fold(re.sub(r"^.*?\d+\s*[:.\-–]\s*", "", text))
        return self.std_by_name.get(name)

    def _criterion(self, text: str, muc: Any) -> str | None:
        hit = self.labels_of(self.r.criterion).get(fold(text))
        if hit:
            return hit
        top = self.top_label
        in_top = top is not None and muc == top
        m = _TWO_PART_CODE.search(text)
        if m and not in_top:
            code = f"{int(m.group(1))}.{int(m.group(2))}"
            if code in self.crit_by_code:
                return self.crit_by_code[code]
        if in_top:
            m4 = re.search(r"(?:m\s*4\s*[.,]\s*)?(\d+)", fold(text))
            if m4 and f"M4.{int(m4.group(1))}" in self.crit_by_code:
                return self.crit_by_code[f"M4.{int(m4.group(1))}"]
        name = fold(re.sub(r"^.*?\d+(?:\s*[.,]\s*\d+)?\s*[:.\-–]\s*", "", text))
        return self.crit_by_name.get(name)

    def _funding(self, text: str) -> str | None:
        hit = self.labels_of(self.r.funding).get(fold(text))
        if hit:
            return hit
        keys = find_sources(text, self.funding_aliases)
        return self.funding_label.get(keys[0]) if len(keys) == 1 else None

    def _lead(self, v: dict, where, out: Normalized) -> None:
        lead, collaborators = self.r.lead, self.r.collaborators
        value = v.get(lead)
        if not isinstance(value, str):
            return
        aliases = self.spec.choices.owner_aliases
        if fold(value) in self.owner_by_fold:
            v[lead] = self.owner_by_fold[fold(value)]
            return
        parsed = parse_owners(value, self.owners, aliases)
        if parsed and parsed.lead and parsed.collaborators:
            others = ", ".join(parsed.collaborators)
            out.issues.append(Issue.make(Code.OWNER_SPLIT, value=value, lead=parsed.lead, others=others, **where(lead)))
            v[lead] = parsed.lead
            if not v.get(collaborators):
                v[collaborators] = others
            return
        role = match_role(value, self.owners, aliases)
        if role and role != value:
            out.issues.append(Issue.make(Code.VALUE_INTERPRETED, value=value, result=role, **where(lead)))
            v[lead] = role

    def _period_value(self, value: Any):
        if isinstance(value, str) and value in self.periods:
            p = self.periods[value]
            return p.label, (p.first, p.last)
        parsed = parse_period(value, self.spec.year.start, self.spans)
        if parsed is None:
            return None, None
        for label, (a, b) in self.spans.items():
            base = self.spec.year.start * 12 + self.spec.choices.first_month - 1
            if (parsed.start, parsed.end) == (base + a, base + b):
                return label, (parsed.start, parsed.end)
        return None, (parsed.start, parsed.end)

    def _month(self, ordinal: int) -> str:
        return self.month_label.format(month=ordinal % 12 + 1, year=ordinal // 12)

    def _periods(self, v: dict, where, out: Normalized) -> None:
        start, end = self.r.start, self.r.end
        start_label, start_span = self._period_value(v.get(start))
        end_label, end_span = self._period_value(v.get(end))
        if start_span and not v.get(end) and start_span[1] != start_span[0] and start_label is None:
            # "Tháng 10/2025 và hoàn thành tháng 5/2026" typed in Bắt đầu only
            out.issues.append(Issue.make(Code.PERIOD_SPLIT, value=v.get(start), **where(start)))
            end_span, end_label = (start_span[1], start_span[1]), self._month(start_span[1])
            v[end] = end_label
        # derived names are the roles' ("start_month"): the ledger and the summary read them
        for role, field, label, span, pick in (("start", start, start_label, start_span, 0),
                                               ("end", end, end_label, end_span, 1)):
            if span is None:
                continue
            new = label or self._month(span[pick])
            if new != v.get(field):
                out.issues.append(Issue.make(Code.VALUE_INTERPRETED, value=v.get(field), result=new, **where(field)))
                v[field] = new
            out.derived[f"{role}_month"] = span[pick]
            out.derived[f"{role}_span"] = span

    def _budget(self, v: dict, where, out: Normalized) -> None:
        budget, funding = self.r.budget, self.r.funding
        value = v.get(budget)
        if value is None:
            out.derived.update(budget_min=None, budget_max=None)
            return
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.derived.update(budget_min=float(value), budget_max=float(value))
            return
        parsed = parse_budget(value, self.funding_aliases)
        if parsed is None:
            out.derived.update(budget_min=None, budget_max=None)
            return  # the number rule reports it
        if parsed.sources and not v.get(funding):
            label = self.funding_label.get(parsed.sources[0])
            if label:
                out.issues.append(Issue.make(Code.VALUE_INTERPRETED, value=value, result=label, **where(funding)))
                v[funding] = label
        if parsed.none and not v.get(funding) and self.spec.choices.no_funding:
            v[funding] = self.spec.choices.no_funding.label
        if parsed.min is None:
            v[budget] = None
            out.derived.update(budget_min=None, budget_max=None)
            return
        result = _fmt(parsed.min) if parsed.min == parsed.max else f"{_fmt(parsed.min)}-{_fmt(parsed.max)}"
        if not parsed.exact and not (parsed.none and parsed.max == 0):  # "Không": no money, nothing to double-check
            out.issues.append(Issue.make(Code.BUDGET_PARSED_FROM_TEXT, value=value, result=result, **where(budget)))
        if parsed.max != parsed.min:
            out.issues.append(Issue.make(Code.BUDGET_RANGE, low=_fmt(parsed.min), high=_fmt(parsed.max), value=value,
                                         **where(budget)))
            if self.keep_range_text:
                out.derived["budget_text"] = value
        # the rules check one number: the low end, unless the high end (which enters the
        # "tối đa" totals) is beyond the form's ceiling, so that the max rule sees it
        v[budget] = parsed.max if parsed.max > self.spec.form.budget_ceiling else parsed.min
        out.derived.update(budget_min=parsed.min, budget_max=parsed.max)
        if parsed.max > 0 and not v.get(funding) and self.funding_from:
            self._funding_elsewhere(v, where, out)

    def _funding_elsewhere(self, v: dict, where, out: Normalized) -> None:
        """The source named by a cell that holds nothing but a source ("Xã hội hóa")."""
        text = v.get(self.funding_from)
        key = self._funding_keys().get(fold(text)) if isinstance(text, str) else None
        nofund = self.spec.choices.no_funding
        label = self.funding_label.get(key) if key and not (nofund and key == nofund.key) else None
        if label:
            out.issues.append(Issue.make(Code.VALUE_INTERPRETED, value=text, result=label, **where(self.r.funding)))
            v[self.r.funding] = label

    def _funding_keys(self) -> dict[str, str]:
        return {fold(alias): key for alias, key in self.funding_aliases.items()}

    def _derive(self, v: dict, out: Normalized) -> None:
        r = self.r
        crit = v.get(r.criterion)
        code = self.code_of.get(crit, "") if isinstance(crit, str) else ""
        std = self.std_of.get(crit, "") if isinstance(crit, str) else ""
        top = self.top_label
        out.derived["criterion_code"] = code
        out.derived["standard_code"] = std or next(
            (c for c, label in self.std_by_code.items() if label == v.get(r.standard)), "")
        out.derived["section"] = "muc4" if top and v.get(r.level) == top else "muc1_3"
        out.derived.setdefault("start_month", None)
        out.derived.setdefault("end_month", None)


# The smallest normal double: below it (a subnormal, e.g. 1e-320) Excel reads 0, and the
# Python side must read what Excel does (the min rule, the totals).
_SMALLEST = 2.2250738585072014e-308


def _odd_number(value: float, field: str, where, out: Normalized) -> float | None:
    """A float no spreadsheet program holds, from a hand-edited or generated file.

    ``inf``, ``-inf`` and NaN (``<v>inf</v>``, ``<v>NaN</v>``, ``<v>1e400</v>``): an error
    at the cell, whatever the field (every form version: the check is here, not in a
    form's rules), and the value dropped, so that no rule, total or output ever sees it.
    A subnormal is read as 0, as Excel reads it (info); ``-0`` is 0 (no issue: the same
    number, only its sign bit differs)."""
    if value - value != 0:  # inf - inf and nan - nan are NaN
        out.issues.append(Issue.make(Code.NUMBER_NOT_FINITE, value=repr(value), **where(field)))
        return None
    if value != 0:
        out.issues.append(Issue.make(Code.NUMBER_TINY, value=repr(value), **where(field)))
    return 0.0


@lru_cache(maxsize=1 << 14)
def _text_facts(text: str) -> tuple[str, str, str]:
    """What reading ``text`` from a cell involves, the same for every cell that holds it: the
    cleaned text, what cleaning changed that a person should hear of ("" if nothing), and
    the first character when the text looks like a formula ("" if not)."""
    cleaned = clean(text)
    what = _what_changed(text) if cleaned != text else ""
    formula_like = bool(_FORMULA_START.match(cleaned)) and not _is_number_text(cleaned)
    return cleaned, what, cleaned[0] if formula_like else ""


def _what_changed(text: str) -> str:
    parts = []
    if unicodedata.normalize("NFC", text) != text:
        parts.append("Unicode tổ hợp (NFD) -> dựng sẵn (NFC)")
    if any(ch in text for ch in "\u00a0\u2007\u202f"):
        parts.append("khoảng trắng không ngắt")
    if any(ch in text for ch in "\u200b\u200c\u200d\u2060\ufeff\u00ad"):
        parts.append("ký tự ẩn")
    return ", ".join(parts)


def _is_number_text(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?\d+(?:[.,]\d+)*", text))


def _fmt(x: float) -> str:
    return (f"{x:,.3f}".rstrip("0").rstrip(".")).replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
