"""Glue between the data (workbook_templates) and the rules (macros_free_validation).

A :class:`PlanSpec` is everything one template and its checks depend on: the form, the
choice lists, one framework of the catalog, the school level and the school year.  The
lists it computes are written to the template's list sheet *and* used by the ingest
checks; the rule set it compiles is turned into in-sheet formulas *and* run in Python.
"""
from __future__ import annotations

import dataclasses
import hashlib
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from macros_free_validation.compile import RuleSet
from macros_free_validation.report import Severity
from macros_free_validation.rules import PyContext, Rule
from workbook_templates.catalog import Catalog, Framework, load_catalog
from workbook_templates.choices import Choices, Period, SchoolYear, load_choices, parse_school_year
from workbook_templates.errors import SpecError
from workbook_templates.form import Form, SchoolLevel, builtin_form_files, load_builtin_form, load_form

from kcl_xlsx.base.text import int_if_whole


@dataclasses.dataclass(frozen=True)
class Sources:
    """The three spec files (None = built-in), loaded once.  ``form`` is the current form
    (what templates are issued with); a returned file is read with the form of its own
    version (:meth:`form_for`): the built-in earlier versions are loaded when first asked for."""

    form: Form
    choices: Choices
    catalog: Catalog
    # specs made so far: a checker run asks for the same (level, year, framework) per file,
    # and a spec's lists and compiled rules are worth keeping
    _specs: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)
    _forms: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, catalog: str | Path | None = None, choices: str | Path | None = None,
             form: str | Path | None = None) -> "Sources":
        return cls(load_form(form), load_choices(choices), load_catalog(catalog))

    def form_for(self, version: str | None) -> Form | None:
        """The form a file of ``version`` was issued with: the current form for its own
        version or for no version (a file without identity), else the built-in form of that
        version; None for a version this program does not know."""
        if not version or version == self.form.version:
            return self.form
        if version not in self._forms:
            self._forms[version] = load_builtin_form(version)
        return self._forms[version]

    @property
    def known_versions(self) -> tuple[str, ...]:
        return tuple(sorted({self.form.version, *builtin_form_files()}, key=version_key))

    def spec(self, level: str, year: str | SchoolYear, framework: str | None = None,
             form_version: str | None = None) -> "PlanSpec":
        """The spec of one template; ``form_version`` (None: the current form) picks the form
        (a SpecError if there is no form of that version)."""
        form = self.form_for(form_version)
        if form is None:
            raise SpecError("form_version", f"không có biểu mẫu phiên bản {form_version}",
                            f"no form of version {form_version}")
        key = (level, year.label if isinstance(year, SchoolYear) else year, framework, form.version)
        if key not in self._specs:
            lvl = form.level(level)
            sy = year if isinstance(year, SchoolYear) else parse_school_year(year)
            self._specs[key] = PlanSpec(form, self.choices, self.framework_for(lvl, framework), lvl, sy)
        return self._specs[key]

    def framework_for(self, level: SchoolLevel, framework: str | None) -> Framework:
        if framework:
            fw = self.catalog.get(framework)
            if level.catalog not in fw.school_levels:
                raise SpecError("--framework", f"khung '{fw.id}' không áp dụng cho cấp {level.label}",
                                f"framework '{fw.id}' does not apply to level {level.key}")
            return fw
        candidates = self.catalog.for_level(level.catalog)
        if not candidates:
            raise SpecError(self.catalog.source, f"không có khung tiêu chí cho cấp {level.label}",
                            f"no framework for level {level.key}")
        return candidates[0]


def version_key(version: str) -> tuple:
    """Form versions ("2025.1", "2026.1") in order: numbers as numbers; text after them."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in str(version).split("."))


T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class PlanSpec:
    form: Form
    choices: Choices
    framework: Framework
    level: SchoolLevel
    year: SchoolYear
    _derived: dict = dataclasses.field(default_factory=dict, init=False, compare=False, repr=False)

    def derived(self, make: Callable[["PlanSpec"], T]) -> T:
        """``make(self)``, made once per spec and kept with it, as its lists and rules are:
        for what other modules build from a spec alone (the ingest's lookup tables), so a
        run that checks many files of one spec builds it once."""
        if make not in self._derived:
            self._derived[make] = make(self)
        return self._derived[make]

    # -- identity of the design -----------------------------------------------------------

    @cached_property
    def template_id(self) -> str:
        """Stable id of this template design: same inputs, same id."""
        h = hashlib.sha256()
        for part in (self.form.version, self.framework.id, repr(self.framework), repr(self.choices),
                     repr(self.form), self.level.key, self.year.label):
            h.update(part.encode("utf-8"))
            h.update(b"\0")
        return f"KCL-{self.year.label}-{self.level.key}-{h.hexdigest()[:10]}"

    # -- lists -------------------------------------------------------------------------------

    @cached_property
    def periods(self) -> list[Period]:
        return self.choices.periods(self.year)

    @property
    def top_label(self) -> str | None:
        top = self.framework.top_level
        return self.choices.level_label(top) if top is not None else None

    @cached_property
    def lists(self) -> dict[str, list[Any]]:
        """Every list of the template, by name.  ``criteria_keys``/``criteria_values`` are the
        pairs of the (standard, criterion) rule; ``criterion_standard_no`` is, for each entry of
        ``criteria``, its standard's position in ``standards`` (0 for a Mức 4 item): what the
        template's shown Tiêu chuẩn is looked up with; ``level_*`` pair a criterion with each
        level it can be targeted at; ``periods_first``/``_last`` are month ordinals."""
        fw, ch = self.framework, self.choices
        crit_keys, crit_vals, lvl_crit, lvl_lab, std_no = [], [], [], [], []
        for n, std in enumerate(fw.standards, 1):
            for c in std.criteria:
                crit_keys.append(std.label)
                crit_vals.append(c.label)
                std_no.append(n)
                for lv in c.levels:
                    lvl_crit.append(c.label)
                    lvl_lab.append(ch.level_label(lv))
        for item in fw.top_items:
            crit_keys.append(self.top_label)
            crit_vals.append(item.label)
            std_no.append(0)
            lvl_crit.append(item.label)
            lvl_lab.append(self.top_label)
        return {
            "levels": [ch.level_label(lv) for lv in fw.levels],
            "standards": [s.label for s in fw.standards],
            "criteria": crit_vals,
            "criteria_keys": crit_keys,
            "criteria_values": crit_vals,
            "criterion_standard_no": std_no,
            "level_criteria": lvl_crit,
            "level_labels": lvl_lab,
            "owners": list(ch.owners),
            "periods": [p.label for p in self.periods],
            "periods_first": [p.first for p in self.periods],
            "periods_last": [p.last for p in self.periods],
            "funding": [o.label for o in ch.funding],
            "statuses": [o.label for o in ch.statuses],
        }

    @cached_property
    def criterion_standard(self) -> dict[str, str]:
        """Criterion label -> its standard's label ("" for a Mức 4 item): what a field derived
        from the criterion shows (form ``derived_from``)."""
        lists = self.lists
        stds = lists["standards"]
        return {c: (stds[n - 1] if n else "") for c, n in zip(lists["criteria"], lists["criterion_standard_no"])}

    def with_derived(self, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` with every derived field as the template shows it: the criterion's
        standard for a criterion of the list, blank otherwise."""
        if not self.form.derived:
            return row
        crit = row.get(self.form.roles.criterion)
        shown = self.criterion_standard.get(crit, "") if isinstance(crit, str) else ""
        return {**row, **{f.key: shown for f in self.form.derived}}

    # -- rules -------------------------------------------------------------------------------

    @cached_property
    def rules(self) -> RuleSet:
        return RuleSet(tuple(self._field_rules()) + tuple(self._cross_rules()))

    def _constants(self) -> dict[str, Any]:
        nofund = self.choices.no_funding
        return {"$top_level": self.top_label, "$no_funding": nofund.label if nofund else None,
                "$budget_ceiling": self.form.budget_ceiling}

    def _field_rules(self):
        fr = self.form.field_rules
        for f in self.form.fields:
            ctx = {"label": f.header, "min": f.minimum}
            if f.required is True:
                yield _rule(fr["required"], "required", f.key, ctx)
            elif f.required == "unless_top" and self.top_label:
                yield _rule(fr["required"], "required", f.key, ctx,
                            unless_field=self.form.roles.level, unless_value=self.top_label)
            elif f.required == "unless_top":
                yield _rule(fr["required"], "required", f.key, ctx)
            if f.type == "choice":
                spec = fr["in_list_soft"] if f.soft else fr["in_list"]
                rule = _rule(spec, "in_list", f.key, ctx, Severity.WARNING if f.soft else Severity.ERROR,
                             list=f.choices)
                # A derived field is a locked formula that gives a list value or nothing: in
                # the sheet it cannot break the rule, so its Kiểm tra test would be weight in
                # every row.  Checked on ingest (another program may have written over it).
                yield dataclasses.replace(rule, live=not f.derived_from)
            if f.type == "number":
                yield _rule(fr["number"], "number", f.key, ctx)
                if f.minimum is not None:
                    yield _rule(fr["min"], "min", f.key, ctx, min=f.minimum)

    def _cross_rules(self):
        consts = self._constants()
        for spec in self.form.rules:
            params = {k: consts.get(v, v) if isinstance(v, str) and v.startswith("$") else v
                      for k, v in (spec.get("params") or {}).items()}
            if any(v is None for k, v in params.items() if k.startswith("override_")):
                # no separate top level (Mức 4) in this framework: the plain rule remains
                params = {k: v for k, v in params.items() if not k.startswith("override_")}
            if any(v is None for v in params.values()):
                continue  # e.g. no "no funding" choice: the rule has nothing to say
            rule = _rule(spec, str(spec["kind"]), str(spec["field"]), params,
                         Severity(spec.get("severity", "error")), **params)
            yield dataclasses.replace(rule, live=bool(spec.get("live", True)))

    # -- Python side of the checks ---------------------------------------------------------

    def py_context(self, staff: list[str] | None = None,
                   period_span: Callable[[Any], tuple[int, int] | None] | None = None) -> PyContext:
        lists: Mapping[str, list[Any]] = dict(self.lists)
        if staff:
            lists = {**lists, "owners": lists["owners"] + list(staff)}
        table = {p.label.casefold(): (p.first, p.last) for p in self.periods}
        default = lambda v: table.get(str(v).strip().casefold())  # noqa: E731
        return PyContext(lists=lists, spans={"periods": period_span or default})


def _num(v: Any) -> str:
    # Not number_text: a rule's number is shown in its message with thousands dots ("1.000").
    v = int_if_whole(v)
    return f"{v:,}".replace(",", ".") if isinstance(v, (int, float)) else str(v)


def _rule(spec: dict, kind: str, field: str, ctx: dict, severity: Severity = Severity.ERROR, **params) -> Rule:
    fmt = {k: _num(v) if v is not None else "" for k, v in ctx.items()}
    return Rule(code=str(spec["code"]), kind=kind, field=field, message=str(spec["message"]).format(**fmt),
                hint=str(spec.get("hint", "")).format(**fmt), severity=severity, params=params)


def example_row(spec: PlanSpec) -> dict[str, Any]:
    """The worked example of the Hướng dẫn sheet as field values (valid under every rule)."""
    ex = dict(spec.form.guide.get("example") or {})
    r = spec.form.roles
    std = spec.framework.standards[0]
    crit = std.criteria[0]
    months = spec.choices.months(spec.year)
    level = int(ex.get(r.level, 2))
    if level not in crit.levels:
        level = crit.levels[-1]
    row = {k: v for k, v in ex.items() if k in spec.form.keys}
    row.update({r.level: spec.choices.level_label(level), r.standard: std.label, r.criterion: crit.label,
                r.start: months[int(ex.get(r.start, 0))].label, r.end: months[int(ex.get(r.end, 0))].label})
    return {k: row.get(k, "") for k in spec.form.keys}
