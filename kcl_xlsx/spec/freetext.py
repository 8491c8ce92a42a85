"""Read the free text schools type into a plan's cells, the way a Vietnamese reader would.

Costs ("400 - 500 triệu", "Kinh phí từ ngân sách nhà nước"), times ("Tháng 10/2021 và
hoàn thành tháng 5/2022", "Năm học 2024-2025", "HK2") and owners ("BGH, Ban chuyên môn,
GV, NV") arrive as free text in NFC or NFD, with stray and non-breaking spaces.

Every function here is pure, uses only the standard library and never raises, whatever it
is given (str, None, numbers, dates, other objects): what cannot be read gives None, or
an empty result.  Comparisons go through `fold` (case- and diacritic-insensitive), because
schools write "Xã hội hóa", "xã hội hoá" and "XA HOI HOA" for the same thing.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "Budget",
    "Owners",
    "Period",
    "clean",
    "find_sources",
    "fold",
    "match_role",
    "month_ordinal_of",
    "ordinal_label",
    "parse_budget",
    "parse_owners",
    "parse_period",
]


# --------------------------------------------------------------------------- text

# Zero-width characters and the soft hyphen come with text pasted from web pages and PDFs;
# a reader does not see them, so they must not make two equal texts differ.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# For str patterns \s is Unicode-aware: it covers tabs, newlines and the no-break spaces
# U+00A0, U+2007 and U+202F that Word and Excel insert.
_SPACE_RE = re.compile(r"\s+")


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # an object whose __str__ fails (or a huge int) is just unreadable
        return ""


def clean(value: Any) -> str:
    """str() of the value (None -> ""), NFC, whitespace runs collapsed to one space, stripped."""
    return _clean_text(value if value.__class__ is str else _to_text(value))


def fold(value: Any) -> str:
    """`clean`, casefolded and without diacritics ("Xã hội hoá" -> "xa hoi hoa").  Looser
    than the rule engine's ``_excel_fold`` (macros_free_validation.rules), which compares
    only as the sheet's TRIM and Excel's case-insensitive "=" do."""
    return _fold_text(value if value.__class__ is str else _to_text(value))


# A checker run compares the same few thousand labels and headers over and over: caching
# the pure text functions makes them nearly free (measured: fold was half of a file's time).
@lru_cache(maxsize=1 << 16)
def _clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", _INVISIBLE_RE.sub("", text))
    return _SPACE_RE.sub(" ", text).strip()


@lru_cache(maxsize=1 << 16)
def _fold_text(text: str) -> str:
    # "đ" is a letter of its own, not "d" plus a mark, so NFD leaves it alone.
    decomposed = unicodedata.normalize("NFD", _clean_text(text).casefold().replace("đ", "d"))
    bare = decomposed.translate(_WITHOUT_MARKS)
    # A lone combining mark between two spaces leaves a double space behind.
    return _SPACE_RE.sub(" ", bare).strip()


class _MarkEraser(dict):
    """``str.translate`` table deleting combining marks.  Each character is looked up in
    unicodedata once and then found here, so translating runs in C: free text (a school's
    own targets and actions) is folded once per text, and that is most of the folding."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if len(self) < 1 << 16:  # bounded, whatever characters a file brings
            self[code] = kept
        return kept


_WITHOUT_MARKS = _MarkEraser()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str_pairs(mapping: Any) -> tuple[tuple[str, Any], ...]:
    """(str key, value) pairs of a mapping; anything else (None, a list, ...) gives none."""
    if not isinstance(mapping, Mapping):
        return ()
    try:
        return tuple((k, v) for k, v in mapping.items() if isinstance(k, str))
    except Exception:  # a broken user mapping must not break reading a cell
        return ()


def _strings(values: Any) -> tuple[str, ...]:
    if isinstance(values, str):  # one role given bare, not a sequence of characters
        return (values,)
    if not isinstance(values, Sequence):
        return ()
    return tuple(v for v in values if isinstance(v, str))


@lru_cache(maxsize=128)
def _phrase_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word alternation of folded phrases, longest first so that, at one position,
    "ngan sach nha nuoc" wins over "ngan sach"."""
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ordered)) + r")(?!\w)")


# --------------------------------------------------------------------------- budget


@dataclass(frozen=True)
class Budget:
    """An estimated cost in million VND (triệu đồng)."""

    min: float | None
    max: float | None
    none: bool  # the cell says no money is needed ("Không", "0")
    exact: bool  # the cell was a plain number, not an amount read out of words
    sources: tuple[str, ...]  # funding-source keys, in order of first mention
    text: str  # the cleaned cell text


# A number as schools write it; which of "." and "," groups thousands is decided later.
_NUMBER = r"[0-9]+(?:[.,][0-9]+)*"
_PLAIN_NUMBER_RE = re.compile(rf"(?P<sign>[+-]?)(?P<num>{_NUMBER})")
# "1.500" is one thousand five hundred, but "2.5" and "1234.567" are decimals.
_DOT_THOUSANDS_RE = re.compile(r"[0-9]{1,3}\.[0-9]{3}")
# An amount in folded text, with an optional unit ("đống" is a real typo for "đồng", and
# folds to the same "dong").  The unit must end a word: "10 den" is not "10 d(ồng)".
_AMOUNT_RE = re.compile(
    rf"(?<![0-9.,])(?P<num>{_NUMBER})\s*"
    r"(?P<unit>ty|ti|trieu|trd|tr|nghin|ngan|k|vnd|dong|d|₫)?(?![a-z0-9])"
)
# Unit -> (multiplier, divisor) into triệu; a divisor rather than 1e-6 keeps 1.500.000 đ
# at exactly 1.5.
_BILLION, _MILLION, _THOUSAND, _DONG = (1000, 1), (1, 1), (1, 1000), (1, 10**6)
_UNIT_SCALE = {
    "ty": _BILLION,
    "ti": _BILLION,
    "trieu": _MILLION,
    "trd": _MILLION,
    "tr": _MILLION,
    "nghin": _THOUSAND,
    "ngan": _THOUSAND,
    "k": _THOUSAND,
    "vnd": _DONG,
    "dong": _DONG,
    "d": _DONG,
    "₫": _DONG,
}
# Nobody budgets 100 000 triệu (100 tỷ) for one action: a bare number that large is đồng.
_BARE_DONG_FROM = 100_000
# Dates, years, criterion codes and percentages are numbers but not money.
_NOT_MONEY_RE = re.compile(
    r"[0-9]{1,2}\s*/\s*[0-9]{1,2}\s*/\s*[0-9]{2,4}"
    r"|[0-9]{1,2}\s*/\s*[0-9]{4}"
    r"|\b(?:nam hoc|nam|nh|thang|ngay|hoc k[yi]|hk|tieu chi|tieu chuan|muc)\s*[0-9]+"
    r"(?:\s*[-–—/]\s*[0-9]{4}(?![0-9])|[-–—/.][0-9]+)*"
    rf"|{_NUMBER}\s*%"
)
# What joins the two ends of a range: "400 - 500", "400-500", "từ 400 đến 500".
_RANGE_JOIN_RE = re.compile(r"\s*(?:-|–|—|~|den|toi)\s*")
# Words that may stand around an amount without a unit, so that "khoảng 50" or
# "Kinh phí: 12" still read as triệu while "Thực hiện 3 lần" does not.
_FILLER_WORDS = frozenset(
    "khoang tam chung uoc tinh du kien kinh phi tu den toi tong cong gan hon tren duoi "
    "da khong qua la trieu dong vnd d".split()
)
_WORD_RE = re.compile(r"[^\W\d_]+")
_NO_MONEY_RE = re.compile(r"^(?:(?:du kien )?kinh phi\s*:?\s*)?khong(?!\w)")


def _grouped(whole: str, mark: str, frac: str) -> float | None:
    groups = whole.split(mark)
    if len(groups) > 1 and (len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:])):
        return None  # "1.2.3" is not a thousands grouping a reader would accept
    return float("".join(groups) + (f".{frac}" if frac else ""))


def _vn_number(digits: str) -> float | None:
    """Read a number the Vietnamese way: "." groups thousands and "," is the decimal mark,
    but a single "." not followed by exactly three digits is a decimal point ("2.5")."""
    if "." in digits and "," in digits:
        # Both marks: the last one is the decimal mark, which also reads en-US "1,500.5".
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        if digits.count(decimal) > 1:
            return None
        whole, frac = digits.split(decimal)
        return _grouped(whole, "." if decimal == "," else ",", frac)
    if digits.count(",") == 1 or (digits.count(".") == 1 and not _DOT_THOUSANDS_RE.fullmatch(digits)):
        return float(digits.replace(",", "."))
    return _grouped(digits, "," if "," in digits else ".", "")


def _scaled(amount: float, scale: tuple[int, int]) -> float | None:
    value = amount * scale[0] / scale[1]
    return value if math.isfinite(value) else None


def _bare_scale(largest: float) -> tuple[int, int]:
    return _DONG if abs(largest) >= _BARE_DONG_FROM else _MILLION


def _plain_budget(match: re.Match[str], text: str) -> Budget | None:
    """A cell that is just a number, like "12" or "12,5": triệu unless obviously đồng."""
    amount = _vn_number(match["num"])
    if amount is None:
        return None
    value = _scaled(-amount if match["sign"] == "-" else amount, _bare_scale(amount))
    if value is None:
        return None
    return Budget(value, value, value == 0, True, (), text)


def _group_ranges(text: str, tokens: list[re.Match[str]]) -> list[tuple[re.Match[str], ...]]:
    """Pair up amounts joined by a range word; every other amount stands alone."""
    groups: list[tuple[re.Match[str], ...]] = []
    i = 0
    while i < len(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt and _RANGE_JOIN_RE.fullmatch(text, tokens[i].end(), nxt.start()):
            groups.append((tokens[i], nxt))
            i += 2
        else:
            groups.append((tokens[i],))
            i += 1
    return groups


def _interval(group: tuple[re.Match[str], ...], bare_ok: bool) -> tuple[float, float] | None:
    """(low, high) in triệu of one amount or range; None when it is not money."""
    numbers = [_vn_number(t["num"]) for t in group]
    if None in numbers:
        return None
    units = [t["unit"] for t in group]
    # One unit covers both ends of "400 - 500 triệu"; "500 nghìn - 1 triệu" has two.
    shared = next((u for u in units if u), None)
    if shared is None and not bare_ok:
        return None
    scales = [_UNIT_SCALE[u or shared] if shared else _bare_scale(max(numbers)) for u in units]
    values = [_scaled(n, s) for n, s in zip(numbers, scales)]
    if None in values:
        return None
    # A reader takes "500 - 400 triệu" as the range 400..500.
    return min(values), max(values)


def _only_filler(text: str, alias_regex: re.Pattern[str] | None) -> bool:
    if alias_regex is not None:
        text = alias_regex.sub(" ", text)
    return all(word in _FILLER_WORDS for word in _WORD_RE.findall(text))


def _text_amount(folded: str, alias_regex: re.Pattern[str] | None) -> tuple[float, float] | None:
    """Total (low, high) in triệu of the amounts in a folded text, or None if it has none.
    Several amounts add up: "1 tỷ 500 triệu", "10 triệu (NSNN), 5 triệu (XHH)"."""
    text = _NOT_MONEY_RE.sub(" ", folded)
    tokens = list(_AMOUNT_RE.finditer(text))
    bare_ok = _only_filler(_AMOUNT_RE.sub(" ", text), alias_regex)
    intervals = [iv for g in _group_ranges(text, tokens) if (iv := _interval(g, bare_ok))]
    if not intervals:
        return None
    low, high = sum(iv[0] for iv in intervals), sum(iv[1] for iv in intervals)
    return (low, high) if math.isfinite(high) else None


def _alias_regex(funding_aliases: Any) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    lookup: dict[str, str] = {}
    for alias, key in _str_pairs(funding_aliases):
        folded = fold(alias)
        if folded and isinstance(key, str):
            lookup.setdefault(folded, key)
    return (_phrase_regex(tuple(lookup)) if lookup else None), lookup


def _sources_in(folded: str, regex: re.Pattern[str] | None, lookup: dict[str, str]) -> tuple[str, ...]:
    if regex is None:
        return ()
    return tuple(dict.fromkeys(lookup[m.group()] for m in regex.finditer(folded)))


def find_sources(text: Any, funding_aliases: Mapping[str, str] | None) -> tuple[str, ...]:
    """Funding-source keys named in the text, in order of first mention, without repeats.
    Aliases match after `fold`, as whole words, the longest alias first."""
    return _sources_in(fold(text), *_alias_regex(funding_aliases))


def parse_budget(value: Any, funding_aliases: Mapping[str, str] | None = None) -> Budget | None:
    """Read an estimated cost: an amount or range in triệu, "no money", funding sources.

    Numbers from the cell are taken as they are (a negative one is for the checker to
    report).  Text without any amount, "no money" or known source gives None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _number_budget(value)
    text = clean(value) if isinstance(value, str) else ""
    if not text:
        return None
    plain = _PLAIN_NUMBER_RE.fullmatch(text)
    if plain:
        return _plain_budget(plain, text)
    return _text_budget(text, funding_aliases)


def _number_budget(value: int | float) -> Budget | None:
    try:
        amount = float(value)
    except OverflowError:
        return None
    if not math.isfinite(amount):
        return None
    return Budget(amount, amount, amount == 0, True, (), clean(value))


def _text_budget(text: str, funding_aliases: Any) -> Budget | None:
    folded = fold(text)
    regex, lookup = _alias_regex(funding_aliases)
    sources = _sources_in(folded, regex, lookup)
    amount = _text_amount(folded, regex)
    if amount is not None:
        low, high = amount
        return Budget(low, high, high == 0, False, sources, text)
    if _NO_MONEY_RE.search(folded):
        return Budget(0.0, 0.0, True, False, sources, text)
    if sources:
        return Budget(None, None, False, False, sources, text)
    return None


# --------------------------------------------------------------------------- period


@dataclass(frozen=True)
class Period:
    """Months as ordinals `year*12 + (month-1)`, so that months compare and subtract."""

    start: int
    end: int
    text: str


_MIN_YEAR, _MAX_YEAR = 1990, 2100
_FIRST_MONTH = 9  # a Vietnamese school year starts in September
_LAST_MONTH = 8

# Month mentions in folded text, tried in this order at each position:
# a full date "15/10/2025"; "tháng 10/2021", "T10-2021", "10.2021"; "tháng 10 năm 2021";
# a month without year "tháng 10", "T10" (its year comes from the context).
_MONTH_RE = re.compile(
    r"(?<![0-9])[0-9]{1,2}(?P<sep>[/.-])(?P<dm>[0-9]{1,2})(?P=sep)(?P<dy>[0-9]{4})(?![0-9])"
    r"|(?:\b(?:thang|t)\s*)?(?<![0-9])(?P<m>[0-9]{1,2})\s*[/.-]\s*(?P<y>[0-9]{4})(?![0-9])"
    r"|\bthang\s*(?P<mn>[0-9]{1,2})\s*,?\s*nam\s*(?P<yn>[0-9]{4})(?![0-9])"
    r"|\b(?:thang|t)\s*(?P<mo>[0-9]{1,2})(?![0-9])"
)
_SCHOOL_YEAR_RE = re.compile(r"(?<![0-9/.])(?P<y1>[0-9]{4})\s*[-–—/]\s*(?P<y2>[0-9]{4})(?![0-9])")
_CALENDAR_YEAR_RE = re.compile(r"\bnam\s*(?P<y>[0-9]{4})(?![0-9])")
_SEMESTER_RE = re.compile(r"\b(?:hoc\s*k[yi]|hk)\s*(?P<n>ii|i|1|2)\b")
# Ways of saying "during the school year"; "thường xuyên" and "hàng tháng" (regularly,
# monthly) mean the same to a reader of a plan.
_WHOLE_YEAR_RE = re.compile(
    r"\b(?:ca nam(?: hoc)?|trong nam(?: hoc)?|nam hoc|thuong xuyen|hang thang|hang nam)\b"
)
_HK1, _HK2, _YEAR = "hk1", "hk2", "year"
# Month offsets from September; a caller's spans with the same meaning override these.
_DEFAULT_SPANS = {_HK1: (0, 4), _HK2: (5, 8), _YEAR: (0, 8)}


def month_ordinal_of(year: Any, month: Any) -> int | None:
    """`year*12 + (month-1)`; None unless month is 1..12 and year 1990..2100."""
    if not (_is_int(year) and _is_int(month)):
        return None
    if not (_MIN_YEAR <= year <= _MAX_YEAR and 1 <= month <= 12):
        return None
    return year * 12 + month - 1


def ordinal_label(ordinal: Any) -> str:
    """"Tháng 10/2025" for a month ordinal; "" for anything that is not one."""
    if not _is_int(ordinal) or not 0 <= ordinal < 10000 * 12:
        return ""
    year, month0 = divmod(ordinal, 12)
    return f"Tháng {month0 + 1}/{year}"


def _mention(match: re.Match[str]) -> tuple[int, int | None]:
    """(month, year or None) of one `_MONTH_RE` match."""
    for month, year in (("dm", "dy"), ("m", "y"), ("mn", "yn")):
        if match[month]:
            return int(match[month]), int(match[year])
    return int(match["mo"]), None


def _fill_years(mentions: list[tuple[int, int | None]], base: int | None) -> list[int | None]:
    """Ordinals of the mentions; a month without year takes it from the next dated month
    ("tháng 9 đến tháng 12/2025"), else the previous one, else the school year."""
    out: list[int | None] = []
    for i, (month, year) in enumerate(mentions):
        if year is None:
            year = _neighbour_year(month, mentions[i + 1:], mentions[:i][::-1], base)
        out.append(month_ordinal_of(year, month))
    return out


def _neighbour_year(month: int, later: Sequence[tuple[int, int | None]],
                    earlier: Sequence[tuple[int, int | None]], base: int | None) -> int | None:
    after = next(((m, y) for m, y in later if y is not None), None)
    if after:
        return after[1] if month <= after[0] else after[1] - 1
    before = next(((m, y) for m, y in earlier if y is not None), None)
    if before:
        return before[1] if month >= before[0] else before[1] + 1
    if base is None:
        return None
    return base if month >= _FIRST_MONTH else base + 1


def _span_table(spans: Any) -> dict[str, tuple[int, int]]:
    """Folded label -> month offsets; the caller's labels for a semester or the whole
    year replace the defaults under their canonical key."""
    table = dict(_DEFAULT_SPANS)
    for label, offsets in _str_pairs(spans):
        # Offsets read from YAML arrive as lists; anything but two ordered ints is ignored.
        if not (isinstance(offsets, (tuple, list)) and len(offsets) == 2
                and all(_is_int(o) for o in offsets) and offsets[0] <= offsets[1]):
            continue
        folded = fold(label)
        if folded:
            table[_canonical_label(folded) or folded] = (offsets[0], offsets[1])
    return table


def _semester_key(match: re.Match[str]) -> str:
    return _HK1 if match["n"] in ("i", "1") else _HK2


def _canonical_label(folded: str) -> str | None:
    semester = _SEMESTER_RE.fullmatch(folded)
    if semester:
        return _semester_key(semester)
    return _YEAR if _WHOLE_YEAR_RE.fullmatch(folded) else None


def _find_labels(folded: str, table: dict[str, tuple[int, int]]) -> list[str]:
    """The caller's own labels and the semesters in the text ("HK I - HK II" names both).
    "Cả năm" is decided later, after an explicit "Năm học 2024-2025" has had its chance."""
    custom = tuple(k for k in table if k not in _DEFAULT_SPANS)
    found = [m.group() for m in _phrase_regex(custom).finditer(folded)] if custom else []
    return found + [_semester_key(m) for m in _SEMESTER_RE.finditer(folded)]


def _period(start: int | None, end: int | None, text: str) -> Period | None:
    return None if start is None or end is None else Period(start, end, text)


def _span_period(offsets: list[tuple[int, int]], base: int | None, text: str) -> Period | None:
    """From the first to the last month of the spans, counted from `base`'s September."""
    first = month_ordinal_of(base, _FIRST_MONTH)
    if first is None:
        return None
    return Period(first + min(a for a, _ in offsets), first + max(b for _, b in offsets), text)


def _school_year(folded: str) -> tuple[int, int] | None:
    """(first, last) calendar year of "Năm học 2024-2025" or "NH 2024 – 2025"."""
    found = _SCHOOL_YEAR_RE.search(folded)
    if not found or int(found["y2"]) <= int(found["y1"]):
        return None
    return int(found["y1"]), int(found["y2"])


def parse_period(
    value: Any, school_year_start: int, spans: Mapping[str, tuple[int, int]] | None = None
) -> Period | None:
    """Read when an action starts and ends.

    Explicit months win ("Tháng 10/2021 và hoàn thành tháng 5/2022"), then a span label
    ("Học kỳ I", "HK2", a caller's own label), then "Năm học 2024-2025" (September to
    August), then "năm 2025" (the calendar year), then "cả năm"/"trong năm học".
    Months without a year, and labels, belong to `school_year_start` (2025 = 2025-2026)
    unless the text names its own school year."""
    if isinstance(value, _dt.date):  # datetime is a date too
        month = month_ordinal_of(value.year, value.month)
        return _period(month, month, clean(value))
    text = clean(value) if isinstance(value, str) else ""
    if not text:
        return None
    folded = fold(text)
    school_year = _school_year(folded)
    base = school_year[0] if school_year else (school_year_start if _is_int(school_year_start) else None)
    return _read_period(folded, text, school_year, base, _span_table(spans))


def _read_period(folded: str, text: str, school_year: tuple[int, int] | None,
                 base: int | None, table: dict[str, tuple[int, int]]) -> Period | None:
    mentions = [_mention(m) for m in _MONTH_RE.finditer(folded)]
    if mentions:
        ordinals = _fill_years(mentions, base)
        if None in ordinals:  # "Tháng 13/2025", "10/1850": a wrong date is not a guess
            return None
        return _period(min(ordinals), max(ordinals), text)
    labels = _find_labels(folded, table)
    if labels:
        return _span_period([table[label] for label in labels], base, text)
    if school_year:
        return _period(month_ordinal_of(school_year[0], _FIRST_MONTH),
                       month_ordinal_of(school_year[1], _LAST_MONTH), text)
    calendar = _CALENDAR_YEAR_RE.search(folded)
    if calendar:
        year = int(calendar["y"])
        return _period(month_ordinal_of(year, 1), month_ordinal_of(year, 12), text)
    if _WHOLE_YEAR_RE.search(folded):
        return _span_period([table[_YEAR]], base, text)
    return None


# --------------------------------------------------------------------------- owners


@dataclass(frozen=True)
class Owners:
    """Who leads an action and who helps, as canonical roles where they can be read."""

    lead: str | None
    collaborators: tuple[str, ...]
    unknown: tuple[str, ...]  # parts that match no role (often a person: "Cô Lan")
    text: str


# Where one owner ends and the next begins.  "-" splits "CB-GV-NV" too: role names have no
# hyphen.  "và" does not split "trong và ngoài nhà trường" (inside and outside school).
_OWNER_SPLIT_RE = re.compile(
    r"[-–—,;/+&|]"
    r"|\b(?:chủ trì|phối hợp|cùng)(?:\s+với)?\s*:?"
    r"|(?<!\btrong)\s+và\s+",
    re.IGNORECASE,
)
_LINE_BREAK_RE = re.compile(r"[\r\n\u2028\u2029]+")
_PARENTHESES_RE = re.compile(r"\([^()]*\)")  # "(chủ trì)", "(để thực hiện)": remarks, not owners
_PART_TRIM = " .:()[]\"'*•·"
# Counts and quantifiers in front of a role: "05 Giáo viên", "các giáo viên", "1. HT".
_QUANTIFIER_RE = re.compile(r"^(?:[0-9]+[.)]?\s*|(?:cac|nhung|toan the|toan bo|tat ca)\s+)+")


def _role_index(roles: Any, aliases: Any) -> tuple[dict[str, str], tuple[str, ...]]:
    """Folded label -> canonical role, and the labels longest first for prefix matching.
    Roles come before aliases, so a role wins over an alias that folds the same."""
    index: dict[str, str] = {}
    for role in _strings(roles):
        index.setdefault(fold(role), clean(role))
    for alias, role in _str_pairs(aliases):
        if isinstance(role, str):
            index.setdefault(fold(alias), clean(role))
    index.pop("", None)
    return index, tuple(sorted(index, key=len, reverse=True))


def _role_key(text: str) -> str:
    return _QUANTIFIER_RE.sub("", fold(_PARENTHESES_RE.sub(" ", text)).strip(_PART_TRIM))


def _lookup(key: str, index: dict[str, str], longest_first: tuple[str, ...]) -> str | None:
    if key in index:
        return index[key]
    # "Phó hiệu trưởng xây dựng kế hoạch", "NV toàn trường": the part starts with a role.
    # Longest first, so "Phó hiệu trưởng phụ trách chuyên môn" is not "Phó hiệu trưởng".
    return next((index[label] for label in longest_first if key.startswith(label + " ")), None)


def match_role(text: Any, roles: Sequence[str], aliases: Mapping[str, str]) -> str | None:
    """The canonical role one value names (fold-equal to a role or alias, or starting
    with one), or None."""
    key = _role_key(clean(text)) if isinstance(text, str) else ""
    return _lookup(key, *_role_index(roles, aliases)) if key else None


def _owner_parts(text: str) -> list[str]:
    # Line breaks separate owners, but `clean` would turn them into spaces: mark them first.
    marked = _LINE_BREAK_RE.sub(";", text)
    flat = _PARENTHESES_RE.sub(" ", clean(marked))
    parts = (clean(p).strip(_PART_TRIM) for p in _OWNER_SPLIT_RE.split(flat))
    return [p for p in parts if p]


def parse_owners(value: Any, roles: Sequence[str], aliases: Mapping[str, str]) -> Owners | None:
    """Read "Chủ trì và phối hợp": the first owner leads, the others collaborate."""
    if not isinstance(value, str):
        return None
    index, longest_first = _role_index(roles, aliases)
    names: list[str] = []
    unknown: list[str] = []
    for part in _owner_parts(value):
        role = _lookup(_role_key(part), index, longest_first)
        if role is None:
            unknown.append(part)
        names.append(role or part)
    if not names:
        return None
    names = list(dict.fromkeys(names))
    return Owners(names[0], tuple(names[1:]), tuple(dict.fromkeys(unknown)), clean(value))
