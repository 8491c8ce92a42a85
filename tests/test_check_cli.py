"""Acceptance tests of the `kcl-xlsx check` command: formats, exit codes, folders, feedback.

In-process with typer's CliRunner, plus one run of the installed console script in a real
subprocess.  The feedback workbooks are only counted and opened here (their content is
tested with kcl_xlsx/feedback.py).
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from kcl_xlsx.intake import entries
from kcl_xlsx.check.checker import CheckOptions, check_path
from kcl_xlsx.cli import app
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.plan_spec import Sources, example_row
from kcl_xlsx.spec.roster import School
from tests import malformed_corpus as mc
from tests.support.fill import fill_plan

ROOT = Path(__file__).resolve().parent.parent
YEAR = "2025-2026"
KEY = "khoa-phong-gd-test"
SCHOOL = School("79000801", "Trường THCS Chu Văn An", "thcs", "Phòng GD&ĐT Quận 10")
SPEC = Sources.load().spec("thcs", YEAR)
EX = example_row(SPEC)
FIELDS = ["file", "school_code", "template_id", "severity", "code", "sheet", "cell", "row", "column", "value",
          "message", "hint"]
PREPARER = {"preparer": "Đỗ Minh Khoa"}


def nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    data, _ = TemplateFactory(Sources.load(), YEAR, key=KEY.encode()).make("thcs", SCHOOL)
    (d / "mau.xlsx").write_bytes(data)
    plans = {
        "valid": ([EX, {**EX, "target": "Kết quả thứ hai"}], PREPARER),
        "errors": ([{**EX, "target": ""}, {**EX, "target": "b", "actions": "=1+1", "budget": -5},
                    {**EX, "target": "c", "actions": "@SUM(A1)", "note": "+84 912 345 678"}], {}),
        "warnings": ([{**EX, "lead": "Ông Ba bảo vệ"}], PREPARER),
    }
    out = {}
    for name, (rows, info) in plans.items():
        out[name] = fill_plan(d / "mau.xlsx", d / "nop" / f"{name}.xlsx", rows, info=info)
    return out


WIDE = {"COLUMNS": "250"}  # rich folds long cells at the default 80 columns


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, ["check", *args], env=env, catch_exceptions=False)


def options() -> CheckOptions:
    return CheckOptions(year=YEAR, key=KEY.encode())


def as_record(issue, sub) -> dict:
    d = issue.to_dict()
    d["school_code"] = d["school_code"] or sub.school_code
    return {k: ("" if d.get(k) is None else d.get(k)) for k in FIELDS}


# --------------------------------------------------------------------------- formats


def test_json_one_record_per_issue(files):
    path = files["errors"]
    res = invoke(str(path), "--format", "json", "--year", YEAR, "--key", KEY)
    assert res.exit_code == 1, res.output
    records = json.loads(res.stdout)
    assert records and all(list(r) == FIELDS for r in records)
    sub = check_path(path, options(), display=str(path))
    assert len(records) == len(sub.issues)
    assert records == [as_record(i, sub) for i in sub.issues]
    assert {r["file"] for r in records} == {str(path)}
    assert {r["school_code"] for r in records} == {SCHOOL.code}
    assert {r["template_id"] for r in records} == {SPEC.template_id}
    by_code = Counter((r["code"], r["severity"], r["sheet"], r["cell"]) for r in records if r["severity"] != "info")
    assert by_code == Counter({
        ("field.required", "error", "Kế hoạch", "E6"): 1,
        ("text.formula_like", "warning", "Kế hoạch", "F7"): 1,
        ("field.below_minimum", "error", "Kế hoạch", "K7"): 1,
        ("text.formula_like", "warning", "Kế hoạch", "F8"): 1,
        ("text.formula_like", "warning", "Kế hoạch", "N8"): 1,
        ("info.missing", "warning", "Thông tin", "B9"): 1,
    })
    required = next(r for r in records if r["code"] == "field.required")
    assert (required["row"], nfc(required["column"])) == (6, "Kết quả cần đạt")
    assert nfc(required["message"]).startswith("Kế hoạch!E6: ") and required["hint"]


def test_csv_same_columns_and_formula_like_values_are_prefixed(files):
    path = str(files["errors"])
    as_json = json.loads(invoke(path, "--format", "json", "--year", YEAR, "--key", KEY).stdout)
    res = invoke(path, "--format", "csv", "--year", YEAR, "--key", KEY)
    assert res.exit_code == 1
    table = list(csv.reader(io.StringIO(res.stdout.removeprefix("\ufeff"))))
    assert table[0] == FIELDS
    rows = [dict(zip(FIELDS, r)) for r in table[1:]]
    assert len(rows) == len(as_json)
    values = {(r["code"], r["cell"]): r["value"] for r in rows}
    assert values[("text.formula_like", "F7")] == "'=1+1"
    assert values[("text.formula_like", "F8")] == "'@SUM(A1)"
    assert values[("text.formula_like", "N8")] == "'+84 912 345 678"
    assert values[("field.below_minimum", "K7")].startswith("'-")
    for row in rows:  # nothing Excel would evaluate, in any column
        assert not any(v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in row.values()), row
    for rec, row in zip(as_json, rows):  # the same records, only the prefix added
        assert {k: (v[1:] if v.startswith("'") else v) for k, v in row.items()} == {
            k: str(v) for k, v in rec.items()}


def test_text_prints_a_table_and_a_one_line_total(files):
    res = invoke(str(files["valid"]), str(files["errors"]), str(files["warnings"]), "--year", YEAR, "--key", KEY,
                 env=WIDE)
    assert res.exit_code == 1
    out = nfc(res.stdout)
    lines = out.splitlines()
    assert [ln for ln in lines if ln.startswith("Tổng:")] == [
        "Tổng: 3 tệp, 1 tệp có lỗi, 2 lỗi, 5 cảnh báo / 3 files, 1 with errors"]
    assert lines[-1].startswith("Tổng:")
    headers = [ln for ln in lines if ln.startswith(str(files["valid"].parent))]
    assert len(headers) == 3
    assert any("valid.xlsx" in h and "Hợp lệ" in h and "0 lỗi, 0 cảnh báo, 2 dòng" in h for h in headers)
    assert any("errors.xlsx" in h and "Cần sửa" in h and "2 lỗi, 4 cảnh báo, 3 dòng" in h for h in headers)
    assert any("warnings.xlsx" in h and "Hợp lệ" in h and "0 lỗi, 1 cảnh báo, 1 dòng" in h for h in headers)
    assert "Mức độ" in out and "Vị trí" in out and "Cách sửa" in out
    for where in ("Kế hoạch!E6", "Kế hoạch!K7", "Thông tin!B9", "Kế hoạch!G6"):
        assert where in out
    for code in ("field.required", "field.below_minimum", "text.formula_like", "info.missing",
                 "field.unknown_choice"):
        assert code in out
    assert "identity.source" not in out  # info-level: only with --show-info


def test_text_show_info(files):
    res = invoke(str(files["valid"]), "--year", YEAR, "--key", KEY, "--show-info", env=WIDE)
    assert res.exit_code == 0
    assert "identity.source" in res.stdout and "Kế hoạch!" not in res.stdout


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize("names, code", [
    (("valid",), 0), (("warnings",), 0), (("valid", "warnings"), 0), (("errors",), 1), (("valid", "errors"), 1)])
def test_exit_code(names, code, files):
    res = invoke(*(str(files[n]) for n in names), "--format", "json", "--year", YEAR, "--key", KEY)
    assert res.exit_code == code
    assert {r["file"] for r in json.loads(res.stdout)} == {str(files[n]) for n in names}


@pytest.mark.parametrize("args, says", [
    (["{missing}"], "khong-co.xlsx"),
    (["{valid}", "{missing}"], "khong-co.xlsx"),
    (["{valid}", "--year", "2025"], "--year"),
    (["{valid}", "--year", "2025-2027"], "--year"),
    (["{valid}", "--level", "dai-hoc"], "--level"),
])
def test_usage_errors_exit_2_with_one_line(args, says, files, tmp_path):
    subst = {"valid": str(files["valid"]), "missing": str(tmp_path / "khong-co.xlsx")}
    res = invoke(*(a.format(**subst) for a in args), "--format", "json")
    assert res.exit_code == 2
    assert res.stdout == ""  # nothing half-written
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kcl-xlsx: ") and says in lines[0], res.stderr
    assert "Traceback" not in res.output


def test_key_from_environment(files):
    path = str(files["valid"])
    good = invoke(path, "--format", "json", "--year", YEAR, env={"KCL_XLSX_KEY": KEY})
    bad = invoke(path, "--format", "json", "--year", YEAR, env={"KCL_XLSX_KEY": "khoa-khac"})
    assert good.exit_code == 0 and "identity.bad_signature" not in good.stdout
    assert bad.exit_code == 1 and [r["code"] for r in json.loads(bad.stdout) if r["severity"] == "error"] == [
        "identity.bad_signature"]


def test_text_shows_file_names_verbatim(files, tmp_path):
    """A file name is data, not rich markup (fixed bug: '[ban cuoi]' vanished)."""
    path = tmp_path / "ke-hoach [ban cuoi].xlsx"
    shutil.copy(files["valid"], path)
    res = invoke(str(path), "--year", YEAR, "--key", KEY, env=WIDE)
    assert res.exit_code == 0
    assert str(path) in res.stdout


@pytest.fixture(scope="module")
def markup_files(files, tmp_path_factory) -> dict[str, Path]:
    """Thông tin's school code overwritten with text that rich would read as markup."""
    d = tmp_path_factory.mktemp("markup")
    out = {}
    for name, code in (("closing-tag", "[/]"), ("style-tag", "[red]79000999")):
        wb = openpyxl.load_workbook(files["valid"])
        wb["Thông tin"]["B4"].value = code
        out[code] = d / f"{name}.xlsx"
        wb.save(out[code])
    return out


def test_markup_like_school_text_in_json(markup_files):
    for code, path in markup_files.items():
        res = invoke(str(path), "--format", "json", "--year", YEAR, "--key", KEY)
        assert res.exit_code == 1
        tampered = [r for r in json.loads(res.stdout) if r["code"] == "identity.tampered"]
        assert [r["value"] for r in tampered] == [code]


def test_markup_like_school_text_in_the_text_table(markup_files):
    """School text is data, not rich markup (fixed bug: '[/]' on Thông tin made the whole
    run exit 3 without a report; '[red]' vanished)."""
    res = invoke(*(str(p) for p in markup_files.values()), "--year", YEAR, "--key", KEY, env=WIDE)
    assert res.exit_code == 1, res.output
    for code in markup_files:
        assert f"'{code}'" in res.stdout
    assert "Tổng: 2 tệp, 2 tệp có lỗi" in res.stdout


@pytest.mark.parametrize("roster_row, expected, code", [
    (f"{SCHOOL.code},{SCHOOL.name},thcs", set(), 0),
    (f"{SCHOOL.code},TRUONG THCS CHU VAN AN,THCS", set(), 0),  # compared diacritic- and case-insensitively
    ("79000999,Trường khác,thcs", {("roster.unknown_school", "warning")}, 0),
    (f"{SCHOOL.code},{SCHOOL.name},thpt", {("roster.level_mismatch", "error")}, 1),
    (f"{SCHOOL.code},Trường THCS Chu Văn An 2,thcs", {("roster.name_mismatch", "warning")}, 0),
], ids=["same", "same-folded", "school-not-in-roster", "level-differs", "name-differs"])
def test_roster_is_compared(roster_row, expected, code, files, tmp_path):
    """`check --roster` compares each file's school with the office's list (was ignored: fixed bug)."""
    roster = tmp_path / "ds-truong.csv"
    roster.write_text("school_code,school_name,level\n" + roster_row + "\n", encoding="utf-8")
    res = invoke(str(files["valid"]), "--format", "json", "--year", YEAR, "--key", KEY, "--roster", str(roster))
    assert res.exit_code == code
    records = json.loads(res.stdout)
    assert {(r["code"], r["severity"]) for r in records if r["severity"] != "info"} == expected
    assert all(r["file"] == str(files["valid"]) and r["school_code"] == SCHOOL.code for r in records)


# --------------------------------------------------------------------------- folders, feedback


def test_folder_is_walked_recursively(files, tmp_path):
    inbox = tmp_path / "hop-thu"
    placed = {
        inbox / "a.xlsx": files["valid"],
        inbox / "quan-10" / "b.xlsx": files["errors"],
        inbox / "quan-10" / "thcs" / "c.xlsx": files["warnings"],
    }
    for dst, src in placed.items():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
    res = invoke(str(inbox), "--format", "json", "--year", YEAR, "--key", KEY)
    assert res.exit_code == 1
    records = json.loads(res.stdout)
    assert {r["file"] for r in records} == {str(p) for p in placed}
    errors = {r["file"] for r in records if r["severity"] == "error"}
    assert errors == {str(inbox / "quan-10" / "b.xlsx")}


def test_check_opens_zip_attachments_as_collect_does(files, tmp_path):
    """One walker for check and collect: the workbooks of a .zip attachment are checked
    (named "a.zip!inner.xlsx"), the archive itself is named on stderr; the zip is only read."""
    import zipfile

    inbox = tmp_path / "hop-thu"
    inbox.mkdir()
    attachment = inbox / "thu-cua-truong.zip"
    with zipfile.ZipFile(attachment, "w") as zf:
        zf.write(files["errors"], "ke-hoach/loi.xlsx")
        zf.write(files["valid"], "dung.xlsx")
        zf.writestr("ghi-chu.txt", "không phải bảng tính")
    before = attachment.read_bytes()
    res = invoke(str(inbox), "--format", "json", "--year", YEAR, "--key", KEY)
    assert res.exit_code == 1
    records = json.loads(res.stdout)
    assert {r["file"] for r in records} == {f"{attachment}!ke-hoach/loi.xlsx", f"{attachment}!dung.xlsx"}
    assert {r["file"] for r in records if r["severity"] == "error"} == {f"{attachment}!ke-hoach/loi.xlsx"}
    assert f"{attachment}: tệp nén, 2 bảng tính bên trong" in res.stderr
    assert attachment.read_bytes() == before


def test_hostile_files_in_a_folder_do_not_stop_the_run(files, tmp_path):
    """The checks run in sandboxed workers: the file that makes python-calamine abort is
    rejected alone (by the pre-flight), a lock file is skipped, the good file is checked."""
    inbox = tmp_path / "hop-thu"
    hostile = mc.build("cell_at_xfd1048576", inbox)
    lock = mc.build("lock_file", inbox)
    good = inbox / "tot.xlsx"
    shutil.copy(files["valid"], good)
    res = invoke(str(inbox), "--format", "json", "--year", YEAR, "--key", KEY)
    assert res.exit_code == 1
    flagged = {(r["file"], r["code"], r["severity"]) for r in json.loads(res.stdout) if r["severity"] != "info"}
    assert flagged == {(str(hostile), "file.out_of_bounds", "error"), (str(lock), "file.lock_file", "warning")}
    assert str(good) in {r["file"] for r in json.loads(res.stdout)}


def test_links_and_pipes_are_named_on_stderr_never_opened(files, tmp_path):
    """In a folder, a symbolic link is not followed and a pipe is not opened (reading it
    would wait for ever); each is named with the reason.  A link named on the command line
    is the user's choice and is followed."""
    inbox = tmp_path / "hop-thu"
    inbox.mkdir()
    good = inbox / "tot.xlsx"
    shutil.copy(files["valid"], good)
    (inbox / "lien-ket.xlsx").symlink_to(files["errors"])
    os.mkfifo(inbox / "ong.xlsx")
    os.mkfifo(tmp_path / "ong-ngoai.xlsx")
    (tmp_path / "ten-goi.xlsx").symlink_to(files["errors"])
    res = invoke(str(inbox), str(tmp_path / "ong-ngoai.xlsx"), str(tmp_path / "ten-goi.xlsx"), "--format", "json",
                 "--year", YEAR, "--key", KEY)
    checked = {r["file"] for r in json.loads(res.stdout)}
    assert checked == {str(good), str(tmp_path / "ten-goi.xlsx")} and res.exit_code == 1  # the named link's errors
    said = nfc(res.stderr).splitlines()
    assert sorted(said) == sorted([f"{inbox / 'lien-ket.xlsx'}: bỏ qua, {entries.LINK}",
                                   f"{inbox / 'ong.xlsx'}: bỏ qua, {entries.SPECIAL}",
                                   f"{tmp_path / 'ong-ngoai.xlsx'}: bỏ qua, {entries.SPECIAL}"])


def test_what_the_walk_makes_of_each_kind_of_entry(tmp_path):
    """One lstat per entry (two for a link the user named): a folder and a regular file are
    read, a link inside a folder is not followed, a pipe is not opened, a named link to
    nothing is not a regular file, an entry gone since it was listed says so."""
    (tmp_path / "a.xlsx").write_bytes(b"x")
    (tmp_path / "link.xlsx").symlink_to(tmp_path / "a.xlsx")
    (tmp_path / "dangling.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    os.mkfifo(tmp_path / "pipe.xlsx")
    assert entries.look(tmp_path)[1] is None and entries.look(tmp_path / "a.xlsx")[0].st_size == 1
    assert entries.look(tmp_path / "link.xlsx")[1] == entries.LINK
    assert entries.look(tmp_path / "link.xlsx", follow_links=True)[0].st_size == 1
    assert entries.look(tmp_path / "dangling.xlsx", follow_links=True)[1] == entries.SPECIAL
    assert entries.look(tmp_path / "pipe.xlsx")[1] == entries.SPECIAL
    assert entries.look(tmp_path / "gone.xlsx") == (None, entries.GONE)


def test_feedback_one_workbook_per_file_with_issues(files, tmp_path):
    out = tmp_path / "phan-hoi"
    res = invoke(str(files["valid"]), str(files["errors"]), str(files["warnings"]), "--format", "json",
                 "--year", YEAR, "--key", KEY, "--feedback", str(out))
    assert res.exit_code == 1
    written = sorted(out.iterdir())
    assert len(written) == 2  # errors.xlsx and warnings.xlsx; valid.xlsx has only info-level issues
    for stem, path in zip(("errors", "warnings"), written):
        assert path.name.startswith(f"phan-hoi_{SCHOOL.code}_{stem}") and path.suffix == ".xlsx", path.name
        assert openpyxl.load_workbook(path).sheetnames
    assert f"Đã ghi 2 tệp phản hồi vào {out}" in nfc(res.stderr)
    records = json.loads(res.stdout)  # the report itself is unchanged by --feedback
    assert len(records) == sum(len(check_path(files[n], options()).issues) for n in ("valid", "errors", "warnings"))


def test_feedback_rerun_adds_no_second_copy(files, tmp_path):
    out = tmp_path / "phan-hoi"
    for _ in range(2):
        assert invoke(str(files["warnings"]), "--year", YEAR, "--key", KEY, "--feedback", str(out)).exit_code == 0
    assert len(list(out.iterdir())) == 1


# --------------------------------------------------------------------------- a real process


def _console(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("kcl-xlsx")
    cmd = [exe] if exe else [sys.executable, "-c", "from kcl_xlsx.cli import app; app()"]
    return subprocess.run([*cmd, "check", *args], capture_output=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_console_script_in_a_subprocess(files):
    path = str(files["errors"])
    run = _console(path, "--format", "json", "--year", YEAR, "--key", KEY)
    assert run.returncode == 1, run.stderr
    assert b"Traceback" not in run.stderr
    records = json.loads(run.stdout.decode("utf-8"))
    in_process = json.loads(invoke(path, "--format", "json", "--year", YEAR, "--key", KEY).stdout)
    assert records == in_process


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_report_redirected_on_a_non_utf8_console(fmt, files):
    """json/csv are UTF-8 whatever the console's code page (fixed bug: UnicodeEncodeError, exit 3)."""
    run = _console(str(files["errors"]), "--format", fmt, "--year", YEAR, "--key", KEY,
                   env={"PYTHONIOENCODING": "cp1252"})  # what Python uses for a redirected stdout on Windows
    assert run.returncode == 1, run.stderr.decode("utf-8", "replace")
    text = run.stdout.decode("utf-8-sig")
    assert "Kết quả cần đạt" in text


def test_csv_report_opens_in_excel_as_utf8(files):
    run = _console(str(files["errors"]), "--format", "csv", "--year", YEAR, "--key", KEY)
    assert run.returncode == 1
    assert run.stdout.startswith(b"\xef\xbb\xbf")
    assert run.stdout.decode("utf-8-sig").splitlines()[0] == ",".join(FIELDS)
