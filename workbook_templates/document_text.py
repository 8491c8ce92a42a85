"""The standard text of the official plan document (data/document.yaml), validated: the
paragraphs every school's Kế hoạch has (I. Mục đích, yêu cầu; the fixed lines of II. Căn cứ;
IV. Tổ chức thực hiện; Nơi nhận; the signer's title).  An office may replace the file; a bad
one is one :class:`SpecError` line naming the file and the key."""
from __future__ import annotations

import dataclasses
import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from .errors import SpecError
from .spec_io import read_yaml

BUILTIN_DOCUMENT = "document.yaml"
PLACEHOLDERS = frozenset({"year", "school", "unit", "authority"})
CIRCULAR_PLACEHOLDERS = PLACEHOLDERS | {"number", "date", "title"}
HEADINGS = ("purpose", "basis", "content", "organisation")
BASIS_LINES = ("self_assessment", "legal", "circular", "results", "orientation")


@dataclasses.dataclass(frozen=True)
class Duty:
    heading: str
    lines: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class DocumentText:
    source: str
    title: tuple[str, ...]
    year_line: str
    headings: Mapping[str, str]  # purpose, basis, content, organisation
    purpose: tuple[str, ...]
    basis: Mapping[str, str]  # self_assessment, legal, circular, results, orientation
    guidance: Mapping[str, tuple[str, ...]]  # school level or framework id (or "default") -> lines
    organisation: tuple[Duty, ...]
    closing: str
    recipients_title: str
    recipients: tuple[str, ...]
    signer_title: str

    def guidance_for(self, framework_id: str, school_levels: tuple[str, ...]) -> tuple[str, ...]:
        """The guidance lines of a framework (by its id, else its first school level that has
        lines, else ``default``)."""
        for key in (framework_id, *school_levels, "default"):
            if key in self.guidance:
                return self.guidance[key]
        return ()


def load_document_text(path: str | Path | None = None) -> DocumentText:
    """The document text of ``path`` (default: the built-in file)."""
    return _load(str(path) if path is not None else None)


@lru_cache(maxsize=4)
def _load(path: str | None) -> DocumentText:
    data, source, _raw = read_yaml(path, BUILTIN_DOCUMENT)
    return _Parser(source).parse(data)


class _Parser:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, vi: str, en: str) -> SpecError:
        return SpecError(self.source, f"{where}: {vi}", f"{where}: {en}")

    def text(self, value: Any, where: str, allowed: frozenset[str] = PLACEHOLDERS) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "cần một dòng chữ, không để trống", "must be non-empty text")
        try:
            names = {name for _lit, name, _spec, _conv in string.Formatter().parse(value) if name is not None}
        except ValueError:
            raise self.fail(where, "dấu ngoặc { } không khớp", "unbalanced braces") from None
        bad = sorted(names - allowed)
        if bad:
            known = ", ".join("{" + n + "}" for n in sorted(allowed))
            raise self.fail(where, f"chỗ điền không có: {{{bad[0]}}} (có: {known})",
                            f"unknown placeholder {{{bad[0]}}}")
        return value.strip()

    def lines(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "cần một danh sách dòng", "must be a list of lines")
        return tuple(self.text(v, f"{where}[{i}]") for i, v in enumerate(value, 1))

    def mapping(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, "cần một bảng khóa: giá trị", "must be a mapping")
        return value

    def parse(self, data: dict) -> DocumentText:
        headings = self.mapping(data.get("headings"), "headings")
        basis = self.mapping(data.get("basis"), "basis")
        guidance = self.mapping(basis.get("guidance"), "basis.guidance")
        duties = data.get("organisation")
        if not isinstance(duties, list) or not duties:
            raise self.fail("organisation", "cần danh sách mục (heading, lines)", "must be a list of (heading, lines)")
        return DocumentText(
            source=self.source,
            title=self.lines(data.get("title"), "title"),
            year_line=self.text(data.get("year_line"), "year_line"),
            headings={k: self.text(headings.get(k), f"headings.{k}") for k in HEADINGS},
            purpose=self.lines(data.get("purpose"), "purpose"),
            basis={k: self.text(basis.get(k), f"basis.{k}", CIRCULAR_PLACEHOLDERS if k == "circular" else PLACEHOLDERS)
                   for k in BASIS_LINES},
            guidance={str(k): self.lines(v, f"basis.guidance.{k}") for k, v in guidance.items()},
            organisation=tuple(self.duty(d, f"organisation[{i}]") for i, d in enumerate(duties, 1)),
            closing=self.text(data.get("closing"), "closing"),
            recipients_title=self.text(data.get("recipients_title"), "recipients_title"),
            recipients=self.lines(data.get("recipients"), "recipients"),
            signer_title=self.text(data.get("signer_title"), "signer_title"),
        )

    def duty(self, value: Any, where: str) -> Duty:
        value = self.mapping(value, where)
        return Duty(self.text(value.get("heading"), f"{where}.heading"), self.lines(value.get("lines"), f"{where}.lines"))
