"""Hostile and broken files a school's e-mail can bring, built in code (no binary fixtures).

Each builder takes a directory and returns the path it wrote.  ``CORPUS`` maps a name to
``(builder, expected issue code or None)``: the one issue :func:`kcl_xlsx.intake.preflight.preflight`
must report for that file (None: the file is good and must pass without any issue).

Never open ``cell_at_xfd1048576`` with python-calamine in a test process: it aborts the
interpreter (a 512 GiB allocation).  Use :mod:`kcl_xlsx.intake.sandbox`.
"""
from __future__ import annotations

import base64
import functools
import io
import random
import shutil
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import xlsxwriter
from msoffcrypto.format.ooxml import OOXMLFile

from tests.support.tools import which

Builder = Callable[[Path], Path]

SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
PLACEHOLDER = "THAY-THẾ-Ở-ĐÂY"  # a shared string the builders swap for hostile content


# --------------------------------------------------------------------------- helpers


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _plan_workbook(path: Path, rows: int = 8, criteria: int = 12) -> Path:
    """A small plan in the shape of the real template: info sheet, plan sheet with a
    header, validations, a hidden list sheet."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True, "border": 1, "text_wrap": True})
    info = wb.add_worksheet("Thông tin")
    info.write_string(0, 0, "Trường", bold)
    info.write_string(0, 1, "Trường THCS Nguyễn Trãi")
    info.write_string(1, 0, "Mã trường", bold)
    info.write_string(1, 1, "79000123")
    info.write_string(2, 0, "Ghi chú")
    info.write_string(2, 1, PLACEHOLDER)
    plan = wb.add_worksheet("Kế hoạch")
    headers = ["STT", "Tiêu chuẩn", "Tiêu chí", "Nội dung cải tiến", "Người phụ trách",
               "Nguồn kinh phí", "Thời gian", "Kinh phí (đồng)"]
    for col, text in enumerate(headers):
        plan.write_string(0, col, text, bold)
    for row in range(1, rows + 1):
        plan.write_number(row, 0, row)
        plan.write_string(row, 1, f"Tiêu chuẩn {1 + row % 5}")
        plan.write_string(row, 2, f"Tiêu chí {1 + row % 5}.{1 + row % 3}")
        plan.write_string(row, 3, f"Tổ chức bồi dưỡng chuyên môn đợt {row} cho giáo viên tổ Toán – Tin")
        plan.write_string(row, 4, "Hiệu trưởng" if row % 2 else "Tổ trưởng chuyên môn")
        plan.write_string(row, 5, "Ngân sách nhà nước")
        plan.write_string(row, 6, "Học kỳ I, năm học 2025-2026")
        plan.write_number(row, 7, 1_500_000 * row)
    plan.data_validation(1, 4, rows + 20, 4, {"validate": "list", "source": "=DanhSach!$A$1:$A$3"})
    plan.data_validation(1, 7, rows + 20, 7, {"validate": "decimal", "criteria": ">=", "value": 0})
    lists = wb.add_worksheet("DanhSach")
    for i, owner in enumerate(["Hiệu trưởng", "Phó hiệu trưởng", "Tổ trưởng chuyên môn"]):
        lists.write_string(i, 0, owner)
    for i in range(criteria):
        lists.write_string(i, 1, f"Tiêu chí {1 + i // 4}.{1 + i % 4}: Nhà trường thực hiện đầy đủ yêu cầu số {i}")
    lists.hide()
    wb.set_custom_property("kcl_template_id", "KCL-2025-THCS")
    wb.close()
    return path


def _rewrite_zip(src: Path, dst: Path, replace: dict[str, Callable[[bytes], bytes]] | None = None,
                 add: dict[str, bytes] | None = None) -> Path:
    """Copy a package, transforming some members and appending others."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in replace:
                data = replace[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def _with_base(name: str, directory: Path, **rewrite) -> Path:
    base = _plan_workbook(directory / f".base-{name}.xlsx")
    try:
        return _rewrite_zip(base, directory / name, **rewrite)
    finally:
        base.unlink()


def _sub(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def transform(data: bytes) -> bytes:
        assert old in data, f"{old!r} not found"
        return data.replace(old, new, 1)
    return transform


def _placeholder(new: bytes) -> Callable[[bytes], bytes]:
    return _sub(PLACEHOLDER.encode(), new)


# --------------------------------------------------------------------------- LibreOffice


def soffice_path() -> str | None:
    return which("soffice")


def _needs_libreoffice(builder: Builder) -> Builder:
    builder.needs_libreoffice = True  # type: ignore[attr-defined]
    return builder


def convert_with_libreoffice(src: Path, target: str, outdir: Path) -> Path:
    """``soffice --convert-to`` with a private, throw-away profile, so that it neither
    clashes with another LibreOffice running on the machine nor depends on its settings."""
    soffice = soffice_path()
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="kcl-corpus-lo-"))
    try:
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
             "--convert-to", target, "--outdir", str(outdir), str(src)],
            check=True, capture_output=True, timeout=180,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    produced = outdir / f"{src.stem}.{target.split(':')[0]}"
    if not produced.exists():
        raise RuntimeError(f"LibreOffice did not write {produced}")
    return produced


# --------------------------------------------------------------------------- good files


def good_xlsx(directory: Path) -> Path:
    return _plan_workbook(directory / "good.xlsx")


def template_40_rows(directory: Path) -> Path:
    """About the size of a real issued template (used for the preflight timing)."""
    return _plan_workbook(directory / "template-40-rows.xlsx", rows=40, criteria=400)


@_needs_libreoffice
def good_ods_libreoffice(directory: Path) -> Path:
    """A real .ods: LibreOffice writes a row "repeated 1,048,5xx times" for the empty rest
    of each sheet, which must not count as content."""
    src = _plan_workbook(directory / "ods-source.xlsx")
    return convert_with_libreoffice(src, "ods", directory / "lo-ods")


@_needs_libreoffice
def real_xls_libreoffice(directory: Path) -> Path:
    src = _plan_workbook(directory / "xls-source.xlsx")
    return convert_with_libreoffice(src, "xls", directory / "lo-xls")


# --------------------------------------------------------------------------- not workbooks


def empty_file(directory: Path) -> Path:
    return _write(directory / "empty.xlsx", b"")


def lock_file(directory: Path) -> Path:
    """Excel's owner file: user name as a counted ANSI string, then UTF-16, 165 bytes."""
    user = "Truong THCS"
    data = bytes([len(user)]) + user.encode("ascii").ljust(53) + bytes([len(user), 0]) + user.encode("utf-16-le")
    return _write(directory / "~$plan.xlsx", data.ljust(165, b"\x20"))


def pdf_named_xlsx(directory: Path) -> Path:
    return _write(directory / "ke-hoach.xlsx",
                  b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n")


def html_as_xls(directory: Path) -> Path:
    """What many web management systems export as "Excel"."""
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns="http://www.w3.org/TR/REC-html40">\n'
        '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "<!--[if gte mso 9]><xml><x:ExcelWorkbook><x:ExcelWorksheets><x:ExcelWorksheet>"
        "<x:Name>Kế hoạch</x:Name></x:ExcelWorksheet></x:ExcelWorksheets></x:ExcelWorkbook></xml><![endif]-->"
        "</head>\n<body><table border=\"1\"><tr><th>STT</th><th>Tiêu chí</th><th>Nội dung</th></tr>\n"
        "<tr><td>1</td><td>Tiêu chí 1.1</td><td>Bồi dưỡng giáo viên</td></tr></table></body></html>\n"
    )
    return _write(directory / "xuat-tu-phan-mem.xls", html.encode("utf-8"))


def csv_as_xls(directory: Path) -> Path:
    text = "STT,Tiêu chí,Nội dung cải tiến,Kinh phí\r\n1,Tiêu chí 1.1,Bồi dưỡng giáo viên,1500000\r\n"
    return _write(directory / "ke-hoach.xls", text.encode("utf-8-sig"))


def random_bytes_xlsx(directory: Path) -> Path:
    return _write(directory / "random.xlsx", random.Random(20250901).randbytes(8192))


def pptx_like_zip(directory: Path) -> Path:
    """An Office package that is neither a workbook nor a Word plan (a presentation) named .xlsx.
    (A Word document was this file until Word plans were read: tests/test_word_*.py.)"""
    path = directory / "bao-cao.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml",
                    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                    '<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.presentationml.presentation.main+xml"/></Types>')
        zf.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/relationships"/>')
        zf.writestr("ppt/presentation.xml", "<p:presentation xmlns:p=\"http://schemas.openxmlformats.org/"
                    "presentationml/2006/main\"/>")
    return path


def too_large_file(directory: Path) -> Path:
    """A real workbook of 21 MiB: a big photo pasted in (stored, it does not compress)."""
    path = _plan_workbook(directory / "qua-lon.xlsx")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/media/image1.png", random.Random(21).randbytes(21 * 2**20), zipfile.ZIP_STORED)
    return path


# --------------------------------------------------------------------------- broken packages


def truncated_xlsx(directory: Path) -> Path:
    data = _plan_workbook(directory / ".whole.xlsx").read_bytes()
    (directory / ".whole.xlsx").unlink()
    return _write(directory / "bi-cat.xlsx", data[: len(data) // 2])


def damaged_member_xlsx(directory: Path) -> Path:
    """A flipped byte inside a compressed part (bad CRC or bad deflate data)."""
    path = _plan_workbook(directory / "hong-mot-phan.xlsx")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/styles.xml")
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF
    return _write(path, bytes(data))


def too_many_parts_xlsx(directory: Path) -> Path:
    add = {f"customXml/item{i}.xml": b"<x/>" for i in range(450)}
    return _with_base("nhieu-phan.xlsx", directory, add=add)


def duplicate_part_xlsx(directory: Path) -> Path:
    """Two ``xl/workbook.xml`` members: the second names no plan sheet; which one a reader
    takes is the reader's choice, so the file is refused."""
    path = _plan_workbook(directory / "hai-workbook.xml.xlsx")
    with zipfile.ZipFile(path) as zf:
        second = zf.read("xl/workbook.xml").replace("Kế hoạch".encode(), "Trang khác".encode())
    with zipfile.ZipFile(path, "a") as zf, _quiet_duplicates():
        zf.writestr("xl/workbook.xml", second)
    return path


def duplicate_part_case_xlsx(directory: Path) -> Path:
    """The same part twice, names differing only in case (OPC part names are case-insensitive)."""
    return _with_base("hai-sheet-hoa-thuong.xlsx", directory, add={SHEET.upper(): b"<worksheet/>"})


_RELS = "xl/_rels/workbook.xml.rels"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def rels_too_large_xlsx(directory: Path) -> Path:
    """Workbook relationships of ~330 KB (what 2,000+ sheets make): too large, not "corrupt"."""
    pad = b"".join(b'<Relationship Id="rIdPad%d" Type="%s/customXml" Target="../customXml/item1.xml"/>'
                   % (i, _REL_NS.encode()) for i in range(2_600))
    return _with_base("qua-nhieu-trang.xlsx", directory, replace={_RELS: _sub(b"</Relationships>", pad + b"</Relationships>")},
                      add={"customXml/item1.xml": b"<x/>"})


def rel_target_outside_xlsx(directory: Path) -> Path:
    """A sheet relationship whose target climbs out of the package."""
    return _with_base("tro-ra-ngoai.xlsx", directory,
                      replace={_RELS: _sub(b'Target="worksheets/sheet2.xml"', b'Target="../../../../etc/sheet2.xml"')})


def rel_target_missing_xlsx(directory: Path) -> Path:
    """A sheet listed in the workbook whose relationship points at a part the package lacks."""
    rel = b'<Relationship Id="rIdMiss" Type="%s/worksheet" Target="worksheets/sheet99.xml"/></Relationships>' % (
        _REL_NS.encode())
    return _with_base("thieu-trang.xlsx", directory, replace={
        _RELS: _sub(b"</Relationships>", rel),
        "xl/workbook.xml": _sub(b"</sheets>", '<sheet name="Thiếu" sheetId="99" r:id="rIdMiss"/></sheets>'.encode())})


def workbook_part_missing_xlsx(directory: Path) -> Path:
    """Everything of a workbook but its xl/workbook.xml."""
    base = _plan_workbook(directory / ".base-no-wb.xlsx")
    path = directory / "thieu-workbook.xlsx"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != "xl/workbook.xml":
                zout.writestr(info.filename, zin.read(info))
    base.unlink()
    return path


def shared_strings_count_2_31(directory: Path) -> Path:
    """Shared strings declaring 2**31 entries: python-calamine reserves 51 GB and aborts."""
    def claim(data: bytes) -> bytes:
        import re
        return re.sub(rb'uniqueCount="\d+"', b'uniqueCount="2147483648"', data, count=1)
    return _with_base("dem-khai-bao.xlsx", directory, replace={SHARED_STRINGS: claim})


def styles_count_2_31(directory: Path) -> Path:
    """The styles part declaring 2**31 - 1 cell formats."""
    def claim(data: bytes) -> bytes:
        import re
        return re.sub(rb'<cellXfs count="\d+"', b'<cellXfs count="2147483647"', data, count=1)
    return _with_base("kieu-khai-bao.xlsx", directory, replace={"xl/styles.xml": claim})


def shared_strings_not_utf8(directory: Path) -> Path:
    """A shared string in Windows-1258 bytes where UTF-8 is declared (a hand-made export)."""
    return _with_base("khong-utf8.xlsx", directory,
                      replace={SHARED_STRINGS: _placeholder("Trường ".encode("utf-8") + b"\xd0\xe3 \xff\xfe h\xe9t")})


def workbook_3000_sheets(directory: Path) -> Path:
    """A workbook listing 3,000 sheets, all the same part (small: no part is too large)."""
    extra = b"".join(b'<sheet name="T%d" sheetId="%d" r:id="rId1"/>' % (i, 100 + i) for i in range(3000))
    return _with_base("3000-trang.xlsx", directory, replace={"xl/workbook.xml": _sub(b"</sheets>", extra + b"</sheets>")})


def duplicate_sheet_names(directory: Path) -> Path:
    """Two sheets named "Kế hoạch" (the second differing only in case), different parts."""
    def twice(data: bytes) -> bytes:
        return data.replace('name="DanhSach"'.encode(), 'name="kẾ HOẠCH"'.encode(), 1)
    return _with_base("trung-ten-trang.xlsx", directory, replace={"xl/workbook.xml": twice})


def strings_wrong_encoding(directory: Path) -> Path:
    """Shared strings with a UTF-8 byte-order mark declaring windows-1252 (its Vietnamese
    text is UTF-8): which bytes mean which letters is the reader's guess."""
    def declare(data: bytes) -> bytes:
        return b"\xef\xbb\xbf" + data.replace(b'encoding="UTF-8"', b'encoding="windows-1252"', 1)
    return _with_base("sai-ma.xlsx", directory, replace={SHARED_STRINGS: declare})


def sheet_bom_ascii_other_encoding(directory: Path) -> Path:
    """A sheet with a byte-order mark declaring ISO-8859-1 whose bytes are all ASCII: the
    same text in any of them, read as it is."""
    def declare(data: bytes) -> bytes:
        assert data.isascii()
        return b"\xef\xbb\xbf" + data.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1)
    return _with_base("bom-ascii.xlsx", directory, replace={"xl/worksheets/sheet2.xml": declare})


def hyperlink_to_local_file(directory: Path) -> Path:
    """A cell of the plan linking to a file on the school's computer (file:///C:/...)."""
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rIdH1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="file:///C:/Users/KeToan/'
            'hoa-don.pdf" TargetMode="External"/></Relationships>').encode()
    return _with_base("sieu-lien-ket.xlsx", directory, replace={
        "xl/worksheets/sheet2.xml": _sub(b"<pageMargins", b'<hyperlinks><hyperlink ref="D2" r:id="rIdH1"/></hyperlinks>'
                                                         b"<pageMargins")},
        add={"xl/worksheets/_rels/sheet2.xml.rels": rels})


def _quiet_duplicates():
    import contextlib
    import warnings

    @contextlib.contextmanager
    def quiet():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Duplicate name", UserWarning)
            yield
    return quiet()


# --------------------------------------------------------------------------- encryption


def _encrypt(src: Path, dst: Path, password: str) -> Path:
    out = io.BytesIO()
    with open(src, "rb") as f:
        OOXMLFile(f).encrypt(password, out)
    src.unlink()
    return _write(dst, out.getvalue())


def encrypted_xlsx(directory: Path) -> Path:
    return _encrypt(_plan_workbook(directory / ".plain.xlsx"), directory / "co-mat-khau.xlsx", "matkhau@2025")


def default_password_xlsx(directory: Path) -> Path:
    """Encrypted with Excel's built-in "VelvetSweatshop": readable without asking anyone."""
    return _encrypt(_plan_workbook(directory / ".plain-velvet.xlsx"), directory / "mat-khau-mac-dinh.xlsx",
                    "VelvetSweatshop")


# --------------------------------------------------------------------------- active content


def xlsm_with_vba(directory: Path) -> Path:
    path = directory / "co-macro.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Kế hoạch").write_string(0, 0, "STT")
    # A stand-in project: preflight looks at the part, never inside it.
    wb.add_vba_project(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088)), is_stream=True)
    wb.close()
    return path


def external_links_xlsx(directory: Path) -> Path:
    rel = (b'<Relationship Id="rIdExt1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
           b'relationships/externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>')
    link = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships"><externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/>'
            b'</sheetNames><sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>5</v></cell></row>'
            b'</sheetData></sheetDataSet></externalBook></externalLink>')
    link_rels = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://'
                 b'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
                 b'schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
                 b'Target="file:///C:/Users/KeToan/tong-hop.xlsx" TargetMode="External"/></Relationships>')
    override = (b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/vnd.'
                b'openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>')
    return _with_base("lien-ket-ngoai.xlsx", directory, replace={
        "xl/_rels/workbook.xml.rels": _sub(b"</Relationships>", rel),
        "[Content_Types].xml": _sub(b"</Types>", override),
        "xl/workbook.xml": _sub(b"</sheets>", b'</sheets><externalReferences><externalReference r:id="rIdExt1"/>'
                                               b"</externalReferences>"),
    }, add={"xl/externalLinks/externalLink1.xml": link,
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels})


# --------------------------------------------------------------------------- bombs


def zip_bomb_xlsx(directory: Path, megabytes: int = 300) -> Path:
    """~300 KB on disk, a worksheet of 300 MB of blanks; written streaming, never in memory."""
    base = _plan_workbook(directory / ".base-bomb.xlsx")
    path = blow_up(base, directory / "bom-nen.xlsx", SHEET, b"<sheetData>", megabytes)
    base.unlink()
    return path


def blow_up(base: Path, path: Path, part: str, after: bytes, megabytes: int = 300) -> Path:
    """``base`` copied to ``path`` with ``megabytes`` MB of blanks in ``part`` right after
    ``after`` (a worksheet's <sheetData>, a document's <w:body>): streamed, never in memory."""
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            if info.filename != part:
                zout.writestr(info.filename, zin.read(info))
                continue
            head, _, tail = zin.read(info).partition(after)
            with zout.open(part, "w") as member:
                member.write(head + after)
                blanks = b" " * 2**20
                for _ in range(megabytes):
                    member.write(blanks)
                member.write(tail)
    return path


def _patch_declared_size(data: bytearray, name: str, size: int) -> None:
    """Overwrite a member's uncompressed size in its local header and its directory entry."""
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(name)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    entry = struct.unpack_from("<I", data, data.rfind(b"PK\x05\x06") + 16)[0]  # directory start
    while data[entry:entry + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, entry + 28)
        if data[entry + 46:entry + 46 + name_len] == name.encode():
            struct.pack_into("<I", data, entry + 24, size)
            return
        entry += 46 + name_len + extra_len + comment_len
    raise AssertionError(f"{name} not in the central directory")


def zip_bomb_lying_sizes(directory: Path) -> Path:
    """The directory says the sheet is 1 KB; it really inflates to 8 MiB of blanks."""
    blanks = b" " * (8 * 2**20)
    path = _with_base("bom-noi-doi.xlsx", directory, replace={SHEET: _sub(b"<sheetData>", b"<sheetData>" + blanks)})
    data = bytearray(path.read_bytes())
    _patch_declared_size(data, SHEET, 1000)
    return _write(path, bytes(data))


def billion_laughs(directory: Path) -> Path:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    doctype = "<!DOCTYPE sst [" + "".join(entities) + "]>"

    def inject(data: bytes) -> bytes:
        head, sep, rest = data.partition(b"?>")
        return (head + sep + doctype.encode()).rstrip() + rest.replace(PLACEHOLDER.encode(), b"&lol9;", 1)

    return _with_base("billion-laughs.xlsx", directory, replace={SHARED_STRINGS: inject})


def xxe_entity(directory: Path) -> Path:
    doctype = b'<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'

    def inject(data: bytes) -> bytes:
        head, sep, rest = data.partition(b"?>")
        return head + sep + doctype + rest.replace(PLACEHOLDER.encode(), b"&xxe;", 1)

    return _with_base("xxe.xlsx", directory, replace={SHARED_STRINGS: inject})


# --------------------------------------------------------------------------- bounds


def cell_at_xfd1048576(directory: Path) -> Path:
    """One value in the last cell of the sheet: python-calamine 0.9.1 aborts the process."""
    path = directory / "o-cuoi-cung.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Kế hoạch")
    ws.write_string(0, 0, "STT")
    ws.write_number(1048575, 16383, 1)
    wb.close()
    return path


def dimension_claim(directory: Path) -> Path:
    def claim(data: bytes) -> bytes:
        start = data.index(b"<dimension ref=")
        end = data.index(b"/>", start)
        return data[:start] + b'<dimension ref="A1:XFD1048576"' + data[end:]

    return _with_base("vung-khai-bao.xlsx", directory, replace={"xl/worksheets/sheet2.xml": claim})


def merge_claim(directory: Path) -> Path:
    merge = b'</sheetData><mergeCells count="1"><mergeCell ref="A30:Z200000"/></mergeCells>'
    return _with_base("gop-o.xlsx", directory, replace={"xl/worksheets/sheet2.xml": _sub(b"</sheetData>", merge)})


def ods_repeated_content_rows(directory: Path) -> Path:
    """A hand-written .ods whose one content row is "repeated" 100,000 times."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Kế hoạch">'
        '<table:table-column table:number-columns-repeated="1024"/>'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>STT</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="1023"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="100000"><table:table-cell office:value-type="float" '
        'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    path = directory / "lap-dong.ods"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")  # first, stored
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def text_cell_xlsx(directory: Path, chars: int, char: str = "ệ", name: str | None = None) -> Path:
    """A shared string of exactly ``chars`` characters (multi-byte by default, so that a
    byte count would be wrong)."""
    text = (char * chars).encode("utf-8")
    return _with_base(name or f"o-dai-{chars}.xlsx", directory, replace={SHARED_STRINGS: _placeholder(text)})


def cell_10mb(directory: Path) -> Path:
    """10 MB of text in one cell (base64 noise: it does not compress, so it is not a bomb)."""
    noise = base64.b64encode(random.Random(7).randbytes(7_500_000))
    return _with_base("o-10mb.xlsx", directory, replace={SHARED_STRINGS: _placeholder(noise)})


# --------------------------------------------------------------------------- numbers (issue 14)
#
# A real issued template, filled with the guide's example row, whose budget cell (Kế hoạch,
# first input row) then holds what a hand-edited or generated file can: a number cell whose
# <v> is "inf", "NaN", "1e400", a subnormal, -0, a huge number; or text such as "∞".  These
# pass the pre-flight (they are well-formed workbooks): ``NUMBER_CORPUS`` maps a name to
# (builder, the one error code the check reports at that cell, or None when the plan is
# valid) and ``NUMBER_READ`` to the budget the check reads (None: dropped).

NUMBER_YEAR = "2025-2026"
NUMBER_KEY = b"khoa-phong-gd-test"
NUMBER_V1 = "2025.1"


@functools.lru_cache(maxsize=4)
def _number_template(form_version: str | None) -> bytes:
    from kcl_xlsx.issue.issuing import TemplateFactory
    from kcl_xlsx.spec.plan_spec import Sources
    from kcl_xlsx.spec.roster import School

    school = School("79000456", "Trường THCS Lê Lợi", "thcs", "Phòng GD&ĐT Quận 3")
    return TemplateFactory(Sources.load(), NUMBER_YEAR, key=NUMBER_KEY, form_version=form_version).make("thcs", school)[0]


def number_plan(directory: Path, budget: object = 7, name: str = "so.xlsx", form_version: str | None = None,
                rows: int = 1) -> Path:
    """A filled plan (the example row, ``rows`` times with different targets) with ``budget``
    typed in the first row's budget cell (text stays text)."""
    from kcl_xlsx.demo import fill_plan
    from kcl_xlsx.spec.plan_spec import Sources, example_row

    sources = Sources.load()
    example = example_row(sources.spec("thcs", NUMBER_YEAR, form_version=form_version))
    template = directory / f".mau-{form_version or 'current'}.xlsx"
    template.write_bytes(_number_template(form_version))
    filled = [{**example, "target": f"Kết quả {i + 1}", "budget": budget if i == 0 else 5} for i in range(rows)]
    try:
        return fill_plan(template, directory / name, filled, info={"preparer": "Phạm Thị Dung"},
                         form=sources.form_for(form_version) if form_version else None)
    finally:
        template.unlink()


def budget_cell(form_version: str | None = None, row: int = 0) -> str:
    """The budget cell of input row ``row`` ("K6" in form 2026.1)."""
    from kcl_xlsx.spec import layout as L
    from kcl_xlsx.spec.plan_spec import Sources
    from xlsxwriter.utility import xl_rowcol_to_cell

    form = Sources.load().form_for(form_version) if form_version else Sources.load().form
    return xl_rowcol_to_cell(L.FIRST_INPUT_ROW + row, L.PlanLayout(form).columns[form.roles.budget])


def sheet_part(package: zipfile.ZipFile, name: str) -> str:
    """The part name of the worksheet called ``name`` (through workbook.xml and its rels)."""
    import re

    workbook = package.read("xl/workbook.xml").decode("utf-8")
    rid = re.search(r'<sheet [^>]*name="' + re.escape(name) + r'"[^>]*r:id="([^"]+)"', workbook)
    rels = package.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    target = re.search(r'<Relationship [^>]*Id="' + re.escape(rid.group(1)) + r'"[^>]*Target="([^"]+)"', rels) or \
        re.search(r'<Relationship [^>]*Target="([^"]+)"[^>]*Id="' + re.escape(rid.group(1)) + '"', rels)
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def with_number_literal(path: Path, literal: str, cell: str, out: Path) -> Path:
    """``path`` with the number cell ``cell`` of Kế hoạch holding ``<v>literal</v>``."""
    import re

    with zipfile.ZipFile(path) as zf:
        part = sheet_part(zf, "Kế hoạch")

    def patch(data: bytes) -> bytes:
        new, n = re.subn(rb'(<c r="' + cell.encode() + rb'"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>" + literal.encode() + b"</v>",
                         data, count=1)
        assert n == 1, f"no number cell {cell} in {part}"
        return new

    return _rewrite_zip(path, out, replace={part: patch})


def _budget_literal(name: str, literal: str, form_version: str | None = None) -> Builder:
    def build(directory: Path) -> Path:
        plan = number_plan(directory, 7, f".{name}-base.xlsx", form_version)
        try:
            return with_number_literal(plan, literal, budget_cell(form_version), directory / f"{name}.xlsx")
        finally:
            plan.unlink()
    build.__name__ = name
    build.__doc__ = f"The budget cell holds <v>{literal}</v>" + (f" (form {form_version})" if form_version else "")
    return build


def _budget_text(name: str, text: str) -> Builder:
    def build(directory: Path) -> Path:
        return number_plan(directory, text, f"{name}.xlsx")
    build.__name__ = name
    build.__doc__ = f"The budget cell holds the text {text!r}"
    return build


NUMBER_CORPUS: dict[str, tuple[Builder, str | None]] = {
    "budget_inf": (_budget_literal("budget_inf", "inf"), "number.not_finite"),
    "budget_minus_inf": (_budget_literal("budget_minus_inf", "-inf"), "number.not_finite"),
    "budget_nan": (_budget_literal("budget_nan", "NaN"), "number.not_finite"),
    "budget_infinity_word": (_budget_literal("budget_infinity_word", "Infinity"), "number.not_finite"),
    "budget_exponent_overflow": (_budget_literal("budget_exponent_overflow", "1e400"), "number.not_finite"),
    "budget_1e308": (_budget_literal("budget_1e308", "1e308"), "budget.implausible"),
    "budget_over_ceiling": (_budget_literal("budget_over_ceiling", "50000.5"), "budget.implausible"),
    "budget_at_ceiling": (_budget_literal("budget_at_ceiling", "50000"), None),
    "budget_minus_zero": (_budget_literal("budget_minus_zero", "-0"), None),
    "budget_subnormal": (_budget_literal("budget_subnormal", "1e-320"), None),
    "budget_minus_subnormal": (_budget_literal("budget_minus_subnormal", "-1e-320"), None),
    "budget_text_infinity_sign": (_budget_text("budget_text_infinity_sign", "∞"), "field.not_a_number"),
    "budget_text_1e400": (_budget_text("budget_text_1e400", "1e400"), "field.not_a_number"),
    "budget_text_inf": (_budget_text("budget_text_inf", "inf"), "field.not_a_number"),
    "budget_text_nan": (_budget_text("budget_text_nan", "NaN"), "field.not_a_number"),
    "budget_text_huge_digits": (_budget_text("budget_text_huge_digits", "9" * 400), "field.not_a_number"),
    "budget_text_range_over_ceiling": (_budget_text("budget_text_range_over_ceiling", "40000 - 60000 triệu"),
                                       "budget.implausible"),
    "v1_budget_inf": (_budget_literal("v1_budget_inf", "inf", NUMBER_V1), "number.not_finite"),
    "v1_budget_nan": (_budget_literal("v1_budget_nan", "nan", NUMBER_V1), "number.not_finite"),
}
# the highest budget the check reads from the cell (derived budget_max: what enters the
# "tối đa" totals; None: no number)
NUMBER_READ: dict[str, float | None] = {
    "budget_inf": None, "budget_minus_inf": None, "budget_nan": None, "budget_infinity_word": None,
    "budget_exponent_overflow": None, "budget_1e308": 1e308, "budget_over_ceiling": 50000.5,
    "budget_at_ceiling": 50000.0, "budget_minus_zero": 0.0, "budget_subnormal": 0.0, "budget_minus_subnormal": 0.0,
    "budget_text_infinity_sign": None, "budget_text_1e400": None, "budget_text_inf": None, "budget_text_nan": None,
    "budget_text_huge_digits": None, "budget_text_range_over_ceiling": 60000.0,
    "v1_budget_inf": None, "v1_budget_nan": None,
}


# A number cell whose <v> is no number at all: python-calamine refuses the whole sheet, so the
# plan cannot be read; the check names the cell (file.bad_number_cell), not "parser crashed".
NUMBER_UNREADABLE: dict[str, tuple[Builder, str]] = {
    "budget_hex_literal": (_budget_literal("budget_hex_literal", "0x10"), "0x10"),
    "budget_decimal_comma_literal": (_budget_literal("budget_decimal_comma_literal", "1,5"), "1,5"),
    "budget_word_literal": (_budget_literal("budget_word_literal", "mười"), "mười"),
}


def build_number(name: str, directory: Path) -> Path:
    target = directory / name
    target.mkdir(parents=True, exist_ok=True)
    return {**NUMBER_CORPUS, **NUMBER_UNREADABLE}[name][0](target)


# --------------------------------------------------------------------------- the corpus

CORPUS: dict[str, tuple[Builder, str | None]] = {
    "good_xlsx": (good_xlsx, None),
    "template_40_rows": (template_40_rows, None),
    "good_ods_libreoffice": (good_ods_libreoffice, None),
    "real_xls_libreoffice": (real_xls_libreoffice, None),
    "empty_file": (empty_file, "file.empty"),
    "lock_file": (lock_file, "file.lock_file"),
    "pdf_named_xlsx": (pdf_named_xlsx, "file.not_spreadsheet"),
    "html_as_xls": (html_as_xls, "file.html_as_xls"),
    "csv_as_xls": (csv_as_xls, "file.csv_as_xls"),
    "random_bytes_xlsx": (random_bytes_xlsx, "file.not_spreadsheet"),
    "pptx_like_zip": (pptx_like_zip, "file.not_spreadsheet"),
    "too_large_file": (too_large_file, "file.too_large"),
    "truncated_xlsx": (truncated_xlsx, "file.corrupt"),
    "damaged_member_xlsx": (damaged_member_xlsx, "file.corrupt"),
    "too_many_parts_xlsx": (too_many_parts_xlsx, "file.too_many_parts"),
    "duplicate_part_xlsx": (duplicate_part_xlsx, "file.duplicate_part"),
    "duplicate_part_case_xlsx": (duplicate_part_case_xlsx, "file.duplicate_part"),
    "rels_too_large_xlsx": (rels_too_large_xlsx, "file.part_too_large"),
    "rel_target_outside_xlsx": (rel_target_outside_xlsx, "file.part_outside"),
    "rel_target_missing_xlsx": (rel_target_missing_xlsx, "file.part_missing"),
    "workbook_part_missing_xlsx": (workbook_part_missing_xlsx, "file.part_missing"),
    "shared_strings_count_2_31": (shared_strings_count_2_31, "file.declared_count"),
    "styles_count_2_31": (styles_count_2_31, "file.declared_count"),
    "shared_strings_not_utf8": (shared_strings_not_utf8, "file.not_utf8"),
    "workbook_3000_sheets": (workbook_3000_sheets, "file.too_many_sheets"),
    "duplicate_sheet_names": (duplicate_sheet_names, "file.duplicate_sheet"),
    "strings_wrong_encoding": (strings_wrong_encoding, "file.not_utf8"),
    "sheet_bom_ascii_other_encoding": (sheet_bom_ascii_other_encoding, None),
    "hyperlink_to_local_file": (hyperlink_to_local_file, "file.local_link"),
    "encrypted_xlsx": (encrypted_xlsx, "file.encrypted"),
    "default_password_xlsx": (default_password_xlsx, "file.default_password"),
    "xlsm_with_vba": (xlsm_with_vba, "file.macro_enabled"),
    "external_links_xlsx": (external_links_xlsx, "file.external_links"),
    "zip_bomb_xlsx": (zip_bomb_xlsx, "file.zip_bomb"),
    "zip_bomb_lying_sizes": (zip_bomb_lying_sizes, "file.zip_bomb"),
    "billion_laughs": (billion_laughs, "file.xml_entities"),
    "xxe_entity": (xxe_entity, "file.xml_entities"),
    "cell_at_xfd1048576": (cell_at_xfd1048576, "file.out_of_bounds"),
    "dimension_claim": (dimension_claim, "file.out_of_bounds"),
    "merge_claim": (merge_claim, "file.out_of_bounds"),
    "ods_repeated_content_rows": (ods_repeated_content_rows, "file.out_of_bounds"),
    "cell_10mb": (cell_10mb, "file.cell_too_long"),
}



# --------------------------------------------------------------------------- archives (attachments)
# A .zip attachment is not checked as one file: the walker (kcl_xlsx.intake.entries.walk)
# lists every member.  ``ARCHIVES`` maps a name to ``(builder, expected)``: expected maps the
# name of each entry below the attachment ("" = the attachment itself, "a!b" below it) to its
# kind and a fragment of its note.


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _plan_bytes(directory: Path, name: str = ".plan.xlsx") -> bytes:
    path = _plan_workbook(directory / name)
    try:
        return path.read_bytes()
    finally:
        path.unlink()


def zip_in_zip_in_zip(directory: Path) -> Path:
    """Three levels: the second is opened (its workbook checked), the third is only listed."""
    plan = _plan_bytes(directory)
    level3 = _zip(directory / ".c.zip", {"sau-nhat.xlsx": plan})
    level2 = _zip(directory / ".b.zip", {"giua.xlsx": plan, "c.zip": level3.read_bytes()})
    path = _zip(directory / "long-nhau.zip", {"ngoai.xlsx": plan, "b.zip": level2.read_bytes()})
    level3.unlink()
    level2.unlink()
    return path


def zip_encrypted_member(directory: Path) -> Path:
    """A member with the zip "encrypted" flag (ZipCrypto): never opened; its neighbour is."""
    path = _zip(directory / "co-mat-khau.zip", {"mo.xlsx": _plan_bytes(directory), "khoa.xlsx": b"x" * 64})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("khoa.xlsx")
    struct.pack_into("<H", data, info.header_offset + 6, info.flag_bits | 1)
    entry = struct.unpack_from("<I", data, data.rfind(b"PK\x05\x06") + 16)[0]
    while data[entry:entry + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, entry + 28)
        if data[entry + 46:entry + 46 + name_len] == b"khoa.xlsx":
            struct.pack_into("<H", data, entry + 8, info.flag_bits | 1)
        entry += 46 + name_len + extra_len + comment_len
    return _write(path, bytes(data))


def zip_10000_members(directory: Path) -> Path:
    """10,000 tiny members: the first ones listed one by one, the rest counted in one entry."""
    return _zip(directory / "muoi-nghin.zip", {f"tep-{i:05d}.txt": b"" for i in range(10_000)}, zipfile.ZIP_STORED)


def zip_slip(directory: Path) -> Path:
    """Member names that would land outside the folder they were extracted into."""
    plan = _plan_bytes(directory)
    return _zip(directory / "zip-slip.zip", {"../../x.xlsx": plan, "/etc/y.xlsx": plan, "..\\..\\z.xlsx": plan,
                                            "dung.xlsx": plan})


def zip_with_pdf(directory: Path) -> Path:
    return _zip(directory / "cong-van.zip", {
        "cong-van.pdf": b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n",
        "ke-hoach.xlsx": _plan_bytes(directory)})


_SKIP = "skipped"
ARCHIVES: dict[str, tuple[Builder, dict[str, tuple[str, str]]]] = {
    "zip_in_zip_in_zip": (zip_in_zip_in_zip, {
        "": ("archive", "1 bảng tính bên trong"), "!ngoai.xlsx": ("file", ""),
        "!b.zip": ("archive", "1 bảng tính bên trong"), "!b.zip!giua.xlsx": ("file", ""),
        "!b.zip!c.zip": (_SKIP, "tệp nén lồng nhau")}),
    "zip_encrypted_member": (zip_encrypted_member, {
        "": ("archive", "1 bảng tính bên trong, 1 mục bỏ qua"), "!mo.xlsx": ("file", ""),
        "!khoa.xlsx": (_SKIP, "mật khẩu")}),
    "zip_10000_members": (zip_10000_members, {
        "": ("archive", "0 bảng tính bên trong"),
        **{f"!tep-{i:05d}.txt": (_SKIP, "không phải bảng tính") for i in range(200)},
        "!…": (_SKIP, "còn 9800 mục nữa")}),
    "zip_slip": (zip_slip, {
        "": ("archive", "1 bảng tính bên trong, 3 mục bỏ qua"), "!dung.xlsx": ("file", ""),
        "!../../x.xlsx": (_SKIP, "ra ngoài"), "!/etc/y.xlsx": (_SKIP, "ra ngoài"),
        "!..\\..\\z.xlsx": (_SKIP, "ra ngoài")}),
    "zip_with_pdf": (zip_with_pdf, {
        "": ("archive", "1 bảng tính bên trong, 1 mục bỏ qua"), "!ke-hoach.xlsx": ("file", ""),
        "!cong-van.pdf": (_SKIP, "không phải bảng tính")}),
}


def build_archive(name: str, directory: Path) -> Path:
    target = directory / name
    target.mkdir(parents=True, exist_ok=True)
    return ARCHIVES[name][0](target)


def build(name: str, directory: Path) -> Path:
    """Build one corpus file in its own sub-directory (builders may leave helpers behind)."""
    target = directory / name
    target.mkdir(parents=True, exist_ok=True)
    return CORPUS[name][0](target)


if __name__ == "__main__":  # python tests/malformed_corpus.py OUTDIR: write them all to look at
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "malformed-corpus")
    for corpus_name in CORPUS:
        print(corpus_name, build(corpus_name, out))
