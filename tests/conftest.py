"""Shared fixtures: real tools (LibreOffice, the OOXML schema validator) and sample specs.

A test that needs a tool skips with its reason on a machine without it; where
KCL_XLSX_REQUIRE_TOOLS=1 (set by .ci/run, which installs them) a missing tool fails.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.libreoffice import REQUIRE_ENV

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KCL_XLSX_SHARED", ROOT.parent / "shared"))
OOXML_VALIDATE = SHARED / "tools" / "ooxml-validate"


def missing_tool(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: tools are required here)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def ooxml_validate():
    """``ooxml_validate(*paths)`` asserts every XML part passes the ECMA-376 schemas."""
    if not OOXML_VALIDATE.exists():
        missing_tool(f"{OOXML_VALIDATE} not found (the shared/ folder beside the checkout)")
    if not shutil.which("xmllint"):
        missing_tool("xmllint not installed: apt-get install libxml2-utils")

    def run(*paths: Path) -> None:
        res = subprocess.run([sys.executable, str(OOXML_VALIDATE), *map(str, paths)],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr

    return run


@pytest.fixture(scope="session")
def sources():
    from kcl_xlsx.spec.plan_spec import Sources

    return Sources.load()
