"""Numbers read from a spreadsheet, as text.

A reader hands back every number as a float: a school code typed as 1001 comes back as
1001.0, and must read "1001" again wherever it is shown or compared.  This is that one rule;
the places that also have their own edges (a blank, NaN, a date, thousands dots in a
message) keep a small wrapper of their own around it."""
from __future__ import annotations

from typing import Any


def int_if_whole(value: Any) -> Any:
    """A float that is a whole number as an int (1001.0 -> 1001); anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def number_text(value: Any) -> str:
    """``str()`` of the value, a whole float without its ".0" ("1001.0" -> "1001")."""
    return str(int_if_whole(value))


def name_list(names: list[str], limit: int = 10, noun: str = "trường") -> str:
    """``"A, B, C"``, or the first ``limit`` and ``"… và 12 trường khác"``: a terminal line
    names names, and stays a line when the list is long."""
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" … và {len(names) - limit} {noun} khác"
