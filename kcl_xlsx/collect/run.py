"""Collect an inbox: find every returned file, check it (in worker processes, cached in the
ledger), classify it and pick the newest valid plan per school.  The summary is the next
stage's (:mod:`kcl_xlsx.summary`); :func:`kcl_xlsx.app.collect` chains the two.

Nothing in the inbox is ever changed: files are only read; workbooks inside .zip
attachments are extracted (bounded) to a private temporary folder and named
``attachment.zip!inner.xlsx``.
"""
from __future__ import annotations

import dataclasses
import functools
from collections import Counter
import datetime as dt
import hashlib
import json
import re
import shutil
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable

from kcl_xlsx.check.checker import CheckOptions, PlanRow, Submission, check_path, sources_of
from kcl_xlsx.check.feedback_run import OtherForm, write_feedback_files
from kcl_xlsx.base.memory import keep_long_lived
from kcl_xlsx.base.text import int_if_whole
from kcl_xlsx.spec.issues import Code
from kcl_xlsx.spec.freetext import clean, fold
from workbook_templates.form import Form
from kcl_xlsx.collect import cache as collect_cache
from kcl_xlsx.intake import entries
from kcl_xlsx.intake.entries import file_sha256, walk
from kcl_xlsx.collect.ledger import Ledger, now_iso, pack_rows, read_columns, rows_from_json, submission_from_row
from kcl_xlsx.spec.roster import Roster, name_key
from kcl_xlsx.collect.order import newest_key, norm_time
from kcl_xlsx.collect.row_block import (Block, LazyRows, block_of, empty_block, pack_block, shared, shared_submission,
                                       unpack_block)
from kcl_xlsx.collect.result import (STATUS_CLASSIFICATION, Change, ChangeKind, CheckStatus, Classification,
                                     CollectResult, InboxFile, SchoolResult, SchoolStatus)

BATCH = 16


# Raised whenever a change of the checks would give an unchanged file another verdict (a new
# rule, a warning become an error): results cached under an older revision are checked again
# once, so an upgrade never keeps an old verdict.  2: non-finite numbers refused, the budget
# ceiling an error (issue 14).
RULES_REVISION = 3  # 3: Word plans are read and checked (they were refused as not workbooks)


def options_key(options: CheckOptions) -> str:
    """What a parse result depends on besides the bytes (cached results are per key)."""
    d = dataclasses.asdict(options)
    d["rules"] = RULES_REVISION
    if d["form"] is None:
        del d["form"]  # the key of every earlier ledger, made before a form file could be named
    d["key"] = hashlib.sha256(options.key).hexdigest() if options.key else ""
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def default_ledger(out: Path) -> Path:
    return Path(out).parent / "kcl-ledger.sqlite"


def ledger_for(inbox: Path, out: Path | None, ledger_path: Path | None) -> Path:
    """The ledger a run uses: the one named, else beside the summary (or beside the inbox)."""
    return Path(ledger_path) if ledger_path else default_ledger(out or Path(inbox).parent / "tong-hop.xlsx")


# --------------------------------------------------------------------------- the entry point


def collect_inbox(inbox: Path, out: Path | None, *, roster: Roster | None = None, year: str | None = None,
                  deadline: dt.date | str | None = None, ledger_path: Path | None = None, jobs: int | None = None,
                  options: CheckOptions | None = None, progress: Callable[[str, int, int], None] | None = None,
                  write_summary: bool = True, feedback: Path | None = None, export: Path | None = None,
                  as_of: dt.date | None = None, outputs_key: tuple = (), show_info: bool = False,
                  word_feedback: OtherForm | None = None) -> CollectResult:
    """The collect stage: every file of ``inbox`` checked (unchanged files from the ledger),
    classified, the newest valid plan of each school chosen, feedback copies written.  The
    summary is not written here (see :func:`kcl_xlsx.app.collect`); ``out``, ``write_summary``
    and ``export`` only name the outputs the run is for: an inbox unchanged since a run for
    the same outputs, whose outputs are intact, comes back with ``unchanged`` set and nothing
    redone.  ``jobs=0`` checks in this process (no sandbox); ``progress(stage, done, total)``
    is called as files are checked.  ``outputs_key``: what else the outputs depend on (e.g.
    whether they show info-level issues, a PDF), part of the unchanged-inbox fingerprint."""
    t0 = time.perf_counter()
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise FileNotFoundError(f"{inbox}: không phải thư mục / not a folder")
    options = options or CheckOptions(year=year)
    if year and not options.year:
        options = dataclasses.replace(options, year=year)
    if isinstance(deadline, str):
        deadline = dt.date.fromisoformat(deadline)
    ledger_path = ledger_for(inbox, out, ledger_path)
    okey = options_key(options)
    as_of = as_of or dt.date.today()
    fp = collect_cache.fingerprint(inbox, okey, _roster_key(roster), deadline, as_of, out, write_summary, export,
                                   feedback, options.choices, *outputs_key)
    res = CollectResult(inbox, Path(out) if out else None, ledger_path, [], {}, roster, options.year, deadline,
                        as_of=as_of, choices=options.choices, form=options.form, fingerprint=fp, started=t0, options_key=okey,
                        show_info=show_info)
    with Ledger(ledger_path) as led:
        record = collect_cache.recall(led, fp)
    if record is not None:  # nothing changed since the last run: its outputs stand
        res.cached, res.unchanged = record["files"], True
        res.recorded_counts = {Classification(k): n for k, n in record["counts"].items()}
        res.schools = collect_cache.school_results(record, SchoolResult)
        res.advice = list(record.get("advice") or [])
        res.seconds = time.perf_counter() - t0
        return res
    tmp = Path(tempfile.mkdtemp(prefix="kcl-collect-"))
    # a first worker starts (~0.5 s of imports) while this process walks the inbox and reads
    # the ledger: a daily re-run with one new file no longer waits for it afterwards
    pool = _early_pool(options, jobs)
    try:
        files, listed = _walk(inbox, tmp, options)
        with Ledger(ledger_path) as led:
            form = sources_of(options).form
            todo = _from_ledger(files, led, okey, res, form)
            keep_long_lived()  # the known files' submissions live as long as the run
            res.timings["find"] = time.perf_counter() - t0
            res.sandboxed = _parse(todo, options, jobs, led, okey, res, progress, pool)
            res.timings["check"] = time.perf_counter() - t0 - res.timings["find"]
            first_seen = led.collected_index(okey)
            for f in files:
                f.sha256 = f.sha256 or (f.sub.sha256 if f.sub else "")
                f.collected_at = first_seen.get((f.rel, f.sha256), "") or now_iso()
            res.files = sorted(files + listed, key=lambda f: f.rel)
            _classify(res, files, roster, deadline, form)
            res.advice = diagnose(res)
            led.classify((f.rel, f.sub.sha256, okey, f.classification.value, f.school) for f in files
                         if f.sub and f.recorded != (f.classification.value, f.school))
            collect_cache.record(led, fp, res)  # what it found; the outputs follow (see remember)
            res.timings["classify"] = time.perf_counter() - t0 - res.timings["find"] - res.timings["check"]
        if feedback is not None:  # inside: zip members are readable only until the clean-up
            with_sub = [f for f in files if f.sub]
            res.feedback = write_feedback_files([f.sub for f in with_sub], [f.path for f in with_sub], Path(feedback),
                                                show_info=show_info, word=word_feedback, jobs=jobs)
    finally:
        if pool is not None:
            pool.close()  # a no-op when the check used it (check_many closes it)
        shutil.rmtree(tmp, ignore_errors=True)
    res.seconds = time.perf_counter() - t0
    return res


def diagnose(res: CollectResult) -> list[str]:
    """What the office should hear when most plan files fail the same template check: then
    the option is wrong, not the schools (a mistyped --year makes every file "Nộp có lỗi")."""
    plans = [f for f in res.files if f.sub is not None and f.sub.status in (CheckStatus.VALID, CheckStatus.ERRORS)]
    found = Counter(next((i.value for i in f.sub.issues if i.code == Code.TEMPLATE_WRONG_YEAR.value), None)
                    for f in plans)
    found.pop(None, None)
    advice = []
    if found and sum(found.values()) * 2 > len(plans):
        year, n = found.most_common(1)[0]
        advice.append(f"{sum(found.values())}/{len(plans)} tệp kế hoạch là mẫu năm học {year}, không phải năm học "
                      f"{res.year} (--year). Nếu đúng là năm học {year}, chạy lại với --year {year}.")
    return advice


def remember(res: CollectResult) -> None:
    """Record the finished run's outputs (their sizes and times, under its fingerprint) so
    that the next run over an unchanged inbox redoes nothing (see :mod:`collect.cache`).
    Called once every output is written: a run interrupted before is done again."""
    t = time.perf_counter()
    collect_cache.save(res.fingerprint, res)
    res.timings["record"] = time.perf_counter() - t
    res.seconds = time.perf_counter() - res.started


def _roster_key(roster: Roster | None) -> str:
    return "" if roster is None else hashlib.sha256(repr(roster.schools).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- walking


def _walk(inbox: Path, tmp: Path, options: CheckOptions) -> tuple[list[InboxFile], list[InboxFile]]:
    """The files to check, and the entries only listed: .zip attachments (their workbooks
    are among the files), archive members not checked, symbolic links and special files,
    each with its reason (see :mod:`intake.entries`)."""
    files: list[InboxFile] = []
    listed: list[InboxFile] = []
    for e in walk([inbox], tmp, options.bounds.max_file_bytes, relative_to=inbox):
        if e.kind == entries.FILE:
            files.append(InboxFile(e.name, e.path, e.size, e.mtime_ns))
        else:
            kind = Classification.ARCHIVE if e.kind == entries.ARCHIVE else Classification.SKIPPED
            listed.append(InboxFile(e.name, e.path, e.size, e.mtime_ns, e.sha256, classification=kind, note=e.note))
    return files, listed


# --------------------------------------------------------------------------- parsing (cached)


def _from_ledger(files: list[InboxFile], led: Ledger, okey: str, res: CollectResult, form: Form) -> list[InboxFile]:
    """Take every file the ledger already knows from it; return the files to parse.  A known
    file costs its small columns, never its rows: the summary's columns come from its block
    (a ledger written before blocks gets each one built from the rows once, and kept)."""
    known, sizes = led.known(okey), led.sizes(okey)
    todo: list[InboxFile] = []
    upgraded: list[tuple[int, bytes]] = []
    damaged: dict[str, list[str]] = {kind: [] for kind in _DAMAGED}
    for f in files:
        row = known.get((f.rel, f.size, f.mtime_ns))
        if row is not None:
            got = _cached(row, led, form, upgraded, damaged)
            if got is None:  # neither its block nor its rows can be read: check the file again
                todo.append(f)
                continue
            f.sha256, f.source = row["sha256"], "cached"
            f.recorded = (row["classification"], row["matched_school"])
            _keep(f, got[0], led, okey, got[1], got[2], row["rowid"], form)
            res.cached += 1
            continue
        if f.size not in sizes:
            todo.append(f)  # new bytes for sure: the worker hashes it while reading it
            continue
        f.sha256 = file_sha256(f.path)
        row = led.by_sha(f.sha256, okey)
        if row is not None:
            got = _cached(row, led, form, upgraded, damaged, f.rel)
            if got is None:
                todo.append(f)
                continue
            f.source = "same_hash"
            sub, packed, count = got
            sub.size = f.size
            # taken from the ledger under a new name/mtime: recorded under it at once
            led.record_many([(sub, f.rel, f.size, f.mtime_ns, row["rows_json"],
                              row["block"] if packed is None else packed)], okey)
            _keep(f, sub, led, okey, packed, count, row["rowid"], form)
            res.same_hash += 1
            continue
        todo.append(f)
    if upgraded:
        led.set_blocks(upgraded)
    res.warnings += [_DAMAGED[kind].format(n=len(paths), first=paths[0]) for kind, paths in damaged.items() if paths]
    return todo


def _cached(row, led: Ledger, form: Form, upgraded: list[tuple[int, bytes]], damaged: dict[str, list[str]],
            display: str | None = None) -> tuple[Submission, bytes | None, int | None] | None:
    """A known file's submission (rows left in the ledger), its packed block and number of
    rows: None for both when the ledger has the block (read only if the summary needs it,
    see :func:`_stored_block`).  A missing block (an earlier ledger) is built from the rows
    now and queued in ``upgraded``; None when the record cannot be read at all (the file is
    checked again).  ``display``: the name the same bytes have in the inbox now."""
    try:
        sub = submission_from_row(row, display, rows=False)
        if row["block"]:
            return sub, None, None
        block = block_of(rows_from_json(led.row(row["rowid"])["rows_json"]), form.roles)
        packed = pack_block(block)
        upgraded.append((row["rowid"], packed))
        return sub, packed, len(block["row"])
    except (ValueError, TypeError, KeyError, AttributeError, zlib.error):  # damaged JSON or zlib stream
        damaged["record"].append(row["path"])
        return None


def _packed_block(packed: bytes) -> Block:
    """A block kept packed in memory, unpacked when the summary needs it: as every run reads
    it from the ledger, the same values whatever the path."""
    return shared(unpack_block(packed) or empty_block())


def _stored_block(ledger_path: str, rowid: int, form: Form) -> Block:
    """The block of a ledger row, read when needed; a damaged one is rebuilt from the rows
    (both unreadable: no rows, and the file's figures are missing from this summary only if
    its full record is damaged too, which the run reported when it read the record)."""
    block_bytes, rows_json = read_columns(ledger_path, rowid, ("block", "rows_json"))
    block = unpack_block(block_bytes)
    if block is None:
        try:
            block = unpack_block(pack_block(block_of(rows_from_json(rows_json), form.roles)))
        except (ValueError, TypeError, KeyError, zlib.error):
            block = empty_block()
    return shared(block)


_DAMAGED = {  # what a run says once about damaged ledger records, with how many and the first
    "record": "bản ghi của {n} tệp trong sổ theo dõi bị hỏng (đầu tiên: {first}), đã đọc lại các tệp / "
              "damaged ledger records, the files were checked again",
}


def _keep(f: InboxFile, sub: Submission, led: Ledger, okey: str, packed: bytes | None, count: int | None,
          rowid: int | None = None, form: Form | None = None, fresh: bool = False) -> None:
    """Hold the file's result for the rest of the run: the means to read its block (``packed``:
    the ledger's bytes, kept as they are; None: read from the ledger row ``rowid``), the
    full rows left in the ledger (``count`` of them, None when not known), its repeated
    texts shared (``fresh``: it came from a worker, see row_block.shared_submission).  A
    block is packed until the summary takes its rows: unpacked, a 40-row plan's block held
    ~11 KB, packed ~3 KB, which a national run holds 45,000 times."""
    sub = shared_submission(sub, fresh)
    if packed is not None:
        f.block_loader = functools.partial(_packed_block, packed)
    else:
        f.block_loader = functools.partial(_stored_block, str(led.path), rowid, form)
    sub.rows = LazyRows(str(led.path), f.rel, sub.sha256, okey, count)  # type: ignore[assignment]
    f.sub = sub


def _early_pool(options: CheckOptions, jobs: int | None):
    """The worker pool of :func:`_parse`, its first worker already starting; None when
    files are checked in this process."""
    if jobs == 0:
        return None
    try:
        from kcl_xlsx.check.run import worker_pool
    except ImportError:  # the sandbox module is not there: check in this process
        return None
    pool = worker_pool(options, jobs, func=check_for_ledger)
    pool.launch_missing(1)
    return pool


def _parse(todo: list[InboxFile], options: CheckOptions, jobs: int | None, led: Ledger, okey: str,
           res: CollectResult, progress, pool=None) -> bool:
    """Check ``todo``; every batch of results is recorded in one transaction as it comes.
    ``pool``: see :func:`_early_pool` (None: checked in this process)."""
    by_path = {str(f.path): f for f in todo}
    sandboxed = pool is not None
    results: Any
    if sandboxed:
        from kcl_xlsx.check.run import check_many

        results = ((by_path[str(p)], _parsed(got)) for p, got in
                   check_many([(f.path, f.rel) for f in todo], options, jobs, func=check_for_ledger, pool=pool))
    else:
        results = ((f, check_for_ledger((str(f.path), options, f.rel))) for f in todo)
    batch: list[tuple[InboxFile, Parsed]] = []
    done = 0

    def flush() -> None:
        led.record_many([(p.sub, f.rel, f.size, f.mtime_ns, p.rows_json, p.block) for f, p in batch], okey)
        for f, p in batch:
            _keep(f, p.sub, led, okey, p.block, p.count, fresh=True)
        batch.clear()

    for f, parsed in results:
        f.source = "parsed"
        if not parsed.sub.sha256:  # a worker that crashed, a file too large to hash there
            parsed.sub.sha256 = f.sha256 or file_sha256(f.path)
        batch.append((f, parsed))
        done += 1
        if progress:
            progress("check", done, len(todo))
        if len(batch) >= BATCH:
            flush()
    flush()
    res.parsed = done
    return sandboxed


@dataclasses.dataclass
class Parsed:
    """What a worker sends back for one file: the submission without its rows, the rows as
    the ledger stores them, and the columns the summary needs (all cheap to send).  The
    block travels packed, as the ledger stores it, and the run reads it back from those
    bytes: a fresh run and a re-run from the ledger see the very same values."""

    sub: Submission
    rows_json: bytes  # ledger.pack_rows: sent through the pipe and into SQLite as they are
    block: bytes  # row_block.pack_block
    count: int  # its rows


def check_for_ledger(item: tuple[str, CheckOptions, str]) -> Parsed:
    """Check one file (in a worker process) and shape the result for the ledger."""
    path, options, display = item
    sub = check_path(path, options, display)
    parsed = Parsed(sub, pack_rows(sub.rows), pack_block(block_of(sub.rows, sources_of(options).form.roles)),
                    len(sub.rows))
    sub.rows = []
    return parsed


def _parsed(got: Parsed | Submission) -> Parsed:
    # a file whose worker crashed or hung comes back as a bare Submission
    return got if isinstance(got, Parsed) else Parsed(got, b"[]", pack_block(empty_block()), 0)


# --------------------------------------------------------------------------- classification


def _classify(res: CollectResult, files: list[InboxFile], roster: Roster | None, deadline: dt.date | None,
              form: Form) -> None:
    plans: list[InboxFile] = []
    first_by_sha: dict[str, InboxFile] = {}
    for f in sorted(files, key=lambda f: (f.mtime_ns, f.rel)):  # of two equal files, the first to arrive is the original
        sub = f.sub
        assert sub is not None
        if sub.status in STATUS_CLASSIFICATION:
            f.classification = STATUS_CLASSIFICATION[sub.status]
            continue
        if sub.sha256 and sub.sha256 in first_by_sha:
            f.classification = Classification.DUPLICATE
            f.note = f"cùng nội dung với {first_by_sha[sub.sha256].rel}"
            continue
        first_by_sha[sub.sha256] = f
        plans.append(f)

    matcher = _Matcher(roster, form)
    schools: dict[str, SchoolResult] = {}
    if roster:
        for s in roster.schools:
            schools[s.code] = SchoolResult(s.code, s.name, s.level, s.unit, contact=s.contact, in_roster=True)
    for f in plans:
        code, how = matcher.match(f)
        if not code:
            f.classification = Classification.UNMATCHED
            continue
        f.school, f.match = code, how
        if code not in schools:
            sub = f.sub
            schools[code] = SchoolResult(code, sub.school_name, sub.level, sub.identity.get("unit", ""))
        schools[code].files.append(f)
    # duplicates still count as "received" for their school
    for f in files:
        if f.classification == Classification.DUPLICATE:
            f.school = first_by_sha[f.sub.sha256].school
    # a PDF, a Word file or a photo sent instead of the plan: whose is it (folder, file name)?
    for f in files:
        if f.classification == Classification.NOT_WORKBOOK:
            code, how = matcher.match_path(f.rel)
            if code in schools:
                f.school, f.match = code, how
                schools[code].wrong_format.append(f)

    for s in schools.values():
        ordered = sorted(s.files, key=newest_key, reverse=True)
        valid = [f for f in ordered if f.sub.status == CheckStatus.VALID]
        for f in ordered:
            f.classification = (Classification.WITH_ERRORS if f.sub.status == CheckStatus.ERRORS
                                else Classification.SUPERSEDED)
        if valid:
            s.accepted = valid[0]
            s.accepted.classification = Classification.ACCEPTED
            older = [f for f in ordered if newest_key(f) < newest_key(s.accepted)]
            s.previous = older[0] if older else None
            if s.previous:
                # both versions' full rows, from the ledger (a run keeps only what the summary needs)
                s.changes = diff_rows(list(s.previous.sub.rows), list(s.accepted.sub.rows), form)
            newer_bad = [f for f in ordered if f.sub.status == CheckStatus.ERRORS and newest_key(f) > newest_key(s.accepted)]
            for f in newer_bad:
                f.note = "bản mới hơn có lỗi; đang tổng hợp " + s.accepted.rel
            s.accepted.late = _late(s.accepted, deadline)
            s.status = SchoolStatus.LATE if s.accepted.late else SchoolStatus.SUBMITTED_VALID
        elif ordered:
            s.status = SchoolStatus.SUBMITTED_ERRORS
            ordered[0].late = _late(ordered[0], deadline)
        elif s.wrong_format:
            s.status = SchoolStatus.WRONG_FORMAT
        if not s.name and ordered:
            s.name = ordered[0].sub.school_name
    res.schools = dict(sorted(schools.items()))


def _late(f: InboxFile, deadline: dt.date | None) -> bool:
    """Late when the file reached the inbox (mtime) or was saved by the school after the
    deadline day (both read as local dates)."""
    if deadline is None:
        return False
    received = dt.datetime.fromtimestamp(f.mtime_ns / 1e9).date()
    saved = norm_time(f.sub.saved_at) if f.sub else ""
    saved_day = dt.date.fromisoformat(saved[:10]) if saved else None
    return received > deadline or (saved_day is not None and saved_day > deadline)


class _Matcher:
    """School code of a file: identity code in the roster, else the school name (folded,
    unique in the roster; or with the level spelled out, as a Word plan abbreviates it:
    "TRƯỜNG MN ..."), else a roster code in the file name."""

    def __init__(self, roster: Roster | None, form: Form | None = None):
        self.roster, self.form = roster, form
        self.codes = {s.code.casefold(): s.code for s in roster.schools} if roster else {}

    # The name indexes are built when a file is first matched by something else than its
    # code (folding 10,000 roster names took 0.1 s of every run, needed by few).
    @functools.cached_property
    def names(self) -> dict[str, str]:
        """Folded name -> code, of the names unique in the roster."""
        names: dict[str, list[str]] = {}
        for s in self.roster.schools if self.roster else ():
            names.setdefault(fold(s.name), []).append(s.code)
        return {k: v[0] for k, v in names.items() if len(v) == 1}

    @functools.cached_property
    def keys(self) -> dict[str, str]:
        """The same names with the level spelled out ("TRƯỜNG MN ..." = "Trường Mầm non ...")."""
        keyed: dict[str, list[str]] = {}
        for s in self.roster.schools if self.roster and self.form else ():
            keyed.setdefault(name_key(s.name, self.form), []).append(s.code)
        return {k: v[0] for k, v in keyed.items() if len(v) == 1}

    @functools.cached_property
    def folded_codes(self) -> _Ranked:
        """The roster's codes as written in a folded name, longest first (a code that is
        part of a longer one never wins over it)."""
        by_len = sorted(self.codes, key=len, reverse=True)
        return _Ranked((fold(c), self.codes[c]) for c in by_len)

    @functools.cached_property
    def name_words(self) -> _Ranked:
        """The roster's unique names as their words ("truong thcs nguyen du"), in roster order."""
        return _Ranked((" ".join(_WORDS.findall(name)), code) for name, code in self.names.items())

    def match(self, f: InboxFile) -> tuple[str, str]:
        sub = f.sub
        code = (sub.school_code or "").strip()
        if self.roster is None:
            if code:
                return code, "identity"
            # no roster and no code (a Word plan): the school is known by the name it writes
            return (clean(sub.school_name), "name") if clean(sub.school_name) else ("", "")
        if code.casefold() in self.codes:
            return self.codes[code.casefold()], "identity"
        name = fold(sub.school_name)
        if name and name in self.names:
            return self.names[name], "name"
        key = name_key(sub.school_name, self.form) if name and self.form else ""
        if key and key in self.keys:
            return self.keys[key], "name"
        fname = fold(f.rel.rsplit("/", 1)[-1].rsplit("!", 1)[-1])
        code = self._code_in(fname)
        return (code, "file_name") if code else ("", "")

    def _code_in(self, text: str) -> str:
        """The roster code written in ``text`` (folded) as a word of its own, longest first."""
        return self.folded_codes.first_in(text)

    def match_path(self, rel: str) -> tuple[str, str]:
        """The school a file that is not a workbook belongs to, from its path alone: a roster
        code in its name or in a folder's name, else a roster school's name (unique in the
        roster) written in a folder's or the file's name ("truong-thcs-nguyen-du/ke-hoach.pdf")."""
        if self.roster is None:
            return "", ""
        parts = [fold(p) for p in rel.replace("!", "/").split("/")]
        for part, how in [(parts[-1], "file_name")] + [(p, "folder") for p in reversed(parts[:-1])]:
            code = self._code_in(part)
            if code:
                return code, how
        code = self.name_words.first_in(*(" ".join(_WORDS.findall(p)) for p in parts))
        return (code, "name") if code else ("", "")


_WORDS = re.compile(r"[a-z0-9]+")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


class _Ranked:
    """Keys in the order they are tried, each with its value: :meth:`first_in` finds the
    first key written in a text as a whole (nothing of [a-z0-9] right before or after it).

    It looks up every such piece of the text in a dict, where a regex per key was tried
    in turn: a file matched by its name alone (a Word plan whose school name is spelled
    differently, a PDF) cost one compiled regex per roster school, and a province's
    5,000 such files against a roster of 5,000 took over 12 minutes (issue 15)."""

    def __init__(self, keyed: Iterable[tuple[str, str]]):
        self.rank: dict[str, tuple[int, str]] = {}
        for n, (key, value) in enumerate(keyed):
            if key:  # an empty key is written nowhere
                self.rank.setdefault(key, (n, value))
        self.longest = max(map(len, self.rank), default=0)

    def first_in(self, *texts: str) -> str:
        """The value of the first key (in order) written in any of ``texts``; "" if none."""
        best: tuple[int, str] | None = None
        for text in texts:
            n, word = len(text), _WORD_CHARS
            for i in range(n):
                if i and text[i - 1] in word:
                    continue  # a key starts where a word does
                for j in range(i + 1, min(n, i + self.longest) + 1):
                    if j < n and text[j] in word:
                        continue  # ... and ends where one does
                    hit = self.rank.get(text[i:j])
                    if hit is not None and (best is None or hit < best):
                        best = hit
        return best[1] if best else ""


# --------------------------------------------------------------------------- changes


def row_key(values: dict[str, Any], derived: dict[str, Any], form: Form) -> str:
    """A row's identity between two versions (form.yaml ``row_key``); the criterion is
    compared by its code where it has one."""
    parts = []
    for key in form.row_key:
        code = derived.get("criterion_code") if key == form.roles.criterion else None
        parts.append(code or fold(values.get(key) or ""))
    return " | ".join(parts)


def diff_rows(before: list[PlanRow], after: list[PlanRow], form: Form) -> list[Change]:
    """Rows added, removed and changed (any field of the form), keyed by :func:`row_key`."""
    def index(rows: list[PlanRow]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            k = row_key(r.values, r.derived, form)
            while k in out:
                k += "+"
            out[k] = r.values
        return out

    a, b = index(before), index(after)
    changes: list[Change] = []
    for k in b:
        if k not in a:
            changes.append(Change(ChangeKind.ADDED, k, None, b[k]))
        elif any(_v(a[k].get(f)) != _v(b[k].get(f)) for f in form.keys):
            changes.append(Change(ChangeKind.CHANGED, k, a[k], b[k]))
    changes.extend(Change(ChangeKind.REMOVED, k, a[k], None) for k in a if k not in b)
    return changes


def _v(x: Any) -> Any:
    """A value as two versions are compared: text folded, 5.0 equal to 5."""
    return fold(x) if isinstance(x, str) else int_if_whole(x)
