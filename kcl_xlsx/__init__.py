"""kcl-xlsx: issue, collect, check and summarise schools' quality-improvement plans."""
from kcl_xlsx.spec import issue_codes  # noqa: F401  (every issue code is known wherever the package is imported)
