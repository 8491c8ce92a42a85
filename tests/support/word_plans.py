"""Word plans built the way schools build them, for the reader's tests.

Real plans (../shared/seeds/) are official documents: a header block (managing authority
and school | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM with place and date), the title and school
year, Căn cứ citing the circular, then the nine-column table with "MỨC 1, 2, 3" / "MỨC 4"
and "Tiêu chuẩn N" rows, then Tổ chức thực hiện and the signature.  :func:`build_plan`
writes such a document with python-docx: merges with python-docx's own ``merge`` (which
writes ``w:gridSpan`` and ``w:vMerge`` as Word does), several paragraphs in a cell, and
tracked changes by editing the cell's XML (``w:ins`` / ``w:del`` runs, as Word writes
them).  The tests then read the file back with the application and compare with rows
written out by hand.
"""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Sequence

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

HEADERS = ["TT", "Tiêu chuẩn, tiêu chí", "Kết quả cần đạt (so với hiện trạng)", "Công việc/giải pháp cần thực hiện",
           "Chủ trì và phối hợp thực hiện", "Thời gian thực hiện và hoàn thành", "Dự kiến kinh phí",
           "Điều kiện hỗ trợ khác", "Ghi chú"]
# The same header typed over two rows, as in seed 000.
SPLIT_HEADERS = (["TT", "Tiêu chuẩn, tiêu chí", "Kết quả cần đạt (so với hiện trạng)",
                  "Công việc/giải pháp cần thực hiện", "Chủ trì và phối hợp", "Thời gian thực hiện và",
                  "Dự kiến kinh phí", "Điều kiện hỗ trợ khác", "Ghi chú"],
                 ["", "", "", "", "thực hiện", "hoàn thành", "", "", ""])


@dataclasses.dataclass
class Section:
    """A group row spanning the table: "MỨC 1, 2, 3", "MỨC 4", or "Tiêu chuẩn 3: ..." (with
    its number in TT).  ``merged``: one cell across the table (else the text in column 2
    and the other cells empty, as seed 003 has it)."""

    text: str
    number: str = ""
    merged: bool = True


# A data row: nine cells; a cell is a text, a list of paragraphs, or None (empty).
Cell = "str | list[str] | None"


@dataclasses.dataclass
class Doc:
    authority: str
    school: str
    number: str
    place_date: str
    year_line: str
    basis: Sequence[str]  # Căn cứ lines (the circular cited)
    rows: Sequence  # Section | list of nine cells
    signer: str = ""
    split_header: bool = False
    header_as_table: bool = True  # the header block laid out as a borderless two-column table
    vmerge: Sequence[tuple[int, int, int]] = ()  # (column, first body row, last body row), 0-based body rows
    tracked: Sequence[tuple[int, int, str, str]] = ()  # (body row, column, deleted text, inserted text)
    extra_tables_before: int = 0  # other tables (e.g. self-assessment results) before the plan table
    split_at: int = 0  # cut the table before this body row into a second table after a page break


def build_plan(path: Path, spec: Doc) -> Path:
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(13)
    _header_block(document, spec)
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("CẢI TIẾN CHẤT LƯỢNG GIÁO DỤC")
    document.add_paragraph(spec.year_line)
    document.add_paragraph("I. MỤC ĐÍCH, YÊU CẦU")
    document.add_paragraph("1. Xây dựng kế hoạch cải tiến chất lượng giáo dục để thực hiện trong năm học.")
    document.add_paragraph("II. CĂN CỨ XÂY DỰNG KẾ HOẠCH")
    for line in spec.basis:
        document.add_paragraph(line)
    for n in range(spec.extra_tables_before):
        results = document.add_table(rows=3, cols=4)
        for r, row in enumerate([["Tiêu chuẩn", "Mức 1", "Mức 2", "Mức 3"], ["Tiêu chuẩn 1", "Đạt", "Đạt", "Không đạt"],
                                 ["Tiêu chuẩn 2", "Đạt", "Đạt", "Đạt"]]):
            for c, text in enumerate(row):
                results.cell(r, c).text = text
    document.add_paragraph("III. NỘI DUNG KẾ HOẠCH CẢI TIẾN CHẤT LƯỢNG GIÁO DỤC")
    plan_table(document, spec)
    document.add_paragraph("IV. TỔ CHỨC THỰC HIỆN")
    document.add_paragraph("1. Hiệu trưởng - Chủ tịch Hội đồng tự đánh giá")
    document.add_paragraph("Nơi nhận:")
    document.add_paragraph("- Phòng GDĐT (để b/c);")
    document.add_paragraph("HIỆU TRƯỞNG")
    document.add_paragraph("(đã ký)")
    if spec.signer:
        document.add_paragraph(spec.signer)
    document.save(path)
    return path


def _header_block(document, spec: Doc) -> None:
    left = [spec.authority, spec.school, spec.number]
    right = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập – Tự do – Hạnh phúc", spec.place_date]
    if not spec.header_as_table:
        for line in left + right:
            document.add_paragraph(line)
        return
    block = document.add_table(rows=1, cols=2)
    for cell, lines in zip(block.rows[0].cells, (left, right)):
        cell.text = lines[0]
        for line in lines[1:]:
            cell.add_paragraph(line)


def plan_table(document, spec: Doc):
    header_rows = list(SPLIT_HEADERS) if spec.split_header else [HEADERS]
    table = document.add_table(rows=len(header_rows) + len(spec.rows), cols=9)
    table.style = "Table Grid"
    for r, texts in enumerate(header_rows):
        for c, text in enumerate(texts):
            if text:
                table.cell(r, c).text = text
    if spec.split_header:  # the one-line headers span both rows
        for c, text in enumerate(SPLIT_HEADERS[1]):
            if not text:
                table.cell(0, c).merge(table.cell(1, c))
    top = len(header_rows)
    for i, row in enumerate(spec.rows):
        r = top + i
        if isinstance(row, Section):
            if row.number:
                table.cell(r, 0).text = row.number
            first = 1 if row.number else 0
            if row.merged:
                merged = table.cell(r, first).merge(table.cell(r, 8))
                merged.text = row.text
            else:
                table.cell(r, 1).text = row.text
            continue
        for c, value in enumerate(row):
            _fill(table.cell(r, c), value)
    for c, first, last in spec.vmerge:
        keep = table.cell(top + first, c)
        text = keep.text
        merged = keep.merge(table.cell(top + last, c))
        merged.text = text  # python-docx joins the merged cells' paragraphs: keep the first's
    for body_row, c, deleted, inserted in spec.tracked:
        _track(table.cell(top + body_row, c), deleted, inserted)
    if spec.split_at:
        _cut(document, table, top + spec.split_at)
    return table


def _cut(document, table, at: int) -> None:
    """The table in two at row ``at``, a page break between (the second has no header)."""
    from docx.enum.text import WD_BREAK

    tbl = table._tbl
    second = copy.deepcopy(tbl)
    for tr in tbl.findall(qn("w:tr"))[at:]:
        tbl.remove(tr)
    for tr in second.findall(qn("w:tr"))[:at]:
        second.remove(tr)
    page = document.add_paragraph()
    page.add_run().add_break(WD_BREAK.PAGE)
    tbl.addnext(second)
    tbl.addnext(page._p)


def _fill(cell, value) -> None:
    if value is None:
        return
    if isinstance(value, str):
        cell.text = value
        return
    cell.text = value[0]
    for more in value[1:]:
        cell.add_paragraph(more)


def _track(cell, deleted: str, inserted: str) -> None:
    """Word's tracked change: ``deleted`` struck out (w:del/w:delText) and ``inserted``
    added (w:ins), before the cell's first paragraph's text."""
    p = cell.paragraphs[0]._p
    first_run = p.find(qn("w:r"))
    for kind, text in (("w:del", deleted), ("w:ins", inserted)):
        change = OxmlElement(kind)
        change.set(qn("w:id"), "1" if kind == "w:del" else "2")
        change.set(qn("w:author"), "Hiệu trưởng")
        run = OxmlElement("w:r")
        t = OxmlElement("w:delText" if kind == "w:del" else "w:t")
        t.text = text
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        run.append(t)
        change.append(run)
        if first_run is not None:
            first_run.addprevious(change)
        else:
            p.append(change)


def duplicate_table(path: Path, out: Path) -> Path:
    """``path`` with its plan table written twice (a second plan-like table)."""
    document = docx.Document(path)
    plan = document.tables[-1]._tbl
    plan.addnext(copy.deepcopy(plan))
    plan.addnext(document.add_paragraph("Bảng bổ sung:")._p)
    document.save(out)
    return out


# --------------------------------------------------------------------------- the seeds as documents
# Texts from ../shared/seeds (000, 001, 003): real plans extracted to text.  Where the seed's
# extraction lost the header block's left column (000, 001), the school line is written
# from what the plan says of itself ("Trường Trung học cơ sở Colette", "trường tiểu học xã
# Thanh Chấn") and its document number.

NO, NONE_HAD = "Không", "Không có"


def seed_003() -> Doc:
    """TRƯỜNG MN KỸ NĂNG SỐNG (mầm non, TT19): group rows typed in the second column (not
    merged), "Tiêu chí 1.1:", "Không có" for cost and support, the header block a table."""
    return Doc(
        authority="ỦY BAN NHÂN DÂN QUẬN 6", school="TRƯỜNG MN KỸ NĂNG SỐNG", number="Số : 170/KH-MNKNS",
        place_date="Quận 6, ngày 25 tháng 8 năm 2024", year_line="Năm học 2024 – 2025",
        basis=["1. Báo cáo tự đánh giá (giai đoạn từ năm 2020 đến 2025 của Trường).",
               "2. Các văn bản quy phạm pháp luật, văn bản hướng dẫn hiện hành (Thông tư số Thông tư số 19/2018/TT-BGDĐT "
               "ngày 22/8/2018 của Bộ GD&ĐT ban hành Quy định về kiểm định chất lượng giáo dục và công nhận đạt "
               "chuẩn quốc gia đối với trường mầm non).",
               "3. Kết quả thực hiện cải tiến chất lượng của nhà trường đã đạt được trong năm học 2023 – 2024."],
        rows=[
            Section("MỨC 1, 2, 3", merged=False),
            Section("Tiêu chuẩn 1: Tổ chức và quản lý nhà trường", "1", merged=False),
            [None, "Tiêu chí 1.1: ", "Đăng tải phương hướng chiến lược công khai trên các phương tiện thông tin đại "
             "chúng của địa phương và trang thông tin điện tử của trường", "Nhà trường xây dựng kế hoạch tổ chức, xây "
             "dựng, vận hành trang thông tin điện tử và hệ thống thư điện tử", "Ban giám hiệu, các tổ trưởng",
             "Năm học 2024-2025", NONE_HAD, NONE_HAD, None],
            Section("Tiêu chuẩn 3: Cơ sở vật chất và thiết bị dạy học", "2", merged=False),
            [None, "Tiêu chí 3.2", " Có phòng riêng để tổ chức cho trẻ làm quen với ngoại ngữ, tin học và âm nhạc",
             "Nhà trường bố trí phòng cho trẻ làm quen âm nhạc, thể chất. ", "Hiệu trưởng", "Năm học 2024-2025",
             NONE_HAD, NONE_HAD, None],
            [None, "Tiêu chí 3.3", "  Có các loại phòng theo quy định", "Nhà trường bố trí phòng làm việc của Hiệu "
             "trưởng có đầy đủ trang thiết bị", "Hiệu trưởng", "Năm học 2024-2025", NONE_HAD, NONE_HAD, None],
            Section("Tiêu chuẩn 5: Hoạt động và kết quả nuôi dưỡng, chăm sóc, giáo dục", "3", merged=False),
            [None, "Tiêu chí 5.2", "Giáo viên tổ chức các hoạt động giáo dục cho trẻ bằng nhiều hình thức đa dạng phù "
             "hợp với độ tuổi của trẻ em và điều kiện thực tế", "BGH bồi dưỡng giáo viên bồi dưỡng chuyên môn thêm cho "
             "giáo viên, trong hoạt động trải nghiệm, khám phá cho trẻ", "Ban giám hiệu, giáo viên", "Năm học 2024-2025",
             NONE_HAD, NONE_HAD, None],
        ],
        signer="Nguyễn Thị Hậu")


def seed_001(criterion_merged: bool = True) -> Doc:
    """Trường tiểu học xã Thanh Chấn (TT17): group rows merged across the table, criterion
    1.6 with two action rows (its cell merged down both, or left blank on the second row),
    cells of two paragraphs, "Tiêu chí 2. 3", and the MỨC 4 section numbering its own
    criteria ("Tiêu chí 2", "Tiêu chí 4")."""
    return Doc(
        authority="UBND HUYỆN KIẾN XƯƠNG", school="TRƯỜNG TIỂU HỌC XÃ THANH CHẤN", number="Số: 17/KH-TrTH",
        place_date="Thanh Chấn, ngày 24 tháng 9 năm 2021", year_line="NĂM HỌC 2021 - 2022",
        basis=["Căn cứ Thông tư số 17/2018/TT-BGDĐT ngày 22/08/2018 của Bộ GD&ĐT ban hành Quy định về kiểm định chất "
               "lượng giáo dục và công nhận đạt chuẩn quốc gia đối với trường tiểu học; Căn cứ Hướng dẫn số "
               "5932/BGDĐT-QLCL ngày 28/12/2018 của Bộ GD&ĐT"],
        rows=[
            Section("MỨC 1, 2, 3"),
            Section("Tiêu chuẩn 1: Tổ chức và quản lý nhà trường", "1"),
            [None, "Tiêu chí 1.6", "Ứng dụng công nghệ thông tin hiệu quả trong công tác quản lý hành chính, tài "
             "chính và tài sản của nhà trường", "Khai thác hiệu quả các tính năng hiện đại trên trang web của nhà "
             "trường, của ngành.", "Hiệu trưởng - Tổ truyền thông", "Tháng 10/2021 và hoàn thành tháng 5/2022", NO,
             "Có sự tham gia của Ban giám hiệu và tổ văn phòng", None],
            [None, None, "Có kế hoạch ngắn hạn, trung hạn, dài hạn để tạo ra các nguồn tài chính hợp pháp.",
             ["- Chỉ đạo kế toán dự toán đầu năm.", "- Xây dựng kế hoạch ngắn hạn, trung hạn, dài hạn."],
             "Hiệu trưởng - Kế toán", "Tháng 10/2021 và hoàn thành tháng 5/2022", NO,
             "Có sự tham gia của Hội đồng trường và Ban giám hiệu góp ý", None],
            [None, "Tiêu chí 1.10", "thực hiện phương án đảm bảo an ninh trật tự; vệ sinh an toàn thực phẩm",
             "Cắt tỉa cành cây; Lập dự toán dự trù kinh phí tu sửa đồ chơi ngoài trời", "Hiệu trưởng - Phụ huynh HS "
             "và kế toán", "Tháng 9/2021 và hoàn thành tháng 5/2022", "Kinh phí sử dụng từ nguồn chi thường xuyên và "
             "xã hội hóa", ["- Phụ huynh hỗ trợ ngày công cắt tỉa cây", "- Ngân sách nhà nước"], None],
            Section("Tiêu chuẩn 2: Cán bộ quản lý, giáo viên, nhân viên", "2"),
            [None, "Tiêu chí 2.2", "Tỷ lệ giáo viên đạt trên chuẩn trình độ đào tạo đạt ít nhất 65%", "05 GV học tập "
             "để nâng cao trình độ chuyên môn (từ Cao đẳng lên Đại học)", "05 Giáo viên", "Tháng 10/2021 và hoàn "
             "thành tháng 12/2026", NO, "BGH bố trí, sắp xếp công việc của nhà trường", None],
            [None, "Tiêu chí 2. 3", "Nhân viên bảo vệ hợp đồng nên chưa có tính ổn định lâu dài.", "Thỏa thuận ký kết "
             "hợp đồng với nhân viên bảo vệ", "Hiệu trưởng - Nhân viên bảo vệ", "Trong năm học 2021-2022 và các năm "
             "học tiếp theo", NO, "Hiệu trưởng, Hội đồng trường, Công đoàn cơ sở phối hợp", None],
            Section("Tiêu chuẩn 3: Cơ sở vật chất và thiết bị dạy học", "3"),
            [None, "Tiêu chí 3.2", "Có các phòng riêng biệt để dạy các môn âm nhạc, mỹ thuật, khoa học và ngoại ngữ",
             "Tham mưu với Phòng GD&ĐT để xin mua sắm bổ sung cơ sở vật chất", "Hiệu trưởng - Kế toán",
             "Tháng 10/2021 và hoàn thành tháng 5/2022", "Kinh phí từ ngân sách nhà nước",
             "Có sự tham gia của Hội đồng trường", None],
            Section("Tiêu chuẩn 4: Quan hệ giữa nhà trường, gia đình và xã hội", "4"),
            [None, "Tiêu chí 4.2", "Công tác tham mưu cấp ủy Đảng, chính quyền", "Vận động các doanh nghiệp, các nhà "
             "hảo tâm ủng hộ", "Hiệu trưởng – CB, GV, NV toàn trường", "Trong năm học", "Kinh phí xã hội hóa",
             "Có sự tham gia của phụ huynh, các nhà hảo tâm", None],
            Section("MỨC 4"),
            ["1", "Tiêu chí 2", "Đảm bảo 100% cho học sinh có hoàn cảnh khó khăn", "Xây dựng kế hoạch bồi dưỡng HS "
             "năng khiếu", "BGH, Ban chuyên môn, GV, NV", "Trong năm học", NO, "GV thể dục; Phụ huynh học sinh", None],
            ["2", "Tiêu chí 4", "Hoàn thành các mục tiêu theo phương hướng, chiến lược phát triển của nhà trường",
             "Xây dựng Kế hoạch chiến lược theo giai đoạn và tổ chức thực hiện.", "Nhà trường, các tổ chức xã hội "
             "trong và ngoài nhà trường", "Từ tháng 9/2022 đến tháng 5/2023", NO, None, None],
        ],
        signer="Vũ Thị Trung Thu", vmerge=[(1, 2, 3)] if criterion_merged else ())


def seed_000() -> Doc:
    """Trường THCS Colette (TT18): the header over two rows ("Chủ trì và phối hợp" /
    "thực hiện"), the standard and the criterion in one cell, a cost changed with Word's
    tracked changes, and the table cut in two at a page break."""
    return Doc(
        authority="ỦY BAN NHÂN DÂN QUẬN 3", school="TRƯỜNG THCS COLETTE", number="Số: 149/KH-COL",
        place_date="Quận 3, ngày 04 tháng 9 năm 2024.", year_line="Năm học 2024 – 2025",
        basis=["Thông tư số 18/2018/TT-BGDĐT, ngày 22 tháng 8 năm 2018 của Bộ trưởng Bộ GD&ĐT ban hành Quy định về "
               "kiểm định chất lượng giáo dục và công nhận đạt chuẩn quốc gia đối với trường THCS, trường THPT và "
               "trường phổ thông có nhiều cấp học.",
               "Công văn số 5932/BGDĐT-QLCL ngày 28 tháng 12 năm 2018 của Bộ Giáo dục và Đào tạo."],
        rows=[
            Section("MỨC 1, 2, 3"),
            ["1", ["Tiêu chuẩn 3: Cơ sở vật chất và thiết bị dạy học", "Tiêu chí 3.2"], None,
             "Tham mưu các cấp lãnh đạo xây dựng bổ sung các phòng chức năng đúng chuẩn trên diện tích hiện có.",
             "Hiệu trưởng", "Từ năm học 2024 - 2025", None, "Phòng Giáo dục, Phòng Tài chính Quận", None],
            [None, "Tiêu chí 3.5", "Thay thế một số máy vi tính cũ, thiếu cập nhật phần mềm hệ thống và các bản, lỗi "
             "bảo mật nhằm đảm bảo phục vụ tốt cho công việc.", "Hiệu trưởng xây dựng kế hoạch thuê máy vi tính để "
             "phục vụ giảng dạy", "Kế toán tham mưu lên kinh phí thực hiện.", "Năm học 2024 - 2025", "",
             "Xã hội hóa", None],
            Section("Tiêu chuẩn 5: Hoạt động giáo dục và kết quả giáo dục", "2"),
            [None, "Tiêu chí 5.4", "Tổ chức được các hoạt động trải nghiệm, hướng nghiệp với các hình thức phong phú.",
             "Hiệu trưởng chỉ đạo xây dựng các hoạt động trải nghiệm", "Phó hiệu trưởng xây dựng kế hoạch; Giáo viên "
             "bộ môn thực hiện", "Năm học 2024-2025", None, None, None],
            [None, "Tiêu chí 5.5", "Bước đầu, học sinh có khả năng nghiên cứu khoa học, công nghệ theo người hướng dẫn",
             "Hiệu trưởng phân công giáo viên hướng dẫn học sinh tham gia hội thi nghiên cứu khoa học",
             "Hiệu trưởng", "Năm học 2024-2025", None, None, None],
        ],
        signer="Lưu Thị Hà Phương", split_header=True, tracked=[(2, 6, "300 triệu", "400 - 500 triệu")], split_at=3)
