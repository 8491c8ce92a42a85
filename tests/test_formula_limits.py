"""Every formula a template carries stays within Excel's limits (8,192 characters, 64 levels
of nested functions), for every built-in level and framework: the cell formulas (Kiểm tra,
TT, banner, list sheet), the conditional formats and the data validations.  And the Kiểm
tra formula is the light one of the design (INDEX of a message by number: no message text
in it)."""
from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
import io

from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec import layout as L

LEVELS = ("mam-non", "tieu-hoc", "thcs", "thpt", "nhieu-cap")
MAX_CHARS, MAX_NESTING = 8192, 64
_FORMULA = re.compile(rb"<(f|formula|formula1|formula2)\b[^>]*>([^<]*)</\1>")


def nesting(formula: str) -> int:
    """The deepest parenthesis level outside string literals (a function call is one)."""
    depth = deepest = 0
    in_text = False
    for ch in formula:
        if ch == '"':
            in_text = not in_text
        elif not in_text and ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not in_text and ch == ")":
            depth -= 1
    assert depth == 0 and not in_text, formula[:200]
    return deepest


def formulas(data: bytes) -> list[tuple[str, str]]:
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                out += [(name, html.unescape(m.group(2).decode())) for m in _FORMULA.finditer(zf.read(name))]
    return out


def _templates(sources):
    for fw in sources.catalog.frameworks:
        factory = TemplateFactory(sources, "2025-2026", framework=fw.id, issue_date=dt.date(2025, 9, 5))
        for level in LEVELS:
            try:
                spec = factory.spec(level)
            except Exception:  # a framework that does not cover this level
                continue
            yield fw.id, level, spec, factory.make(level)[0]


def test_every_formula_is_within_excels_limits(sources):
    seen = 0
    for fid, level, spec, data in _templates(sources):
        found = formulas(data)
        assert found, (fid, level)
        for part, f in found:
            seen += 1
            assert len(f) + 1 <= MAX_CHARS, (fid, level, part, len(f))
            assert nesting(f) <= MAX_NESTING, (fid, level, part, nesting(f))
        check = [f for part, f in found if f.startswith("IF(TRIM(SUBSTITUTE(") and L.CHECK_MESSAGES in f]
        assert len(check) == 1, (fid, level)
        messages = spec.rules.check_messages(spec.form.ok_text, spec.form.warning_prefix)
        assert not [m for m in messages if f'"{m}"' in check[0]]  # the messages are on Danh mục
        assert len(check[0]) < 1850, (fid, level, len(check[0]))  # 1,999 before form 2026.2 (issue 11)
    assert seen > 100


def test_nesting_counts_calls_not_text():
    assert nesting('IF(A1="(",1,SUM(1,(2)))') == 3
