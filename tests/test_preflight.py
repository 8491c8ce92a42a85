"""The defensive front door: sniffing and pre-flight of whatever a school e-mails back.

Every file of tests/malformed_corpus.py gives exactly its one expected issue (good files
none); pre-flight never raises, whatever the bytes; the streaming scans give the same
answer whatever the chunk boundaries.  Nothing here opens a corpus file with
python-calamine (one of them aborts the interpreter): see test_sandbox.py for that.
"""
from __future__ import annotations

import io
import random
import re
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import assume, example, HealthCheck, given, settings
from hypothesis import strategies as st

from kcl_xlsx.intake import part_scanners
from kcl_xlsx.intake import preflight as pf_module
from kcl_xlsx.intake.preflight import READABLE_KINDS, Bounds, Preflight, decrypt, preflight
from kcl_xlsx.intake.sniff import OLE_MAGIC, sniff
from kcl_xlsx.spec.issues import catalogue
from macros_free_validation.report import Severity
from tests import malformed_corpus as mc
from tests.support.libreoffice import require_soffice

# The kind sniffed from each corpus file (before any decryption).
SNIFFED = {
    "good_xlsx": "xlsx", "template_40_rows": "xlsx", "good_ods_libreoffice": "ods",
    "real_xls_libreoffice": "xls", "empty_file": "empty", "lock_file": "lock_file", "pdf_named_xlsx": "pdf",
    "html_as_xls": "html", "csv_as_xls": "csv_text", "random_bytes_xlsx": "unknown",
    "pptx_like_zip": "zip_other", "too_large_file": "xlsx", "truncated_xlsx": "corrupt",
    "damaged_member_xlsx": "xlsx", "too_many_parts_xlsx": "xlsx", "encrypted_xlsx": "encrypted",
    "duplicate_part_xlsx": "xlsx", "duplicate_part_case_xlsx": "xlsx", "rels_too_large_xlsx": "xlsx",
    "rel_target_outside_xlsx": "xlsx", "rel_target_missing_xlsx": "xlsx", "workbook_part_missing_xlsx": "xlsx",
    "shared_strings_count_2_31": "xlsx", "styles_count_2_31": "xlsx",
    "shared_strings_not_utf8": "xlsx",
    "workbook_3000_sheets": "xlsx",
    "duplicate_sheet_names": "xlsx", "strings_wrong_encoding": "xlsx",
    "sheet_bom_ascii_other_encoding": "xlsx", "hyperlink_to_local_file": "xlsx",
    "default_password_xlsx": "encrypted", "xlsm_with_vba": "xlsm", "external_links_xlsx": "xlsx",
    "zip_bomb_xlsx": "xlsx", "zip_bomb_lying_sizes": "xlsx", "billion_laughs": "xlsx", "xxe_entity": "xlsx",
    "cell_at_xfd1048576": "xlsx", "dimension_claim": "xlsx", "merge_claim": "xlsx",
    "ods_repeated_content_rows": "ods", "cell_10mb": "xlsx",
}
# Files that are read in spite of their one issue.
READ_ANYWAY = {"file.macro_enabled", "file.external_links", "file.default_password", "file.local_link"}


class _Corpus:
    """Builds each corpus file once per session, on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.paths: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self.paths:
            if getattr(mc.CORPUS[name][0], "needs_libreoffice", False):
                require_soffice()
            self.paths[name] = mc.build(name, self.directory)
        return self.paths[name]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> _Corpus:
    return _Corpus(tmp_path_factory.mktemp("malformed-corpus"))


def _corpus_params():
    for name, (builder, _code) in mc.CORPUS.items():
        marks = [pytest.mark.libreoffice] if getattr(builder, "needs_libreoffice", False) else []
        yield pytest.param(name, marks=marks, id=name)


# --------------------------------------------------------------------------- the corpus


def test_the_sniff_table_covers_the_corpus():
    assert set(SNIFFED) == set(mc.CORPUS)


@pytest.mark.parametrize("name", list(_corpus_params()))
def test_corpus_file_gives_exactly_its_issue(name: str, corpus: _Corpus):
    path = corpus[name]
    expected = mc.CORPUS[name][1]
    result = preflight(path)
    assert [i.code for i in result.issues] == ([expected] if expected else [])
    assert result.ok == (expected is None or expected in READ_ANYWAY)
    if result.ok:
        assert result.kind in READABLE_KINDS
    for issue in result.issues:
        assert issue.severity == catalogue()[issue.code].severity
        assert path.name in issue.message and "\n" not in issue.message
        assert issue.hint


@pytest.mark.parametrize("name", list(_corpus_params()))
def test_sniff_reads_the_bytes_not_the_extension(name: str, corpus: _Corpus):
    assert sniff(corpus[name]).kind == SNIFFED[name]


def test_display_name_is_the_file_named_in_messages(corpus: _Corpus):
    [issue] = preflight(corpus["encrypted_xlsx"], display_name="Trường A/ke-hoach.xlsx").issues
    assert issue.file == "Trường A/ke-hoach.xlsx"
    assert issue.message == "Tệp Trường A/ke-hoach.xlsx được đặt mật khẩu mở tệp nên không đọc được."
    assert issue.hint == "Gỡ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc) rồi gửi lại."


def test_every_file_code_names_the_file_in_one_line():
    file_codes = {code: spec for code, spec in catalogue().items() if code.startswith("file.")}
    mine = {v for k, v in vars(pf_module).items() if k.isupper() and isinstance(v, str) and v.startswith("file.")}
    assert mine | {"file.parser_crashed", "file.timeout"} <= set(file_codes)
    for code in mine | {"file.parser_crashed", "file.timeout"}:
        spec = file_codes[code]
        assert "{file}" in spec.message and "\n" not in spec.message and spec.hint, code


def test_default_password_file_is_decrypted_and_read(corpus: _Corpus):
    path = corpus["default_password_xlsx"]
    result = preflight(path)
    assert (result.kind, result.ok, result.decrypt_password) == ("xlsx", True, "VelvetSweatshop")
    [issue] = result.issues
    assert issue.severity == Severity.INFO
    with zipfile.ZipFile(io.BytesIO(decrypt(path))) as zf:
        assert "xl/workbook.xml" in zf.namelist()


def test_macro_file_is_read_with_one_warning(corpus: _Corpus):
    result = preflight(corpus["xlsm_with_vba"])
    assert (result.kind, result.ok) == ("xlsm", True)
    assert [(i.code, i.severity) for i in result.issues] == [("file.macro_enabled", Severity.WARNING)]


@pytest.mark.libreoffice
def test_libreoffice_ods_with_its_huge_empty_repeats_passes(corpus: _Corpus):
    path = corpus["good_ods_libreoffice"]
    content = zipfile.ZipFile(path).read("content.xml")
    repeats = [int(n) for n in re.findall(rb'number-rows-repeated="(\d+)"', content)]
    assert max(repeats) > 1_000_000  # what the test is about: LibreOffice's own trailing rows
    assert preflight(path) == Preflight("ods", (), True)


def test_out_of_bounds_names_the_cell(corpus: _Corpus):
    [issue] = preflight(corpus["cell_at_xfd1048576"]).issues
    assert issue.cell == "XFD1048576"
    assert "XFD1048576" in issue.message and "dòng 5000, cột BL" in issue.message


# --------------------------------------------------------------------------- bounds


def _sheet_with(path: Path, sheet_data: bytes, after: bytes = b"") -> Path:
    """A good workbook whose plan sheet's <sheetData> is replaced."""
    def replace(data: bytes) -> bytes:
        start, end = data.index(b"<sheetData>"), data.index(b"</sheetData>") + len(b"</sheetData>")
        return data[:start] + b"<sheetData>" + sheet_data + b"</sheetData>" + after + data[end:]

    base = mc._plan_workbook(path.with_suffix(".base.xlsx"))
    return mc._rewrite_zip(base, path, replace={"xl/worksheets/sheet2.xml": replace})


def _codes(path: Path, bounds: Bounds = Bounds()) -> list[str]:
    return [i.code for i in preflight(path, bounds).issues]


@pytest.mark.parametrize("ref, fits", [("BL5000", True), ("A5001", False), ("BM1", False), ("BL1", True),
                                       ("A05000", True), ("XFD1", False)])
def test_the_edge_of_the_bounds(ref: str, fits: bool, tmp_path):
    path = _sheet_with(tmp_path / "edge.xlsx", f'<row r="1"><c r="{ref}"><v>1</v></c></row>'.encode())
    assert _codes(path) == ([] if fits else ["file.out_of_bounds"])


def test_empty_formatted_cells_far_away_do_not_count(tmp_path):
    """Excel writes formatting-only cells; python-calamine allocates nothing for them (measured)."""
    data = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576" ht="20" customHeight="1">' \
           b'<c r="XFD1048576" s="1"/></row>'
    assert _codes(_sheet_with(tmp_path / "formatted.xlsx", data)) == []


def test_cells_and_rows_without_r_are_placed_as_readers_place_them(tmp_path):
    rows = b"<row><c><v>1</v></c></row>" * 5001
    assert _codes(_sheet_with(tmp_path / "rows.xlsx", rows)) == ["file.out_of_bounds"]
    wide = b'<row r="3">' + b"<c><v>1</v></c>" * 65 + b"</row>"
    [issue] = preflight(_sheet_with(tmp_path / "wide.xlsx", wide)).issues
    assert (issue.code, issue.cell) == ("file.out_of_bounds", "BM3")


def test_prefixed_elements_are_scanned(tmp_path):
    data = b'<x:row r="2"><x:c r="XFD2"><x:v>1</x:v></x:c></x:row>'
    assert _codes(_sheet_with(tmp_path / "prefixed.xlsx", data)) == ["file.out_of_bounds"]


def test_a_sheet_found_only_through_the_workbook_relationships_is_scanned(tmp_path):
    rel = (b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
           b'relationships/worksheet" Target="/xl/khac/an.xml"/></Relationships>')
    sheet = b'<worksheet><sheetData><row r="1"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'
    base = mc._plan_workbook(tmp_path / "base.xlsx")
    path = mc._rewrite_zip(base, tmp_path / "routed.xlsx", add={"xl/khac/an.xml": sheet},
                           replace={"xl/_rels/workbook.xml.rels": mc._sub(b"</Relationships>", rel)})
    [issue] = preflight(path).issues
    assert (issue.code, issue.cell) == ("file.out_of_bounds", "XFD1048576")
    assert "xl/khac/an.xml" in issue.message


def test_an_understated_entry_count_does_not_hide_the_parts(corpus: _Corpus, tmp_path):
    data = bytearray(corpus["too_many_parts_xlsx"].read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8:end + 12] = (5).to_bytes(2, "little") * 2  # "5 entries on this disk, 5 in all"
    path = tmp_path / "it-phan.xlsx"
    path.write_bytes(bytes(data))
    assert _codes(path) == ["file.too_many_parts"]


def test_bounds_are_parameters(corpus: _Corpus):
    assert _codes(corpus["cell_at_xfd1048576"], Bounds(max_row=1_048_576, max_col=16_384)) == []
    result = preflight(corpus["good_xlsx"], Bounds(max_file_bytes=1000))
    assert (result.kind, [i.code for i in result.issues]) == ("xlsx", ["file.too_large"])


# --------------------------------------------------------------------------- sizes and text


def test_real_size_is_bounded_whatever_the_directory_declares(corpus: _Corpus):
    """The lying member declares 1,000 bytes; with the ratio check out of the way the real
    size bound still stops the decompression."""
    bounds = Bounds(max_ratio=1e9, max_part_uncompressed=4 * 2**20)
    [issue] = preflight(corpus["zip_bomb_lying_sizes"], bounds).issues
    assert issue.code == "file.zip_bomb" and "real size" in issue.value


def test_total_real_size_is_bounded(corpus: _Corpus):
    [issue] = preflight(corpus["good_xlsx"], Bounds(max_total_uncompressed=20_000)).issues
    assert issue.code == "file.zip_bomb"


def test_text_limit_counts_characters_not_bytes(tmp_path):
    """32,767 three-byte characters (98 KB of UTF-8) are allowed, one more is not."""
    assert _codes(mc.text_cell_xlsx(tmp_path, 32_767)) == []
    assert _codes(mc.text_cell_xlsx(tmp_path, 32_768)) == ["file.cell_too_long"]
    assert _codes(mc.text_cell_xlsx(tmp_path, 40_000, char=" ", name="blanks.xlsx")) == []


def test_text_with_entities_counts_each_entity_once(tmp_path):
    assert _codes(mc.text_cell_xlsx(tmp_path, 30_000, char="&amp;", name="amp.xlsx")) == []


def test_utf16_sheet_is_refused(tmp_path):
    sheet = '<?xml version="1.0" encoding="UTF-16"?><worksheet><sheetData/></worksheet>'.encode("utf-16")
    base = mc._plan_workbook(tmp_path / "base.xlsx")
    path = mc._rewrite_zip(base, tmp_path / "utf16.xlsx", replace={"xl/worksheets/sheet2.xml": lambda _: sheet})
    assert _codes(path) == ["file.corrupt"]


def _ods(path: Path, content: bytes, manifest_extra: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", b"<manifest:manifest>" + manifest_extra + b"</manifest:manifest>")
    return path


def _ods_rows(rows: bytes) -> bytes:
    return (b'<office:document-content><office:body><office:spreadsheet><table:table table:name="A">'
            + rows + b"</table:table></office:spreadsheet></office:body></office:document-content>")


@pytest.mark.parametrize("rows, expected", [
    (b'<table:table-row table:number-rows-repeated="1048575"><table:table-cell '
     b'table:number-columns-repeated="16384"/></table:table-row>', []),
    (b'<table:table-row table:number-rows-repeated="1048575"/><table:table-row><table:table-cell '
     b'office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>',
     ["file.out_of_bounds"]),
    (b'<table:table-row><table:table-cell table:number-columns-repeated="64" office:value-type="string">'
     b"<text:p>x</text:p></table:table-cell></table:table-row>", []),
    (b'<table:table-row><table:table-cell table:number-columns-repeated="65" office:value-type="string">'
     b"<text:p>x</text:p></table:table-cell></table:table-row>", ["file.out_of_bounds"]),
    (b'<table:table-row><table:table-cell office:value-type="float" office:value="2" '
     b'table:number-rows-spanned="6000"><text:p>2</text:p></table:table-cell></table:table-row>',
     ["file.out_of_bounds"]),
    (b'<table:table-row><table:table-cell office:value-type="float" office:value="3"/></table:table-row>'
     b'<table:table-row table:number-rows-repeated="4999"><table:table-cell/></table:table-row>', []),
])
def test_ods_repeats_count_only_with_content(rows: bytes, expected: list[str], tmp_path):
    assert _codes(_ods(tmp_path / "lap.ods", _ods_rows(rows))) == expected


def test_password_protected_ods_is_encrypted(tmp_path):
    path = _ods(tmp_path / "mat-khau.ods", _ods_rows(b""), b"<manifest:encryption-data/>")
    assert _codes(path) == ["file.encrypted"]


# --------------------------------------------------------------------------- chunk boundaries


@pytest.mark.parametrize("chunk", [1, 7, 4096])
@pytest.mark.parametrize("name", ["good_xlsx", "billion_laughs", "xxe_entity", "cell_at_xfd1048576",
                                  "dimension_claim", "merge_claim", "ods_repeated_content_rows",
                                  "external_links_xlsx", "damaged_member_xlsx"])
def test_results_do_not_depend_on_chunk_boundaries(name: str, chunk: int, corpus: _Corpus, monkeypatch):
    monkeypatch.setattr(pf_module, "CHUNK_BYTES", chunk)
    expected = mc.CORPUS[name][1]
    assert _codes(corpus[name]) == ([expected] if expected else [])


def test_a_long_cell_split_across_small_chunks_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(pf_module, "CHUNK_BYTES", 1000)
    assert _codes(mc.text_cell_xlsx(tmp_path, 32_768)) == ["file.cell_too_long"]


def test_a_declaration_is_found_at_every_split():
    text = b'<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY a "b">]><sst/>'
    for utf16 in (False, True):
        data = text.decode().encode("utf-16-le") if utf16 else text
        for cut in range(1, len(data)):
            scanner = part_scanners._DtdScanner()
            with pytest.raises(part_scanners.Reject):
                scanner.feed(data[:cut])
                scanner.feed(data[cut:])


_refs = st.builds(lambda c, r: part_scanners._col_letters(c) + str(r), st.integers(1, 8), st.integers(1, 25))
_sheet_tokens = st.one_of(
    st.integers(1, 25).map(lambda r: f'<row r="{r}" spans="1:3">'),
    st.sampled_from(["<row>", '<row spans="1:2">', "</row>", "<cols><col min=\"1\" max=\"3\"/></cols>",
                     "<c><v>1</v></c>", '<c s="2"/>', '<c t="s"><v>0</v></c>', "<x:row>", "<rowBreaks/>"]),
    _refs.map(lambda r: f'<c r="{r}"><v>1</v></c>'),
    _refs.map(lambda r: f'<c r="{r}" s="1"/>'),
    _refs.map(lambda r: f"<c r='{r}' t=\"s\"><v>0</v></c>"),
    _refs.map(lambda r: f'<x:c r="{r}"><x:v>1</x:v></x:c>'),
    _refs.map(lambda r: f'<dimension ref="A1:{r}"/>'),
    st.tuples(_refs, _refs).map(lambda p: f'<mergeCell ref="{p[0]}:{p[1]}"/>'),
)


class _PreciseOnly(part_scanners._SheetBoundsScanner):
    def is_usual(self, window: bytes) -> bool:
        return False


def _scan(scanner: part_scanners.Scanner, chunks: list[bytes]) -> tuple:
    try:
        for chunk in chunks:
            scanner.feed(chunk)
    except part_scanners.Reject as rejection:
        return rejection.code, rejection.ctx.get("cell")
    return "ok", getattr(scanner, "row", None), getattr(scanner, "col", None)


def _split(data: bytes, sizes: list[int]) -> list[bytes]:
    chunks, at = [], 0
    for size in sizes:
        chunks.append(data[at:at + size])
        at += size
    return chunks + [data[at:]]


@settings(max_examples=300, deadline=None)
@given(st.lists(_sheet_tokens, max_size=40), st.lists(st.integers(1, 60), max_size=10))
@example(tokens=['<mergeCell ref="A1:F1"/>', '<dimension ref="A1:F2"/>'], sizes=[])  # range tags in document order
def test_fast_sheet_scan_agrees_with_the_tag_by_tag_scan(tokens: list[str], sizes: list[int]):
    data = "".join(tokens).encode()
    bounds = Bounds(max_row=20, max_col=5)
    fast = _scan(part_scanners._SheetBoundsScanner(bounds), _split(data, sizes))
    precise = _scan(_PreciseOnly(bounds), [data])
    assert fast == precise


# The declared-count scan as a regex over whole tags (how it was written before it searched
# for "ount"): the reference the faster scan must agree with.
_COUNT_IN_TAG = re.compile(rb'<[^<>]*\s((?:unique)?[cC]ount)\s*=\s*["\'](\d{7,})["\']')
_count_tokens = st.sampled_from([
    b"<sst ", b"<cellXfs ", b"<c ", b">", b"<", b" ", b"\t", b"count", b"Count", b"uniqueCount", b"unique", b"xcount",
    b"=", b" = ", b'"', b"'", b"1234567", b"99999999", b"2147483648", b"12", b"/>", b"<t>", b"</t>",
    b"COUNTIF(", b"text count=",
])


@settings(max_examples=500, deadline=None)
@given(st.lists(_count_tokens, max_size=40), st.lists(st.integers(1, 30), max_size=8))
@example(tokens=[b"<sst ", b"uniqueCount", b"=", b'"', b"2147483648", b'"', b"/>"], sizes=[9])
@example(tokens=[b"<t>", b" count", b"=", b'"', b"99999999", b'"', b"</t>"], sizes=[])  # text, not a tag
def test_the_declared_count_scan_agrees_with_a_regex_over_tags(tokens: list[bytes], sizes: list[int]):
    data = b"".join(tokens)
    limit = 5_000_000
    # one count attribute per tag at most: the regex reports the last of several, the scan the first
    assume(all(len(re.findall(rb"[cC]ount\s*=", tag)) <= 1 for tag in data.split(b"<")))
    expected = any(int(m[2]) > limit for m in _COUNT_IN_TAG.finditer(data))
    outcome = _scan(part_scanners._DeclaredCountScanner(limit), _split(data, sizes))
    assert (outcome[0] == "file.declared_count") == expected


def _longest_text_node(data: bytes) -> int:
    """Reference: the longest non-blank text after a tag, on the whole document at once."""
    pieces = data.split(b"<")
    texts = [pieces[0]] + [p[p.index(b">") + 1:] if b">" in p else b"" for p in pieces[1:]]
    return max((len(t) for t in texts if t.strip()), default=0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"<", b">", b"<t>", b"</t>", b"a", b"bb", b" ", b"  ", b"xyz" * 4]), max_size=60),
       st.lists(st.integers(1, 30), max_size=10))
def test_streamed_text_length_agrees_with_the_whole_document(tokens: list[bytes], sizes: list[int]):
    data = b"".join(tokens)
    outcome = _scan(part_scanners._TextRunScanner(10), _split(data, sizes))
    assert (outcome[0] == "file.cell_too_long") == (_longest_text_node(data) > 10)


# --------------------------------------------------------------------------- never raises

_MAGICS = st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", OLE_MAGIC, b"%PDF-1.4", b"\xef\xbb\xbf<html>",
                           b"\xff\xfe", b"STT,Ten\r\n"])


def _check_never_raises(data: bytes, name: str = "tep.xlsx") -> Preflight:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(data)
        result = preflight(path)
    assert isinstance(result, Preflight)
    assert all(issue.code in catalogue() for issue in result.issues)
    assert not result.ok or result.kind in READABLE_KINDS  # workbooks and Word plans
    return result


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_MAGICS, st.binary(max_size=3000))
def test_preflight_never_raises_on_random_bytes(magic: bytes, body: bytes):
    _check_never_raises(magic + body)


_MEMBER_NAMES = st.sampled_from([
    "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
    "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/vbaProject.bin", "xl/externalLinks/externalLink1.xml",
    "mimetype", "content.xml", "META-INF/manifest.xml", "word/document.xml", "xl/media/a.png", "dir/",
]) | st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)
_FRAGMENTS = st.sampled_from([
    b'<?xml version="1.0"?>', b"<!DOCTYPE x>", b"<worksheet><sheetData>", b"</sheetData></worksheet>",
    b'<c r="A1"><v>1</v></c>', b'<c r="XFD1048576"><v>1</v></c>', b"<row>", b"</row>", b'<row r="9">', b"<c>",
    b"<", b">", b'<dimension ref="A1:B2"/>', b'<mergeCell ref="ZZZZZZZZZZZ1:A1"/>', b'<c r="A99999999999">',
    b"&amp;", "ệ".encode(), b"\x00", b"\xff\xfe", b'<table:table-row table:number-rows-repeated="99999">',
    b'<table:table-cell office:value-type="float">', b"</table:table-row>",
    b"application/vnd.oasis.opendocument.spreadsheet", b"spreadsheetml.sheet.main+xml",
    b'<Relationship Type="x/worksheet" Target="../../../etc"/>', b"encryption-data", b" " * 50,
])
_CONTENT = st.lists(_FRAGMENTS | st.binary(max_size=20), max_size=25).map(b"".join)
_XFD_CELL = b'<c r="XFD1048576"><v>1</v></c>'


@pytest.mark.filterwarnings("ignore:Duplicate name")  # duplicate members are part of the fun
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_MEMBER_NAMES, _CONTENT, st.booleans()), max_size=8),
       st.sampled_from(["none", "truncate", "flip"]), st.integers(0, 10**6))
def test_preflight_never_raises_on_random_zips(members, damage: str, where: int):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content, deflate in members:
            zf.writestr(name, content, zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)
    data = bytearray(buffer.getvalue())
    if damage == "truncate":
        data = data[: where % (len(data) + 1)]
    elif damage == "flip" and data:
        data[where % len(data)] ^= 0xFF
    result = _check_never_raises(bytes(data))
    # Safety, not just robustness: a worksheet with a value in the last cell never passes.
    sheets = [content for name, content, _ in members if name == "xl/worksheets/sheet1.xml"]
    if damage == "none" and result.kind in ("xlsx", "xlsm") and any(_XFD_CELL in c for c in sheets):
        assert not result.ok


def test_preflight_never_raises_on_a_missing_file(tmp_path):
    result = preflight(tmp_path / "khong-co.xlsx")
    assert not result.ok and [i.code for i in result.issues] == ["file.corrupt"]


def test_random_mutations_of_a_real_workbook(corpus: _Corpus):
    data = corpus["template_40_rows"].read_bytes()
    rng = random.Random(2025)
    for _ in range(150):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        _check_never_raises(bytes(mutated))
