"""The OOXML schema check of tests/ooxml: it passes a good template and rejects parts the
ECMA-376 schemas forbid, so the tests that rely on it (fixture ``ooxml_validate``) prove
something.  Note what it cannot see: ``<v>inf</v>`` in a numeric cell passes, because the
schema types ``v`` as a plain string; such values need their own tests."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from kcl_xlsx.cli import app
from tests.ooxml.validate import check

ROOT = Path(__file__).resolve().parent.parent
SHEET = "xl/worksheets/sheet1.xml"
MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ooxml") / "mau.xlsx"
    res = CliRunner().invoke(app, ["template", "--level", "thcs", "--year", "2025-2026", "-o", str(path)])
    assert res.exit_code == 0, res.output
    return path


def with_part(src: Path, dest: Path, part: str, edit: Callable[[bytes], bytes]) -> Path:
    """A copy of ``src`` whose ``part`` went through ``edit`` (which must change it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == part:
                edited = edit(data)
                assert edited != data, f"the edit did not change {part}"
                data = edited
            zout.writestr(name, data)
    return dest


def _move_before_sheet_data(element: bytes) -> Callable[[bytes], bytes]:
    def edit(xml: bytes) -> bytes:
        start = xml.index(b"<" + element)
        end = xml.index(b"/>", start) + 2
        moved, rest = xml[start:end], xml[:start] + xml[end:]
        return rest.replace(b"<sheetData>", moved + b"<sheetData>", 1)
    return edit


BROKEN = {
    # an element SpreadsheetML does not have, where only <row> may stand
    "unknown_element": (SHEET, lambda x: x.replace(b"<sheetData>", b"<sheetData><kcl/>", 1), "kcl"),
    # right elements, wrong order: Excel "repairs" a sheet whose protection precedes its data
    "element_order": (SHEET, _move_before_sheet_data(b"sheetProtection"), "sheetProtection"),
    # a row number that is not an unsigned integer
    "row_number": (SHEET, lambda x: x.replace(b'<row r="1"', b'<row r="-1"', 1), "unsignedInt"),
    # a custom property declared as a number holding text
    "typed_property": ("docProps/custom.xml",
                       lambda x: x.replace(b"<vt:lpwstr>", b"<vt:i4>x", 1).replace(b"</vt:lpwstr>", b"</vt:i4>", 1),
                       "xs:int"),
    "not_well_formed": ("xl/styles.xml", lambda x: x[:-20], "not well-formed"),
}


def test_a_template_passes(template):
    assert check(template) == []


@pytest.mark.parametrize("case", BROKEN)
def test_a_part_the_schema_forbids_fails(case, template, tmp_path):
    part, edit, words = BROKEN[case]
    bad = with_part(template, tmp_path / f"{case}.xlsx", part, edit)
    lines = check(bad)
    assert len(lines) == 1 and f": {part}:" in lines[0] and words in lines[0], lines


def test_attributes_excel_writes_are_accepted(template, tmp_path):
    """Excel's own extension attributes are not in the published schemas; they are stripped."""
    def excel_like(xml: bytes) -> bytes:
        ns = (b' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
              b' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
              b' xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision"')
        xml = xml.replace(MAIN_NS, MAIN_NS + ns + b' mc:Ignorable="x14ac xr" xr:uid="{00000000-0001-0000-0000-000000000000}"', 1)
        return xml.replace(b'<row r="1"', b'<row r="1" x14ac:dyDescent="0.25"', 1)
    assert check(with_part(template, tmp_path / "excel.xlsx", SHEET, excel_like)) == []


def test_command_line(template, tmp_path):
    bad = with_part(template, tmp_path / "bad.xlsx", SHEET, BROKEN["unknown_element"][1])
    run = subprocess.run([sys.executable, "-m", "tests.ooxml.validate", str(template), str(bad)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{bad}: {SHEET}:"), lines
    assert lines[1] == "ooxml-validate: 2 file(s), 1 failing part(s)"
    ok = subprocess.run([sys.executable, "-m", "tests.ooxml.validate", str(template)],
                        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert ok.returncode == 0 and ok.stdout == "ooxml-validate: 1 file(s), 0 failing part(s)\n", ok.stdout


def test_not_a_package(tmp_path):
    text = tmp_path / "ghi-chu.xlsx"
    text.write_text("không phải tệp Excel", encoding="utf-8")
    assert check(text) == [f"{text}: not a zip package: File is not a zip file"]
