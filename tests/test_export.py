"""`collect --export`: stable columns, UTF-8 CSV that Excel opens, Parquet with the same rows,
school text that can never become a formula, earlier exports kept."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from kcl_xlsx.demo import run_demo
from kcl_xlsx.summary.tables import ROW_COLUMNS

# the codes first (what older readers take), the Vietnamese labels of the coded columns last
EXPORTED_DETAIL = ROW_COLUMNS + ["level_label", "framework_label", "section_label"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "run"
    run_demo(folder, jobs=1)
    return folder


def test_every_table_as_csv_and_parquet(demo):
    out = demo / "4-xuat-du-lieu"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{n}.{e}" for n in ("rows", "issues", "schools", "files") for e in ("csv", "parquet"))


def test_rows_have_the_documented_columns_and_match_parquet(demo):
    out = demo / "4-xuat-du-lieu"
    raw = (out / "rows.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == EXPORTED_DETAIL
    table = pd.read_parquet(out / "rows.parquet")
    assert list(table.columns) == EXPORTED_DETAIL and len(table) == len(rows) > 0
    assert {r["school_code"] for r in rows} == set(table["school_code"])
    assert any("Tiêu chuẩn" in r["standard"] for r in rows)  # Vietnamese intact


def test_formula_like_text_is_neutralised_in_csv(tmp_path):
    from kcl_xlsx.summary.export import write_csv

    path = tmp_path / "x.csv"
    write_csv(pd.DataFrame({"actions": ["=HYPERLINK(\"http://x\")", "+84 912", "@SUM(A1)", "- gạch đầu dòng", "bình thường",
                                        "\t=1", "x =1"],
                            "target": ["a", "b", "c", "d", "e", "f", "g"]}),  # nothing risky: left as it is
              path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert [r["actions"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'+84 912", "'@SUM(A1)", "'- gạch đầu dòng",
                                            "bình thường", "'\t=1", "x =1"]
    assert [r["target"] for r in rows] == list("abcdefg")


def test_earlier_export_is_kept(tmp_path):
    from kcl_xlsx.summary.export import _write

    target = tmp_path / "rows.csv"
    _write(target, lambda p: p.write_text("một", encoding="utf-8"))
    _write(target, lambda p: p.write_text("hai", encoding="utf-8"))
    assert target.read_text(encoding="utf-8") == "hai"
    kept = [p for p in tmp_path.iterdir() if p.name != "rows.csv"]
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "một"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kcl-")]


def test_chunked_writing_gives_one_table(tmp_path, monkeypatch):
    """Rows are converted CHUNK_ROWS at a time: one header, every row, one schema even when
    a text column is blank in the first chunk and holds a number in a later one."""
    from kcl_xlsx.summary import export

    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    df = pd.DataFrame({"school_code": ["A", "B", "C", "D", "E"],
                       "note": pd.Series([None, None, "=1+1", 3.5, "ổn"], dtype=object),
                       "budget_max_mvnd": [1.0, 2.5, 0.0, 4.0, 5.0], "source_row": [6, 7, 8, 9, 10]})
    export.write_tables(df, tmp_path / "t.csv", tmp_path / "t.parquet")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))))
    assert [r["school_code"] for r in rows] == ["A", "B", "C", "D", "E"]  # the header once, every row
    assert [r["note"] for r in rows] == ["", "", "'=1+1", "3.5", "ổn"]
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert [None if pd.isna(v) else v for v in back["note"]] == [None, None, "=1+1", "3.5", "ổn"]  # Parquet keeps the text as it was
    assert back["budget_max_mvnd"].tolist() == [1.0, 2.5, 0.0, 4.0, 5.0] and back["source_row"].tolist() == [6, 7, 8, 9, 10]


_FIRSTS = ["=", "+", "-", "@", "\t", "\r", "'", "a", "Đ", "ệ", "１", " ", "\n", "0"]


def _risky_by_compute(column) -> bool:
    # the detection _starts_risky replaced: each text's first character, looked up
    import pyarrow as pa
    import pyarrow.compute as pc

    from kcl_xlsx.summary.export import RISKY_STARTS

    first = pc.utf8_slice_codeunits(column, 0, 1)
    return bool(pc.any(pc.is_in(first, value_set=pa.array(RISKY_STARTS))).as_py())


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(_FIRSTS), max_size=4)), max_size=30),
       st.integers(0, 5), st.integers(1, 3))
def test_risky_first_characters_are_found_as_the_compute_kernels_find_them(values, cut, pieces):
    """The CSV's formula guard reads each text's first byte from the column's buffers: a
    column of chunks, sliced (an offset into shared buffers), with nulls and empty texts,
    is judged as the slice-and-lookup kernels judged it."""
    import pyarrow as pa

    from kcl_xlsx.summary.export import _starts_risky

    array = pa.array(["pad"] * cut + values, type=pa.string()).slice(cut)  # offset > 0 when cut > 0
    step = max(1, len(values) // pieces)
    column = pa.chunked_array([array.slice(i, step) for i in range(0, len(values), step)] or [array],
                              type=pa.string())
    assert _starts_risky(column) == _risky_by_compute(column)
