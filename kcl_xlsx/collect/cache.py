"""An unchanged inbox needs no work: the run's fingerprint (every file's path, size and
time, the options, roster, deadline and as-of date, the outputs asked for) is kept with what
the run produced; when the next run has the same fingerprint and the outputs are still
there, untouched, it reports the recorded result instead of rebuilding.

The record is in two parts.  What the run found (counts, schools and their status, advice)
is written into the ledger with the run's classifications, before any output (`reissue`
reads the schools from there).  The outputs' signatures follow, once every output is
written, in a small file beside the ledger (:func:`outputs_file`), replaced by a rename and
never synced to disk: it is a cache, and a lost one only means the next run rebuilds.  A
write to the ledger after the outputs made SQLite sync its journal, which waited for the
disk to take the export just written (0.3 s of a 10,000-plan re-run, most of it that wait).
A run interrupted between the two leaves the ledger's record with a fingerprint that the
outputs file does not have: the next run rebuilds.

"Untouched" is judged by each output's size and modification time, not by hashing it: a
district's export holds a 275 MB rows.csv at 10,000 plans, and hashing every output cost
each run (and each unchanged re-run) about half a second.  Opening the summary in Excel and
saving it changes its time; the next run then rebuilds it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from kcl_xlsx.base.output import OutputError, temporary_beside
from kcl_xlsx.collect.ledger import Ledger
from kcl_xlsx.spec.vocab import Classification, SchoolStatus

KEY = "last_run"  # the ledger's meta key of the record (reissue reads its schools)
# 3: the outputs' signatures in their own file beside the ledger (2: in the ledger's record,
# by size and modification time; 1: by SHA-256).  Part of the fingerprint: a record of an
# earlier format never matches.
FORMAT = 3


def fingerprint(inbox: Path, *parts: Any) -> str:
    """Hash of the inbox listing (relative path, size, mtime) and of ``parts``."""
    h = hashlib.sha256(json.dumps([FORMAT, *map(str, parts)]).encode())
    for root, dirs, files in os.walk(inbox):
        dirs.sort()
        # a file's relative path is its folder's (worked out once per folder) and its name:
        # os.path.relpath per file was half of this function's time at 10,000 files
        folder = os.path.relpath(root, inbox)
        prefix = "" if folder == os.curdir else folder + os.sep
        for name in sorted(files):
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            h.update(f"{prefix}{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def outputs_file(ledger_path: Path) -> Path:
    return Path(str(ledger_path) + ".last-run.json")


def record(led: Ledger, fp: str, res: Any) -> None:
    """What the run found, into the ledger (call once it is classified, before the outputs)."""
    found = {
        "fingerprint": fp,
        "counts": {k.value: n for k, n in res.counts().items()}, "parsed": res.parsed,
        # what a re-run would re-read: not an archive, nor an entry only listed (a link, a member not checked)
        "files": sum(1 for f in res.files if f.classification not in (Classification.ARCHIVE, Classification.SKIPPED)),
        "schools": {code: {"name": s.name, "level": s.level, "unit": s.unit, "status": s.status.label,
                           "in_roster": s.in_roster} for code, s in res.schools.items()},
        "advice": list(res.advice),
        "at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    led.set_meta(KEY, json.dumps(found, ensure_ascii=False))


def save(fp: str, res: Any) -> None:
    """The outputs' signatures, once every one is written (see the module's docstring)."""
    outputs = [str(p) for p in ([res.out] if res.out else []) + ([res.pdf] if res.pdf else []) + list(res.exported)
               + list(res.feedback)]
    text = json.dumps({"format": FORMAT, "fingerprint": fp, "outputs": {p: _signature(p) for p in outputs}},
                      ensure_ascii=False)
    path = outputs_file(res.ledger_path)
    try:
        with temporary_beside(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
    except (OSError, OutputError):  # a full disk: the next run rebuilds, which is all this file saves
        pass


def recall(led: Ledger, fp: str) -> dict | None:
    """The recorded run if it had this fingerprint and its outputs are intact."""
    try:  # the small file first: a changed inbox never reads the ledger's record (1.3 MB at 10,000 schools)
        written = json.loads(outputs_file(led.path).read_text(encoding="utf-8"))
        if not isinstance(written, dict) or written.get("fingerprint") != fp:
            return None
        found = json.loads(led.meta(KEY) or "null")
    except (OSError, ValueError):  # no outputs file (an interrupted run, an earlier version), or a damaged one
        return None
    if not isinstance(found, dict) or found.get("fingerprint") != fp:
        return None
    outputs = written.get("outputs")
    if not isinstance(outputs, dict):
        return None
    for path, signature in outputs.items():
        if _signature(path) != signature:
            return None  # an output was removed or changed: rebuild it
    return found


def _signature(path: str) -> list[int] | None:
    """[size, mtime_ns] of an output (a list: as JSON gives it back); None when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def school_results(record: dict, school_cls) -> dict:
    """The recorded schools (their status is recorded as its label)."""
    return {code: school_cls(code=code, **{k: (SchoolStatus.from_label(v) if k == "status" else v)
                                           for k, v in s.items()
                                           if k in {f.name for f in dataclasses.fields(school_cls)}})
            for code, s in record.get("schools", {}).items()}
