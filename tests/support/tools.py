"""The external programs some tests drive, found on PATH, one rule for all of them.

Each tool has a pytest marker of the same name (registered in pyproject.toml) and a
fixture in tests/conftest.py returning its path. Without the program the test skips with
the reason; where KCL_XLSX_REQUIRE_TOOLS=1 (.ci/run, after scripts/install-test-tools) it
fails instead, so a machine that should have everything cannot pass by skipping.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import pytest

REQUIRE_ENV = "KCL_XLSX_REQUIRE_TOOLS"
INSTALL = "bash scripts/install-test-tools"


@dataclass(frozen=True)
class Tool:
    label: str                     # what a person calls it
    programs: tuple[str, ...]      # executables, each found alone; the first is the usual one
    package: str                   # the Debian package that brings them (scripts/install-test-tools)


# marker name -> tool. Alternative spellings of one program are listed in ALIASES.
TOOLS = {
    "libreoffice": Tool("LibreOffice", ("soffice",), "libreoffice-calc-nogui"),
    "gnumeric": Tool("Gnumeric", ("ssconvert",), "gnumeric"),
    "poppler": Tool("poppler", ("pdftotext", "pdftoppm"), "poppler-utils"),
}
# Some installations (e.g. the upstream LibreOffice .deb) only put `libreoffice` on PATH.
ALIASES = {"soffice": ("soffice", "libreoffice")}


def which(program: str) -> str | None:
    return next(filter(None, map(shutil.which, ALIASES.get(program, (program,)))), None)


def missing_tool(reason: str) -> None:
    """Skip the running test with ``reason``, or fail it where tools are required."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: tools are required here)", pytrace=False)
    pytest.skip(reason)


def require(program: str) -> str:
    """The path of ``program`` (one of the TOOLS' programs); skips or fails without it."""
    path = which(program)
    if path:
        return path
    tool = next(t for t in TOOLS.values() if program in t.programs)
    missing_tool(f"{tool.label} ({program}) not installed: {INSTALL} (Debian: {tool.package})")
    raise AssertionError("unreachable")  # missing_tool always raises


def require_marker(marker: str) -> None:
    """Every program of the tool behind ``marker``."""
    for program in TOOLS[marker].programs:
        require(program)
