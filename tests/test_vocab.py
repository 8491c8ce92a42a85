"""The status vocabularies are enums with stable English codes (kcl_xlsx/spec/vocab.py) and
their Vietnamese labels are data (workbook_templates/data/labels.yaml): every code has its
label and every label its code, the labels are today's texts, a member written out is its
code on every Python version, and a damaged labels file is one clear line."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from macros_free_validation.report import Severity
from workbook_templates.errors import SpecError
from workbook_templates.labels import load_labels
from kcl_xlsx.spec.vocab import (STATUS_CLASSIFICATION, VOCABULARIES, ChangeKind, CheckStatus, Classification,
                                 Progress, SchoolStatus, Section, check_labels, label_of)

ROOT = Path(__file__).resolve().parent.parent


def test_every_member_has_a_label_and_every_label_a_member():
    found = load_labels()
    assert set(found) == set(VOCABULARIES)
    for name, cls in VOCABULARIES.items():
        assert set(found[name]) == {m.value for m in cls}, name
        for member in cls:
            assert label_of(member) == found[name][member.value]


def test_labels_are_composed_distinct_and_read_back():
    for name, cls in VOCABULARIES.items():
        shown = [label_of(m) for m in cls]
        assert len(set(shown)) == len(shown), name
        assert all(s.strip() == s and unicodedata.is_normalized("NFC", s) for s in shown), name
        if hasattr(cls, "from_label"):  # (Severity is macros_free_validation's own enum)
            assert [cls.from_label(s) for s in shown] == list(cls)
    with pytest.raises(ValueError):
        SchoolStatus.from_label("Đã nộp")


def test_labels_are_the_texts_written_today():
    # what the check prints, the feedback copy's Trạng thái, the Tệp sheet / files.csv and
    # Tình trạng nộp / schools.csv hold: changing one changes an output
    assert {m.value: m.label for m in CheckStatus} == {
        "valid": "Hợp lệ", "errors": "Cần sửa", "wrong_template": "Sai mẫu", "unreadable": "Không đọc được",
        "not_workbook": "Không phải bảng tính", "temporary": "Tệp tạm"}
    assert {m.value: m.label for m in Classification} == {
        "accepted": "Được tổng hợp", "superseded": "Bản cũ (đã có bản mới hơn)", "duplicate": "Trùng (cùng nội dung)",
        "errors": "Có lỗi (không tổng hợp)", "unmatched": "Không xác định được trường", "wrong_template": "Sai mẫu",
        "unreadable": "Không đọc được", "not_workbook": "Không phải bảng tính", "temporary": "Tệp tạm (~$)",
        "archive": "Tệp nén (đã mở)", "skipped": "Bỏ qua (không mở, xem lý do)"}
    assert [(m.value, m.label) for m in SchoolStatus] == [  # in the order the summary lists them
        ("submitted_valid", "Đã nộp hợp lệ"), ("late", "Nộp muộn"), ("submitted_errors", "Nộp có lỗi"),
        ("wrong_format", "Nộp sai định dạng"), ("missing", "Chưa nộp")]
    assert Progress.LATE.label == "Trễ hạn"
    assert [label_of(s) for s in Severity] == ["Lỗi", "Cảnh báo", "Thông tin"]
    assert [m.label for m in ChangeKind] == ["Thêm mới", "Đã bỏ", "Thay đổi"]
    assert [m.label for m in Section] == ["Mức 1, 2, 3", "Mức 4"]


def test_progress_labels_other_than_late_are_the_choice_lists():
    from workbook_templates.choices import load_choices
    from kcl_xlsx.summary.tables import progress_labels

    choices = load_choices()
    assert set(progress_labels(choices)) == {o.label for o in choices.statuses} | {Progress.LATE.label}


def test_a_rejected_status_has_its_classification():
    read_as_plans = {CheckStatus.VALID, CheckStatus.ERRORS}
    assert set(STATUS_CLASSIFICATION) == set(CheckStatus) - read_as_plans
    assert all(c.value == s.value for s, c in STATUS_CLASSIFICATION.items())


def test_a_member_written_out_is_its_code():
    m = Classification.WITH_ERRORS
    assert (str(m), f"{m}", f"{m:>8}", "%s" % m, format(m)) == ("errors", "errors", "  errors", "errors", "errors")
    assert m == "errors" and hash(m) == hash("errors") and {"errors": 1}[m] == 1
    assert json.dumps({m: SchoolStatus.LATE}) == '{"errors": "late"}'
    assert sqlite3.connect(":memory:").execute("SELECT ?", (m,)).fetchone() == ("errors",)
    assert pd.DataFrame({"c": [m.value, m]}).to_csv(index=False) == "c\nerrors\nerrors\n"
    assert CheckStatus("valid") is CheckStatus.VALID


def test_a_submission_holds_the_member():
    from kcl_xlsx.check.checker import Submission

    assert Submission("a.xlsx", status="errors").status is CheckStatus.ERRORS  # as read back from the ledger
    assert Submission("a.xlsx").status is CheckStatus.UNREADABLE


def test_the_summary_does_not_import_the_collect_run():
    code = ("import sys, kcl_xlsx.summary.tables, kcl_xlsx.collect.view; "
            "print('kcl_xlsx.collect.run' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


GOOD = load_labels()


def _yaml(data: dict) -> str:
    return "".join(f"{name}:\n" + "".join(f"  {c}: \"{t}\"\n" for c, t in codes.items()) for name, codes in data.items())


def _without(name: str, code: str | None = None) -> dict:
    data = {n: dict(c) for n, c in GOOD.items()}
    if code is None:
        del data[name]
    else:
        del data[name][code]
    return data


@pytest.mark.parametrize("text, words", [
    ("check_status: [valid, errors]\n", "phải là một bảng mã: nhãn"),
    ("check_status:\n  Valid: Hợp lệ\n", "mã 'Valid' không hợp lệ"),
    ("check_status:\n  valid: ''\n", "check_status.valid: nhãn phải là chữ"),
    ("check_status:\n  valid: Hợp lệ\n  errors: Hợp lệ\n", "nhãn trùng: Hợp lệ"),
    ("Check-Status:\n  valid: x\n", "tên bộ nhãn 'Check-Status'"),
    ("- a\n", "nội dung phải là một bảng"),
    ("check_status: {valid: [\n", "YAML sai cú pháp"),
])
def test_a_bad_labels_file_is_one_line(tmp_path, text, words):
    path = tmp_path / "labels.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_labels(path)
    assert words in str(err.value) and "\n" not in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("data, words", [
    (_without("school_status", "late"), "school_status: thiếu nhãn cho late"),
    ({**GOOD, "classification": {**GOOD["classification"], "lost": "Thất lạc"}}, "classification: mã lạ lost"),
    (_without("progress"), "thiếu bộ nhãn 'progress'"),
    ({**GOOD, "colour": {"red": "Đỏ"}}, "bộ nhãn lạ 'colour'"),
])
def test_labels_not_matching_the_codes_are_one_line(tmp_path, data, words):
    path = tmp_path / "labels.yaml"
    path.write_text(_yaml(data), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        check_labels(load_labels(path), str(path))
    assert words in str(err.value) and "\n" not in str(err.value) and str(path) in str(err.value)


def test_the_labels_written_out_again_are_accepted(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text(_yaml(GOOD), encoding="utf-8")
    assert check_labels(load_labels(path), str(path)) == GOOD
