"""A plan's rows kept compactly while a collect run goes on: one tuple per field.

A collect run holds every file's result until it can tell which file of each school is the
newest valid one.  As :class:`~kcl_xlsx.check.checker.PlanRow` objects (two dicts per row) a
district's 10,000 plans took well over a gigabyte; as columns of tuples, with the values
that repeat across thousands of plans (dropdown labels, codes, months) shared, they take a
few kilobytes per plan.  The full rows stay in the ledger (:class:`LazyRows` reads them
back when something needs them whole).
"""
from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Sequence
from typing import Any, Iterable

from workbook_templates.form import Roles

# What the summary needs of each row (not the free-text notes and results, which it never
# shows), named by role: the field each role is comes from the form (form.yaml ``roles``).
VALUE_ROLES = ("level", "standard", "criterion", "target", "actions", "lead", "collaborators", "start", "end",
               "funding", "status")
DERIVED = ("section", "criterion_code", "budget_min", "budget_max", "start_month", "end_month")
COLUMNS = ("row", *VALUE_ROLES, *DERIVED)

Block = dict[str, tuple]


def block_of(rows: Iterable[Any], roles: Roles) -> Block:
    """The columns of ``rows`` (PlanRow objects)."""
    rows = list(rows)
    out: Block = {"row": tuple(r.row for r in rows)}
    for role in VALUE_ROLES:
        key = getattr(roles, role)
        out[role] = tuple(r.values.get(key) for r in rows)
    for name in DERIVED:
        out[name] = tuple(r.derived.get(name) for r in rows)
    return out


# the columns whose values repeat from plan to plan: dropdown labels and codes, and the
# texts schools copy from the guidance and from each other
SHARED_FIELDS = frozenset({*VALUE_ROLES, "section", "criterion_code"})


def shared(block: Block) -> Block:
    """The block with its labels interned, in the process that keeps it: each block comes
    from a worker (or the ledger) with its own copies of "Tiêu chuẩn 1 - ..." and the rest.
    Numbers are left alone."""
    intern = sys.intern
    return {name: tuple([intern(v) if v.__class__ is str else v for v in values]) if name in SHARED_FIELDS else values
            for name, values in block.items()}


# The block as the ledger stores it (schema 2): zlib-compressed JSON of [format, column
# names, columns].  A 40-row plan's block is ~1 KB and decodes in ~0.1 ms, where its full
# rows (~4 KB compressed, every field and every derived value) took ~0.4 ms to decode and
# re-shape: that decoding was half of a daily re-run at 10,000 plans (issue 15).  The column
# names are stored so that a block written before COLUMNS changed reads as missing (rebuilt
# from the rows), never as the wrong columns.
BLOCK_FORMAT = 1


def pack_block(block: Block) -> bytes:
    from kcl_xlsx.collect.ledger import json_default  # the rows' encoding of dates: both read back alike

    data = [BLOCK_FORMAT, list(COLUMNS), [list(block[c]) for c in COLUMNS]]
    return zlib.compress(json.dumps(data, ensure_ascii=False, default=json_default).encode("utf-8"), 1)


def unpack_block(stored: bytes | None) -> Block | None:
    """The block :func:`pack_block` stored, or None when there is none or it cannot be read
    (damaged, another format): the caller rebuilds it from the rows."""
    if not stored:
        return None
    try:
        fmt, names, columns = json.loads(zlib.decompress(stored))
        if fmt != BLOCK_FORMAT or names != list(COLUMNS) or len({len(c) for c in columns}) > 1:
            return None
        return {name: tuple(values) for name, values in zip(COLUMNS, columns)}
    except (zlib.error, ValueError, TypeError):  # json's errors are ValueErrors
        return None


def shared_submission(sub: Any, fresh: bool) -> Any:
    """The submission with the texts that repeat from file to file shared (issue messages
    and hints, field names, identity and info keys, labels): a file's submission held 15 KB,
    7 KB of it its issues' texts, which a national run holds 45,000 times.  ``fresh``: it
    came from a worker (a frozen Issue cannot be changed: it is rebuilt through the ledger's
    own encoding, so that a fresh run and a re-run hold the same values)."""
    from kcl_xlsx.collect.ledger import issue_from_dict, issue_to_dict

    intern = sys.intern
    if fresh:
        sub.issues = [issue_from_dict(issue_to_dict(i)) for i in sub.issues]
    for name in ("identity", "info"):
        d = getattr(sub, name)
        setattr(sub, name, {intern(k): intern(v) if v.__class__ is str and len(v) < 200 else v for k, v in d.items()})
    for name in ("kind", "identity_source", "signature", "level", "year", "framework", "application", "sheet"):
        value = getattr(sub, name)
        if value.__class__ is str:
            setattr(sub, name, intern(value))
    return sub


def empty_block() -> Block:
    return {name: () for name in COLUMNS}


class LazyRows(Sequence):
    """A submission's rows, read from the ledger when used (never kept in memory)."""

    def __init__(self, ledger_path: str, path: str, sha256: str, options_key: str, count: int | None):
        """``count``: the number of rows, None when unknown (then counted when asked)."""
        self.ledger_path, self.path, self.sha256, self.options_key = ledger_path, path, sha256, options_key
        self.count = count

    def load(self) -> list:
        from kcl_xlsx.collect.ledger import read_rows

        return read_rows(self.ledger_path, self.path, self.sha256, self.options_key)

    def __len__(self) -> int:
        if self.count is None:
            self.count = len(self.load())
        return self.count

    def __getitem__(self, index):
        return self.load()[index]

    def __iter__(self):
        return iter(self.load())

    def __repr__(self) -> str:
        return f"LazyRows({self.path!r}, {self.count} rows)"
