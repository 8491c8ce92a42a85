"""The issue codes as data: every code kcl-xlsx reports besides the plan rules (whose codes
live with the rules in form.yaml), with its severity, message and hint."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from macros_free_validation.report import CodeSpec, Severity

from .errors import SpecError
from .spec_io import need, read_yaml

BUILTIN_ISSUES = "issues.yaml"


def load_issue_codes(path: str | Path | None = None) -> tuple[CodeSpec, ...]:
    """The codes of ``path`` (default: the built-in file); a bad file is one SpecError line."""
    return _load(str(path) if path is not None else None)


@lru_cache(maxsize=4)
def _load(path: str | None) -> tuple[CodeSpec, ...]:
    data, source, _raw = read_yaml(path, BUILTIN_ISSUES)
    entries = need(data, "codes", source, "tệp mã lỗi")
    if not isinstance(entries, dict):
        raise SpecError(source, "'codes' phải là một bảng mã: nội dung", "'codes' must be a mapping")
    out = []
    for code, spec in entries.items():
        where = f"mã {code}"
        if not isinstance(spec, dict):
            raise SpecError(source, f"{where}: cần severity, message, hint", f"{where}: needs severity, message, hint")
        extra = set(spec) - {"severity", "message", "hint"}
        if extra:
            raise SpecError(source, f"{where}: khóa lạ {', '.join(sorted(map(str, extra)))}",
                            f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}")
        severity = need(spec, "severity", source, where)
        known = [s.value for s in Severity]
        if severity not in known:
            raise SpecError(source, f"{where}: severity '{severity}' không hợp lệ ({', '.join(known)})",
                            f"{where}: unknown severity '{severity}'")
        out.append(CodeSpec(str(code), Severity(severity), str(need(spec, "message", source, where)),
                            str(spec.get("hint") or "")))
    return tuple(out)
