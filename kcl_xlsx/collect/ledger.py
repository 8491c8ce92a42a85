"""The collection ledger: every file ever seen in an inbox, in one SQLite database.

One row per (path relative to the inbox, sha256, options key): size, mtime, the school and
template it claims, when the school saved it and when we first collected it, its status,
classification, issues (JSON) and rows (zlib-compressed JSON, see :func:`pack_rows`),
enough to rebuild the :class:`Submission` without parsing the file again; and (schema 2) the
columns the summary needs (``block``, see :mod:`row_block`), so that a re-run rebuilds the
summary without decoding any plan's rows.  A ledger of schema 1 (no ``block`` column) is
upgraded in place when opened: the column is added, and each file's block is filled from its
rows the first time a run takes the file from the ledger.  Writes go in one
transaction per batch (WAL journal), so a run killed half-way leaves a consistent ledger; the
next run parses only what is missing.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
import sys
import zlib
from pathlib import Path
from typing import Any, Iterable

from macros_free_validation.report import Severity

from kcl_xlsx.check.checker import PlanRow, Submission
from kcl_xlsx.base.output import file_mode, OutputError, cannot_write
from kcl_xlsx.spec.issues import FIELDS as _ISSUE_FIELDS, Issue

SCHEMA_VERSION = 2  # 2: the block column (a ledger of 1 is upgraded when opened)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    options_key TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    school_code TEXT NOT NULL DEFAULT '',
    template_id TEXT NOT NULL DEFAULT '',
    file_id TEXT NOT NULL DEFAULT '',
    form_version TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL DEFAULT '',
    year TEXT NOT NULL DEFAULT '',
    saved_at TEXT NOT NULL DEFAULT '',
    collected_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    status TEXT NOT NULL,
    classification TEXT NOT NULL DEFAULT '',
    matched_school TEXT NOT NULL DEFAULT '',
    issues_json TEXT NOT NULL DEFAULT '[]',
    rows_json TEXT NOT NULL DEFAULT '[]',
    submission_json TEXT NOT NULL DEFAULT '{}',
    block BLOB,
    PRIMARY KEY (path, sha256, options_key)
);
CREATE INDEX IF NOT EXISTS files_sha ON files(sha256, options_key);
CREATE INDEX IF NOT EXISTS files_stat ON files(path, size, mtime_ns, options_key);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- (de)serialising


def issue_to_dict(i: Issue) -> dict[str, Any]:
    # flat fields only: dataclasses.asdict's deep copy was a third of a file's ledger time
    d = {f: getattr(i, f) for f in _ISSUE_FIELDS}
    d["severity"] = i.severity.value if isinstance(i.severity, Severity) else str(i.severity)
    return d


_ISSUE_KNOWN = frozenset(_ISSUE_FIELDS)  # the fields an Issue has (a stored one may hold others, or fewer)


_ISSUE_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Issue) if f.default is not dataclasses.MISSING}
_ISSUE_REQUIRED = tuple(f.name for f in dataclasses.fields(Issue) if f.default is dataclasses.MISSING)
_SEVERITIES = {s.value: s for s in Severity}


def issue_from_dict(d: dict[str, Any]) -> Issue:
    """The Issue a stored dict stands for; TypeError without a required field, ValueError
    for an unknown severity (a damaged record).  Texts are shared (sys.intern): the same
    messages and hints come back from thousands of files.  The frozen dataclass is filled
    through its __dict__, not its __init__: a re-run reads every known file's issues (30,000
    at 10,000 plans), and the generated __init__ (one object.__setattr__ per field) took
    half of this function's time (0.23 -> 0.11 s, measured); the values are the same."""
    values = _ISSUE_DEFAULTS.copy()
    intern = sys.intern
    for k, v in d.items():
        if k in _ISSUE_KNOWN:
            values[k] = intern(v) if v.__class__ is str else v
    for name in _ISSUE_REQUIRED:
        if name not in values:
            raise TypeError(f"issue without {name}")
    severity = _SEVERITIES.get(values["severity"]) or Severity(values["severity"])  # a member, or ValueError
    values["severity"] = severity
    issue = object.__new__(Issue)
    issue.__dict__.update(values)
    return issue


def json_default(v: Any) -> str:
    """What json cannot write by itself (tuples it writes as lists): dates as ISO text."""
    return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else str(v)


def rows_to_json(rows: list[PlanRow]) -> str:
    return json.dumps([{"row": r.row, "values": r.values, "derived": r.derived, "errors": r.errors} for r in rows],
                      ensure_ascii=False, default=json_default)


def pack_rows(rows: list[PlanRow]) -> bytes:
    """The rows as the ledger stores them: their JSON, zlib-compressed.  A 40-row plan's
    JSON is about 35 KB (its labels are long Vietnamese texts) and compresses to about 4 KB
    at level 1 in 0.2 ms: a district's ledger stays a few dozen MB instead of hundreds, and
    the parent process writes a tenth of the bytes."""
    return zlib.compress(rows_to_json(rows).encode("utf-8"), 1)


def rows_from_json(stored: str | bytes | None) -> list[PlanRow]:
    """Rows as stored: :func:`pack_rows` bytes, or (ledgers written before it) JSON text or
    its UTF-8 bytes.  JSON starts with "[", a zlib stream with 0x78: never confused."""
    if isinstance(stored, bytes) and stored[:1] == b"\x78":
        stored = zlib.decompress(stored)
    return [PlanRow(d["row"], d["values"], d["derived"], d.get("errors", 0)) for d in json.loads(stored or "[]")]


def _read_only(ledger_path: str | Path) -> sqlite3.Connection:
    """A read-only connection (the run that wrote the rows may still hold its own)."""
    return sqlite3.connect(f"{Path(ledger_path).resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def read_rows(ledger_path: str | Path, path: str, sha256: str, options_key: str = "") -> list[PlanRow]:
    """The stored rows of one file."""
    conn = _read_only(ledger_path)
    try:
        row = conn.execute("SELECT rows_json FROM files WHERE path=? AND sha256=? AND options_key=?",
                           (path, sha256, options_key)).fetchone()
    finally:
        conn.close()
    return rows_from_json(row[0]) if row else []


def read_columns(ledger_path: str | Path, rowid: int, columns: tuple[str, ...]) -> tuple:
    """Columns of one ledger row by its rowid (None for each when it is gone)."""
    conn = _read_only(ledger_path)
    try:
        row = conn.execute(f"SELECT {', '.join(columns)} FROM files WHERE rowid=?", (rowid,)).fetchone()
    finally:
        conn.close()
    return tuple(row) if row else (None,) * len(columns)


_SUB_META = ("kind", "size", "sha256", "status", "identity", "identity_source", "signature", "level", "year",
             "framework", "info", "staff", "application", "saved_at", "sheet", "source_kind")


def submission_from_row(row: sqlite3.Row, display: str | None = None, *, rows: bool = True) -> Submission:
    """The Submission a ledger row stands for; ``display`` renames the file (a copy of the
    same bytes under another name).  ``rows=False``: without its rows (a collect run reads
    the summary's columns from the block instead; the row need not hold rows_json)."""
    meta = json.loads(row["submission_json"] or "{}")
    sub = Submission(file=display or row["path"], **{k: meta[k] for k in _SUB_META if k in meta})
    if rows:
        sub.rows = rows_from_json(row["rows_json"])
    sub.issues = [issue_from_dict(d) for d in json.loads(row["issues_json"] or "[]")]
    if display and display != row["path"]:
        sub.issues = [dataclasses.replace(i, file=display) if i.file == row["path"] else i for i in sub.issues]
    return sub


# --------------------------------------------------------------------------- the ledger


class Ledger:
    """``with Ledger(path) as led: ...``; also usable without ``with`` (call close())."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new = not self.path.exists()
            self.conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            if new:  # SQLite creates its file 0644 whatever the umask allows: give it the umask's mode
                os.chmod(self.path, file_mode())
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            with self.transaction():
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        self.conn.execute(stmt)
                _upgrade(self.conn)
        except OSError as exc:  # its folder is a file, or not writable
            raise cannot_write(self.path, exc) from None
        except sqlite3.Error as exc:  # not a database, locked by another run, unreadable
            raise OutputError(f"{self.path}: không mở được sổ theo dõi ({exc}) / cannot open the ledger") from None

    # -- plumbing -----------------------------------------------------------------------------

    def transaction(self):
        return _Tx(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- queries ------------------------------------------------------------------------------

    def stat_index(self, options_key: str = "") -> dict[tuple[str, int, int], int]:
        """(path, size, mtime) -> rowid of every file recorded under ``options_key`` (the
        newest sighting wins), read in one query: a run asks this of every inbox file."""
        rows = self.conn.execute("SELECT path, size, mtime_ns, rowid FROM files WHERE options_key=? "
                                 "ORDER BY last_seen_at", (options_key,))
        return {(p, size, mtime): rowid for p, size, mtime, rowid in rows}

    def sizes(self, options_key: str = "") -> set[int]:
        """Sizes of the recorded files: a file of another size cannot be a known one renamed."""
        return {r[0] for r in self.conn.execute("SELECT DISTINCT size FROM files WHERE options_key=?", (options_key,))}

    def known(self, options_key: str = "") -> dict[tuple[str, int, int], sqlite3.Row]:
        """(path, size, mtime) -> the file's row without its rows (rowid, sha256, the block's length,
        submission and issues) for every file recorded under ``options_key``, the newest
        sighting winning, in one query: a re-run takes every unchanged file from this."""
        # not sorted by SQLite (sorting 10,000 rows of 2 KB took a third of the query): the
        # newest sighting of a (path, size, mtime) is kept here, where one repeats
        rows = self.conn.execute(f"SELECT rowid, {_KNOWN_COLUMNS}, last_seen_at FROM files WHERE options_key=?",
                                 (options_key,))
        known: dict[tuple[str, int, int], sqlite3.Row] = {}
        for r in rows:
            key = (r[1], r[3], r[4])  # by position (path, size, mtime_ns): 10,000 rows, 3x faster than by name
            if key not in known or r[-1] >= known[key][-1]:
                known[key] = r
        return known

    def row(self, rowid: int) -> sqlite3.Row:
        return self.conn.execute("SELECT * FROM files WHERE rowid=?", (rowid,)).fetchone()

    def collected_index(self, options_key: str = "") -> dict[tuple[str, str], str]:
        """(path, sha256) -> when the file was first collected."""
        rows = self.conn.execute("SELECT path, sha256, collected_at FROM files WHERE options_key=?", (options_key,))
        return {(p, sha): at for p, sha, at in rows}

    def by_sha(self, sha256: str, options_key: str = "") -> sqlite3.Row | None:
        """Any row of the same bytes (a renamed, touched or copied file needs no re-parse)."""
        if not sha256:
            return None
        return self.conn.execute("SELECT rowid, * FROM files WHERE sha256=? AND options_key=? LIMIT 1",
                                 (sha256, options_key)).fetchone()

    def meta(self, key: str) -> str | None:
        return _meta_get(self.conn, key)

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            _meta_set(self.conn, key, value)

    def all(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM files ORDER BY path, collected_at").fetchall()

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]

    # -- writes -------------------------------------------------------------------------------

    def record(self, sub: Submission, path: str, size: int, mtime_ns: int, options_key: str = "",
               *, classification: str = "", matched_school: str = "", seen_at: str | None = None,
               rows_json: str | bytes | None = None, block: bytes | None = None) -> None:
        """Insert or refresh one file (call inside ``transaction()`` to batch).  ``rows_json``:
        the rows already serialised (a worker process did it), else ``sub.rows`` are;
        ``block``: the summary's columns packed (row_block.pack_block), None when unknown."""
        seen_at = seen_at or now_iso()
        idt = sub.identity or {}
        meta = {k: getattr(sub, k) for k in _SUB_META}
        meta["status"] = sub.status.value
        self.conn.execute(
            """INSERT INTO files (path, sha256, options_key, size, mtime_ns, school_code, template_id, file_id,
                                  form_version, level, year, saved_at, collected_at, last_seen_at, status,
                                  classification, matched_school, issues_json, rows_json, submission_json, block)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(path, sha256, options_key) DO UPDATE SET
                   size=excluded.size, mtime_ns=excluded.mtime_ns, last_seen_at=excluded.last_seen_at,
                   status=excluded.status, school_code=excluded.school_code,
                   issues_json=excluded.issues_json, rows_json=excluded.rows_json,
                   submission_json=excluded.submission_json, block=excluded.block,
                   classification=CASE WHEN excluded.classification='' THEN files.classification
                                       ELSE excluded.classification END,
                   matched_school=CASE WHEN excluded.matched_school='' THEN files.matched_school
                                       ELSE excluded.matched_school END""",
            (path, sub.sha256, options_key, size, mtime_ns, sub.school_code, idt.get("template_id", ""),
             idt.get("file_id", ""), idt.get("form_version", ""), sub.level or idt.get("level", ""),
             sub.year or idt.get("year", ""), sub.saved_at or "", seen_at, seen_at, sub.status.value, classification,
             matched_school, json.dumps([issue_to_dict(i) for i in sub.issues], ensure_ascii=False),
             rows_json if rows_json is not None else pack_rows(sub.rows), json.dumps(meta, ensure_ascii=False, default=str),
             block))

    def record_many(self, items: Iterable[tuple], options_key: str = "") -> int:
        """One transaction for the batch: all of it is in the ledger, or none.  Items are
        (submission, path, size, mtime_ns), optionally followed by the rows' JSON and the
        packed block."""
        n = 0
        with self.transaction():
            for sub, path, size, mtime_ns, *packed in items:
                rows_json, block = (list(packed) + [None, None])[:2]
                self.record(sub, path, size, mtime_ns, options_key, rows_json=rows_json, block=block)
                n += 1
        return n

    def set_blocks(self, items: Iterable[tuple[int, bytes]]) -> None:
        """(rowid, packed block) for files recorded without one (an upgraded ledger), in one
        transaction."""
        with self.transaction():
            self.conn.executemany("UPDATE files SET block=? WHERE rowid=?", [(b, rowid) for rowid, b in items])

    def classify(self, items: Iterable[tuple[str, str, str, str, str]]) -> None:
        """(path, sha256, options_key, classification, matched school) for this run, in one
        transaction; all seen at the same moment (the run's).  A collect run passes only the
        files whose classification changed: ``last_seen_at`` is when a file was last recorded
        or classified anew (it orders two records of one path, size and time; see known())."""
        seen = now_iso()
        with self.transaction():
            self.conn.executemany("UPDATE files SET classification=?, matched_school=?, last_seen_at=? "
                                  "WHERE path=? AND sha256=? AND options_key=?",
                                  [(c, m, seen, p, s, k) for p, s, k, c, m in items])



# every column but rows_json (the full rows: ~4 KB a plan, read only when needed), and of the
# block only its length (whether there is one: it is read when the summary needs it; reading
# 10,000 blocks here took 0.15-0.2 s of a daily re-run)
_KNOWN_COLUMNS = ("path, sha256, size, mtime_ns, status, issues_json, submission_json, length(block) AS block, "
                  "classification, matched_school, collected_at")


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring a ledger written by an earlier version to this schema (inside the opening
    transaction): schema 1 had no block column.  A newer schema's number is left as it is."""
    if "block" not in {r[1] for r in conn.execute("PRAGMA table_info(files)")}:
        conn.execute("ALTER TABLE files ADD COLUMN block BLOB")
    found = _meta_get(conn, "schema_version")
    if found is None or (found.isdigit() and int(found) < SCHEMA_VERSION):
        _meta_set(conn, "schema_version", str(SCHEMA_VERSION))


class _Tx:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, *_):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _meta_get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return row[0] if row else None


def _meta_set(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))
