"""One input, one verdict: the sheet's Kiểm tra cell and the office's check classify a cell
value the same way (error / warning), except for the differences README lists ("Where the
sheet and the office's check differ"), each with its reason.  This test holds both sides to
that list: a value on it gets exactly the documented pair of classes, in real LibreOffice."""
from __future__ import annotations

from pathlib import Path

import pytest

from kcl_xlsx.check.checker import CheckOptions, check_path
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.plan_spec import example_row
from kcl_xlsx.spec.roster import School
from macros_free_validation.report import Severity
from tests.support.fill import fill_plan, read_plan
from tests.support.libreoffice import resave

pytestmark = pytest.mark.libreoffice

YEAR = "2025-2026"
README = Path(__file__).resolve().parent.parent / "README.md"

# (field, typed value, the sheet's class, the office's class of that cell, README's words)
DIFFERENCES = [
    ("budget", "khoảng 15 triệu", "error", "warning", "khoảng 15 triệu"),
    ("budget", "15 triệu đồng", "error", "warning", "khoảng 15 triệu"),
    ("start", "31/02/2026", "error", "info", "31/02/2026"),
    ("end", "15/5/2026", "error", "info", "31/02/2026"),
]
# and values both sides agree on
AGREED = [
    ("budget", 15, "ok", "ok"),
    ("budget", -3, "error", "error"),
    ("start", "không rõ", "error", "error"),
]


def sheet_class(check_text: str, ok: str, warn: str) -> str:
    if check_text == ok:
        return "ok"
    return "warning" if check_text.startswith(warn.strip()) else "error"


def office_class(sub, row: int, column: str) -> str:
    found = [i.severity for i in sub.issues if i.row == row and i.column == column]
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        if severity in found:
            return severity.value
    return "ok"


@pytest.fixture(scope="module")
def verdicts(sources, tmp_path_factory):
    folder = tmp_path_factory.mktemp("verdict")
    factory = TemplateFactory(sources, YEAR)
    spec = factory.spec("thcs")
    template = folder / "mau.xlsx"
    template.write_bytes(factory.make("thcs", School("CS9", "Trường THCS Chín", "thcs"))[0])
    good = {k: v for k, v in example_row(spec).items() if not spec.form.field(k).derived_from}
    cases = [(f, v) for f, v, *_ in DIFFERENCES] + [(f, v) for f, v, *_ in AGREED]
    rows = [{**good, field: value} for field, value in cases]
    filled = fill_plan(template, folder / "ke-hoach.xlsx", rows, info={"preparer": "Nguyễn Văn A"})
    [recalculated] = resave([filled], folder / "lo")
    sheet = read_plan(recalculated, len(rows))
    sub = check_path(filled, CheckOptions(year=YEAR))
    form = spec.form
    out = {}
    for n, (field, value) in enumerate(cases):
        excel_row = 6 + n
        out[(field, value)] = (sheet_class(sheet.checks[n], form.ok_text, form.warning_prefix),
                               office_class(sub, excel_row, form.field(field).header))
    return out


@pytest.mark.parametrize("field, value, sheet, office, words", DIFFERENCES)
def test_each_listed_difference_is_as_documented(verdicts, field, value, sheet, office, words):
    assert verdicts[(field, value)] == (sheet, office)
    assert words in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("field, value, sheet, office", AGREED)
def test_other_values_get_one_verdict(verdicts, field, value, sheet, office):
    assert verdicts[(field, value)] == (sheet, office)
