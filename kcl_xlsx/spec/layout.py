"""Where things are in a template: sheet names, rows, columns, defined names.

One source of truth shared by the builder (which writes them) and the reader and checker
(which look for them), so a layout change cannot split the two.
"""
from __future__ import annotations

import dataclasses
from functools import cached_property

from xlsxwriter.utility import xl_col_to_name

from macros_free_validation.rules import NBSP
from workbook_templates.form import Form

GUIDE_SHEET = "Hướng dẫn"
LISTS_SHEET = "Danh mục"
PRINT_SHEET = "Bản in"  # the official nine-column table, by formulas from Kế hoạch
PRINT_DATA_SHEET = "Bản in (tính)"  # its hidden helper columns
LIST_PREFIX = "L_"
STAFF_NAME = "staff_names"
OWNERS_ALL = "owners_all"  # roles followed by the staff the school typed

# Kế hoạch: title, subtitle, banner, group header, field header, then the input block.
TITLE_ROW = 0
SUBTITLE_ROW = 1
BANNER_ROW = 2
GROUP_ROW = 3
HEADER_ROW = 4
FIRST_INPUT_ROW = 5  # 0-based; Excel row 6

# Thông tin: label in A, value in B, from row 3; staff list below.
INFO_FIRST_ROW = 2


# The Kiểm tra column's shared pieces on the list sheet, after the lists: the messages a row
# shows by number, and the characters its formulas name instead of spelling them (a defined
# name is shorter than a string literal, and the formula is written in every input row).
CHECK_MESSAGES = "check_messages"
CHECK_CHARS = "check_chars"
CHAR_NAMES = {"nbsp": LIST_PREFIX + "nb", "space": LIST_PREFIX + "sp", "guard": LIST_PREFIX + "bar"}


def list_name(name: str) -> str:
    """Workbook-level defined name of a list (owners resolve to roles + staff)."""
    return LIST_PREFIX + (OWNERS_ALL if name == "owners" else name)


@dataclasses.dataclass(frozen=True)
class PlanLayout:
    form: Form

    @cached_property
    def columns(self) -> dict[str, int]:
        """field key -> 0-based column; TT is column A, then the fields, then Kiểm tra."""
        return {f.key: i + 1 for i, f in enumerate(self.form.fields)}

    @property
    def tt_col(self) -> int:
        return 0

    @property
    def check_col(self) -> int:
        return len(self.form.fields) + 1

    @property
    def last_input_row(self) -> int:
        return FIRST_INPUT_ROW + self.form.input_rows - 1

    def letter(self, field: str) -> str:
        return xl_col_to_name(self.columns[field])

    @property
    def input_span(self) -> tuple[str, str]:
        return xl_col_to_name(1), xl_col_to_name(len(self.form.fields))

    def row_empty(self, excel_row: int, nbsp: str = f'"{NBSP}"', space: str = '" "') -> str:
        """TRUE when every typed input cell of the row is blank as ``is_blank`` says (spaces and
        no-break spaces only).  The cells are concatenated, not taken as a range: text
        functions over a range need Excel's implicit array evaluation, which Gnumeric lacks
        (#VALUE!); a number concatenates as its text, which is not blank, as in Python."""
        # A derived field (a formula of another field) is blank whenever that field is: it
        # cannot be the one filled cell of a row, so it is left out (the formula is in each row).
        cells = "&".join(f"{xl_col_to_name(self.columns[f.key])}{excel_row}" for f in self.form.fields
                         if not f.derived_from)
        return f'TRIM(SUBSTITUTE({cells},{nbsp},{space}))=""'

    @property
    def check_cell(self) -> str:
        """The Kiểm tra cell of the first input row, column absolute (shared formulas move it)."""
        return f"${xl_col_to_name(self.check_col)}{FIRST_INPUT_ROW + 1}"

    @property
    def check_range(self) -> str:
        col = xl_col_to_name(self.check_col)
        return f"${col}${FIRST_INPUT_ROW + 1}:${col}${self.last_input_row + 1}"

    # Thông tin positions
    def info_row(self, key: str) -> int:
        keys = [f.key for f in self.form.info_fields]
        return INFO_FIRST_ROW + keys.index(key)

    @property
    def staff_first_row(self) -> int:
        return INFO_FIRST_ROW + len(self.form.info_fields) + 2

    @property
    def staff_range(self) -> str:
        first = self.staff_first_row + 1
        return f"$B${first}:$B${first + self.form.staff_rows - 1}"
