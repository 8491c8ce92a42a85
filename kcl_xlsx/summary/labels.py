"""The summary's codes as a person reads them, and back.

The tables (and the export) hold stable codes: a school level (``thcs``), a framework id
(``tt18-2018``), a section (``muc1_3``), a severity (``warning``), a check status
(``errors``), how a file was matched (``identity``), a change (``added``).  Every sheet of the
summary workbook shows their Vietnamese labels instead, taken from the data files: levels
from form.yaml (``school_levels``), frameworks from the criteria catalog (its circular
number), the rest from labels.yaml through :mod:`kcl_xlsx.spec.vocab`.  A roll-up reading a
summary back turns the labels into codes again (:func:`codes_of`); a value that is no known
label (a summary written before the labels, which held the codes) is kept as it is.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Mapping

import pandas as pd

from macros_free_validation.report import Severity
from workbook_templates.catalog import load_catalog
from workbook_templates.form import load_form

from kcl_xlsx.spec.vocab import ChangeKind, CheckStatus, Match, Section, SourceKind, Vocab
from kcl_xlsx.summary.columns import KEEP, per_distinct


@lru_cache(maxsize=8)
def level_labels(form: str | None = None) -> Mapping[str, str]:
    """School level key -> its label (``thcs`` -> ``Trung học cơ sở``)."""
    return {lv.key: lv.label for lv in load_form(form).levels}


@lru_cache(maxsize=1)
def framework_labels() -> Mapping[str, str]:
    """Framework id -> ``Thông tư 18/2018/TT-BGDĐT`` (the built-in catalog; an id it does not
    know is shown as it is)."""
    return {f.id: f.label for f in load_catalog().frameworks}


def framework_label(framework: str) -> str:
    return framework_labels().get(framework, framework)


def framework_short(framework: str) -> str:
    """``TT18/2018``: a chart's axis names the framework before a criterion code."""
    label = framework_label(framework)
    m = re.search(r"(\d+)/(\d{4})", label)
    return f"TT{m.group(1)}/{m.group(2)}" if m else label


def _vocab(cls: type) -> Mapping[str, str]:
    if cls is Severity:
        from kcl_xlsx.spec.vocab import label_of
        return {s.value: label_of(s) for s in Severity}
    return {m.value: m.label for m in cls}


def severity_label(severity) -> str:
    """Lỗi / Cảnh báo / Thông tin (labels.yaml): the one wording of a severity."""
    return _vocab(Severity)[Severity(severity).value]


# column of a summary table -> the mapping from its codes to labels
def column_labels(form: str | None = None) -> dict[str, Mapping[str, str]]:
    return {"level": level_labels(form), "framework": framework_labels(), "section": _vocab(Section),
            "severity": _vocab(Severity), "match": _vocab(Match), "change": _vocab(ChangeKind),
            "source_kind": _vocab(SourceKind)}


FILE_STATUS = "status"  # files.status holds a CheckStatus code (schools.status holds its label already)


def labelled(df: pd.DataFrame, form: str | None = None, file_status: bool = False) -> pd.DataFrame:
    """``df`` with every coded column shown as its label (a code without a label stays)."""
    maps: dict[str, Mapping[str, str]] = {c: m for c, m in column_labels(form).items() if c in df.columns}
    if file_status and FILE_STATUS in df.columns:
        maps[FILE_STATUS] = _vocab(CheckStatus)
    if not maps:
        return df
    return df.assign(**{c: _mapper(m)(df[c]) for c, m in maps.items()})


def codes_of(df: pd.DataFrame, form: str | None = None, file_status: bool = False) -> pd.DataFrame:
    """The inverse of :func:`labelled`, for a summary read back."""
    maps = {c: {v: k for k, v in m.items()} for c, m in column_labels(form).items() if c in df.columns}
    if file_status and FILE_STATUS in df.columns:
        maps[FILE_STATUS] = {v: k for k, v in _vocab(CheckStatus).items()}
    if not maps:
        return df
    return df.assign(**{c: _mapper(m)(df[c]) for c, m in maps.items()})


def _mapper(mapping: Mapping[str, str]) -> Callable[[pd.Series], pd.Series]:
    return lambda s: pd.Series(per_distinct(s, lambda v: mapping.get(v, v) if isinstance(v, str) else v, KEEP),
                               index=s.index, dtype=object)


def label_columns(df: pd.DataFrame, form: str | None = None, file_status: bool = False) -> pd.DataFrame:
    """The export's tables: their code columns as they are, then one ``<column>_label``
    column per coded column, at the end (an older reader finds its columns unchanged)."""
    shown = labelled(df, form, file_status)
    extra = {f"{c}_label": shown[c] for c in df.columns
             if c in column_labels(form) or (file_status and c == FILE_STATUS)}
    return df.assign(**extra) if extra else df


__all__ = ["level_labels", "framework_labels", "framework_label", "framework_short", "severity_label",
           "labelled", "codes_of", "label_columns", "Vocab"]
