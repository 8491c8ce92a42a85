"""Plans written in Word, read and checked as a careful officer would retype them.

Each test builds a .docx from a seed plan (../shared/seeds 000, 001, 003) in a layout real
plans use (tests/support/word_plans.py), checks it with the application, and compares the
rows with the rows written out below by hand: criterion, target, actions, lead,
collaborators, start, end, budget min/max, funding, support, note.  The texts are the
seed's; the readings (a role for "BGH", a month for "Tháng 10/2021") are the form's own
vocabulary, as the officer would pick them from the template's lists.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kcl_xlsx.base.office import convert
from kcl_xlsx.check.checker import CheckOptions, Submission, check_path
from kcl_xlsx.cli import app
from kcl_xlsx.collect.ledger import Ledger, submission_from_row
from kcl_xlsx.intake.sniff import sniff
from kcl_xlsx.intake import entries
from kcl_xlsx.spec.vocab import CheckStatus
from tests.support import word_plans as wp

FIELDS = ("criterion", "target", "actions", "lead", "collaborators", "start", "end", "budget_min", "budget_max",
          "funding", "support", "note")


def officer_rows(sub: Submission) -> list[tuple]:
    """Each row as the officer's eleven entries (the criterion by its code) plus its section."""
    out = []
    for r in sub.rows:
        v, d = r.values, r.derived
        out.append((d["criterion_code"], v["target"], v["actions"], v["lead"], v["collaborators"], v["start"],
                    v["end"], d["budget_min"], d["budget_max"], v["funding"], v["support"], v["note"], d["section"]))
    return out


def problems(sub: Submission) -> list[tuple[str, str]]:
    return [(i.code, i.message) for i in sub.issues if i.severity.value in ("error", "warning")
            and i.code not in ("word.use_template", "budget.parsed_from_text")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("word")
    return {name: wp.build_plan(folder / f"{name}.docx", getattr(wp, name)()) for name in ("seed_000", "seed_001", "seed_003")}


# --------------------------------------------------------------------------- the seeds


def test_seed_003_preschool_group_rows_typed_in_a_column(built):
    sub = check_path(built["seed_003"])
    assert sub.kind == "docx" and sub.source_kind == "word" and sub.status == CheckStatus.VALID
    assert officer_rows(sub) == [
        ("1.1", "Đăng tải phương hướng chiến lược công khai trên các phương tiện thông tin đại chúng của địa phương và "
                "trang thông tin điện tử của trường",
         "Nhà trường xây dựng kế hoạch tổ chức, xây dựng, vận hành trang thông tin điện tử và hệ thống thư điện tử",
         "Ban giám hiệu", "các tổ trưởng", "Tháng 9/2024", "Tháng 8/2025", 0.0, 0.0, "Không cần kinh phí",
         "Không có", None, "muc1_3"),
        ("3.2", "Có phòng riêng để tổ chức cho trẻ làm quen với ngoại ngữ, tin học và âm nhạc",
         "Nhà trường bố trí phòng cho trẻ làm quen âm nhạc, thể chất.", "Hiệu trưởng", None, "Tháng 9/2024",
         "Tháng 8/2025", 0.0, 0.0, "Không cần kinh phí", "Không có", None, "muc1_3"),
        ("3.3", "Có các loại phòng theo quy định",
         "Nhà trường bố trí phòng làm việc của Hiệu trưởng có đầy đủ trang thiết bị", "Hiệu trưởng", None,
         "Tháng 9/2024", "Tháng 8/2025", 0.0, 0.0, "Không cần kinh phí", "Không có", None, "muc1_3"),
        ("5.2", "Giáo viên tổ chức các hoạt động giáo dục cho trẻ bằng nhiều hình thức đa dạng phù hợp với độ tuổi của "
                "trẻ em và điều kiện thực tế",
         "BGH bồi dưỡng giáo viên bồi dưỡng chuyên môn thêm cho giáo viên, trong hoạt động trải nghiệm, khám phá cho trẻ",
         "Ban giám hiệu", "Giáo viên", "Tháng 9/2024", "Tháng 8/2025", 0.0, 0.0, "Không cần kinh phí", "Không có",
         None, "muc1_3"),
    ]
    assert problems(sub) == []
    # who and when, from the document's own header block, the title and Căn cứ
    assert sub.info == {"authority": "ỦY BAN NHÂN DÂN QUẬN 6", "school_name": "TRƯỜNG MN KỸ NĂNG SỐNG",
                        "doc_number": "170/KH-MNKNS", "place": "Quận 6", "date": "2024-08-25", "year": "2024-2025",
                        "level": "mam-non", "framework": "tt19-2018", "signer": "Nguyễn Thị Hậu"}
    assert (sub.level, sub.year, sub.framework, sub.school_name) == ("mam-non", "2024-2025", "tt19-2018",
                                                                     "TRƯỜNG MN KỸ NĂNG SỐNG")
    codes = [i.code for i in sub.issues]
    assert "word.use_template" in codes and "identity.missing" not in codes
    chosen = next(i for i in sub.issues if i.code == "word.table_chosen")
    assert chosen.message == "Kế hoạch đọc từ Bảng 2 (tài liệu có 2 bảng)"  # Bảng 1: the header block


SEED_001_ROWS = [
    ("1.6", "Ứng dụng công nghệ thông tin hiệu quả trong công tác quản lý hành chính, tài chính và tài sản của nhà "
            "trường",
     "Khai thác hiệu quả các tính năng hiện đại trên trang web của nhà trường, của ngành.", "Hiệu trưởng",
     "Tổ truyền thông", "Tháng 10/2021", "Tháng 5/2022", 0.0, 0.0, "Không cần kinh phí",
     "Có sự tham gia của Ban giám hiệu và tổ văn phòng", None, "muc1_3"),
    # the second action of 1.6: its two paragraphs of actions as one text
    ("1.6", "Có kế hoạch ngắn hạn, trung hạn, dài hạn để tạo ra các nguồn tài chính hợp pháp.",
     "- Chỉ đạo kế toán dự toán đầu năm. - Xây dựng kế hoạch ngắn hạn, trung hạn, dài hạn.", "Hiệu trưởng",
     "Kế toán", "Tháng 10/2021", "Tháng 5/2022", 0.0, 0.0, "Không cần kinh phí",
     "Có sự tham gia của Hội đồng trường và Ban giám hiệu góp ý", None, "muc1_3"),
    # two sources and no amount: no budget, the first source named
    ("1.10", "thực hiện phương án đảm bảo an ninh trật tự; vệ sinh an toàn thực phẩm",
     "Cắt tỉa cành cây; Lập dự toán dự trù kinh phí tu sửa đồ chơi ngoài trời", "Hiệu trưởng",
     "Phụ huynh HS, Kế toán", "Cả năm học", "Cả năm học", None, None, "Chi thường xuyên",
     "- Phụ huynh hỗ trợ ngày công cắt tỉa cây - Ngân sách nhà nước", None, "muc1_3"),
    ("2.2", "Tỷ lệ giáo viên đạt trên chuẩn trình độ đào tạo đạt ít nhất 65%",
     "05 GV học tập để nâng cao trình độ chuyên môn (từ Cao đẳng lên Đại học)", "Giáo viên", None,
     "Tháng 10/2021", "Tháng 12/2026", 0.0, 0.0, "Không cần kinh phí", "BGH bố trí, sắp xếp công việc của nhà trường",
     None, "muc1_3"),
    # "Tiêu chí 2. 3"; the guard read as the role list's Nhân viên
    ("2.3", "Nhân viên bảo vệ hợp đồng nên chưa có tính ổn định lâu dài.",
     "Thỏa thuận ký kết hợp đồng với nhân viên bảo vệ", "Hiệu trưởng", "Nhân viên", "Tháng 9/2021", "Tháng 8/2022",
     0.0, 0.0, "Không cần kinh phí", "Hiệu trưởng, Hội đồng trường, Công đoàn cơ sở phối hợp", None, "muc1_3"),
    ("3.2", "Có các phòng riêng biệt để dạy các môn âm nhạc, mỹ thuật, khoa học và ngoại ngữ",
     "Tham mưu với Phòng GD&ĐT để xin mua sắm bổ sung cơ sở vật chất", "Hiệu trưởng", "Kế toán", "Tháng 10/2021",
     "Tháng 5/2022", None, None, "Ngân sách nhà nước", "Có sự tham gia của Hội đồng trường", None, "muc1_3"),
    ("4.2", "Công tác tham mưu cấp ủy Đảng, chính quyền", "Vận động các doanh nghiệp, các nhà hảo tâm ủng hộ",
     "Hiệu trưởng", "CB, Giáo viên, Nhân viên", "Cả năm học", "Cả năm học", None, None, "Xã hội hóa",
     "Có sự tham gia của phụ huynh, các nhà hảo tâm", None, "muc1_3"),
    # MỨC 4 numbers its own criteria: "Tiêu chí 2" there is the Mức 4 item M4.2
    ("M4.2", "Đảm bảo 100% cho học sinh có hoàn cảnh khó khăn", "Xây dựng kế hoạch bồi dưỡng HS năng khiếu",
     "Ban giám hiệu", "Ban chuyên môn, Giáo viên, Nhân viên", "Cả năm học", "Cả năm học", 0.0, 0.0,
     "Không cần kinh phí", "GV thể dục; Phụ huynh học sinh", None, "muc4"),
    ("M4.4", "Hoàn thành các mục tiêu theo phương hướng, chiến lược phát triển của nhà trường",
     "Xây dựng Kế hoạch chiến lược theo giai đoạn và tổ chức thực hiện.", "Nhà trường",
     "các tổ chức xã hội trong và ngoài nhà trường", "Tháng 9/2022", "Tháng 5/2023", 0.0, 0.0, "Không cần kinh phí",
     None, None, "muc4"),
]


@pytest.mark.parametrize("merged", [True, False], ids=["criterion-merged-down", "criterion-left-blank"])
def test_seed_001_primary_merged_groups_two_action_rows_and_mức_4(tmp_path, merged):
    """1.6 has two action rows: its criterion cell merged down both (vMerge) or written once
    with the second row's cell left blank; either way both rows are 1.6."""
    path = wp.build_plan(tmp_path / "ke-hoach.docx", wp.seed_001(criterion_merged=merged))
    sub = check_path(path)
    assert officer_rows(sub) == SEED_001_ROWS
    assert (sub.level, sub.year, sub.framework) == ("tieu-hoc", "2021-2022", "tt17-2018")
    assert sub.info["doc_number"] == "17/KH-TrTH" and sub.info["date"] == "2021-09-24"
    # the one thing to fix: an owner who is not on the role list
    assert problems(sub) == [("field.unknown_choice",
                              "Bảng 2, dòng 16, cột Chủ trì và phối hợp thực hiện: Chủ trì không có trong danh sách")]
    assert sub.status == CheckStatus.VALID  # a warning only
    # every reading is said, at its place in the document
    split = next(i for i in sub.issues if i.code == "owner.split")
    assert split.message.startswith("Bảng 2, dòng 4, cột Chủ trì và phối hợp thực hiện: 'Hiệu trưởng - Tổ truyền thông'")
    assert (split.sheet, split.row, split.cell) == ("Bảng 2", 4, "")


def test_seed_000_secondary_split_header_tracked_change_page_break(built):
    sub = check_path(built["seed_000"])
    assert officer_rows(sub) == [
        # the standard and the criterion in one cell; the target left empty in the seed
        ("3.2", None, "Tham mưu các cấp lãnh đạo xây dựng bổ sung các phòng chức năng đúng chuẩn trên diện tích hiện có.",
         "Hiệu trưởng", None, "Tháng 9/2024", "Tháng 8/2025", None, None, None, "Phòng Giáo dục, Phòng Tài chính Quận",
         None, "muc1_3"),
        # "300 triệu" struck out, "400 - 500 triệu" inserted (tracked); the source written beside it
        ("3.5", "Thay thế một số máy vi tính cũ, thiếu cập nhật phần mềm hệ thống và các bản, lỗi bảo mật nhằm đảm bảo "
                "phục vụ tốt cho công việc.",
         "Hiệu trưởng xây dựng kế hoạch thuê máy vi tính để phục vụ giảng dạy", "Kế toán", None, "Tháng 9/2024",
         "Tháng 8/2025", 400.0, 500.0, "Xã hội hóa", "Xã hội hóa", None, "muc1_3"),
        # after the page break: the table's second part (Bảng 3)
        ("5.4", "Tổ chức được các hoạt động trải nghiệm, hướng nghiệp với các hình thức phong phú.",
         "Hiệu trưởng chỉ đạo xây dựng các hoạt động trải nghiệm", "Phó hiệu trưởng", "Giáo viên", "Tháng 9/2024",
         "Tháng 8/2025", None, None, None, None, None, "muc1_3"),
        ("5.5", "Bước đầu, học sinh có khả năng nghiên cứu khoa học, công nghệ theo người hướng dẫn",
         "Hiệu trưởng phân công giáo viên hướng dẫn học sinh tham gia hội thi nghiên cứu khoa học", "Hiệu trưởng", None,
         "Tháng 9/2024", "Tháng 8/2025", None, None, None, None, None, "muc1_3"),
    ]
    assert problems(sub) == [("field.required", "Bảng 2, dòng 4, cột Kết quả cần đạt (so với hiện trạng): "
                                                "Thiếu Kết quả cần đạt")]
    assert sub.status == CheckStatus.ERRORS
    assert (sub.level, sub.framework, sub.info["signer"]) == ("thcs", "tt18-2018", "Lưu Thị Hà Phương")
    assert next(i for i in sub.issues if i.code == "word.table_chosen").value == "Bảng 2, Bảng 3"
    # a row of the second part is placed in its own table
    budget = next(i for i in sub.issues if i.code == "value.interpreted" and i.row == 2 and i.sheet == "Bảng 3")
    assert budget.message.startswith("Bảng 3, dòng 2, cột ")


def test_the_year_given_to_check_must_be_the_documents(built):
    sub = check_path(built["seed_003"], CheckOptions(year="2025-2026"))
    assert [(i.code, i.severity.value) for i in sub.issues if i.code == "template.wrong_year"] == [
        ("template.wrong_year", "error")]
    assert sub.status == CheckStatus.ERRORS


def test_without_a_stated_level_the_options_level_is_used(tmp_path):
    doc = dataclasses.replace(wp.seed_000(), school="TRƯỜNG COLETTE")  # TT18 covers three levels: which one?
    path = wp.build_plan(tmp_path / "plan.docx", doc)
    assert check_path(path).status == CheckStatus.WRONG_TEMPLATE
    assert [i.code for i in check_path(path).issues if i.severity.value == "error"] == ["template.unknown"]
    sub = check_path(path, CheckOptions(level="thcs"))
    assert sub.level == "thcs" and len(sub.rows) == 4
    # the file's name, when the school's does not say
    named = wp.build_plan(tmp_path / "KH-CLGD-THPT-Colette.docx", doc)
    assert check_path(named).level == "thpt"


# --------------------------------------------------------------------------- .doc and .odt


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["doc:MS Word 97", "odt"])
def test_a_doc_or_odt_made_by_libreoffice_reads_the_same(tmp_path, fmt):
    src = wp.build_plan(tmp_path / "ke-hoach.docx", wp.seed_001())
    made = convert(src, fmt, tmp_path / "out")
    assert sniff(made).kind == fmt.split(":")[0]
    sub = check_path(made)
    assert sub.source_kind == "word" and sub.kind == fmt.split(":")[0]
    assert officer_rows(sub) == SEED_001_ROWS


def test_an_odt_without_libreoffice_is_one_clear_line(tmp_path, monkeypatch):
    from kcl_xlsx.intake import word_convert

    odt = tmp_path / "ke-hoach.odt"
    with zipfile.ZipFile(odt, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
                                   'office:1.0"><office:body/></office:document-content>')
    monkeypatch.setattr(word_convert, "find_soffice", lambda: None)
    sub = check_path(odt)
    assert [(i.code, i.severity.value) for i in sub.issues] == [("word.converter_missing", "error")]
    assert sub.issues[0].message == ("Tệp " + str(odt) + " là văn bản OpenDocument (.odt); cần LibreOffice để chuyển "
                                     "sang .docx nhưng máy chưa cài nên chưa đọc được")
    assert sub.status == CheckStatus.UNREADABLE and sub.source_kind == "word"


# --------------------------------------------------------------------------- the commands


def test_kcl_xlsx_check_on_a_docx_prints_vietnamese_positions(built):
    res = CliRunner().invoke(app, ["check", str(built["seed_000"])])
    assert res.exit_code == 1, res.output  # an error: as for a workbook with errors
    assert "Cần sửa (1 lỗi" in res.output and "Traceback" not in res.output
    table = CliRunner().invoke(app, ["check", "--format", "csv", str(built["seed_000"])])
    assert table.exit_code == 1
    errors = [r for r in csv.DictReader(io.StringIO(table.stdout.lstrip("\ufeff"))) if r["severity"] == "error"]
    assert [(r["code"], r["sheet"], r["row"], r["column"], r["message"]) for r in errors] == [
        ("field.required", "Bảng 2", "4", "Kết quả cần đạt (so với hiện trạng)",
         "Bảng 2, dòng 4, cột Kết quả cần đạt (so với hiện trạng): Thiếu Kết quả cần đạt")]
    ok = CliRunner().invoke(app, ["check", "--format", "json", str(built["seed_003"])])
    assert ok.exit_code == 0, ok.output
    records = json.loads(ok.stdout)
    assert not [r for r in records if r["severity"] == "error"]
    assert {(r["sheet"], r["row"]) for r in records if r["code"] == "owner.split"} == {("Bảng 2", 4), ("Bảng 2", 9)}


def test_word_files_in_a_zip_attachment_are_checked(tmp_path, built):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "thu.zip", "w") as zf:
        for name in ("plan.docx", "plan.doc", "plan.odt", "ghi-chu.txt"):
            zf.writestr(name, built["seed_003"].read_bytes())
    found = {e.name: e.kind for e in entries.walk([inbox], tmp_path / "tmp", 2**25, relative_to=inbox)}
    assert found["thu.zip!plan.docx"] == found["thu.zip!plan.doc"] == found["thu.zip!plan.odt"] == entries.FILE
    assert found["thu.zip!ghi-chu.txt"] == entries.SKIPPED


def test_the_ledger_keeps_the_source_kind_and_reads_old_rows(tmp_path, built):
    sub = check_path(built["seed_003"])
    with Ledger(tmp_path / "l.sqlite") as led:
        led.record(sub, "plan.docx", 1, 1)
        row = led.all()[0]
        assert submission_from_row(row).source_kind == "word"
        # a ledger written before source kinds: its submissions are workbooks
        meta = json.loads(row["submission_json"])
        del meta["source_kind"]
        led.conn.execute("UPDATE files SET submission_json=?", (json.dumps(meta),))
        assert submission_from_row(led.all()[0]).source_kind == "workbook"


# --------------------------------------------------------------------------- collect


ROSTER = ("Mã trường,Tên trường,Cấp học\n"
          "MN-KNS,Trường Mầm non Kỹ Năng Sống,MN\n"
          "CS-COL,Trường THCS Colette,THCS\n"
          "MN-HS,Trường Mầm non Hoa Sen,MN\n"
          "MN-VA,Trường Mầm non Vắng,MN\n")


def test_collect_an_inbox_of_templates_and_word_plans(tmp_path):
    """Word plans are matched to the roster by the school's name as the document writes it
    ("TRƯỜNG MN ..." = "Trường Mầm non ..."), counted as submitted, summarised with the
    template's rows; the figures are recomputed here from the rows written above."""
    from python_calamine import CalamineWorkbook

    from kcl_xlsx.app import collect
    from kcl_xlsx.issue.issuing import TemplateFactory
    from kcl_xlsx.spec.plan_spec import Sources
    from kcl_xlsx.spec.roster import load_roster
    from kcl_xlsx.spec.sample_plans import plan_rows
    from kcl_xlsx.spec.vocab import SchoolStatus
    from tests.support.fill import fill_plan

    year = "2024-2025"
    sources = Sources.load()
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    roster = load_roster(tmp_path / "roster.csv", sources.form)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # a Word plan with an amount: 10 triệu, its source written under Điều kiện hỗ trợ khác
    doc = wp.seed_003()
    doc.rows[4] = doc.rows[4][:6] + ["10 triệu đồng", "Chi thường xuyên", None]
    wp.build_plan(inbox / "ke-hoach-truong.docx", doc)
    wp.build_plan(inbox / "colette.docx", wp.seed_000())  # an error: submitted with errors
    fac = TemplateFactory(sources, year)
    school = next(s for s in roster.schools if s.code == "MN-HS")
    data, _ = fac.make(school.level, school)
    (tmp_path / "tpl.xlsx").write_bytes(data)
    rows = plan_rows(fac.spec(school.level), 5, 7)
    fill_plan(tmp_path / "tpl.xlsx", inbox / "MN-HS.xlsx", rows, info={"preparer": "Nguyễn Văn A"})

    res = collect(inbox, tmp_path / "out" / "tong-hop.xlsx", roster=roster, year=year, jobs=2)
    status = {code: s.status for code, s in res.schools.items()}
    assert status == {"MN-KNS": SchoolStatus.SUBMITTED_VALID, "CS-COL": SchoolStatus.SUBMITTED_ERRORS,
                      "MN-HS": SchoolStatus.SUBMITTED_VALID, "MN-VA": SchoolStatus.MISSING}
    files = {f.rel: (f.school, f.match, f.sub.source_kind) for f in res.files}
    assert files["ke-hoach-truong.docx"] == ("MN-KNS", "name", "word")
    assert files["colette.docx"] == ("CS-COL", "name", "word")
    assert files["MN-HS.xlsx"][2] == "workbook"
    book = CalamineWorkbook.from_path(str(tmp_path / "out" / "tong-hop.xlsx"))
    ov = {r[0]: r[1] for r in book.get_sheet_by_name("Tổng quan").to_python() if r and isinstance(r[0], str) and len(r) > 1}
    assert ov["Số công việc/giải pháp"] == 4 + len(rows)
    assert ov["Tổng kinh phí tối đa (triệu đồng)"] == pytest.approx(10 + sum(r["budget"] or 0 for r in rows))
    assert ov["Số trường nộp hợp lệ (được tổng hợp)"] == 2
    # a second run reads every file from the ledger: the same verdicts, the source kinds kept
    again = collect(inbox, tmp_path / "out" / "lan-2.xlsx", roster=roster, year=year, jobs=2)
    assert {f.rel: f.sub.source_kind for f in again.files} == {f: k for f, (_, _, k) in files.items()}


@pytest.mark.libreoffice
def test_a_doc_is_converted_inside_the_sandboxed_workers(tmp_path):
    from kcl_xlsx.check.run import check_many

    made = convert(wp.build_plan(tmp_path / "ke-hoach.docx", wp.seed_001()), "doc:MS Word 97", tmp_path / "out")
    (path, sub), = check_many([(made, made.name)], CheckOptions(), jobs=1)
    assert sub.kind == "doc" and officer_rows(sub) == SEED_001_ROWS


# --------------------------------------------------------------------------- other layouts


def test_a_plan_table_inside_a_layout_table_and_a_table_inside_a_cell(tmp_path):
    """The plan table nested in a one-cell layout table, and a small table typed inside one
    of its cells: the plan is found (Bảng 3: the header block, the layout table, the plan),
    the inner table's lines are part of its cell's text."""
    import docx
    from docx.oxml.ns import qn

    src = wp.build_plan(tmp_path / "phang.docx", wp.seed_003())
    document = docx.Document(src)
    plan = document.tables[-1]._tbl
    support = document.tables[-1].cell(3, 7)  # Điều kiện hỗ trợ khác of the 1.1 row
    inner = support.add_table(rows=2, cols=1)
    inner.cell(0, 0).text, inner.cell(1, 0).text = "Phòng GD&ĐT", "Cha mẹ học sinh"
    layout = document.add_table(rows=1, cols=1)._tbl
    plan.addprevious(layout)
    cell = layout.find(qn("w:tr")).find(qn("w:tc"))
    cell.insert(1, plan)  # after the cell's properties, before its closing paragraph
    document.save(tmp_path / "long.docx")
    sub = check_path(tmp_path / "long.docx")
    assert [(r[0], r[10]) for r in officer_rows(sub)] == [
        ("1.1", "Không có Phòng GD&ĐT Cha mẹ học sinh"), ("3.2", "Không có"), ("3.3", "Không có"), ("5.2", "Không có")]
    assert sub.sheet == "Bảng 3" and sub.info["school_name"] == "TRƯỜNG MN KỸ NĂNG SỐNG"
    assert next(i for i in sub.issues if i.code == "owner.split").message.startswith("Bảng 3, dòng 4, cột Chủ trì")


def test_a_macro_enabled_word_plan_is_read_its_macros_never_run(tmp_path):
    src = wp.build_plan(tmp_path / "plan.docx", wp.seed_003())
    docm = tmp_path / "plan.docm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(docm, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                                    b"application/vnd.ms-word.document.macroEnabled.main+xml")
            zout.writestr(info, data)
        zout.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    sub = check_path(docm)
    assert sub.kind == "docx" and sub.status == CheckStatus.VALID and len(sub.rows) == 4
    assert "file.macro_enabled" in [i.code for i in sub.issues]


@pytest.mark.parametrize("first, top", [("I. MỨC 1, 2, 3", "II. MỨC 4"), ("Mức 1, Mức 2, Mức 3", "CÁC TIÊU CHÍ MỨC 4"),
                                        ("MỨC 1 - 3", "Mức IV")])
def test_section_rows_as_schools_word_them(tmp_path, first, top):
    doc = wp.seed_001()
    doc.rows = [wp.Section(first) if r == wp.Section("MỨC 1, 2, 3") else wp.Section(top) if r == wp.Section("MỨC 4")
                else r for r in doc.rows]
    sub = check_path(wp.build_plan(tmp_path / "plan.docx", doc))
    assert officer_rows(sub) == SEED_001_ROWS


@pytest.mark.parametrize("document, roster", [
    ("TRƯỜNG MN KỸ NĂNG SỐNG", "Trường Mầm non Kỹ Năng Sống"),
    ("TRƯỜNG THCS COLETTE", "Trường Trung học cơ sở Colette"),
    ("Trường TH Thanh Chấn", "TRƯỜNG TIỂU HỌC THANH CHẤN"),
])
def test_a_school_named_with_its_level_abbreviated_is_the_rosters(document, roster):
    from kcl_xlsx.spec.plan_spec import Sources
    from kcl_xlsx.spec.roster import name_key

    form = Sources.load().form
    assert name_key(document, form) == name_key(roster, form)
    assert name_key("TRƯỜNG MN HOA SEN", form) != name_key("Trường Tiểu học Hoa Sen", form)


@pytest.mark.libreoffice
def test_a_conversion_that_does_not_finish_is_one_clear_line(tmp_path, monkeypatch):
    from kcl_xlsx.intake import word_convert

    made = convert(wp.build_plan(tmp_path / "ke-hoach.docx", wp.seed_003()), "odt", tmp_path / "out")
    monkeypatch.setattr(word_convert, "CONVERT_TIMEOUT_S", 0.01)
    sub = check_path(made)
    assert [(i.code, i.severity.value) for i in sub.issues] == [("word.conversion_failed", "error")]
    assert "LibreOffice không xong trong 0.01 giây" in sub.issues[0].message
    assert sub.status == CheckStatus.UNREADABLE and not sub.rows


def test_collect_without_a_roster_knows_a_word_plans_school_by_its_name(tmp_path, built):
    from kcl_xlsx.app import collect
    from kcl_xlsx.collect.view import needs_action

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("seed_000", "seed_003"):
        (inbox / f"{name}.docx").write_bytes(built[name].read_bytes())
    res = collect(inbox, tmp_path / "out" / "tong-hop.xlsx", jobs=0)
    assert {code: (s.name, s.status.label) for code, s in res.schools.items()} == {
        "TRƯỜNG MN KỸ NĂNG SỐNG": ("TRƯỜNG MN KỸ NĂNG SỐNG", "Đã nộp hợp lệ"),
        "TRƯỜNG THCS COLETTE": ("TRƯỜNG THCS COLETTE", "Nộp có lỗi")}
    assert any(line.endswith(": TRƯỜNG THCS COLETTE") for line in needs_action(res))


def test_a_cost_written_no_is_no_money_without_a_warning(built):
    """"Không có" under Dự kiến kinh phí (seed 003, every row) says no money is needed: read as
    0, Không cần kinh phí, and no "read from text" warning on each row for the officer to wade through."""
    sub = check_path(built["seed_003"])
    assert [r.derived["budget_max"] for r in sub.rows] == [0.0] * 4
    assert not [i for i in sub.issues if i.code == "budget.parsed_from_text"]
