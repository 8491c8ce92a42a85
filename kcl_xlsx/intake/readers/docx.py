"""Read a plan written in Word (.docx) into the same :class:`RawPlan` a workbook becomes, so
the checker's rules run on it unchanged.

What a Word plan is (../shared/DOMAIN.md, the seeds): an official document whose section III
holds the nine-column table (TT | Tiêu chuẩn, tiêu chí | Kết quả cần đạt | Công việc/giải
pháp | Chủ trì và phối hợp thực hiện | Thời gian thực hiện và hoàn thành | Dự kiến kinh phí |
Điều kiện hỗ trợ khác | Ghi chú), its rows grouped under "MỨC 1, 2, 3" / "MỨC 4" and
"Tiêu chuẩn N: ..." rows spanning the table.  The reader:

* finds the plan's table among the document's tables by its header texts (the form's
  groups and field headers, and the wordings in ``kcl_xlsx/data/word_reader.yaml``), also
  when the header runs over two rows ("Chủ trì và phối hợp" / "thực hiện"); a table right
  after it with the same columns (a table cut at a page break) continues it;
* walks the grid itself (:mod:`word_grid`: merges, tracked changes, nested tables);
* turns each action row into the form's fields: the criterion cell as written (the
  standard's row above gives the standard; a row without a criterion takes the one above);
  the section gives the Mức: a row under "MỨC 4" is Mức 4, a row under "MỨC 1, 2, 3" has no
  single Mức (the section 1-3), which is how real plans are written, so the level field is
  not a column of a Word plan (the checker's rules on a field without a column do not run);
* leaves every free-text cell as written: one "Chủ trì và phối hợp" cell goes to the lead
  field, one time cell to the start field, one cost cell to the budget field, and the
  normaliser (check/normalize.py) splits and reads them as it does a workbook's free text
  (lead + collaborators, start + end, budget min/max + funding), each reading reported;
* a cost cell merged down several action rows is the cost of them together: it is read on
  its first row only (repeating it would count it twice); other merged cells repeat.

Positions: ``RawRow.row`` numbers the plan's rows (its tables' rows, header included, one
count), :attr:`RawPlan.row_places` says in which table and row each one is, and
:attr:`RawPlan.column_headers` the column's header as the document writes it, so that an
issue reads "Bảng 2, dòng 7, cột Dự kiến kinh phí".

Usage (the checker does this inside its worker, after the pre-flight)::

    from kcl_xlsx.spec.plan_spec import Sources
    from kcl_xlsx.intake.readers.docx import read_docx

    sources = Sources.load()
    raw = read_docx(Path("ke-hoach.docx").read_bytes(), sources.form, sources.catalog)
    raw.info        # {"school_name": "TRƯỜNG MN KỸ NĂNG SỐNG", "year": "2024-2025", "level": "mam-non", ...}
    raw.rows[0]     # RawRow(4, {"criterion": "Tiêu chí 1.1:", "lead": "Ban giám hiệu, các tổ trưởng", ...})
    raw.row_places  # {4: (2, 4), ...}: RawRow.row -> (table, row in that table)

or, with every check and the normalised rows: ``kcl_xlsx.check.checker.check_path(path)``
(``Submission.source_kind == "word"``), or ``kcl-xlsx check ke-hoach.docx``.
"""
from __future__ import annotations

import dataclasses
import io
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from docx.package import Package

from workbook_templates.catalog import Catalog
from workbook_templates.form import Form
from workbook_templates.spec_io import load_yaml

from kcl_xlsx.spec.freetext import clean, fold
from kcl_xlsx.spec.vocab import SourceKind
from kcl_xlsx.spec.issues import Code, Issue
from kcl_xlsx.intake.package_meta import read_meta
from kcl_xlsx.intake.readers.word_grid import W_P, Table, paragraph_text, paragraphs, tables
from kcl_xlsx.intake.readers.word_identity import document_info
from kcl_xlsx.intake.readers.xlsx import RawPlan, RawRow, norm_header

SOURCE_KIND = SourceKind.WORD.value  # the vocabulary's code (labels.yaml: "Word")
NUMBER = "#"  # the row-number column (TT): not a field


class WordReadError(Exception):
    """The package is not a Word document python-docx can open (a damaged or fake .docx)."""


@lru_cache(maxsize=1)
def _settings() -> dict[str, Any]:
    text = (resources.files("kcl_xlsx") / "data" / "word_reader.yaml").read_text(encoding="utf-8")
    return load_yaml(text)


def table_label(number: int) -> str:
    """How a table is named to a person: "Bảng 2"."""
    return f"Bảng {number}"


def place(table: int, row: int, column: str = "") -> str:
    """An issue's position in a Word plan: "Bảng 2, dòng 7, cột Dự kiến kinh phí"."""
    return f"{table_label(table)}, dòng {row}" + (f", cột {column}" if column else "")


def funding_source_field(form: Form) -> str | None:
    """The field whose cell may name a Word plan's funding source (``funding_source_column``
    in word_reader.yaml: the official column, a group of the form)."""
    column = norm_header(_settings()["funding_source_column"])
    return next((f.key for f in form.fields if norm_header(f.group) == column), None)


def read_docx(data: bytes, form: Form, catalog: Catalog | None = None, file_name: str = "") -> RawPlan:
    """The plan of a .docx (its bytes, pre-flighted).  ``catalog`` decides the framework and
    the level from the circular the document cites; ``file_name`` is the last resort for the
    school's level.  Raises :class:`WordReadError` when python-docx cannot open it."""
    try:
        body = _body(data)
    except Exception as exc:  # python-docx raises KeyError, ValueError, PackageNotFoundError...
        raise WordReadError(f"{type(exc).__name__}: {exc}"[:300]) from None
    if body is None:
        raise WordReadError("the main document part has no w:body")
    issues: list[Issue] = []
    found = tables(body)
    layout = _PlanLayout(form)
    chosen = _choose(found, layout, issues)
    plan = RawPlan(sheet=None, header_row=None, columns={}, rows=[], identity_copies={}, info={}, info_rows={},
                   staff=[], lists={}, sheet_names=[], sheet_states={}, meta=read_meta(data, "docx"), issues=issues,
                   form=form, source_kind=SOURCE_KIND, tables=len(found))
    before, after = _lines_around(body, [p.table.element for p in chosen])
    plan.info = document_info(before, after, form, catalog, file_name)
    if chosen:
        _read_rows(chosen, layout, form, plan)
    return plan


def _body(data: bytes):
    """The main document's ``w:body``, through python-docx's package reader.  Not
    ``docx.Document``: it refuses a macro-enabled document (.docm), whose text and tables are
    the same; its macros are never run (nothing here runs anything)."""
    package = Package.open(io.BytesIO(data))
    part = package.part_related_by(RT.OFFICE_DOCUMENT)
    element = getattr(part, "element", None)
    if element is None:  # a content type python-docx has no part class for (.docm)
        element = parse_xml(part.blob)
    return element.find(qn("w:body"))


# --------------------------------------------------------------------------- columns


class _PlanLayout:
    """The form's columns as a Word table names them: folded header -> field key."""

    def __init__(self, form: Form):
        settings = _settings()
        r = form.roles
        primary = {r.criterion, r.lead, r.start, r.budget}
        self.fields = {norm_header(f.header): f.key for f in form.fields}
        self.groups: dict[str, str] = {}
        for group in form.groups:
            keys = [f.key for f in form.fields if f.group == group]
            if keys:
                self.groups[norm_header(group)] = next((k for k in keys if k in primary), keys[0])
        self.aliases = sorted(((norm_header(k), norm_header(v)) for k, v in settings["header_aliases"].items()),
                              key=lambda kv: -len(kv[0]))
        self.numbers = {norm_header(x) for x in settings["number_headers"]}
        self.min_columns = int(settings["min_columns"])
        self.scan_rows = int(settings["header_scan_rows"])
        self.level, self.standard, self.criterion, self.budget = r.level, r.standard, r.criterion, r.budget
        self.start, self.end = r.start, r.end
        self.standard_words = tuple(settings["standard_words"])
        self.criterion_words = tuple(settings["criterion_words"])

    def field_of(self, header: str) -> str | None:
        """The field a header cell names (NUMBER for TT), or None."""
        h = norm_header(header)
        if not h:
            return None
        if h in self.numbers:
            return NUMBER
        hit = self.fields.get(h) or self.groups.get(h)
        if hit:
            return hit
        for name, key in self.groups.items():  # cut short or run on: "Chủ trì và phối hợp"
            if len(h) >= 8 and (name.startswith(h) or h.startswith(name)):
                return key
        for phrase, target in self.aliases:
            if h == phrase or h.startswith(phrase + " "):
                return self.fields.get(target) or self.groups.get(target)
        return None


def _header_texts(table: Table, rows: range) -> list[str]:
    """Each grid column's header text over ``rows`` (a header split over two rows joined)."""
    out = []
    grid = table.head(rows.stop)
    for c in range(table.width):
        parts, seen = [], set()
        for r in rows:
            row = grid[r]
            cell = row[c] if c < len(row) else None
            if cell is not None and id(cell) not in seen and cell.text.strip():
                seen.add(id(cell))
                parts.append(cell.text)
        out.append(clean(" ".join(parts)))
    return out


def _columns(table: Table, layout: _PlanLayout) -> tuple[int, dict[str, int], list[str]]:
    """(header rows, field -> grid column, column headers) of the best header found in the
    first rows: one row, or with the next row when that row only carries on its words
    ("Chủ trì và phối hợp" / "thực hiện")."""
    best: tuple[int, int, dict[str, int], list[str]] = (0, 0, {}, [])
    for start in range(min(layout.scan_rows, table.row_count)):
        height = 1
        while start + height < table.row_count and height < 3 and _carries_on(table, start + height):
            height += 1
        texts = _header_texts(table, range(start, start + height))
        columns: dict[str, int] = {}
        for c, text in enumerate(texts):
            key = layout.field_of(text)
            if key and key not in columns:
                columns[key] = c
        if len(columns) > best[0]:
            best = (len(columns), start + height, columns, texts)
    return best[1], best[2], best[3]


def _carries_on(table: Table, r: int) -> bool:
    """Row ``r`` belongs to the header above it: its own cells hold only short words, no
    number (a header's second line), the rest are the header's cells merged down."""
    row = table.head(r + 1)[r]
    own = [c.text for c in row if c is not None and c.row == r and c.text.strip()]
    merged = [c for c in row if c is not None and c.row < r]
    if not own and not merged:
        return False
    return all(len(t) < 30 and not re.search(r"\d", t) for t in own) and (bool(own) or len(merged) == len(row))


@dataclasses.dataclass(eq=False)
class _Part:
    """A table read as (part of) the plan: how many header rows it has, where each field's
    column is, and the headers as written."""

    table: Table
    header_rows: int
    columns: dict[str, int]
    headers: list[str]

    @property
    def number(self) -> int:
        return self.table.number

    def has_data(self) -> bool:
        return self.table.row_count > self.header_rows


def _choose(found: list[Table], layout: _PlanLayout, issues: list[Issue]) -> list[_Part]:
    """The plan's table (and the tables continuing it after a page break), or [] with the issue."""
    parts = [_Part(t, *_columns(t, layout)) for t in found]
    scored = [p for p in parts if len(p.columns) >= layout.min_columns and layout.criterion in p.columns]
    if not scored:
        issues.append(Issue.make(Code.WORD_NO_PLAN_TABLE, value=str(len(found))))
        return []
    chosen = [next((p for p in scored if p.has_data()), scored[0])]
    start = next(i for i, p in enumerate(parts) if p is chosen[0])  # by identity: two tables may be equal
    for p in parts[start + 1:]:
        if not _continues(chosen[-1], p, layout):
            continue
        if not any(p is q for q in scored):  # a continuation without its own header: the first's columns
            p = dataclasses.replace(p, header_rows=0, columns=chosen[0].columns)
        chosen.append(p)
    taken = {id(c.table) for c in chosen}
    others = [p for p in scored if id(p.table) not in taken and p.has_data()]
    if others:
        issues.append(Issue.make(Code.WORD_TWO_PLAN_TABLES, sheet=table_label(chosen[0].number),
                                 value=", ".join(table_label(t.number) for t in sorted([*chosen[:1], *others],
                                                                                        key=lambda t: t.number))))
        return []
    names = ", ".join(table_label(t.number) for t in chosen)
    issues.append(Issue.make(Code.WORD_TABLE_CHOSEN, sheet=table_label(chosen[0].number), value=names,
                             count=str(len(found))))
    return chosen


def _continues(before: _Part, after: _Part, layout: _PlanLayout) -> bool:
    """``after`` carries ``before`` on (a table cut in two at a page break): the same
    width, its header the same or none, and nothing but empty paragraphs (page breaks)
    between them."""
    if after.table.width != before.table.width:
        return False
    if len(after.columns) >= layout.min_columns and after.columns != before.columns:
        return False
    node, end = before.table.element.getnext(), after.table.element
    while node is not None and node is not end:
        if node.tag != W_P or paragraph_text(node).strip():
            return False
        node = node.getnext()
    return node is end


# --------------------------------------------------------------------------- rows


# "MỨC 1, 2, 3", "Mức 1, Mức 2, Mức 3", "I. MỨC 1 - 3", "II. CÁC TIÊU CHÍ MỨC 4" (folded)
_SECTION = re.compile(r"^(?:[a-z0-9]{1,4}[.)]\s*)?(?:cac tieu chi\s+)?muc\s+"
                      r"(?P<levels>[0-9ivx]+(?:\s*(?:,|va|-|–)?\s*(?:muc\s*)?[0-9ivx]+)*)\s*$")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_COLUMN_NUMBERS = re.compile(r"^\(?\d{1,2}\)?$")


def _section(text: str) -> list[int] | None:
    """The levels of a section row ("MỨC 1, 2, 3" -> [1, 2, 3]; "MỨC 4" -> [4]), else None."""
    m = _SECTION.match(fold(text).replace(":", " ").strip())
    if not m:
        return None
    levels = [n for n in map(_number, re.findall(r"[0-9]+|[ivx]+", m["levels"])) if n]
    if len(levels) == 2 and re.search(r"[-–]", m["levels"]):  # "1 - 3": a range
        levels = list(range(levels[0], levels[1] + 1))
    return levels or None


def _number(part: str) -> int:
    return int(part) if part.isdigit() else _ROMAN.get(part, 0)


def _read_rows(chosen: list[_Part], layout: _PlanLayout, form: Form, plan: RawPlan) -> None:
    first = chosen[0]
    columns, headers = first.columns, first.headers
    fields = {k: c for k, c in columns.items() if k != NUMBER}
    plan.sheet = table_label(first.number)
    plan.header_row = first.header_rows
    # derived fields share their column's cell: the lead's column holds the collaborators too...
    by_group = {f.key: f.group for f in form.fields}
    for f in form.fields:
        if f.key not in fields and f.key != layout.level:
            owner = next((k for k, c in fields.items() if by_group.get(k) == f.group), None)
            if owner is not None:
                fields[f.key] = fields[owner]
    plan.columns = fields
    plan.column_headers = {k: headers[c] for k, c in fields.items()}
    state = _State()
    offset = 0
    budget_col = fields.get(layout.budget)
    read_cols = {k: c for k, c in columns.items() if k != NUMBER}
    limit = int(_settings()["max_table_rows"])
    data_rows = sum(p.table.row_count - p.header_rows for p in chosen)
    if data_rows > limit:
        # thousands of rows are no school's plan: one issue, not thousands
        plan.issues.append(Issue.make(Code.WORD_TABLE_TOO_LONG, sheet=plan.sheet, value=str(data_rows), limit=str(limit)))
        plan.sheet = None
        return
    for part in chosen:
        t = part.table
        for r in range(part.header_rows, len(t.grid)):
            raw = _row(t, r, read_cols, budget_col, layout, state)
            if raw is not None:
                n = offset + r + 1
                plan.rows.append(RawRow(n, raw))
                plan.row_places[n] = (t.number, r + 1)
        offset += len(t.grid)


class _State:
    """What the group rows above a row say: its section's levels, its standard, its criterion."""

    def __init__(self) -> None:
        self.levels: list[int] | None = None
        self.standard: str | None = None
        self.criterion: str | None = None


def _row(t: Table, r: int, cols: dict[str, int], budget_col: int | None, layout: _PlanLayout,
         state: _State) -> dict[str, Any] | None:
    """Row ``r``'s fields, or None for a row that is no action (empty, a group row, the
    column numbers); a group row updates ``state``."""
    row = t.grid[r]
    cells = {}
    owned: set[int] = set()  # a cell spanning several field columns is read in its first one
    for key, c in sorted(cols.items(), key=lambda kv: kv[1]):
        cell = row[c] if c < len(row) else None
        if cell is None or id(cell) in owned:
            cells[key] = None
            continue
        owned.add(id(cell))
        if cell.row != r and c == budget_col:
            cells[key] = None  # a cost merged down several rows: counted once, on its first row
            continue
        cells[key] = cell.text or None
    distinct = list({id(c): c.text for c in row if c is not None and c.text.strip()}.values())
    if not distinct:
        return None
    # a section row: "MỨC 1, 2, 3" / "MỨC 4", alone on its row
    if len(set(distinct)) <= 2 and (levels := next(filter(None, map(_section, distinct)), None)):
        state.levels, state.standard, state.criterion = levels, None, None
        return None
    if all(_COLUMN_NUMBERS.match(x.strip()) for x in distinct):
        return None  # the "(1) (2) ... (9)" row under some headers
    crit_text = cells.get(layout.criterion) or ""
    others = [v for k, v in cells.items() if k != layout.criterion and v]
    folded = fold(crit_text)
    # a standard's row: "Tiêu chuẩn 3: ..." alone (merged across the row, or the other cells empty)
    if not others and folded.startswith(layout.standard_words) and not any(w in folded for w in layout.criterion_words):
        state.standard, state.criterion = clean(crit_text), None
        return None
    # the criterion as written, split from the standard when both share the cell
    if crit_text:
        standard, criterion = _split_standard(crit_text, layout)
        if standard:
            state.standard = standard
        state.criterion = criterion
    if not others:
        return None  # a criterion alone on its row: its actions follow
    cells[layout.criterion] = state.criterion
    cells[layout.standard] = state.standard if not _is_top(state) else None
    if not cells.get(layout.level):  # a table with its own Mức column says it row by row
        cells[layout.level] = _level_text(state)
    if layout.end not in cols and layout.start in cols:
        cells[layout.end] = cells.get(layout.start)  # one time cell: the span it names gives both ends
    return cells


def _split_standard(text: str, layout: _PlanLayout) -> tuple[str | None, str]:
    """("Tiêu chuẩn 1: ...", "Tiêu chí 1.6") from one cell holding both; (None, text) otherwise."""
    folded = fold(text)
    if not folded.startswith(layout.standard_words):
        return None, clean(text)
    lines = [x for x in text.splitlines() if x.strip()]
    for i, line in enumerate(lines):
        if i and fold(line).startswith(layout.criterion_words):
            return clean(" ".join(lines[:i])), clean(" ".join(lines[i:]))
    m = re.search(r"(?i)ti[eê]u\s+ch[ií]\s*\d", text)
    if m and m.start() > 0:
        return clean(text[:m.start()]), clean(text[m.start():])
    return None, clean(text)


def _is_top(state: _State) -> bool:
    return bool(state.levels) and state.levels == [max(state.levels)] and max(state.levels) >= 4


def _level_text(state: _State) -> str | None:
    """The Mức a row has from its section: one level ("MỨC 4" -> "Mức 4"); none under
    "MỨC 1, 2, 3" (the section names no single level)."""
    if state.levels and len(state.levels) == 1:
        return f"Mức {state.levels[0]}"
    return None


# --------------------------------------------------------------------------- document text


def _lines_around(body, plan_tables: list) -> tuple[list[str], list[str]]:
    """The document's lines before the plan table (the header block, the title, Căn cứ) and
    after its last part (Tổ chức thực hiện, the signature)."""
    before: list[str] = []
    after: list[str] = []
    target, left = before, len(plan_tables)
    for child in body:
        holds = [t for t in plan_tables if child is t or t in child.iterdescendants()] if left else []
        if holds:
            left -= len(holds)
            target = after if not left else None
            continue
        if target is not None:
            target.extend(paragraphs(child))
    return before, after
