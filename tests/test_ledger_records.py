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


@pytest.mark.parametrize("order", ["older first", "newer first"])
def test_known_gives_the_newest_sighting_of_a_path_size_and_time(tmp_path, order):
    """Two records of one (path, size, mtime) (the file was replaced by other bytes of the
    same size, its time set back): a re-run takes the one seen last, whatever the order in
    which the ledger holds them."""
    from kcl_xlsx.check.checker import Submission
    from kcl_xlsx.collect.ledger import Ledger

    older = (Submission("a.xlsx", sha256="aa"), "2026-01-01T00:00:00.000000Z")
    newer = (Submission("a.xlsx", sha256="bb"), "2026-02-01T00:00:00.000000Z")
    with Ledger(tmp_path / "l.sqlite") as led:
        for sub, seen in ([older, newer] if order == "older first" else [newer, older]):
            led.record(sub, "a.xlsx", 10, 5, seen_at=seen, rows_json=b"[]")
        led.record(Submission("b.xlsx", sha256="cc"), "b.xlsx", 10, 5, rows_json=b"[]")
        known = led.known()
    assert set(known) == {("a.xlsx", 10, 5), ("b.xlsx", 10, 5)}
    assert known[("a.xlsx", 10, 5)]["sha256"] == "bb" and known[("b.xlsx", 10, 5)]["sha256"] == "cc"


@pytest.mark.parametrize("spelled", ["as given", "with a trailing slash", "with /."])
def test_the_inbox_fingerprint_is_its_listing_with_relative_paths(tmp_path, spelled):
    """collect.cache.fingerprint works out a file's relative path per folder: the hash is the
    one of the listing built with os.path.relpath per file (what earlier runs recorded),
    however the inbox is spelled, and moving a file to another folder changes it."""
    import hashlib
    import json
    import os

    from kcl_xlsx.collect.cache import FORMAT, fingerprint

    inbox = tmp_path / "hộp thư"
    for rel in ("a.xlsx", "phòng-1/b.xlsx", "phòng-1/sâu/c.xlsx", "phòng-2/b.xlsx"):
        (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
        (inbox / rel).write_bytes(rel.encode())
    given = {"as given": str(inbox), "with a trailing slash": str(inbox) + "/", "with /.": str(inbox) + "/."}[spelled]
    want = hashlib.sha256(json.dumps([FORMAT, "x"]).encode())
    for root, dirs, files in os.walk(inbox):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(root, name)
            st = os.stat(p)
            want.update(f"{os.path.relpath(p, inbox)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    assert fingerprint(given, "x") == want.hexdigest()
    before = fingerprint(given, "x")
    os.replace(inbox / "phòng-2" / "b.xlsx", inbox / "phòng-1" / "sâu" / "b.xlsx")
    assert fingerprint(given, "x") != before
