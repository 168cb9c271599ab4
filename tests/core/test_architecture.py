"""The layering rules hold: core never imports Qt or the desktop; every module says what it is."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contract_is_kept():
    result = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                             "lint_imports_command()"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                           "lint_imports_command()"], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_layer_contracts_catch_an_upward_import(tmp_path):
    """The contracts are not decoration: storage importing a feature, or a view importing storage, breaks them."""
    import shutil
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for name in config["tool"]["importlinter"]["root_packages"]:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.js", "*.css"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "core" / "storage" / "writes.py", "a", encoding="utf-8") as fh:
        fh.write("\nimport core.planning  # upward\n")
    with open(tmp_path / "desktop" / "accounts" / "view.py", "a", encoding="utf-8") as fh:
        fh.write("\nfrom core.storage import writes as _w  # a view on storage\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "core layers: features above the domain, storage and routing at the bottom BROKEN" in result.stdout
    assert "desktop sections never import core.storage BROKEN" in result.stdout
    assert "core.storage.writes -> core.planning" in result.stdout


def python_files(*folders):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", list(python_files("core")), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_modules_import_no_qt(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not name.startswith(("PySide6", "PyQt", "shiboken", "desktop")), f"{path}: imports {name}"


@pytest.mark.parametrize("path", list(python_files("core", "desktop", "benchmarks")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_has_a_docstring(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not tree.body:
        return  # an empty __init__.py
    assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"
