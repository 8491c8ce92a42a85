"""Acceptance tests of `kcl-xlsx check` on the files schools really send: the hostile and
broken ones of tests/malformed_corpus.py, other formats (.xls, .ods), a workbook in the
1904 date system, numbers stored as text.

The contract for the corpus, per file:

* ``check_path`` returns a Submission, it never raises;
* a REJECTED file (the pre-flight finds an error, or a lock file) has exactly one issue, the
  expected one, with its registered severity, and the status says why it was not read:
  ``not_workbook`` (not a spreadsheet at all), ``unreadable`` (a spreadsheet that cannot or
  must not be opened), ``temporary`` (Excel's ``~$`` lock file);
* a file that is READ in spite of its feature (a macro, an external link, Excel's default
  password) has exactly one ``file.*`` issue, the expected one, and otherwise exactly the
  issues and status of the same workbook without that feature ("the plan's own issues":
  compared with a baseline file as a multiset of (code, severity, sheet, cell, row, column));
* a good file has no ``file.*`` issue and is read (status valid / errors / wrong_template).

Every corpus file is checked in a child process: some of them (a value in XFD1048576) make
python-calamine abort the interpreter, so none of them may reach it in the test process.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from kcl_xlsx.check.checker import CheckOptions, Submission, check_path
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.plan_spec import Sources, example_row
from kcl_xlsx.intake.preflight import preflight
from kcl_xlsx.spec.roster import School
from kcl_xlsx.spec.issues import catalogue
from macros_free_validation.report import Severity
from tests import malformed_corpus as mc
from tests.support.fill import fill_plan
from tests.support.libreoffice import require_soffice, resave

ROOT = Path(__file__).resolve().parent.parent
YEAR = "2025-2026"
KEY = b"khoa-phong-gd-test"
OPTIONS = CheckOptions(year=YEAR, key=KEY)
SCHOOL = School("79000456", "Trường THCS Lê Lợi", "thcs", "Phòng GD&ĐT Quận 3")
SPEC = Sources.load().spec("thcs", YEAR)
EX = example_row(SPEC)

NOT_WORKBOOK, UNREADABLE, TEMPORARY = "not_workbook", "unreadable", "temporary"
READ = {"valid", "errors", "wrong_template"}

# name -> status of a rejected corpus file (its code is the corpus's own expectation)
REJECTED = {
    "empty_file": NOT_WORKBOOK,
    "lock_file": TEMPORARY,
    "pdf_named_xlsx": NOT_WORKBOOK,
    "html_as_xls": NOT_WORKBOOK,
    "csv_as_xls": NOT_WORKBOOK,
    "random_bytes_xlsx": NOT_WORKBOOK,
    "pptx_like_zip": NOT_WORKBOOK,
    "too_large_file": UNREADABLE,  # a real .xlsx, only too big (was not_workbook: fixed bug)
    "truncated_xlsx": UNREADABLE,
    "damaged_member_xlsx": UNREADABLE,
    "too_many_parts_xlsx": UNREADABLE,
    "duplicate_part_xlsx": UNREADABLE,
    "duplicate_part_case_xlsx": UNREADABLE,
    "rels_too_large_xlsx": UNREADABLE,
    "rel_target_outside_xlsx": UNREADABLE,
    "rel_target_missing_xlsx": UNREADABLE,
    "workbook_part_missing_xlsx": UNREADABLE,
    "shared_strings_count_2_31": UNREADABLE,
    "styles_count_2_31": UNREADABLE,
    "shared_strings_not_utf8": UNREADABLE,
    "workbook_3000_sheets": UNREADABLE,
    "duplicate_sheet_names": UNREADABLE,
    "strings_wrong_encoding": UNREADABLE,
    "encrypted_xlsx": UNREADABLE,
    "zip_bomb_xlsx": UNREADABLE,
    "zip_bomb_lying_sizes": UNREADABLE,
    "billion_laughs": UNREADABLE,
    "xxe_entity": UNREADABLE,
    "cell_at_xfd1048576": UNREADABLE,
    "dimension_claim": UNREADABLE,
    "merge_claim": UNREADABLE,
    "ods_repeated_content_rows": UNREADABLE,
    "cell_10mb": UNREADABLE,
}
# name -> baseline: the same workbook without the feature ("self": the file is its own)
READ_ANYWAY = {
    "good_xlsx": "good_xlsx",
    "template_40_rows": "self",
    "good_ods_libreoffice": "self",
    "real_xls_libreoffice": "self",
    "default_password_xlsx": "good_xlsx",  # _plan_workbook(), encrypted with VelvetSweatshop
    "external_links_xlsx": "good_xlsx",  # _plan_workbook() plus a link part
    "sheet_bom_ascii_other_encoding": "good_xlsx",  # _plan_workbook(), one sheet's declaration changed
    "hyperlink_to_local_file": "good_xlsx",  # _plan_workbook() plus a file:/// hyperlink in D2
    "xlsm_with_vba": "xlsm_twin",  # the same sheet written without the VBA project
}

def test_the_tables_cover_the_corpus():
    assert set(REJECTED) | set(READ_ANYWAY) == set(mc.CORPUS)
    assert not set(REJECTED) & set(READ_ANYWAY)
    for name in READ_ANYWAY:
        expected = mc.CORPUS[name][1]
        assert expected is None or catalogue()[expected].severity != Severity.ERROR, name


# --------------------------------------------------------------------------- checking in a child

_CHILD = r"""
import json, sys, traceback
from kcl_xlsx.check.checker import CheckOptions, check_path
options = CheckOptions(year=sys.argv[1], key=sys.argv[2].encode())
for path in sys.argv[3:]:
    print(json.dumps({"path": path, "started": True}), flush=True)
    try:
        sub = check_path(path, options)
        out = {"path": path, "status": sub.status, "kind": sub.kind, "rows": len(sub.rows), "file": sub.file,
               "issues": [i.to_dict() for i in sub.issues]}
    except BaseException as exc:
        out = {"path": path, "raised": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc()[-1500:]}
    print(json.dumps(out, ensure_ascii=False), flush=True)
"""


def check_in_child(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """check_path on each path in a child process; a child that dies (python-calamine
    aborting) is recorded for the file it was on and a new child goes on with the rest."""
    results: dict[str, dict[str, Any]] = {}
    todo = [str(p) for p in paths]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "PYTHONIOENCODING": "utf-8"}
    while todo:
        run = subprocess.run([sys.executable, "-c", _CHILD, YEAR, KEY.decode(), *todo], capture_output=True,
                             encoding="utf-8", timeout=600, cwd=ROOT, env=env)
        current = None
        for line in run.stdout.splitlines():
            record = json.loads(line)
            if record.pop("started", False):
                current = record["path"]
            else:
                results[record["path"]] = record
                current = None
        if current is not None:  # the child died on this file
            results[current] = {"path": current, "died": run.returncode, "stderr": run.stderr[-1500:]}
        todo = [p for p in todo if p not in results]
        if todo and current is None:  # died before starting anything: do not loop forever
            for p in todo:
                results[p] = {"path": p, "died": run.returncode, "stderr": run.stderr[-1500:]}
            todo = []
    return results


def xlsm_twin(directory: Path) -> Path:
    """The sheet of malformed_corpus.xlsm_with_vba, saved without the VBA project."""
    path = directory / "co-macro-twin.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Kế hoạch").write_string(0, 0, "STT")
    wb.close()
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("corpus")
    files = {}
    for name, (builder, _code) in mc.CORPUS.items():
        if getattr(builder, "needs_libreoffice", False) and not mc.soffice_path():
            continue
        files[name] = mc.build(name, base)
    (base / "twin").mkdir()
    files["xlsm_twin"] = xlsm_twin(base / "twin")
    return files


@pytest.fixture(scope="module")
def checked(corpus) -> dict[str, dict[str, Any]]:
    by_path = check_in_child(list(corpus.values()))
    return {name: by_path[str(path)] for name, path in corpus.items()}


def _result(checked, name: str) -> dict[str, Any]:
    if name not in checked:  # only the corpus's LibreOffice-built files are left out (see corpus)
        require_soffice()
    res = checked[name]
    assert "died" not in res, f"the checking process died on {name}: rc={res['died']} {res['stderr']}"
    assert "raised" not in res, f"check_path raised on {name}: {res['raised']}\n{res['traceback']}"
    return res


def _key(issue: dict) -> tuple:
    return (issue["code"], issue["severity"], issue["sheet"], issue["cell"], issue["row"], issue["column"])


@pytest.mark.parametrize("name", [n for n in REJECTED])
def test_rejected_file(name: str, checked, corpus):
    res = _result(checked, name)
    code = mc.CORPUS[name][1]
    assert [(i["code"], i["severity"]) for i in res["issues"]] == [(code, catalogue()[code].severity.value)]
    assert res["status"] == REJECTED[name]
    assert res["rows"] == 0
    issue = res["issues"][0]
    assert issue["file"] == res["file"] == str(corpus[name])
    assert issue["message"] and issue["hint"]


@pytest.mark.parametrize("name", [n for n in READ_ANYWAY])
def test_file_read_anyway(name: str, checked):
    res = _result(checked, name)
    code = mc.CORPUS[name][1]
    file_issues = [(i["code"], i["severity"]) for i in res["issues"] if i["code"].startswith("file.")]
    assert file_issues == ([] if code is None else [(code, catalogue()[code].severity.value)])
    assert res["status"] in READ
    assert res["kind"] in {"xlsx", "xlsm", "xls", "ods"}
    baseline = READ_ANYWAY[name]
    if baseline != "self":
        base = _result(checked, baseline)
        own = Counter(_key(i) for i in res["issues"] if not i["code"].startswith("file."))
        assert own == Counter(_key(i) for i in base["issues"])
        assert (res["status"], res["rows"]) == (base["status"], base["rows"])


def test_macro_file_precisely(checked):
    """The .xlsm: its warning, plus what its one sheet ("Kế hoạch" with only "STT") gives."""
    res = _result(checked, "xlsm_with_vba")
    assert Counter(i["code"] for i in res["issues"]) == Counter({
        "file.macro_enabled": 1, "structure.plan_sheet_missing": 1, "structure.sheet_missing": 3,
        "identity.missing": 1, "template.unknown": 1})
    assert (res["kind"], res["status"]) == ("xlsm", "wrong_template")


def test_last_cell_file_is_stopped_before_any_parser(corpus):
    """Pure-Python pre-flight (safe in this process) rejects it: check_path never parses it."""
    pf = preflight(corpus["cell_at_xfd1048576"])
    assert not pf.ok
    assert [(i.code, i.cell) for i in pf.issues] == [("file.out_of_bounds", "XFD1048576")]


# --------------------------------------------------------------------------- other formats


def nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def rows_of(sub: Submission) -> list[tuple]:
    return [(r.row, {k: nfc(v) for k, v in r.values.items()}, r.derived) for r in sub.rows]


def flagged(sub: Submission) -> Counter:
    return Counter((i.code, i.severity, i.sheet, i.cell) for i in sub.issues if i.severity != Severity.INFO)


ROWS = [
    EX,
    {**EX, "target": "Dòng thứ hai", "budget": "12,5", "start": "Học kỳ I", "end": "Cả năm học"},
    {**EX, "target": "Dòng có lỗi", "budget": "khoảng vài đồng", "muc": "Mức 3",
     "criterion": next(c.label for c in SPEC.framework.all_items() if c.code == "1.2")},
    {**EX, "target": "Mức 4", "muc": "Mức 4", "standard": "", "criterion": SPEC.framework.top_items[0].label,
     "lead": "Đinh Văn Em", "budget": 1500.25, "funding": "Xã hội hóa"},
]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    data, _ = TemplateFactory(Sources.load(), YEAR, key=KEY).make("thcs", SCHOOL)
    path = tmp_path_factory.mktemp("tpl") / "mau.xlsx"
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def filled(template, tmp_path_factory) -> Path:
    return fill_plan(template, tmp_path_factory.mktemp("filled") / "79000456_le-loi.xlsx", ROWS,
                     info={"preparer": "Phạm Thị Dung", "date": dt.datetime(2025, 10, 15)}, staff=["Đinh Văn Em"])


@pytest.fixture(scope="module")
def converted(filled, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("converted")
    return {fmt: resave([filled], d / fmt, fmt=fmt)[0] for fmt in ("xls", "ods")}


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt, source", [("xls", "sheet"), ("ods", "custom")])
def test_other_formats_give_the_same_rows(fmt: str, source: str, filled, converted):
    original = check_path(filled, OPTIONS)
    other = check_path(converted[fmt], OPTIONS)
    assert other.kind == fmt
    assert rows_of(other) == rows_of(original)
    assert len(other.rows) == len(ROWS)
    assert flagged(other) == flagged(original) == Counter({
        ("field.not_a_number", Severity.ERROR, "Kế hoạch", "K8"): 1,
        ("criterion.level_not_defined", Severity.ERROR, "Kế hoạch", "B8"): 1})
    assert other.status == original.status == "errors"
    assert (other.school_code, nfc(other.school_name)) == (SCHOOL.code, nfc(SCHOOL.name))
    assert other.identity["template_id"] == original.identity["template_id"] == SPEC.template_id
    assert other.identity["file_id"] == original.identity["file_id"]
    assert (other.identity_source, other.signature) == (source, "verified")
    assert other.info == original.info and other.info["date"] == "2025-10-15"
    assert other.staff == original.staff == ["Đinh Văn Em"]


def test_numbers_stored_as_text(filled):
    sub = check_path(filled, OPTIONS)
    assert sub.rows[1].values["budget"] == 12.5
    assert (sub.rows[1].derived["budget_min"], sub.rows[1].derived["budget_max"]) == (12.5, 12.5)
    assert not [i for i in sub.issues if i.row == 7 and i.severity != Severity.INFO]
    assert sub.rows[3].values["budget"] == 1500.25


@pytest.mark.parametrize("text, number", [("12,5", 12.5), ("7", 7), (" 0,5 ", 0.5), ("1.500", 1500),
                                          ("1.500,5", 1500.5)])
def test_budget_numbers_as_text_variants(text: str, number: float, template, tmp_path):
    path = fill_plan(template, tmp_path / "so-dang-chu.xlsx", [{**EX, "budget": text}], info={"preparer": "A"})
    sub = check_path(path, OPTIONS)
    assert sub.rows[0].values["budget"] == number
    assert not [i for i in sub.issues if i.row == 6 and i.code.startswith(("field.", "budget."))]


def test_1904_date_system(template, tmp_path):
    """A workbook in the 1904 date system (Excel for Mac): dates typed into Bắt đầu /
    Hoàn thành and Ngày lập are read as the same dates as in a 1900 workbook."""
    dates = [{**EX, "start": dt.datetime(2025, 10, 1), "end": dt.datetime(2026, 5, 1)}]
    info = {"preparer": "Phạm Thị Dung", "date": dt.datetime(2025, 10, 15)}
    d1900 = fill_plan(template, tmp_path / "1900.xlsx", dates, info=info)
    wb = openpyxl.load_workbook(d1900)
    wb.epoch = CALENDAR_MAC_1904  # openpyxl writes date1904="1" and 1904-based serials
    for ws in wb.worksheets:  # re-assign so that the serials are computed in the new epoch
        for r in ws.iter_rows():
            for c in r:
                if isinstance(c.value, dt.datetime):
                    c.value = c.value
    d1904 = tmp_path / "1904.xlsx"
    wb.save(d1904)
    assert b'date1904="1"' in zipfile.ZipFile(d1904).read("xl/workbook.xml")
    a, b = check_path(d1900, OPTIONS), check_path(d1904, OPTIONS)
    assert rows_of(b) == rows_of(a)
    assert (nfc(b.rows[0].values["start"]), nfc(b.rows[0].values["end"])) == ("Tháng 10/2025", "Tháng 5/2026")
    assert b.info["date"] == a.info["date"] == "2025-10-15"
    assert flagged(b) == flagged(a) == Counter()


# --------------------------------------------------------------------------- sheet-level facts


def _moved_plan(filled: Path, out: Path, decoy_merges: list[str], plan_merges: list[str] = ()) -> Path:
    """The filled plan with its plan sheet renamed "Kế hoạch 2025" and, before it, a
    different sheet named "Kế hoạch" holding only a note and merged ranges."""
    wb = openpyxl.load_workbook(filled)
    plan = wb[SPEC.form.sheet]
    plan.title = "Kế hoạch 2025"
    for ref in plan_merges:
        plan.merge_cells(ref)
    decoy = wb.create_sheet(SPEC.form.sheet, index=0)
    decoy["A1"] = "Bản nháp, không dùng"
    for ref in decoy_merges:
        decoy.merge_cells(ref)
    wb.save(out)
    return out


def test_merges_are_taken_from_the_sheet_read(filled, tmp_path):
    """Issue 14: the merged ranges of a sheet NAMED "Kế hoạch" were applied to the plan the
    reader had found on another sheet (false "not in list" errors on the real plan).  Every
    sheet-level fact now comes from the sheet read: the decoy's merges change nothing."""
    plain = _moved_plan(filled, tmp_path / "chi-doi-ten.xlsx", [])
    decoy = _moved_plan(filled, tmp_path / "co-trang-gia.xlsx", ["B6:D20", "E7:H30", "A6:K9"])
    a, b = check_path(plain, OPTIONS), check_path(decoy, OPTIONS)
    assert a.rows and rows_of(b) == rows_of(a)
    assert flagged(b) == flagged(a)
    assert not [i for i in b.issues if i.code == "cell.merged"]
    assert "structure.plan_sheet_renamed" in {i.code for i in b.issues}


def test_merges_of_the_sheet_read_are_reported_on_it(filled, tmp_path):
    moved = _moved_plan(filled, tmp_path / "gop-tren-trang-that.xlsx", ["B6:D20"], plan_merges=["C6:C7"])
    merged = [i for i in check_path(moved, OPTIONS).issues if i.code == "cell.merged"]
    assert [(i.sheet, i.cell, i.value) for i in merged] == [("Kế hoạch 2025", "C6", "C6:C7")]


def test_a_sheet_the_reader_refuses_is_corrupt_not_a_crash(tmp_path):
    """Issue 14, true reasons: ill-formed XML in a sheet passes the pre-flight (it does not
    parse sheets) and python-calamine raises; that is a damaged file (file.corrupt, with the
    reader's words), not "the parser crashed"."""
    path = mc._with_base("xml-hong.xlsx", tmp_path, replace={
        "xl/worksheets/sheet2.xml": mc._sub(b"</sheetData>", b'<row r="9"><c r="A9"><v>1</c></row></sheetData>')})
    sub = check_path(path, OPTIONS)
    assert [(i.code, i.severity) for i in sub.issues] == [("file.corrupt", Severity.ERROR)]
    assert sub.status == "unreadable" and not sub.rows
    assert "XmlError" in sub.issues[0].value and sub.issues[0].file == str(path)
