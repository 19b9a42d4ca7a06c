"""Seasonal references: the reference's hour-of-day profile removed from both windows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given

from sensorframe.drift import DriftConfig, DriftDetector, detect_drift
from sensorframe.drift.seasonal import bucket_width_us, fit_season, remove_season
from sensorframe.errors import ConfigError
from tests.conftest import sensor_frames

DAY_US = 86_400_000_000
STEP = 10  # minutes


def cycles(rng: np.random.Generator, sensors: int, days: int, shift: float = 0.0) -> pl.DataFrame:
    """A daily cycle of amplitude 3 plus unit noise, every 10 minutes, from day ``days``."""
    per_day = 24 * 60 // STEP
    phase = np.arange(per_day * 7) / per_day * 2 * np.pi
    values = 3 * np.sin(phase)[None, :] + rng.normal(size=(sensors, phase.size)) + shift
    start = np.datetime64("2026-03-02T00:00:00", "us") + np.timedelta64(days, "D")
    times = start + np.arange(phase.size) * np.timedelta64(STEP, "m")
    return pl.DataFrame(
        {
            "sensor_id": np.repeat([f"T{i:03d}" for i in range(sensors)], phase.size),
            "timestamp": np.tile(times, sensors),
            "value": values.ravel(),
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


def test_a_daily_cycle_is_no_drift_week_over_week_and_a_shift_on_it_is_found() -> None:
    rng = np.random.default_rng(21)
    ref = cycles(rng, 100, days=0)
    det = DriftDetector(DriftConfig(season="1d")).fit(ref)
    same = det.detect(cycles(rng, 100, days=7)).table
    assert same["drift_detected"].sum() <= 1
    assert same["status"].unique().to_list() == ["ok"]
    moved = det.detect(cycles(rng, 100, days=7, shift=0.3)).table
    assert moved["drift_detected"].mean() >= 0.95  # type: ignore[operator]
    assert moved["change"][0].startswith("mean +0.")  # in residual (noise) sd
    assert moved["change"][0].endswith("since 2026-03-09")
    # without the season the cycle hides the same shift (the readings look dependent)
    plain = detect_drift(ref, cycles(rng, 100, days=7, shift=0.3)).table
    assert plain["drift_detected"].mean() < 0.5  # type: ignore[operator]


def test_a_shorter_current_window_meets_the_same_hours() -> None:
    """Six afternoon hours against a week: like with like, no drift."""
    rng = np.random.default_rng(22)
    cur = cycles(rng, 30, days=7).filter(pl.col("timestamp").dt.hour().is_between(12, 17))
    table = detect_drift(cycles(rng, 30, days=0), cur, DriftConfig(season="1d")).table
    assert table["drift_detected"].sum() <= 1
    plain = detect_drift(cycles(rng, 30, days=0), cur).table  # afternoons sit low
    assert (plain["mean_shift"] > 0.5).all()


@given(ref=sensor_frames(max_rows=40), cur=sensor_frames(max_rows=40))
def test_removal_is_the_reference_mean_of_the_same_bucket(
    ref: pl.DataFrame, cur: pl.DataFrame
) -> None:
    """Against pandas-free plain Python: x - mean of the sensor's reference bucket."""
    season = 2 * 3_600_000_000  # two hours, buckets of five minutes
    width = bucket_width_us(season)
    assert width == 300_000_000
    got = remove_season(cur.lazy(), fit_season(ref.lazy(), season), season).collect()
    sums: dict[tuple[str, int], list[float]] = {}
    totals: dict[str, list[float]] = {}
    for sid, t, v in ref.iter_rows():
        if v is not None:
            key = (sid, int(t.timestamp() * 1_000_000) % season // width)
            sums.setdefault(key, []).append(v)
            totals.setdefault(sid, []).append(v)
    for (sid, t, v), out in zip(cur.iter_rows(), got["value"], strict=True):
        bucket = int(t.timestamp() * 1_000_000) % season // width
        base = sums.get((sid, bucket), totals.get(sid))
        mean = float(np.mean(base)) if base else 0.0
        if v is None:
            assert out is None
        else:
            assert out == pytest.approx(v - mean, rel=1e-9, abs=1e-6)


def test_the_season_is_kept_in_the_profile(tmp_path: Path) -> None:
    rng = np.random.default_rng(23)
    ref, cur = cycles(rng, 3, days=0), cycles(rng, 3, days=7, shift=1.0)
    det = DriftDetector(DriftConfig(season=timedelta(days=1), n_bins=8)).fit(ref)
    want = det.detect(cur).table
    profile = det.profile_
    assert profile["season_means"].list.len().to_list() == [24] * 3
    assert DriftDetector.from_profile(profile).detect(cur).table.equals(want)
    path = tmp_path / "seasonal.parquet"
    det.save(path)
    loaded = DriftDetector.load(path)
    assert loaded.config_.season == "1d"
    assert loaded.detect(cur).table.equals(want)
    with pytest.raises(ConfigError, match="season"):
        DriftDetector.from_profile(profile, DriftConfig(n_bins=8))
    with pytest.raises(ConfigError, match="season"):
        DriftDetector.from_profile(DriftDetector().fit(ref).profile_, DriftConfig(season="1d"))
    plain = DriftDetector(DriftConfig(n_bins=8)).fit(cycles(rng, 1, days=0)).profile_
    mixed = pl.concat([profile, plain.with_columns(pl.lit("X").alias("sensor_id"))], how="diagonal")
    with pytest.raises(ConfigError, match="different seasons"):
        DriftDetector.from_profile(mixed)


def test_season_validation() -> None:
    assert DriftConfig(season="7d").season == "7d"
    with pytest.raises(ConfigError, match="season"):
        DriftConfig(season="1 day")
    with pytest.raises(ConfigError, match="season"):
        DriftConfig(season="400d")
    assert bucket_width_us(7 * DAY_US) == 3_600_000_000  # 168 hour-of-week buckets
