"""Reading a YAML spec file (built-in package data or a district's own) with clear errors."""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError


def read_yaml(path: str | Path | None, builtin: str) -> tuple[Any, str, bytes]:
    """Return (data, source name, raw bytes) of ``path``, or of the built-in file."""
    if path is None:
        ref = resources.files("workbook_templates") / "data" / builtin
        raw, source = ref.read_bytes(), f"<built-in>/{builtin}"
    else:
        try:
            raw, source = Path(path).read_bytes(), str(path)
        except OSError as exc:
            raise SpecError(path, f"không đọc được tệp ({exc.strerror})", "cannot read file") from None
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(source, "tệp không phải UTF-8", "file is not UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (dòng {mark.line + 1})" if mark else ""
        raise SpecError(source, f"YAML sai cú pháp{where}", f"invalid YAML{where}") from None
    if not isinstance(data, dict):
        raise SpecError(source, "nội dung phải là một bảng khóa: giá trị", "top level must be a mapping")
    return data, source, raw


def need(obj: Any, key: str, source: str, where: str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None or value == "" or value == []:
        raise SpecError(source, f"{where}: thiếu '{key}'", f"{where}: missing '{key}'")
    return value
