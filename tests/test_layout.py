"""Package boundaries: no module uses a private name of another top-level package."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import sensorframe

ROOT = Path(sensorframe.__file__).parent


def _package(path: Path) -> str | None:
    """The top-level package holding `path` (``None`` for a top-level module, shared)."""
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else None


def _private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("_")


def _modules() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in sorted(ROOT.rglob("*.py"))}


def _imported(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every absolute import, ``from m import n`` giving ``m.n``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def private_imports(modules: dict[Path, ast.Module]) -> list[str]:
    """``file:line name`` of each import of ``sensorframe.<pkg>._<x>`` from outside ``<pkg>``."""
    found = []
    for path, tree in modules.items():
        for line, name in _imported(tree):
            parts = name.split(".")
            if parts[0] != "sensorframe" or len(parts) < 3 or parts[1] == _package(path):
                continue
            if any(_private(part) for part in parts[2:]):
                found.append(f"{path.relative_to(ROOT.parent)}:{line} {name}")
    return found


def private_attributes(modules: dict[Path, ast.Module]) -> list[str]:
    """``file:line name`` of each ``obj._name`` where only other packages define ``_name``."""
    owners: defaultdict[str, set[str | None]] = defaultdict(set)
    for path, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                owners[node.name].add(_package(path))
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                owners[node.attr].add(_package(path))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                owners[node.target.id].add(_package(path))
    found = []
    for path, tree in modules.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            where = owners.get(node.attr, set())
            if where and None not in where and _package(path) not in where:
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} .{node.attr}")
    return found


def test_no_module_imports_a_private_module_of_another_package() -> None:
    assert private_imports(_modules()) == []


def test_no_module_uses_a_private_attribute_of_another_package() -> None:
    assert private_attributes(_modules()) == []


def test_the_checks_see_a_crossing() -> None:
    sample = ROOT / "pipeline" / "sample.py"
    tree = ast.parse(
        "from sensorframe.store._core import StoreCore\n"
        "from sensorframe.store import _maintenance\n"
        "from sensorframe._utils import preview\n"
        "from sensorframe.pipeline._owner import Owner\n"
        "store._append(1)\n"
    )
    owner = ast.parse("class S:\n    def _append(self) -> None: ...\n")
    modules = {sample: tree, ROOT / "store" / "s.py": owner}
    assert private_imports(modules) == [
        "sensorframe/pipeline/sample.py:1 sensorframe.store._core",
        "sensorframe/pipeline/sample.py:1 sensorframe.store._core.StoreCore",
        "sensorframe/pipeline/sample.py:2 sensorframe.store._maintenance",
    ]
    assert private_attributes(modules) == ["sensorframe/pipeline/sample.py:5 ._append"]
