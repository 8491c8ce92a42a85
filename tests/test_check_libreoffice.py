"""Round trips through real LibreOffice: a school fills the template, opens it in
LibreOffice Calc and saves it (as .xlsx, or as .ods and later back to .xlsx).  The office's
check must give exactly the same verdict as on the file before the re-save: the same rows,
the same error and warning issues (info-level ones may differ), the identity still read
from the same copy, the signature still verified.

All LibreOffice work is three batched conversions in one module fixture.
"""
from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kcl_xlsx.spec import identity as ident
from kcl_xlsx.check.checker import CheckOptions, Submission, check_path
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.plan_spec import Sources, example_row
from kcl_xlsx.intake.readers.xlsx import read_plan
from kcl_xlsx.spec.roster import School
from macros_free_validation.report import Severity
from tests.support.fill import fill_plan
from tests.support.libreoffice import resave

pytestmark = pytest.mark.libreoffice

YEAR = "2025-2026"
KEY = b"khoa-phong-gd-test"
OPTIONS = CheckOptions(year=YEAR, key=KEY)
SOURCES = Sources.load()
SPEC = SOURCES.spec("thcs", YEAR)
EX = example_row(SPEC)
PREPARER = {"preparer": "Võ Thị Hạnh", "phone": "0912 345 678"}
SCHOOLS = {
    "valid": School("79000701", "Trường THCS Trần Hưng Đạo", "thcs", "Phòng GD&ĐT Quận 5"),
    "errors": School("79000702", "Trường THCS Nguyễn Du", "thcs", "Phòng GD&ĐT Quận 5"),
    "tampered": School("79000703", "Trường THCS Lý Thường Kiệt", "thcs", "Phòng GD&ĐT Quận 5"),
    "merged": School("79000704", "Trường THCS Phan Bội Châu", "thcs", "Phòng GD&ĐT Quận 5"),
}


def crit(code: str) -> str:
    return next(c.label for c in SPEC.framework.all_items() if c.code == code)


def std(code: str) -> str:
    return next(s.label for s in SPEC.framework.standards if s.code == code)


VALID_ROWS = [
    EX,
    {**EX, "muc": "Mức 3", "standard": std("2"), "criterion": crit("2.2"), "target": "100% giáo viên đạt chuẩn",
     "lead": "Phó hiệu trưởng", "start": "Học kỳ I", "end": "Cả năm học", "budget": 12.5,
     "funding": "Ngân sách nhà nước"},
    {**EX, "muc": "Mức 4", "standard": "", "criterion": crit("M4.4"), "target": "Thư viện điện tử",
     "budget": "", "funding": "Không cần kinh phí", "start": "Tháng 1/2026", "end": "Tháng 8/2027"},
    {**EX, "target": "Dòng có chủ trì là cán bộ", "lead": "Hồ Văn Phúc", "budget": 0.75, "funding": "Xã hội hóa"},
]
# row (Excel) -> what is wrong with it
ERROR_ROWS = [
    {**EX, "target": ""},                                                            # 6 field.required E6
    {**EX, "target": "b", "budget": "khoảng vài đồng"},                               # 7 not_a_number K7
    {**EX, "target": "c", "muc": "Mức 3", "criterion": crit("1.2")},                  # 8 level_not_defined B8
    {**EX, "target": "d", "muc": "Mức 4", "criterion": crit("1.1")},  # 9 not a Mức 4 item: not_in_standard D9, level B9
    {**EX, "target": "e", "start": "Tháng 12/2025", "end": "Tháng 9/2025"},           # 10 end_before_start J10
    {**EX, "target": "f", "budget": 5, "funding": "Không cần kinh phí"},               # 11 with_no_funding K11
    {**EX, "target": "g", "funding": ""},                                             # 12 funding.missing L12
    {**EX, "target": "h", "budget": 60000},                                           # 13 implausible K13
    {**EX, "target": "i", "lead": "Ông Ba bảo vệ"},                                    # 14 unknown_choice G14 (w)
    {**EX, "target": "j", "actions": "=1+1"},                                         # 15 formula_like F15 (w)
    {**EX, "target": "k", "budget": "400 - 500 triệu"},                               # 16 parsed_from_text K16 (w)
    {**EX, "target": "l", "end": "Tháng 9/2031"},                                     # 17 outside_window J17
    {**EX, "target": "m", "status": "Xong rồi"},                                      # 18 not_in_list O18
    {**EX, "target": "n", "budget": -2},                                              # 19 below_minimum K19
    {**EX, "target": "b", "budget": "khoảng vài đồng"},                               # 20 not_a_number, dup of 7
    {**EX, "target": unicodedata.normalize("NFD", "Tăng cường") + "\u00a0kỹ năng"},   # 21 info only
    {**EX, "target": "o", "lead": "Hiệu trưởng - Kế toán", "collaborators": "",
     "start": "HK1", "end": "Tháng 12/2025"},                                          # 22 info only
]
E, W = Severity.ERROR, Severity.WARNING
EXPECTED = {
    "valid": Counter(),
    "errors": Counter({
        ("field.required", E, "Kế hoạch!E6"): 1,
        ("field.not_a_number", E, "Kế hoạch!K7"): 1,
        ("criterion.level_not_defined", E, "Kế hoạch!B8"): 1,
        ("criterion.not_in_standard", E, "Kế hoạch!D9"): 1,
        ("criterion.level_not_defined", E, "Kế hoạch!B9"): 1,
        ("period.end_before_start", E, "Kế hoạch!J10"): 1,
        ("budget.with_no_funding_needed", E, "Kế hoạch!K11"): 1,
        ("funding.missing", E, "Kế hoạch!L12"): 1,
        ("budget.implausible", E, "Kế hoạch!K13"): 1,
        ("field.unknown_choice", W, "Kế hoạch!G14"): 1,
        ("text.formula_like", W, "Kế hoạch!F15"): 1,
        ("budget.parsed_from_text", W, "Kế hoạch!K16"): 1,
        ("period.outside_window", E, "Kế hoạch!J17"): 1,
        ("field.not_in_list", E, "Kế hoạch!O18"): 1,
        ("field.below_minimum", E, "Kế hoạch!K19"): 1,
        ("field.not_a_number", E, "Kế hoạch!K20"): 1,
        ("row.duplicate", W, "Kế hoạch!D20"): 1,
        ("info.missing", W, "Thông tin!B9"): 1,
    }),
    "tampered": Counter({("identity.tampered", E, "Thông tin!B4"): 1}),
    "merged": Counter(),  # the merged Tiêu chí cell D6:D8 belongs to the three rows
}
STATUS = {"valid": "valid", "errors": "errors", "tampered": "errors", "merged": "valid"}
MERGED_ROWS = [EX, {**EX, "target": "Dòng thứ hai", "criterion": ""}, {**EX, "target": "Dòng thứ ba", "criterion": ""}]
COPIES = ("original", "lo-xlsx", "lo-ods", "lo-ods-xlsx")


def nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def flagged(sub: Submission) -> Counter:
    return Counter((i.code, i.severity, i.where()) for i in sub.issues if i.severity != Severity.INFO)


def rows_of(sub: Submission) -> list[tuple]:
    return [(r.row, {k: nfc(v) for k, v in r.values.items()}, r.derived, r.errors) for r in sub.rows]


@dataclasses.dataclass
class Issued:
    identity: ident.Identity
    paths: dict[str, Path]  # copy name -> file


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> dict[str, Issued]:
    d = tmp_path_factory.mktemp("lo")
    factory = TemplateFactory(SOURCES, YEAR, key=KEY)
    out: dict[str, Issued] = {}
    for name, school in SCHOOLS.items():
        data, identity = factory.make("thcs", school)
        (d / f"{name}-mau.xlsx").write_bytes(data)
        rows = {"errors": ERROR_ROWS, "merged": MERGED_ROWS}.get(name, VALID_ROWS)
        info = {} if name == "errors" else PREPARER
        path = fill_plan(d / f"{name}-mau.xlsx", d / "filled" / f"{name}.xlsx", rows, info=info,
                         staff=["Hồ Văn Phúc"])
        if name in ("tampered", "merged"):
            wb = openpyxl.load_workbook(path)
            if name == "tampered":
                wb["Thông tin"]["B4"].value = "79000999"  # the code of another school
            else:
                wb["Kế hoạch"].protection.sheet = False
                wb["Kế hoạch"].merge_cells("D6:D8")
            wb.save(path)
        out[name] = Issued(identity, {"original": path})
    originals = [i.paths["original"] for i in out.values()]
    xlsx = resave(originals, d / "lo-xlsx", fmt="xlsx")
    ods = resave(originals, d / "lo-ods", fmt="ods")
    back = resave(ods, d / "lo-ods-xlsx", fmt="xlsx")
    for i, name in enumerate(out):
        out[name].paths.update({"lo-xlsx": xlsx[i], "lo-ods": ods[i], "lo-ods-xlsx": back[i]})
    return out


@pytest.fixture(scope="module")
def checked(issued) -> dict[tuple[str, str], Submission]:
    return {(name, copy): check_path(p, OPTIONS) for name, i in issued.items() for copy, p in i.paths.items()}


CASES = [(name, copy) for name in SCHOOLS for copy in COPIES]
@pytest.mark.parametrize("name, copy", CASES)
def test_exactly_the_expected_issues(name: str, copy: str, checked):
    sub = checked[(name, copy)]
    assert flagged(sub) == EXPECTED[name], sorted(flagged(sub).items())
    assert sub.status == STATUS[name]


@pytest.mark.parametrize("name, copy", [c for c in CASES if c[1] != "original"])
def test_same_rows_as_before_the_resave(name: str, copy: str, checked):
    before, after = checked[(name, "original")], checked[(name, copy)]
    assert rows_of(after) == rows_of(before)
    assert after.info == before.info
    assert after.staff == before.staff == ["Hồ Văn Phúc"]


@pytest.mark.parametrize("name, copy", CASES)
def test_identity_still_read_and_verified(name: str, copy: str, checked, issued):
    sub = checked[(name, copy)]
    expected = issued[name].identity
    assert sub.identity_source == "custom"  # the document properties survive LibreOffice
    assert sub.signature == "verified"
    assert {k: nfc(v) for k, v in sub.identity.items()} == {k: nfc(v) for k, v in dict(expected.items()).items()}
    assert sub.school_code == SCHOOLS[name].code
    assert not [i for i in sub.issues if i.code in ("identity.mismatch", "identity.bad_signature",
                                                    "identity.missing", "template.unknown")]


@pytest.mark.parametrize("name, copy", CASES)
def test_every_identity_copy_survives(name: str, copy: str, issued):
    """Not only the copy the checker trusts: the very-hidden sheet verifies on its own, and
    the defined name (xlsx only: .ods has no place for it) still names the file."""
    path = issued[name].paths[copy]
    kind = path.suffix.lstrip(".")
    raw = read_plan(path.read_bytes(), kind, SOURCES.form)
    expected = issued[name].identity
    for source in ("custom", "sheet"):
        copy_ = ident.Identity.from_mapping(raw.identity_copies[source])
        assert copy_.verify(KEY) is True, source
        assert copy_.file_id == expected.file_id
    if kind == "xlsx":
        assert raw.identity_copies["name"] == {"template_id": expected.template_id, "file_id": expected.file_id,
                                               "signature": expected.signature}


@pytest.mark.parametrize("copy", COPIES[1:])
def test_the_copies_really_went_through_libreoffice(copy: str, checked):
    assert "LibreOffice" in checked[("valid", copy)].application
    assert "LibreOffice" not in checked[("valid", "original")].application


def test_a_wrong_key_still_fails_after_the_resave(issued):
    sub = check_path(issued["valid"].paths["lo-ods-xlsx"], CheckOptions(year=YEAR, key=b"khoa-khac"))
    assert (sub.signature, sub.status) == ("invalid", "errors")
    assert Counter(i.code for i in sub.issues if i.severity == Severity.ERROR) == Counter({"identity.bad_signature": 1})
