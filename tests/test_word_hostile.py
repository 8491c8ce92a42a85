"""Hostile and odd Word files: each is one clear issue on that file, no crash, no hang.

Checked the way `check` and `collect` check files: in the sandboxed worker processes
(check/run.py), so a file that crashed or hung its parser would show as such here.
"""
from __future__ import annotations

import copy
import io
import random
import time
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from msoffcrypto.format.ooxml import OOXMLFile

from kcl_xlsx.check.checker import CheckOptions
from kcl_xlsx.check.run import check_many
from kcl_xlsx.spec.vocab import CheckStatus
from tests.malformed_corpus import blow_up
from tests.support import word_plans as wp

DOCUMENT = "word/document.xml"


def _plan(folder: Path, name: str = "plan.docx") -> Path:
    return wp.build_plan(folder / name, wp.seed_003())


def _rewrite(src: Path, dst: Path, part: str, edit) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, edit(data) if info.filename == part else data)
    return dst


def zip_bomb(folder: Path) -> Path:
    """~300 KB on disk, a document.xml of 300 MB of blanks."""
    return blow_up(_plan(folder, ".base.docx"), folder / "bom-nen.docx", DOCUMENT, b"<w:body>")


def billion_laughs(folder: Path) -> Path:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    doctype = ("<!DOCTYPE w:document [" + "".join(entities) + "]>").encode()

    def inject(data: bytes) -> bytes:
        head, sep, rest = data.partition(b"?>")
        return head + sep + doctype + rest.replace("Hiệu trưởng".encode(), b"&lol9;", 1)

    return _rewrite(_plan(folder, ".base-laughs.docx"), folder / "billion-laughs.docx", DOCUMENT, inject)


def not_a_zip(folder: Path) -> Path:
    path = folder / "ke-hoach.docx"
    path.write_bytes(random.Random(13).randbytes(8192))
    return path


def encrypted(folder: Path) -> Path:
    out = io.BytesIO()
    with open(_plan(folder, ".base-enc.docx"), "rb") as f:
        OOXMLFile(f).encrypt("matkhau@2025", out)
    path = folder / "co-mat-khau.docx"
    path.write_bytes(out.getvalue())
    return path


def no_table(folder: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("ỦY BAN NHÂN DÂN QUẬN 6")
    document.add_paragraph("TRƯỜNG MN KỸ NĂNG SỐNG")
    document.add_paragraph("Kính gửi Phòng Giáo dục và Đào tạo: nhà trường xin gửi kế hoạch (bản in kèm theo).")
    path = folder / "cong-van.docx"
    document.save(path)
    return path


def two_plan_tables(folder: Path) -> Path:
    return wp.duplicate_table(_plan(folder, ".base-two.docx"), folder / "hai-bang.docx")


def five_thousand_rows(folder: Path) -> Path:
    """The plan table with 5,000 action rows (a data row copied in the XML)."""
    src = _plan(folder, ".base-long.docx")
    document = docx.Document(src)
    tbl = document.tables[-1]._tbl
    row = tbl.findall(qn("w:tr"))[-1]
    rng = random.Random(5000)
    words = "trường lớp giáo viên học sinh kế hoạch cải tiến chất lượng phòng học thiết bị năm học".split()
    for n in range(5000 - 4):
        new = copy.deepcopy(row)
        for t in new.iter(qn("w:t")):  # rows of their own (identical ones would compress like a bomb)
            t.text = f"{n} " + " ".join(rng.choice(words) for _ in range(12))
        tbl.append(new)
    path = folder / "5000-dong.docx"
    document.save(path)
    return path


CORPUS = {
    # maker: (the one issue's code, its severity, the file's status)
    zip_bomb: ("file.zip_bomb", "error", CheckStatus.UNREADABLE),
    billion_laughs: ("file.xml_entities", "error", CheckStatus.UNREADABLE),
    not_a_zip: ("file.not_spreadsheet", "error", CheckStatus.NOT_WORKBOOK),
    encrypted: ("file.encrypted", "error", CheckStatus.UNREADABLE),
    no_table: ("word.no_plan_table", "error", CheckStatus.NOT_WORKBOOK),
    two_plan_tables: ("word.two_plan_tables", "error", CheckStatus.ERRORS),
    five_thousand_rows: ("word.table_too_long", "error", CheckStatus.ERRORS),
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    files = {make: make(folder) for make in CORPUS}
    started = time.monotonic()
    subs = dict(check_many([(p, p.name) for p in files.values()], CheckOptions(), jobs=2))
    return {make: subs[p] for make, p in files.items()}, time.monotonic() - started


@pytest.mark.parametrize("make", list(CORPUS), ids=[m.__name__ for m in CORPUS])
def test_each_hostile_word_file_is_one_clear_issue(checked, make):
    subs, _ = checked
    sub = subs[make]
    code, severity, status = CORPUS[make]
    serious = [(i.code, i.severity.value) for i in sub.issues if i.severity.value in ("error", "warning")]
    assert serious == [(code, severity)], [i.message for i in sub.issues]
    assert sub.status == status
    assert not sub.rows
    message = next(i.message for i in sub.issues if i.code == code)
    assert "Traceback" not in message and message[:1].isupper()


def test_the_corpus_is_checked_quickly(checked):
    _, seconds = checked
    assert seconds < 45, f"{seconds:.1f} s for {len(CORPUS)} files"


def test_two_tables_are_named(checked):
    subs, _ = checked
    issue = next(i for i in subs[two_plan_tables].issues if i.code == "word.two_plan_tables")
    assert issue.value == "Bảng 2, Bảng 3"
    too_long = next(i for i in subs[five_thousand_rows].issues if i.code == "word.table_too_long")
    # the seed's eight rows under the header (group rows included) and the 4,996 added
    assert too_long.message == "Bảng 2: bảng kế hoạch có 5004 dòng, quá 300 dòng của một kế hoạch; chưa đọc bảng này"
