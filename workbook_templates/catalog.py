"""Criteria catalogs (one framework per circular), loaded from YAML and validated.

The catalog is data: a district can pass its own file with ``--catalog``.  Nothing here
assumes five standards, Mức 4, or a criterion count; the code only relies on the shape
checked by :func:`load_catalog`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import SpecError
from .spec_io import need, read_yaml

BUILTIN_CATALOG = "criteria_catalog.yaml"
# A confidence note starting with one of these marks a framework as not verified against
# the official text: templates built on it say so on the Hướng dẫn sheet.
_UNVERIFIED_PREFIXES = ("LOW", "MEDIUM-LOW")


@dataclasses.dataclass(frozen=True)
class Criterion:
    code: str
    name: str
    standard: str  # the standard's code, or "" for a Mức 4 item
    levels: tuple[int, ...]  # Mức levels this criterion can be targeted at

    @property
    def label(self) -> str:
        """What a dropdown shows and a school picks: ``"1.1 - Phương hướng, ..."``."""
        return f"{self.code} - {self.name}"


@dataclasses.dataclass(frozen=True)
class Standard:
    code: str
    name: str
    criteria: tuple[Criterion, ...]

    @property
    def label(self) -> str:
        return f"Tiêu chuẩn {self.code} - {self.name}"


@dataclasses.dataclass(frozen=True)
class Framework:
    id: str
    number: str
    title: str
    school_levels: tuple[str, ...]
    levels: tuple[int, ...]  # assessment levels (Mức) of the framework
    standards: tuple[Standard, ...]
    top_items: tuple[Criterion, ...]  # Mức 4 items (empty when the framework has none)
    confidence: str
    verified: bool
    # the circular's date (ISO), "" when the catalogue gives none; outside repr and ==, so a
    # template's id (built from the framework's repr) does not change with it
    issued: str = dataclasses.field(default="", repr=False, compare=False)

    @property
    def label(self) -> str:
        """What a person reads for the framework ("Thông tư 18/2018/TT-BGDĐT"); the id stays
        in machine exports."""
        return f"Thông tư {self.number}"

    @property
    def top_level(self) -> int | None:
        """The level whose items form their own section (Mức 4), if the framework has one."""
        return max(self.levels) if self.top_items else None

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for s in self.standards for c in s.criteria)

    def all_items(self) -> tuple[Criterion, ...]:
        return self.criteria + self.top_items

    def find(self, code: str) -> Criterion | None:
        for c in self.all_items():
            if c.code == code:
                return c
        return None


@dataclasses.dataclass(frozen=True)
class Catalog:
    source: str
    frameworks: tuple[Framework, ...]
    digest: str  # sha256 of the file, first 12 hex: part of a template's identity

    def get(self, framework_id: str) -> Framework:
        for f in self.frameworks:
            if f.id == framework_id:
                return f
        known = ", ".join(f.id for f in self.frameworks)
        raise SpecError(self.source, f"không có khung tiêu chí '{framework_id}' (có: {known})",
                        f"no framework '{framework_id}' (known: {known})")

    def for_level(self, school_level: str) -> list[Framework]:
        """Frameworks applying to a school level, verified ones first, file order kept."""
        hits = [f for f in self.frameworks if school_level in f.school_levels]
        return sorted(hits, key=lambda f: not f.verified)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate a catalog file (the built-in one when ``path`` is None)."""
    if path is None:
        return _builtin()
    return _parse(*read_yaml(path, BUILTIN_CATALOG))


@lru_cache(maxsize=1)
def _builtin() -> Catalog:
    return _parse(*read_yaml(None, BUILTIN_CATALOG))


def _parse(data: Any, source: str, raw: bytes) -> Catalog:
    items = data.get("circulars")
    if not isinstance(items, list) or not items:
        raise SpecError(source, "thiếu danh sách 'circulars'", "missing 'circulars' list")
    try:
        frameworks = tuple(_framework(x, source, i) for i, x in enumerate(items, 1))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(source, f"giá trị không hợp lệ ({exc})", f"invalid value ({exc})") from None
    ids = [f.id for f in frameworks]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise SpecError(source, f"mã khung bị trùng: {', '.join(sorted(dup))}", "duplicate framework id")
    return Catalog(source, frameworks, hashlib.sha256(raw).hexdigest()[:12])


def _framework(obj: Any, source: str, index: int) -> Framework:
    where = f"circulars[{index}]"
    fid = str(need(obj, "id", source, where))
    where = f"khung '{fid}'"
    levels = tuple(int(x) for x in need(obj, "assessment_levels", source, where))
    standards = tuple(_standard(s, source, where, levels) for s in need(obj, "standards", source, where))
    top = tuple(_item(m, source, where, max(levels)) for m in (obj.get("muc4") or []))
    fw = Framework(
        id=fid,
        number=str(obj.get("number", fid)),
        title=str(obj.get("title", "")),
        school_levels=tuple(str(x) for x in need(obj, "school_levels", source, where)),
        levels=levels,
        standards=standards,
        top_items=top,
        confidence=str(obj.get("confidence", "")),
        verified=not str(obj.get("confidence", "")).upper().startswith(_UNVERIFIED_PREFIXES),
        issued=_iso_date(obj.get("issued")),
    )
    codes = [c.code for c in fw.all_items()]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise SpecError(source, f"{where}: mã tiêu chí bị trùng: {', '.join(dup)}", "duplicate criterion code")
    return fw


def _iso_date(value: Any) -> str:
    """``issued`` as an ISO date ("2018-08-22"), or "" when absent or not a date."""
    try:
        return dt.date.fromisoformat(str(value)).isoformat() if value else ""
    except ValueError:
        return ""


def _standard(obj: Any, source: str, where: str, levels: tuple[int, ...]) -> Standard:
    code = str(need(obj, "code", source, where))
    inner = f"{where}, tiêu chuẩn {code}"
    crits = []
    for c in need(obj, "criteria", source, inner):
        ccode = str(need(c, "code", source, inner))
        if not ccode.startswith(code + "."):
            raise SpecError(source, f"{inner}: tiêu chí '{ccode}' không thuộc tiêu chuẩn {code}",
                            f"criterion '{ccode}' does not belong to standard {code}")
        own = tuple(int(x) for x in (c.get("levels_defined") or levels) if int(x) in levels)
        crits.append(Criterion(ccode, str(need(c, "name", source, inner)).strip(), code, own))
    return Standard(code, str(need(obj, "name", source, inner)).strip(), tuple(crits))


def _item(obj: Any, source: str, where: str, top: int) -> Criterion:
    code = str(need(obj, "code", source, where))
    name = str(obj.get("short_name") or need(obj, "content", source, where)).strip()
    return Criterion(code, name, "", (top,))
