"""Recognise a returned template: pick the identity copy to trust, flag disagreements,
verify the signature, and compare with what the school can see and edit (Thông tin).

Order of trust: custom document properties, then the very-hidden sheet, then the visible
Thông tin cells (which only hold the school name and code).  Every copy is compared with
the chosen one; a school code on Thông tin that differs from the identity is tampering.
"""
from __future__ import annotations

import dataclasses

from kcl_xlsx.spec import identity as ident
from kcl_xlsx.spec.freetext import fold
from kcl_xlsx.spec.issues import Code, Issue


SOURCE_LABELS = {"custom": "thuộc tính tài liệu", "sheet": "trang ẩn kcl_identity", "info": "trang Thông tin",
                 "name": "tên định nghĩa kcl_identity"}


@dataclasses.dataclass
class Resolved:
    values: dict[str, str]
    source: str
    signature: str  # verified | invalid | unsigned | unknown
    issues: list[Issue]


def resolve_identity(copies: dict[str, dict[str, str]], key: bytes | None, info: dict[str, str],
                     info_sheet: str = "Thông tin", cells: dict[str, str] | None = None) -> Resolved:
    issues: list[Issue] = []
    source = next((s for s in ("custom", "sheet") if copies.get(s, {}).get("template_id")), "")
    if not source:
        values = dict(copies.get("info", {}))
        issues.append(Issue.make(Code.IDENTITY_MISSING))
        return Resolved(values, "info" if values else "", "unknown", issues)
    values = {k: v for k, v in copies[source].items() if k in {f.name for f in dataclasses.fields(ident.Identity)}}
    issues.append(Issue.make(Code.IDENTITY_SOURCE, value=SOURCE_LABELS[source]))
    for other, copy in copies.items():
        if other == source or other == "info":
            continue
        for k, v in copy.items():
            if k in values and v != values[k]:
                issues.append(Issue.make(Code.IDENTITY_MISMATCH, column=k, value=f"{SOURCE_LABELS[other]}: '{v}'"))
    for k in ("school_code", "school_name"):
        seen, expected = info.get(k, ""), values.get(k, "")
        if seen and expected and fold(seen) != fold(expected):
            label = ident.LABELS[k]
            cell = (cells or {}).get(k, "")
            issues.append(Issue.make(Code.IDENTITY_TAMPERED, sheet=info_sheet, cell=cell, column=label, value=seen,
                                     expected=expected, where=f"{info_sheet}!{cell}" if cell else info_sheet))
    identity = ident.Identity.from_mapping(values)
    verdict = identity.verify(key)
    if verdict is True:
        signature = "verified"
    elif verdict is False:
        signature = "invalid"
        issues.append(Issue.make(Code.IDENTITY_BAD_SIGNATURE))
    elif key:
        # The office signs what it issues: with its key, an unsigned identity is a forgery
        # (anyone can write "unsigned" next to another school's code).
        signature = "invalid"
        issues.append(Issue.make(Code.IDENTITY_BAD_SIGNATURE))
    else:
        signature = "unsigned" if identity.signature in ("", ident.UNSIGNED) else "unknown"
        if signature == "unsigned":
            issues.append(Issue.make(Code.IDENTITY_UNSIGNED, value="mẫu phát hành không có khóa"))
    return Resolved(values, source, signature, issues)
