"""Acceptance tests of `kcl-xlsx template`: roster mode and its manifest, signing, and
every bad input answered with exit code 2, one line on stderr naming the problem, no
traceback and no file left behind."""
from __future__ import annotations

import copy
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import uuid
from importlib import resources
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
import yaml
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from kcl_xlsx.spec import identity as ident
from kcl_xlsx.cli import app
from kcl_xlsx.issue.issuing import MANIFEST, MANIFEST_COLUMNS
from tests.support.fill import nfc

YEAR = "2025-2026"
ISSUE = "2025-09-05"
_WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


def invoke(*args, env: dict | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def read_identity(path: Path) -> ident.Identity:
    """The identity as the very-hidden sheet of a file holds it."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(ident.SHEET).to_python()
    values = {str(r[0]): ("" if r[1] is None else str(r[1])) for r in rows[1:] if r and r[0]}
    return ident.Identity.from_mapping(values)


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with a hash of its content."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return out


def sample_roster() -> list[dict[str, str]]:
    text = (resources.files("kcl_xlsx") / "data" / "sample_roster.csv").read_text("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def read_manifest(folder: Path) -> list[dict[str, str]]:
    raw = (folder / MANIFEST).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "manifest.csv needs a BOM for Excel"
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    assert tuple(reader.fieldnames) == MANIFEST_COLUMNS
    return list(reader)


def assert_windows_safe(name: str) -> None:
    stem = name.rsplit(".", 1)[0]
    assert not _WINDOWS_BAD.search(name), name
    assert name == name.strip() and not name.endswith("."), name
    assert stem.split(".")[0].casefold() not in _WINDOWS_RESERVED, name
    assert len(name) <= 150 and name.endswith(".xlsx"), name


# -- roster mode --------------------------------------------------------------------------------


ROSTER_KEY = "khoa-cua-phong"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("roster") / "templates"
    res = invoke("template", "--roster", "sample", "--year", YEAR, "-o", out, "--issue-date", ISSUE,
                 "--key", ROSTER_KEY)
    assert res.exit_code == 0, res.output + res.stderr
    return out


def test_roster_writes_one_valid_file_per_school(sample_run, ooxml_validate):
    manifest = read_manifest(sample_run)
    roster = sample_roster()
    assert [m["school_code"] for m in manifest] == [r["school_code"] for r in roster]
    files = [sample_run / m["file"] for m in manifest]
    assert sorted(p.name for p in sample_run.iterdir()) == sorted([MANIFEST, *(p.name for p in files)])
    ooxml_validate(*files)


def test_manifest_hashes_match_the_files(sample_run):
    for m in read_manifest(sample_run):
        assert hashlib.sha256((sample_run / m["file"]).read_bytes()).hexdigest() == m["sha256"], m["file"]


def test_manifest_file_names_are_unique_and_windows_safe(sample_run):
    names = [m["file"] for m in read_manifest(sample_run)]
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert_windows_safe(name)


def test_each_file_carries_its_schools_identity(sample_run):
    roster = {r["school_code"]: r for r in sample_roster()}
    manifest = read_manifest(sample_run)
    file_ids = set()
    for m in manifest:
        who = read_identity(sample_run / m["file"])
        school = roster[m["school_code"]]
        assert who.school_code == school["school_code"] == m["school_code"]
        assert nfc(who.school_name) == nfc(school["school_name"]) == nfc(m["school_name"])
        assert who.level == school["level"] == m["level"]
        assert nfc(who.unit) == nfc(school["unit"])
        assert who.year == YEAR and who.issue_date == ISSUE
        assert who.file_id == m["file_id"] and who.template_id == m["template_id"]
        assert who.verify(ROSTER_KEY.encode()) is True
        file_ids.add(who.file_id)
    assert len(file_ids) == len(manifest)


def test_schools_with_the_same_name_get_different_files(sample_run):
    manifest = read_manifest(sample_run)
    by_name: dict[str, list[dict]] = {}
    for m in manifest:
        by_name.setdefault(nfc(m["school_name"]), []).append(m)
    twins = [ms for ms in by_name.values() if len(ms) > 1]
    assert twins, "the sample roster has two schools with the same name"
    for ms in twins:
        assert len({m["file"] for m in ms}) == len(ms)
        assert {read_identity(sample_run / m["file"]).school_code for m in ms} == {m["school_code"] for m in ms}


def test_awkward_roster_names_stay_unique_and_safe(tmp_path):
    roster = tmp_path / "truong.csv"
    roster.write_text(
        "Mã trường;Tên trường;Cấp học\n"
        "ab;Trường Tiểu học Kim Đồng;Tiểu học\n"
        "AB;Trường Tiểu học Kim Đồng;tieu-hoc\n"
        "A/1;Trường <A>: \"B\" | C? *;THCS\n"
        "A:1;Trường <A>: \"B\" | C? *;thcs\n"
        "CON;AUX;THPT\n"
        "NC 1;...;nhieu-cap\n",
        encoding="utf-8")
    out = tmp_path / "out"
    res = invoke("template", "--roster", roster, "--year", YEAR, "-o", out, "--issue-date", ISSUE)
    assert res.exit_code == 0, res.output + res.stderr
    manifest = read_manifest(out)
    names = [m["file"] for m in manifest]
    assert len(names) == 6 and len({n.casefold() for n in names}) == 6
    for name in names:
        assert_windows_safe(name)
        assert (out / name).is_file()
    for m in manifest:
        assert read_identity(out / m["file"]).school_code == m["school_code"]


# -- signing -------------------------------------------------------------------------------------


def _one(tmp_path: Path, *extra, env=None) -> Path:
    path = tmp_path / f"{uuid.uuid4().hex[:8]}.xlsx"
    res = invoke("template", "--level", "thcs", "--year", YEAR, "-o", path, "--school-code", "CS-09",
                 "--school-name", "Trường THCS Thử Nghiệm", "--unit", "Phòng GD&ĐT", *extra, env=env)
    assert res.exit_code == 0, res.output + res.stderr
    return path


def _props(path: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(path)
    return {p.name: (p.value or "") for p in wb.custom_doc_props.props}


def test_key_option_signs_the_identity(tmp_path, monkeypatch):
    monkeypatch.delenv(ident.KEY_ENV, raising=False)
    path = _one(tmp_path, "--key", "khoa-bi-mat")
    who = read_identity(path)
    assert who.school_code == "CS-09" and who.signature != ident.UNSIGNED
    assert who.verify(b"khoa-bi-mat") is True
    assert who.verify(b"khoa-khac") is False
    props = _props(path)
    assert props[ident.PROPERTY_PREFIX + "signature"] == who.signature
    assert ident.Identity.from_mapping({k[len(ident.PROPERTY_PREFIX):]: v for k, v in props.items()
                                        if k.startswith(ident.PROPERTY_PREFIX)}).verify(b"khoa-bi-mat") is True


@pytest.fixture(scope="module")
def signed_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signed")
    return _one(folder, "--key", "khoa-bi-mat", env={ident.KEY_ENV: None})


@pytest.mark.parametrize("field, value", [("school_code", "CS-10"), ("school_name", "Trường khác"),
                                          ("year", "2026-2027"), ("level", "thpt"), ("file_id", "0" * 32)])
def test_editing_one_identity_value_breaks_the_signature(tmp_path, signed_file, field, value):
    assert read_identity(signed_file).verify(b"khoa-bi-mat") is True
    wb = openpyxl.load_workbook(signed_file)
    ws = wb[ident.SHEET]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == field)
    row[1].value = value
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    who = read_identity(edited)
    assert getattr(who, field) == value
    assert who.verify(b"khoa-bi-mat") is False


def test_key_from_the_environment_signs(tmp_path, monkeypatch):
    monkeypatch.delenv(ident.KEY_ENV, raising=False)
    path = _one(tmp_path, env={ident.KEY_ENV: "khoa-moi-truong"})
    assert read_identity(path).verify(b"khoa-moi-truong") is True


def test_key_option_wins_over_the_environment(tmp_path):
    path = _one(tmp_path, "--key", "khoa-tuy-chon", env={ident.KEY_ENV: "khoa-moi-truong"})
    who = read_identity(path)
    assert who.verify(b"khoa-tuy-chon") is True and who.verify(b"khoa-moi-truong") is False


def test_without_a_key_the_identity_is_unsigned(tmp_path, monkeypatch):
    monkeypatch.delenv(ident.KEY_ENV, raising=False)
    path = _one(tmp_path)
    who = read_identity(path)
    assert who.signature == ident.UNSIGNED and who.verify(b"any") is None
    assert _props(path)[ident.PROPERTY_PREFIX + "signature"] == ident.UNSIGNED


# -- bad input ------------------------------------------------------------------------------------


def _builtin_yaml(name: str) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((resources.files("workbook_templates") / "data" / name).read_text("utf-8"), Loader=loader)


def _yaml_file(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _catalog_dup_criterion(d: Path) -> Path:
    data = {"circulars": copy.deepcopy(_builtin_yaml("criteria_catalog.yaml")["circulars"][:3])}
    crits = data["circulars"][1]["standards"][0]["criteria"]
    crits[1]["code"] = crits[0]["code"]
    return _yaml_file(d / "catalog-dup.yaml", data)


def _choices_dup_owner(d: Path) -> Path:
    data = _builtin_yaml("choices.yaml")
    data["owners"].append(data["owners"][0])
    return _yaml_file(d / "choices-dup.yaml", data)


def _choices_no_owners(d: Path) -> Path:
    data = _builtin_yaml("choices.yaml")
    del data["owners"]
    return _yaml_file(d / "choices-no-owners.yaml", data)


def _write(d: Path, name: str, text: str | bytes) -> Path:
    p = d / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


ONE = ("template", "--level", "thcs", "--year", YEAR)


def _sample_file_names() -> list[str]:
    from kcl_xlsx.issue.issuing import file_names
    from kcl_xlsx.spec.roster import load_roster
    from workbook_templates.form import load_form

    return list(file_names(load_roster("sample", load_form()).schools).values())


def _cases() -> dict[str, Callable[[Path], tuple[list, list[str]]]]:
    """name -> function(folder) -> (arguments, texts stderr must name)."""
    return {
        "unknown-level": lambda d: (["template", "--level", "dai-hoc", "--year", YEAR, "-o", d / "a.xlsx"],
                                    ["--level", "dai-hoc"]),
        "malformed-year": lambda d: (["template", "--level", "thcs", "--year", "2025", "-o", d / "a.xlsx"],
                                     ["--year", "2025"]),
        "reversed-year": lambda d: (["template", "--level", "thcs", "--year", "2026-2025", "-o", d / "a.xlsx"],
                                    ["--year", "2026-2025"]),
        "malformed-year-roster": lambda d: (["template", "--roster", "sample", "--year", "2025", "-o", d / "out"],
                                            ["--year"]),
        "roster-missing-column": lambda d: (
            ["template", "--roster", _write(d, "r.csv", "school_code,school_name\nA1,Trường A\n"),
             "--year", YEAR, "-o", d / "out"], [str(d / "r.csv"), "level"]),
        "roster-duplicate-codes": lambda d: (
            ["template", "--roster", _write(d, "r.csv", "school_code,school_name,level\nA1,Trường A,thcs\n"
                                                         "A1,Trường B,thpt\n"),
             "--year", YEAR, "-o", d / "out"], [str(d / "r.csv"), "A1"]),
        "roster-unknown-level": lambda d: (
            ["template", "--roster", _write(d, "r.csv", "school_code,school_name,level\nA1,Trường A,đại học\n"),
             "--year", YEAR, "-o", d / "out"], [str(d / "r.csv"), "đại học"]),
        "roster-empty": lambda d: (["template", "--roster", _write(d, "r.csv", b""), "--year", YEAR,
                                    "-o", d / "out"], [str(d / "r.csv")]),
        "roster-header-only": lambda d: (
            ["template", "--roster", _write(d, "r.csv", "school_code,school_name,level\n"), "--year", YEAR,
             "-o", d / "out"], [str(d / "r.csv")]),
        "roster-not-utf8": lambda d: (
            ["template", "--roster", _write(d, "r.csv", "school_code,school_name,level\nA1,Trường A,thcs\n"
                                            .encode("cp1258", errors="replace")),
             "--year", YEAR, "-o", d / "out"], [str(d / "r.csv")]),
        "roster-missing-file": lambda d: (["template", "--roster", d / "khong-co.csv", "--year", YEAR,
                                           "-o", d / "out"], [str(d / "khong-co.csv")]),
        "roster-with-level": lambda d: (["template", "--roster", "sample", "--level", "thcs", "--year", YEAR,
                                         "-o", d / "out"], ["--roster"]),
        "existing-output-file": lambda d: ([*ONE, "-o", _write(d, "co-san.xlsx", b"not mine")],
                                           [str(d / "co-san.xlsx")]),
        "existing-file-in-roster-folder": lambda d: (
            ["template", "--roster", "sample", "--year", YEAR, "-o", d],
            [str(_write(d, _sample_file_names()[-1], b"not mine"))]),
        "output-folder-is-a-file": lambda d: (["template", "--roster", "sample", "--year", YEAR,
                                               "-o", _write(d, "thu-muc", b"a file")], [str(d / "thu-muc")]),
        "output-file-under-a-file": lambda d: ([*ONE, "-o", _write(d, "tep", b"a file") / "a.xlsx"],
                                               [str(d / "tep" / "a.xlsx")]),
        "output-not-xlsx": lambda d: ([*ONE, "-o", d / "a.xls"], [str(d / "a.xls")]),
        "bad-issue-date": lambda d: ([*ONE, "-o", d / "a.xlsx", "--issue-date", "05/09/2025"],
                                     ["--issue-date"]),
        "framework-not-for-level": lambda d: ([*ONE, "-o", d / "a.xlsx", "--framework", "tt19-2018"],
                                              ["--framework", "tt19-2018"]),
        "unknown-framework": lambda d: ([*ONE, "-o", d / "a.xlsx", "--framework", "tt99"], ["tt99"]),
        "catalog-invalid-yaml": lambda d: ([*ONE, "-o", d / "a.xlsx", "--catalog",
                                            _write(d, "c.yaml", "circulars: [\n  - id: x\n")], [str(d / "c.yaml")]),
        "catalog-missing-circulars": lambda d: ([*ONE, "-o", d / "a.xlsx", "--catalog",
                                                 _write(d, "c.yaml", "frameworks: []\n")], [str(d / "c.yaml"),
                                                                                            "circulars"]),
        "catalog-duplicate-criterion": lambda d: ([*ONE, "-o", d / "a.xlsx", "--catalog", _catalog_dup_criterion(d)],
                                                  [str(d / "catalog-dup.yaml"), "1.1"]),
        "catalog-missing-file": lambda d: ([*ONE, "-o", d / "a.xlsx", "--catalog", d / "khong-co.yaml"],
                                           [str(d / "khong-co.yaml")]),
        "choices-invalid-yaml": lambda d: ([*ONE, "-o", d / "a.xlsx", "--choices",
                                            _write(d, "ch.yaml", "owners: [Hiệu trưởng\n")], [str(d / "ch.yaml")]),
        "choices-missing-owners": lambda d: ([*ONE, "-o", d / "a.xlsx", "--choices", _choices_no_owners(d)],
                                             [str(d / "choices-no-owners.yaml"), "owners"]),
        "choices-duplicate-owner": lambda d: ([*ONE, "-o", d / "a.xlsx", "--choices", _choices_dup_owner(d)],
                                              [str(d / "choices-dup.yaml"), "owners"]),
        "choices-bad-span": lambda d: ([*ONE, "-o", d / "a.xlsx", "--choices", _yaml_file(
            d / "ch.yaml", {**_builtin_yaml("choices.yaml"), "periods": {"spans": [{"label": "HK1", "from": "x"}]}})],
            [str(d / "ch.yaml")]),
    }


CASES = _cases()


def _check_refusal(res, names: list[str]) -> None:
    lines = res.stderr.splitlines()
    assert res.exit_code == 2, f"exit {res.exit_code}: {res.stderr}{res.output}"
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr + res.output
    for text in names:
        assert nfc(text) in nfc(lines[0]), f"{text!r} not named in: {lines[0]}"
    assert "Đã tạo" not in res.output


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_refused_in_one_line_leaving_nothing(tmp_path, name):
    work = tmp_path / "work"
    work.mkdir()
    args, names = CASES[name](work)
    before = snapshot(work)
    res = invoke(*args)
    _check_refusal(res, names)
    assert snapshot(work) == before, "files were written or changed"


@pytest.fixture
def unwritable_dir(tmp_path):
    """An existing folder this process cannot write into (root ignores permission bits: then
    /proc/sys, read-only for everyone)."""
    folder = tmp_path / "khoa"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if not os.access(folder, os.W_OK):
            yield folder
            return
        if Path("/proc/sys").is_dir() and not os.access("/proc/sys", os.W_OK):
            yield Path("/proc/sys")
            return
        pytest.skip("no folder this user cannot write into")
    finally:
        folder.chmod(0o755)


def _no_leftovers(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith((".xlsx", ".part")) or n == MANIFEST]


def test_unwritable_output_folder_roster(unwritable_dir):
    before = _no_leftovers(unwritable_dir)
    res = invoke("template", "--roster", "sample", "--year", YEAR, "-o", unwritable_dir)
    _check_refusal(res, [str(unwritable_dir)])
    assert _no_leftovers(unwritable_dir) == before


def test_unwritable_output_folder_one_school(unwritable_dir):
    target = unwritable_dir / "kcl-test.xlsx"
    before = _no_leftovers(unwritable_dir)
    res = invoke(*ONE, "-o", target)
    _check_refusal(res, [str(target)])
    assert _no_leftovers(unwritable_dir) == before


def test_roster_with_a_framework_not_for_every_school_leaves_nothing(tmp_path):
    """tt19-2018 fits the roster's first schools (mầm non) but not the later ones."""
    out = tmp_path / "out"
    res = invoke("template", "--roster", "sample", "--year", YEAR, "-o", out, "--framework", "tt19-2018")
    _check_refusal(res, ["--framework"])
    assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())


@pytest.mark.parametrize("name", ["ke-hoach.xlsx", "KE-HOACH.XLSX", "mau.xls"])
def test_roster_with_a_file_name_as_output_is_refused(tmp_path, name):
    """With --roster, -o is a folder: a name ending in .xlsx is a mistake (it used to become a
    folder named plan.xlsx holding the templates)."""
    out = tmp_path / name
    res = invoke("template", "--roster", "sample", "--year", YEAR, "-o", out)
    _check_refusal(res, ["-o", "thư mục", "folder"])
    assert not out.exists()


# -- the installed console script -------------------------------------------------------------------


def _console_script() -> str:
    exe = shutil.which("kcl-xlsx") or str(Path(sys.executable).with_name("kcl-xlsx"))
    if not Path(exe).exists():
        pytest.fail("the kcl-xlsx console script is not installed (pip install -e .)")
    return exe


def test_console_script_refuses_bad_input_in_one_line(tmp_path):
    target = tmp_path / "a.xlsx"
    run = subprocess.run([_console_script(), "template", "--level", "thcs", "--year", "2026-2025",
                          "-o", str(target)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and "--year" in lines[0] and "2026-2025" in lines[0], run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert list(tmp_path.iterdir()) == []


def test_console_script_writes_a_valid_template(tmp_path, ooxml_validate):
    target = tmp_path / "mot truong.xlsx"
    run = subprocess.run([_console_script(), "template", "--level", "nhieu-cap", "--year", YEAR, "-o", str(target),
                          "--school-code", "NC-7", "--school-name", "Trường Hy Vọng & Ước Mơ"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    ooxml_validate(target)
    who = read_identity(target)
    assert (who.school_code, nfc(who.school_name), who.level) == ("NC-7", nfc("Trường Hy Vọng & Ước Mơ"),
                                                                   "nhieu-cap")
