"""The pivots group by their keys factorised once (tables._keyed): every pivot must be the
one the plain text columns give, whatever the keys hold (blank, missing, numbers beside
text, Vietnamese that sorts by code point)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcl_xlsx.spec.vocab import SchoolStatus
from kcl_xlsx.summary import tables
from kcl_xlsx.summary.tables import (CHANGE_COLUMNS, FILE_COLUMNS, ISSUE_COLUMNS, ROW_COLUMNS, SCHOOL_COLUMNS,
                                     PIVOT_KEYS, Tables, summarise)

TEXTS = ["", "Hiệu trưởng", "Tổ chuyên môn", "Ban giám hiệu", "Đoàn trường", "tt18", "tt19", "1", "M4.2",
         "Tiêu chuẩn 1 - A", "Chi thường xuyên", "Xã hội hóa", "Trễ hạn", "Hoàn thành"]


def _tables(rows: pd.DataFrame) -> Tables:
    codes = sorted({str(c) for c in rows["school_code"]} | {"S-none"})
    schools = pd.DataFrame({"school_code": codes, "school_name": [f"Trường {c}" for c in codes],
                            "unit": "Phòng A", "level": "thcs", "status": SchoolStatus.SUBMITTED_VALID.label,
                            "errors": 0, "warnings": 0, "source_file": [f"{c}.xlsx" for c in codes]})
    empty = {name: pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
             for name, cols in (("issues", ISSUE_COLUMNS), ("files", FILE_COLUMNS), ("changes", CHANGE_COLUMNS))}
    return Tables(rows[ROW_COLUMNS], schools[SCHOOL_COLUMNS], empty["issues"], empty["files"], empty["changes"],
                  year="2025-2026")


def _rows(draw_key, n: int, rng: np.random.Generator) -> pd.DataFrame:
    cols: dict[str, list] = {c: [f"{c} {i % 3}" for i in range(n)] for c in ROW_COLUMNS}
    for c in (*PIVOT_KEYS, "funding_source"):
        cols[c] = [draw_key(c) for _ in range(n)]
    cols["budget_min_mvnd"] = list(rng.integers(0, 50, n).astype(float))
    cols["budget_max_mvnd"] = list(rng.integers(50, 100, n).astype(float))
    cols["source_row"] = list(range(6, 6 + n))
    months = [None if i % 5 == 0 else 2025 * 12 + 8 + i % 10 for i in range(n)]
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in cols.items()})
    return frame.astype({"budget_min_mvnd": "float64", "budget_max_mvnd": "float64", "source_row": "int64"}).assign(
        start_month=pd.array(months, dtype="Int64"), end_month=pd.array(months, dtype="Int64"))


def _same(a, b) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True, obj=f.name)
        elif f.name != "context":  # "Lập lúc": the minute it was made
            assert x == y, f.name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 60), st.integers(0, 2**32 - 1), st.sampled_from(["text", "blank", "missing", "mixed"]))
def test_pivots_on_factorised_keys_equal_the_pivots_on_text(monkeypatch, n, seed, kind):
    rng = np.random.default_rng(seed)

    def key(column: str):
        value = TEXTS[rng.integers(len(TEXTS))]
        if kind == "missing" and column in ("lead", "criterion_name") and rng.random() < 0.2:
            return None
        if kind == "mixed" and column == "criterion" and rng.random() < 0.3:
            return int(rng.integers(1, 5))
        if kind == "blank" and rng.random() < 0.4:
            return ""
        return value

    t = _tables(_rows(key, n, rng))
    got = summarise(t)
    with monkeypatch.context() as m:
        m.setattr(tables, "_keyed", lambda det, columns: det)  # the plain text columns, as before
        want = summarise(t)
    _same(got, want)


def test_keyed_columns_are_categories_of_the_sorted_values_and_pivots_give_text_back():
    rows = _rows(lambda c: {"lead": "Tổ B", "school_code": "S2"}.get(c, "Ác"), 3, np.random.default_rng(1))
    rows.loc[0, "lead"], rows.loc[1, "school_code"] = "Ban A", "S1"
    keyed = tables._keyed(rows, ("lead", "school_code"))
    assert list(keyed["lead"].cat.categories) == ["Ban A", "Tổ B"]
    assert list(keyed["school_code"].cat.categories) == ["S1", "S2"]
    data = summarise(_tables(rows))
    assert list(data.by_lead["lead"]) == ["Ban A", "Tổ B"]
    assert not any(isinstance(df[c].dtype, pd.CategoricalDtype)
                   for df in (data.by_lead, data.by_school, data.by_criterion, data.by_standard,
                              data.standard_funding, data.funding_totals) for c in df.columns)


@pytest.mark.parametrize("value", [None, float("nan")])
def test_a_key_with_a_missing_value_is_left_as_text(value):
    rows = _rows(lambda c: "x", 2, np.random.default_rng(2))
    rows.loc[0, "lead"] = value
    assert tables._keyed(rows, ("lead",))["lead"].dtype == object


def _of_shown_file_by_dict(schools: pd.DataFrame, files: pd.DataFrame, column: str) -> list:
    # the row-by-row lookup _of_shown_file replaced, kept here as the reference
    known = files[files[column].astype(str) != ""]
    value = {(str(c), str(f)): str(v) for c, f, v in zip(known["school_code"], known["file"], known[column])}
    return [value.get((str(c), str(f)), "") for c, f in zip(schools["school_code"], schools["source_file"])]


def test_a_schools_shown_file_column_is_the_row_by_row_lookup():
    files = pd.DataFrame({"school_code": ["S1", "S1", "S2", "S3", None, "S4"],
                          "file": ["a.xlsx", "b.docx", "c.xlsx", "d.xlsx", "e.xlsx", "f.xlsx"],
                          "form_version": ["2026.1", "2026.2", "", "2026.2", "2026.1", "2026.1"]})
    files = pd.concat([files, files.iloc[[0]].assign(form_version="2026.3")])  # a pair twice: the last wins
    schools = pd.DataFrame({"school_code": ["S1", "S2", "S3", "S4", "S5", None],
                            "source_file": ["a.xlsx", "c.xlsx", "", "f.xlsx", float("nan"), "e.xlsx"]},
                           index=[5, 4, 3, 2, 1, 0])
    got = tables._of_shown_file(schools, files, "form_version")
    assert list(got) == _of_shown_file_by_dict(schools, files, "form_version") == ["2026.3", "", "", "2026.1", "", "2026.1"]
    assert list(got.index) == list(schools.index)
    assert list(tables._of_shown_file(schools, files.iloc[0:0], "form_version")) == [""] * 6
    assert list(tables._of_shown_file(schools, files.drop(columns="form_version"), "form_version")) == [""] * 6
