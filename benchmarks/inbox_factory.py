"""Make a large inbox of distinct filled plans quickly, for the benchmarks.

Filling 10,000 templates with openpyxl would take a quarter of an hour, so each level's
template is built once per variant with 40 rows already in it (the re-issue path of the
builder) and every school's file is that base with the school's identity stamped in:
distinct bytes, distinct schools, realistic content.  A few files are then re-saved by
LibreOffice (when it is installed), as some schools' files are.

Re-saving hundreds of files one by one through LibreOffice takes minutes, so
``resaved_every=k`` re-saves the 20 base templates once (one soffice call) and stamps every
k-th school's identity into a re-saved base: each such file is a distinct plan of a distinct
school, with LibreOffice's heavier XML (≈70 KB against ≈30 KB), valid and matched by its
identity like any other.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

from kcl_xlsx.issue.issuing import TemplateFactory, file_names
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import Roster, School
from kcl_xlsx.spec.sample_plans import plan_rows
from kcl_xlsx.issue.template_build import Prefill, build_base
from kcl_xlsx.issue.template_stamp import Stamper, identity_values

LEVELS = ("mam-non", "tieu-hoc", "thcs", "thpt", "nhieu-cap")
VARIANTS = 4


def make_inbox(folder: Path, n: int, rows: int = 40, resaved: int = 20,
               resaved_every: int = 0) -> tuple[list[Path], Roster]:
    """``n`` filled plans in ``folder`` (one sub-folder per 100 schools) and their roster;
    ``resaved_every=k``: every k-th plan made from a LibreOffice re-save of its base."""
    sources = Sources.load()
    factory = TemplateFactory(sources, "2025-2026", issue_date=dt.date(2025, 8, 15))
    bases = {}
    for li, level in enumerate(LEVELS):
        spec = factory.spec(level)
        for v in range(VARIANTS):
            bases[(level, v)] = build_base(spec, factory.issue_date, sources.catalog.digest,
                                           Prefill(tuple(plan_rows(spec, rows, seed=li * 10 + v))))
    stampers = {k: Stamper(b) for k, b in bases.items()}
    resaved_stampers = _resaved_stampers(bases) if resaved_every else {}
    schools = tuple(School(f"S{i:05d}", f"Trường số {i}", LEVELS[i % len(LEVELS)], "Phòng GD&ĐT mẫu")
                    for i in range(n))
    names = file_names(schools)
    paths = []
    for i, school in enumerate(schools):
        identity = factory.identity(school.level, school)
        key = (school.level, (i // len(LEVELS)) % VARIANTS)
        use = resaved_stampers if resaved_stampers and i % resaved_every == resaved_every - 1 else stampers
        data = use[key].stamp(identity_values(identity))
        path = folder / f"nhom-{i // 100:03d}" / names[school.code]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    if resaved and shutil.which("soffice"):
        _resave(paths[: resaved])
    return paths, Roster("<bench>", schools)


def _resaved_stampers(bases: dict[tuple[str, int], bytes]) -> dict[tuple[str, int], Stamper]:
    """Stampers over LibreOffice re-saves of the bases (its tokens survive a re-save); an
    empty dict without LibreOffice."""
    if not shutil.which("soffice"):
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for (level, v), data in bases.items():
            paths.append(Path(tmp) / f"{level}-{v}.xlsx")
            paths[-1].write_bytes(data)
        _resave(paths)
        return {key: Stamper(p.read_bytes()) for key, p in zip(bases, paths)}


def _resave(paths: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                        "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out),
                        *map(str, paths)], capture_output=True, timeout=600)
        for p in paths:
            converted = out / p.name
            if converted.exists():
                shutil.copyfile(converted, p)


def calamine_floor(files: list[Path]) -> float:
    """Seconds a bare python-calamine loop takes to read every sheet of ``files`` in one
    process: the floor the checker's speed is compared with."""
    import time

    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    for p in files:
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return time.perf_counter() - t
