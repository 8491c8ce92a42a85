"""The limits a submitted file must keep before any parser sees it (pre-flight, part
scanners, the reader): one record, shared by the modules that enforce it."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Bounds:
    max_file_bytes: int = 20 * 2**20
    max_parts: int = 400
    max_part_uncompressed: int = 64 * 2**20
    max_total_uncompressed: int = 128 * 2**20
    max_ratio: float = 120
    # Small parts compress extremely well (a run of empty styled rows); the ratio only
    # means "bomb" once a part is big enough to hurt.
    ratio_floor_bytes: int = 2**20
    max_row: int = 5000
    max_col: int = 64
    max_text_run: int = 32767
    # A count a part declares for what follows (shared strings' count/uniqueCount, the styles'
    # count of fonts, formats...): a parser may reserve memory for it before reading a
    # single entry (2**31 shared strings: 51 GB).  A plan within max_row x max_col has far fewer.
    max_declared_count: int = 2_000_000
    # Sheets a workbook may list (a plan has a handful; each sheet listed is read by the
    # parser, even when thousands name the same part).
    max_sheets: int = 250
