"""Check the XML parts of .xlsx files against the ECMA-376 (transitional) schemas.

Excel refuses or "repairs" workbooks whose parts break the schema; LibreOffice is lenient,
so a workbook that opens in LibreOffice can still fail in Excel. This is our proxy for
Excel's strictness. The schemas live beside this module (``schemas/``) and are loaded with
lxml (libxml2, the same validator as ``xmllint --schema``), so no system package is needed.

usage: python3 -m tests.ooxml.validate FILE.xlsx [FILE.xlsx ...]
Prints one line per failing part and exits 1 if any part fails, 0 otherwise (2: no file given).
"""
from __future__ import annotations

import re
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).resolve().parent / "schemas"

# Part name pattern -> schema file. Parts not listed (rels, content types, themes, vba...)
# are not checked: either no published schema covers them or Excel does not care.
RULES = [
    (re.compile(r"^xl/workbook\.xml$"), "sml.xsd"),
    (re.compile(r"^xl/styles\.xml$"), "sml.xsd"),
    (re.compile(r"^xl/sharedStrings\.xml$"), "sml.xsd"),
    (re.compile(r"^xl/worksheets/sheet\d+\.xml$"), "sml.xsd"),
    (re.compile(r"^xl/comments\d+\.xml$"), "sml.xsd"),
    (re.compile(r"^xl/tables/table\d+\.xml$"), "sml.xsd"),
    (re.compile(r"^xl/pivotTables/pivotTable\d+\.xml$"), "sml.xsd"),
    (re.compile(r"^xl/pivotCache/pivotCacheDefinition\d+\.xml$"), "sml.xsd"),
    (re.compile(r"^xl/charts/chart\d+\.xml$"), "dml-chart.xsd"),
    (re.compile(r"^xl/drawings/drawing\d+\.xml$"), "dml-spreadsheetDrawing.xsd"),
    (re.compile(r"^docProps/custom\.xml$"), "shared-documentPropertiesCustom.xsd"),
    (re.compile(r"^docProps/app\.xml$"), "shared-documentPropertiesExtended.xsd"),
]

# Excel itself writes these attributes; the published XSDs do not declare them, so they
# are removed before validation (the same list as the xmllint script this module replaces).
STRIP = [
    re.compile(rb'\sxml:space="[^"]*"'),
    re.compile(rb'\smc:Ignorable="[^"]*"'),
    re.compile(rb'\sx14ac:[A-Za-z]+="[^"]*"'),
    re.compile(rb'\sxr\d*:[A-Za-z]+="[^"]*"'),
]

# Parts come from files under test, possibly hostile: no entities, no network, no DTD loads.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


@lru_cache(maxsize=None)
def schema(name: str) -> etree.XMLSchema:
    """One compiled schema per file per process (sml.xsd takes ~25 ms to compile)."""
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def schema_for(part: str) -> str | None:
    return next((s for rx, s in RULES if rx.match(part)), None)


def check_part(name: str, data: bytes) -> str | None:
    """The first problem of one part (``LINE: message``), or None when it is valid."""
    xsd = schema_for(name)
    if xsd is None:
        return None
    for rx in STRIP:
        data = rx.sub(b"", data)
    try:
        doc = etree.fromstring(data, _PARSER).getroottree()
    except etree.XMLSyntaxError as e:
        return f"{e.lineno}: not well-formed XML: {e.msg}"
    validator = schema(xsd)
    if validator.validate(doc):
        return None
    err = validator.error_log[0]
    return f"{err.line}: {err.message}"


def check(path: str | Path) -> list[str]:
    """One line per failing part of the package at ``path`` (empty: every part is valid)."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        return [f"{path}: not a zip package: {e}"]
    except OSError as e:
        return [f"{path}: cannot read: {e.strerror or e}"]
    bad = []
    with zf:
        for name in zf.namelist():
            if schema_for(name) is None:
                continue
            problem = check_part(name, zf.read(name))
            if problem:
                bad.append(f"{path}: {name}:{problem}"[:500])
    return bad


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip())
        return 2
    failures = [line for f in argv for line in check(f)]
    for line in failures:
        print(line)
    print(f"ooxml-validate: {len(argv)} file(s), {len(failures)} failing part(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
