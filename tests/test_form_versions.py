"""Form versions: templates are issued with the current form (2026.2); a returned file is
read with the form of the version in its identity, so a file of form 2025.1 (Tiêu chuẩn
chosen) is checked exactly as before 2026.1 existed, and one of form 2026.1 (200 input
rows) as before 2026.2.

* The 2025.1 form is the form.yaml of before 2026.1, byte for byte; 2026.1 the form.yaml of
  before 2026.2.  2026.2 differs from 2026.1 only in its number of input rows (90).
* A 2025.1 template filled with a batch of rows gives the issues and rows recorded with the
  code of before 2026.1 (tests/data/form-2025.1-check-record.json, see its maker below).
* A file of the current form: the Tiêu chuẩn column is a locked formula; read without a stored result
  (a file saved by openpyxl), it is derived from the criterion.
* A file of a version newer than this program knows: a clear error; an unknown older one:
  checked with the current form, with a warning.
* No dropdown of any issued template has a function in its list source.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from importlib import resources
from pathlib import Path

import openpyxl
import pytest
import yaml

from kcl_xlsx.check.checker import CheckOptions, check_path
from kcl_xlsx.demo import fill_plan
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.issue.template_build import Prefill, build_base
from kcl_xlsx.spec import identity as ident
from kcl_xlsx.spec import layout as L
from kcl_xlsx.spec.plan_spec import Sources, example_row
from kcl_xlsx.spec.roster import School
from kcl_xlsx.spec.vocab import CheckStatus
from workbook_templates.errors import SpecError
from workbook_templates.form import builtin_form_files, load_form

V1, V2, V3 = "2025.1", "2026.1", "2026.2"
CURRENT = V3
RECORD = Path(__file__).parent / "data" / "form-2025.1-check-record.json"
# sha256 of workbook_templates/data/form.yaml as it was before form 2026.1 (commit eba0da8)
V1_SHA256 = "606e1b08b4319425d67fa29894f3c1ae5cf05e028741d464794910933b6f56da"
# sha256 of workbook_templates/data/form.yaml as it was before form 2026.2 (commit 332af89)
V2_SHA256 = "1ff3f0f3639e3dee2c23b1208f4816db9376e30162f5f6e0b1474faefb71254d"
YEAR = "2025-2026"
SOURCES = Sources.load()


def _data(name: str) -> bytes:
    return (resources.files("workbook_templates") / "data" / name).read_bytes()


def test_builtin_forms_by_version():
    assert builtin_form_files() == {V1: "form-2025.1.yaml", V2: "form-2026.1.yaml", V3: "form.yaml"}
    assert SOURCES.form.version == CURRENT
    assert SOURCES.form_for(V1).version == V1 and SOURCES.form_for(None) is SOURCES.form
    assert SOURCES.form_for(V2).version == V2 and SOURCES.form_for(V2).input_rows == 200
    assert SOURCES.form_for("2099.1") is None
    assert SOURCES.known_versions == (V1, V2, V3)


def test_earlier_forms_are_the_forms_of_before_byte_for_byte():
    assert hashlib.sha256(_data("form-2025.1.yaml")).hexdigest() == V1_SHA256
    assert hashlib.sha256(_data("form-2026.1.yaml")).hexdigest() == V2_SHA256


def test_v3_differs_from_v2_only_in_the_number_of_input_rows_and_the_guide():
    """Form 2026.2 is issue 11's: 90 input rows (real plans have 5-60), and a guide step that
    says where the document to sign comes from (the office's `render`)."""
    v2, v3 = yaml.safe_load(_data("form-2026.1.yaml")), yaml.safe_load(_data("form.yaml"))
    assert (v2["plan"].pop("input_rows"), v3["plan"].pop("input_rows")) == (200, 90)
    assert (v2.pop("form_version"), v3.pop("form_version")) == (V2, V3)
    added = [p for p in v3["guide"]["paragraphs"] if p not in v2["guide"]["paragraphs"]]
    assert len(added) == 1 and added[0].startswith("Bước 6. Văn bản để ký")
    v3["guide"]["paragraphs"].remove(added[0])
    assert v2 == v3


def test_a_file_of_form_2026_1_keeps_its_200_rows(tmp_path):
    """A 2026.1 template (already with schools) filled on its 150th row: read with its own
    form, the row is inside the table (no rows-outside warning) and checked."""
    spec = SOURCES.spec("thcs", YEAR, form_version=V2)
    data, identity = TemplateFactory(SOURCES, YEAR, issue_date=dt.date(2025, 9, 5), form_version=V2).make(
        "thcs", School("79000123", "Trường THCS Thử", "thcs"))
    assert identity.form_version == V2
    (tmp_path / "t.xlsx").write_bytes(data)
    rows = [{}] * 149 + [example_row(spec)]
    filled = fill_plan(tmp_path / "t.xlsx", tmp_path / "f.xlsx", rows, info={"preparer": "Nguyễn Văn An"}, form=spec.form)
    sub = check_path(filled, CheckOptions(year=YEAR))
    assert sub.status == CheckStatus.VALID, [(i.code, i.where()) for i in sub.issues]
    assert [r.row for r in sub.rows] == [L.FIRST_INPUT_ROW + 150]


def test_v2_differs_from_v1_only_in_the_standard_field_and_texts():
    """The differences are data: the standard's derived_from (and not required), the help and
    guide texts that describe choosing it, the warnings' wording in Kiểm tra ("Cảnh báo: ",
    as on the summary and the feedback), budget.implausible (an error, live, since 2026.1:
    issue 14) and the version."""
    v1, v2 = yaml.safe_load(_data("form-2025.1.yaml")), yaml.safe_load(_data("form-2026.1.yaml"))
    f1 = {f["key"]: f for f in v1["plan"]["fields"]}
    f2 = {f["key"]: f for f in v2["plan"]["fields"]}
    assert f2["standard"]["derived_from"] == "criterion" and "required" not in f2["standard"]
    assert f1["standard"]["required"] == "unless_top" and "derived_from" not in f1["standard"]
    for key in f1:
        if key not in ("standard", "criterion"):
            assert f1[key] == f2[key], key
    assert {k: v for k, v in f1["criterion"].items() if k != "help"} == \
           {k: v for k, v in f2["criterion"].items() if k != "help"}
    for part in ("school_levels", "field_rules"):
        assert v1[part] == v2[part], part
    # budget.implausible: a warning checked on ingest only in v1, an error shown live in v2 (issue 14)
    r1, r2 = ({r["code"]: r for r in v["rules"]} for v in (v1, v2))
    assert {c: r for c, r in r1.items() if c != "budget.implausible"} == \
           {c: r for c, r in r2.items() if c != "budget.implausible"}
    assert (r1["budget.implausible"]["severity"], r1["budget.implausible"]["live"]) == ("warning", False)
    assert "severity" not in r2["budget.implausible"] and "live" not in r2["budget.implausible"]  # error, live
    assert r1["budget.implausible"]["params"] == r2["budget.implausible"]["params"]
    assert (v1["plan"]["warning_prefix"], v2["plan"]["warning_prefix"]) == ("Lưu ý: ", "Cảnh báo: ")
    plan = ("fields", "warning_prefix")
    assert {k: v for k, v in v1["plan"].items() if k not in plan} == {k: v for k, v in v2["plan"].items() if k not in plan}


def _form_yaml_with(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(_data("form.yaml"))
    change({f["key"]: f for f in data["plan"]["fields"]})
    path = tmp_path / "form.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, says", [
    (lambda f: f["target"].update(derived_from="criterion"), "derived_from"),
    (lambda f: f["standard"].update(derived_from="lead"), "derived_from"),
    (lambda f: f["standard"].update(required=True), "bắt buộc"),
])
def test_a_derivation_the_program_cannot_compute_is_refused(tmp_path, change, says):
    with pytest.raises(SpecError) as err:
        load_form(_form_yaml_with(tmp_path, change))
    assert says in str(err.value)


# -- a file of form 2025.1 is checked exactly as before ------------------------------------------


def _issue_tuple(i) -> list:
    return [i.severity.value, i.code, i.sheet, i.cell, i.row, i.column, i.value, i.message, i.hint]


def test_v1_file_is_checked_exactly_as_before(tmp_path):
    """The record was made with the code of before 2026.1 (tests/data/make_form_2025_1_check_record.py):
    a THCS template of form 2025.1, every single-row case of test_check_rules and 30 sample
    rows typed in; here the same rows in a 2025.1 template built by today's code."""
    rec = json.loads(RECORD.read_text(encoding="utf-8"))
    assert rec["form_version"] == V1
    key = rec["key"].encode()
    factory = TemplateFactory(SOURCES, rec["year"], key=key, issue_date=dt.date(2025, 9, 5), form_version=V1)
    data, identity = factory.make(rec["level"], School(*rec["school"]))
    assert identity.form_version == V1
    template = tmp_path / "t.xlsx"
    template.write_bytes(data)
    filled = fill_plan(template, tmp_path / "f.xlsx", rec["rows"], info=rec["info"], staff=rec["staff"],
                       form=SOURCES.form_for(V1))
    sub = check_path(filled, CheckOptions(key=key, year=rec["year"]))
    assert sub.status.value == rec["status"]
    assert [_issue_tuple(i) for i in sub.issues] == rec["issues"]
    rows = json.loads(json.dumps([[r.row, r.values, r.derived, r.errors] for r in sub.rows],
                                 ensure_ascii=False, default=str))
    assert rows == rec["checked_rows"]


# -- a file of form 2026.1 ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def v2_template(tmp_path_factory) -> Path:
    data, identity = TemplateFactory(SOURCES, YEAR, issue_date=dt.date(2025, 9, 5)).make(
        "thcs", School("79000123", "Trường THCS Thử", "thcs"))
    assert identity.form_version == CURRENT
    path = tmp_path_factory.mktemp("v2") / "t.xlsx"
    path.write_bytes(data)
    return path


def test_v2_standard_is_derived_from_the_criterion_on_ingest(v2_template, tmp_path):
    spec = SOURCES.spec("thcs", YEAR)
    fw = spec.framework
    good = example_row(spec)
    picks = [fw.standards[0].criteria[0], fw.standards[2].criteria[1], fw.standards[-1].criteria[-1]]
    rows = [{**good, "criterion": c.label, "target": f"Kết quả {i}"} for i, c in enumerate(picks)]
    rows.append({**good, "muc": spec.top_label, "criterion": fw.top_items[0].label, "target": "Mức 4"})
    rows.append({**good, "standard": fw.standards[1].label, "criterion": picks[0].label, "target": "gõ đè"})
    filled = fill_plan(v2_template, tmp_path / "f.xlsx", rows, info={"preparer": "Nguyễn Văn An"})
    sub = check_path(filled, CheckOptions(year=YEAR))
    assert sub.status == CheckStatus.VALID, [(i.code, i.where()) for i in sub.issues]
    shown = [r.values["standard"] for r in sub.rows]
    assert shown == [fw.standards[0].label, fw.standards[2].label, fw.standards[-1].label, None,
                     fw.standards[0].label]  # the typed value was never written over the formula
    assert [r.derived["standard_code"] for r in sub.rows][:3] == [fw.standards[0].code, fw.standards[2].code,
                                                                  fw.standards[-1].code]
    ws = openpyxl.load_workbook(filled)[spec.form.sheet]
    cell = ws.cell(L.FIRST_INPUT_ROW + 1, L.PlanLayout(spec.form).columns["standard"] + 1)
    assert str(cell.value).startswith("=") and cell.protection.locked


def _with_form_version(path: Path, version: str, out: Path) -> Path:
    """``path`` with its identity's form_version (custom property and sheet) set to ``version``."""
    wb = openpyxl.load_workbook(path)
    for row in wb[ident.SHEET].iter_rows():
        if row[0].value == "form_version":
            row[1].value = version
    wb.custom_doc_props[ident.PROPERTY_PREFIX + "form_version"].value = version
    wb.save(out)
    return out


def test_a_file_of_a_newer_form_is_a_clear_error(v2_template, tmp_path):
    filled = fill_plan(v2_template, tmp_path / "f.xlsx", [example_row(SOURCES.spec("thcs", YEAR))])
    sub = check_path(_with_form_version(filled, "2099.1", tmp_path / "new.xlsx"), CheckOptions(year=YEAR))
    assert sub.status == CheckStatus.WRONG_TEMPLATE
    newer = [i for i in sub.issues if i.code == "template.form_newer"]
    assert len(newer) == 1 and "2099.1" in newer[0].message and CURRENT in newer[0].message
    assert not sub.rows


def test_a_file_of_an_unknown_older_form_is_checked_with_the_current_one(v2_template, tmp_path):
    filled = fill_plan(v2_template, tmp_path / "f.xlsx", [example_row(SOURCES.spec("thcs", YEAR))],
                       info={"preparer": "Nguyễn Văn An"})
    sub = check_path(_with_form_version(filled, "2024.9", tmp_path / "old.xlsx"), CheckOptions(year=YEAR))
    assert [i.code for i in sub.issues if i.code.startswith("template.")] == ["template.form_unknown"]
    assert sub.status == CheckStatus.VALID and len(sub.rows) == 1


# -- list sources ---------------------------------------------------------------------------------

_LIST_DV = re.compile(rb'<(?:x14:)?dataValidation\b[^>]*\btype="list"[^>]*>(.*?)</(?:x14:)?dataValidation>', re.S)
_FORMULA1 = re.compile(rb"<(?:x14:)?formula1>(.*?)</(?:x14:)?formula1>", re.S)
_FUNCTION = re.compile(rb"[A-Za-z_][A-Za-z0-9_.]*\(")


def _list_sources(package: bytes) -> list[bytes]:
    found = []
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                for dv in _LIST_DV.finditer(zf.read(name)):
                    found += _FORMULA1.findall(dv.group(1))
    return found


@pytest.mark.parametrize("version", [V2, V3])
def test_no_list_source_calls_a_function(version):
    """Google Sheets takes only a range as a dropdown's source; OFFSET is volatile in Excel:
    every dropdown of every level's template (and of a re-issued one) names a plain range."""
    checked = 0
    for fid in {fw.id for fw in SOURCES.catalog.frameworks}:
        for level in SOURCES.form.levels:
            try:
                spec = SOURCES.spec(level.key, YEAR, fid, form_version=version)
            except SpecError:
                continue  # the framework is not for this level
            good = example_row(spec)
            for prefill in (None, Prefill(rows=(good,), done=(good,), previous_year="2024-2025", staff=("A",))):
                sources = _list_sources(build_base(spec, dt.date(2025, 9, 5), "x", prefill))
                assert sources, (fid, level.key)
                bad = [s for s in sources if _FUNCTION.search(s)]
                assert not bad, (fid, level.key, bad)
                assert all(re.fullmatch(rb"L_[a-z_]+", s) for s in sources), sources
                checked += len(sources)
    assert checked >= 10 * 8


# -- a second formula engine ------------------------------------------------------------------------


@pytest.mark.gnumeric
def test_gnumeric_shows_the_criterions_standard(v2_template, tmp_path, ssconvert):
    """Gnumeric recalculates the shown Tiêu chuẩn: an independent engine agrees with
    LibreOffice (tests/test_template_libreoffice.py) on the lookup."""
    import subprocess

    from tests.support.fill import nfc, read_plan

    spec = SOURCES.spec("thcs", YEAR)
    fw = spec.framework
    picks = [fw.standards[0].criteria[0], fw.standards[1].criteria[-1], fw.standards[3].criteria[0],
             fw.standards[-1].criteria[-1], fw.top_items[0]]
    rows = [{"muc": "Mức 2", "criterion": c.label} for c in picks]
    rows += [{"muc": "Mức 2", "criterion": f" {picks[2].label.lower()}  "}, {"criterion": "Không có"}, {"target": "x"}]
    filled = fill_plan(v2_template, tmp_path / "f.xlsx", rows)
    out = tmp_path / "gnumeric.xlsx"
    run = subprocess.run([ssconvert, "--recalc", str(filled), str(out)], capture_output=True, text=True, timeout=120)
    assert out.exists(), run.stderr[-500:]
    shown = [r["standard"] for r in read_plan(out, len(rows)).rows]
    assert shown == [nfc(spec.criterion_standard[c.label]) for c in picks] + [nfc(fw.standards[3].label), "", ""]
    assert shown[4] == ""  # a Mức 4 item has no standard


def test_criterion_labels_are_unique_for_the_lookup():
    """The shown standard is looked up by the criterion's label: every label of a template's
    list is unique (it carries its code), in every framework and level."""
    for fid in {fw.id for fw in SOURCES.catalog.frameworks}:
        for level in SOURCES.form.levels:
            try:
                spec = SOURCES.spec(level.key, YEAR, fid)
            except SpecError:
                continue
            labels = [x.casefold() for x in spec.lists["criteria"]]
            assert len(set(labels)) == len(labels), fid
            assert len(spec.lists["criterion_standard_no"]) == len(labels)
