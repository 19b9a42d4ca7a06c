"""interpolated, level_shift and trend against NumPy / SciPy, and on steps, trends and gaps."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import sensorframe as sf
from sensorframe.errors import InvalidParameterError
from sensorframe.quality.shape import (
    _step_statistic,
    _with_level_shift,
    interpolated,
    level_shift,
    trend,
)
from tests.conftest import T0, finite_values, sensor_frames

NAN = float("nan")
PVANALYTICS = Path(__file__).resolve().parents[1] / "data" / "pvanalytics"
small_ints = st.sampled_from([None, NAN, -3.0, -2.0, -1.0, 0.0, 0.0, 1.0, 1.0, 2.0, 3.0, 3.0])
"""Readings on a coarse grid, so ties and steps are common."""
mostly_finite = st.one_of(*[finite_values] * 4, st.sampled_from([None, NAN]))
"""Readings, one in five missing (null or NaN)."""
steps = st.sampled_from([None, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, -2.0])
"""Steps between readings: their running sum draws straight lines, flats and kinks (a
NaN step would make every later sum NaN: NaN readings are in the other tests)."""


def _arrays(frame: pl.DataFrame) -> list[np.ndarray]:
    """Each sensor's readings (NaN for missing), in the frame's (sorted) order."""
    return [
        np.array([np.nan if v is None else v for v in part["value"]], dtype=float)
        for _, part in frame.group_by("sensor_id", maintain_order=True)
    ]


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("sensor_id", "timestamp", maintain_order=True)


# ----------------------------------------------------------------- interpolated
def _interpolated_reference(a: np.ndarray, min_length: int, tol: float) -> list[bool]:
    a = np.where(np.isfinite(a), a, np.nan)
    link = np.zeros(a.size, dtype=bool)
    for i in range(2, a.size):
        d, dp = a[i] - a[i - 1], a[i - 1] - a[i - 2]
        if np.isfinite([d, dp]).all() and d != 0 and dp != 0:
            link[i] = abs(d - dp) <= tol * max(abs(d), abs(dp))
    flags = np.zeros(a.size, dtype=bool)
    i = 0
    while i < a.size:
        if not link[i]:
            i += 1
            continue
        j = i
        while j + 1 < a.size and link[j + 1]:
            j += 1
        m = j - i + 1  # links i..j: a line through i - 2 .. j, inner rows i - 1 .. j - 1
        if m >= min_length:
            flags[i - 1 : j] = True
        i = j + 1
    return flags.tolist()


@given(
    frame=sensor_frames(values=steps, max_rows=80),
    min_length=st.integers(1, 4),
    tol=st.sampled_from([1e-6, 0.5]),
)
def test_interpolated_matches_the_definition(
    frame: pl.DataFrame, min_length: int, tol: float
) -> None:
    frame = _sorted(frame).with_columns(pl.col("value").cum_sum().over("sensor_id"))
    got = frame.select(
        interpolated("value", min_length=min_length, tolerance=tol).over("sensor_id")
    ).to_series()
    want = [f for a in _arrays(frame) for f in _interpolated_reference(a, min_length, tol)]
    assert got.to_list() == want


def test_a_line_drawn_through_a_gap_is_interpolated() -> None:
    rng = np.random.default_rng(3)
    n, sensors = 200, ["a", "b", "c"]
    frames = []
    for k, sid in enumerate(sensors):
        value = np.cumsum(rng.standard_normal(n)) + 10 * k
        gap = slice(50 + 20 * k, 62 + 20 * k)  # 12 readings lost, then filled by a line
        value[gap] = np.nan
        frames.append(pl.DataFrame({"sensor_id": sid, "value": value, "filled": False}))
        frames[-1] = frames[-1].with_columns(
            filled=pl.int_range(pl.len()).is_between(gap.start, gap.stop - 1)
        )
    df = pl.concat(frames).with_columns(
        pl.col("value").fill_nan(None).interpolate().over("sensor_id")
    )
    got = df.with_columns(flag=interpolated("value").over("sensor_id"))
    assert got["flag"].to_list() == got["filled"].to_list()
    # a flat stretch (zero step) is a flat-line, not an interpolation
    flat = pl.DataFrame({"value": [1.0, 2.0] + [2.0] * 10 + [5.0]})
    assert not flat.select(interpolated("value")).to_series().any()


# ------------------------------------------------------------------ level shift
def _block_stats(a: np.ndarray, w: int) -> np.ndarray:
    """Rows x 4: M0 .. M3, the means of the four w-row blocks around each row (NaN if short)."""
    a = np.where(np.isfinite(a), a, np.nan)

    def block(start: int) -> float:
        if start < 0 or start + w > a.size:
            return np.nan
        part = a[start : start + w]
        part = part[~np.isnan(part)]
        return float(part.mean()) if part.size >= (w + 1) // 2 else np.nan

    return np.array([[block(t + k * w) for k in (-2, -1, 0, 1)] for t in range(a.size)]).reshape(
        a.size, 4
    )


def _blocks(a: np.ndarray, w: int) -> np.ndarray:
    """S_t = 1.5 (M2 - M1) - 0.5 (M3 - M0) from the four w-row block means."""
    m0, m1, m2, m3 = _block_stats(a, w).T
    return 1.5 * (m2 - m1) - 0.5 * (m3 - m0)


def _holds(a: np.ndarray, w: int, s: np.ndarray) -> np.ndarray:
    """The level holds: neither D01 nor D23 goes back against S by more than |S| / 3."""
    m0, m1, m2, m3 = _block_stats(a, w).T
    with np.errstate(invalid="ignore"):
        against = np.minimum((m1 - m0) * s, (m3 - m2) * s)
        return (against >= -(s * s) / 3) & ~np.isnan(against)


def _level_shift_reference(a: np.ndarray, w: int, threshold: float) -> list[bool]:
    s = _blocks(a, w)
    holds = _holds(a, w, s)
    ok = s[~np.isnan(s)]
    finite = a[np.isfinite(a)]
    big = 1e-9 * np.abs(finite).max() if finite.size else np.nan
    mad = 1.4826 * np.median(np.abs(ok - np.median(ok))) if ok.size else np.nan
    scale = np.nanmax([mad, big]) if not (np.isnan(mad) and np.isnan(big)) else np.nan
    size = np.abs(s)
    flags = []
    for t in range(a.size):
        near = size[max(0, t - 2 * w) : t + 2 * w + 1]
        near = near[~np.isnan(near)]
        first = t == 0 or size[t] != size[t - 1] or np.isnan(size[t - 1])
        flags.append(
            bool(
                not np.isnan(size[t])
                and size[t] > threshold * scale
                and size[t] == near.max()
                and first
                and holds[t]
            )
        )
    return flags


@given(frame=sensor_frames(values=small_ints, max_rows=80), w=st.integers(2, 5))
def test_level_shift_matches_the_definition(frame: pl.DataFrame, w: int) -> None:
    # integer readings: the block means are exact, so the flags compare exactly
    frame = _sorted(frame)
    got = frame.select(level_shift("value", window=w, threshold=2.0).over("sensor_id"))
    want = [f for a in _arrays(frame) for f in _level_shift_reference(a, w, 2.0)]
    assert got.to_series().to_list() == want


@given(frame=sensor_frames(values=mostly_finite), w=st.integers(2, 6))
def test_the_step_statistic_matches_block_means(frame: pl.DataFrame, w: int) -> None:
    frame = _sorted(frame)
    got = frame.select(_step_statistic(pl.col("value").fill_nan(None), w).over("sensor_id"))
    want = np.concatenate([_blocks(a, w) for a in _arrays(frame)] or [np.array([])])
    np.testing.assert_allclose(got.to_series().to_numpy().astype(float), want, atol=1e-6)


def _frame(values: dict[str, np.ndarray], step: timedelta = timedelta(hours=1)) -> pl.DataFrame:
    return pl.concat(
        pl.DataFrame(
            {
                "sensor_id": sid,
                "timestamp": [T0 + i * step for i in range(v.size)],
                "value": v,
            }
        )
        for sid, v in values.items()
    )


def test_a_step_is_a_level_shift_and_a_trend_is_not() -> None:
    rng = np.random.default_rng(11)
    n = 2_000
    t = np.arange(n)
    noise = {k: rng.normal(0, 0.2, n) for k in "abcd"}
    df = _frame(
        {
            "step": np.where(t >= 1_200, 3.0, 0.0) + noise["a"],
            "trend": 0.002 * t + noise["b"],
            "curve": 2e-6 * (t - 1_000) ** 2 + noise["c"],  # a seasonal bend
            "step_on_trend": 0.002 * t + np.where(t >= 700, -2.0, 0.0) + noise["d"],
        }
    )
    flagged = (
        df.with_columns(flag=level_shift("value").over("sensor_id"))
        .filter("flag")
        .with_columns(row=(pl.col("timestamp") - T0).dt.total_hours())
    )
    rows = dict(flagged.group_by("sensor_id").agg(pl.col("row")).iter_rows())
    assert rows == {"step": [1_200], "step_on_trend": [700]}


# ------------------------------------------------------------------------ trend
def _trend_reference(x: np.ndarray, days: np.ndarray) -> tuple[float | None, float | None]:
    ok = np.isfinite(x)
    x, d = x[ok], days[ok]
    if x.size < 2 or np.ptp(d) == 0:
        return None, None
    slope, intercept = np.polyfit(d, x, 1)
    e = x - (intercept + slope * d)
    n, sse = x.size, float(e @ e)
    if sse == 0 or math.isclose(sse, 0.0, abs_tol=1e-20):
        return slope, None
    r1 = float(e[1:] @ e[:-1]) / sse
    n_eff = n * (1 - r1) / (1 + r1) if r1 > 0 else n
    if n_eff <= 2:
        return slope, None
    sxx = float(((d - d.mean()) ** 2).sum())
    se = math.sqrt(sse / (n - 2) / sxx) * math.sqrt((n - 2) / (n_eff - 2))
    return slope, 2 * stats.t.sf(abs(slope) / se, n_eff - 2)


@given(frame=sensor_frames(values=mostly_finite, max_rows=60))
def test_trend_matches_polyfit_and_the_corrected_t_test(frame: pl.DataFrame) -> None:
    frame = _sorted(frame)
    got = frame.group_by("sensor_id", maintain_order=True).agg(trend("value", "timestamp"))
    for (sid, part), row in zip(
        frame.group_by("sensor_id", maintain_order=True), got.iter_rows(named=True), strict=True
    ):
        assert row["sensor_id"] == sid[0]
        days = (part["timestamp"] - T0).dt.total_microseconds().to_numpy() / 86_400e6
        x = np.array([np.nan if v is None else v for v in part["value"]], dtype=float)
        slope, p = _trend_reference(x, days)
        fit = row["value"]
        if slope is None:
            assert fit["slope_per_day"] is None
            continue
        assert fit["slope_per_day"] == pytest.approx(
            slope, rel=1e-6, abs=1e-6 * np.nanmax(np.abs(x)) + 1e-9
        )
        if p is not None and fit["pvalue"] is not None:
            assert fit["pvalue"] == pytest.approx(p, rel=1e-4, abs=1e-9)


def test_trend_gives_the_slope_per_day_of_a_noisy_line() -> None:
    rng = np.random.default_rng(5)
    n = 24 * 60  # 60 days of hourly readings, rising 0.5 a day
    x = 10 + 0.5 * np.arange(n) / 24 + rng.normal(0, 1.0, n)
    flat = rng.normal(0, 1.0, n)
    df = _frame({"rising": x, "flat": flat})
    got = dict(
        df.group_by("sensor_id")
        .agg(trend("value", "timestamp").alias("t"))
        .select("sensor_id", pl.col("t").struct.field("slope_per_day"))
        .iter_rows()
    )
    days = np.arange(n) / 24
    assert got["rising"] == pytest.approx(np.polyfit(days, x, 1)[0], rel=1e-9)
    assert got["rising"] == pytest.approx(stats.theilslopes(x, days).slope, rel=0.02)
    assert abs(got["flat"]) < 0.02
    p = dict(
        df.group_by("sensor_id").agg(trend("value", "timestamp").struct.field("pvalue")).iter_rows()
    )
    assert p["rising"] < 1e-6
    assert p["flat"] > 0.01


def test_trend_of_a_random_walk_is_not_significant_by_chance() -> None:
    # a wandering (autocorrelated) sensor: the plain OLS p-value calls most walks a trend
    rng = np.random.default_rng(2)
    walks = {f"w{k}": np.cumsum(rng.normal(0, 0.05, 2_000)) for k in range(40)}
    df = _frame(walks)
    p = df.group_by("sensor_id").agg(trend("value", "timestamp").struct.field("pvalue"))
    plain = [stats.linregress(np.arange(2_000), w).pvalue for w in walks.values()]
    assert np.mean(np.array(plain) < 0.01) > 0.6
    assert (p["pvalue"] < 0.01).mean() < 0.25


def test_trend_edge_cases() -> None:
    t = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=i) for i in range(3)]
    cases = {
        "empty": ([], []),
        "single": (t[:1], [1.0]),
        "constant": (t, [2.0, 2.0, 2.0]),
        "line": (t, [1.0, 2.0, 3.0]),
        "same time": ([t[0]] * 3, [1.0, 2.0, 3.0]),
    }
    for name, (times, values) in cases.items():
        df = pl.DataFrame(
            {"timestamp": times, "value": values},
            schema={"timestamp": pl.Datetime("us", "UTC"), "value": pl.Float64},
        )
        row = df.select(trend("value", "timestamp")).to_series()[0]
        want = {
            "empty": (None, None),
            "single": (None, None),
            "constant": (0.0, 1.0),
            "line": (1.0, 0.0),
            "same time": (None, None),
        }[name]
        assert (row["slope_per_day"], row["pvalue"]) == pytest.approx(want), name


@pytest.mark.parametrize(
    ("fn", "kwargs"),
    [
        (interpolated, {"min_length": 0}),
        (interpolated, {"tolerance": 0.0}),
        (level_shift, {"window": 1}),
        (level_shift, {"threshold": -2.0}),
    ],
)
def test_shape_checks_refuse_bad_parameters(fn: object, kwargs: dict) -> None:
    with pytest.raises(InvalidParameterError):
        fn("value", **kwargs)  # type: ignore[operator]


def test_shape_checks_on_empty_and_single_rows() -> None:
    for values in ([], [1.0], [None]):
        df = pl.DataFrame({"value": values}, schema={"value": pl.Float64})
        got = df.select(a=interpolated("value"), b=level_shift("value"))
        assert got["a"].to_list() == [False] * len(values)
        assert got["b"].to_list() == [False] * len(values)


def test_level_shift_false_alarms_and_power_on_noise() -> None:
    # calibration (measured: no false shift in 1 M rows of white or AR(0.9) noise at the
    # defaults; 4-sigma steps in white noise found at or next to the step row)
    rng = np.random.default_rng(9)
    sensors, n = 20, 2_000
    white = rng.normal(size=(sensors, n))
    ar = np.zeros((sensors, n))
    for i in range(1, n):
        ar[:, i] = 0.9 * ar[:, i - 1] + white[:, i]
    at = rng.integers(300, n - 300, sensors)
    stepped = white + 4.0 * (np.arange(n)[None, :] >= at[:, None])
    df = pl.DataFrame(
        {
            "sensor_id": np.repeat(np.arange(sensors), n),
            "row": np.tile(np.arange(n), sensors),
            "white": white.ravel(),
            "ar": ar.ravel(),
            "stepped": stepped.ravel(),
        }
    )
    got = df.with_columns(
        pl.col("white", "ar", "stepped")
        .map_batches(lambda s: s)
        .pipe(lambda _: [level_shift(c).over("sensor_id") for c in ("white", "ar", "stepped")])
    )
    assert not got["white"].any()
    assert not got["ar"].any()
    found = got.filter("stepped")
    assert found.height >= 0.9 * sensors
    off = found["row"].to_numpy() - at[found["sensor_id"].to_numpy()]
    assert (np.abs(off) <= 3).all()  # measured: 20/20 found, 15 at the step row, all within 3
    assert (off == 0).mean() >= 0.6


def _synthetic_flags(kind: str, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Ten sensors with one fault kind each, flagged by level_shift at its defaults."""
    data = sf.datasets.synthetic(10, 1_000, seed=seed, faults=(kind,), fault_fraction=1.0)
    flags = data.frame.with_columns(flag=level_shift("value").over("sensor_id"))
    return flags.filter("flag"), data.labels


@pytest.mark.parametrize(("kind", "most"), [("spike", 2), ("range", 0)])
def test_spikes_and_range_faults_are_not_level_shifts(kind: str, most: int) -> None:
    # measured before the no-jump-back rule: 29/30 spike and 30/30 range-fault sensors
    # (seeds 0-2) had a level shift; now 2/30 (two spikes a few rows apart) and 0/30
    flagged = pl.concat(_synthetic_flags(kind, seed)[0] for seed in range(3))
    assert flagged.height <= most


def test_synthetic_level_shifts_are_found_at_the_step() -> None:
    found = 0
    for seed in range(3):
        flagged, labels = _synthetic_flags("level_shift", seed)
        near = flagged.join(labels.select("sensor_id", "start"), on="sensor_id").filter(
            (pl.col("timestamp") - pl.col("start")).abs() <= timedelta(minutes=3)
        )
        found += near["sensor_id"].n_unique()
        assert flagged["sensor_id"].n_unique() == flagged.height  # one flag per step
    assert found >= 27  # measured: 30/30, each at its labelled row


def test_a_spike_or_a_short_burst_is_not_a_step() -> None:
    rng = np.random.default_rng(3)
    n = 2_000
    t = np.arange(n)
    x = 0.001 * t + rng.normal(0, 1.0, n)
    x[500] += 60.0  # one wild reading
    x[1_000:1_020] += 15.0  # a burst of 20 readings (window 24) that comes back
    x[1_600:] += 4.0  # a real step
    got = pl.DataFrame({"value": x}).select(level_shift("value"))["value"]
    rows = [i for i, f in enumerate(got) if f]
    assert len(rows) == 1
    assert abs(rows[0] - 1_600) <= 2  # measured: 1,601


def _pv(name: str) -> pl.DataFrame:
    """A pvanalytics file's readings (15-minute AC power, or daily energy)."""
    return pl.read_csv(PVANALYTICS / name).with_row_index("row")


@pytest.mark.parametrize(
    "name", ["ac_power_inv_2173_stale_data.csv", "ac_power_inv_2173_interpolated_data.csv"]
)
def test_a_pv_daily_cycle_makes_no_level_shift(name: str) -> None:
    # 31 days of 15-minute PV power: sunrise and sunset are jumps that come back within
    # a day. Measured before the no-jump-back rule: 1 and 10 false shifts at window 24
    frame = _pv(name)
    for window in (24, 96):
        got = frame.select(level_shift("value_normalized", window=window))
        assert not got.to_series().any(), window


def test_the_labelled_pvlib_data_shift_is_found() -> None:
    # daily energy with one labelled shift (row 300, 2015-10-28: ~27,000 -> ~4,000 a day)
    frame = _pv("pvlib_data_shift.csv")
    for window, rows in ((20, [300]), (30, [296]), (60, [300])):
        got = frame.filter(level_shift("value", window=window))["row"].to_list()
        assert got == rows, window  # measured: one flag, within 4 days of the label


@given(frame=sensor_frames(values=mostly_finite, max_rows=120), w=st.integers(2, 5))
def test_level_shift_on_the_whole_column_and_staged_equals_over(
    frame: pl.DataFrame, w: int
) -> None:
    frame = _sorted(frame)
    got = frame.select(
        whole=level_shift("value", window=w, threshold=2.0, partition_by="sensor_id"),
        over=level_shift("value", window=w, threshold=2.0).over("sensor_id"),
    )
    staged = _with_level_shift(
        frame.lazy(),
        pl.col("value"),
        window=w,
        threshold=pl.lit(2.0),
        partition_by="sensor_id",
        name="staged",
    ).collect()
    assert got["whole"].to_list() == got["over"].to_list() == staged["staged"].to_list()
    assert staged.columns == [*frame.columns, "staged"]
