"""kcl-xlsx: issue, collect, check and summarise schools' quality-improvement plans."""
