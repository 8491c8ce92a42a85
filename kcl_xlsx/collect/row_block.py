"""A plan's rows kept compactly while a collect run goes on: one tuple per field.

A collect run holds every file's result until it can tell which file of each school is the
newest valid one.  As :class:`~kcl_xlsx.check.checker.PlanRow` objects (two dicts per row) a
district's 10,000 plans took well over a gigabyte; as columns of tuples, with the values
that repeat across thousands of plans (dropdown labels, codes, months) shared, they take a
few kilobytes per plan.  The full rows stay in the ledger (:class:`LazyRows` reads them
back when something needs them whole).
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Iterable

# What the summary needs of each row (not the free-text notes and results, which it never
# shows): (column, where it comes from: "v" the row's values, "d" its derived fields, "row"
# its number).
FIELDS: tuple[tuple[str, str], ...] = (
    ("row", "row"),
    ("muc", "v"), ("standard", "v"), ("criterion", "v"), ("target", "v"), ("actions", "v"), ("lead", "v"),
    ("collaborators", "v"), ("start", "v"), ("end", "v"), ("funding", "v"), ("status", "v"),
    ("section", "d"), ("criterion_code", "d"), ("budget_min", "d"), ("budget_max", "d"), ("start_month", "d"),
    ("end_month", "d"),
)

Block = dict[str, tuple]


def block_of(rows: Iterable[Any]) -> Block:
    """The columns of ``rows`` (PlanRow objects)."""
    rows = list(rows)
    out: Block = {}
    for name, src in FIELDS:
        if src == "row":
            out[name] = tuple(r.row for r in rows)
        elif src == "v":
            out[name] = tuple(r.values.get(name) for r in rows)
        else:
            out[name] = tuple(r.derived.get(name) for r in rows)
    return out


# the columns whose values repeat from plan to plan: dropdown labels and codes, and the
# texts schools copy from the guidance and from each other
SHARED_FIELDS = frozenset({"muc", "standard", "criterion", "target", "actions", "lead", "collaborators", "start",
                           "end", "funding", "status", "section", "criterion_code"})


def shared(block: Block) -> Block:
    """The block with its labels interned, in the process that keeps it: each block comes
    from a worker (or the ledger) with its own copies of "Tiêu chuẩn 1 - ..." and the rest.
    Numbers are left alone."""
    intern = sys.intern
    return {name: tuple([intern(v) if v.__class__ is str else v for v in values]) if name in SHARED_FIELDS else values
            for name, values in block.items()}


def empty_block() -> Block:
    return {name: () for name, _src in FIELDS}


class LazyRows(Sequence):
    """A submission's rows, read from the ledger when used (never kept in memory)."""

    def __init__(self, ledger_path: str, path: str, sha256: str, options_key: str, count: int):
        self.ledger_path, self.path, self.sha256, self.options_key = ledger_path, path, sha256, options_key
        self.count = count

    def load(self) -> list:
        from kcl_xlsx.collect.ledger import read_rows

        return read_rows(self.ledger_path, self.path, self.sha256, self.options_key)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        return self.load()[index]

    def __iter__(self):
        return iter(self.load())

    def __repr__(self) -> str:
        return f"LazyRows({self.path!r}, {self.count} rows)"
