"""What the official plan document says, worked out from a checked plan (a
:class:`~kcl_xlsx.check.checker.Submission`: a filled template, or a Word plan read by its
reader) before any Word is written: the header block, the standard paragraphs with the
school's own values put in, and the nine-column table as printed lines.

The table, as real plans have it (../shared/seeds/): a section line "MỨC 1, 2, 3", then per
standard (in the catalogue's order) a line "1 | Tiêu chuẩn 1: ..." numbered inside the section,
then that standard's rows in the order the school typed them, the criterion written
"Tiêu chí 1.1" (the level aimed at below it) and shown once for consecutive rows of the same
criterion (the cells are merged); then "MỨC 4", whose rows are numbered per criterion and
written as plans number them inside Mức 4 ("M4.2 - ..." is "Tiêu chí 2").  Rows whose
standard cannot be told come last in their section, under "(Chưa xác định tiêu chuẩn)".

Only :class:`Submission` fields are used (rows' values and derived codes, info, level, year,
framework), so a Word plan renders like a template."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any, Mapping

from workbook_templates.catalog import Framework
from workbook_templates.document_text import DocumentText

from kcl_xlsx.base.text import number_text
from kcl_xlsx.check.checker import PlanRow, Submission
from kcl_xlsx.spec.freetext import clean
from kcl_xlsx.spec.plan_spec import PlanSpec
from kcl_xlsx.spec.vocab import Section

TT_HEADER = "TT"
UNKNOWN_STANDARD = "(Chưa xác định tiêu chuẩn)"
SECTION, STANDARD, ROW = "section", "standard", "row"
_STANDARD_CODE = re.compile(r"^\s*Tiêu\s+chuẩn\s+([0-9A-Za-z]+)", re.IGNORECASE)


def printed_label(label: str, top: bool) -> str:
    """A catalogue label as the official table writes it: "1.1 - Name" -> "Tiêu chí 1.1";
    a Mức 4 item "M4.2 - Name" -> "Tiêu chí 2" (real plans number Mức 4 criteria inside Mức 4)."""
    code = label.split(" - ", 1)[0].strip()
    if top and "." in code:
        code = code.rsplit(".", 1)[1]
    return f"Tiêu chí {code}"


def standard_title(label: str) -> str:
    """"Tiêu chuẩn 1 - Tổ chức ..." -> "Tiêu chuẩn 1: Tổ chức ..." (as plans write it)."""
    head, sep, rest = label.partition(" - ")
    return f"{head}: {rest}" if sep else label


def section_titles(spec: PlanSpec) -> tuple[str, str]:
    """("MỨC 1, 2, 3", "MỨC 4"): the section lines of the table (the second is "" for a
    framework without a separate top level)."""
    levels = [lv for lv in spec.framework.levels if lv != spec.framework.top_level]
    main = "MỨC " + ", ".join(str(lv) for lv in levels)
    return main, (spec.top_label or "").upper()


def vn_number(value: float) -> str:
    """12.5 -> "12,5"; 1500 -> "1.500"; 0.125 -> "0,125" (Vietnamese: thousands dot, decimal
    comma, at most three decimals, no trailing zeros)."""
    whole, _, frac = f"{round(float(value), 3):.3f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    frac = frac.rstrip("0")
    return sign + ".".join(groups or ["0"]) + ("," + frac if frac else "")


def date_line(place: str, when: Any) -> str:
    """"Quận 3, ngày 04 tháng 9 năm 2025" (Nghị định 30/2020: a day below 10 and the months
    1 and 2 with a leading zero); dots where the date or the place is missing."""
    day = _as_date(when)
    if day:
        month = f"{day.month:02d}" if day.month < 3 else str(day.month)
        text = f"ngày {day.day:02d} tháng {month} năm {day.year}"
    else:
        text = "ngày …… tháng …… năm ……"
    return f"{place or '……'}, {text}"


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]) if value else None
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True)
class Line:
    """One printed line of the table.  A section or standard line has a ``title`` (spanning
    the columns after TT; a section line spans TT too); a row has the eight ``cells`` after
    TT.  ``continues``: a row of the same criterion as the row above (TT and criterion cells
    merged with it)."""

    kind: str
    tt: str = ""
    title: str = ""
    cells: tuple[str, ...] = ()
    continues: bool = False
    row: int = 0  # the plan's row number (rows only)


@dataclasses.dataclass(frozen=True)
class DocumentData:
    authority: str
    school: str
    number: str
    motto: tuple[str, str]
    date_line: str
    title: tuple[str, ...]
    year_line: str
    headings: Mapping[str, str]
    purpose: tuple[str, ...]
    basis: tuple[tuple[str, tuple[str, ...]], ...]  # numbered paragraphs, each with its sub-lines
    headers: tuple[str, ...]  # the nine column headers
    lines: tuple[Line, ...]
    organisation: tuple[tuple[str, tuple[str, ...]], ...]
    closing: str
    recipients_title: str
    recipients: tuple[str, ...]
    signer_title: str
    signer: str
    page_header: str
    year: str
    school_name: str  # as written on Thông tin (``school`` is in capitals)


MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def document_data(sub: Submission, spec: PlanSpec, text: DocumentText, rows: list[PlanRow] | None = None) -> DocumentData:
    """Everything the document shows for ``sub`` (checked with ``spec``), its standard text
    from ``text``.  ``rows``: the plan's rows when they are not in ``sub.rows`` itself."""
    info = {k: _text(v) for k, v in sub.info.items()}
    school = info.get("school_name") or sub.school_name
    unit = info.get("unit") or sub.identity.get("unit", "")
    authority = info.get("authority") or unit
    year = spec.year.label
    values = {"year": year, "school": school or "nhà trường", "unit": unit or authority or "đơn vị quản lý",
              "authority": authority or unit or ""}

    def fill(template: str, **more: str) -> str:
        return template.format(**values, **more)

    number = re.sub(r"^\s*Số\s*:?\s*", "", info.get("doc_number", ""), flags=re.IGNORECASE)
    signer = info.get("signer") or (info.get("preparer", "") if _is_principal(info.get("position", "")) else "")
    return DocumentData(
        authority=authority.upper(),
        school=school.upper(),
        number=f"Số: {number or '……/KH-……'}",
        motto=MOTTO,
        date_line=date_line(info.get("place", ""), sub.info.get("date")),
        title=tuple(fill(t) for t in text.title),
        year_line=fill(text.year_line),
        headings=text.headings,
        purpose=tuple(fill(t) for t in text.purpose),
        basis=_basis(sub, spec.framework, text, fill),
        headers=table_headers(spec),
        lines=tuple(table_lines(spec, list(sub.rows if rows is None else rows))),
        organisation=tuple((fill(d.heading), tuple(fill(x) for x in d.lines)) for d in text.organisation),
        closing=fill(text.closing),
        recipients_title=text.recipients_title,
        recipients=tuple(fill(t) for t in text.recipients),
        signer_title=text.signer_title,
        signer=signer,
        page_header=f"{school} - Kế hoạch cải tiến chất lượng giáo dục năm học {year}".strip(" -"),
        year=year,
        school_name=school,
    )


def _is_principal(position: str) -> bool:
    return clean(position).casefold() == "hiệu trưởng"


def _basis(sub: Submission, fw: Framework, text: DocumentText, fill) -> tuple[tuple[str, tuple[str, ...]], ...]:
    b = text.basis
    title = re.sub(r"^\s*Thông\s+tư\s+", "", fw.title or "", flags=re.IGNORECASE).strip()
    issued = _as_date(fw.issued)
    circular = fill(b["circular"], number=fw.number, title=title,
                    date=f" ngày {issued.day}/{issued.month}/{issued.year}" if issued else "")
    circular = re.sub(r"\s+([.,;])", r"\1", re.sub(r"\s{2,}", " ", circular))  # a circular without a title
    legal = (circular, *(fill(x) for x in text.guidance_for(fw.id, fw.school_levels)))
    own = tuple(x for x in (clean(s) for s in str(sub.info.get("basis", "") or "").splitlines()) if x)
    return ((fill(b["self_assessment"]), ()), (fill(b["legal"]), legal), (fill(b["results"]), ()),
            (fill(b["orientation"]), own))


def table_headers(spec: PlanSpec) -> tuple[str, ...]:
    """TT, then the form's column groups that hold a printed field (Theo dõi thực hiện does
    not print)."""
    form = spec.form
    shown = [g for g in form.groups if any(f.group == g for f in form.fields)]
    return (TT_HEADER, *shown[:8])


@dataclasses.dataclass
class _Placed:
    section: str
    standard: str  # the standard's code, "" when unknown (or a Mức 4 row)
    criterion: str  # as printed ("Tiêu chí 1.1\n(Mức 2)")
    cells: tuple[str, ...]
    row: int


def table_lines(spec: PlanSpec, rows: list[PlanRow]) -> list[Line]:
    """The table's lines for ``rows`` (see the module's docstring for the order)."""
    fw = spec.framework
    order = {s.code: i for i, s in enumerate(fw.standards)}
    names = {s.code: standard_title(s.label) for s in fw.standards}
    placed = [_place(r, spec) for r in rows if any(_text(v) for v in r.values.values())]
    main_title, top_title = section_titles(spec)
    lines: list[Line] = []
    for section, title in ((Section.MUC1_3.value, main_title), (Section.MUC4.value, top_title)):
        mine = [p for p in placed if p.section == section]
        if not mine:
            continue
        lines.append(Line(SECTION, title=title or section))
        if section == Section.MUC4.value:
            _rows_of(mine, lines, number=True)
            continue
        groups: dict[str, list[_Placed]] = {}
        for p in mine:
            groups.setdefault(p.standard if p.standard in order else "", []).append(p)
        keys = sorted(groups, key=lambda k: order.get(k, len(order)))
        for n, key in enumerate(keys, 1):
            lines.append(Line(STANDARD, tt=str(n), title=names.get(key, UNKNOWN_STANDARD)))
            _rows_of(groups[key], lines, number=False)
    return lines


def _rows_of(placed: list[_Placed], lines: list[Line], number: bool) -> None:
    """Rows in input order; consecutive rows of one criterion share TT and criterion cells."""
    n, previous = 0, None
    for p in placed:
        same = previous is not None and p.criterion and p.criterion == previous
        if not same:
            n += 1
        tt = str(n) if number and not same else ""
        lines.append(Line(ROW, tt=tt, cells=(p.criterion, *p.cells), continues=bool(same), row=p.row))
        previous = p.criterion


def _place(r: PlanRow, spec: PlanSpec) -> _Placed:
    roles, v, d = spec.form.roles, r.values, r.derived
    top = spec.top_label
    level = _text(v.get(roles.level))
    crit_value = _text(v.get(roles.criterion))
    code = _text(d.get("criterion_code")) or crit_value.split(" - ", 1)[0].strip()
    in_top = (top and level == top) or code in {c.code for c in spec.framework.top_items}
    section = d.get("section") or (Section.MUC4.value if in_top else Section.MUC1_3.value)
    std = _text(d.get("standard_code"))
    if not std:
        m = _STANDARD_CODE.match(_text(v.get(roles.standard)))
        std = m.group(1) if m else (code.split(".", 1)[0] if "." in code and section != Section.MUC4.value else "")
    is_top = section == Section.MUC4.value
    criterion = printed_label(code, is_top) if code else crit_value
    if level and not is_top:
        criterion += f"\n({level})"
    field = {f.key for f in spec.form.fields}
    cells = (_text(v.get(roles.target)), _text(v.get(roles.actions)),
             owners_text(v.get(roles.lead), v.get(roles.collaborators)),
             period_text(v.get(roles.start), v.get(roles.end)),
             budget_text(v.get(roles.budget), v.get(roles.funding)),
             _text(v.get("support")) if "support" in field else "",
             _text(v.get(roles.note)))
    return _Placed(section, std, criterion, cells, r.row)


def owners_text(lead: Any, collaborators: Any) -> str:
    """"Hiệu trưởng; phối hợp: Giáo viên, Nhân viên" (as the reader of free text reads it
    back: the first owner leads, the others collaborate)."""
    lead, col = _text(lead), _text(collaborators)
    if not col:
        return lead
    return f"{lead}; phối hợp: {col}" if lead else f"Phối hợp: {col}"


def period_text(start: Any, end: Any) -> str:
    """"Tháng 9/2025 - Tháng 5/2026"; one of them when the other is missing or the same."""
    s, e = _text(start), _text(end)
    if not e or s == e:
        return s
    return f"{s} - {e}" if s else e


def budget_text(budget: Any, funding: Any) -> str:
    """"12,5 triệu đồng (Ngân sách nhà nước)"; a budget written as text stays as written; no
    amount (or 0): the funding alone."""
    fund = _text(funding)
    if isinstance(budget, (int, float)) and not isinstance(budget, bool):
        amount = f"{vn_number(budget)} triệu đồng" if budget > 0 else ""
    else:
        amount = _text(budget)
    if amount and fund:
        return f"{amount} ({fund})"
    return amount or fund


def _text(value: Any) -> str:
    """A cell's value as printed text: numbers without ".0", blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    if isinstance(value, str):
        return "\n".join(clean(x) for x in value.splitlines() if clean(x))
    return number_text(value)
