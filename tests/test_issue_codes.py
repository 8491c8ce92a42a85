"""Issue codes: every code the application raises is a member of ``Code``
(kcl_xlsx/spec/issues.py), its text is data (workbook_templates/data/issues.yaml; the plan
rules' in form.yaml), and the catalogue checks the two against each other when it is built:
a code without its text, a text nothing raises, a bad severity or a code written twice is
one clear line."""
from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from kcl_xlsx.intake.sandbox import Outcome, WorkerPool
from kcl_xlsx.spec.issues import (Code, Issue, IssueCatalogue, build_catalogue, catalogue, load_issue_codes,
                                  rule_codes)
from kcl_xlsx.spec.plan_spec import Sources
from macros_free_validation import report
from macros_free_validation.report import Severity
from workbook_templates.errors import SpecError
from workbook_templates.form import load_form

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "workbook_templates" / "data"


def plan_rule_codes() -> set[str]:
    """The codes the plan rules of every built-in template design raise."""
    sources = Sources.load()
    out = set()
    for level in sources.form.levels:
        for framework in sources.catalog.for_level(level.catalog):
            out |= {r.code for r in sources.spec(level.key, "2025-2026", framework.id).rules.rules}
    return out


# --------------------------------------------------------------------------- the built-in catalogue


def test_every_code_has_its_text():
    cat = catalogue()
    assert isinstance(cat, IssueCatalogue) and len(Code) > 40
    for code in Code:
        assert code.value in cat and cat[code].code == code.value and cat[code].message


def test_every_text_is_raised_by_the_code_or_a_plan_rule():
    listed = {t.code for t in load_issue_codes()}
    assert listed == {c.value for c in Code}
    rules = plan_rule_codes()
    assert rules and not rules & listed
    assert set(catalogue()) == listed | rules  # no dead text to translate


def test_every_code_member_is_used_by_the_application():
    """``Code.X`` appears somewhere in kcl_xlsx besides its own definition (read with ast,
    not a regular expression): a member nothing raises is a text nobody reads."""
    used = set()
    for path in (ROOT / "kcl_xlsx").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Code":
                used.add(node.attr)
    assert {c.name for c in Code} <= used, sorted({c.name for c in Code} - used)


def test_rule_codes_keep_their_severities():
    specs = {t.code: t for t in rule_codes(load_form())}
    assert specs["field.unknown_choice"].severity == Severity.WARNING  # a soft list
    assert specs["field.not_in_list"].severity == Severity.ERROR
    assert specs["budget.implausible"].severity == Severity.ERROR  # an error since form 2026.1 (issue 14)
    assert specs["field.required"].message == "Thiếu {label}"  # as written: filled per field


def test_texts_are_composed_vietnamese_with_hints_for_errors():
    for t in load_issue_codes():
        assert unicodedata.is_normalized("NFC", t.message + t.hint)
        if t.severity == "error":
            assert t.hint, t.code  # an error always says how to fix it


def test_issue_make_uses_the_file_texts_and_stores_plain_codes():
    spec = {t.code: t for t in load_issue_codes()}["file.empty"]
    issue = Issue.make(Code.FILE_EMPTY, file="a.xlsx")
    assert issue.message == spec.message.format(file="a.xlsx") and issue.hint == spec.hint
    assert type(issue.code) is str and issue.code == "file.empty" and f"{issue.code}" == "file.empty"
    assert json.loads(json.dumps(issue.to_dict()))["code"] == "file.empty"
    assert catalogue().make(Code.FILE_EMPTY, file="a.xlsx") == issue == Issue.make("file.empty", file="a.xlsx")


def test_an_unknown_code_fails_loudly():
    with pytest.raises(AttributeError):
        Code.FILE_EMTPY  # noqa: B018  (a typo at a call site fails when the module is imported)
    with pytest.raises(KeyError, match="file.emtpy"):
        Issue.make("file.emtpy", file="a.xlsx")


def test_the_application_issue_extends_the_engine_issue():
    """The engine's issue knows a position only; the file, school and template are the
    application's.  Exports keep their field order."""
    assert {f.name for f in dataclasses.fields(report.Issue)} == {
        "code", "severity", "message", "hint", "sheet", "cell", "row", "column", "value"}
    issue = Issue.make(Code.CELL_MERGED, sheet="Kế hoạch", cell="F12", row=12, value="F12:G12", file="a.xlsx")
    assert isinstance(issue, report.Issue) and issue.where() == "Kế hoạch!F12"
    assert list(issue.to_dict()) == ["code", "severity", "message", "hint", "file", "sheet", "cell", "row", "column",
                                     "value", "school_code", "template_id"]
    assert not hasattr(report, "define_code") and not hasattr(report, "codes")


# --------------------------------------------------------------------------- worker processes


def make_in_worker(code: str) -> Issue:
    """Run by a WorkerPool worker (module level, so the worker can import it)."""
    return Issue.make(code, file="x.xlsx", seconds="1,0", value="boom")


def test_a_worker_process_knows_the_codes():
    """A fresh interpreter that imports only the checker (as a worker does) can raise them."""
    code = "from kcl_xlsx.check.checker import check_path; from kcl_xlsx.spec.issues import Code, Issue; " \
           "print(Issue.make(Code.FILE_TIMEOUT, file='x', seconds='1').message)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "x" in out.stdout and "giây" in out.stdout


def test_a_worker_pool_makes_the_same_issues():
    codes = [Code.FILE_TIMEOUT.value, Code.FILE_PARSER_CRASHED.value, Code.FILE_CORRUPT.value]
    with WorkerPool(make_in_worker, jobs=1, timeout_s=60.0) as pool:
        got = {item: outcome for item, outcome in pool.imap_unordered(codes)}
    for code in codes:
        assert got[code].ok and got[code].value == make_in_worker(code)
    timeout = Outcome(ok=False, error="boom", code=Code.FILE_TIMEOUT.value, seconds=1.0).issue("x.xlsx")
    assert timeout == make_in_worker(Code.FILE_TIMEOUT.value)


# --------------------------------------------------------------------------- a damaged catalogue


def _issues_copy(tmp_path: Path, edit) -> Path:
    path = tmp_path / "issues.yaml"
    path.write_text(edit((DATA / "issues.yaml").read_text(encoding="utf-8")), encoding="utf-8")
    return path


def _one_line(err: pytest.ExceptionInfo, path: Path, *words: str) -> None:
    text = str(err.value)
    assert "\n" not in text and str(path) in text, text
    for w in words:
        assert w in text, text


def test_the_built_in_files_build():
    cat = build_catalogue(DATA / "issues.yaml", DATA / "form.yaml")
    assert dict(cat) == dict(catalogue())


def test_a_code_without_its_text_fails(tmp_path):
    path = _issues_copy(tmp_path, lambda t: _drop(t, "file.timeout"))
    with pytest.raises(SpecError) as err:
        build_catalogue(path)
    _one_line(err, path, "file.timeout")


def test_a_text_nothing_raises_fails(tmp_path):
    path = _issues_copy(tmp_path, lambda t: t + "  file.unheard_of:\n    severity: info\n    message: x\n")
    with pytest.raises(SpecError) as err:
        build_catalogue(path)
    _one_line(err, path, "file.unheard_of")


def test_a_bad_severity_fails(tmp_path):
    path = _issues_copy(tmp_path, lambda t: t.replace("  file.empty:\n    severity: error",
                                                      "  file.empty:\n    severity: fatal", 1))
    with pytest.raises(SpecError) as err:
        build_catalogue(path)
    _one_line(err, path, "file.empty", "severity 'fatal'")


def test_a_code_written_twice_fails(tmp_path):
    path = _issues_copy(tmp_path, lambda t: t + "  file.empty:\n    severity: error\n    message: x\n    hint: y\n")
    with pytest.raises(SpecError) as err:
        build_catalogue(path)
    _one_line(err, path, "file.empty", "hai lần")


def test_a_rule_code_also_in_the_issues_file_fails(tmp_path):
    form = tmp_path / "form.yaml"
    text = (DATA / "form.yaml").read_text(encoding="utf-8")
    form.write_text(text.replace("code: funding.missing", "code: file.empty"), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        build_catalogue(form=form)
    assert "file.empty" in str(err.value) and str(form) in str(err.value) and "\n" not in str(err.value)


def test_one_rule_code_with_two_texts_fails(tmp_path):
    form = tmp_path / "form.yaml"
    form.write_text((DATA / "form.yaml").read_text(encoding="utf-8").replace("code: funding.missing",
                                                                             "code: period.end_before_start"),
                    encoding="utf-8")
    with pytest.raises(SpecError) as err:
        build_catalogue(form=form)
    _one_line(err, form, "period.end_before_start")


def _drop(text: str, code: str) -> str:
    """``text`` without the entry of ``code`` (its key line and its indented lines)."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith(f"  {code}:"):
            skipping = True
            continue
        if skipping and line.startswith("    "):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


@pytest.mark.parametrize("text, words", [
    ("codes: [1, 2]\n", "bảng mã"),
    ("codes:\n  a.b: 3\n", "cần severity"),
    ("codes:\n  a.b: {severity: fatal, message: x}\n", "severity 'fatal'"),
    ("codes:\n  a.b: {severity: error}\n", "thiếu 'message'"),
    ("codes:\n  a.b: {severity: error, message: x, note: y}\n", "khóa lạ note"),
    ("codes:\n  a.b: {severity: error, message: x}\n  a.b: {severity: info, message: y}\n", "a.b được viết hai lần"),
    ("codes: [\n", "YAML sai cú pháp"),
])
def test_a_bad_codes_file_is_one_line(tmp_path, text, words):
    path = tmp_path / "issues.yaml"
    path.write_text(text, encoding="utf-8")
    for load in (load_issue_codes, build_catalogue):
        with pytest.raises(SpecError) as err:
            load(path)
        assert words in str(err.value) and "\n" not in str(err.value) and str(path) in str(err.value)
