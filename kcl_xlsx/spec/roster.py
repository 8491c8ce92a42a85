"""The office's roster of schools (CSV or XLSX): who should send a plan.

Columns are found by header, in English or Vietnamese, case- and diacritic-insensitively
(``school_code`` / ``Mã trường``...).  Required: code, name, level.  Optional: unit (the
managing office; the roster decides the hierarchy) and any contact columns, kept as they
are for the "Chưa nộp" list.
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import io
import re
from importlib import resources
from pathlib import Path

from workbook_templates.errors import SpecError
from workbook_templates.form import Form

from kcl_xlsx.base.text import number_text
from kcl_xlsx.spec.freetext import clean, fold
from kcl_xlsx.spec.issues import Code, Issue

SAMPLE = "sample"  # --roster sample: the roster shipped with the package

# column -> accepted headers (compared after fold())
HEADERS = {
    "school_code": ("school_code", "code", "ma truong", "ma", "ma so truong", "ma don vi"),
    "school_name": ("school_name", "name", "ten truong", "truong", "ten don vi"),
    "level": ("level", "cap hoc", "cap", "bac hoc"),
    "unit": ("unit", "don vi quan ly", "don vi", "phong gd&dt", "co quan quan ly", "xa/phuong"),
}
REQUIRED = ("school_code", "school_name", "level")


@dataclasses.dataclass(frozen=True)
class School:
    code: str
    name: str
    level: str  # a form level key (mam-non, tieu-hoc, ...)
    unit: str = ""
    contact: tuple[tuple[str, str], ...] = ()  # other roster columns, as written
    row: int = 0  # 1-based row in the roster file


@dataclasses.dataclass(frozen=True)
class Roster:
    source: str
    schools: tuple[School, ...]
    contact_headers: tuple[str, ...] = ()

    def by_code(self) -> dict[str, School]:
        return {s.code: s for s in self.schools}


def load_roster(path: str | Path, form: Form) -> Roster:
    """Read and validate a roster; any problem is one SpecError naming the file and row."""
    if str(path) == SAMPLE:
        ref = resources.files("kcl_xlsx") / "data" / "sample_roster.csv"
        return _parse(_read_csv(ref.read_bytes(), "<built-in>/sample_roster.csv"), "<built-in>/sample_roster.csv", form)
    p = Path(path)
    if not p.is_file():
        raise SpecError(p, "không tìm thấy tệp danh sách trường", "roster file not found")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        table = _read_sheet(p)
    else:
        table = _read_csv(p.read_bytes(), str(p))
    return _parse(table, str(p), form)


def _read_csv(raw: bytes, source: str) -> list[list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(source, "tệp CSV không phải UTF-8 (trong Excel: Lưu thành > CSV UTF-8)",
                        "CSV is not UTF-8") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _read_sheet(path: Path) -> list[list[str]]:
    from python_calamine import CalamineWorkbook  # local: only a workbook roster needs it

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types
        raise SpecError(path, f"không đọc được bảng tính ({type(exc).__name__})", "cannot read workbook") from None
    return [[_cell_text(v) for v in row] for row in rows]


def _cell_text(value: object) -> str:
    # number_text, and an empty cell (None) as "" rather than "None".
    return "" if value is None else number_text(value)


def _parse(table: list[list[str]], source: str, form: Form) -> Roster:
    table = [row for row in table if any(clean(c) for c in row)]
    if not table:
        raise SpecError(source, "danh sách trường rỗng", "the roster is empty")
    header = [fold(h) for h in table[0]]
    cols = {key: next((i for i, h in enumerate(header) if h in names), None) for key, names in HEADERS.items()}
    missing = [k for k in REQUIRED if cols[k] is None]
    if missing:
        raise SpecError(source, f"thiếu cột {', '.join(missing)} (dòng tiêu đề: {', '.join(table[0])})",
                        f"missing column(s) {', '.join(missing)}")
    if len(table) == 1:
        raise SpecError(source, "danh sách trường rỗng (chỉ có dòng tiêu đề)", "the roster has no schools")
    used = {i for i in cols.values() if i is not None}
    extra = [(i, clean(table[0][i])) for i in range(len(table[0])) if i not in used and clean(table[0][i])]
    schools, seen = [], {}
    for n, row in enumerate(table[1:], 2):
        get = lambda key: clean(row[cols[key]]) if cols[key] is not None and cols[key] < len(row) else ""  # noqa: E731
        code, name = get("school_code"), get("school_name")
        if not code or not name:
            raise SpecError(source, f"dòng {n}: thiếu mã trường hoặc tên trường", f"row {n}: missing code or name")
        if code in seen:
            raise SpecError(source, f"mã trường '{code}' bị trùng (dòng {seen[code]} và {n})",
                            f"duplicate school code '{code}' (rows {seen[code]} and {n})")
        seen[code] = n
        contact = tuple((h, clean(row[i]) if i < len(row) else "") for i, h in extra)
        schools.append(School(code, name, _level(get("level"), form, source, n), get("unit"), contact, n))
    return Roster(source, tuple(schools), tuple(h for _, h in extra))


def _level(text: str, form: Form, source: str, row: int) -> str:
    folded = fold(text)
    bare = re.sub(r"^(truong|cap)\s+", "", folded)  # "Trường THCS", "Cấp tiểu học"
    for lvl in form.levels:
        names = {fold(n) for n in (lvl.key, lvl.label, lvl.catalog, *lvl.aliases)}
        if folded in names or bare in names:
            return lvl.key
    known = ", ".join(lvl.key for lvl in form.levels)
    raise SpecError(source, f"dòng {row}: cấp học '{text}' không rõ (dùng: {known})",
                    f"row {row}: unknown level '{text}'")


def name_key(name: str, form: Form) -> str:
    """A school's name as a person compares it: folded, the word "Trường" dropped, the
    level abbreviations the form knows spelled out ("TRƯỜNG MN KỸ NĂNG SỐNG" and "Trường
    Mầm non Kỹ Năng Sống" -> "mam non ky nang song"); a Word plan names its school so."""
    words = re.sub(r"[^a-z0-9]+", " ", fold(name)).split()
    if words[:1] == ["truong"]:
        words = words[1:]
    spelled = _abbreviations(form.levels)
    return " ".join(spelled.get(w, w) for w in words)


@functools.lru_cache(maxsize=8)  # per form: a run keys every roster school's name (10,000)
def _abbreviations(levels: tuple) -> dict[str, str]:
    # a level's one-word capital alias (MN, TH, THCS, THPT) -> its label, folded
    out: dict[str, str] = {}
    for lvl in levels:
        for alias in lvl.aliases:
            if alias.isupper() and alias.isalpha() and " " not in alias:
                out.setdefault(fold(alias), re.sub(r"[^a-z0-9]+", " ", fold(lvl.label)).strip())
    return out


def compare_with_roster(code: str, name: str, level: str, roster: Roster) -> list[Issue]:
    """What a file's school identity says against the roster: unknown code, other level,
    other name (compared diacritic-insensitively)."""
    if not code:
        return []
    school = roster.by_code().get(code)
    if school is None:
        return [Issue.make(Code.ROSTER_UNKNOWN_SCHOOL, value=code, file=roster.source)]
    issues = []
    if level and level != school.level:
        issues.append(Issue.make(Code.ROSTER_LEVEL_MISMATCH, value=level, expected=school.level))
    if name and fold(name) != fold(school.name):
        issues.append(Issue.make(Code.ROSTER_NAME_MISMATCH, value=name, expected=school.name))
    return issues
