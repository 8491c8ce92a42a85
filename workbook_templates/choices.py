"""Choice lists of the template (owners, funding sources, statuses, periods), validated."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from .errors import SpecError
from .spec_io import need, read_yaml

BUILTIN_CHOICES = "choices.yaml"
_YEAR = re.compile(r"^\s*(\d{4})\s*[-–/]\s*(\d{4})\s*$")


@dataclasses.dataclass(frozen=True)
class Option:
    label: str
    key: str
    aliases: tuple[str, ...] = ()
    none: bool = False  # funding: "no money needed"
    done: bool = False  # status: finished
    dropped: bool = False  # status: given up


@dataclasses.dataclass(frozen=True)
class Period:
    """One entry of the Bắt đầu / Hoàn thành dropdown and the months it covers
    (month ordinals: ``year * 12 + month - 1``)."""

    label: str
    first: int
    last: int


@dataclasses.dataclass(frozen=True)
class SchoolYear:
    start: int  # 2025 for "2025-2026"

    @property
    def label(self) -> str:
        return f"{self.start}-{self.start + 1}"

    @property
    def next(self) -> "SchoolYear":
        return SchoolYear(self.start + 1)


def parse_school_year(text: str) -> SchoolYear:
    """``"2025-2026"`` -> SchoolYear(2025); a malformed or reversed year is a SpecError."""
    m = _YEAR.match(str(text))
    if not m:
        raise SpecError("--year", f"năm học '{text}' không đúng dạng NNNN-NNNN (ví dụ 2025-2026)",
                        f"school year '{text}' is not of the form YYYY-YYYY")
    a, b = int(m.group(1)), int(m.group(2))
    if b != a + 1 or not 2000 <= a <= 2100:
        raise SpecError("--year", f"năm học '{text}' phải là hai năm liên tiếp tăng dần (ví dụ 2025-2026)",
                        f"school year '{text}' must be two consecutive years, ascending")
    return SchoolYear(a)


@dataclasses.dataclass(frozen=True)
class Choices:
    source: str
    level_labels: dict[int, str]
    owners: tuple[str, ...]
    owner_aliases: dict[str, str]
    funding: tuple[Option, ...]
    statuses: tuple[Option, ...]
    first_month: int
    years_after: int
    month_label: str
    spans: tuple[tuple[str, int, int], ...]

    def level_label(self, level: int) -> str:
        return self.level_labels.get(level, f"Mức {level}")

    def months(self, year: SchoolYear) -> list[Period]:
        base = year.start * 12 + self.first_month - 1
        out = []
        for offset in range(12 * (1 + self.years_after)):
            o = base + offset
            out.append(Period(self.month_label.format(month=o % 12 + 1, year=o // 12), o, o))
        return out

    def periods(self, year: SchoolYear) -> list[Period]:
        """Months of the school year and the following years, then the named spans."""
        base = year.start * 12 + self.first_month - 1
        spans = [Period(label, base + a, base + b) for label, a, b in self.spans]
        return self.months(year) + spans

    @property
    def no_funding(self) -> Option | None:
        return next((o for o in self.funding if o.none), None)

    def funding_aliases(self) -> dict[str, str]:
        """alias text -> funding key (labels included), for reading free text."""
        out: dict[str, str] = {}
        for o in self.funding:
            for alias in (o.label, *o.aliases):
                out[alias] = o.key
        return out


def load_choices(path: str | Path | None = None) -> Choices:
    data, source, _raw = read_yaml(path, BUILTIN_CHOICES)
    try:
        choices = _parse(data, source)
        choices.months(SchoolYear(2025))  # the month label must format
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(source, f"giá trị không hợp lệ ({type(exc).__name__}: {exc})",
                        f"invalid value ({exc})") from None
    return choices


def _parse(data: dict, source: str) -> Choices:
    levels = need(data, "levels", source, "choices")
    if not isinstance(levels, dict):
        raise SpecError(source, "'levels' phải là bảng số mức -> nhãn", "'levels' must map numbers to labels")
    periods = need(data, "periods", source, "choices")
    spans = tuple((str(need(s, "label", source, "periods.spans")), int(s["from"]), int(s["to"]))
                  for s in periods.get("spans") or [])
    choices = Choices(
        source=source,
        level_labels={int(k): str(v) for k, v in levels.items()},
        owners=_labels(need(data, "owners", source, "choices"), source, "owners"),
        owner_aliases={str(k): str(v) for k, v in (data.get("owner_aliases") or {}).items()},
        funding=_options(need(data, "funding_sources", source, "choices"), source, "funding_sources"),
        statuses=_options(need(data, "statuses", source, "choices"), source, "statuses"),
        first_month=int(periods.get("first_month", 9)),
        years_after=int(periods.get("years_after", 5)),
        month_label=str(periods.get("month_label", "Tháng {month}/{year}")),
        spans=spans,
    )
    if not 1 <= choices.first_month <= 12 or not 0 <= choices.years_after <= 10:
        raise SpecError(source, "periods: first_month phải 1-12, years_after 0-10",
                        "periods: first_month must be 1-12, years_after 0-10")
    return choices


def _labels(items: Any, source: str, where: str) -> tuple[str, ...]:
    if not isinstance(items, list) or not all(isinstance(x, str) and x.strip() for x in items):
        raise SpecError(source, f"'{where}' phải là danh sách chữ", f"'{where}' must be a list of text")
    _no_duplicates([x.strip() for x in items], source, where)
    return tuple(x.strip() for x in items)


def _options(items: Any, source: str, where: str) -> tuple[Option, ...]:
    if not isinstance(items, list):
        raise SpecError(source, f"'{where}' phải là danh sách", f"'{where}' must be a list")
    out = tuple(Option(label=str(need(o, "label", source, where)).strip(),
                       key=str(need(o, "key", source, where)),
                       aliases=tuple(str(a) for a in o.get("aliases") or []),
                       none=bool(o.get("none")), done=bool(o.get("done")), dropped=bool(o.get("dropped")))
                for o in items)
    _no_duplicates([o.label for o in out], source, where)
    return out


def _no_duplicates(labels: list[str], source: str, where: str) -> None:
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise SpecError(source, f"'{where}' có mục trùng: {', '.join(dup)}", f"duplicate entries in '{where}'")
