"""Shared fixtures: real tools (LibreOffice, Gnumeric, poppler), the OOXML schema check and
sample specs.

A test marked ``libreoffice``, ``gnumeric`` or ``poppler`` (or asking for the fixture of
the program) skips with its reason on a machine without the program; where
KCL_XLSX_REQUIRE_TOOLS=1 (set by .ci/run, after scripts/install-test-tools) it fails.
The OOXML schema check is part of the repository (tests/ooxml/) and never skips.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tools import TOOLS, require, require_marker

# Tests asking for ``ooxml_validate`` get these markers, so ``-m ooxml`` selects all of
# them; ``xmllint`` is the former name (the check used xmllint), kept for old selections.
OOXML_MARKERS = ("ooxml", "xmllint")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "ooxml_validate" in getattr(item, "fixturenames", ()):
            for name in OOXML_MARKERS:
                item.add_marker(name)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A marker is a promise that the test runs the program: check it before any fixture
    # spends time building inputs for a program that is not there.
    for marker in TOOLS:
        if item.get_closest_marker(marker):
            require_marker(marker)


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of LibreOffice's ``soffice``."""
    return require("soffice")


@pytest.fixture(scope="session")
def ssconvert() -> str:
    """Path of Gnumeric's ``ssconvert``."""
    return require("ssconvert")


@pytest.fixture(scope="session")
def pdftotext() -> str:
    """Path of poppler's ``pdftotext``."""
    return require("pdftotext")


@pytest.fixture(scope="session")
def pdftoppm() -> str:
    """Path of poppler's ``pdftoppm``."""
    return require("pdftoppm")


@pytest.fixture(scope="session")
def ooxml_validate():
    """``ooxml_validate(*paths)`` asserts every XML part passes the ECMA-376 schemas."""
    try:
        from tests.ooxml.validate import check
    except ImportError as e:  # lxml is a test dependency: a missing one is a broken set-up, not a skip
        pytest.fail(f"the OOXML schema check cannot load ({e}): python3 -m pip install '.[test]'", pytrace=False)

    def run(*paths: Path) -> None:
        failures = [line for p in paths for line in check(p)]
        assert not failures, "\n".join(failures)

    return run


@pytest.fixture(scope="session")
def sources():
    from kcl_xlsx.spec.plan_spec import Sources

    return Sources.load()
