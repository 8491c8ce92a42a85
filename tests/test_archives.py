"""Nothing in an inbox is unaccounted: every member of every .zip attachment (nested ones
included) is an entry of the walk, on collect's Tệp sheet and files.csv with a
classification, and named by `kcl-xlsx check` (issue 14, point 2).  The archives are the
``ARCHIVES`` of tests/malformed_corpus.py."""
from __future__ import annotations

import csv
import hashlib
import time
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from kcl_xlsx.app import collect
from kcl_xlsx.cli import app
from kcl_xlsx.intake import entries
from kcl_xlsx.intake.entries import walk
from kcl_xlsx.spec.vocab import Classification
from tests import malformed_corpus as mc

YEAR = "2025-2026"
MAX_BYTES = 20 * 2**20


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """Every archive of the corpus side by side in one inbox."""
    work = tmp_path_factory.mktemp("archives")
    box = work / "hop-thu"
    box.mkdir()
    for name in mc.ARCHIVES:
        built = mc.build_archive(name, work / "built")
        built.rename(box / built.name)
    return box


def expected_names(inbox: Path) -> dict[str, tuple[str, str]]:
    """Inbox-relative entry name -> (kind, note fragment), over every archive."""
    out = {}
    for name, (builder, expected) in mc.ARCHIVES.items():
        archive = {"zip_in_zip_in_zip": "long-nhau.zip", "zip_encrypted_member": "co-mat-khau.zip",
                   "zip_10000_members": "muoi-nghin.zip", "zip_slip": "zip-slip.zip",
                   "zip_with_pdf": "cong-van.zip"}[name]
        out.update({archive + suffix: v for suffix, v in expected.items()})
    return out


@pytest.mark.parametrize("name", list(mc.ARCHIVES))
def test_walk_lists_every_member(name, tmp_path):
    path = mc.build_archive(name, tmp_path / "in")
    before = tree_state(path.parent)
    t0 = time.perf_counter()
    found = walk([path], tmp_path / "tmp", MAX_BYTES)
    assert time.perf_counter() - t0 < 10  # bounded: 10,000 members are counted, not opened
    got = {e.name[len(str(path)):]: e for e in found}
    expected = mc.ARCHIVES[name][1]
    assert len(got) == len(found)  # no two entries of the same name
    assert set(got) == set(expected)
    for suffix, (kind, note) in expected.items():
        assert got[suffix].kind == kind, suffix
        assert note in got[suffix].note, (suffix, got[suffix].note)
        if kind == entries.FILE:  # a private copy, never a path below the archive's folder
            assert got[suffix].path.is_relative_to(tmp_path / "tmp") and got[suffix].path.stat().st_size > 0
    assert tree_state(path.parent) == before


def test_zip_slip_writes_only_into_the_private_folder(tmp_path):
    path = mc.build_archive("zip_slip", tmp_path / "a" / "b" / "c")
    walk([path], tmp_path / "a" / "b" / "c" / "tmp", MAX_BYTES)
    written = {p.name for p in tmp_path.rglob("*.xlsx")}
    assert written == {"dung.xlsx"}  # the one private copy; nothing named x/y/z.xlsx anywhere


def test_nested_archives_share_one_budget(tmp_path, monkeypatch):
    """The bounds of the outer archive hold for the inner one: bytes copied out of an
    attachment are counted over all its levels."""
    path = mc.build_archive("zip_in_zip_in_zip", tmp_path / "in")
    one_plan = walk([path], tmp_path / "t1", MAX_BYTES)[1].size
    monkeypatch.setattr(entries, "MAX_ZIP_TOTAL", one_plan + 10)
    found = {e.name[len(str(path)):]: e for e in walk([path], tmp_path / "t2", MAX_BYTES)}
    assert found["!ngoai.xlsx"].kind == entries.FILE
    assert found["!b.zip"].kind == entries.SKIPPED and "quá lớn" in found["!b.zip"].note


def test_an_archive_with_a_huge_directory_is_listed_unopened(tmp_path, monkeypatch):
    """zipfile would parse a directory of millions of names in full: past a bound the
    archive is listed with its count, never opened."""
    path = mc.build_archive("zip_10000_members", tmp_path / "in")
    monkeypatch.setattr(entries, "MAX_ZIP_DIRECTORY_BYTES", 100_000)
    [only] = walk([path], tmp_path / "tmp", MAX_BYTES)
    assert (only.kind, only.name) == (entries.SKIPPED, str(path))
    assert only.note.startswith("tệp nén có 10000 mục")
    assert not (tmp_path / "tmp").exists()


def test_collect_accounts_for_every_member(inbox, tmp_path):
    before = tree_state(inbox)
    out, export = tmp_path / "o" / "tong-hop.xlsx", tmp_path / "export"
    res = collect(inbox, out, year=YEAR, jobs=0, export=export)
    expected = expected_names(inbox)
    by_rel = {f.rel: f for f in res.files}
    assert set(by_rel) == set(expected)
    for rel, (kind, note) in expected.items():
        f = by_rel[rel]
        if kind == entries.FILE:
            assert f.sub is not None and f.classification not in (Classification.SKIPPED, Classification.ARCHIVE)
        else:
            assert f.classification == (Classification.ARCHIVE if kind == entries.ARCHIVE else Classification.SKIPPED)
            assert note in f.note
    shown = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Tệp").to_python()
    on_sheet = {row[0]: row for row in shown[1:] if row and row[0] in expected}
    assert set(on_sheet) == set(expected)
    for rel, (kind, _) in expected.items():
        assert any(str(v).startswith(("Bỏ qua", "Tệp nén")) for v in on_sheet[rel]) == (kind != entries.FILE)
    with open(export / "files.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    in_csv = {r[0] for r in rows[1:]}
    assert set(expected) <= in_csv
    assert all(r[1:] and any(r[1:]) for r in rows[1:])
    assert tree_state(inbox) == before


def test_check_names_every_member(inbox):
    before = tree_state(inbox)
    res = CliRunner().invoke(app, ["check", str(inbox), "--format", "json", "--year", YEAR], catch_exceptions=False)
    assert "Traceback" not in res.stderr
    said = res.stderr
    for rel, (kind, note) in expected_names(inbox).items():
        if kind != entries.FILE:
            assert f"{inbox / rel}: " in said and note in said, rel
    assert f"{inbox / 'long-nhau.zip'}!b.zip!c.zip: bỏ qua, Bỏ qua: tệp nén lồng nhau" in said
    assert tree_state(inbox) == before


# --------------------------------------------------------------------------- any archive

import io  # noqa: E402
import zipfile  # noqa: E402

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_NAMES = st.sampled_from(["a.xlsx", "b/c.xlsx", "../d.xlsx", "/e.xlsx", "f.pdf", "g.zip", "h/i.zip", "~$j.xlsx",
                          "__MACOSX/._a.xlsx", "k.XLSX", "l.ods", "m.txt", "dir/", "a.xlsx", "n!o.xlsx"])


def _archive(draw_members, depth: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, payload in draw_members:
            if name.endswith(".zip") and depth < 4 and isinstance(payload, list):
                zf.writestr(name, _archive(payload, depth + 1))
            else:
                zf.writestr(name, payload if isinstance(payload, bytes) else b"PK\x03\x04 not really")
    return buffer.getvalue()


_MEMBERS = st.recursive(
    st.lists(st.tuples(_NAMES, st.binary(max_size=40)), max_size=6),
    lambda inner: st.lists(st.tuples(_NAMES, inner | st.binary(max_size=40)), max_size=6), max_leaves=25)


def _accounted(entry_name: str, archive: Path, found: dict[str, list], depth: int) -> None:
    """Every member of ``archive`` is an entry (the first MAX_ZIP_MEMBERS by name, the rest
    in one counted entry); an archive opened is accounted for the same way."""
    with zipfile.ZipFile(archive) as zf:
        members = [i.filename for i in zf.infolist() if not i.is_dir()]
    for member in members[:entries.MAX_ZIP_MEMBERS]:
        assert f"{entry_name}!{member}" in found, member
    for member in members[:entries.MAX_ZIP_MEMBERS]:
        for e in found[f"{entry_name}!{member}"]:
            if e.kind == entries.ARCHIVE:
                assert depth < entries.MAX_ZIP_DEPTH
                _accounted(e.name, e.path, found, depth + 1)


@pytest.mark.filterwarnings("ignore:Duplicate name")  # duplicate members are part of the test
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(_MEMBERS)
def test_any_archive_is_accounted_for_and_written_only_privately(tmp_path, members):
    import tempfile as _tf

    work = Path(_tf.mkdtemp(dir=tmp_path))
    box, private = work / "hop-thu", work / "rieng"
    box.mkdir()
    attachment = box / "dinh-kem.zip"
    attachment.write_bytes(_archive(members, 1))
    before = tree_state(box)
    found_list = walk([attachment], private, MAX_BYTES)
    found: dict[str, list] = {}
    for e in found_list:
        found.setdefault(e.name, []).append(e)
    head = found[str(attachment)][0]
    if head.kind == entries.ARCHIVE:
        _accounted(str(attachment), attachment, found, 1)
    assert tree_state(box) == before
    outside = [p for p in work.rglob("*") if p.is_file() and not p.is_relative_to(private) and
               not p.is_relative_to(box)]
    assert outside == []
    assert all(e.kind in (entries.FILE, entries.ARCHIVE, entries.SKIPPED) and (e.kind != entries.SKIPPED or e.note)
               for e in found_list)
