"""kcl-xlsx: issue, collect, check and summarise schools' quality-improvement plans."""
from . import issue_codes  # noqa: F401  (every issue code is known wherever the package is imported)
