"""The fast paths of checking give exactly the answers of the slower paths they stand in for.

* pre-flight: a part inflated with one zlib call (then cut into the streaming chunks) gives
  the answer of the part streamed through zipfile, on every corpus file and on damaged
  copies of a good one; ``inflate`` gives zipfile's bytes or declines; the regexes that pass
  a usual cell or range say "inside the bounds" exactly for the references inside them;
  the test for a long text node never misses one;
* metadata: the parts the pre-flight hands over give the metadata the zip gives, and
  ``parse_xml`` gives defusedxml's tree, or defusedxml's exception;
* rules: a bound rule set, which remembers verdicts per value, judges every row as a rule
  checked on its own does (1, 1.0 and True are three values, not one);
* reader: the quick skip of empty rows and the column split read what the plain loops read.
"""
from __future__ import annotations

import io
import tempfile
import xml.etree.ElementTree as StdET
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree as DefusedET
from hypothesis import given, settings
from hypothesis import strategies as st

from kcl_xlsx.intake import part_scanners
from kcl_xlsx.intake import preflight as pf_module
from kcl_xlsx.intake.readers import xlsx as reader
from kcl_xlsx.intake import sniff as sniff_module
from kcl_xlsx.intake.package_meta import read_meta, parse_xml
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.intake.preflight import Bounds, Preflight, preflight
from macros_free_validation.compile import RuleSet
from macros_free_validation.rules import PyContext, Rule
from tests import malformed_corpus as mc


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speedpaths-corpus")


def _corpus_names():
    for name, (builder, _code) in mc.CORPUS.items():
        marks = [pytest.mark.libreoffice] if getattr(builder, "needs_libreoffice", False) else []
        yield pytest.param(name, marks=marks, id=name)


def _streamed(path: Path, bounds: Bounds = Bounds()) -> Preflight:
    """The pre-flight with nothing inflated at once: every part through zipfile."""
    saved = pf_module.inflate, sniff_module.inflate
    pf_module.inflate = sniff_module.inflate = lambda data, info, limit: None
    try:
        return preflight(path, bounds)
    finally:
        pf_module.inflate, sniff_module.inflate = saved


def _same_preflight(path: Path, bounds: Bounds = Bounds()) -> Preflight:
    fast, slow = preflight(path, bounds), _streamed(path, bounds)
    assert fast == slow  # kind, issues (every field of every issue), ok, password
    assert fast.package == slow.package
    return fast


# --------------------------------------------------------------------------- pre-flight


@pytest.mark.parametrize("name", list(_corpus_names()))
def test_inflated_at_once_or_streamed_the_answer_is_the_same(name: str, corpus_dir: Path):
    _same_preflight(mc.build(name, corpus_dir))


@pytest.mark.parametrize("chunk", [7, 4096])
def test_the_chunks_are_the_streams_chunks(chunk: int, corpus_dir: Path, monkeypatch):
    monkeypatch.setattr(pf_module, "CHUNK_BYTES", chunk)
    for name in ("good_xlsx", "merge_claim", "dimension_claim", "xxe_entity", "damaged_member_xlsx"):
        _same_preflight(mc.build(name, corpus_dir / f"chunk-{chunk}"))


def test_a_part_bigger_than_the_one_call_limit_is_streamed_with_the_same_answer(tmp_path, monkeypatch):
    path = mc.text_cell_xlsx(tmp_path, 40_000)  # too long a cell: rejected either way
    small = preflight(path)
    monkeypatch.setattr(pf_module, "INFLATE_AT_ONCE_BYTES", 1000)  # every real part is "big"
    assert preflight(path) == small
    assert [i.code for i in small.issues] == ["file.cell_too_long"]


@pytest.mark.parametrize("bounds", [Bounds(ratio_floor_bytes=1000), Bounds(max_part_uncompressed=100_000),
                                    Bounds(max_total_uncompressed=150_000)])
def test_a_bound_is_crossed_at_the_same_chunk(bounds: Bounds, tmp_path):
    """A sheet of 300 KB of blanks that declares 100 bytes: the issue names the real size
    counted when the bound was crossed, so the chunks must be zipfile's."""
    path = mc._with_base("trong.xlsx", tmp_path, replace={mc.SHEET: mc._sub(b"<sheetData>", b"<sheetData>" + b" " * 300_000)})
    data = bytearray(path.read_bytes())
    mc._patch_declared_size(data, mc.SHEET, 100)
    path.write_bytes(bytes(data))
    result = _same_preflight(path, bounds)
    assert [i.code for i in result.issues] == ["file.zip_bomb"]


class _tmp_file:
    """A file holding ``data``, removed afterwards (hypothesis examples share no tmp_path)."""

    def __init__(self, data: bytes):
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "tep.xlsx"
        self.path.write_bytes(data)

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc) -> None:
        self.dir.cleanup()


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> bytes:
    return mc.good_xlsx(tmp_path_factory.mktemp("good")).read_bytes()


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_damaged_copies_get_the_same_answer(good_bytes: bytes, data):
    damaged = bytearray(good_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.one_of(st.none(), st.integers(len(damaged) // 2, len(damaged))))
    with _tmp_file(bytes(damaged[:cut])) as path:
        _same_preflight(path)


def _zip(members: list[tuple[str, bytes, int]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content, method in members:
            zf.writestr(name, content, method)
    return out.getvalue()


def test_inflate_gives_zipfiles_bytes_or_declines():
    text = b"<a>" + "Tiếng Việt ".encode() * 500 + b"</a>"
    data = bytearray(_zip([("x.xml", text, zipfile.ZIP_DEFLATED), ("y.xml", text, zipfile.ZIP_STORED),
                           ("z.xml", b"", zipfile.ZIP_DEFLATED)]))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        x, y, z = zf.infolist()
        for info in (x, y, z):
            assert sniff_module.inflate(bytes(data), info, 1 << 20) == zf.read(info)
        assert sniff_module.inflate(bytes(data), x, len(text) - 1) is None  # over the limit
        assert sniff_module.inflate(bytes(data), y, len(text) - 1) is None
    renamed = bytearray(data)
    renamed[x.header_offset + 30] = ord("q")  # the local header names another member
    assert sniff_module.inflate(bytes(renamed), x, 1 << 20) is None
    x.CRC ^= 1  # a wrong CRC
    assert sniff_module.inflate(bytes(data), x, 1 << 20) is None
    x.CRC ^= 1
    x.flag_bits |= 0x1  # encrypted
    assert sniff_module.inflate(bytes(data), x, 1 << 20) is None


def _reference_in_bounds(ref: str, max_row: int, max_col: int) -> bool:
    letters = ref.rstrip("0123456789")
    digits = ref[len(letters):]
    if not letters or not letters.isupper() or not letters.isalpha() or not digits or digits[0] == "0":
        return False
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col <= max_col and int(digits) <= max_row


_REFS = ([part_scanners._col_letters(c) + str(r) for c in (1, 2, 5, 6, 26, 27, 52, 63, 64, 65, 702, 703, 16384, 16385)
          for r in (1, 9, 10, 20, 21, 99, 100, 4999, 5000, 5001, 1048576, 1048577)]
         + ["A0", "A01", "a1", "$A$1", "A", "1", "", "AAAA1", "A1B", "A 1"])
_BOUNDS = [(5000, 64), (20, 5), (1, 1), (9, 26), (10, 27), (100, 52), (1048576, 16384)]


@pytest.mark.parametrize("max_row,max_col", _BOUNDS)
def test_the_usual_cell_and_range_patterns_know_the_bounds(max_row: int, max_col: int):
    cell = part_scanners._unusual_cell_pattern(max_row, max_col)
    usual_range = part_scanners._usual_range_pattern(max_row, max_col)
    for ref in _REFS:
        inside = _reference_in_bounds(ref, max_row, max_col)
        for tail in ('">', '" s="1"/>', '"/>'):
            assert bool(cell.search(f'<c r="{ref}{tail}'.encode())) == (not inside), ref
        assert bool(usual_range.fullmatch(ref.encode())) == inside, ref
        for other in ("A1", "ZZZZ9"):
            both = inside and _reference_in_bounds(other, max_row, max_col)
            assert bool(usual_range.fullmatch(f"{ref}:{other}".encode())) == both, (ref, other)
    for tag in (b"<c>", b"<c/>", b"<c s='1'>", b'<c  r="A1">', b"<c\tr=\"A1\">"):
        assert cell.search(tag)  # a cell tag without a plain r="..." first: not usual
    for tag in (b"<cols>", b"<cfRule>", b"<col min='1'/>"):
        assert not cell.search(tag)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"<", b">", b"a", b"bbbbbbb", b"<t>"]), max_size=80), st.integers(1, 20))
def test_a_long_piece_is_never_missed(tokens: list[bytes], limit: int):
    chunk = b"".join(tokens)
    middle = chunk.split(b"<")[1:-1]
    if any(len(piece) > limit for piece in middle):
        assert part_scanners._TextRunScanner(limit).may_hold_long_piece(chunk)


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize("name", ["good_xlsx", "template_40_rows", "xlsm_with_vba", "external_links_xlsx",
                                  "default_password_xlsx",
                                  pytest.param("good_ods_libreoffice", marks=pytest.mark.libreoffice)])
def test_handed_over_parts_give_the_metadata_of_the_zip(name: str, corpus_dir: Path):
    pf = preflight(mc.build(name, corpus_dir))
    assert pf.ok and pf.parts
    assert read_meta(pf.package, pf.kind, pf.parts) == read_meta(pf.package, pf.kind)


def test_a_part_longer_than_declared_is_not_handed_over(tmp_path):
    data = bytearray(mc.good_xlsx(tmp_path).read_bytes())
    mc._patch_declared_size(data, "docProps/app.xml", 10)
    path = tmp_path / "khai-sai.xlsx"
    path.write_bytes(bytes(data))
    pf = preflight(path)
    assert pf.ok and "docProps/app.xml" not in pf.parts
    assert read_meta(pf.package, pf.kind, pf.parts) == read_meta(pf.package, pf.kind)


def test_two_parts_of_one_name_are_refused_not_handed_over(tmp_path):
    """Issue 14: which of two parts of one name a reader takes is its own choice, so such a
    package is refused (file.duplicate_part) and nothing of it is handed to a reader."""
    path = mc.good_xlsx(tmp_path)
    with zipfile.ZipFile(path, "a") as zf, pytest.warns(UserWarning):
        zf.writestr("docProps/app.xml", b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
                                        b'2006/extended-properties"><Application>Lan thu hai</Application></Properties>')
    pf = preflight(path)
    assert not pf.ok and [i.code for i in pf.issues] == ["file.duplicate_part"]
    assert pf.package == b"" and not pf.parts


_DOCUMENTS = [
    b'<?xml version="1.0" encoding="UTF-8"?><a xmlns="urn:x" xmlns:p="urn:p" p:k="v">t<b>u</b>w<!-- c --><?pi x?></a>',
    b"<a><![CDATA[<not a tag>]]></a>",
    '<?xml version="1.0" encoding="UTF-16"?><a>Tiếng Việt</a>'.encode("utf-16"),
    '<?xml version="1.0" encoding="ISO-8859-1"?><a>caf\xe9</a>'.encode("latin-1"),
    b'<!DOCTYPE a><a>x</a>',
    b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
    b'<!DOCTYPE a SYSTEM "http://example.com/a.dtd"><a/>',
    b"<a><b></a>",
    b"",
    b"<a>&undefined;</a>",
    b'\xef\xbb\xbf<a b="1" b="2"/>',
]


@pytest.mark.parametrize("forbid_dtd", [False, True])
@pytest.mark.parametrize("document", _DOCUMENTS)
def test_parse_xml_answers_as_defusedxml(document: bytes, forbid_dtd: bool):
    def outcome(parse):
        try:
            return "tree", StdET.tostring(parse(document, forbid_dtd=forbid_dtd))
        except Exception as exc:
            return type(exc), str(exc)

    assert outcome(parse_xml) == outcome(DefusedET.fromstring)


# --------------------------------------------------------------------------- rules


def test_a_bound_rule_set_judges_each_value_on_its_own():
    rules = RuleSet((
        Rule("a.in", "in_list", "a", "not in list", params={"list": "L"}),
        Rule("a.req", "required", "a", "required"),
        Rule("a.num", "number", "a", "number"),
        Rule("a.min", "min", "a", "min", params={"min": 1}),
        Rule("b.req", "required", "b", "required unless", params={"unless_field": "a", "unless_value": "X"}),
        Rule("b.pair", "pair_in", "b", "pair", params={"key_field": "a", "keys": "K", "values": "V"}),
    ))
    ctx = PyContext(lists={"L": ["1", "True", "x"], "K": ["1", "x"], "V": ["y", "z"]})
    values = [1, 1.0, True, "1", "True", "x", "X", " ", "\u00a0", None, 0, 0.0, -0.0, "1.0", False]
    rows = [{"a": a, "b": b} for a in values for b in ("y", "z", None, "", 1)]
    bound = rules.bind(ctx)
    for row in rows + rows[::-1]:  # every value seen again once its verdict is remembered
        assert bound(row) == rules.bind(PyContext(lists=ctx.lists))(row), row


def test_the_folded_lists_are_shared_but_not_mixed_up():
    a = PyContext(lists={"owners": ["Hiệu trưởng"]})
    b = PyContext(lists={"owners": ["Hiệu trưởng", "Cô Lan"]})
    assert a.in_list("owners", "HIỆU TRƯỞNG") and b.in_list("owners", "cô lan") and not a.in_list("owners", "Cô Lan")
    unhashable = PyContext(lists={"L": [["x"], "y"]})
    assert unhashable.in_list("L", "Y")


# --------------------------------------------------------------------------- reader


def test_rows_skip_only_rows_with_nothing_in_them():
    form = Sources.load().form
    columns = {f.key: i + 1 for i, f in enumerate(form.fields)}
    width = len(form.fields) + 2
    empty = [""] * width
    text = ["", "Mức 1"] + [""] * (width - 2)
    grid = [empty[:] for _ in range(5)] + [text, empty[:], ["", 0.0] + [""] * (width - 2), ["", "  "], [], text[:3]]
    merged = [((5, 1), (6, 1))]  # "Mức 1" spans the empty row below it
    rows = reader._rows(grid, form.sheet, 5, columns, form, merged, [])
    assert [(r.row, r.cells["muc"]) for r in rows] == [(6, "Mức 1"), (7, "Mức 1"), (8, 0.0), (11, "Mức 1")]
    assert all(v is None for k, v in rows[0].cells.items() if k != "muc")


@pytest.mark.parametrize("rows", [[], [[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [4], [5, 6, 7, 8]]])
def test_columns_of_rectangular_and_ragged_grids(rows):
    width = 3
    expected = [[row[c] for row in rows if c < len(row)] for c in range(width)]
    assert reader._columns(rows, width) == expected
