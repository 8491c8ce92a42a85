"""Columns worked out once per distinct value.

A province's roll-up holds 1.8 million rows whose text columns hold a few thousand distinct
values (levels, labels, months, school names): a Python call per cell took most of the
roll-up's time (issue 15), one call per distinct value takes none of it, and the column
that comes back shares one str object per distinct value instead of a copy per cell.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

KEEP = object()  # per_distinct's ``missing``: a missing cell stays as it was (None or NaN)


def per_distinct(values: Any, func: Callable[[Any], Any], missing: Any = None) -> np.ndarray:
    """``[func(v) for v in values]`` as an object array, ``func`` called once per distinct
    value; a missing cell (None, NaN) gets ``missing`` (KEEP: itself) without a call."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = np.array([func(v) for v in uniques] + [None if missing is KEEP else missing], dtype=object)
    out = results[codes]  # code -1 (missing) takes the last element
    if missing is KEEP and (codes == -1).any():
        out[codes == -1] = np.asarray(values, dtype=object)[codes == -1]
    return out
