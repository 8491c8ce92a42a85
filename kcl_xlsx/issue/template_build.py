"""Build one level's template with XlsxWriter, with placeholder tokens where a school's
identity goes (see template_stamp: the per-school file is this one with tokens replaced).

Stages: PlanSpec (data) -> sheets written here -> bytes.  Every XlsxWriter warning is an
error: XlsxWriter drops an invalid validation or name with only a warning.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import warnings
import zipfile
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from macros_free_validation.report import Severity
from macros_free_validation.rules import GUARD, NBSP, ExcelContext

from kcl_xlsx.spec import identity as ident
from kcl_xlsx.spec import layout as L
from kcl_xlsx.issue.guide import write_guide
from kcl_xlsx.issue.print_view import write_print_view
from kcl_xlsx.spec.plan_spec import PlanSpec

PASSWORD = "kcl"  # guards against accidental edits only: anyone can remove it
TOKEN = "@@KCL:{}@@"
STAMPED = ("school_code", "school_name", "unit", "file_id", "signature", "previous_template_id")


def token(field: str) -> str:
    return TOKEN.format(field)


class TemplateBuildError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class Prefill:
    """What a template starts with for one school: a re-issue's last year's unfinished rows
    in the input block (still editable) and its completed rows on a read-only sheet; an
    imported Word plan's rows and the Thông tin fields its header states."""

    rows: tuple[dict[str, Any], ...] = ()
    done: tuple[dict[str, Any], ...] = ()
    previous_year: str = ""
    staff: tuple[str, ...] = ()  # last year's staff list: carried owners stay in the Chủ trì list
    info: tuple[tuple[str, Any], ...] = ()  # (Thông tin field key, value) of fields the school fills

    @property
    def any(self) -> bool:
        return bool(self.rows or self.done or self.staff or self.info)


PREVIOUS_SHEET = "Năm trước"


def build_base(spec: PlanSpec, issue_date: dt.date, catalog_id: str, prefill: Prefill | None = None) -> bytes:
    """The level's template with tokens for the per-school identity fields (and, for a
    re-issue, the school's own rows from last year)."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an XlsxWriter warning means a silently dropped feature
        wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                       "strings_to_urls": False, "strings_to_numbers": False})
        _Builder(wb, spec, issue_date, catalog_id, prefill).build()
        wb.close()
    return share_formulas(out.getvalue(), PLAN_PART, L.FIRST_INPUT_ROW + 1)


# The Kế hoạch sheet is the third sheet the builder adds.
PLAN_PART = "xl/worksheets/sheet3.xml"
SHARED = "=KCLSHARED()"  # placeholder: "same formula as the first input row of this column"
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"((?: [a-z]+="[^"]*")*)><f>([^<]*)</f><v></v></c>')


def share_formulas(package: bytes, part: str, first_row: int) -> bytes:
    """Turn the per-row formulas of the input block into OOXML shared formulas.

    The Kiểm tra formula is ~3 KB; written into each of 200 rows it made the sheet ten times
    larger, and every program reading a returned file paid for it.  The builder writes the
    real formula in the first input row and a placeholder below; here the first becomes the
    shared formula's master and each placeholder a reference to it.  The formulas are
    built from relative references of one row, which is what a shared formula means.
    """
    src = zipfile.ZipFile(io.BytesIO(package))
    xml = src.read(part)
    marker = SHARED[1:].encode()
    masters: dict[bytes, tuple[int, re.Match]] = {}
    last_row: dict[bytes, int] = {}
    for m in _FORMULA_CELL.finditer(xml):
        col, row = m.group(1), int(m.group(2))
        if row == first_row and m.group(4) != marker:
            masters[col] = (len(masters), m)
        elif m.group(4) == marker:
            if col not in masters:
                raise TemplateBuildError(f"shared formula placeholder in {col.decode()}{row} has no master")
            last_row[col] = max(last_row.get(col, 0), row)

    def rewrite(m: re.Match) -> bytes:
        col, row = m.group(1), int(m.group(2))
        if col not in masters or col not in last_row:
            return m.group(0)
        si, master = masters[col]
        if m.group(4) == marker:
            formula = b'<f t="shared" si="%d"/>' % si
        elif m.start() == master.start():
            ref = b"%s%d:%s%d" % (col, row, col, last_row[col])
            formula = b'<f t="shared" ref="%s" si="%d">%s</f>' % (ref, si, m.group(4))
        else:
            return m.group(0)
        return b'<c r="%s%s"%s>%s<v></v></c>' % (col, m.group(2), m.group(3), formula)

    new = _FORMULA_CELL.sub(rewrite, xml)
    if marker in new:
        raise TemplateBuildError("a shared formula placeholder was left in the sheet")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, new if info.filename == part else src.read(info))
    return buf.getvalue()


def base_identity(spec: PlanSpec, issue_date: dt.date, catalog_id: str) -> ident.Identity:
    tokens = {f: token(f) for f in STAMPED}
    return ident.Identity(template_id=spec.template_id, form_version=spec.form.version, catalog_id=catalog_id,
                          framework=spec.framework.id, level=spec.level.key, year=spec.year.label,
                          issue_date=issue_date.isoformat(), **tokens)


class _Builder:
    def __init__(self, wb: xlsxwriter.Workbook, spec: PlanSpec, issue_date: dt.date, catalog_id: str,
                 prefill: Prefill | None = None):
        self.wb, self.spec, self.form = wb, spec, spec.form
        self.prefill = prefill or Prefill()
        self.lay = L.PlanLayout(spec.form)
        self.identity = base_identity(spec, issue_date, catalog_id)
        self.issue_date = issue_date
        self.f = _Formats(wb)

    def build(self) -> None:
        guide = self.wb.add_worksheet(L.GUIDE_SHEET)
        info = self.wb.add_worksheet(self.form.info_sheet)
        plan = self.wb.add_worksheet(self.form.sheet)
        printed = self.wb.add_worksheet(L.PRINT_SHEET) if self.form.print_view else None
        lists = self.wb.add_worksheet(L.LISTS_SHEET)
        meta = self.wb.add_worksheet(ident.SHEET)
        self._lists(lists)
        self._identity(meta)
        self._info(info)
        self._plan(plan)
        write_guide(guide, self.f, self.spec, self.lay)
        protected = [guide, info, plan]
        if printed is not None:
            protected += write_print_view(self.wb, printed, self.spec, self.lay, token("header_school"))
        if self.prefill.done:
            protected.append(self._previous(self.wb.add_worksheet(PREVIOUS_SHEET)))
        for ws in protected:
            ws.protect(PASSWORD, {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                                  "select_unlocked_cells": True})
        lists.protect(PASSWORD)
        meta.protect(PASSWORD)
        lists.hide()
        meta.very_hidden()
        guide.activate()
        self._properties()

    # -- list sheet --------------------------------------------------------------------------

    def _lists(self, ws) -> None:
        col = 0
        for name, values in self.spec.lists.items():
            ws.write_string(0, col, name)
            for i, v in enumerate(values, 1):
                _write_value(ws, i, col, v)
            self._name(name, ws, col, 1, len(values))
            col += 1
        # Roles, then one formula per staff slot on Thông tin (blank until the school types).
        roles = self.spec.lists["owners"]
        ws.write_string(0, col, L.OWNERS_ALL)
        for i, role in enumerate(roles, 1):
            ws.write_string(i, col, role)
        first = self.lay.staff_first_row
        for k in range(self.form.staff_rows):
            ref = f"'{self.form.info_sheet}'!$B${first + k + 1}"
            ws.write_formula(len(roles) + 1 + k, col, f'=IF({ref}="","",{ref})', None, "")
        self._name(L.OWNERS_ALL, ws, col, 1, len(roles) + self.form.staff_rows)
        ws.set_column(0, col, 30)
        self._check_lists(ws, col + 1)

    def _check_lists(self, ws, col: int) -> None:
        """The Kiểm tra column's messages (a row shows one by number) and the characters its
        formulas name (see layout.CHAR_NAMES)."""
        if any(GUARD in str(v) for values in self.spec.lists.values() for v in values):
            raise TemplateBuildError(f"a list value holds {GUARD!r}, which the check formulas reserve")
        messages = self.spec.rules.check_messages(self.form.ok_text, self.form.warning_prefix)
        for c, (name, values) in enumerate(((L.CHECK_MESSAGES, messages), (L.CHECK_CHARS, (NBSP, " ", GUARD))), col):
            ws.write_string(0, c, name)
            for i, v in enumerate(values, 1):
                ws.write_string(i, c, v)
        self._name(L.CHECK_MESSAGES, ws, col, 1, len(messages))
        letter = xl_col_to_name(col + 1)
        for i, key in enumerate(("nbsp", "space", "guard"), 2):
            self.wb.define_name(L.CHAR_NAMES[key], f"='{ws.name}'!${letter}${i}")

    def _name(self, name: str, ws, col: int, first: int, count: int) -> None:
        letter = xl_col_to_name(col)
        ref = f"='{ws.name}'!${letter}${first + 1}:${letter}${first + count}"
        if self.wb.define_name(L.LIST_PREFIX + name, ref) == -1:  # pragma: no cover
            raise TemplateBuildError(f"bad defined name {name}")

    # -- identity ----------------------------------------------------------------------------

    def _identity(self, ws) -> None:
        ws.write_string(0, 0, "key")
        ws.write_string(0, 1, "value")
        ws.write_string(0, 2, "nhãn")
        for i, (key, value) in enumerate(self.identity.items(), 1):
            ws.write_string(i, 0, key)
            ws.write_string(i, 1, value)
            ws.write_string(i, 2, ident.LABELS.get(key, key))
        short = "|".join((self.identity.template_id, self.identity.file_id, self.identity.signature))
        self.wb.define_name(ident.DEFINED_NAME, f'="{short}"')

    def _properties(self) -> None:
        ident_ = self.identity
        self.wb.set_properties({
            "title": f"{self.form.title} - {token('school_name')}",
            "subject": f"Năm học {ident_.year}",
            "author": token("unit"),
            "company": token("unit"),
            "keywords": "kcl-xlsx, kế hoạch cải tiến chất lượng",
            "comments": "Tạo bởi kcl-xlsx. Không đổi tên, xóa hoặc chèn cột, trang tính.",
            "created": dt.datetime.combine(self.issue_date, dt.time(7, 0)),
        })
        for key, value in ident_.items():
            self.wb.set_custom_property(ident.PROPERTY_PREFIX + key, value or "-")

    # -- Thông tin -----------------------------------------------------------------------------

    def _info(self, ws) -> None:
        f, lay = self.f, self.lay
        ws.set_column(0, 0, 30)
        ws.set_column(1, 1, 55)
        ws.write_string(0, 0, "THÔNG TIN TRƯỜNG VÀ NGƯỜI LẬP KẾ HOẠCH", f.title)
        values = {"school_name": token("school_name"), "school_code": token("school_code"),
                  "unit": token("unit"), "year": self.spec.year.label, "level": self.spec.level.label,
                  "framework": self.spec.framework.label}
        info = dict(self.prefill.info)
        for field in self.form.info_fields:
            row = lay.info_row(field.key)
            ws.write_string(row, 0, field.label, f.label)
            if field.source == "identity":
                ws.write_string(row, 1, values.get(field.key, ""), f.locked_value)
            elif field.type == "date":
                given = info.get(field.key)
                if isinstance(given, (dt.date, dt.datetime)):
                    ws.write_datetime(row, 1, given, f.input_date)
                else:
                    ws.write_blank(row, 1, None, f.input_date)
                ws.data_validation(row, 1, row, 1, {
                    "validate": "date", "criteria": ">=", "value": dt.date(2000, 1, 1),
                    "input_title": field.label, "input_message": "Nhập ngày dạng ngày/tháng/năm.",
                    "error_title": "Ngày không hợp lệ", "error_message": "Nhập một ngày hợp lệ (ngày/tháng/năm)."})
            elif info.get(field.key) not in (None, ""):
                ws.write_string(row, 1, str(info[field.key]), f.input)
            else:
                ws.write_blank(row, 1, None, f.input)
        first = lay.staff_first_row
        ws.write_string(first - 1, 0, self.form.staff_title, f.label)
        staff = self.prefill.staff[: self.form.staff_rows]
        for k in range(self.form.staff_rows):
            ws.write_number(first + k, 0, k + 1, f.locked_center)
            if k < len(staff):
                ws.write_string(first + k, 1, staff[k], f.input)
            else:
                ws.write_blank(first + k, 1, None, f.input)
        ws.write_comment(first - 1, 0, "Mỗi ô một người, nhập liên tục từ trên xuống; "
                                       "tên sẽ có trong danh sách Chủ trì ở trang Kế hoạch.")
        self.wb.define_name(L.STAFF_NAME, f"='{ws.name}'!{lay.staff_range}")
        ws.set_paper(9)  # A4 portrait, labels and values on one page width
        ws.fit_to_pages(1, 0)

    # -- Kế hoạch ------------------------------------------------------------------------------

    def _plan(self, ws) -> None:
        f, lay, form = self.f, self.lay, self.form
        last_col = lay.check_col
        ws.set_column(0, 0, 5)
        for field in form.fields:
            ws.set_column(lay.columns[field.key], lay.columns[field.key], field.width)
        ws.set_column(last_col, last_col, form.check_width)
        ws.merge_range(L.TITLE_ROW, 0, L.TITLE_ROW, last_col, form.title, f.title_center)
        subtitle = (f"Trường: {token('school_name')}   |   Mã trường: {token('school_code')}   |   "
                    f"{self.spec.level.label}   |   Năm học {self.spec.year.label}")
        ws.merge_range(L.SUBTITLE_ROW, 0, L.SUBTITLE_ROW, last_col, subtitle, f.subtitle)
        self._banner(ws, last_col)
        self._headers(ws)
        self._input_block(ws)
        self._validations(ws)
        self._highlights(ws)
        ws.freeze_panes(L.FIRST_INPUT_ROW, 4)
        ws.set_row(L.HEADER_ROW, 45)
        self._print(ws, last_col)

    def _banner(self, ws, last_col: int) -> None:
        # Rows showing an error: not blank, and none of the later messages of the list (the
        # warnings, then OK: see RuleSet.check_messages).  Comparisons of the range with one
        # value each, no text function over the range (Gnumeric has no implicit arrays).
        rng, name = self.lay.check_range, L.list_name(L.CHECK_MESSAGES)
        chain = self.spec.rules.chain()
        errors = sum(1 for r in chain if r.severity == Severity.ERROR)
        calm = "".join(f"*({rng}<>INDEX({name},{n}))" for n in range(errors + 1, len(chain) + 2))
        bad = f'SUMPRODUCT(({rng}<>""){calm})'
        formula = (f'=IF({bad}=0,"Chưa phát hiện lỗi ở các dòng đã nhập",'
                   f'"Có "&{bad}&" dòng cần sửa (xem cột {self.form.check_header})")')
        ws.merge_range(L.BANNER_ROW, 0, L.BANNER_ROW, last_col, "", self.f.banner)
        ws.write_formula(L.BANNER_ROW, 0, formula, self.f.banner, "")
        ws.conditional_format(L.BANNER_ROW, 0, L.BANNER_ROW, 0, {
            "type": "formula", "criteria": f"=LEFT($A${L.BANNER_ROW + 1},3)=\"Có \"", "format": self.f.bad})

    def _headers(self, ws) -> None:
        f, lay, form = self.f, self.lay, self.form
        ws.merge_range(L.GROUP_ROW, 0, L.HEADER_ROW, 0, "TT", f.header)
        for group in form.groups:
            cols = [lay.columns[x.key] for x in form.fields if x.group == group]
            if len(cols) > 1:
                ws.merge_range(L.GROUP_ROW, cols[0], L.GROUP_ROW, cols[-1], group, f.header)
            else:
                ws.write_string(L.GROUP_ROW, cols[0], group, f.header)
        for field in form.fields:
            ws.write_string(L.HEADER_ROW, lay.columns[field.key], field.header, f.header)
        ws.merge_range(L.GROUP_ROW, lay.check_col, L.HEADER_ROW, lay.check_col, form.check_header, f.header)

    def _input_block(self, ws) -> None:
        f, lay, form = self.f, self.lay, self.form
        xr = L.FIRST_INPUT_ROW + 1  # the formulas are written for the first row only...
        ctx = self._check_context(xr)
        empty = lay.row_empty(xr, ctx.nbsp, ctx.space)
        number = f'=IF({lay.check_cell}="","",ROW()-{L.FIRST_INPUT_ROW})'
        check = self.spec.rules.check_formula(ctx, empty, L.list_name(L.CHECK_MESSAGES))
        for field in form.fields:  # input cells: the column's format, no cell of their own
            col = lay.columns[field.key]
            ws.set_column(col, col, field.width, self._input_format(field))
        for r in range(L.FIRST_INPUT_ROW, lay.last_input_row + 1):
            first = r == L.FIRST_INPUT_ROW  # ...the other rows share them (see share_formulas)
            ws.write_formula(r, lay.tt_col, number if first else SHARED, f.locked_center, "")
            ws.write_formula(r, lay.check_col, check if first else SHARED, f.check, "")
        for i, row in enumerate(self.prefill.rows[: form.input_rows]):
            for field in form.fields:
                value = row.get(field.key)
                if value is not None and value != "":
                    _write_value(ws, L.FIRST_INPUT_ROW + i, lay.columns[field.key], value, self._input_format(field))

    def _input_format(self, field):
        return self.f.input_number if field.type == "number" else self.f.input_wrap

    def _check_context(self, xr: int) -> ExcelContext:
        lay = self.lay
        # relative references: one byte less each, and the formula is never copied sideways
        # A derived field is a locked formula giving a list value or "": clean from the start
        # (no no-break space to guard against), so its tests are plain TRIMs.
        return ExcelContext(ref=lambda k: f"{lay.letter(k)}{xr}", name=L.list_name, **L.CHAR_NAMES,
                            clean=frozenset(f.key for f in self.form.derived))

    def _previous(self, ws):
        """Last year's completed actions, for reference (the whole sheet is locked)."""
        f, form = self.f, self.form
        ws.write_string(0, 0, f"CÁC CÔNG VIỆC ĐÃ HOÀN THÀNH NĂM HỌC {self.prefill.previous_year} (để tham khảo)",
                        f.title)
        for c, field in enumerate(form.fields):
            ws.set_column(c, c, field.width)
            ws.write_string(2, c, field.header, f.header)
        for r, row in enumerate(self.prefill.done, 3):
            for c, field in enumerate(form.fields):
                value = row.get(field.key)
                if value is not None and value != "":
                    _write_value(ws, r, c, value, f.locked_value)
        ws.freeze_panes(3, 0)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        return ws

    def _validations(self, ws) -> None:
        lay, form, first, last = self.lay, self.form, L.FIRST_INPUT_ROW, self.lay.last_input_row
        for field in form.fields:
            col = lay.columns[field.key]
            if field.derived_from:
                self._derived_column(ws, field)  # shown, not chosen: no validation to guide typing
                continue
            opts: dict[str, Any] = {"input_title": field.header[:32], "input_message": field.help[:255]}
            if field.type == "number":
                opts.update(validate="decimal", criteria=">=", value=field.minimum or 0,
                            error_title="Kinh phí không hợp lệ",
                            error_message="Nhập một số không âm, đơn vị triệu đồng (ví dụ 12,5).")
            elif field.type == "choice" or field.suggest:
                source = self._list_source(field.choices or field.suggest)
                soft = field.soft or field.type != "choice"
                opts.update(validate="list", source=source,
                            error_type="information" if field.suggest else ("warning" if soft else "stop"),
                            error_title="Không có trong danh sách",
                            error_message=f"Chọn {field.header} trong danh sách thả xuống.")
            else:
                opts.update(validate="length", criteria="<=", value=4000,
                            error_title="Nội dung quá dài", error_message="Tối đa 4.000 ký tự mỗi ô.")
            if ws.data_validation(first, col, last, col, opts) != 0:
                raise TemplateBuildError(f"data validation of {field.key} rejected")

    def _list_source(self, list_key: str) -> str:
        """A dropdown's list: a defined name of a plain range of the list sheet, never a
        formula (Google Sheets takes only a range; OFFSET is volatile in Excel).  Tiêu chí:
        every criterion with its code, then the Mức 4 items; Chủ trì: the roles, then one cell
        per staff slot of Thông tin (blank until the school types a name)."""
        return "=" + L.list_name(list_key)

    def _derived_column(self, ws, field) -> None:
        """A field shown, not typed (form ``derived_from``): a locked formula in each input row
        giving the chosen criterion's standard, blank for a Mức 4 item or an unknown text.

        Looked up with SUMPRODUCT over the labels, not MATCH: MATCH reads ``*``, ``?`` and
        ``~`` in a label as wildcards (measured in LibreOffice and Gnumeric) and Excel's MATCH
        gives #VALUE! for a text over 255 characters; the comparison is exact (and, like every
        text comparison of the sheet, case-insensitive).  The row's other formulas see its
        value as text, as if it had been chosen."""
        lay, first = self.lay, L.FIRST_INPUT_ROW
        crit = f"${lay.letter(field.derived_from)}{first + 1}"
        no = (f"SUMPRODUCT(({L.list_name('criteria')}=TRIM({crit}))"
              f"*{L.list_name('criterion_standard_no')})")
        # n = the standard's number (0: no criterion matched).  1/(1/n) is n exactly for every
        # n below 49 (a framework has at most 6 standards) and #DIV/0! for 0, which IFERROR
        # shows blank: the lookup is written once, not twice as IF(n=0,"",INDEX(..,n)) would
        # (this formula is in every input row; issue 11's weight).
        formula = f'=IFERROR(INDEX({L.list_name("standards")},1/(1/{no})),"")'
        col = lay.columns[field.key]
        for r in range(first, lay.last_input_row + 1):
            ws.write_formula(r, col, formula if r == first else SHARED, self.f.locked_value, "")  # locked

    def _highlights(self, ws) -> None:
        lay, first, last = self.lay, L.FIRST_INPUT_ROW, self.lay.last_input_row
        ctx = self._check_context(first + 1)
        not_empty = f'{lay.check_cell}<>""'  # the Kiểm tra cell is blank exactly for an empty row
        for severity, fmt in ((Severity.ERROR, self.f.bad), (Severity.WARNING, self.f.warn)):
            for field, expr in self.spec.rules.highlight(ctx, severity).items():
                col = lay.columns[field]
                ws.conditional_format(first, col, last, col, {
                    "type": "formula", "criteria": f"=AND({not_empty},{expr})", "format": fmt,
                    "stop_if_true": severity == Severity.ERROR})
        check = xl_rowcol_to_cell(first, lay.check_col, row_abs=False, col_abs=True)
        ok, warn = self.form.ok_text, self.form.warning_prefix.strip()
        ws.conditional_format(first, lay.check_col, last, lay.check_col, {
            "type": "formula", "format": self.f.bad,
            "criteria": f'=AND({check}<>"",{check}<>"{ok}",LEFT({check},{len(warn)})<>"{warn}")'})
        ws.conditional_format(first, lay.check_col, last, lay.check_col, {
            "type": "formula", "format": self.f.good, "criteria": f'={check}="{ok}"'})

    def _print(self, ws, last_col: int) -> None:
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(L.GROUP_ROW, L.HEADER_ROW)
        ws.print_area(0, 0, self.lay.last_input_row, last_col)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_header(f"&L&8{token('header_school')}&R&8Năm học {self.spec.year.label}")
        ws.set_footer("&C&8Trang &P/&N")


def _write_value(ws, row: int, col: int, value: Any, fmt=None) -> None:
    # Text from a school's file is always written as text, never as a formula.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


class _Formats:
    """Every cell format of a template, made once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook):
        base = {"font_name": "Times New Roman", "font_size": 11, "valign": "top"}

        def fmt(**kw):
            return wb.add_format({**base, **kw})

        border = {"border": 1, "border_color": "#999999"}
        self.title = fmt(bold=True, font_size=14)
        self.title_center = fmt(bold=True, font_size=14, align="center", valign="vcenter")
        self.subtitle = fmt(italic=True, align="center")
        self.banner = fmt(bold=True, align="left", font_color="#1F4E79")
        self.header = fmt(bold=True, align="center", valign="vcenter", text_wrap=True, bg_color="#DDEBF7", **border)
        self.label = fmt(bold=True, text_wrap=True)
        self.locked_value = fmt(bg_color="#F2F2F2", text_wrap=True, **border)
        self.locked_center = fmt(align="center", **border)
        self.input = fmt(locked=False, bg_color="#FFFFF0", **border)
        self.input_date = fmt(locked=False, bg_color="#FFFFF0", num_format="dd/mm/yyyy", **border)
        self.input_wrap = fmt(locked=False, text_wrap=True, **border)
        self.input_number = fmt(locked=False, num_format="#,##0.0##", **border)
        self.check = fmt(text_wrap=True, font_size=10, **border)
        self.text = fmt(text_wrap=True)
        self.bold = fmt(bold=True, text_wrap=True)
        self.example = fmt(text_wrap=True, bg_color="#E2EFDA", **border)
        self.bad = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.warn = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        self.good = wb.add_format({"font_color": "#006100"})
