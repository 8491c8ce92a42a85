"""A stored issue reads back as the Issue it was (ledger.issue_from_dict fills the frozen
dataclass directly, for speed: it must give what the dataclass's own constructor gives)."""
from __future__ import annotations

import dataclasses

import pytest

from kcl_xlsx.collect.ledger import issue_from_dict, issue_to_dict
from kcl_xlsx.spec.issues import Code, Issue
from macros_free_validation.report import Severity


def _made() -> Issue:
    return Issue.make(Code.TEMPLATE_WRONG_YEAR, file="a/b.xlsx", school_code="S1", sheet="Thông tin", cell="B4",
                      row=4, value="2024-2025", expected="2025-2026", found="2024-2025")


def test_a_stored_issue_reads_back_equal_hashable_and_frozen():
    issue = _made()
    back = issue_from_dict(issue_to_dict(issue))
    assert back == issue and hash(back) == hash(issue) and repr(back) == repr(issue)
    assert back.severity is issue.severity and back.where() == "Thông tin!B4"
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.file = "x"  # type: ignore[misc]
    assert dataclasses.replace(back, file="c.xlsx").file == "c.xlsx"


def test_fields_missing_take_their_defaults_and_unknown_ones_are_ignored():
    stored = {"code": "x.y", "severity": "warning", "message": "Thông báo", "from_a_later_version": 1}
    assert issue_from_dict(stored) == Issue(code="x.y", severity=Severity.WARNING, message="Thông báo")


@pytest.mark.parametrize("stored, error", [
    ({"severity": "error", "message": "m"}, TypeError),  # no code
    ({"code": "c", "severity": "error"}, TypeError),  # no message
    ({"code": "c", "message": "m"}, TypeError),  # no severity
    ({"code": "c", "severity": "fatal", "message": "m"}, ValueError),
])
def test_a_damaged_issue_is_refused(stored, error):
    # as before (Issue(**d) and Severity(value)): the run then reads the file again
    with pytest.raises(error):
        issue_from_dict(stored)
