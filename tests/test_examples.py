"""Every script in examples/ runs (they mirror the README and assert what they show)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip()


def test_there_is_an_example_per_area() -> None:
    names = {p.stem for p in EXAMPLES}
    assert names >= {"quality", "prepare", "features", "drift", "versioning", "pipeline"}
