"""The form is the one source of field names and labels.

A copy of form.yaml renames one field (its key and its header); the template, the checks'
messages, the summary workbook and the export all follow it, with no code changed.  And a
form whose roles are broken is refused in one line.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from python_calamine import CalamineWorkbook

from kcl_xlsx.check.checker import CheckOptions, check_path
from kcl_xlsx.app import collect
from kcl_xlsx.demo import fill_plan
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec import layout as L
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import School
from kcl_xlsx.spec.sample_plans import plan_rows
from workbook_templates.errors import SpecError
from workbook_templates.form import load_form

BUILTIN = Path(__file__).resolve().parent.parent / "workbook_templates" / "data" / "form.yaml"
OLD_KEY, NEW_KEY = "end", "thoi_han"
NEW_HEADER = "Thời hạn hoàn thành"


def _rename(value, old: str, new: str):
    """Every mention of field key ``old`` in the form's data (keys of mappings, list items,
    the `field`/`*_field` values of rules) becomes ``new``."""
    if isinstance(value, dict):
        return {(new if k == old else k): _rename(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, old, new) for v in value]
    return new if value == old else value


@pytest.fixture(scope="module")
def renamed_form(tmp_path_factory) -> Path:
    data = yaml.safe_load(BUILTIN.read_text(encoding="utf-8"))
    fields = data["plan"]["fields"]
    field = next(f for f in fields if f["key"] == OLD_KEY)
    field["header"] = NEW_HEADER
    # rename the key everywhere the form names it, but not the role names (roles: {end: ...})
    roles = data["plan"].pop("roles")
    summary_columns = data["plan"].pop("summary_columns")
    data = _rename(data, OLD_KEY, NEW_KEY)
    data["plan"]["roles"] = {role: (NEW_KEY if key == OLD_KEY else key) for role, key in roles.items()}
    data["plan"]["summary_columns"] = summary_columns
    path = tmp_path_factory.mktemp("form") / "form.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_copy_really_renames_the_key(renamed_form):
    form = load_form(renamed_form)
    assert NEW_KEY in form.keys and OLD_KEY not in form.keys
    assert form.roles.end == NEW_KEY
    assert form.field(NEW_KEY).header == NEW_HEADER


def test_template_checks_summary_and_export_follow_the_renamed_field(renamed_form, tmp_path):
    sources = Sources.load(form=renamed_form)
    form = sources.form
    factory = TemplateFactory(sources, "2025-2026")
    school = School("CS9", "Trường THCS Thử", "thcs")
    template, _ = factory.make("thcs", school)
    tpl = tmp_path / "mau.xlsx"
    tpl.write_bytes(template)

    # the template: the header row of Kế hoạch shows the new header where the field's column is
    grid = CalamineWorkbook.from_path(str(tpl)).get_sheet_by_name(form.sheet).to_python(skip_empty_area=False)
    column = L.PlanLayout(form).columns[NEW_KEY]
    assert grid[L.HEADER_ROW][column] == NEW_HEADER

    # a plan whose second row lacks the renamed field: the check names it by its new header
    rows = plan_rows(sources.spec("thcs", "2025-2026"), 3, seed=4)
    assert all(NEW_KEY in r and OLD_KEY not in r for r in rows)
    rows[1] = {**rows[1], NEW_KEY: None}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill_plan(tpl, inbox / "cs9.xlsx", rows, info={"preparer": "Nguyễn Văn A"}, form=form)
    options = CheckOptions(form=str(renamed_form), year="2025-2026")
    sub = check_path(inbox / "cs9.xlsx", options)
    required = [i for i in sub.issues if i.code == "field.required"]
    assert [i.column for i in required] == [NEW_HEADER]
    assert NEW_HEADER in required[0].message

    # the summary and the export: the column of the action table is headed by the new header,
    # and the issue's message in issues.csv names it
    res = collect(inbox, tmp_path / "out" / "tong-hop.xlsx", options=options, jobs=0,
                  export=tmp_path / "out" / "xuat")
    assert res.files[0].sub.errors == 1
    detail = CalamineWorkbook.from_path(str(tmp_path / "out" / "tong-hop.xlsx")).get_sheet_by_name("Lỗi").to_python()
    assert any(NEW_HEADER in str(cell) for row in detail for cell in row)
    with open(tmp_path / "out" / "xuat" / "issues.csv", encoding="utf-8-sig") as fh:
        messages = [r["message"] for r in csv.DictReader(fh) if r["code"] == "field.required"]
    assert messages and all(NEW_HEADER in m for m in messages)


def test_summary_action_columns_are_headed_by_the_form(renamed_form, tmp_path):
    """A valid plan under the renamed form: Chi tiết's end column carries the new header."""
    sources = Sources.load(form=renamed_form)
    factory = TemplateFactory(sources, "2025-2026")
    template, _ = factory.make("thcs", School("CS8", "Trường THCS Tám", "thcs"))
    tpl = tmp_path / "mau.xlsx"
    tpl.write_bytes(template)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill_plan(tpl, inbox / "cs8.xlsx", plan_rows(sources.spec("thcs", "2025-2026"), 2, seed=1),
              info={"preparer": "Trần Thị B"}, form=sources.form)
    out = tmp_path / "tong-hop.xlsx"
    collect(inbox, out, options=CheckOptions(form=str(renamed_form), year="2025-2026"), jobs=0)
    head = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Chi tiết").to_python()[0]
    assert NEW_HEADER in head
    built_in = load_form()
    assert built_in.field("end").header not in head  # "Hoàn thành" is the built-in header of the same column


@pytest.mark.parametrize("edit, says", [
    (lambda d: d["plan"]["roles"].pop("lead"), "thiếu 'lead'"),
    (lambda d: d["plan"]["roles"].update(lead="khong_co"), "không có trong plan.fields"),
    (lambda d: d["plan"]["roles"].update(budget="target"), "phải có kiểu number"),
    (lambda d: d["plan"]["roles"].update(ai_do="lead"), "vai trò lạ ai_do"),
    (lambda d: d["plan"].update(row_key=["criterion", "khong_co"]), "plan.row_key"),
    (lambda d: d["plan"]["summary_columns"].update(target="khong_co"), "plan.summary_columns"),
])
def test_a_broken_role_is_one_line(tmp_path, edit, says):
    data = yaml.safe_load(BUILTIN.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "form.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_form(path)
    text = str(err.value)
    assert says in text and str(path) in text and "\n" not in text


def test_every_list_a_form_may_name_is_one_the_spec_builds():
    """form.py's LIST_NAMES (what a field's `choices` may name) and PlanSpec.lists (what the
    template's list sheet holds and the checks use) are one vocabulary."""
    from workbook_templates.form import LIST_NAMES

    spec = Sources.load().spec("thcs", "2025-2026")
    assert set(LIST_NAMES) <= set(spec.lists)
    assert {f.choices for f in spec.form.fields if f.choices} <= set(LIST_NAMES)
