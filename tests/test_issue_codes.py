"""Issue codes are data (workbook_templates/data/issues.yaml): every code the code raises is
there with Vietnamese text, and a damaged codes file is one clear line."""
from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from macros_free_validation.report import Issue, codes
from workbook_templates.errors import SpecError
from workbook_templates.issues import load_issue_codes

ROOT = Path(__file__).resolve().parent.parent
# Issue.make("code" / define_code-free constants such as ZIP_BOMB = "file.zip_bomb"
_RAISED = re.compile(r'Issue\.make\(\s*"([a-z_]+\.[a-z_.]+)"|^[A-Z_]+ = "([a-z_]+\.[a-z_]+)"$', re.M)


def raised_codes() -> set[str]:
    found = set()
    for path in (ROOT / "kcl_xlsx").rglob("*.py"):
        for a, b in _RAISED.findall(path.read_text(encoding="utf-8")):
            found.add(a or b)
    return {c for c in found if not re.search(r"\.(csv|xlsx|xls|ods|sqlite|json|yaml)$", c)}  # file names


def test_every_code_the_code_raises_has_its_text():
    import kcl_xlsx  # noqa: F401  (registers the codes)

    raised = raised_codes()
    assert len(raised) > 40
    assert raised <= set(codes()), sorted(raised - set(codes()))


def test_every_code_in_the_file_is_raised_somewhere():
    listed = {t.code for t in load_issue_codes()}
    assert listed <= raised_codes(), sorted(listed - raised_codes())  # no dead text to translate


def test_texts_are_composed_vietnamese_with_hints_for_errors():
    for t in load_issue_codes():
        assert unicodedata.is_normalized("NFC", t.message + t.hint)
        if t.severity == "error":
            assert t.hint, t.code  # an error always says how to fix it


def test_a_worker_process_knows_the_codes():
    """A fresh interpreter that imports only the checker (as a worker does) can raise them."""
    code = "from kcl_xlsx.check.checker import check_path; from macros_free_validation.report import Issue; " \
           "print(Issue.make('file.timeout', file='x', seconds='1').message)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "x" in out.stdout and "giây" in out.stdout


@pytest.mark.parametrize("text, words", [
    ("codes: [1, 2]\n", "bảng mã"),
    ("codes:\n  a.b: 3\n", "cần severity"),
    ("codes:\n  a.b: {severity: fatal, message: x}\n", "severity 'fatal'"),
    ("codes:\n  a.b: {severity: error}\n", "thiếu 'message'"),
    ("codes:\n  a.b: {severity: error, message: x, note: y}\n", "khóa lạ note"),
    ("codes: [\n", "YAML sai cú pháp"),
])
def test_a_bad_codes_file_is_one_line(tmp_path, text, words):
    path = tmp_path / "issues.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_issue_codes(path)
    assert words in str(err.value) and "\n" not in str(err.value) and str(path) in str(err.value)


def test_issue_make_uses_the_file_texts():
    spec = {t.code: t for t in load_issue_codes()}["file.empty"]
    issue = Issue.make("file.empty", file="a.xlsx")
    assert issue.message == spec.message.format(file="a.xlsx") and issue.hint == spec.hint
