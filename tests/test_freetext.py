"""Tests of kcl_xlsx.spec.freetext: reading schools' free text as a Vietnamese reader would.

The tables hold the examples of the specification and cells copied verbatim from the
real plans in /work/shared/seeds/*.txt (file name in the comment)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kcl_xlsx.spec.freetext import (
    Budget,
    Owners,
    Period,
    clean,
    find_sources,
    fold,
    match_role,
    month_ordinal_of,
    ordinal_label,
    parse_budget,
    parse_owners,
    parse_period,
)

# The funding sources, roles and abbreviations of workbook_templates/data/choices.yaml,
# copied so that these tests do not depend on another module's data.
FUNDING = {
    "Ngân sách nhà nước": "ngan_sach",
    "ngân sách": "ngan_sach",
    "nsnn": "ngan_sach",
    "kinh phí từ ngân sách nhà nước": "ngan_sach",
    "Chi thường xuyên": "chi_thuong_xuyen",
    "nguồn chi thường xuyên": "chi_thuong_xuyen",
    "Xã hội hóa": "xa_hoi_hoa",
    "xã hội hoá": "xa_hoi_hoa",
    "xhh": "xa_hoi_hoa",
    "Không cần kinh phí": "khong_can",
    "không": "khong_can",
    "không cần": "khong_can",
    "không có": "khong_can",
    "Khác": "khac",
}
ROLES = [
    "Hiệu trưởng",
    "Phó hiệu trưởng",
    "Phó hiệu trưởng phụ trách chuyên môn",
    "Ban giám hiệu",
    "Tổ trưởng chuyên môn",
    "Giáo viên",
    "Giáo viên chủ nhiệm",
    "Nhân viên",
    "Kế toán",
    "Tổng phụ trách Đội",
    "Chủ tịch Công đoàn",
    "Cha mẹ học sinh",
    "Học sinh",
]
ALIASES = {
    "HT": "Hiệu trưởng",
    "PHT": "Phó hiệu trưởng",
    "BGH": "Ban giám hiệu",
    "GV": "Giáo viên",
    "NV": "Nhân viên",
    "TTCM": "Tổ trưởng chuyên môn",
    "TPT Đội": "Tổng phụ trách Đội",
    "CMHS": "Cha mẹ học sinh",
    "HS": "Học sinh",
    "CĐCS": "Chủ tịch Công đoàn",
}
SPANS = {"Học kỳ I": (0, 4), "Học kỳ II": (5, 8), "Cả năm học": (0, 8)}


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def month(year: int, m: int) -> int:
    ordinal = month_ordinal_of(year, m)
    assert ordinal is not None
    return ordinal


# --------------------------------------------------------------------------- clean, fold


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  Hiệu\u00a0trưởng \t-\n Kế\u202ftoán\u2007 ", "Hiệu trưởng - Kế toán"),
        (nfd("Xã hội hóa"), "Xã hội hóa"),
        ("Xã\u200b hội hóa\ufeff", "Xã hội hóa"),
        (12, "12"),
        (1.5, "1.5"),
        (dt.date(2025, 10, 1), "2025-10-01"),
    ],
)
def test_clean(value, expected):
    assert clean(value) == expected


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Xã hội hoá", "xa hoi hoa"),
        ("xã hội hoá", "Xã hội hóa"),  # "hoá" / "hóa": the accent on a different vowel
        (nfd("ĐỘI"), "doi"),
        ("Đảng ủy", "dang uy"),
        (" Phó\u00a0Hiệu trưởng ", "pho hieu truong"),
    ],
)
def test_fold_equal(left, right):
    assert fold(left) == fold(right)


def test_fold_keeps_words_apart():
    assert fold("Hiệu trưởng") != fold("Phó hiệu trưởng")
    assert fold(None) == ""


# --------------------------------------------------------------------------- budget


def budget_tuple(budget: Budget | None):
    if budget is None:
        return None
    return (budget.min, budget.max, budget.none, budget.exact, budget.sources)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # numbers from the cell
        (12, (12.0, 12.0, False, True, ())),
        (12.5, (12.5, 12.5, False, True, ())),
        (0, (0.0, 0.0, True, True, ())),
        (-5, (-5.0, -5.0, False, True, ())),  # as-is: the checker reports it
        (1500000, (1500000.0, 1500000.0, False, True, ())),  # a number cell is not rescaled
        # plain numbers typed as text
        ("10", (10.0, 10.0, False, True, ())),
        ("12,5", (12.5, 12.5, False, True, ())),
        ("1.500", (1500.0, 1500.0, False, True, ())),
        ("2.5", (2.5, 2.5, False, True, ())),
        ("1500000", (1.5, 1.5, False, True, ())),
        ("0", (0.0, 0.0, True, True, ())),
        # units
        ("10 triệu", (10.0, 10.0, False, False, ())),
        ("10 triệu đồng", (10.0, 10.0, False, False, ())),
        ("10tr", (10.0, 10.0, False, False, ())),
        ("10 trđ", (10.0, 10.0, False, False, ())),
        ("10 triệu đống", (10.0, 10.0, False, False, ())),
        ("1,5 tỷ", (1500.0, 1500.0, False, False, ())),
        ("2 tỉ", (2000.0, 2000.0, False, False, ())),
        ("500 nghìn", (0.5, 0.5, False, False, ())),
        ("500 ngàn", (0.5, 0.5, False, False, ())),
        ("1.500.000 đ", (1.5, 1.5, False, False, ())),
        ("1.500.000đ", (1.5, 1.5, False, False, ())),
        ("1500000 đồng", (1.5, 1.5, False, False, ())),
        ("1.500.000 VNĐ", (1.5, 1.5, False, False, ())),
        ("1.500.000 ₫", (1.5, 1.5, False, False, ())),
        ("1 tỷ 500 triệu", (1500.0, 1500.0, False, False, ())),
        # ranges and approximations
        ("400 - 500 triệu", (400.0, 500.0, False, False, ())),
        ("400-500tr", (400.0, 500.0, False, False, ())),
        ("từ 400 đến 500 triệu", (400.0, 500.0, False, False, ())),
        ("500 nghìn - 1 triệu", (0.5, 1.0, False, False, ())),
        ("500 - 400 triệu", (400.0, 500.0, False, False, ())),
        ("khoảng 50 triệu", (50.0, 50.0, False, False, ())),
        ("khoảng 50", (50.0, 50.0, False, False, ())),
        # no money
        ("Không", (0.0, 0.0, True, False, ("khong_can",))),
        ("Không cần", (0.0, 0.0, True, False, ("khong_can",))),
        ("Không có kinh phí", (0.0, 0.0, True, False, ("khong_can",))),
        ("0 đồng", (0.0, 0.0, True, False, ())),
        # sources without an amount, and both together
        ("Xã hội hóa", (None, None, False, False, ("xa_hoi_hoa",))),
        ("Kinh phí từ ngân sách nhà nước", (None, None, False, False, ("ngan_sach",))),
        ("10 triệu - xã hội hóa", (10.0, 10.0, False, False, ("xa_hoi_hoa",))),
        ("50 (XHH)", (50.0, 50.0, False, False, ("xa_hoi_hoa",))),
        ("Năm 2024: 10 triệu", (10.0, 10.0, False, False, ())),  # 2024 is a year, not money
        # nothing to read
        ("", None),
        ("   \u00a0 ", None),
        ("abc", None),
        ("Thực hiện 3 lần", None),  # a count, not an amount
        (None, None),
        (True, None),
        (float("nan"), None),
        (float("inf"), None),
        (dt.date(2025, 1, 1), None),
    ],
)
def test_parse_budget(value, expected):
    assert budget_tuple(parse_budget(value, FUNDING)) == expected


# Dự kiến kinh phí cells of the real plans (and the typo quoted in DOMAIN.md).
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("400 - 500 triệu", (400.0, 500.0, False, False, ())),  # 000
        ("10 triệu đồng", (10.0, 10.0, False, False, ())),  # DOMAIN.md
        ("10 triệu đống", (10.0, 10.0, False, False, ())),  # DOMAIN.md
        ("Không", (0.0, 0.0, True, False, ("khong_can",))),  # 001
        ("Không có", (0.0, 0.0, True, False, ("khong_can",))),  # 003
        ("Kinh phí từ ngân sách nhà nước", (None, None, False, False, ("ngan_sach",))),  # 001
        ("Kinh phí xã hội hóa", (None, None, False, False, ("xa_hoi_hoa",))),  # 001
        ("Xã hội hóa", (None, None, False, False, ("xa_hoi_hoa",))),  # 000
        (
            "Kinh phí sử dụng từ nguồn chi thường xuyên và xã hội hóa",  # 001
            (None, None, False, False, ("chi_thuong_xuyen", "xa_hoi_hoa")),
        ),
        ("- Phụ huynh hỗ trợ ngày công cắt tỉa cây - Ngân sách nhà nước",  # 001
         (None, None, False, False, ("ngan_sach",))),
    ],
)
def test_parse_budget_real_cells(cell, expected):
    assert budget_tuple(parse_budget(cell, FUNDING)) == expected


def test_parse_budget_keeps_cleaned_text():
    assert parse_budget(" 400\u00a0-  500 triệu\n", FUNDING).text == "400 - 500 triệu"


def test_parse_budget_without_aliases():
    assert budget_tuple(parse_budget("Không")) == (0.0, 0.0, True, False, ())
    assert parse_budget("Xã hội hóa") is None  # no aliases: nothing it can name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kinh phí sử dụng từ nguồn chi thường xuyên và xã hội hóa", ("chi_thuong_xuyen", "xa_hoi_hoa")),
        ("XHH, ngân sách nhà nước, xã hội hoá", ("xa_hoi_hoa", "ngan_sach")),  # no repeats
        ("Ngân sách nhà nước", ("ngan_sach",)),  # longest alias wins
        ("Khác", ("khac",)),
        ("Khách mời", ()),  # whole words only: "khác" is not in "khách"
        ("Không cần kinh phí", ("khong_can",)),
        ("", ()),
        (None, ()),
    ],
)
def test_find_sources(text, expected):
    assert find_sources(text, FUNDING) == expected


def test_find_sources_tolerates_bad_aliases():
    assert find_sources("Xã hội hóa", None) == ()
    assert find_sources("Xã hội hóa", {"": "x", 3: "y", "xã hội hóa": 4}) == ()  # type: ignore[dict-item]


# --------------------------------------------------------------------------- period


def period_tuple(period: Period | None):
    return None if period is None else (period.start, period.end)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # single months
        ("Tháng 10/2021", (month(2021, 10),) * 2),
        ("tháng 10 năm 2021", (month(2021, 10),) * 2),
        ("10/2021", (month(2021, 10),) * 2),
        ("T10/2021", (month(2021, 10),) * 2),
        ("T10-2021", (month(2021, 10),) * 2),
        ("10-2021", (month(2021, 10),) * 2),
        ("10.2021", (month(2021, 10),) * 2),
        ("Tháng 9 năm 2023. Hoạt động hàng tháng", (month(2023, 9),) * 2),
        ("15/10/2025", (month(2025, 10),) * 2),
        (dt.date(2025, 10, 15), (month(2025, 10),) * 2),
        (dt.datetime(2026, 1, 2, 8, 30), (month(2026, 1),) * 2),
        # months without a year belong to the school year 2025-2026
        ("Tháng 10", (month(2025, 10),) * 2),
        ("Tháng 3", (month(2026, 3),) * 2),
        ("Tháng 9 - 12/2025", (month(2025, 9), month(2025, 12))),
        # ranges
        ("Tháng 10/2021 và hoàn thành tháng 5/2022", (month(2021, 10), month(2022, 5))),
        ("Từ tháng 9/2022 đến tháng 5/2023", (month(2022, 9), month(2023, 5))),
        ("09/2025 - 12/2025", (month(2025, 9), month(2025, 12))),
        ("Tháng 10/2021 và hoàn thành tháng 12/2026", (month(2021, 10), month(2026, 12))),
        # school years named in the text ignore school_year_start
        ("Năm học 2024-2025", (month(2024, 9), month(2025, 8))),
        ("Năm học 2024 – 2025", (month(2024, 9), month(2025, 8))),
        ("NH 2024-2025", (month(2024, 9), month(2025, 8))),
        ("Từ năm học 2024 - 2025", (month(2024, 9), month(2025, 8))),
        ("HK2 năm học 2024-2025", (month(2025, 2), month(2025, 5))),
        ("Trong năm 2025", (month(2025, 1), month(2025, 12))),
        # labels, with or without the caller's spans
        ("HK1", (month(2025, 9), month(2026, 1))),
        ("HKI", (month(2025, 9), month(2026, 1))),
        ("Học kỳ 1", (month(2025, 9), month(2026, 1))),
        ("Học kỳ I", (month(2025, 9), month(2026, 1))),
        ("HK 2", (month(2026, 2), month(2026, 5))),
        ("học kì II", (month(2026, 2), month(2026, 5))),
        ("HK I và HK II", (month(2025, 9), month(2026, 5))),
        ("Cả năm học", (month(2025, 9), month(2026, 5))),
        ("cả năm", (month(2025, 9), month(2026, 5))),
        ("trong năm học", (month(2025, 9), month(2026, 5))),
        ("năm học", (month(2025, 9), month(2026, 5))),
        # impossible dates and unreadable text
        ("Tháng 13/2025", None),
        ("Tháng 0/2025", None),
        ("10/1850", None),
        ("10/2200", None),
        (dt.date(1900, 1, 1), None),
        ("", None),
        ("abc", None),
        ("Học kỳ III", None),
        (None, None),
        (2025, None),
        (True, None),
    ],
)
@pytest.mark.parametrize("spans", [None, SPANS])
def test_parse_period(value, expected, spans):
    assert period_tuple(parse_period(value, 2025, spans)) == expected


# Thời gian thực hiện và hoàn thành cells of the real plans, with each plan's school year.
@pytest.mark.parametrize(
    ("cell", "school_year", "expected"),
    [
        ("Năm học 2024 - 2025", 2024, (month(2024, 9), month(2025, 8))),  # 000
        ("Năm học 2024-2025", 2024, (month(2024, 9), month(2025, 8))),  # 000, 003
        ("Từ năm học 2024 - 2025", 2024, (month(2024, 9), month(2025, 8))),  # 000
        ("Tháng 10/2021 và hoàn thành tháng 5/2022", 2021, (month(2021, 10), month(2022, 5))),  # 001
        ("Tháng 9/2021 và hoàn thành tháng 5/2022", 2021, (month(2021, 9), month(2022, 5))),  # 001
        ("Tháng 10/2021 và hoàn thành tháng 12/2026", 2021, (month(2021, 10), month(2026, 12))),  # 001
        ("Trong năm học 2021-2022 và các năm học tiếp theo", 2021, (month(2021, 9), month(2022, 8))),  # 001
        ("Tháng 12/2021 và những năm tiếp theo.", 2021, (month(2021, 12), month(2021, 12))),  # 001
        ("Trong năm học", 2021, (month(2021, 9), month(2022, 5))),  # 001
        (
            "Từ tháng 9/2021 và hoàn thành tháng 5/2022 và các năm học tiếp theo.",  # 001
            2021,
            (month(2021, 9), month(2022, 5)),
        ),
        ("Từ tháng 9/2022 đến tháng 5/2023", 2021, (month(2022, 9), month(2023, 5))),  # 001
        ("Cuối mỗi năm học (tháng 4/2025)", 2024, (month(2025, 4), month(2025, 4))),  # 003
        ("Tháng 9 năm 2023. Hoạt động hàng tháng", 2023, (month(2023, 9), month(2023, 9))),  # DOMAIN.md
    ],
)
def test_parse_period_real_cells(cell, school_year, expected):
    assert period_tuple(parse_period(cell, school_year)) == expected


def test_parse_period_caller_spans():
    summer = parse_period("Hè 2026", 2025, {"Hè": (10, 11)})
    assert period_tuple(summer) == (month(2026, 7), month(2026, 8))
    # The caller's own "HK I" overrides the default first semester, whatever the spelling.
    assert period_tuple(parse_period("Học kỳ 1", 2025, {"HK I": (0, 3)})) == (month(2025, 9), month(2025, 12))
    assert period_tuple(parse_period("Hè và HK1", 2025, {"Hè": (10, 11)})) == (month(2025, 9), month(2026, 8))
    # Offsets read from YAML are lists.
    assert period_tuple(parse_period("Hè", 2025, {"Hè": [10, 11]})) == (month(2026, 7), month(2026, 8))
    # Malformed spans are ignored, not fatal.
    bad = {"HK1": "Sep-Jan", "HK2": (8, 5), "Hè": None}
    assert period_tuple(parse_period("HK1", 2025, bad)) == (month(2025, 9), month(2026, 1))  # type: ignore[arg-type]


def test_parse_period_needs_a_school_year_only_for_relative_text():
    assert parse_period("Tháng 10", None) is None  # type: ignore[arg-type]
    assert parse_period("HK1", "2025") is None  # type: ignore[arg-type]
    assert period_tuple(parse_period("10/2021", None)) == (month(2021, 10),) * 2  # type: ignore[arg-type]


def test_parse_period_keeps_cleaned_text():
    assert parse_period(" Tháng\u00a010/2021 ", 2021).text == "Tháng 10/2021"


@pytest.mark.parametrize(
    ("year", "m", "expected"),
    [(2025, 10, 2025 * 12 + 9), (1990, 1, 1990 * 12), (2100, 12, 2100 * 12 + 11),
     (2025, 13, None), (2025, 0, None), (1989, 12, None), (2101, 1, None),
     ("2025", 10, None), (2025, True, None), (None, None, None)],
)
def test_month_ordinal_of(year, m, expected):
    assert month_ordinal_of(year, m) == expected


@pytest.mark.parametrize(
    ("ordinal", "expected"),
    [(2025 * 12 + 9, "Tháng 10/2025"), (2026 * 12, "Tháng 1/2026"),
     (None, ""), ("x", ""), (True, ""), (1.5, ""), (-1, ""), pytest.param(10**5000, "", id="huge-int")],
)
def test_ordinal_label(ordinal, expected):
    assert ordinal_label(ordinal) == expected


# --------------------------------------------------------------------------- owners


def owners_tuple(owners: Owners | None):
    return None if owners is None else (owners.lead, owners.collaborators, owners.unknown)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Hiệu trưởng - Kế toán", ("Hiệu trưởng", ("Kế toán",), ())),
        ("BGH, Ban chuyên môn, GV, NV",
         ("Ban giám hiệu", ("Ban chuyên môn", "Giáo viên", "Nhân viên"), ("Ban chuyên môn",))),
        ("Phó hiệu trưởng phụ trách chuyên môn", ("Phó hiệu trưởng phụ trách chuyên môn", (), ())),
        ("Cô Lan", ("Cô Lan", (), ("Cô Lan",))),
        ("HT; PHT / TTCM + CMHS",
         ("Hiệu trưởng", ("Phó hiệu trưởng", "Tổ trưởng chuyên môn", "Cha mẹ học sinh"), ())),
        ("ht\npht\ntpt đội", ("Hiệu trưởng", ("Phó hiệu trưởng", "Tổng phụ trách Đội"), ())),
        ("HT cùng GV", ("Hiệu trưởng", ("Giáo viên",), ())),
        ("HT phối hợp với CĐCS", ("Hiệu trưởng", ("Chủ tịch Công đoàn",), ())),
        ("Chủ trì: HT; Phối hợp: GV, NV", ("Hiệu trưởng", ("Giáo viên", "Nhân viên"), ())),
        ("Hiệu trưởng chủ trì, giáo viên phối hợp", ("Hiệu trưởng", ("Giáo viên",), ())),
        ("HT (chủ trì), Cô Lan (GV)", ("Hiệu trưởng", ("Cô Lan",), ("Cô Lan",))),
        ("Giáo viên chủ nhiệm, GV", ("Giáo viên chủ nhiệm", ("Giáo viên",), ())),
        ("Hiệu trưởng, hiệu trưởng, HT", ("Hiệu trưởng", (), ())),
        ("", None),
        (" , ; - ", None),
        (None, None),
        (12, None),
    ],
)
def test_parse_owners(value, expected):
    assert owners_tuple(parse_owners(value, ROLES, ALIASES)) == expected


# Chủ trì và phối hợp cells of the real plans.
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Hiệu trưởng - Tổ truyền thông", ("Hiệu trưởng", ("Tổ truyền thông",), ("Tổ truyền thông",))),  # 001
        ("Hiệu trưởng - Kế toán", ("Hiệu trưởng", ("Kế toán",), ())),  # 001
        ("Hiệu trưởng - Phụ huynh HS và kế toán",  # 001
         ("Hiệu trưởng", ("Phụ huynh HS", "Kế toán"), ("Phụ huynh HS",))),
        ("05 Giáo viên", ("Giáo viên", (), ())),  # 001
        ("Hiệu trưởng - Nhân viên bảo vệ", ("Hiệu trưởng", ("Nhân viên",), ())),  # 001
        ("Hiệu trưởng - Phó Hiệu trưởng", ("Hiệu trưởng", ("Phó hiệu trưởng",), ())),  # 001
        ("Hiệu trưởng – CB, GV, NV toàn trường",  # 001
         ("Hiệu trưởng", ("CB", "Giáo viên", "Nhân viên"), ("CB",))),
        ("Phó hiệu trưởng phụ trách chuyên môn", ("Phó hiệu trưởng phụ trách chuyên môn", (), ())),  # 001
        ("BGH, Ban chuyên môn, GV, NV",  # 001
         ("Ban giám hiệu", ("Ban chuyên môn", "Giáo viên", "Nhân viên"), ("Ban chuyên môn",))),
        ("Nhà trường, các tổ chức xã hội trong và ngoài nhà trường",  # 001: "trong và ngoài" is one phrase
         ("Nhà trường", ("các tổ chức xã hội trong và ngoài nhà trường",),
          ("Nhà trường", "các tổ chức xã hội trong và ngoài nhà trường"))),
        ("Ban giám hiệu, các tổ trưởng", ("Ban giám hiệu", ("các tổ trưởng",), ("các tổ trưởng",))),  # 003
        ("Ban giám hiệu, giáo viên", ("Ban giám hiệu", ("Giáo viên",), ())),  # 003
        ("Hiệu trưởng", ("Hiệu trưởng", (), ())),  # 003
        ("Phó hiệu trưởng xây dựng kế hoạch; Giáo viên bộ thực hiện",  # 000
         ("Phó hiệu trưởng", ("Giáo viên",), ())),
        ("Kế toán tham mưu lên kinh phí thực hiện.", ("Kế toán", (), ())),  # 000
    ],
)
def test_parse_owners_real_cells(cell, expected):
    assert owners_tuple(parse_owners(cell, ROLES, ALIASES)) == expected


def test_parse_owners_keeps_cleaned_text():
    assert parse_owners(nfd(" HT -\u00a0Kế toán "), ROLES, ALIASES).text == "HT - Kế toán"


def test_parse_owners_tolerates_bad_roles():
    assert owners_tuple(parse_owners("HT", None, None)) == ("HT", (), ("HT",))  # type: ignore[arg-type]
    assert owners_tuple(parse_owners("Hiệu trưởng", "Hiệu trưởng", {})) == ("Hiệu trưởng", (), ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hiệu trưởng", "Hiệu trưởng"),
        (nfd("phó HIỆU trưởng"), "Phó hiệu trưởng"),
        ("Phó hiệu trưởng phụ trách chuyên môn", "Phó hiệu trưởng phụ trách chuyên môn"),
        ("pht", "Phó hiệu trưởng"),
        ("Tpt  đội", "Tổng phụ trách Đội"),
        ("cdcs", "Chủ tịch Công đoàn"),
        ("Các giáo viên", "Giáo viên"),
        ("HTX", None),  # abbreviations are whole tokens
        ("Cô Lan", None),
        ("", None),
        (None, None),
        (5, None),
    ],
)
def test_match_role(text, expected):
    assert match_role(text, ROLES, ALIASES) == expected


# --------------------------------------------------------------------------- properties

ANY_VALUE = st.one_of(
    st.text(),
    st.none(),
    st.floats(),
    st.integers(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)
# Pieces of real cells, so that random text also reaches the deeper branches.
CELLISH = st.lists(
    st.sampled_from(
        ["Tháng", "tháng", "T", "10/2021", "5", "2025", "-", "–", "/", ".", ",", "đến", "và",
         "năm học", "HK", "II", "triệu", "tr", "tỷ", "1.500.000", "1,5", "đ", "không", "xã hội hóa",
         "BGH", "GV", "chủ trì:", "phối hợp", "(", ")", "\u00a0", "\n", "%", "ngày", "13", "0"]
    ),
    max_size=12,
).map(" ".join)


class Exploding:
    def __str__(self) -> str:
        raise RuntimeError("no text")


@pytest.mark.parametrize(
    "value",
    [Exploding(), pytest.param(10**5000, id="huge-int"), b"\xff", [1, 2], {"a": 1}, object()],
)
def test_odd_objects_never_raise(value):
    assert isinstance(clean(value), str)
    assert isinstance(fold(value), str)
    assert parse_budget(value, FUNDING) is None
    assert parse_period(value, 2025, SPANS) is None
    assert parse_owners(value, ROLES, ALIASES) is None
    assert match_role(value, ROLES, ALIASES) is None
    assert find_sources(value, FUNDING) == ()


@given(value=st.one_of(ANY_VALUE, CELLISH), other=ANY_VALUE)
def test_nothing_raises(value, other):
    assert isinstance(clean(value), str)
    assert isinstance(fold(value), str)
    assert isinstance(find_sources(value, FUNDING), tuple)
    for aliases in (None, FUNDING):
        budget = parse_budget(value, aliases)
        assert budget is None or isinstance(budget, Budget)
    for year, spans in ((2025, None), (2025, SPANS), (other, None)):
        period = parse_period(value, year, spans)
        assert period is None or period.start <= period.end
    owners = parse_owners(value, ROLES, ALIASES)
    assert owners is None or owners.lead is not None
    assert match_role(value, ROLES, ALIASES) in (None, *ROLES)
    assert month_ordinal_of(value, other) is None or isinstance(month_ordinal_of(value, other), int)
    assert isinstance(ordinal_label(value), str)


@given(CELLISH)
def test_text_budgets_are_ordered(text):
    budget = parse_budget(text, FUNDING)
    if budget is not None and budget.min is not None and not budget.exact:
        assert 0 <= budget.min <= budget.max


def vietnamese(amount: float | int) -> str:
    """"{:,}" with the separators swapped: 1234.5 -> "1.234,5"."""
    return f"{amount:,}".translate(str.maketrans({",": ".", ".": ","}))


# Amounts below 100 000 (a bare number that large is read as đồng), in cents or whole.
AMOUNTS = st.one_of(st.integers(0, 9_999_999).map(lambda c: c / 100), st.integers(0, 99_999))
SUFFIXES = st.sampled_from(["", " triệu", " triệu đồng", "tr", " tr", " trđ"])


@given(amount=AMOUNTS, suffix=SUFFIXES)
def test_vietnamese_amount_round_trips(amount, suffix):
    budget = parse_budget(vietnamese(amount) + suffix, FUNDING)
    assert (budget.min, budget.max) == (amount, amount)
    assert budget.exact == (suffix == "")
    assert budget.none == (amount == 0)


@given(a=AMOUNTS, b=AMOUNTS, dash=st.sampled_from([" - ", "-", " – ", " đến "]))
def test_range_round_trips(a, b, dash):
    low, high = sorted((a, b))
    budget = parse_budget(f"{vietnamese(low)}{dash}{vietnamese(high)} triệu", FUNDING)
    assert (budget.min, budget.max) == (low, high)
    assert not budget.exact


REAL_CELLS = st.sampled_from(
    ["Kinh phí sử dụng từ nguồn chi thường xuyên và xã hội hóa", "10 triệu đống", "Không có",
     "Tháng 10/2021 và hoàn thành tháng 5/2022", "Năm học 2024 – 2025", "học kì II",
     "Hiệu trưởng – CB, GV, NV toàn trường", "Phó hiệu trưởng phụ trách chuyên môn", "TPT Đội"]
)
VIETNAMESE_TEXT = st.text(
    alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợ"
    "ùủũúụừửữứựỳỷỹýỵĐÂƯỆ0123456789 .,-/–\u00a0",
    max_size=40,
)


@given(st.one_of(REAL_CELLS, VIETNAMESE_TEXT, CELLISH))
def test_nfd_reads_like_nfc(text):
    composed, decomposed = unicodedata.normalize("NFC", text), nfd(text)
    assert parse_budget(decomposed, FUNDING) == parse_budget(composed, FUNDING)
    assert parse_period(decomposed, 2025, SPANS) == parse_period(composed, 2025, SPANS)
    assert parse_owners(decomposed, ROLES, ALIASES) == parse_owners(composed, ROLES, ALIASES)
    assert find_sources(decomposed, FUNDING) == find_sources(composed, FUNDING)
    assert fold(decomposed) == fold(composed)


@given(year=st.integers(1990, 2100), m=st.integers(1, 12), school_year=st.integers(1990, 2099))
def test_month_forms_agree_and_labels_round_trip(year, m, school_year):
    ordinal = month_ordinal_of(year, m)
    for text in (f"Tháng {m}/{year}", f"{m}/{year}", f"T {m}/{year}", f"T{m:02d}-{year}",
                 f"tháng {m} năm {year}", ordinal_label(ordinal)):
        period = parse_period(text, school_year)
        assert (period.start, period.end) == (ordinal, ordinal), text
    assert ordinal_label(ordinal) == f"Tháng {m}/{year}"
