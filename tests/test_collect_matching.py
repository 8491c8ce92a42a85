"""How a file is matched to a roster school when its identity does not say: a roster code
written in its file or folder name, or a roster school's name written in a folder's name.

The lookups are compared with the plain regex search they replaced (one regex per roster
school, tried in order), which is their definition: the same school for every text."""
from __future__ import annotations

import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from kcl_xlsx.collect.run import _Matcher, _Ranked
from kcl_xlsx.spec.roster import Roster, School


def _first_by_regex(keys: list[tuple[str, str]], *texts: str) -> str:
    """The definition: the first key, in order, written in a text with nothing of
    [a-z0-9] right before or after it."""
    for key, value in keys:
        if key and any(re.search(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])", t) for t in texts):
            return value
    return ""


# texts of folded names: letters and digits, and the separators file names use
_CHARS = string.ascii_lowercase[:6] + "0123" + " -_.!/"
_text = st.text(alphabet=_CHARS, max_size=30)
_key = st.text(alphabet=_CHARS, min_size=0, max_size=6)


@settings(max_examples=400, deadline=None)
@given(keys=st.lists(st.tuples(_key, st.text(alphabet="XYZ", min_size=1, max_size=2)), max_size=12),
       texts=st.lists(_text, min_size=1, max_size=3))
def test_the_first_key_written_in_a_text_is_the_one_the_regex_search_finds(keys, texts):
    assert _Ranked(keys).first_in(*texts) == _first_by_regex(keys, *texts)


def test_a_key_inside_a_longer_word_is_not_written_there():
    ranked = _Ranked([("cs1", "A"), ("cs12", "B")])
    assert ranked.first_in("ke-hoach-cs12.xlsx") == "B"
    assert ranked.first_in("ke-hoach-cs123.xlsx") == ""
    assert ranked.first_in("cs1_ke_hoach") == "A"  # "_" is no letter or digit: a boundary


def _roster(n: int) -> Roster:
    return Roster("test", tuple(School(f"TS{i:04d}", f"Trường Tiểu học Số {i}", "tieu-hoc") for i in range(n)))


def test_a_code_in_the_file_name_is_the_longest_roster_code_written_there():
    roster = Roster("test", (School("CS01", "Trường A", "tieu-hoc"), School("CS01-2", "Trường B", "tieu-hoc"),
                             School("cs03", "Trường C", "tieu-hoc")))
    matcher = _Matcher(roster)
    assert matcher._code_in("ke-hoach cs01-2 (ban 2).xlsx") == "CS01-2"  # not CS01, written inside it
    assert matcher._code_in("cs01.xlsx") == "CS01"
    assert matcher._code_in("nop-lai-cs03!ke-hoach.xlsx") == "cs03"  # the roster's own spelling back
    assert matcher._code_in("cs0123.xlsx") == ""


def test_a_file_that_is_not_a_workbook_is_placed_by_its_folders_name_among_thousands_of_schools():
    matcher = _Matcher(_roster(3000))
    assert matcher.match_path("truong-tieu-hoc-so-2718/ke-hoach.pdf") == ("TS2718", "name")
    assert matcher.match_path("nop/ts0042/anh-chup.jpg") == ("TS0042", "folder")
    assert matcher.match_path("ts0007-ke-hoach.pdf") == ("TS0007", "file_name")
    assert matcher.match_path("truong-tieu-hoc-so-27180/ke-hoach.pdf") == ("", "")  # no such school
