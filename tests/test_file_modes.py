"""Outputs get the mode the user's umask gives (0644 under 022), not the 0600 of the
temporary file they were written to: colleagues on a shared drive must be able to open the
summary, the templates, the feedback copies and the export."""
from __future__ import annotations

import os
import stat

import pytest

from kcl_xlsx.base.output import file_mode
from kcl_xlsx.demo import run_demo


@pytest.fixture
def umask():
    def set_to(mask: int) -> None:
        os.umask(mask)

    old = os.umask(0o022)
    yield set_to
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_every_output_of_the_demo_has_the_umask_mode(tmp_path, umask, mask, mode):
    umask(mask)
    assert file_mode() == mode
    folder = tmp_path / "demo"
    run_demo(folder, jobs=0)
    inbox = folder / "2-hop-thu"
    outputs = [p for p in folder.rglob("*") if p.is_file() and inbox not in p.parents]
    kinds = {p.suffix for p in outputs}
    assert {".xlsx", ".csv", ".parquet", ".sqlite"} <= kinds  # templates, summary, feedback, export, ledger
    wrong = {str(p.relative_to(folder)): oct(stat.S_IMODE(p.stat().st_mode)) for p in outputs
             if stat.S_IMODE(p.stat().st_mode) != mode}
    assert not wrong
    assert (folder / "1-mau-gui-truong" / "manifest.csv").exists()
    assert any(p.parent.name == "3-phan-hoi" for p in outputs)
