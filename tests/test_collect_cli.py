"""What `kcl-xlsx collect` tells the officer on the terminal: the schools that need action,
by code and name (a count when the list is long), the files no school could be found for,
and one line when most files fail the same template check (a mistyped --year), with exit 1."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kcl_xlsx.cli import app
from kcl_xlsx.demo import run_demo

YEAR = "2025-2026"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "d"
    run_demo(folder, jobs=0)
    return folder


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_the_terminal_names_the_schools_that_need_action(demo, tmp_path):
    inbox = tmp_path / "hop-thu"
    shutil.copytree(demo / "2-hop-thu", inbox)
    # a plan no school of the roster claims: a copy of a school's file with its identity and
    # name gone is not possible to make simply, so take a workbook of another office's roster
    from kcl_xlsx.issue.issuing import TemplateFactory
    from kcl_xlsx.spec.plan_spec import Sources
    from kcl_xlsx.spec.roster import School

    data, _ = TemplateFactory(Sources.load(), YEAR).make("thcs", School("ZZ999", "Trường THCS Ngoài Danh Sách", "thcs"))
    (inbox / "thu-la.xlsx").write_bytes(data)
    res = invoke("collect", inbox, "-o", tmp_path / "o" / "t.xlsx", "--roster", "sample", "--year", YEAR,
                 "--jobs", "1")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    errors = next(x for x in lines if x.startswith("Nộp có lỗi ("))
    assert "TH001 Trường Tiểu học Kim Đồng" in errors  # the demo's school with mistakes (n == 2)
    missing = next(x for x in lines if x.startswith("Chưa nộp ("))
    assert "NC001 Trường TH-THCS-THPT Hy Vọng" in missing
    assert not any(x.startswith("Chú ý:") for x in lines)
    unmatched = next(x for x in lines if x.startswith("Không xác định được trường ("))
    assert "thu-la.xlsx" in unmatched


def test_a_long_list_is_cut_with_a_count(demo, tmp_path):
    from kcl_xlsx.base.text import name_list

    names = [f"CS{i:03d} Trường {i}" for i in range(25)]
    line = name_list(names, 10)
    assert line.startswith("CS000 Trường 0, ") and line.endswith("… và 15 trường khác")
    assert line.count(",") == 9


def test_a_mistyped_year_is_one_line_and_exit_1(demo, tmp_path):
    res = invoke("collect", demo / "2-hop-thu", "-o", tmp_path / "o" / "t.xlsx", "--roster", "sample",
                 "--year", "2024-2025", "--jobs", "1")
    assert res.exit_code == 1, res.output
    advice = [x for x in res.output.splitlines() if x.startswith("Chú ý:")]
    assert len(advice) == 1
    assert "năm học 2025-2026, không phải năm học 2024-2025" in advice[0] and "--year 2025-2026" in advice[0]
    # the same inbox again, unchanged: the same line, the same exit code
    again = invoke("collect", demo / "2-hop-thu", "-o", tmp_path / "o" / "t.xlsx", "--roster", "sample",
                   "--year", "2024-2025", "--jobs", "1")
    assert again.exit_code == 1 and advice[0] in again.output
