"""The table rendering shared by the command line and the demo."""

from __future__ import annotations

import subprocess
import sys

import polars as pl

from sensorframe._render import render


def test_the_demo_does_not_import_the_command_line() -> None:
    code = "import sys, sensorframe.demo; print('sensorframe.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_render_shows_every_column_and_at_most_max_rows() -> None:
    wide = pl.DataFrame({f"c{i}": [i, i + 1, i + 2] for i in range(12)})  # Polars shows 8
    text = render(wide, max_rows=2)
    assert "c0" in text
    assert "c11" in text
    assert "…" in text  # rows beyond max_rows are elided
    assert "shape" not in text
