"""The pipeline's window: all data by default; a window says how many rows it left out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.datasets import synthetic

CHEAP = ("quality", "version")  # the window is applied at load: later steps do not matter


@pytest.fixture
def two_weeks() -> pl.DataFrame:
    """Two sensors, 14 days hourly: 2 x 336 rows."""
    return synthetic(n_sensors=2, n_points=14 * 24, freq="1h", seed=4, faults=()).frame


def _pipe(tmp_path: Path, **config: object) -> sf.Pipeline:
    cfg = sf.PipelineConfig(steps=CHEAP, **config)  # type: ignore[arg-type]
    return sf.Pipeline(sf.DatasetStore(tmp_path / "lake"), cfg)


def test_the_default_run_keeps_every_row(tmp_path: Path, two_weeks: pl.DataFrame) -> None:
    run = _pipe(tmp_path).run(two_weeks, progress=False)
    assert run.versions["raw"].rows == two_weeks.height == 672
    assert run.rows_left_out == 0
    assert "left out" not in run.summary()


def test_a_window_counts_back_from_the_newest_reading_and_says_what_it_left_out(
    tmp_path: Path, two_weeks: pl.DataFrame
) -> None:
    pipe = _pipe(tmp_path, window=timedelta(days=7))
    run = pipe.run(two_weeks, progress=False)
    newest = two_weeks["timestamp"].max()
    kept = two_weeks.filter(pl.col("timestamp") > newest - timedelta(days=7)).height  # type: ignore[operator]
    assert run.versions["raw"].rows == kept == 2 * 168
    assert run.rows_left_out == two_weeks.height - kept == 2 * 168
    assert "336 row(s) outside the window left out" in run.summary()
    per_sensor = dict(run.sensors.select("sensor_id", "rows_left_out").iter_rows())
    assert per_sensor == {"S000": 168, "S001": 168}
    finish = pipe.runs(run_id=run.run_id).filter(pl.col("event") == "finish")
    assert finish["rows_left_out"].to_list() == [168, 168]
    assert finish["rows"].to_list() == [168, 168]


def test_hours_back_counts_back_from_now(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    # readings at now - 47.5 h ... now - 0.5 h, so no reading sits on the 24 h boundary
    times = [now - timedelta(minutes=30) - timedelta(hours=h) for h in range(48)]
    frame = pl.DataFrame(
        {"sensor_id": "P-1", "timestamp": times, "value": [float(h % 5) for h in range(48)]}
    )
    run = _pipe(tmp_path, hours_back=24).run(frame, progress=False)
    assert run.versions["raw"].rows == 24
    assert run.rows_left_out == 24
    # measured from now, not from the newest reading: a source that stopped a day ago
    old = frame.with_columns(pl.col("timestamp") - timedelta(hours=24))
    with pytest.raises(sf.PipelineError, match=r"no readings.*last 24 hours"):
        _pipe(tmp_path / "old", hours_back=24).run(old, progress=False)


def test_run_overrides_the_configured_window(tmp_path: Path, two_weeks: pl.DataFrame) -> None:
    pipe = _pipe(tmp_path, window=timedelta(days=7))
    run = pipe.run(two_weeks, window=timedelta(days=1), progress=False)
    assert run.versions["raw"].rows == 2 * 24
    far = datetime.now(UTC) - two_weeks["timestamp"].min() + timedelta(days=1)  # type: ignore[operator]
    run = pipe.run(two_weeks, hours_back=far.total_seconds() / 3600, progress=False)
    assert run.rows_left_out == 0


def test_window_and_hours_back_are_checked(tmp_path: Path, two_weeks: pl.DataFrame) -> None:
    with pytest.raises(sf.ConfigError, match=r"either `window` .* or `hours_back`"):
        sf.PipelineConfig(window=timedelta(days=1), hours_back=24)
    with pytest.raises(sf.ConfigError, match="`hours_back` must be positive"):
        sf.PipelineConfig(hours_back=0)
    with pytest.raises(sf.ConfigError, match="`hours_back` must be positive"):
        sf.PipelineConfig(hours_back=float("nan"))
    with pytest.raises(sf.ConfigError, match="at most 876000 hours"):
        sf.PipelineConfig(hours_back=1e9)
    with pytest.raises(sf.InvalidTypeError, match="`hours_back` must be a number of hours"):
        sf.PipelineConfig(hours_back="24")  # type: ignore[arg-type]
    with pytest.raises(sf.InvalidTypeError, match="`hours_back` must be a number of hours"):
        sf.PipelineConfig(hours_back=True)
    pipe = _pipe(tmp_path)
    with pytest.raises(sf.ConfigError, match=r"either `window` .* or `hours_back`"):
        pipe.run(two_weeks, window=timedelta(days=1), hours_back=24)
    assert sf.PipelineConfig(hours_back=timedelta(hours=6)).hours_back == timedelta(hours=6)


def test_the_recorded_hours_back_is_in_seconds_whatever_its_form() -> None:
    as_hours = json.loads(sf.PipelineConfig(hours_back=2).to_json())
    as_delta = json.loads(sf.PipelineConfig(hours_back=timedelta(hours=2)).to_json())
    assert as_hours["hours_back"] == as_delta["hours_back"] == 7200.0
    assert as_hours["window"] is None


def test_the_recorded_per_sensor_quality_settings_are_one_object_per_sensor() -> None:
    per_sensor = pl.DataFrame(
        {"sensor_id": ["a", "b"], "valid_min": [0.0, None], "max_stuck": [timedelta(hours=3), None]}
    )
    cfg = sf.PipelineConfig(quality=sf.QualityConfig(per_sensor=per_sensor))
    recorded = json.loads(cfg.to_json())["quality"]["per_sensor"]
    assert recorded == [
        {"sensor_id": "a", "valid_min": 0.0, "max_stuck": 10800.0},
        {"sensor_id": "b", "valid_min": None, "max_stuck": None},
    ]
