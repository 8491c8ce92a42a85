"""The three packages' arrows: the application (kcl_xlsx) may import the form as data
(workbook_templates) and the rule engine (macros_free_validation); those two import
neither each other nor the application.  Read with ast, so a lazy import inside a
function counts too."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kcl_xlsx", "workbook_templates", "macros_free_validation")
FORBIDDEN = {
    "workbook_templates": {"kcl_xlsx", "macros_free_validation"},
    "macros_free_validation": {"kcl_xlsx", "workbook_templates"},
}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports (relative imports stay in its own package)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            out.add(str(node.args[0].value).split(".")[0])
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_lower_packages_import_nothing_above_or_beside_them(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    wrong = {str(f.relative_to(ROOT)): sorted(imported_packages(f) & FORBIDDEN[package]) for f in files}
    assert not {f: names for f, names in wrong.items() if names}


def test_the_checker_sees_lazy_and_aliased_imports(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import kcl_xlsx.cli as c\n"
                    "def f():\n    from macros_free_validation.report import Issue\n"
                    "    importlib.import_module('workbook_templates.form')\n"
                    "from . import sibling\n", encoding="utf-8")
    assert imported_packages(path) == {"kcl_xlsx", "macros_free_validation", "workbook_templates"}


# --------------------------------------------------------------------------- inside kcl_xlsx

# The stages, bottom up.  A package may import the ones listed for it (and itself); app,
# cli and demo sit on top and may import everything.  See ARCHITECTURE.md.
STAGES = {
    "base": set(),
    "spec": {"base"},
    "intake": {"base", "spec"},
    "check": {"base", "spec", "intake"},
    "collect": {"base", "spec", "intake", "check"},
    "summary": {"base", "spec", "intake", "check", "collect"},
    "issue": {"base", "spec", "intake", "check", "collect"},
}
TOP = {"app", "cli", "demo", "__init__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def kcl_imports(path: Path, known: set[str]) -> set[str]:
    """The kcl_xlsx modules ``path`` imports, anywhere in it (a lazy import inside a function
    is an arrow too): ``from kcl_xlsx.x import y`` counts as kcl_xlsx.x.y when that is a module."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        out |= {n for n in names if n.split(".")[0] == "kcl_xlsx" and n in known}
    return out


def import_graph() -> dict[str, set[str]]:
    files = sorted((ROOT / "kcl_xlsx").rglob("*.py"))
    known = {module_name(f) for f in files}
    return {module_name(f): kcl_imports(f, known) - {module_name(f)} for f in files}


def stage_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def test_no_module_imports_a_later_stage():
    wrong = []
    for module, targets in import_graph().items():
        stage = stage_of(module)
        if stage in TOP:
            continue
        assert stage in STAGES, f"{module}: a package not in STAGES (add it, with its arrows)"
        for target in targets:
            other = stage_of(target)
            if other != stage and (other in TOP or other not in STAGES[stage]):
                wrong.append(f"{module} -> {target}")
    assert not wrong, wrong


def test_no_import_cycle_between_modules():
    graph = import_graph()
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def test_the_graph_checks_see_a_backward_import(tmp_path, monkeypatch):
    """The checks above fail on the mistakes they exist for: a stage importing a later one
    (check -> summary), and two modules importing each other."""
    fake = tmp_path / "kcl_xlsx"
    for name, body in {"__init__.py": "", "check/__init__.py": "", "summary/__init__.py": "",
                       "check/a.py": "def f():\n    from kcl_xlsx.summary.b import x\n",
                       "summary/b.py": "from kcl_xlsx.check import a\nx = 1\n"}.items():
        (fake / name).parent.mkdir(parents=True, exist_ok=True)
        (fake / name).write_text(body, encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="kcl_xlsx.check.a -> kcl_xlsx.summary.b"):
        test_no_module_imports_a_later_stage()
    with pytest.raises(AssertionError, match="kcl_xlsx.check.a -> kcl_xlsx.summary.b -> kcl_xlsx.check.a"):
        test_no_import_cycle_between_modules()


def test_collect_does_not_load_the_word_and_feedback_libraries():
    """python-docx and openpyxl are loaded where a Word plan, a document or a feedback copy
    needs them, not by every `collect` (~0.15 s of each run's start); nor the issue stage's
    template builder (~0.05 s), which `issue`, `reissue` and `render` load."""
    import subprocess
    import sys

    code = ("import sys, kcl_xlsx.app, kcl_xlsx.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('docx', 'openpyxl') "
            "or m == 'kcl_xlsx.issue.issuing'))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
