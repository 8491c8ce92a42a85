"""A template's identity: who it was issued to, for which year, level and catalog.

Written three times into every template (cells of a very-hidden sheet, custom document
properties, a defined name) because programs keep different things on re-save; the reader
cross-checks the copies.  With an office key the identity is signed (HMAC-SHA256) so a
copied or hand-edited identity is detectable; without one it says ``unsigned``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os

KEY_ENV = "KCL_XLSX_KEY"
UNSIGNED = "unsigned"
SHEET = "kcl_identity"  # the very-hidden sheet
DEFINED_NAME = "kcl_identity"
PROPERTY_PREFIX = "kcl_"

# Field order is part of the signed payload: append new fields at the end only.
FIELDS = ("template_id", "file_id", "form_version", "catalog_id", "framework", "level", "year",
          "school_code", "school_name", "unit", "issue_date", "previous_template_id")
LABELS = {
    "template_id": "Mã mẫu", "file_id": "Mã tệp", "form_version": "Phiên bản biểu mẫu",
    "catalog_id": "Mã danh mục tiêu chí", "framework": "Khung tiêu chí", "level": "Cấp học",
    "year": "Năm học", "school_code": "Mã trường", "school_name": "Tên trường", "unit": "Đơn vị quản lý",
    "issue_date": "Ngày phát hành", "previous_template_id": "Mẫu năm trước", "signature": "Chữ ký",
}


@dataclasses.dataclass(frozen=True)
class Identity:
    template_id: str
    file_id: str
    form_version: str
    catalog_id: str
    framework: str
    level: str
    year: str
    school_code: str = ""
    school_name: str = ""
    unit: str = ""
    issue_date: str = ""
    previous_template_id: str = ""
    signature: str = UNSIGNED

    def payload(self) -> bytes:
        return "\x1f".join(str(getattr(self, f)) for f in FIELDS).encode("utf-8")

    def signed(self, key: bytes | None) -> "Identity":
        if not key:
            return dataclasses.replace(self, signature=UNSIGNED)
        return dataclasses.replace(self, signature=sign(self.payload(), key))

    def verify(self, key: bytes | None) -> bool | None:
        """True/False with a key and a signature; None when it cannot be told."""
        if not key or self.signature in ("", UNSIGNED):
            return None
        return hmac.compare_digest(self.signature, sign(self.payload(), key))

    def items(self) -> list[tuple[str, str]]:
        return [(f, str(getattr(self, f))) for f in (*FIELDS, "signature")]

    @classmethod
    def from_mapping(cls, values: dict[str, str]) -> "Identity":
        known = [f.name for f in dataclasses.fields(cls)]
        filled = {k: "" for k in known}
        filled.update({k: ("" if v is None else str(v)) for k, v in values.items() if k in known})
        filled["signature"] = filled["signature"] or UNSIGNED
        return cls(**filled)


def sign(payload: bytes, key: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:32]


def office_key(explicit: str | None = None) -> bytes | None:
    """The office key from ``--key`` or the environment; None means unsigned templates."""
    value = explicit if explicit else os.environ.get(KEY_ENV, "")
    return value.encode("utf-8") if value else None
