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
