"""PipelineRun and BatchRun print as one short line, not as their tables."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.datasets import synthetic


@pytest.fixture
def pipe(tmp_path: Path) -> sf.Pipeline:
    return sf.Pipeline(sf.DatasetStore(tmp_path / "lake"), sf.PipelineConfig(steps=("version",)))


@pytest.fixture
def frame() -> pl.DataFrame:
    return synthetic(n_sensors=3, n_points=30, freq="1h", seed=6, faults=()).frame


def test_a_run_prints_as_one_line(pipe: sf.Pipeline, frame: pl.DataFrame) -> None:
    run = pipe.run(frame, progress=False)
    text = repr(run)
    assert "\n" not in text
    assert len(text) < 160
    assert text == (
        f"PipelineRun(run_id={run.run_id!r}, ok=3, failed=0, "
        "versions={'raw': 0, 'processed': 0}, rows_left_out=0)"
    )


def test_a_batch_prints_as_one_line(pipe: sf.Pipeline, frame: pl.DataFrame) -> None:
    batch = pipe.run_batch(frame, ["S000", "S001", "S002"], batch_size=1, progress=False)
    assert repr(batch) == "BatchRun(runs=3, ok=3, failed=0, rows_left_out=0)"
    assert not re.search(r"[┌│]", repr(batch))


def test_an_empty_batch_has_an_empty_sensor_table() -> None:
    batch = sf.BatchRun([])
    assert batch.sensors.height == 0
    assert batch.sensors.columns == ["sensor_id", "status", "error", "run_id"]
    assert repr(batch) == "BatchRun(runs=0, ok=0, failed=0, rows_left_out=0)"
