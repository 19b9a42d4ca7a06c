"""The project's own documentation: no references to files users do not have, no stale names."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import sensorframe

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "docs" / "definitions.md"

_SKIPPED_DIRS = {
    ".git",
    ".venv",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    ".pytest_cache",
    "__pycache__",
    "demo-lake",
    "build",
    "dist",
}
# The maintainers' design notes live outside the repository; a reference to them sends
# users to a file they do not have. (The original system's design, `original-design.md`,
# is a different file.)
_DESIGN_NOTES = re.compile(rb"(?<![\w-])design\.md")
# `sf.name`, `sf.a.b`, `sensorframe.name` ... in the text: not inside a longer word, nor
# a prefix such as "sensorframe.append:" in the text of a hash
_PUBLIC_NAME = re.compile(
    r"(?<![\w.])(?:sf|sensorframe)\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?![\w:])"
)


def _repository_files() -> list[Path]:
    files = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.endswith(".egg-info")]
        files += [Path(folder, name) for name in names]
    return files


def test_no_file_refers_to_the_design_notes() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _repository_files()
        if path != Path(__file__).resolve() and _DESIGN_NOTES.search(path.read_bytes())
    ]
    assert offenders == []


def test_the_pattern_finds_a_reference_but_not_the_original_design() -> None:
    assert _DESIGN_NOTES.search(b"Definitions (design.md section 4)")
    assert not _DESIGN_NOTES.search(b"see ../shared/original-design.md")


def test_docs_link_to_the_definitions() -> None:
    for path in ("README.md", "sensorframe/quality/__init__.py", "sensorframe/prepare/__init__.py"):
        assert "docs/definitions.md" in (ROOT / path).read_text(encoding="utf-8"), path


def _names(text: str) -> list[str]:
    return sorted({match.group(1) for match in _PUBLIC_NAME.finditer(text)})


def test_every_name_in_the_definitions_exists() -> None:
    names = _names(DEFINITIONS.read_text(encoding="utf-8"))
    assert len(names) > 30  # the page names the functions and fields behind each number
    missing = []
    for name in names:
        obj: object = sensorframe
        for part in name.split("."):
            if not hasattr(obj, part):
                missing.append(name)
                break
            obj = getattr(obj, part)
    assert missing == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            "`sf.quality.noise_level` and sensorframe.Normalizer.",
            ["Normalizer", "quality.noise_level"],
        ),
        ("not a name: xsf.thing, self.sf, sha256('sensorframe.append:<previous>')", []),
    ],
)
def test_names_are_read_from_the_text(text: str, names: list[str]) -> None:
    assert _names(text) == names
