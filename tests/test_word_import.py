"""`kcl-xlsx import`: a plan written in Word carried into the school's template.

The Word plans are built from the seeds (tests/support/word_plans.py); what the template
must hold is written out here (the rows of seed 001 as test_word_reader states them, the
header block's fields).  LibreOffice opens the result and computes its Kiểm tra column: the
school sees in its own program what is left to fix.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from kcl_xlsx.check.checker import check_path
from kcl_xlsx.cli import app
from kcl_xlsx.spec import layout as L
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.vocab import CheckStatus
from tests.support import word_plans as wp
from tests.support.fill import nfc, read_plan
from tests.support.libreoffice import resave
from tests.test_word_reader import SEED_001_ROWS

SOURCES = Sources.load()
FORM = SOURCES.form
RESULTS_SHEET = "Kết quả kiểm tra"


def run_import(docx: Path, out: Path, *args: str):
    return CliRunner().invoke(app, ["import", str(docx), "-o", str(out), *args])


@pytest.fixture(scope="module")
def seed_001(tmp_path_factory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("import")
    docx = wp.build_plan(folder / "thanh-chan.docx", wp.seed_001())
    out = folder / "thanh-chan.xlsx"
    return out, run_import(docx, out)


def test_the_template_holds_the_word_plans_rows(seed_001):
    out, result = seed_001
    assert result.exit_code == 1, result.output  # written, with the Mức to choose
    assert "9 dòng" in result.output and "Tiểu học" in result.output
    sub = check_path(out)
    assert sub.identity["form_version"] == FORM.version and sub.level == "tieu-hoc" and sub.year == "2021-2022"
    got = [(r.derived["criterion_code"], r.values["target"], r.values["actions"], r.values["lead"],
            r.values["collaborators"], r.values["start"], r.values["end"], r.values["funding"], r.values["support"],
            r.values["muc"]) for r in sub.rows]
    want = [(c, target, actions, lead, collab, start, end, funding, support, "Mức 4" if section == "muc4" else None)
            for c, target, actions, lead, collab, start, end, _lo, _hi, funding, support, _note, section in SEED_001_ROWS]
    assert got == want
    # "Không" and no amount: a blank cost, as the template's guide asks (never a typed 0)
    assert [r.values["budget"] for r in sub.rows] == [None] * len(SEED_001_ROWS)


def test_the_header_block_fills_thong_tin(seed_001):
    out, _ = seed_001
    sub = check_path(out)
    assert sub.school_name == "TRƯỜNG TIỂU HỌC XÃ THANH CHẤN"
    info = {k: sub.info.get(k) for k in ("authority", "doc_number", "place", "date", "signer", "preparer")}
    doc = wp.seed_001()
    assert info["authority"] == doc.authority and info["doc_number"] in doc.number
    assert info["place"] and info["place"] in doc.place_date
    assert info["signer"] == info["preparer"] == doc.signer
    assert info["date"]  # a real date cell, read back as the date


def test_what_is_left_to_fix_is_marked_for_the_school(seed_001):
    """The only errors are the Mức of the "MỨC 1, 2, 3" rows (the section names no single
    level: the school picks); each is on the results sheet, first, with its cell."""
    out, _ = seed_001
    sub = check_path(out)
    errors = [(i.code, i.cell) for i in sub.issues if i.severity.value == "error"]
    mức_col = L.PlanLayout(FORM).letter("muc")
    top = sum(1 for row in SEED_001_ROWS if row[-1] == "muc4")
    assert errors == [("field.required", f"{mức_col}{L.FIRST_INPUT_ROW + 1 + i}")
                      for i in range(len(SEED_001_ROWS) - top)]
    book = CalamineWorkbook.from_path(str(out))
    assert book.sheet_names[0] == RESULTS_SHEET
    report = " ".join(str(c) for row in book.get_sheet_by_name(RESULTS_SHEET).to_python() for c in row)
    assert nfc(report).count("Thiếu Mức") == len(SEED_001_ROWS) - top


@pytest.mark.libreoffice
def test_libreoffice_shows_the_same_in_kiem_tra(seed_001, tmp_path):
    out, _ = seed_001
    [computed] = resave(out, tmp_path / "lo")
    checks = read_plan(computed, len(SEED_001_ROWS)).checks
    top = sum(1 for row in SEED_001_ROWS if row[-1] == "muc4")
    assert checks[: len(SEED_001_ROWS) - top] == ["Thiếu Mức"] * (len(SEED_001_ROWS) - top)
    python = {r.row: r.errors for r in check_path(out).rows}
    for i, text in enumerate(checks[len(SEED_001_ROWS) - top:], start=len(SEED_001_ROWS) - top):
        row = L.FIRST_INPUT_ROW + 1 + i
        assert (text == FORM.ok_text or text.startswith(FORM.warning_prefix.strip())) == (python[row] == 0), text


def _with_rows(doc: wp.Doc, rows) -> wp.Doc:
    return dataclasses.replace(doc, rows=rows)


@pytest.mark.libreoffice
def test_what_could_not_be_read_stays_as_written_and_is_flagged(tmp_path):
    """A criterion no catalogue has and a cost written as a range stay in their cells as the
    school wrote them; the template's own check (LibreOffice) and the office's both flag them."""
    doc = wp.seed_003()
    first = doc.rows[2]
    odd = list(first)
    odd[1], odd[6] = "Tiêu chí 9.9", "400 - 500 triệu"
    doc = _with_rows(doc, [doc.rows[0], doc.rows[1], odd])
    docx = wp.build_plan(tmp_path / "mn.docx", doc)
    out = tmp_path / "mn.xlsx"
    result = run_import(docx, out)
    assert result.exit_code == 1, result.output
    [computed] = resave(out, tmp_path / "lo")
    back = read_plan(computed, 1)
    assert nfc(back.rows[0]["criterion"]) == "Tiêu chí 9.9"
    assert nfc(back.rows[0]["budget"]) == "400 - 500 triệu"
    assert back.checks[0] != FORM.ok_text and back.checks[0]  # the sheet flags the row
    codes = {i.code for i in check_path(out).issues if i.severity.value == "error"}
    assert "field.not_in_list" in codes  # the criterion


def test_not_a_word_plan_is_one_line_and_exit_2(tmp_path, seed_001):
    out, _ = seed_001
    result = run_import(out, tmp_path / "again.xlsx")  # a workbook, not a Word plan
    assert result.exit_code == 2
    assert "không phải kế hoạch viết bằng Word" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "again.xlsx").exists()


def test_a_word_file_without_a_plan_table_is_one_line(tmp_path):
    import docx as python_docx
    letter = python_docx.Document()
    letter.add_paragraph("Kính gửi Phòng Giáo dục và Đào tạo: trường xin gửi kế hoạch sau.")
    letter.save(tmp_path / "thu.docx")
    result = run_import(tmp_path / "thu.docx", tmp_path / "thu.xlsx")
    assert result.exit_code == 2 and "không đọc được bảng kế hoạch" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_existing_output_is_never_overwritten(tmp_path):
    docx = wp.build_plan(tmp_path / "mn.docx", wp.seed_003())
    out = tmp_path / "mn.xlsx"
    out.write_bytes(b"the school's own file")
    result = run_import(docx, out)
    assert result.exit_code == 2 and out.read_bytes() == b"the school's own file"


def test_the_imported_template_is_checked_as_the_schools(tmp_path):
    """With the roster, the template is the roster's school's (its code), and the office's
    check of it knows the school by its identity."""
    docx = wp.build_plan(tmp_path / "mn.docx", wp.seed_003())
    roster = tmp_path / "ds.csv"
    roster.write_text("Mã trường,Tên trường,Cấp học\n79760001,Trường Mầm non Kỹ Năng Sống,MN\n", encoding="utf-8")
    out = tmp_path / "mn.xlsx"
    result = run_import(docx, out, "--roster", str(roster))
    assert result.exit_code in (0, 1), result.output
    sub = check_path(out)
    assert sub.school_code == "79760001" and sub.identity_source != "document"
    assert sub.status in (CheckStatus.VALID, CheckStatus.ERRORS)


def test_check_feedback_on_a_word_plan_is_the_prefilled_template(tmp_path):
    """The feedback a school gets for its Word plan is its template, pre-filled from it: it
    fixes the marked cells and sends the template (check and collect, --feedback)."""
    (tmp_path / "inbox").mkdir()
    docx = wp.build_plan(tmp_path / "inbox" / "mn.docx", wp.seed_003())
    result = CliRunner().invoke(app, ["check", str(docx), "--feedback", str(tmp_path / "fb")])
    assert result.exit_code in (0, 1), result.output
    [copy] = list((tmp_path / "fb").glob("*.xlsx"))
    sub = check_path(copy)
    assert sub.source_kind == "workbook" and sub.identity["form_version"] == FORM.version
    assert [r.derived["criterion_code"] for r in sub.rows] == ["1.1", "3.2", "3.3", "5.2"]
    result = CliRunner().invoke(app, ["collect", str(tmp_path / "inbox"), "-o", str(tmp_path / "tong-hop.xlsx"),
                                      "--feedback", str(tmp_path / "fb2")])
    assert result.exit_code == 0, result.output
    [copy2] = list((tmp_path / "fb2").glob("*.xlsx"))
    assert [r.derived["criterion_code"] for r in check_path(copy2).rows] == ["1.1", "3.2", "3.3", "5.2"]


def test_a_word_plan_longer_than_the_template_says_what_was_left_out(tmp_path):
    doc = wp.seed_003()
    row = doc.rows[2]
    extra = FORM.input_rows + 5
    rows = [doc.rows[0], doc.rows[1]] + [[None, row[1], f"{row[2]} ({n})", *row[3:]] for n in range(extra)]
    docx = wp.build_plan(tmp_path / "dai.docx", dataclasses.replace(doc, rows=rows))
    result = run_import(docx, tmp_path / "dai.xlsx")
    assert result.exit_code == 1
    assert f"5 dòng cuối không vừa mẫu ({FORM.input_rows} dòng)" in result.output
    assert len(check_path(tmp_path / "dai.xlsx").rows) == FORM.input_rows
