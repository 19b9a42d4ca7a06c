"""`sensorframe run --incremental`: only new readings, and nothing twice."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.cli import main
from sensorframe.datasets import synthetic


def test_incremental_runs_append_only_what_is_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic(n_sensors=2, n_points=600, seed=3, faults=()).frame
    cut = frame["timestamp"].sort()[400]
    first, later = tmp_path / "first.parquet", tmp_path / "all.parquet"
    frame.filter(pl.col("timestamp") < cut).write_parquet(first)
    frame.write_parquet(later)
    root = str(tmp_path / "lake")
    assert main(["run", str(first), "--root", root, "--incremental"]) == 0
    assert main(["run", str(later), "--root", root, "--incremental"]) == 0
    store = sf.DatasetStore(root)
    assert store.latest("raw").rows == frame.height
    versions = store.versions("processed").height
    assert main(["run", str(later), "--root", root, "--incremental"]) == 0
    assert store.versions("processed").height == versions  # nothing new: no version
    capsys.readouterr()
    assert main(["run", str(later), "--root", root, "--refit"]) == 2
    assert "--refit" in capsys.readouterr().err
