"""What a collect run finds: every file of the inbox (:class:`InboxFile`) with its
:class:`~kcl_xlsx.spec.vocab.Classification`, every school (:class:`SchoolResult`) with its
:class:`~kcl_xlsx.spec.vocab.SchoolStatus`, and the run (:class:`CollectResult`).  The
summary reads these; it needs nothing else of the collect."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Callable

from kcl_xlsx.check.checker import Submission
from kcl_xlsx.collect.row_block import Block
from kcl_xlsx.spec.roster import Roster
from kcl_xlsx.spec.vocab import STATUS_CLASSIFICATION, ChangeKind, CheckStatus, Classification, SchoolStatus

__all__ = ["InboxFile", "Change", "SchoolResult", "CollectResult", "CheckStatus", "Classification", "SchoolStatus",
           "ChangeKind", "STATUS_CLASSIFICATION"]


@dataclasses.dataclass
class InboxFile:
    """One file of the inbox (or a member of a .zip attachment)."""

    rel: str  # display name: path relative to the inbox, "a/b.zip!c.xlsx" for a member
    path: Path  # where to read it (the inbox itself, or the private extraction folder)
    size: int
    mtime_ns: int
    sha256: str = ""
    sub: Submission | None = None  # its rows are LazyRows: they stay in the ledger
    source: str = ""  # parsed | cached | same_hash
    classification: Classification | None = None  # set for every file by the end of a run
    school: str = ""  # matched school code
    match: str = ""  # identity | name | file_name
    collected_at: str = ""
    late: bool = False
    note: str = ""
    block: Block | None = None  # the rows the summary needs, compactly (see row_block), once read
    # reads the block when the summary needs it: a collect run keeps each block packed (a file
    # checked in this run) or in the ledger (a file taken from it: most plans' rows come from
    # the summary's rows cache, their blocks are never read), see collect.run._keep
    block_loader: Callable[[], Block] | None = None
    # (classification, matched school) as the ledger holds them for a file taken from it:
    # the run writes only those that changed (rewriting 10,000 unchanged ones rewrote most
    # of the ledger's pages, ~0.7 s of a daily re-run)
    recorded: tuple[str, str] | None = None

    def plan_block(self) -> Block | None:
        if self.block is None and self.block_loader is not None:
            self.block = self.block_loader()
        return self.block

    def release_block(self) -> None:
        """Let the block go, and the means to read it: the summary has taken its rows."""
        self.block = self.block_loader = None

    @property
    def mtime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime_ns / 1e9, dt.timezone.utc)


@dataclasses.dataclass
class Change:
    kind: ChangeKind
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclasses.dataclass
class SchoolResult:
    code: str
    name: str
    level: str = ""
    unit: str = ""
    status: SchoolStatus = SchoolStatus.MISSING
    accepted: InboxFile | None = None
    previous: InboxFile | None = None
    files: list[InboxFile] = dataclasses.field(default_factory=list)
    changes: list[Change] = dataclasses.field(default_factory=list)
    contact: tuple[tuple[str, str], ...] = ()
    in_roster: bool = False
    wrong_format: list[InboxFile] = dataclasses.field(default_factory=list)  # its files that are not a workbook


@dataclasses.dataclass
class CollectResult:
    inbox: Path
    out: Path | None
    ledger_path: Path
    files: list[InboxFile]
    schools: dict[str, SchoolResult]
    roster: Roster | None
    year: str | None
    deadline: dt.date | None
    parsed: int = 0  # files parsed this run
    cached: int = 0  # unchanged files taken from the ledger
    same_hash: int = 0  # changed size/mtime but same bytes: re-hashed, not re-parsed
    backup: Path | None = None  # the earlier summary, renamed
    sandboxed: bool = True
    seconds: float = 0.0
    as_of: dt.date = dataclasses.field(default_factory=dt.date.today)  # "late" means: end month before this
    choices: str | None = None  # the choice lists file the checks used (None: built-in)
    feedback: list[Path] = dataclasses.field(default_factory=list)
    exported: list[Path] = dataclasses.field(default_factory=list)
    unchanged: bool = False  # same inbox and options as the last run: nothing was redone
    recorded_counts: dict[Classification, int] | None = None
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per stage, for benchmarks
    form: str | None = None  # the form file the checks used (None: built-in)
    advice: list[str] = dataclasses.field(default_factory=list)  # options most files say are wrong (see run.diagnose)
    warnings: list[str] = dataclasses.field(default_factory=list)  # a damaged cache, rebuilt: said, never a traceback
    options_key: str = ""  # collect.run.options_key: what the checks' results depend on besides the bytes
    fingerprint: str = ""  # of the inbox and options: recorded once the outputs are written (collect.run.remember)
    started: float = 0.0  # time.perf_counter() when the run began
    show_info: bool = False
    pdf: Path | None = None  # the summary printed to PDF (collect --pdf)  # the summary's Lỗi sheet lists info-level issues too (the export always does)

    @property
    def accepted(self) -> list[InboxFile]:
        return [f for f in self.files if f.classification == Classification.ACCEPTED]

    @property
    def unmatched(self) -> list[InboxFile]:
        return [f for f in self.files if f.classification == Classification.UNMATCHED]

    def counts(self) -> dict[Classification, int]:
        if self.unchanged and self.recorded_counts is not None:
            return dict(self.recorded_counts)
        out: dict[Classification, int] = {}
        for f in self.files:
            out[f.classification] = out.get(f.classification, 0) + 1
        return out
