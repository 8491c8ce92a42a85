"""`kcl-xlsx render`: the official plan document (.docx) from a filled template, and its PDF.

* the document read back with python-docx: the header block, the title, the nine columns, the
  section and standard lines in catalogue order and numbered as real plans are (../shared/seeds/),
  every row's text in its column, consecutive rows of one criterion merged;
* its PDF (LibreOffice), measured with ``pdftotext -bbox``: every word at least 11 pt high,
  the table's header row on every table page, the school, the year and "Trang n/m" on every
  page, the page counts of a 10-row and a 40-row plan;
* the command: one line and exit 2 for a file that is not a plan, exit 1 with a line for a plan
  with errors (the document is still written), an earlier document kept, --pdf without
  LibreOffice; `collect --render` on a small inbox.
"""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
import unicodedata
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from typer.testing import CliRunner

from kcl_xlsx import app as commands
from kcl_xlsx.check.checker import CheckOptions, check_path
from kcl_xlsx.cli import app
from kcl_xlsx.demo import fill_plan
from kcl_xlsx.issue.document_data import (ROW, SECTION, STANDARD, budget_text, date_line, document_data,
                                          owners_text, period_text, vn_number)
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import School
from kcl_xlsx.spec.vocab import CheckStatus
from kcl_xlsx.spec.sample_plans import plan_rows
from workbook_templates.document_text import load_document_text
from workbook_templates.errors import SpecError
from tests.support.pdf import page_texts, words

YEAR = "2025-2026"
OPTIONS = CheckOptions(year=YEAR)
INFO = {"preparer": "Nguyễn Thị Hậu", "position": "Hiệu trưởng", "authority": "Ủy ban nhân dân Quận 3",
        "doc_number": "149/KH-THCSLL", "place": "Quận 3", "date": dt.datetime(2025, 9, 4)}
SCHOOL = School(code="79001", name="Trường THCS Lê Lợi", level="thcs", unit="Phòng GD&ĐT Quận 3")
HEADERS = ("TT", "Tiêu chuẩn, tiêu chí", "Kết quả cần đạt (so với hiện trạng)", "Công việc/giải pháp cần thực hiện",
           "Chủ trì và phối hợp thực hiện", "Thời gian thực hiện và hoàn thành", "Dự kiến kinh phí",
           "Điều kiện hỗ trợ khác", "Ghi chú")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    """Filled plans of 10 and 40 rows (the sample rows, seed 1), with the header fields."""
    out = tmp_path_factory.mktemp("plans")
    factory = TemplateFactory(Sources.load(), YEAR, key=b"k", issue_date=dt.date(2025, 9, 5))
    template = out / "template.xlsx"
    template.write_bytes(factory.make("thcs", SCHOOL)[0])
    spec = factory.spec("thcs")
    rows = {n: plan_rows(spec, n, seed=1) for n in (10, 40)}
    rows[10][4]["support"] = "Hội cha mẹ học sinh hỗ trợ"
    rows[10][4]["note"] = "Ưu tiên"
    files = {n: fill_plan(template, out / f"plan{n}.xlsx", rows[n], info=INFO) for n in rows}
    return {"factory": factory, "spec": spec, "template": template, "files": files, "rows": rows, "dir": out}


@pytest.fixture(scope="module")
def rendered(plans, tmp_path_factory):
    """Each plan rendered to .docx (no LibreOffice needed), with the time it took."""
    out = tmp_path_factory.mktemp("docx")
    done = {}
    for n, path in plans["files"].items():
        res = commands.render(path, out / f"plan{n}.docx", options=OPTIONS)
        done[n] = res
    return done


# -- the content -------------------------------------------------------------------------------


def test_numbers_dates_and_cells_as_plans_write_them():
    assert vn_number(12.5) == "12,5" and vn_number(1500) == "1.500" and vn_number(0.125) == "0,125"
    assert vn_number(1234567.25) == "1.234.567,25" and vn_number(10.0) == "10"
    assert date_line("Quận 3", "2025-09-04") == "Quận 3, ngày 04 tháng 9 năm 2025"
    assert date_line("Quận 6", dt.date(2026, 2, 1)) == "Quận 6, ngày 01 tháng 02 năm 2026"
    assert date_line("", None) == "……, ngày …… tháng …… năm ……"
    assert budget_text(12.5, "Ngân sách nhà nước") == "12,5 triệu đồng (Ngân sách nhà nước)"
    assert budget_text(None, "Không cần kinh phí") == "Không cần kinh phí"
    assert budget_text("400 - 500 triệu", "Xã hội hóa") == "400 - 500 triệu (Xã hội hóa)"
    assert period_text("Tháng 9/2025", "Tháng 5/2026") == "Tháng 9/2025 - Tháng 5/2026"
    assert period_text("Tháng 5/2026", "Tháng 5/2026") == "Tháng 5/2026"
    assert period_text("Năm học 2024-2025", None) == "Năm học 2024-2025"
    assert owners_text("Hiệu trưởng", "Kế toán") == "Hiệu trưởng; phối hợp: Kế toán"
    assert owners_text("Hiệu trưởng", None) == "Hiệu trưởng"


def test_the_table_lines_are_grouped_and_numbered_as_real_plans(plans):
    sub = check_path(plans["files"][40], OPTIONS)
    spec = plans["spec"]
    data = document_data(sub, spec, load_document_text())
    lines = data.lines
    fw = spec.framework
    # sections: MỨC 1, 2, 3 first, MỨC 4 last, each once
    sections = [(i, ln.title) for i, ln in enumerate(lines) if ln.kind == SECTION]
    assert [t for _, t in sections] == ["MỨC 1, 2, 3", "MỨC 4"] and sections[0][0] == 0
    top_at = sections[1][0]
    # standards in catalogue order, numbered 1..n inside MỨC 1, 2, 3; none under MỨC 4
    standards = [ln for ln in lines[:top_at] if ln.kind == STANDARD]
    order = [s.label.split(" - ", 1)[1] for s in fw.standards]
    names = [ln.title.split(": ", 1)[1] for ln in standards]
    assert names == sorted(names, key=order.index)
    assert [ln.tt for ln in standards] == [str(i) for i in range(1, len(standards) + 1)]
    assert not any(ln.kind == STANDARD for ln in lines[top_at:])
    # every filled row once; under its own standard, in input order inside the standard
    by_row = {r.row: r for r in sub.rows}
    printed = [ln for ln in lines if ln.kind == ROW]
    assert sorted(ln.row for ln in printed) == sorted(by_row)
    current = None
    seen: dict[str, list[int]] = {}
    for ln in lines[:top_at]:
        if ln.kind == STANDARD:
            current = ln.title.split(":", 1)[0].replace("Tiêu chuẩn ", "")
        elif ln.kind == ROW:
            assert by_row[ln.row].derived["standard_code"] == current
            seen.setdefault(current, []).append(ln.row)
            code = by_row[ln.row].derived["criterion_code"]
            assert ln.continues or ln.cells[0].startswith(f"Tiêu chí {code}\n(Mức ")
            assert not ln.tt  # criterion rows of MỨC 1, 2, 3 carry no number: their standard does
    assert all(rows == sorted(rows) for rows in seen.values())
    # MỨC 4: its items written "Tiêu chí n" and numbered 1, 2, ... per criterion
    top = [ln for ln in lines[top_at:] if ln.kind == ROW]
    assert top and all(by_row[ln.row].derived["section"] == "muc4" for ln in top)
    numbers = [int(ln.tt) for ln in top if not ln.continues]
    assert numbers == list(range(1, len(numbers) + 1))
    for ln in top:
        code = by_row[ln.row].derived["criterion_code"]  # "M4.2"
        assert ln.continues or ln.cells[0] == f"Tiêu chí {code.rsplit('.', 1)[1]}"


def _table_rows(table) -> list[list[str]]:
    """Each row's nine cell texts (a merged cell's text in every column it covers)."""
    return [[nfc(c.text) for c in row.cells] for row in table.rows]


def test_the_docx_holds_the_header_block_the_title_and_every_row(plans, rendered):
    res = rendered[10]
    assert res.errors == 0 and res.written.docx.is_file()
    d = docx.Document(str(res.written.docx))
    head, table, signature = d.tables
    left, right = head.cell(0, 0), head.cell(0, 1)
    assert [nfc(p.text) for p in left.paragraphs] == ["ỦY BAN NHÂN DÂN QUẬN 3", "TRƯỜNG THCS LÊ LỢI"]
    assert all(r.bold for r in left.paragraphs[1].runs)
    assert [nfc(p.text) for p in right.paragraphs] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert all(r.bold and r.underline for r in right.paragraphs[1].runs)
    assert nfc(head.cell(1, 0).text) == "Số: 149/KH-THCSLL"
    assert nfc(head.cell(1, 1).text) == "Quận 3, ngày 04 tháng 9 năm 2025"
    assert all(r.italic for r in head.cell(1, 1).paragraphs[0].runs)
    # the header block has no borders; the plan table has them
    assert d.tables[0]._tbl.tblPr.find(qn("w:tblBorders")) is None and head.style.name != "Table Grid"
    assert table.style.name == "Table Grid"
    texts = [nfc(p.text) for p in d.paragraphs if p.text.strip()]
    for expected in ("KẾ HOẠCH", "CẢI TIẾN CHẤT LƯỢNG GIÁO DỤC", "Năm học 2025-2026", "I. MỤC ĐÍCH, YÊU CẦU",
                     "II. CĂN CỨ XÂY DỰNG KẾ HOẠCH", "III. NỘI DUNG KẾ HOẠCH CẢI TIẾN CHẤT LƯỢNG GIÁO DỤC",
                     "IV. TỔ CHỨC THỰC HIỆN"):
        assert expected in texts, expected
    assert any("Thông tư số 18/2018/TT-BGDĐT ngày 22/8/2018" in t for t in texts)
    assert any("5932/BGDĐT-QLCL" in t for t in texts)
    assert texts[-1].startswith("Trên đây là Kế hoạch cải tiến chất lượng giáo dục năm học 2025-2026 của Trường THCS Lê Lợi")
    sig = _table_rows(signature)[0]
    assert sig[0].startswith("Nơi nhận:\n- Phòng GD&ĐT Quận 3 (để báo cáo);") and "Lưu: VT." in sig[0]
    assert sig[1].startswith("HIỆU TRƯỞNG") and sig[1].endswith("Nguyễn Thị Hậu")
    # the table: the nine headers, then the lines; every plan row's values in their columns
    rows = _table_rows(table)
    assert tuple(rows[0]) == HEADERS
    body = rows[1:]
    assert body[0] == ["MỨC 1, 2, 3"] * 9
    assert all(any(c.strip() for c in r) for r in body)  # no empty line
    for values in plans["rows"][10]:
        hit = [r for r in body if r[3] == values["actions"]]
        assert len(hit) == 1, values["actions"]
        r = hit[0]
        assert r[2] == values["target"]
        assert r[4] == owners_text(values["lead"], values["collaborators"])
        assert r[5] == period_text(values["start"], values["end"])
        assert r[6] == budget_text(values["budget"], values["funding"])
        assert r[7] == (values.get("support") or "") and r[8] == (values.get("note") or "")
        code = values["criterion"].split(" - ")[0]
        assert r[1].startswith("Tiêu chí " + (code.rsplit(".", 1)[1] if code.startswith("M4") else code))
    standards = [r for r in body if r[1].startswith("Tiêu chuẩn ")]
    assert standards and all(r[2:] == [r[1]] * 7 and r[0].isdigit() for r in standards)  # merged across
    assert ["MỨC 4"] * 9 in body


def test_the_table_repeats_its_header_and_keeps_rows_whole(rendered):
    d = docx.Document(str(rendered[40].written.docx))
    table = d.tables[1]
    trs = table._tbl.tr_lst
    assert trs[0].trPr.find(qn("w:tblHeader")) is not None
    assert all(tr.trPr is not None and tr.trPr.find(qn("w:cantSplit")) is not None for tr in trs)
    assert not any(tr.trPr.find(qn("w:tblHeader")) is not None for tr in trs[1:])
    # group lines span the table (gridSpan), runs of one criterion are merged down (vMerge)
    spans = [int(tc.tcPr.find(qn("w:gridSpan")).get(qn("w:val"))) for tr in trs for tc in tr.tc_lst
             if tc.tcPr is not None and tc.tcPr.find(qn("w:gridSpan")) is not None]
    assert 9 in spans and 8 in spans
    # sections: portrait, landscape (the table), portrait; A4; each with its own page header
    sections = d.sections
    assert [s.page_width > s.page_height for s in sections] == [False, True, False]
    for s in sections:
        assert {round(s.page_width.mm), round(s.page_height.mm)} == {210, 297}
        assert "Trường THCS Lê Lợi" in s.header.paragraphs[0].text and "2025-2026" in s.header.paragraphs[0].text
        assert "PAGE" in s.header._element.xml
    assert round(sections[0].left_margin.mm) == 30 and round(sections[0].right_margin.mm) == 15
    normal = d.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size.pt == 13


def test_consecutive_rows_of_one_criterion_share_the_criterion_cell(plans, tmp_path):
    spec = plans["spec"]
    rows = plan_rows(spec, 3, seed=2)
    top = [r for r in plan_rows(spec, 14, seed=2) if r["muc"] != spec.top_label][0]
    for r in rows:  # three actions for one criterion at one level
        r.update({k: top[k] for k in ("muc", "standard", "criterion")})
    path = fill_plan(plans["template"], tmp_path / "same.xlsx", rows, info=INFO)
    res = commands.render(path, tmp_path / "same.docx", options=OPTIONS)
    table = docx.Document(str(res.written.docx)).tables[1]
    body = _table_rows(table)[1:]
    data_rows = [r for r in body if r[3] in {x["actions"] for x in rows}]
    assert len(data_rows) == 3 and len({r[1] for r in data_rows}) == 1  # one merged cell, read in each row
    vmerge = [tc for tr in table._tbl.tr_lst for tc in tr.tc_lst
              if tc.tcPr is not None and tc.tcPr.find(qn("w:vMerge")) is not None]
    assert len(vmerge) == 6  # TT and criterion cells of three rows: restart + two continued


def test_the_standard_text_comes_from_a_file_an_office_can_replace(plans, tmp_path):
    builtin = Path(__file__).resolve().parent.parent / "workbook_templates" / "data" / "document.yaml"
    own = tmp_path / "van-ban.yaml"
    own.write_text(builtin.read_text(encoding="utf-8").replace("signer_title: HIỆU TRƯỞNG",
                                                               "signer_title: KT. HIỆU TRƯỞNG"), encoding="utf-8")
    out = tmp_path / "own.docx"
    res = invoke("render", plans["files"][10], "-o", out, "--document-text", own, "--year", YEAR)
    assert res.exit_code == 0, res.output
    assert "KT. HIỆU TRƯỞNG" in nfc(docx.Document(str(out)).tables[2].cell(0, 1).text)
    bad = tmp_path / "bad.yaml"
    bad.write_text(builtin.read_text(encoding="utf-8").replace("tự đánh giá của {school}", "tự đánh giá của {truong}"), encoding="utf-8")
    with pytest.raises(SpecError, match=r"bad\.yaml: basis\.self_assessment: .*\{truong\}"):
        load_document_text(bad)
    res = invoke("render", plans["files"][10], "-o", tmp_path / "x.docx", "--document-text", bad)
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and "bad.yaml" in res.output
    assert not (tmp_path / "x.docx").exists()
    missing = tmp_path / "missing.yaml"
    missing.write_text("title: [KẾ HOẠCH]\n", encoding="utf-8")
    with pytest.raises(SpecError, match="missing.yaml: headings: "):
        load_document_text(missing)


# -- the command -------------------------------------------------------------------------------


def test_render_writes_the_document_and_keeps_an_earlier_one(plans, tmp_path):
    out = tmp_path / "ke-hoach.docx"
    first = invoke("render", plans["files"][10], "-o", out, "--year", YEAR)
    assert first.exit_code == 0, first.output
    assert out.is_file() and "Đã tạo" in first.output
    before = out.read_bytes()
    again = invoke("render", plans["files"][10], "-o", out, "--year", YEAR)
    assert again.exit_code == 0, again.output
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("ke-hoach.") and p != out]
    assert len(kept) == 1 and kept[0].read_bytes() == before and kept[0].name in again.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kcl-")]  # no temporary left


def test_a_file_that_is_not_a_plan_is_one_line_and_exit_2(tmp_path):
    junk = tmp_path / "ghi-chu.xlsx"
    junk.write_text("không phải bảng tính", encoding="utf-8")
    res = invoke("render", junk, "-o", tmp_path / "x.docx")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "ghi-chu.xlsx" in lines[0] and "not a readable plan" in lines[0]
    assert not (tmp_path / "x.docx").exists()
    res = invoke("render", tmp_path / "none.xlsx", "-o", tmp_path / "x.docx")
    assert res.exit_code == 2 and "none.xlsx" in res.output
    res = invoke("render", junk, "-o", tmp_path / "x.pdf")
    assert res.exit_code == 2 and ".docx" in res.output


def test_a_plan_with_errors_is_rendered_with_a_warning_and_exit_1(plans, tmp_path):
    rows = plan_rows(plans["spec"], 3, seed=3)
    rows[1]["target"] = None  # required
    path = fill_plan(plans["template"], tmp_path / "loi.xlsx", rows, info=INFO)
    out = tmp_path / "loi.docx"
    res = invoke("render", path, "-o", out, "--year", YEAR)
    assert res.exit_code == 1, res.output
    assert out.is_file() and "còn 1 lỗi" in res.output and "loi.xlsx" in res.output


def test_pdf_without_libreoffice_is_one_line_before_any_work(plans, tmp_path, monkeypatch):
    import kcl_xlsx.base.office as office

    monkeypatch.setattr(office, "find_soffice", lambda: None)
    out = tmp_path / "k.docx"
    res = invoke("render", plans["files"][10], "-o", out, "--pdf")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "LibreOffice" in lines[0] and "k.pdf" in lines[0]
    assert not out.exists()


def test_collect_render_writes_the_document_of_every_accepted_plan(plans, tmp_path):
    factory = plans["factory"]
    inbox = tmp_path / "hop-thu"
    inbox.mkdir()
    schools = [School("79001", "Trường THCS Lê Lợi", "thcs", "Phòng GD&ĐT Quận 3"),
               School("79002", "Trường THCS Kim Đồng", "thcs", "Phòng GD&ĐT Quận 3"),
               School("79003", "Trường THCS Có Lỗi", "thcs", "Phòng GD&ĐT Quận 3")]
    for k, school in enumerate(schools):
        template = tmp_path / f"t{k}.xlsx"
        template.write_bytes(factory.make("thcs", school)[0])
        rows = plan_rows(plans["spec"], 4, seed=k)
        if k == 2:
            rows[0]["actions"] = None  # required: this school's plan has errors
        fill_plan(template, inbox / f"{school.code}.xlsx", rows, info=INFO)
    out_dir = tmp_path / "van-ban"
    res = invoke("collect", inbox, "-o", tmp_path / "o" / "tong-hop.xlsx", "--year", YEAR, "--jobs", "1",
                 "--render", out_dir)
    assert res.exit_code == 0, res.output
    made = sorted(p.name for p in out_dir.iterdir())
    assert made == ["79001_truong-thcs-le-loi.docx", "79002_truong-thcs-kim-dong.docx"]
    assert "Văn bản kế hoạch: 2 tệp .docx" in res.output
    d = docx.Document(str(out_dir / made[1]))
    assert nfc(d.tables[0].cell(0, 0).paragraphs[1].text) == "TRƯỜNG THCS KIM ĐỒNG"
    assert len([r for r in _table_rows(d.tables[1]) if r[3].endswith(")") and r[3][-2].isdigit()]) == 4
    # the same inbox again: nothing redone, the documents stand
    again = invoke("collect", inbox, "-o", tmp_path / "o" / "tong-hop.xlsx", "--year", YEAR, "--jobs", "1",
                   "--render", out_dir)
    assert again.exit_code == 0 and "hộp thư không đổi" in again.output
    assert sorted(p.name for p in out_dir.iterdir()) == made
    # one school sends a new version: only its document is written again (the old one kept)
    before = {name: (out_dir / name).read_bytes() for name in made}
    template = tmp_path / "t1.xlsx"
    fill_plan(template, inbox / "79002-v2.xlsx", plan_rows(plans["spec"], 5, seed=9), info=INFO,
              saved=dt.datetime(2030, 1, 1))
    third = invoke("collect", inbox, "-o", tmp_path / "o" / "tong-hop.xlsx", "--year", YEAR, "--jobs", "1",
                   "--render", out_dir)
    assert third.exit_code == 0, third.output
    assert "1 không đổi" in third.output
    now = sorted(p.name for p in out_dir.iterdir())
    assert len(now) == 3 and (out_dir / made[0]).read_bytes() == before[made[0]]
    kept = next(p for p in out_dir.iterdir() if p.name not in made)
    assert kept.name.startswith("79002_") and kept.read_bytes() == before[made[1]]
    assert (out_dir / made[1]).read_bytes() != before[made[1]]
    inside = invoke("collect", inbox, "-o", tmp_path / "o" / "tong-hop.xlsx", "--render", inbox / "docs")
    assert inside.exit_code == 2 and "--render" in inside.output


# -- on paper (LibreOffice's PDF) --------------------------------------------------------------


@pytest.fixture(scope="module")
def pdfs(plans, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    made = {}
    for n, path in plans["files"].items():
        t = time.perf_counter()
        res = commands.render(path, out / f"plan{n}.docx", pdf=True, options=OPTIONS)
        made[n] = (res.written.pdf, time.perf_counter() - t, res.seconds)
    return made


@pytest.mark.libreoffice
@pytest.mark.poppler
@pytest.mark.parametrize("n", [10, 40])
def test_on_paper_every_word_is_11pt_or_more_and_each_table_page_has_the_header(pdfs, plans, n, capsys):
    pdf, seconds, _ = pdfs[n]
    pages = words(pdf)
    texts = page_texts(pdf)
    heights = [h for page in pages for _y, h, w in page if w.strip()]
    assert min(heights) >= 11, f"smallest word {min(heights):.1f} pt"
    for i, text in enumerate(texts, 1):  # the page header: school, year, page number
        assert "Trường THCS Lê Lợi" in text and "2025-2026" in text and f"Trang {i}/{len(pages)}" in text
    table_pages = [i for i, t in enumerate(texts) if "MỨC 1, 2, 3" in t or "Tiêu chí" in t]
    assert table_pages == list(range(table_pages[0], table_pages[-1] + 1))
    for i in table_pages:  # the header row at the top of every table page (repeated by the program)
        tt = [y for y, _h, w in pages[i] if w == "TT"]  # its first cell: data rows number with digits
        assert len(tt) == 1 and tt[0] < 130, f"page {i + 1}: no header row at the top"
        # the words of the row's cells (poppler cuts some Vietnamese words at a combining
        # mark, "th ực": compared as one string without spaces)
        row = "".join(w for y, _h, w in pages[i] if abs(y - tt[0]) < 30)
        missing = [w for h in HEADERS for w in h.split() if w not in row]
        assert not missing, f"page {i + 1}: {missing}"
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts[0] and "TRƯỜNG THCS LÊ LỢI" in texts[0]
    assert "Quận 3, ngày 04 tháng 9 năm 2025" in texts[0] and "Số: 149/KH-THCSLL" in texts[0]
    assert "Nơi nhận:" in texts[-1] and "HIỆU TRƯỞNG" in texts[-1] and "Nguyễn Thị Hậu" in texts[-1]
    everything = " ".join(texts)
    flat = re.sub(r"\s+", " ", everything)
    for r in plans["rows"][n]:  # every row's action is printed (its number closes it: "(7)")
        assert re.search(rf"\({re.escape(r['actions'].rsplit('(', 1)[1])}", flat), r["actions"]
    if n == 10:
        assert len(pages) <= 5 and len(table_pages) <= 3
    with capsys.disabled():
        print(f"\n{n}-row plan: {len(pages)} PDF pages ({len(table_pages)} of table), smallest word "
              f"{min(heights):.1f} pt, render + PDF {seconds:.1f} s")


@pytest.mark.libreoffice
@pytest.mark.poppler
def test_look_at_the_pages(pdfs, tmp_path, pdftoppm):
    """A picture of every page of the 10-row plan (pdftoppm -r 60): made, and not blank."""
    pdf = pdfs[10][0]
    subprocess.run([pdftoppm, "-png", "-r", "60", str(pdf), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == len(words(pdf)) and all(p.stat().st_size > 3000 for p in pngs)


def test_a_plan_read_from_word_renders_from_its_submission_alone(plans):
    """A Word plan comes as a Submission whose rows may carry no derived codes and no Mức
    (real plans group rows under "MỨC 1, 2, 3" without naming one): grouped all the same."""
    from kcl_xlsx.check.checker import PlanRow, Submission

    def row(n, criterion, **more):
        return PlanRow(row=n, values={"criterion": criterion, "target": f"Kết quả {n}", "actions": f"Việc {n}",
                                      "lead": "Hiệu trưởng", "collaborators": "Kế toán", "start": "Năm học 2024-2025",
                                      "budget": "400 - 500 triệu", "funding": "Xã hội hóa", **more}, derived={})

    sub = Submission(file="ke-hoach.docx", kind="docx", status="valid", level="thcs", year=YEAR, framework="tt18-2018",
                     info={"school_name": "Trường THCS Colette", "authority": "Ủy ban nhân dân Quận 3",
                           "doc_number": "Số: 149/KH-COL", "place": "Quận 3", "date": "2024-09-04",
                           "signer": "Lưu Thị Hà Phương"},
                     rows=[row(1, "5.4"), row(2, "3.2 - Phòng học, phòng học bộ môn và khối phục vụ học tập"),
                           row(3, "M4.2"), row(4, "3.5")])
    data = document_data(sub, plans["spec"], load_document_text())
    assert data.number == "Số: 149/KH-COL" and data.signer == "Lưu Thị Hà Phương"
    assert data.date_line == "Quận 3, ngày 04 tháng 9 năm 2024"
    got = [(ln.kind, ln.tt, ln.title or ln.cells[0]) for ln in data.lines]
    assert got == [(SECTION, "", "MỨC 1, 2, 3"),
                   (STANDARD, "1", "Tiêu chuẩn 3: Cơ sở vật chất và thiết bị dạy học"),
                   (ROW, "", "Tiêu chí 3.2"), (ROW, "", "Tiêu chí 3.5"),
                   (STANDARD, "2", "Tiêu chuẩn 5: Hoạt động giáo dục và kết quả giáo dục"),
                   (ROW, "", "Tiêu chí 5.4"),
                   (SECTION, "", "MỨC 4"), (ROW, "1", "Tiêu chí 2")]
    first = next(ln for ln in data.lines if ln.kind == ROW)
    assert first.cells[3:6] == ("Hiệu trưởng; phối hợp: Kế toán", "Năm học 2024-2025", "400 - 500 triệu (Xã hội hóa)")


def test_the_printed_cells_read_back_to_the_same_values(plans, rendered):
    """Beside the round trip through the Word reader (below): the free-text readers the
    checker uses read each printed cell back to the row's own values — owners, months,
    amount and funding source."""
    from kcl_xlsx.spec.freetext import parse_budget, parse_owners, parse_period

    spec = plans["spec"]
    ch = spec.choices
    sub = check_path(plans["files"][40], OPTIONS)
    by_actions = {r.values["actions"]: r for r in sub.rows}
    body = _table_rows(docx.Document(str(rendered[40].written.docx)).tables[1])[1:]
    spans = {label: (a, b) for label, a, b in ch.spans}
    funding_key = {o.label: o.key for o in ch.funding}
    checked = 0
    for cells in body:
        r = by_actions.get(cells[3])
        if r is None:
            continue
        v, d = r.values, r.derived
        owners = parse_owners(cells[4], list(ch.owners), ch.owner_aliases)
        assert owners.lead == v["lead"]  # the parser drops a collaborator who is also the lead
        assert {owners.lead, *owners.collaborators} == {v["lead"], *v["collaborators"].split(", ")}
        period = parse_period(cells[5], spec.year.start, spans)
        assert (period.start, period.end) == (d["start_month"], d["end_month"])
        budget = parse_budget(cells[6], ch.funding_aliases())
        if v["budget"]:
            assert (budget.min, budget.max) == (v["budget"], v["budget"])
            assert budget.sources == (funding_key[v["funding"]],)
        checked += 1
    assert checked == 40


def _officer_view(sub) -> list[tuple]:
    """A plan's rows as the officer compares them (the Mức aside: a Word plan's "MỨC 1, 2, 3"
    section names no single level), in the order the document prints them."""
    out = []
    for r in sub.rows:
        v, d = r.values, r.derived
        # the lead named again among the collaborators (the sample rows do) is read once
        collaborators = tuple(sorted(x for x in (v["collaborators"] or "").split(", ") if x and x != v["lead"]))
        out.append((d["criterion_code"], v["target"], v["actions"], v["lead"], collaborators, d["start_month"],
                    d["end_month"], d["budget_min"] or 0.0, d["budget_max"] or 0.0,
                    v["funding"] if d["budget_max"] else None, v["support"], v["note"]))
    return out


@pytest.mark.parametrize("n", [10, 40])
def test_round_trip_template_render_word_reader_gives_the_same_rows(plans, rendered, n):
    """Issue 13's round trip: a filled template -> render -> .docx -> the Word reader -> the
    same rows (criterion, target, actions, owners, months, cost, funding, support, note)."""
    template = check_path(plans["files"][n], OPTIONS)
    word = check_path(rendered[n].written.docx, OPTIONS)
    assert word.source_kind == "word" and word.status == CheckStatus.VALID, \
        [(i.code, i.where()) for i in word.issues if i.severity.value == "error"]
    assert (word.level, word.year, word.framework) == (template.level, template.year, template.framework)
    assert word.school_name.casefold() == SCHOOL.name.casefold()
    key = lambda row: (row[0], row[2])  # noqa: E731  (the document groups rows by standard)
    assert sorted(_officer_view(word), key=key) == sorted(_officer_view(template), key=key)
    assert [r.values["muc"] for r in word.rows if r.derived["section"] == "muc4"] == \
           ["Mức 4"] * sum(1 for r in template.rows if r.values["muc"] == "Mức 4")


@pytest.mark.libreoffice
@pytest.mark.poppler
def test_the_pdf_text_holds_every_row_and_the_header_block(pdfs, plans):
    pdf = pdfs[40][0]
    text = nfc(" ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                       check=True).stdout.split()))
    folded = text.casefold()
    for value in (INFO["authority"], INFO["doc_number"], SCHOOL.name, "KẾ HOẠCH", "CẢI TIẾN CHẤT LƯỢNG GIÁO DỤC",
                  f"Năm học {YEAR}", "Nơi nhận", INFO["preparer"]):
        assert nfc(value).casefold() in folded, value  # the header block (upper case as printed) and the signer
    for row in plans["rows"][40]:  # every row: its actions' first words (a cell wraps after them)
        first_words = " ".join(str(row["actions"]).split()[:3])
        assert nfc(first_words) in text, first_words
