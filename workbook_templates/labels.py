"""The Vietnamese labels of the program's own vocabularies (a file's check status, a file's
classification, a school's submission status...) as data: vocabulary -> code -> label."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .errors import SpecError
from .spec_io import read_yaml

BUILTIN_LABELS = "labels.yaml"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

Labels = Mapping[str, Mapping[str, str]]


def load_labels(path: str | Path | None = None) -> Labels:
    """Vocabulary -> code -> label of ``path`` (default: the built-in file), read-only; a
    bad file is one SpecError line."""
    return _load(str(path) if path is not None else None)


@lru_cache(maxsize=4)
def _load(path: str | None) -> Labels:
    data, source, _raw = read_yaml(path, BUILTIN_LABELS)
    out: dict[str, Mapping[str, str]] = {}
    for vocab, entries in data.items():
        if not isinstance(vocab, str) or not _NAME.match(vocab):
            raise SpecError(source, f"tên bộ nhãn '{vocab}' không hợp lệ (chữ thường, số, _)",
                            f"invalid vocabulary name '{vocab}'")
        if not isinstance(entries, dict) or not entries:
            raise SpecError(source, f"{vocab}: phải là một bảng mã: nhãn", f"{vocab}: must map codes to labels")
        labels: dict[str, str] = {}
        for code, label in entries.items():
            if not isinstance(code, str) or not _NAME.match(code):
                raise SpecError(source, f"{vocab}: mã '{code}' không hợp lệ (chữ thường, số, _)",
                                f"{vocab}: invalid code '{code}'")
            if not isinstance(label, str) or not label.strip():
                raise SpecError(source, f"{vocab}.{code}: nhãn phải là chữ, không để trống",
                                f"{vocab}.{code}: the label must be non-empty text")
            labels[code] = label.strip()
        dup = sorted({x for x in labels.values() if list(labels.values()).count(x) > 1})
        if dup:
            raise SpecError(source, f"{vocab}: nhãn trùng: {', '.join(dup)}", f"{vocab}: duplicate labels")
        out[vocab] = MappingProxyType(labels)
    return MappingProxyType(out)
