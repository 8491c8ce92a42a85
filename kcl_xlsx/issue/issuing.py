"""Issue templates: one for a school, or one per school of a roster plus a manifest."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
import uuid
from pathlib import Path
from typing import Callable

from kcl_xlsx.spec import identity as ident
from kcl_xlsx.spec.freetext import fold
from kcl_xlsx.base.output import check_writable_dir, refuse_existing, write_atomic
from kcl_xlsx.spec.plan_spec import PlanSpec, Sources
from kcl_xlsx.spec.roster import Roster, School
from kcl_xlsx.issue.template_build import Prefill, build_base
from kcl_xlsx.issue.template_stamp import Stamper, identity_values

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("school_code", "school_name", "level", "unit", "file", "sha256", "file_id", "template_id",
                    "previous_template_id")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


@dataclasses.dataclass(frozen=True)
class IssuedFile:
    school_code: str
    school_name: str
    level: str
    unit: str
    file: str
    sha256: str
    file_id: str
    template_id: str
    previous_template_id: str = ""


class TemplateFactory:
    """Makes templates for one school year; builds each level's base once, then stamps.
    ``form_version`` (None: the current form) builds with an earlier built-in form: for tests
    of files issued before, never for what ``template`` and ``reissue`` write."""

    def __init__(self, sources: Sources, year: str, framework: str | None = None, key: bytes | None = None,
                 issue_date: dt.date | None = None, form_version: str | None = None):
        self.sources, self.year, self.framework, self.key = sources, year, framework, key
        self.form_version = form_version
        self.issue_date = issue_date or dt.date.today()
        self._cache: dict[str, tuple[PlanSpec, Stamper]] = {}

    def spec(self, level: str) -> PlanSpec:
        return self._prepared(level)[0]

    def _prepared(self, level: str) -> tuple[PlanSpec, Stamper]:
        if level not in self._cache:
            spec = self.sources.spec(level, self.year, self.framework, self.form_version)
            base = build_base(spec, self.issue_date, self.sources.catalog.digest)
            self._cache[level] = (spec, Stamper(base))
        return self._cache[level]

    def identity(self, level: str, school: School | None = None, file_id: str | None = None,
                 previous_template_id: str = "") -> ident.Identity:
        spec = self.spec(level)
        return ident.Identity(
            template_id=spec.template_id, file_id=file_id or uuid.uuid4().hex, form_version=spec.form.version,
            catalog_id=self.sources.catalog.digest, framework=spec.framework.id, level=spec.level.key,
            year=spec.year.label, school_code=school.code if school else "", school_name=school.name if school else "",
            unit=school.unit if school else "", issue_date=self.issue_date.isoformat(),
            previous_template_id=previous_template_id,
        ).signed(self.key)

    def make(self, level: str, school: School | None = None, file_id: str | None = None,
             previous_template_id: str = "", prefill: Prefill | None = None) -> tuple[bytes, ident.Identity]:
        """A school's template; with ``prefill`` (a re-issue, an imported Word plan) it is built
        for that school."""
        spec, stamper = self._prepared(level)
        if prefill is not None and prefill.any:
            stamper = Stamper(build_base(spec, self.issue_date, self.sources.catalog.digest, prefill))
        identity = self.identity(level, school, file_id, previous_template_id)
        return stamper.stamp(identity_values(identity)), identity


def issue_one(factory: TemplateFactory, level: str, out: Path, school: School | None = None) -> IssuedFile:
    data, identity = factory.make(level, school)
    write_atomic(out, data)
    return _record(identity, out.name, data)


Maker = Callable[[School], tuple[bytes, ident.Identity]]


def issue_roster(factory: TemplateFactory, roster: Roster, out_dir: Path, make: Maker | None = None) -> list[IssuedFile]:
    """One template per school and ``manifest.csv`` in ``out_dir``.  Nothing is written if
    any target exists; a failure half-way removes what this run wrote.  ``make`` builds a
    school's file (default: the plain template of its level)."""
    make = make or (lambda school: factory.make(school.level, school))
    out_dir = Path(out_dir)
    check_writable_dir(out_dir)
    names = file_names(roster.schools)
    for target in [*(out_dir / n for n in names.values()), out_dir / MANIFEST]:
        refuse_existing(target)
    written: list[Path] = []
    try:
        records = []
        for school in roster.schools:
            data, identity = make(school)
            path = out_dir / names[school.code]
            write_atomic(path, data)
            written.append(path)
            records.append(_record(identity, path.name, data))
        write_atomic(out_dir / MANIFEST, manifest_bytes(records))
    except BaseException:  # anything, even Ctrl-C: leave no partial set of files behind
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return records


def manifest_bytes(records: list[IssuedFile]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(MANIFEST_COLUMNS)
    for r in records:
        w.writerow([getattr(r, c) for c in MANIFEST_COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8


def file_names(schools: tuple[School, ...] | list[School]) -> dict[str, str]:
    """school code -> a file name safe on Windows, unique even for same-named schools
    (and case-insensitively, as Windows and macOS compare names)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for s in schools:
        stem = f"{_slug(s.code, 40)}_{_slug(s.name, 60)}".strip("_") or "truong"
        name, n = stem, 2
        while name.casefold() in taken:
            name, n = f"{stem}-{n}", n + 1
        taken.add(name.casefold())
        out[s.code] = name + ".xlsx"
    return out


def _slug(text: str, limit: int) -> str:
    ascii_ = fold(text)
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")[:limit].strip("-")
    return f"_{slug}" if slug in _WINDOWS_RESERVED else slug


def _record(identity: ident.Identity, name: str, data: bytes) -> IssuedFile:
    return IssuedFile(identity.school_code, identity.school_name, identity.level, identity.unit, name,
                      hashlib.sha256(data).hexdigest(), identity.file_id, identity.template_id,
                      identity.previous_template_id)
