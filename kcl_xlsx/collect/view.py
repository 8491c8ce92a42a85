"""What `kcl-xlsx collect` shows: a progress bar on a terminal (silent in a pipe) and a
short account of the run: what was read, who has sent, where to look."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kcl_xlsx.base.text import name_list

from kcl_xlsx.collect.result import Classification, CollectResult, SchoolStatus


@contextlib.contextmanager
def progress_bar(console: Console) -> Iterator[Callable[[str, int, int], None] | None]:
    if not console.is_terminal:
        yield None
        return
    with Progress(TextColumn("Đang kiểm tra"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("check", total=None)

        def update(_stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def print_result(console: Console, res: CollectResult) -> None:
    counts = res.counts()
    table = Table(title="Các tệp trong hộp thư", show_header=True)
    table.add_column("Phân loại")
    table.add_column("Số tệp", justify="right")
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        table.add_row(key.label, str(n))
    console.print(table)
    statuses = [s.status for s in res.schools.values() if s.in_roster or res.roster is None]
    if res.roster is not None:
        line = ", ".join(f"{st.label}: {statuses.count(st)}" for st in SchoolStatus)
        console.print(f"Trường ({len(res.roster.schools)}): {line}", markup=False)
    for line in needs_action(res):
        console.print(line, markup=False)
    for line in res.advice:
        console.print(f"Chú ý: {line}", markup=False)
    for line in res.warnings:
        console.print(f"Cảnh báo: {line}", markup=False)
    if res.unchanged:
        console.print(f"Hộp thư không thay đổi từ lần trước: giữ nguyên các kết quả ({res.seconds:.1f} s).",
                      markup=False)
    else:
        console.print(f"Đã đọc {res.parsed} tệp mới, dùng lại {res.cached + res.same_hash} tệp đã đọc "
                      f"({res.seconds:.1f} s).", markup=False)
    if res.out:
        console.print(f"Bảng tổng hợp: {res.out}" + (f" (bản trước: {res.backup.name})" if res.backup else ""),
                      markup=False)
    console.print(f"Sổ theo dõi: {res.ledger_path}", markup=False)
    if res.feedback:
        console.print(f"Tệp phản hồi mới: {len(res.feedback)}", markup=False)
    if res.pdf:
        console.print(f"Bản PDF: {res.pdf}", markup=False)
    if res.exported:
        console.print(f"Xuất dữ liệu: {len(res.exported)} tệp trong {res.exported[0].parent}", markup=False)


# The schools an officer must chase, most urgent first, with what to ask of them.
_ACTION = ((SchoolStatus.SUBMITTED_ERRORS, "cần sửa và gửi lại"), (SchoolStatus.WRONG_FORMAT, "gửi lại đúng tệp Excel"),
           (SchoolStatus.MISSING, "nhắc nộp"), (SchoolStatus.LATE, "đã nộp sau hạn"))


def needs_action(res: CollectResult, limit: int = 10) -> list[str]:
    """One line per kind of action: the schools by code and name (the first ``limit`` and a
    count when the list is long), then the files no school could be found for."""
    lines = []
    for status, ask in _ACTION:
        # (a school known by its name only, a Word plan without a roster: named once)
        names = [(s.name if s.name == s.code else f"{s.code} {s.name}").strip() for s in res.schools.values()
                 if s.status == status and (s.in_roster or res.roster is None)]
        if names:
            lines.append(f"{status.label} ({len(names)}, {ask}): {name_list(names, limit)}")
    for kind in (Classification.UNMATCHED, Classification.WRONG_TEMPLATE):
        files = [f.rel for f in res.files if f.classification == kind]
        if files:
            lines.append(f"{kind.label} ({len(files)} tệp): {name_list(files, limit, 'tệp')}")
    return lines
