"""Gross range, spike and rate of change against plain NumPy definitions, per sensor."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensorframe.errors import InvalidParameterError
from sensorframe.quality.limits import gross_range, rate_of_change, spike
from tests.conftest import finite_values, sensor_frames, tied_readings

NAN = float("nan")
with_nan = st.one_of(*[finite_values] * 4, st.sampled_from([None, NAN, math.inf]))
"""Readings, one in five missing (null, NaN or inf)."""


def _per_sensor(frame: pl.DataFrame, fn: object) -> list[object]:
    """Apply the reference ``fn(values as float array with NaN) -> list`` to each sensor."""
    out: list[object] = []
    for _, part in frame.group_by("sensor_id", maintain_order=True):
        a = np.array([np.nan if v is None else v for v in part["value"]], dtype=float)
        out += fn(a)  # type: ignore[operator]
    return out


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows grouped by sensor (time order kept), as the reference walks them."""
    return frame.sort("sensor_id", "timestamp", maintain_order=True)


# ------------------------------------------------------------------ gross range
def _qartod_gross_range(
    a: np.ndarray, lo: float | None, hi: float | None, slo: float | None, shi: float | None
) -> list[int]:
    """ioos_qc's gross_range_test, with a bound left out as not checked, 2 with none."""
    codes = []
    for v in a:
        if not np.isfinite(v):
            codes.append(9)
        elif (lo is not None and v < lo) or (hi is not None and v > hi):
            codes.append(4)
        elif (slo is not None and v < slo) or (shi is not None and v > shi):
            codes.append(3)
        elif all(b is None for b in (lo, hi, slo, shi)):
            codes.append(2)
        else:
            codes.append(1)
    return codes


@given(
    frame=sensor_frames(values=with_nan),
    edges=st.lists(st.floats(-1e3, 1e3), min_size=4, max_size=4).map(sorted),
    keep=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_gross_range_matches_the_qartod_definition(
    frame: pl.DataFrame, edges: list[float], keep: list[bool]
) -> None:
    lo, slo, shi, hi = (e if k else None for e, k in zip(edges, keep, strict=True))
    frame = _sorted(frame)
    got = frame.select(
        gross_range("value", fail_min=lo, fail_max=hi, suspect_min=slo, suspect_max=shi)
    ).to_series()
    assert got.dtype == pl.Int8
    assert got.to_list() == _per_sensor(frame, lambda a: _qartod_gross_range(a, lo, hi, slo, shi))


def test_gross_range_matches_the_ioos_qc_example() -> None:
    # ioos_qc.qartod.gross_range_test docstring: [1, 2, 3, 4, 8], fail (0, 5), suspect (1, 4)
    df = pl.DataFrame({"value": [1.0, 2.0, 3.0, 4.0, 8.0]})
    got = df.select(
        gross_range("value", fail_min=0, fail_max=5, suspect_min=1, suspect_max=4)
    ).to_series()
    assert got.to_list() == [1, 1, 1, 1, 4]


def test_gross_range_takes_per_sensor_bounds_as_columns() -> None:
    df = pl.DataFrame(
        {
            "value": [5.0, 50.0, 5.0, 50.0, None],
            "hi": [10.0, 10.0, 100.0, 100.0, None],
            "shi": [None, None, 40.0, 40.0, None],
        }
    )
    got = df.select(gross_range("value", fail_max=pl.col("hi"), suspect_max=pl.col("shi")))
    assert got.to_series().to_list() == [1, 4, 1, 3, 9]
    none = pl.DataFrame({"value": [1.0, None]}).select(gross_range("value")).to_series()
    assert none.to_list() == [2, 9]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fail_min": 5.0, "fail_max": 1.0},
        {"suspect_min": 3.0, "suspect_max": 2.0},
        {"fail_min": 0.0, "suspect_min": -1.0},
        {"fail_max": 10.0, "suspect_max": 11.0},
        {"fail_min": math.nan},
        {"fail_max": math.inf},
        {"fail_max": "10"},
    ],
)
def test_gross_range_refuses_bad_bounds(kwargs: dict) -> None:
    with pytest.raises(InvalidParameterError):
        gross_range("value", **kwargs)


# ------------------------------------------------------------------------ spike
def _spike_reference(a: np.ndarray, limit: np.ndarray) -> list[bool | None]:
    """Jump above (below) both neighbours by more than the limit; None if not evaluable."""
    out: list[bool | None] = []
    for i in range(a.size):
        if (
            i == 0
            or i == a.size - 1
            or not np.isfinite(a[i - 1 : i + 2]).all()
            or np.isnan(limit[i])
        ):
            out.append(None)
            continue
        up, down = a[i] - a[i - 1], a[i] - a[i + 1]
        out.append(bool(up * down > 0 and min(abs(up), abs(down)) > limit[i]))
    return out


def _floor(a: np.ndarray) -> float:
    """The default floor, ``0.02 * (q75 - q25)`` of the finite readings."""
    ok = a[np.isfinite(a)]
    return 0.02 * float(np.diff(np.quantile(ok, [0.25, 0.75]))[0]) if ok.size else np.nan


def _noise_limit(
    a: np.ndarray, factor: float, window: int, floor: float | None = None
) -> np.ndarray:
    """``factor * max(1.4826 * nanmedian(u), floor)`` over the centred window, ``u = max(r,
    |step|)``; the default floor unless given."""
    floor = _floor(a) if floor is None else floor
    a = np.where(np.isfinite(a), a, np.nan)
    u = np.full(a.size, np.nan)
    for i in range(1, a.size):
        step = abs(a[i] - a[i - 1])
        r = abs(a[i] - (a[i - 1] + a[i + 1]) / 2) if i + 1 < a.size else np.nan
        u[i] = step if np.isnan(r) else (r if np.isnan(step) else max(r, step))
    limit = np.full(a.size, np.nan)
    for i in range(a.size):
        part = u[max(0, i - window // 2) : i + (window - 1) // 2 + 1]
        part = part[~np.isnan(part)]
        if part.size and not np.isnan(floor):
            limit[i] = factor * max(1.4826 * np.median(part), floor)
    return limit


@given(frame=sensor_frames(values=with_nan), threshold=st.floats(0.01, 1e5))
def test_spike_with_a_threshold_matches_the_definition(
    frame: pl.DataFrame, threshold: float
) -> None:
    frame = _sorted(frame)
    got = frame.select(spike("value", threshold=threshold).over("sensor_id")).to_series()
    want = _per_sensor(
        frame,
        lambda a: _spike_reference(np.where(np.isfinite(a), a, np.nan), np.full(a.size, threshold)),
    )
    assert got.to_list() == want


@given(
    frame=sensor_frames(values=st.one_of(*[tied_readings] * 4, st.just(NAN))),
    factor=st.sampled_from([0.3, 1.0, 3.0]),
    window=st.sampled_from([3, 4, 9]),
    floor=st.sampled_from([None, 0.0, 0.5]),
)
def test_spike_against_the_local_noise_matches_the_definition(
    frame: pl.DataFrame, factor: float, window: int, floor: float | None
) -> None:
    frame = _sorted(frame)
    got = frame.select(
        spike("value", noise_factor=factor, window=window, min_scale=floor).over("sensor_id")
    ).to_series()
    want = _per_sensor(
        frame,
        lambda a: _spike_reference(
            np.where(np.isfinite(a), a, np.nan), _noise_limit(a, factor, window, floor)
        ),
    )
    assert got.to_list() == want


@given(values=st.lists(finite_values, min_size=3, max_size=40), threshold=st.floats(0.1, 1e4))
def test_spike_flags_what_ioos_qc_flags_where_the_reading_jumps_both_ways(
    values: list[float], threshold: float
) -> None:
    # ioos_qc spike_test(method="differential"): diff = min(|d_prev|, |d_next|), 0 unless
    # the two steps have opposite signs; SUSPECT (3) where diff > suspect_threshold,
    # UNKNOWN (2) at both ends
    a = np.array(values)
    d = np.diff(a)
    diff = np.zeros(a.size)
    diff[1:-1] = np.minimum(np.abs(d[:-1]), np.abs(d[1:]))
    diff[1:-1][d[:-1] * d[1:] >= 0] = 0
    flags = np.where(diff > threshold, 3, 1)
    flags[[0, -1]] = 2
    got = pl.DataFrame({"value": values}).select(spike("value", threshold=threshold))
    want = [None if f == 2 else bool(f == 3) for f in flags]
    assert got.to_series().to_list() == want


def test_a_step_and_a_spikes_neighbours_are_not_spikes() -> None:
    df = pl.DataFrame({"value": [0.0, 0.01, 0.0, 5.0, 5.01, 5.0, 9.0, 5.0, 5.02, 5.0]})
    got = df.select(spike("value", threshold=1.0)).to_series().to_list()
    assert got == [None, False, False, False, False, False, True, False, False, None]


def test_a_spike_at_night_on_a_zero_line_is_a_spike_and_a_flicker_is_not() -> None:
    day = np.sin(np.linspace(0, np.pi, 40)) * 5_000.0  # a 5 kW plant's day
    night = np.full(20, -2.7)
    night[[5, 12]] = [-3.2, 400.0]  # a 0.5 W standby flicker; a 400 W spike at night
    df = pl.DataFrame({"value": np.concatenate([night, day, night])})
    got = df.select(spike("value")).to_series().fill_null(value=False)
    assert got.arg_true().to_list() == [12, 72]
    bare = df.select(spike("value", min_scale=0.0)).to_series().fill_null(value=False)
    assert {5, 12} <= set(bare.arg_true().to_list())  # without the floor the flicker is one


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0.0},
        {"threshold": -1.0},
        {"noise_factor": math.nan},
        {"window": 2},
        {"window": True},
    ],
)
def test_spike_refuses_bad_parameters(kwargs: dict) -> None:
    with pytest.raises(InvalidParameterError):
        spike("value", **kwargs)


# --------------------------------------------------------------- rate of change
@given(frame=sensor_frames(values=with_nan), threshold=st.floats(0.01, 1e5))
def test_rate_of_change_matches_the_definition(frame: pl.DataFrame, threshold: float) -> None:
    frame = _sorted(frame)
    got = frame.select(
        per_row=rate_of_change("value", threshold=threshold).over("sensor_id"),
        per_second=rate_of_change("value", threshold=threshold, by="timestamp").over("sensor_id"),
    )
    rows, seconds = [], []
    for _, part in frame.group_by("sensor_id", maintain_order=True):
        a = np.array([np.nan if v is None else v for v in part["value"]], dtype=float)
        a = np.where(np.isfinite(a), a, np.nan)
        t = part["timestamp"].to_list()
        for i in range(a.size):
            change = abs(a[i] - a[i - 1]) if i else np.nan
            rows.append(None if np.isnan(change) else bool(change > threshold))
            dt = (t[i] - t[i - 1]) / timedelta(seconds=1) if i else 0.0
            rate = change / dt if dt > 0 else np.nan
            seconds.append(None if np.isnan(rate) else bool(rate > threshold))
    assert got["per_row"].to_list() == rows
    assert got["per_second"].to_list() == seconds


def test_rate_of_change_refuses_a_bad_threshold() -> None:
    with pytest.raises(InvalidParameterError):
        rate_of_change("value", threshold=-1.0)


def test_every_check_takes_empty_and_single_rows() -> None:
    for values in ([], [1.0], [None]):
        df = pl.DataFrame({"value": values}, schema={"value": pl.Float64})
        got = df.select(
            range=gross_range("value", fail_max=0.5),
            spike=spike("value"),
            spike_t=spike("value", threshold=1.0),
            roc=rate_of_change("value", threshold=1.0),
        )
        assert got.height == len(values)
        assert got["spike"].null_count() == len(values)


def test_spike_false_alarms_and_recall_on_white_noise() -> None:
    # calibration at the defaults (noise_factor 4, window 25): false alarms below 0.1%,
    # 12-sigma spikes found in at least 85% (with 3 and 9: 0.04% and 90%, but two spikes
    # 3 readings apart hid each other in the 9-row window)
    rng = np.random.default_rng(4)
    sensors, n = 50, 2_000
    noise = rng.normal(size=(sensors, n))
    at = rng.integers(50, n - 50, sensors)
    spiked = noise.copy()
    spiked[np.arange(sensors), at] += 12.0
    df = pl.DataFrame(
        {
            "sensor_id": np.repeat(np.arange(sensors), n),
            "row": np.tile(np.arange(n), sensors),
            "noise": noise.ravel(),
            "spiked": spiked.ravel(),
        }
    ).with_columns(
        false=spike("noise").over("sensor_id").fill_null(value=False),
        found=spike("spiked").over("sensor_id").fill_null(value=False),
    )
    assert df["false"].mean() <= 0.001  # type: ignore[operator]
    hits = df.filter(pl.col("row") == pl.Series(np.repeat(at, n)))
    assert hits["found"].mean() >= 0.85  # type: ignore[operator]
