"""Rosters write levels the way offices do; the aliases come from the form data."""
from __future__ import annotations

import pytest

from kcl_xlsx.spec.roster import load_roster
from workbook_templates.errors import SpecError
from workbook_templates.form import load_form


@pytest.mark.parametrize("written, level", [
    ("THCS", "thcs"), ("Trường THCS", "thcs"), ("trung hoc co so", "thcs"), ("MN", "mam-non"),
    ("Mẫu giáo", "mam-non"), ("Cấp tiểu học", "tieu-hoc"), ("TH-THCS-THPT", "nhieu-cap"), ("THPT", "thpt"),
])
def test_level_as_offices_write_it(tmp_path, written, level):
    path = tmp_path / "r.csv"
    path.write_text(f"Mã trường,Tên trường,Cấp học\nA1,Trường A,{written}\n", encoding="utf-8")
    assert load_roster(path, load_form()).schools[0].level == level


def test_unknown_level_names_file_and_row(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Mã trường,Tên trường,Cấp học\nA1,Trường A,THCS\nA2,Trường B,Đại học\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"r\.csv: dòng 3: cấp học 'Đại học' không rõ"):
        load_roster(path, load_form())
