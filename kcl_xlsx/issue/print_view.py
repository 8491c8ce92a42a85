"""The Bản in sheet: the plan as the official document prints it, built by formulas from the
rows a school types on Kế hoạch (the school never types here; the view follows live).

What prints: the header block (managing authority and school, Số; the national motto,
place and date; title and school year), the official nine-column table with its section
rows (MỨC 1, 2, 3 / MỨC 4) and standard rows (Tiêu chuẩn n: ...), then Nơi nhận and the
signer block.

How the rows are ordered, portably (no FILTER/SORT/LET/TEXTJOIN, no array evaluation of
text functions: Excel 2010, LibreOffice, Gnumeric, WPS, Google Sheets), on a hidden helper
sheet:

1. each input row i gets a key ``group * 1000 + i`` (group = the standard's position in the
   standards list; an unknown or blank standard sorts after the last standard; Mức 4 after
   that), or "" when the row is empty (Kế hoạch's own TT column says which rows are filled);
2. ``SMALL(keys, p)`` gives the p-th row of the printed order: by group, inside a group the
   input order;
3. each sorted row p knows whether a standard row and/or a section row print before it, so
   the running sum of ``1 + headers`` is the printed line on which row p ends;
4. printed line j belongs to the first p whose end line is >= j (``COUNTIF(ends, "<"&j)+1``);
   the distance to that end says whether line j is the data row, its standard row or its
   section row.  After the last line come Nơi nhận and the signer block.

Only filled lines print where the program honours a print area defined by a formula
(Excel, WPS: the ``_xlnm.Print_Area`` name counts the printed lines).  LibreOffice and
Gnumeric take only fixed print areas: there the trailing lines, whose formulas give "", print
as blank rows (no borders: borders and bold come from conditional formats of the filled
lines).  Row heights: no program re-fits a row when a formula's result changes, so the lines
are written without a height and the sheet tells the school to fit them before printing
(Excel: Định dạng > Tự động khớp chiều cao hàng; LibreOffice: Định dạng > Hàng > Chiều cao
tối ưu); the protection allows it.
"""
from __future__ import annotations

from typing import Any

from xlsxwriter.utility import xl_col_to_name, quote_sheetname

from kcl_xlsx.issue.document_data import printed_label, section_titles, standard_title, table_headers
from kcl_xlsx.spec import layout as L
from kcl_xlsx.spec.plan_spec import PlanSpec

PASSWORD = "kcl"
GROUP_FACTOR = 1000  # key = group * 1000 + input row number (input_rows < 1000)
SIGNER_LINES = 7  # blank, Nơi nhận / HIỆU TRƯỞNG, recipient, Lưu, two blank, signer's name
HEADER_ROW = 7  # 0-based row of the nine column headers; lines start below it
# Widths (XlsxWriter units) of the nine columns: one A4 landscape width at 100 %.
WIDTHS = (4, 19, 24, 26, 16, 13, 15, 15, 8)
BODY_PT = 12
KIND_COL = len(WIDTHS)  # hidden: each line's kind (1 data, 2 standard, 3 section, 11.. signer)
NOTE = ("Trước khi in: chọn các dòng của bảng rồi chọn Tự động khớp chiều cao hàng "
        "(Excel: Trang đầu > Định dạng; LibreOffice: Định dạng > Hàng > Chiều cao tối ưu) "
        "để hiện đủ nội dung. Trang này tự lấy dữ liệu từ trang Kế hoạch; không nhập ở đây.")


def write_print_view(wb, ws, spec: PlanSpec, lay: L.PlanLayout, header_school: str) -> tuple[Any, Any]:
    """Fill ``ws`` (the Bản in sheet) and add its hidden helper sheet; both returned to be
    protected by the caller like the other sheets.  ``header_school``: the school's name in
    the page header (the builder's placeholder)."""
    data = wb.add_worksheet(L.PRINT_DATA_SHEET)
    _PrintView(wb, ws, data, spec, lay, header_school).write()
    return ws, data


class _PrintView:
    def __init__(self, wb, ws, data, spec: PlanSpec, lay: L.PlanLayout, header_school: str):
        self.header_school = header_school
        self.wb, self.ws, self.data, self.spec, self.lay, self.form = wb, ws, data, spec, lay, spec.form
        self.n = self.form.input_rows
        self.standards = list(spec.lists["standards"])
        self.unknown_group = len(self.standards) + 1
        self.top_group = len(self.standards) + 2
        self.lines = self.n + len(self.standards) + 1 + 2 + SIGNER_LINES
        self.kh = quote_sheetname(self.form.sheet)
        self.d = quote_sheetname(L.PRINT_DATA_SHEET)
        self.info = quote_sheetname(self.form.info_sheet)
        self.fmt = _Formats(wb)

    # -- helpers -------------------------------------------------------------------------------

    def plan_col(self, key: str) -> str:
        """Absolute range of one field's column over the input rows of Kế hoạch."""
        c = self.lay.letter(key)
        first = L.FIRST_INPUT_ROW + 1
        return f"{self.kh}!${c}${first}:${c}${first + self.n - 1}"

    def info_cell(self, key: str) -> str:
        return f"{self.info}!$B${self.lay.info_row(key) + 1}"

    def drange(self, col: str) -> str:
        return f"{self.d}!${col}$2:${col}${self.n + 1}"

    def local(self, col: str) -> str:
        return f"${col}$2:${col}${self.n + 1}"

    # -- the hidden helper sheet -----------------------------------------------------------------

    def write(self) -> None:
        self._helper()
        self._sheet()

    def _helper(self) -> None:
        ws, n, roles = self.data, self.n, self.form.roles
        top, unknown = self.top_group, self.unknown_group
        heads = ("i", "key", "sorted", "group", "row", "std_head", "sec_head", "end", "std_no", "top_no", "",
                 "line", "p", "offset", "kind", "line_row", "line_group", "tt", "budget", "",
                 "group_no", "group_title", "", "criterion", "printed", "", "lines", "signer")
        for c, h in enumerate(heads):
            if h:
                ws.write_string(0, c, h)
        first_input = L.FIRST_INPUT_ROW + 1
        tt = xl_col_to_name(self.lay.tt_col)
        muc, std = self.lay.letter(roles.level), self.lay.letter(roles.standard)
        keys, ends = self.local("B"), self.local("H")
        for i in range(1, n + 1):
            h, r = i + 1, first_input + i - 1
            group = f'IFERROR(MATCH(TRIM({self.kh}!${std}{r}),{L.list_name("standards")},0),{unknown})'
            if self.spec.top_label:
                group = f'IF(TRIM({self.kh}!${muc}{r})="{self.spec.top_label}",{top},{group})'
            ws.write_number(h - 1, 0, i)
            ws.write_formula(h - 1, 1, f'=IF({self.kh}!${tt}{r}="","",{group}*{GROUP_FACTOR}+A{h})', None, "")
            ws.write_formula(h - 1, 2, f'=IF(A{h}>COUNT({keys}),"",SMALL({keys},A{h}))', None, "")
            ws.write_formula(h - 1, 3, f'=IF(C{h}="","",INT(C{h}/{GROUP_FACTOR}))', None, "")
            ws.write_formula(h - 1, 4, f'=IF(C{h}="","",MOD(C{h},{GROUP_FACTOR}))', None, "")
            if i == 1:
                std_head = f'=IF(C{h}="","",IF(D{h}={top},0,1))'
                sec_head = f'=IF(C{h}="","",1)'
                end = f'=IF(C{h}="","",1+F{h}+G{h})'
                std_no = f'=IF(C{h}="","",F{h})'
                top_no = f'=IF(C{h}="","",IF(D{h}={top},1,0))'
            else:
                std_head = f'=IF(C{h}="","",IF(D{h}={top},0,IF(D{h}=D{h - 1},0,1)))'
                sec_head = f'=IF(C{h}="","",IF((D{h}={top})=(D{h - 1}={top}),0,1))'
                end = f'=IF(C{h}="","",H{h - 1}+1+F{h}+G{h})'
                std_no = f'=IF(C{h}="","",I{h - 1}+F{h})'
                top_no = f'=IF(C{h}="","",J{h - 1}+IF(D{h}={top},1,0))'
            for c, formula in zip(range(5, 10), (std_head, sec_head, end, std_no, top_no)):
                ws.write_formula(h - 1, c, formula, None, "")
        # lines: the number of table lines, then the signer's name
        ws.write_formula(1, 26, f'=IF(COUNT({keys})=0,0,INDEX({ends},COUNT({keys})))', None, 0)
        signer, preparer, position = (f'TRIM({self.info_cell(k)}&"")' for k in ("signer", "preparer", "position"))
        ws.write_formula(1, 27, f'=IF({signer}<>"",{signer},IF({position}="Hiệu trưởng",{preparer},""))', None, "")
        # group titles, criterion labels as printed
        titles = [standard_title(s) for s in self.standards] + ["(Chưa chọn tiêu chuẩn)"]
        for k, title in enumerate(titles, 1):
            ws.write_number(k, 20, k)
            ws.write_string(k, 21, title)
        crit = self.spec.lists["criteria_values"]
        crit_keys = self.spec.lists["criteria_keys"]
        for k, (label, key) in enumerate(zip(crit, crit_keys), 1):
            ws.write_string(k, 23, label)
            ws.write_string(k, 24, printed_label(label, key == self.spec.top_label))
        self.crit_labels = f"{self.d}!$X$2:$X${len(crit) + 1}"
        self.crit_printed = f"{self.d}!$Y$2:$Y${len(crit) + 1}"
        self.titles = f"{self.d}!$V$2:$V${len(titles) + 1}"
        # one helper row per printed line
        budget, funding = self.plan_col(roles.budget), self.plan_col(roles.funding)
        for j in range(1, self.lines + 1):
            h = j + 1
            ws.write_number(h - 1, 11, j)
            ws.write_formula(h - 1, 12, f'=IF(L{h}>$AA$2,"",COUNTIF({ends},"<"&L{h})+1)', None, "")
            ws.write_formula(h - 1, 13, f'=IF(M{h}="","",INDEX({ends},M{h})-L{h})', None, "")
            ws.write_formula(h - 1, 14, (f'=IF(M{h}="",IF(L{h}-$AA$2<={SIGNER_LINES},10+L{h}-$AA$2,0),'
                                         f'IF(N{h}=0,1,IF(AND(N{h}=1,INDEX({self.local("F")},M{h})=1),2,3)))'),
                             None, 0)
            ws.write_formula(h - 1, 15, f'=IF(M{h}="","",INDEX({self.local("E")},M{h}))', None, "")
            ws.write_formula(h - 1, 16, f'=IF(M{h}="","",INDEX({keys.replace("B", "D")},M{h}))', None, "")
            ws.write_formula(h - 1, 17, (f'=IF(O{h}=2,INDEX({self.local("I")},M{h}),'
                                         f'IF(AND(O{h}=1,Q{h}={top}),INDEX({self.local("J")},M{h}),""))'), None, "")
            b = f"INDEX({budget},P{h})"
            x = f"ROUND({b},3)"
            whole = f"INT({x})"
            d = f"ROUND(({x}-{whole})*1000,0)"
            amount = (f'IF({whole}>=1000,INT({whole}/1000)&"."&RIGHT("00"&MOD({whole},1000),3),{whole}&"")'
                      f'&IF({d}=0,"",","&IF(MOD({d},100)=0,{d}/100,IF(MOD({d},10)=0,RIGHT("0"&{d}/10,2),'
                      f'RIGHT("00"&{d},3))))')
            amount = f'IF(ISNUMBER({b}),IF({b}>0,{amount}&" triệu đồng",""),TRIM({b}&""))'
            fund = f'TRIM(INDEX({funding},P{h})&"")'
            ws.write_formula(h - 1, 18, (f'=IF(O{h}<>1,"",IF({amount}="",{fund},'
                                         f'IF({fund}="",{amount},{amount}&" ("&{fund}&")")))'), None, "")
        ws.hide()

    # -- the printed sheet ---------------------------------------------------------------------

    def _sheet(self) -> None:
        ws, fm, form, roles = self.ws, self.fmt, self.form, self.form.roles
        for c, w in enumerate(WIDTHS):
            ws.set_column(c, c, w)
        ws.set_column(KIND_COL, KIND_COL, 4, None, {"hidden": True})
        # header block
        unit, auth = (f'TRIM({self.info_cell(k)}&"")' for k in ("unit", "authority"))
        ws.merge_range(0, 0, 0, 3, "", fm.center)
        ws.write_formula(0, 0, f'=UPPER(IF({auth}="",{unit},{auth}))', fm.center, "")
        ws.merge_range(1, 0, 1, 3, "", fm.center_bold)
        ws.write_formula(1, 0, f'=UPPER(TRIM({self.info_cell("school_name")}&""))', fm.center_bold, "")
        number = f'TRIM({self.info_cell("doc_number")}&"")'
        ws.merge_range(2, 0, 2, 3, "", fm.center)
        ws.write_formula(2, 0, f'="Số: "&IF({number}="","……/KH-……",{number})', fm.center, "")
        ws.merge_range(0, 4, 0, 8, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", fm.center_bold)
        ws.merge_range(1, 4, 1, 8, "Độc lập - Tự do - Hạnh phúc", fm.center_bold)
        date, place = self.info_cell("date"), f'TRIM({self.info_cell("place")}&"")'
        when = (f'IF(ISNUMBER({date}),"ngày "&RIGHT("0"&DAY({date}),2)&" tháng "'
                f'&IF(MONTH({date})<3,"0","")&MONTH({date})&" năm "&YEAR({date}),"ngày …… tháng …… năm ……")')
        ws.merge_range(2, 4, 2, 8, "", fm.center_italic)
        ws.write_formula(2, 4, f'=IF({place}="","……",{place})&", "&{when}', fm.center_italic, "")
        ws.merge_range(4, 0, 4, 8, form.title, fm.title)
        ws.merge_range(5, 0, 5, 8, f"Năm học {self.spec.year.label}", fm.center_bold)
        ws.set_row(3, 8)
        ws.set_row(6, 8)
        heads = table_headers(self.spec)
        for c, text in enumerate(heads):
            ws.write_string(HEADER_ROW, c, text, fm.header)
        # the lines
        kh = {k: self.plan_col(k) for k in form.keys}
        first = HEADER_ROW + 1
        for j in range(1, self.lines + 1):
            r, h = first + j - 1, j + 1
            kind, row, grp = f"{self.d}!$O{h}", f"{self.d}!$P{h}", f"{self.d}!$Q{h}"

            def val(key: str) -> str:
                return f'TRIM(INDEX({kh[key]},{row})&"")'

            main, top = section_titles(self.spec)
            crit = val(roles.criterion)
            muc = val(roles.level)
            crit_text = (f'IFERROR(INDEX({self.crit_printed},MATCH({crit},{self.crit_labels},0)),{crit})'
                         f'&IF(AND({grp}<>{self.top_group},{muc}<>""),"\n("&{muc}&")","")')
            unit_line = f'"- "&IF({unit}="","Đơn vị quản lý",{unit})&" (để báo cáo);"'
            ws.write_formula(r, KIND_COL, f"={kind}", None, 0)
            ws.write_formula(r, 0, f"={self.d}!$R{h}", fm.center_cell, "")
            ws.write_formula(r, 1, (f'=IF({kind}=1,{crit_text},IF({kind}=2,INDEX({self.titles},{grp}),'
                                    f'IF({kind}=3,IF({grp}={self.top_group},"{top}","{main}"),'
                                    f'IF({kind}=12,"Nơi nhận:",IF({kind}=13,{unit_line},'
                                    f'IF({kind}=14,"- Lưu: VT.",""))))))'), fm.cell, "")
            ws.write_formula(r, 2, f'=IF({kind}=1,{val(roles.target)},"")', fm.cell, "")
            ws.write_formula(r, 3, f'=IF({kind}=1,{val(roles.actions)},"")', fm.cell, "")
            lead, col = val(roles.lead), val(roles.collaborators)
            ws.write_formula(r, 4, (f'=IF({kind}<>1,"",IF({col}="",{lead},IF({lead}="","Phối hợp: "&{col},'
                                    f'{lead}&"; phối hợp: "&{col})))'), fm.cell, "")
            s, e = val(roles.start), val(roles.end)
            ws.write_formula(r, 5, f'=IF({kind}<>1,"",IF({e}="",{s},IF(OR({s}="",{s}={e}),{e},{s}&" - "&{e})))',
                             fm.cell, "")
            ws.write_formula(r, 6, f"={self.d}!$S{h}", fm.cell, "")
            support, note = self._field("support"), self._field("note")
            ws.write_formula(r, 7, (f'=IF({kind}=1,{val(support) if support else chr(34) * 2},'
                                    f'IF({kind}=12,"HIỆU TRƯỞNG",IF({kind}=17,{self.d}!$AB$2,"")))'),
                             fm.cell_signer, "")
            ws.write_formula(r, 8, f'=IF({kind}=1,{val(note) if note else chr(34) * 2},"")', fm.cell, "")
        last = first + self.lines - 1
        # borders on table lines, bold on standard/section rows and on the signer's title and name
        rel = f"${xl_col_to_name(KIND_COL)}{first + 1}"
        ws.conditional_format(first, 0, last, 8, {"type": "formula", "criteria": f"=AND({rel}>=1,{rel}<=3)",
                                                  "format": fm.border})
        ws.conditional_format(first, 0, last, 8, {"type": "formula", "criteria": f"=OR({rel}=2,{rel}=3,{rel}=12,{rel}=17)",
                                                  "format": fm.bold})
        ws.set_row(HEADER_ROW, 48)
        ws.write_comment(HEADER_ROW, 0, NOTE, {"x_scale": 3, "y_scale": 2})  # comments do not print
        self._print(first)

    def _field(self, key: str) -> str | None:
        return key if key in self.form.keys else None

    def _print(self, first: int) -> None:
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=0.35, right=0.35, top=0.6, bottom=0.6)
        ws.center_horizontally()
        ws.repeat_rows(HEADER_ROW, HEADER_ROW)
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&L&9{self.header_school}&R&9Năm học {self.spec.year.label}")
        ws.set_footer("&C&9Trang &P/&N")
        # Print area: the header block, the filled lines and the signer block (a formula:
        # honoured by Excel and WPS; LibreOffice and Gnumeric fall back to the used range).
        name = quote_sheetname(self.ws.name)
        rows = f"{first}+{self.d}!$AA$2+{SIGNER_LINES}"
        self.wb.define_name(f"{name}!_xlnm.Print_Area",
                            f"=OFFSET({name}!$A$1,0,0,{rows},{len(WIDTHS)})")


class _Formats:
    def __init__(self, wb):
        base = {"font_name": "Times New Roman", "font_size": BODY_PT, "valign": "top"}

        def fmt(**kw):
            return wb.add_format({**base, **kw})

        self.center = fmt(align="center")
        self.center_bold = fmt(align="center", bold=True)
        self.center_italic = fmt(align="center", italic=True)
        self.title = fmt(align="center", bold=True, font_size=14)
        self.header = fmt(bold=True, align="center", valign="vcenter", text_wrap=True, border=1)
        self.cell = fmt(text_wrap=True)
        self.cell_signer = fmt(text_wrap=True)
        self.center_cell = fmt(align="center")
        self.note = fmt(italic=True, text_wrap=True, font_color="#9C5700", font_size=10)
        self.border = wb.add_format({"border": 1})
        self.bold = wb.add_format({"bold": True})


__all__ = ["write_print_view", "printed_label", "standard_title", "section_titles"]
