"""Issue 12, points 1-5: the demo's summary (and a feedback copy) as an officer prints,
reads and forwards them.

* printed through LibreOffice (``kcl_xlsx.summary.pdf.write_pdf``): every page A4, each sheet
  one page wide with its header row on every page, no chart across a page break, every word
  at least 8 pt high;
* "Số trường" totals are counts of different schools, checked against the rows;
* criteria keyed by framework, the framework shown by its circular;
* no code (severity, classification, status, change, section, level, framework id) in any
  cell of the summary or of a feedback copy: those live in the export;
* Tổng quan says what, when and from what; info-level issues only on request.
"""
from __future__ import annotations

import csv
import io
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from macros_free_validation.report import Severity
from workbook_templates.catalog import load_catalog
from workbook_templates.form import load_form
from kcl_xlsx.demo import run_demo
from kcl_xlsx.spec.vocab import VOCABULARIES, label_of
from kcl_xlsx.summary import pdf as summary_pdf
from kcl_xlsx.summary.workbook import (CHART_ROWS, LINE, PRINT_HEIGHT_LANDSCAPE, S_CHART_DATA, S_CHARTS, TOTAL_DISTINCT,
                                       TOTAL_LABELS)

A4 = (595.3, 841.9)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("print") / "demo"
    run_demo(folder, jobs=1)
    return folder


@pytest.fixture(scope="module")
def summary(demo) -> Path:
    return demo / "tong-hop.xlsx"


@pytest.fixture(scope="module")
def printed(summary, tmp_path_factory) -> Path:
    if summary_pdf.find_soffice() is None:
        pytest.skip("LibreOffice not installed")
    out = tmp_path_factory.mktemp("pdf") / "tong-hop.pdf"
    assert summary_pdf.write_pdf(summary, out) == out
    return out


def sheets(path: Path) -> dict[str, list[list]]:
    wb = CalamineWorkbook.from_path(str(path))
    return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}


def pages(pdf: Path) -> list[dict]:
    """Per page: its size, its words with their boxes, and the sheet its header names."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    out = []
    for page in xml.split("<page ")[1:]:
        w, h = (float(x) for x in re.search(r'width="([\d.]+)" height="([\d.]+)"', page).groups())
        words = [(float(a), float(b), float(c), float(d), t.replace("&amp;", "&")) for a, b, c, d, t in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)]
        top = " ".join(t for x0, y0, x1, y1, t in words if y1 < 45)  # the page header
        m = re.search(r"– (.+)$", top)
        out.append({"size": (w, h), "words": words, "sheet": m.group(1).strip() if m else "", "top": top})
    return out


# --------------------------------------------------------------------------- printing


@pytest.mark.libreoffice
@pytest.mark.poppler
def test_printed_summary(printed, summary, capsys):
    book = sheets(summary)
    got = pages(printed)
    per_sheet: dict[str, int] = {}
    for p in got:
        per_sheet[p["sheet"]] = per_sheet.get(p["sheet"], 0) + 1
    with capsys.disabled():  # the figures the issue asks to report
        print(f"\nsummary PDF: {len(got)} pages (before issue 12: 58); per sheet: {per_sheet}")
    # every page A4, each headed with the summary's title, office and year, numbered
    for n, p in enumerate(got, 1):
        assert sorted(p["size"]) == pytest.approx(sorted(A4), abs=1), n
        assert "TỔNG HỢP KẾ HOẠCH CẢI TIẾN CHẤT LƯỢNG" in p["top"] and "Năm học 2025-2026" in p["top"], n
        assert f"Trang {n}/{len(got)}" in " ".join(w[4] for w in p["words"]), n
    visible = [n for n in book if n != S_CHART_DATA]
    assert list(per_sheet) == visible  # every sheet printed, in order, the hidden chart data not
    # one page wide and the header row on every page: each page of a table sheet shows its
    # first and last printed header texts
    wb = openpyxl.load_workbook(summary)
    for name in visible:
        if name in ("Tổng quan", S_CHARTS):
            continue
        ws = wb[name]
        shown = [c.value for c in ws[1] if c.value and not ws.column_dimensions[c.column_letter].hidden]
        assert ws.print_title_rows.replace("$", "") == "1:1", name
        for p in (p for p in got if p["sheet"] == name):
            text = " ".join(w[4] for w in p["words"])
            assert shown[0].split()[0] in text and shown[-1].split()[0] in text, (name, shown)
    assert per_sheet["Tổng quan"] == 1  # stands on one page
    # every printed word at least 8 pt high (a word printed sideways: its width)
    smallest = min(((x1 - x0) if (y1 - y0) > 1.5 * (x1 - x0) and len(t) > 2 else (y1 - y0), t, p["sheet"])
                   for p in got for x0, y0, x1, y1, t in p["words"] if any(ch.isalnum() for ch in t))
    with capsys.disabled():
        print(f"smallest printed word: {smallest[0]:.1f} pt ({smallest[1]!r} on {smallest[2]})")
    assert smallest[0] >= 8.0, smallest


def _anchors(path: Path, sheet_name: str) -> tuple[list[tuple[int, int]], list[int], dict[int, float]]:
    """The charts' (first row, last row) on a sheet, its row breaks and row heights."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet_name]
    index = wb.sheetnames.index(sheet_name) + 1
    with zipfile.ZipFile(path) as zf:
        rels = zf.read(f"xl/worksheets/_rels/sheet{index}.xml.rels").decode()
        drawing = re.search(r'Target="../drawings/(drawing\d+\.xml)"', rels).group(1)
        xml = zf.read(f"xl/drawings/{drawing}").decode()
    spans = [(int(a), int(b)) for a, b in re.findall(
        r"<xdr:from>.*?<xdr:row>(\d+)</xdr:row>.*?</xdr:from><xdr:to>.*?<xdr:row>(\d+)</xdr:row>", xml)]
    breaks = [b.id for b in ws.row_breaks.brk]  # a break after this (1-based) row
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    return spans, breaks, heights


def test_no_chart_crosses_a_page_break(summary):
    spans, breaks, heights = _anchors(summary, S_CHARTS)
    assert len(spans) >= 4
    for first, last in spans:  # 0-based rows; a break after row b (1-based) falls between rows b-1 and b
        assert not any(first < b <= last for b in breaks), (first, last, breaks)
    # each block between breaks fits the printed page height (the scale is at most 100 %)
    edges = [0, *breaks, max(last for _, last in spans) + 1]
    for a, b in zip(edges, edges[1:]):
        block = sum(heights.get(r, LINE) for r in range(a + 1, b + 1))
        assert block <= PRINT_HEIGHT_LANDSCAPE, (a, b, block)
    assert all(b % CHART_ROWS == 0 for b in breaks)
    # no other sheet holds a chart
    with zipfile.ZipFile(summary) as zf:
        assert len([n for n in zf.namelist() if re.match(r"xl/drawings/drawing\d+\.xml$", n)]) == 1


@pytest.mark.libreoffice
@pytest.mark.poppler
def test_chart_pages_hold_whole_charts(printed, summary):
    spans, breaks, _ = _anchors(summary, S_CHARTS)
    chart_pages = [p for p in pages(printed) if p["sheet"] == S_CHARTS]
    assert len(chart_pages) == len(breaks) + 1  # one page per block: nothing spilled over


def test_write_pdf_without_libreoffice_is_one_line(summary, tmp_path, monkeypatch):
    monkeypatch.setattr(summary_pdf, "find_soffice", lambda: None)
    with pytest.raises(summary_pdf.PdfError) as err:
        summary_pdf.write_pdf(summary, tmp_path / "x.pdf")
    text = str(err.value)
    assert "\n" not in text and "LibreOffice" in text and "chưa cài" in text
    assert isinstance(err.value, summary_pdf.OutputError)
    assert not (tmp_path / "x.pdf").exists()


# --------------------------------------------------------------------------- exact figures


def _export_rows(demo: Path) -> list[dict]:
    raw = (demo / "4-xuat-du-lieu" / "rows.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(raw)))


def _total(rows: list[list], column: str):
    head = rows[0]
    total = next(r for r in rows[1:] if r and r[0] in TOTAL_LABELS)
    return total[0], total[head.index(column)]


def test_school_totals_are_distinct_counts(summary, demo):
    rows = _export_rows(demo)
    planned = len({r["school_code"] for r in rows})
    dated = len({r["school_code"] for r in rows if r["start_month"]})
    assert 1 < planned < len(rows)
    book = sheets(summary)
    for name, want in (("Theo tiêu chí", planned), ("Theo tiêu chuẩn", planned), ("Chủ trì", planned),
                       ("Thời gian", dated)):
        label, value = _total(book[name], "Số trường")
        assert (label, value) == (TOTAL_DISTINCT, want), name
        column = [r[book[name][0].index("Số trường")] for r in book[name][1:] if r and r[0] not in TOTAL_LABELS]
        assert sum(column) > want  # the sum would have been wrong: rows share schools
    label, value = _total(book["Theo trường"], "Số tiêu chí")
    assert value in ("", None)  # criteria of different schools do not add up


def test_criteria_are_keyed_by_framework(summary):
    rows = sheets(summary)["Theo tiêu chí"]
    head = rows[0]
    assert head[0] == "Khung tiêu chí"
    body = [r for r in rows[1:] if r and r[0] not in TOTAL_LABELS]
    numbers = {f"Thông tư {f.number}" for f in load_catalog().frameworks}
    assert {r[0] for r in body} <= numbers and len({r[0] for r in body}) > 1
    keys = [(r[0], r[head.index("Tiêu chuẩn")], r[head.index("Tiêu chí")]) for r in body]
    assert len(keys) == len(set(keys))
    codes = [(r[0], r[head.index("Mã tiêu chí")]) for r in body]
    plain = [c for _, c in codes]
    assert len(set(plain)) < len(plain)  # "M4.2" of two frameworks: two rows, told apart by the framework
    data = sheets(summary)[S_CHART_DATA]
    axis = [r[data[0].index("Tiêu chí")] for r in data[1:] if r[data[0].index("Tiêu chí")]]
    assert len(axis) == len(set(axis)) == len(body)  # no "5.3" twice on the chart's axis


def test_charts_count_whole_numbers_and_name_schools_apart(summary):
    with zipfile.ZipFile(summary) as zf:
        charts = [zf.read(n).decode() for n in zf.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)]
    def title(xml: str) -> str:
        return re.search(r"<a:t>([^<]*)</a:t>", xml).group(1)

    counted = [c for c in charts if title(c) in ("Số trường theo tiêu chí", "Tiến độ thực hiện", "Tiến độ theo trường")]
    assert len(counted) == 3
    for c in counted:
        assert re.search(r'<c:majorUnit val="\d+"/>', c) and 'formatCode="0"' in c  # whole steps, whole labels
    data = sheets(summary)[S_CHART_DATA]
    col = data[0].index("Trường")
    names = [r[col] for r in data[1:] if r[col]]
    assert len(names) == len(set(names))
    assert "Trường Tiểu học Kim Đồng (TH001)" in names and "Trường Tiểu học Kim Đồng (TH002)" in names


# --------------------------------------------------------------------------- Vietnamese only


def _codes() -> set[str]:
    codes = {m.value for cls in VOCABULARIES.values() for m in cls}
    codes |= {lv.key for lv in load_form().levels}
    codes |= {f.id for f in load_catalog().frameworks}
    return codes


def _code_like(path: Path, only: str | None = None) -> list[tuple[str, str]]:
    codes = _codes()
    found = []
    for name, grid in sheets(path).items():
        if only and name != only:
            continue
        for row in grid:
            for v in row:
                if isinstance(v, str) and v:
                    tokens = set(re.split(r"[\s,;|()/:\[\]]+", v)) | {v.strip()}
                    found += [(name, v) for t in tokens if t in codes]
    return found


def test_no_code_in_any_cell_of_the_summary(summary, demo):
    assert _code_like(summary) == []
    # the export keeps the codes (and adds their labels at the end)
    rows = _export_rows(demo)
    assert {r["level"] for r in rows} <= {lv.key for lv in load_form().levels}
    assert {r["section_label"] for r in rows} <= {"Mức 1, 2, 3", "Mức 4"}
    issues = list(csv.DictReader(io.StringIO((demo / "4-xuat-du-lieu" / "issues.csv").read_text(encoding="utf-8-sig"))))
    assert {(i["severity"], i["severity_label"]) for i in issues} >= {("info", "Thông tin"), ("error", "Lỗi")}


def test_no_code_in_any_cell_of_a_feedback_copy(demo):
    """Every sheet a person sees in the school's copy: the report kcl-xlsx adds and the
    template's own visible sheets (Thông tin names the framework "Thông tư 17/2018/TT-BGDĐT").
    The hidden list and identity sheets are machine data."""
    import openpyxl

    (copy,) = sorted((demo / "3-phan-hoi").glob("*.xlsx"))
    visible = [ws.title for ws in openpyxl.load_workbook(copy, read_only=True).worksheets
               if ws.sheet_state == "visible"]
    assert "Kết quả kiểm tra" in visible and "Thông tin" in visible
    assert [found for name in visible for found in _code_like(copy, only=name)] == []
    report = CalamineWorkbook.from_path(str(copy)).get_sheet_by_name("Kết quả kiểm tra").to_python()
    severities = {r[1] for r in report if r and isinstance(r[0], (int, float)) and r[0] >= 1}
    assert severities and severities <= {label_of(Severity.ERROR), label_of(Severity.WARNING)}  # no info by default


def test_severity_wording_is_one(summary, demo):
    """labels.yaml's severity labels are the summary's and the feedback's: warning = Cảnh báo."""
    assert label_of(Severity.WARNING) == "Cảnh báo"
    book = sheets(summary)
    head = book["Lỗi"][0]
    assert {r[head.index("Mức độ")] for r in book["Lỗi"][1:]} <= {"Lỗi", "Cảnh báo"}
    assert "Số cảnh báo" in book["Theo trường"][0] and "Số lưu ý" not in book["Theo trường"][0]
    (copy,) = sorted((demo / "3-phan-hoi").glob("*.xlsx"))
    texts = [v for r in CalamineWorkbook.from_path(str(copy)).get_sheet_by_name("Kết quả kiểm tra").to_python()
             for v in r if isinstance(v, str)]
    assert any("cảnh báo" in t for t in texts) and not any("lưu ý" in t.lower() for t in texts)


def test_changes_show_the_text_as_written(summary):
    rows = sheets(summary)["Thay đổi"]
    head = rows[0]
    assert rows[1:] and {r[head.index("Thay đổi")] for r in rows[1:]} <= {"Thêm mới", "Đã bỏ", "Thay đổi"}
    shown = [r[head.index("Dòng thay đổi (tiêu chí | công việc)")] for r in rows[1:]]
    assert all("kiểm tra, đánh giá" in s.lower() for s in shown), shown  # diacritics kept


# --------------------------------------------------------------------------- context, info


def test_overview_stands_on_its_own(summary):
    ov = {r[0]: r[1] for r in sheets(summary)["Tổng quan"] if r and r[0]}
    assert ov["Đơn vị"] == "Phòng GD&ĐT mẫu (Sông Xanh)" and ov["Năm học"] == "2025-2026"
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", ov["Số liệu tính đến ngày"])
    assert ov["Hạn nộp"] and re.fullmatch(r"\d\d:\d\d ngày \d\d/\d\d/\d{4}", ov["Lập lúc"])
    assert ov["Hộp thư"].endswith("2-hop-thu") and ov["Danh sách trường"] and ov["Số tệp đã đọc"] == 9


def test_info_issues_only_on_request(demo, tmp_path):
    from kcl_xlsx.summary.rollup import read_input, rollup

    book = sheets(demo / "tong-hop.xlsx")
    assert all("Thông tin" not in r for r in book["Lỗi"])
    res = rollup([demo / "tong-hop.xlsx"], tmp_path / "all.xlsx", show_info=True)
    assert res.tables.show_info
    export_res = rollup([demo / "4-xuat-du-lieu"], tmp_path / "info.xlsx", show_info=True)
    shown = sheets(tmp_path / "info.xlsx")["Lỗi"]
    assert any("Thông tin" in r for r in shown)  # the export kept them, the flag shows them
    ov = {r[0]: r[1] for r in sheets(tmp_path / "info.xlsx")["Tổng quan"] if r and r[0]}
    assert ov["Đầu vào"] == str(demo / "4-xuat-du-lieu")  # the roll-up says its inputs
    assert export_res.out == tmp_path / "info.xlsx"
    assert len(read_input(demo / "tong-hop.xlsx").rows) == len(_export_rows(demo))


def test_feedback_leaves_info_out_unless_asked(demo, tmp_path):
    from kcl_xlsx.check.feedback import write_feedback
    from kcl_xlsx.spec.issues import Issue
    from kcl_xlsx.spec.vocab import CheckStatus

    src = next((demo / "2-hop-thu").rglob("th001_*.xlsx"))
    issues = [Issue(code="x", severity=Severity.INFO, message="chỉ để biết"),
              Issue(code="y", severity=Severity.WARNING, message="nên xem", sheet="Kế hoạch", cell="K6", row=6)]
    for show, out in ((False, tmp_path / "a.xlsx"), (True, tmp_path / "b.xlsx")):
        write_feedback(src, issues, CheckStatus.VALID, out, show_info=show)
        texts = [v for r in CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Kết quả kiểm tra").to_python()
                 for v in r if isinstance(v, str)]
        assert ("chỉ để biết" in texts) is show
        assert "nên xem" in texts


def test_rollup_reads_a_summary_written_before_the_labels(demo, tmp_path):
    """tests/fixtures/tong-hop-before-issue12.xlsx: the demo's summary as the previous version
    wrote it (codes on the sheets, "Số lưu ý", "Tổng" rows)."""
    from kcl_xlsx.summary.rollup import read_input

    old = read_input(Path(__file__).parent / "fixtures" / "tong-hop-before-issue12.xlsx")
    new = read_input(demo / "tong-hop.xlsx")
    for t in (old, new):
        assert set(t.rows["level"]) <= {lv.key for lv in load_form().levels}
        assert set(t.rows["framework"]) <= {f.id for f in load_catalog().frameworks}
        assert set(t.rows["section"]) <= {"muc1_3", "muc4"}
        assert set(t.issues["severity"]) <= {"error", "warning", "info"}
        assert set(t.files["status"]) <= {"valid", "errors"}
        assert set(t.changes["change"]) <= {"added", "removed", "changed"}
        assert "TH001" in set(t.schools["school_code"]) and int(t.schools["warnings"].sum()) == 1
    assert len(old.rows) == len(new.rows)
    assert sorted(old.rows["criterion"]) == sorted(new.rows["criterion"])
