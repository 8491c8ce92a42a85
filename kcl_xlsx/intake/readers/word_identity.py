"""Who sent a Word plan and for which year and level, read from the document's own frame.

Every plan is an official document (văn bản hành chính) with the same frame: the managing
authority in capitals over the school ("ỦY BAN NHÂN DÂN QUẬN 6" / "TRƯỜNG MN KỸ NĂNG
SỐNG") and the number ("Số: 170/KH-MNKNS"); place and date ("Quận 6, ngày 25 tháng 8 năm
2024"); the title with its school year ("Năm học 2024 – 2025"); the circular of the school's
level cited under Căn cứ (Thông tư 17/18/19/2018, 57/2026...); the signer under "HIỆU
TRƯỞNG".  :func:`document_info` reads these from the document's lines (paragraphs and the
header block's table cells) into the form's Thông tin keys; what is not there is left out,
and the checker falls back to the roster, the file name and the command's options.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterable

from workbook_templates.catalog import Catalog, Framework
from workbook_templates.form import Form

from kcl_xlsx.spec.freetext import clean, fold

# Lines of the header block: the frame sits above the title, within the first few lines.
_HEADER_LINES = 25
_AUTHORITY = re.compile(r"^(uy ban nhan dan|ubnd|so giao duc|phong giao duc|so gd|phong gd)\b")
_SCHOOL = re.compile(r"^truong\b")
_NUMBER = re.compile(r"\bSố\s*:\s*([0-9A-Za-zĐđ][0-9A-Za-zĐđ/\-–.]*[0-9A-Za-zĐđ])", re.I)
_PLACE_DATE = re.compile(r"^\s*(?P<place>[^,]{2,60}?)\s*,\s*ngay\s+(?P<d>\d{1,2})\s+thang\s+(?P<m>\d{1,2})"
                         r"\s+nam\s+(?P<y>\d{4})")
_YEAR = re.compile(r"\bnam hoc\s*:?\s*(\d{4})\s*[-–—/]\s*(\d{4})")
_CIRCULAR = re.compile(r"\b(\d{1,3})\s*/\s*(\d{4})\s*/\s*tt\s*[-–]\s*bgd")
_SIGNER_TITLES = re.compile(r"^(kt\.?\s*)?(hieu truong|pho hieu truong|q\.?\s*hieu truong)$")
_NAME = re.compile(r"^[A-ZÀ-Ỹ][^\d,;:()]{2,40}$")


def document_info(lines: list[str], tail: list[str], form: Form, catalog: Catalog | None,
                  file_name: str = "") -> dict[str, str]:
    """The Thông tin values a Word plan states: ``lines`` are the document's lines before
    the plan table, ``tail`` those after it (the signature).  Keys are the form's info keys
    (school_name, authority, doc_number, place, date as YYYY-MM-DD, year "2024-2025",
    level as a form level key, framework as a catalog id, signer)."""
    info: dict[str, str] = {}
    head = [clean(x) for x in lines if clean(x)]
    for i, line in enumerate(head[:_HEADER_LINES]):
        folded = fold(line)
        if "authority" not in info and _AUTHORITY.match(folded) and _mostly_capitals(line):
            info["authority"] = line
        elif "school_name" not in info and _SCHOOL.match(folded) and _mostly_capitals(line):
            info["school_name"] = _school_only(line)
        if "doc_number" not in info and (m := _NUMBER.search(line)):
            info["doc_number"] = m.group(1)
        if "date" not in info and (m := _PLACE_DATE.match(folded)):
            try:
                info["date"] = dt.date(int(m["y"]), int(m["m"]), int(m["d"])).isoformat()
            except ValueError:
                pass
            else:
                info["place"] = line.split(",", 1)[0].strip()
    for line in head:
        m = _YEAR.search(fold(line))
        if m and int(m.group(2)) == int(m.group(1)) + 1:
            info["year"] = f"{m.group(1)}-{m.group(2)}"
            break
    cited = _cited_frameworks(head, catalog)
    level = _level((info.get("school_name", ""), file_name), cited, form)
    if level:
        info["level"] = level
        catalog_level = form.level(level).catalog
        framework = next((fw for fw in cited if catalog_level in fw.school_levels), None)
        if framework is not None:
            info["framework"] = framework.id
    signer = _signer([clean(x) for x in tail if clean(x)])
    if signer:
        info["signer"] = signer
    return info


def _mostly_capitals(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) >= 0.7 * len(letters)


def _school_only(line: str) -> str:
    # "TRƯỜNG MN KỸ NĂNG SỐNG    CỘNG HÒA XÃ HỘI..." when the two columns were typed on one line
    return re.split(r"\s{3,}|\t|CỘNG HÒA|CỘNG HOÀ", line)[0].strip()


def _cited_frameworks(lines: Iterable[str], catalog: Catalog | None) -> list[Framework]:
    """The catalog's frameworks of the first circular cited that is one (several for one
    circular: TT57/2026 has a mầm non, a phổ thông and a GDTX framework)."""
    if catalog is None:
        return []
    by_number: dict[str, list[Framework]] = {}
    for fw in catalog.frameworks:
        m = _CIRCULAR.search(fold(fw.number))
        if m:
            by_number.setdefault(f"{int(m.group(1))}/{m.group(2)}", []).append(fw)
    for line in lines:
        for m in _CIRCULAR.finditer(fold(line)):
            found = by_number.get(f"{int(m.group(1))}/{m.group(2)}")
            if found:
                return found
    return []


def _level(names: tuple[str, ...], cited: list[Framework], form: Form) -> str:
    """The form level: the one the school's name states ("TRƯỜNG MN ...", "Trường THCS ..."),
    else the file's name ("KH-THCS-Colette.docx"), if the cited circular allows it; else the
    only level the circular applies to."""
    allowed = [lv.key for lv in form.levels if not cited or any(lv.catalog in fw.school_levels for fw in cited)]
    for name in names:
        by_name = level_from_name(name, form)
        if by_name and by_name in allowed:
            return by_name
    return allowed[0] if cited and len(allowed) == 1 else ""


def level_from_name(name: str, form: Form) -> str:
    """The form level a school's name states, by the form's level aliases and labels as
    whole words ("TRƯỜNG MN KỸ NĂNG SỐNG" -> mam-non; "Trường TH&THCS ..." -> nhieu-cap);
    "" when it states none or several."""
    words = " " + re.sub(r"[^a-z0-9]+", " ", fold(name)) + " "
    found = []
    for lv in form.levels:
        for alias in sorted((lv.label, *lv.aliases), key=len, reverse=True):
            key = re.sub(r"[^a-z0-9]+", " ", fold(alias)).strip()
            if key and f" {key} " in words:
                found.append((len(key), lv.key))
    if not found:
        return ""
    found.sort(reverse=True)  # "th thcs" (several levels) before "thcs" before "th"
    return found[0][1]


def _signer(tail: list[str]) -> str:
    """The name under the last signer's title of the document ("HIỆU TRƯỞNG" / "(đã ký)" /
    "Nguyễn Thị Hậu")."""
    for i in range(len(tail) - 1, -1, -1):
        if _SIGNER_TITLES.match(fold(tail[i])):
            for after in tail[i + 1:i + 5]:
                if _NAME.match(after) and not _mostly_capitals(after) and len(after.split()) >= 2:
                    return after
            return ""
    return ""
