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


def empty_block() -> Block:
    return {name: () for name in COLUMNS}


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
