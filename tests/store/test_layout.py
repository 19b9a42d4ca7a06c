"""The store is composed, not mixed in: one core, plain functions, one clock, one retry, one
translation of deltalake's errors, and signatures that cannot drift."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from sensorframe.store import DatasetStore, _refs

STORE = Path(__file__).parents[2] / "sensorframe" / "store"
MODULES = sorted(STORE.glob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _calls(path: Path, owner: str, name: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == owner
    ]


def test_dataset_store_has_no_mixins_and_no_stubs() -> None:
    assert DatasetStore.__bases__ == (object,)
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                defs = [n for n in ast.walk(node) if isinstance(n, ast.FunctionDef)]
                assert defs == [], f"{path.name}: signature stubs under TYPE_CHECKING"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_store_module_is_over_600_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 600


@pytest.mark.parametrize(
    ("owner", "name", "home"),
    [("time", "sleep", "_timing.py"), ("random", "uniform", "_timing.py")],
)
def test_one_retry_helper(owner: str, name: str, home: str) -> None:
    where = {p.name for p in MODULES if _calls(p, owner, name)}
    assert where == {home}


def test_one_clock() -> None:
    where = {p.name for p in MODULES if _calls(p, "datetime", "now")}
    assert where == {"_timing.py"}
    defined = [
        p.name
        for p in MODULES
        for node in ast.walk(_tree(p))
        if isinstance(node, ast.FunctionDef) and node.name in ("now", "_now")
    ]
    assert defined == ["_timing.py"]


def test_deltalake_exceptions_are_translated_in_one_module() -> None:
    where = {
        p.name
        for p in MODULES
        for node in ast.walk(_tree(p))
        if isinstance(node, ast.ImportFrom) and node.module == "deltalake.exceptions"
    }
    assert where == {"_translate.py"}


def test_no_private_module_of_another_package_is_imported() -> None:
    imported = {
        node.module
        for p in MODULES
        for node in ast.walk(_tree(p))
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    foreign = {
        m
        for m in imported
        if m.startswith("sensorframe.")
        and not m.startswith("sensorframe.store")
        and any(part.startswith("_") for part in m.split(".")[2:])
    }
    assert not foreign


@pytest.mark.parametrize("method", ["read", "resolve"])
def test_version_selection_is_the_same_everywhere(method: str) -> None:
    # the mixin stubs of resolve/read had lost `as_of` (now `as_known_at`) and `tag`: the
    # method, the function it delegates to and the other method must take the same options
    def options(fn: object) -> list[tuple[str, object]]:
        params = inspect.signature(fn).parameters.values()  # type: ignore[arg-type]
        return [(p.name, p.kind) for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]

    expected = [(n, inspect.Parameter.KEYWORD_ONLY) for n in ("version", "as_known_at", "tag")]
    assert options(getattr(DatasetStore, method)) == expected
    assert options(getattr(_refs, method)) == expected
