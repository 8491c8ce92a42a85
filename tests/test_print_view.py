"""The Bản in sheet on paper: a filled plan rendered to PDF by LibreOffice (recalculating),
its words measured with ``pdftotext -bbox``.

* the print view's body text is at least 11 pt on paper (one A4 landscape width at 100 %);
* the header block (authority, school, Số, motto, place and date, title, year) is printed;
* the header row repeats on the next page of a long plan;
* Hướng dẫn prints at 10 pt or more;
* the template stays OOXML-valid and the reader takes Kế hoạch, never Bản in, as the plan.

Not measured here: LibreOffice neither fits a row to a formula's result nor honours a print
area defined by a formula (both measured: see kcl_xlsx/issue/print_view.py), so lines here
keep the default height and the trailing empty lines print as blank pages.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from kcl_xlsx.intake.readers.xlsx import read_plan as read_raw
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.issue.print_view import printed_label, standard_title
from kcl_xlsx.spec import layout as L
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import School
from kcl_xlsx.spec.sample_plans import plan_rows
from tests.support.fill import fill_plan
from tests.support.libreoffice import resave
from tests.support.pdf import page_texts, words

pytestmark = [pytest.mark.libreoffice, pytest.mark.poppler]

INFO = {"preparer": "Nguyễn Thị Hậu", "position": "Hiệu trưởng", "authority": "Ủy ban nhân dân Quận 3",
        "doc_number": "149/KH-THCSLL", "place": "Quận 3", "date": dt.datetime(2025, 9, 4)}
HEADER_TEXT = "Công việc/giải pháp cần thực hiện"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """The built-in form with its print view switched on (form.yaml `print_view`: off by
    default while the sheet is too heavy; see there)."""
    data = yaml.safe_load((ROOT / "workbook_templates" / "data" / "form.yaml").read_text(encoding="utf-8"))
    data["print_view"] = True
    path = tmp_path_factory.mktemp("form") / "form.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Sources.load(form=path)


def test_the_print_view_is_off_by_default():
    from workbook_templates.form import load_form

    assert load_form().print_view is False


@pytest.fixture(scope="module")
def rendered(sources, tmp_path_factory, pdftotext):
    out = tmp_path_factory.mktemp("print")
    factory = TemplateFactory(sources, "2025-2026", key=b"k", issue_date=dt.date(2025, 9, 5))
    school = School(code="79001", name="Trường THCS Lê Lợi", level="thcs", unit="Phòng GD&ĐT Quận 3")
    data, _ = factory.make("thcs", school)
    template = out / "template.xlsx"
    template.write_bytes(data)
    spec = factory.spec("thcs")
    files = {n: fill_plan(template, out / f"plan{n}.xlsx", plan_rows(spec, n, seed=1), info=INFO) for n in (10, 40)}
    pdfs = resave(list(files.values()), out / "pdf", fmt="pdf", recalc=True)
    return {"spec": spec, "template": template, "files": files, "pdf": dict(zip(files, pdfs))}


def print_pages(pdf: Path) -> list[int]:
    """0-based pages of the print view: the official header row, without Kế hoạch's
    follow-up columns (Trạng thái never prints on Bản in)."""
    texts = page_texts(pdf)
    return [i for i, t in enumerate(texts) if "Tiêu chuẩn, tiêu chí" in t and "Trạng thái" not in t]


def body_heights(page: list[tuple[float, float, str]]) -> list[float]:
    # the page header and footer (9 pt: school, year, Trang n/m) sit in the top and bottom margins
    return [h for y, h, w in page if 50 < y < 545 and w.strip()]


def test_print_view_body_at_least_11pt(rendered):
    pdf = rendered["pdf"][10]
    pages, found = words(pdf), print_pages(pdf)
    assert found
    heights = [h for p in found for h in body_heights(pages[p])]
    assert heights and min(heights) >= 11, f"smallest word {min(heights):.1f} pt"
    texts = page_texts(pdf)
    before = [h for i, p in enumerate(pages) if "Trạng thái" in texts[i] for h in body_heights(p)]
    print(f"\nBản in body words: {min(heights):.1f}-{max(heights):.1f} pt; Kế hoạch: {min(before):.1f} pt")


def test_header_block_and_signer_printed(rendered, sources):
    pdf = rendered["pdf"][10]
    first = page_texts(pdf)[print_pages(pdf)[0]]
    for text in ("ỦY BAN NHÂN DÂN QUẬN 3", "TRƯỜNG THCS LÊ LỢI", "Số: 149/KH-THCSLL",
                 "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "Quận 3, ngày 04 tháng 9 năm 2025", "KẾ HOẠCH CẢI TIẾN CHẤT LƯỢNG GIÁO DỤC",
                 "Năm học 2025-2026", "MỨC 1, 2, 3", "HIỆU TRƯỞNG", "Nơi nhận:"):
        assert text in first, text


def test_header_row_repeats_on_the_next_page(rendered):
    pdf = rendered["pdf"][40]
    texts, found = page_texts(pdf), print_pages(pdf)
    assert len(found) >= 2
    assert "CỘNG HÒA" not in texts[found[1]]
    assert "Chủ trì và phối hợp" in texts[found[1]] and "Tiêu chuẩn, tiêu chí" in texts[found[1]]
    print(f"\n40-row plan: the print view spans {len(found)} pages in LibreOffice")


def test_guide_prints_at_10pt_or_more(rendered):
    pdf = rendered["pdf"][10]
    pages, texts = words(pdf), page_texts(pdf)
    guide = [i for i, t in enumerate(texts) if "HƯỚNG DẪN" in t or "Ví dụ một dòng" in t or "Bước " in t]
    assert guide
    heights = [h for i in guide for h in body_heights(pages[i])]
    assert heights and min(heights) >= 10, f"smallest word {min(heights):.1f} pt"


def test_template_valid_and_reader_ignores_print_view(rendered, ooxml_validate):
    ooxml_validate(rendered["template"])
    spec = rendered["spec"]
    raw = read_raw(rendered["files"][10].read_bytes(), "xlsx", spec.form)
    assert raw.sheet == spec.form.sheet and len(raw.rows) == 10
    assert L.PRINT_SHEET in raw.sheet_names and L.PRINT_DATA_SHEET in raw.sheet_names


def test_labels_as_plans_write_them():
    assert printed_label("1.1 - Phương hướng, chiến lược", top=False) == "Tiêu chí 1.1"
    assert printed_label("M4.2 - 100% học sinh", top=True) == "Tiêu chí 2"
    assert standard_title("Tiêu chuẩn 1 - Tổ chức và quản lý nhà trường") == \
        "Tiêu chuẩn 1: Tổ chức và quản lý nhà trường"
