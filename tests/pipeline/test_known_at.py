"""``Pipeline.prepare_training_data(as_known_at=...)``: the data as committed at a time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe.datasets import synthetic


def test_training_data_as_known_before_a_correction(tmp_path: Path) -> None:
    frame = synthetic(n_sensors=2, n_points=60, freq="1h", faults=(), seed=4).frame
    pipe = sf.Pipeline(sf.DatasetStore(tmp_path), sf.PipelineConfig(steps=("version",)))
    first = pipe.run(frame, progress=False).versions["raw"]
    first_reading = (pl.col("sensor_id") == "S000") & (pl.int_range(pl.len()) == 0)
    corrected = frame.with_columns(
        value=pl.when(first_reading).then(1_000.0).otherwise(pl.col("value"))
    )
    second = pipe.run(corrected, progress=False).versions["raw"]
    assert second.version == first.version + 1

    before = pipe.prepare_training_data(as_known_at=first.created_at, assess_quality=False)
    pinned = pipe.prepare_training_data(version=first.version, assess_quality=False)
    latest = pipe.prepare_training_data(assess_quality=False)
    after = pipe.prepare_training_data(
        as_known_at=second.created_at + timedelta(seconds=1), assess_quality=False
    )

    for part in ("train", "val", "test"):
        assert_frame_equal(getattr(before, part), getattr(pinned, part))
        assert_frame_equal(getattr(after, part), getattr(latest, part))
    assert before.version is not None
    assert before.version.parents == (("raw", first.version),)
    assert after.version is not None
    assert after.version.parents == (("raw", second.version),)
    assert not before.train.equals(latest.train)  # the correction changed the data


def test_as_known_at_and_version_exclude_each_other(tmp_path: Path) -> None:
    frame = synthetic(n_sensors=1, n_points=30, freq="1h", faults=(), seed=4).frame
    pipe = sf.Pipeline(sf.DatasetStore(tmp_path), sf.PipelineConfig(steps=("version",)))
    raw = pipe.run(frame, progress=False).versions["raw"]
    with pytest.raises(sf.ConfigError, match="not both"):
        pipe.prepare_training_data(version=0, as_known_at=raw.created_at)
    with pytest.raises(sf.VersionNotFoundError):
        pipe.prepare_training_data(as_known_at=raw.created_at - timedelta(days=1))
