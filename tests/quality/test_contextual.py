"""hampel_outlier against a NumPy definition, and on a daily-cycle signal."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensorframe.errors import InvalidParameterError, InvalidTypeError
from sensorframe.quality.contextual import hampel_outlier
from tests.conftest import finite_values, sensor_frames, tied_readings

NAN = float("nan")


def _hampel(
    a: np.ndarray, windows: list[np.ndarray], threshold: float, floor: float | None = None
) -> list[bool | None]:
    """Hampel flags, the scale half the IQR (numpy.quantile, linear) of each window, floored
    at 2% of the interquartile range unless `floor` is given."""
    ok = a[np.isfinite(a)]
    if floor is None and ok.size:
        floor = 0.02 * float(np.diff(np.quantile(ok, [0.25, 0.75]))[0])
    out: list[bool | None] = []
    for v, idx in zip(a, windows, strict=True):
        part = a[idx]
        part = part[np.isfinite(part)]
        if not np.isfinite(v):
            out.append(None)
            continue
        q1, q2, q3 = np.quantile(part, [0.25, 0.5, 0.75])
        out.append(bool(abs(v - q2) > threshold * max(1.4826 * ((q3 - q1) / 2), floor)))
    return out


def _row_windows(n: int, window: int, *, center: bool) -> list[np.ndarray]:
    if center:
        return [
            np.arange(max(0, i - window // 2), min(n, i + (window - 1) // 2 + 1)) for i in range(n)
        ]
    return [np.arange(max(0, i - window + 1), i + 1) for i in range(n)]


def _time_windows(t: np.ndarray, window_us: int, *, center: bool) -> list[np.ndarray]:
    lo, hi = (t - window_us // 2, t + window_us // 2) if center else (t - window_us, t)
    return [np.flatnonzero((t > a) & (t <= b)) for a, b in zip(lo, hi, strict=True)]


def _per_sensor(frame: pl.DataFrame, flags: object) -> list[bool | None]:
    out: list[bool | None] = []
    for _, part in frame.group_by("sensor_id", maintain_order=True):
        a = np.array([np.nan if v is None else v for v in part["value"]], dtype=float)
        t = part["timestamp"].dt.epoch("us").to_numpy()
        out += flags(a, t)  # type: ignore[operator]
    return out


values = st.one_of(*[tied_readings] * 2, *[finite_values] * 2, st.sampled_from([NAN, -math.inf]))
"""Readings with ties, about one in six missing (tied_readings has nulls too)."""


@given(
    frame=sensor_frames(values=values),
    window=st.sampled_from([3, 4, 5, 8]),
    center=st.booleans(),
    threshold=st.sampled_from([1.0, 3.5]),
)
def test_hampel_over_rows_matches_the_definition(
    frame: pl.DataFrame, window: int, center: bool, threshold: float
) -> None:
    frame = frame.sort("sensor_id", "timestamp", maintain_order=True)
    got = frame.select(
        hampel_outlier("value", window=window, center=center, threshold=threshold).over("sensor_id")
    ).to_series()
    want = _per_sensor(
        frame, lambda a, t: _hampel(a, _row_windows(a.size, window, center=center), threshold)
    )
    assert got.to_list() == want


@given(
    frame=sensor_frames(values=values),
    minutes=st.sampled_from([2, 5, 7]),
    center=st.booleans(),
)
def test_hampel_over_a_duration_matches_the_definition(
    frame: pl.DataFrame, minutes: int, center: bool
) -> None:
    frame = frame.sort("sensor_id", "timestamp", maintain_order=True)
    window = timedelta(minutes=minutes)
    got = frame.select(
        hampel_outlier("value", window=window, by="timestamp", center=center).over("sensor_id")
    ).to_series()
    span = window // timedelta(microseconds=1)
    want = _per_sensor(frame, lambda a, t: _hampel(a, _time_windows(t, span, center=center), 3.5))
    assert got.to_list() == want


def test_hampel_accepts_duration_text_and_per_sensor_thresholds() -> None:
    t = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m) for m in range(6)]
    df = pl.DataFrame({"timestamp": t, "value": [1.0, 1.1, 0.9, 3.0, 1.0, 1.2], "k": [100.0] * 6})
    text = df.select(hampel_outlier("value", window="5m", by="timestamp")).to_series()
    td = df.select(hampel_outlier("value", window=timedelta(minutes=5), by="timestamp"))
    assert text.to_list() == td.to_series().to_list()
    assert text[3]
    high = df.select(hampel_outlier("value", window=5, threshold=pl.col("k"))).to_series()
    assert not high.any()


def _daily_cycle(days: int = 6, per_day: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """A 15-minute PV-like signal: zero at night, a sine by day, 1% noise, two faults."""
    rng = np.random.default_rng(7)
    hours = np.arange(days * per_day) * 24 / per_day
    sun = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, None)
    peak = 1.0 + 0.1 * rng.standard_normal(days)  # a sunnier day has a higher noon
    value = sun * np.repeat(peak, per_day) * (1 + 0.01 * rng.standard_normal(hours.size))
    fault = np.zeros(hours.size, dtype=bool)
    noon_drop, night_spike = 2 * per_day + per_day // 2, 4 * per_day + 8
    value[noon_drop] *= 0.3
    value[night_spike] = 0.4
    fault[[noon_drop, night_spike]] = True
    return value, fault


def test_hampel_finds_a_noon_drop_and_a_night_spike_but_not_the_daily_peak() -> None:
    value, fault = _daily_cycle()
    sensors = 3
    df = pl.DataFrame(
        {
            "sensor_id": np.repeat(["a", "b", "c"], value.size),
            "value": np.tile(value, sensors),
            "fault": np.tile(fault, sensors),
        }
    )
    got = df.with_columns(flag=hampel_outlier("value", window=7).over("sensor_id"))
    assert got.filter("fault")["flag"].all()
    assert not got.filter(~pl.col("fault"))["flag"].fill_null(value=False).any()
    # the sunniest noon of each sensor is no outlier, though a global z-score calls it one
    sunniest = got.filter(pl.col("value") == pl.col("value").max().over("sensor_id"))
    assert not sunniest["flag"].any()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": 2},
        {"window": True},
        {"window": 5, "threshold": 0.0},
        {"window": "1h"},  # a duration needs `by`
        {"window": "soon", "by": "timestamp"},
        {"window": timedelta(0), "by": "timestamp"},
        {"window": 5, "min_scale": -0.1},
    ],
)
def test_hampel_refuses_bad_parameters(kwargs: dict) -> None:
    # a bool window is the wrong type (InvalidTypeError), the others bad values
    with pytest.raises((InvalidParameterError, InvalidTypeError)):
        hampel_outlier("value", **kwargs)


def test_hampel_on_empty_and_single_rows() -> None:
    for values in ([], [1.0], [None]):
        df = pl.DataFrame({"value": values}, schema={"value": pl.Float64})
        got = df.select(hampel_outlier("value", window=5)).to_series()
        assert got.to_list() == [None if v is None else False for v in values]


def test_hampel_false_alarms_on_white_noise() -> None:
    # calibration (measured: 2.1% of white-noise readings at 7 rows, 0.55% at 25: the
    # quartiles of a few readings are a noisy scale; a short window buys context)
    rng = np.random.default_rng(4)
    df = pl.DataFrame(
        {"sensor_id": np.repeat(np.arange(50), 2_000), "value": rng.normal(size=100_000)}
    )
    rates = df.select(
        short=hampel_outlier("value", window=7).over("sensor_id").mean(),
        long=hampel_outlier("value", window=25).over("sensor_id").mean(),
    ).row(0)
    assert rates[0] <= 0.03
    assert rates[1] <= 0.008
