"""Reading a YAML spec file (built-in package data or a district's own) with clear errors."""
from __future__ import annotations

import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError

# libyaml's loader when PyYAML has it (its wheels do): the same data ten times faster, which
# every command pays at start (the catalog and the forms: ~270 ms in Python, ~25 ms in C)
SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with :data:`SAFE_LOADER`."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader, C or Python


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
        data = load_yaml(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(source, "tệp không phải UTF-8", "file is not UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (dòng {mark.line + 1})" if mark else ""
        raise SpecError(source, f"YAML sai cú pháp{where}", f"invalid YAML{where}") from None
    if not isinstance(data, dict):
        raise SpecError(source, "nội dung phải là một bảng khóa: giá trị", "top level must be a mapping")
    return _nfc(data), source, raw


def _nfc(value: Any) -> Any:
    """Every text of a spec in composed Unicode (NFC).  Spec files arrive in either form
    (the shared catalog itself has decomposed names); labels written into dropdowns and
    compared with what schools type must be one form, or equal texts would differ."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


def need(obj: Any, key: str, source: str, where: str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None or value == "" or value == []:
        raise SpecError(source, f"{where}: thiếu '{key}'", f"{where}: missing '{key}'")
    return value
