"""Acceptance tests of the template issue, pure Python side (fast, no external tool).

The spec files load and reject bad data with one-line errors naming the file; the
criteria frameworks have the counts of the circulars; the lists a template is built from
(cascade table, periods) have the shape the in-sheet formulas rely on; the worked example
of the Hướng dẫn sheet passes every rule; an XlsxWriter warning stops a build.
"""
from __future__ import annotations

import copy
import functools
import datetime as dt
from importlib import resources
from pathlib import Path

import pytest
import yaml

from kcl_xlsx.spec.plan_spec import Sources, example_row
from kcl_xlsx.issue.template_build import TemplateBuildError, build_base
from macros_free_validation.report import Severity
from workbook_templates.catalog import load_catalog
from workbook_templates.choices import load_choices, parse_school_year
from workbook_templates.errors import SpecError
from workbook_templates.form import load_form

YEAR = "2025-2026"
LEVELS = ("mam-non", "tieu-hoc", "thcs", "thpt", "nhieu-cap")
TT57 = ("tt57-2026-pl1-mam-non", "tt57-2026-pl2-pho-thong", "tt57-2026-pl3-gdtx")


@functools.lru_cache(maxsize=None)
def _builtin(name: str) -> dict:
    data = yaml.load((resources.files("workbook_templates") / "data" / name).read_text("utf-8"),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if name == "criteria_catalog.yaml":  # the 2018 frameworks are enough to mutate, and faster
        data = {"circulars": data["circulars"][:3]}
    return data


def builtin(name: str) -> dict:
    return copy.deepcopy(_builtin(name))


def dump(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _spec_cases() -> list[tuple[str, str | None]]:
    """Each level with its default framework, and every framework with a level it applies to."""
    form, catalog = load_form(), load_catalog()
    cases: list[tuple[str, str | None]] = [(level, None) for level in LEVELS]
    for fw in catalog.frameworks:
        level = next((lv.key for lv in form.levels if lv.catalog in fw.school_levels), None)
        if level is not None:
            cases.append((level, fw.id))
    return cases


SPEC_CASES = _spec_cases()
SPEC_IDS = [f"{lv}-{fid or 'default'}" for lv, fid in SPEC_CASES]


# -- frameworks ---------------------------------------------------------------------------


@pytest.mark.parametrize("fid, criteria, top", [
    ("tt17-2018", 27, 5),
    ("tt18-2018", 28, 6),
    ("tt19-2018", 25, 6),
    *((fid, 15, 0) for fid in TT57),
])
def test_framework_counts(sources, fid, criteria, top):
    fw = sources.catalog.get(fid)
    assert len(fw.criteria) == criteria
    assert len(fw.top_items) == top
    if top:
        assert fw.top_level == 4 and all(c.levels == (4,) for c in fw.top_items)
    else:
        assert fw.top_level is None
    codes = [c.code for c in fw.all_items()]
    assert len(set(codes)) == len(codes)
    for std in fw.standards:  # every criterion sits under its own standard
        assert std.criteria and all(c.code.startswith(std.code + ".") and c.standard == std.code
                                    for c in std.criteria)


@pytest.mark.parametrize("level, fid", [("mam-non", "tt19-2018"), ("tieu-hoc", "tt17-2018"),
                                        ("thcs", "tt18-2018"), ("thpt", "tt18-2018"),
                                        ("nhieu-cap", "tt18-2018")])
def test_default_framework_is_the_verified_one(sources, level, fid):
    spec = sources.spec(level, YEAR)
    assert spec.framework.id == fid and spec.framework.verified


def test_tt57_template_has_no_muc4(sources):
    spec = sources.spec("thcs", YEAR, "tt57-2026-pl2-pho-thong")
    assert spec.top_label is None
    assert spec.lists["levels"] == ["Mức 1", "Mức 2"]
    assert "Mức 4" not in spec.lists["criteria_keys"]
    # form 2026.1: the standard is shown, not typed: never required
    assert not [r for r in spec.rules.rules if r.kind == "required" and r.field == "standard"]
    v1 = sources.spec("thcs", YEAR, "tt57-2026-pl2-pho-thong", form_version="2025.1")
    standard_required = [r for r in v1.rules.rules if r.kind == "required" and r.field == "standard"]
    assert len(standard_required) == 1 and not standard_required[0].p("unless_field")


def test_framework_not_for_the_level_is_refused(sources):
    with pytest.raises(SpecError) as err:
        sources.spec("thcs", YEAR, "tt19-2018")
    assert err.value.source == "--framework"


# -- lists the template is built from -------------------------------------------------------


@pytest.mark.parametrize("level, fid", SPEC_CASES, ids=SPEC_IDS)
def test_cascade_lists_grouped_contiguously_by_key(sources, level, fid):
    spec = sources.spec(level, YEAR, fid)
    fw, lists = spec.framework, spec.lists
    keys, values = lists["criteria_keys"], lists["criteria_values"]
    assert len(keys) == len(values) == len(fw.all_items())
    # contiguous blocks: a key never reappears after another key started
    blocks: list[str] = []
    for k in keys:
        if not blocks or blocks[-1] != k:
            assert k not in blocks, f"{fw.id}: key {k!r} split into two blocks"
            blocks.append(k)
    expected_blocks = [s.label for s in fw.standards] + ([spec.top_label] if fw.top_items else [])
    assert blocks == expected_blocks
    for std in fw.standards:
        assert [v for k, v in zip(keys, values) if k == std.label] == [c.label for c in std.criteria]
    if fw.top_items:
        assert [v for k, v in zip(keys, values) if k == spec.top_label] == [c.label for c in fw.top_items]
    assert lists["standards"] == [s.label for s in fw.standards]
    assert len(set(values)) == len(values)
    # the level table pairs each criterion with exactly the levels it defines
    pairs = set(zip(lists["level_criteria"], lists["level_labels"]))
    for c in fw.all_items():
        for lv in fw.levels:
            assert ((c.label, spec.choices.level_label(lv)) in pairs) == (lv in c.levels)


def test_periods_cover_72_months_and_3_spans(sources):
    spec = sources.spec("thcs", YEAR)
    periods = spec.periods
    months, spans = periods[:72], periods[72:]
    assert len(periods) == 75 and len(spans) == 3
    assert months[0].label == "Tháng 9/2025" and months[-1].label == "Tháng 8/2031"
    first = 2025 * 12 + 8
    for i, p in enumerate(months):
        assert p.first == p.last == first + i
        assert p.label == f"Tháng {(first + i) % 12 + 1}/{(first + i) // 12}"
    assert [s.label for s in spans] == ["Học kỳ I", "Học kỳ II", "Cả năm học"]
    assert [(s.first - first, s.last - first) for s in spans] == [(0, 4), (5, 8), (0, 8)]
    lists = spec.lists
    assert lists["periods"] == [p.label for p in periods]
    assert lists["periods_first"] == [p.first for p in periods]
    assert lists["periods_last"] == [p.last for p in periods]
    assert len(set(lists["periods"])) == 75


def test_periods_follow_the_school_year(sources):
    labels = sources.spec("thcs", "2030-2031").lists["periods"]
    assert labels[0] == "Tháng 9/2030" and labels[71] == "Tháng 8/2036"


# -- the worked example and the rules --------------------------------------------------------


@pytest.mark.parametrize("level, fid", SPEC_CASES, ids=SPEC_IDS)
def test_guide_example_row_passes_every_python_rule(sources, level, fid):
    spec = sources.spec(level, YEAR, fid)
    row = example_row(spec)
    assert set(row) == set(spec.form.keys)
    assert spec.rules.check_row(row, spec.py_context()) == []
    assert row["criterion"] in spec.lists["criteria"] and row["standard"] in spec.lists["standards"]


def test_live_rules_are_all_rules_but_the_ingest_only_ones(sources):
    spec = sources.spec("thcs", YEAR)
    ingest_only = {(r.code, r.field) for r in spec.rules.rules if not r.live}
    # budget.implausible is live since form 2026.1; the shown Tiêu chuẩn (a locked formula
    # that gives a list value or nothing) is checked on ingest only since form 2026.2
    assert ingest_only == {("field.not_in_list", "standard")}
    ordered = spec.rules.ordered(spec.rules.live)
    severities = [r.severity for r in ordered]
    assert severities == sorted(severities, key=lambda s: s != Severity.ERROR)  # errors first


FRAMEWORK_CASES = [(c, i) for c, i in zip(SPEC_CASES, SPEC_IDS) if c[1]]


@pytest.mark.parametrize("level, fid", [c for c, _ in FRAMEWORK_CASES], ids=[i for _, i in FRAMEWORK_CASES])
def test_criterion_of_another_standard_is_an_error(sources, level, fid):
    """Also where the framework has no Mức 4 (the rule's Mức 4 override then does not apply,
    the rule itself does)."""
    spec = sources.spec(level, YEAR, fid)
    row = example_row(spec)
    row["criterion"] = spec.framework.standards[1].criteria[0].label  # standard 1 stays chosen
    broken = [r.code for r in spec.rules.check_row(row, spec.py_context())]
    assert broken and broken[0] == "criterion.not_in_standard"
    assert "criterion.not_in_standard" in {r.code for r in spec.rules.live}


# -- school year ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, start", [("2025-2026", 2025), (" 2025 - 2026 ", 2025), ("2025–2026", 2025),
                                         ("2025/2026", 2025)])
def test_school_year_parses(text, start):
    assert parse_school_year(text).start == start


@pytest.mark.parametrize("text", ["2025", "2026-2025", "2025-2027", "2025-2025", "25-26", "abcd-efgh", ""])
def test_bad_school_year_is_a_spec_error_naming_the_option(text):
    with pytest.raises(SpecError) as err:
        parse_school_year(text)
    assert err.value.source == "--year" and "\n" not in str(err.value)


# -- loaders reject bad data -------------------------------------------------------------------


def _cat_missing_circulars(c):
    del c["circulars"]


def _cat_empty_circulars(c):
    c["circulars"] = []


def _cat_no_id(c):
    del c["circulars"][0]["id"]


def _cat_no_standards(c):
    del c["circulars"][1]["standards"]


def _cat_no_levels(c):
    del c["circulars"][1]["assessment_levels"]


def _cat_foreign_criterion(c):
    c["circulars"][1]["standards"][0]["criteria"][0]["code"] = "9.9"


def _cat_dup_criterion(c):
    crits = c["circulars"][1]["standards"][0]["criteria"]
    crits[1]["code"] = crits[0]["code"]


def _cat_dup_muc4(c):
    items = c["circulars"][1]["muc4"]
    items[1]["code"] = items[0]["code"]


def _cat_dup_framework(c):
    c["circulars"][1]["id"] = c["circulars"][0]["id"]


def _cat_criterion_no_name(c):
    del c["circulars"][1]["standards"][2]["criteria"][0]["name"]


def _cat_levels_not_numbers(c):
    c["circulars"][1]["assessment_levels"] = ["một", "hai"]


def _cat_levels_defined_not_numbers(c):
    c["circulars"][1]["standards"][0]["criteria"][0]["levels_defined"] = ["x"]


CATALOG_CASES = [
    pytest.param(_cat_missing_circulars, id="missing-circulars"),
    pytest.param(_cat_empty_circulars, id="empty-circulars"),
    pytest.param(_cat_no_id, id="framework-without-id"),
    pytest.param(_cat_no_standards, id="framework-without-standards"),
    pytest.param(_cat_no_levels, id="framework-without-levels"),
    pytest.param(_cat_foreign_criterion, id="criterion-outside-its-standard"),
    pytest.param(_cat_dup_criterion, id="duplicate-criterion-code"),
    pytest.param(_cat_dup_muc4, id="duplicate-muc4-code"),
    pytest.param(_cat_dup_framework, id="duplicate-framework-id"),
    pytest.param(_cat_criterion_no_name, id="criterion-without-name"),
    pytest.param(_cat_levels_not_numbers, id="levels-not-numbers"),
    pytest.param(_cat_levels_defined_not_numbers, id="levels-defined-not-numbers"),
]


def _check_spec_error(err: pytest.ExceptionInfo, path: Path) -> None:
    assert err.value.source == str(path)
    text = str(err.value)
    assert text.startswith(str(path) + ": ") and "\n" not in text


@pytest.mark.parametrize("mutate", CATALOG_CASES)
def test_catalog_loader_rejects_bad_data(tmp_path, mutate):
    data = builtin("criteria_catalog.yaml")
    mutate(data)
    path = dump(tmp_path / "catalog.yaml", data)
    with pytest.raises(SpecError) as err:
        load_catalog(path)
    _check_spec_error(err, path)


def _ch_no_levels(c):
    del c["levels"]


def _ch_no_owners(c):
    del c["owners"]


def _ch_owners_not_text(c):
    c["owners"] = [1, 2]


def _ch_dup_owner(c):
    c["owners"].append(c["owners"][0])


def _ch_dup_funding(c):
    c["funding_sources"].append(dict(c["funding_sources"][0], key="other"))


def _ch_funding_no_key(c):
    del c["funding_sources"][0]["key"]


def _ch_bad_month(c):
    c["periods"]["first_month"] = 13


def _ch_too_many_years(c):
    c["periods"]["years_after"] = 11


def _ch_levels_list(c):
    c["levels"] = ["Mức 1", "Mức 2"]


def _ch_span_from_text(c):
    c["periods"]["spans"][0]["from"] = "tháng 9"


def _ch_span_without_to(c):
    del c["periods"]["spans"][0]["to"]


def _ch_periods_list(c):
    c["periods"] = ["Tháng 9"]


def _ch_level_key_text(c):
    c["levels"] = {"một": "Mức 1"}


def _ch_month_label_placeholder(c):
    c["periods"]["month_label"] = "Tháng {thang}/{nam}"


CHOICES_CASES = [
    pytest.param(_ch_no_levels, id="missing-levels"),
    pytest.param(_ch_no_owners, id="missing-owners"),
    pytest.param(_ch_owners_not_text, id="owners-not-text"),
    pytest.param(_ch_dup_owner, id="duplicate-owner"),
    pytest.param(_ch_dup_funding, id="duplicate-funding-label"),
    pytest.param(_ch_funding_no_key, id="funding-without-key"),
    pytest.param(_ch_bad_month, id="first-month-13"),
    pytest.param(_ch_too_many_years, id="years-after-11"),
    pytest.param(_ch_levels_list, id="levels-not-a-mapping"),
    pytest.param(_ch_span_from_text, id="span-from-not-a-number"),
    pytest.param(_ch_span_without_to, id="span-without-to"),
    pytest.param(_ch_periods_list, id="periods-not-a-mapping"),
    pytest.param(_ch_level_key_text, id="level-key-not-a-number"),
    pytest.param(_ch_month_label_placeholder, id="month-label-unknown-placeholder"),
]


@pytest.mark.parametrize("mutate", CHOICES_CASES)
def test_choices_loader_rejects_bad_data(tmp_path, mutate):
    data = builtin("choices.yaml")
    mutate(data)
    path = dump(tmp_path / "choices.yaml", data)
    with pytest.raises(SpecError) as err:
        choices = load_choices(path)
        choices.periods(parse_school_year(YEAR))  # a label template is only used here
    _check_spec_error(err, path)


def _plan_fields(f):
    return f["plan"]["fields"]


FORM_CASES = [
    pytest.param(lambda f: _plan_fields(f)[0].update(type="date"), id="unknown-field-type"),
    pytest.param(lambda f: _plan_fields(f)[0].update(choices="tinh_thanh"), id="unknown-list"),
    pytest.param(lambda f: _plan_fields(f)[0].pop("choices"), id="choice-without-list"),
    pytest.param(lambda f: _plan_fields(f)[1].update(key=_plan_fields(f)[0]["key"]), id="duplicate-field-key"),
    pytest.param(lambda f: _plan_fields(f)[0].update(group="Nhóm lạ"), id="unknown-group"),
    pytest.param(lambda f: _plan_fields(f)[0].update(required="maybe"), id="bad-required"),
    pytest.param(lambda f: f.pop("form_version"), id="missing-version"),
    pytest.param(lambda f: f["plan"].pop("fields"), id="missing-fields"),
]


@pytest.mark.parametrize("mutate", FORM_CASES)
def test_form_loader_rejects_bad_data(tmp_path, mutate):
    data = builtin("form.yaml")
    mutate(data)
    path = dump(tmp_path / "form.yaml", data)
    with pytest.raises(SpecError) as err:
        load_form(path)
    _check_spec_error(err, path)


@pytest.mark.parametrize("loader", [load_catalog, load_choices, load_form])
@pytest.mark.parametrize("content", [b"circulars: [\n  - id: x\n", b"- just\n- a list\n", b"\xff\xfe\x00bad",
                                     None])
def test_loaders_reject_unreadable_files(tmp_path, loader, content):
    path = tmp_path / "spec.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SpecError) as err:
        loader(path)
    _check_spec_error(err, path)


def test_builtin_sources_load_and_name_their_files(sources):
    assert sources.catalog.source == "<built-in>/criteria_catalog.yaml"
    assert sources.choices.source == "<built-in>/choices.yaml"
    assert sources.form.source == "<built-in>/form.yaml"
    assert [lv.key for lv in sources.form.levels] == list(LEVELS)


# -- every XlsxWriter warning is an error -----------------------------------------------------


def test_xlsxwriter_warning_stops_the_build(tmp_path):
    """A choice field's header goes into its validation's error message; over Excel's 255
    characters XlsxWriter would only warn and drop the validation: the build must fail."""
    data = builtin("form.yaml")
    lead = next(f for f in data["plan"]["fields"] if f["key"] == "lead")
    lead["header"] = "Chủ trì " + "x" * 300
    sources = Sources.load(form=dump(tmp_path / "form.yaml", data))
    spec = sources.spec("thcs", YEAR)
    with pytest.raises((UserWarning, TemplateBuildError)):
        build_base(spec, dt.date(2025, 9, 1), sources.catalog.digest)


def test_build_of_the_untouched_form_raises_no_warning(sources):
    import warnings

    spec = sources.spec("thcs", YEAR)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = build_base(spec, dt.date(2025, 9, 1), sources.catalog.digest)
    assert data[:2] == b"PK"


def test_spec_is_deterministic(sources):
    a, b = sources.spec("thcs", YEAR), Sources.load().spec("thcs", YEAR)
    assert a.template_id == b.template_id
    assert a.template_id != sources.spec("thpt", YEAR).template_id
    assert a.template_id != sources.spec("thcs", "2026-2027").template_id
