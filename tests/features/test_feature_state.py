"""Incremental feature runs: context, running state, and equality with one full run."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

import sensorframe as sf
from sensorframe.errors import ConfigError, InvalidTypeError, SensorSchemaError
from sensorframe.features.recurrences import running_features
from sensorframe.features.state import FeatureState, continue_features, feature_context
from tests.conftest import T0, finite_values, tied_readings

EVERY_FAMILY = sf.FeatureConfig(
    rolling_windows=[3, 5, "5m"],
    lags=[1, 3],
    diffs=[1, 2],
    pct_change=True,
    rate_of_change=True,
    acceleration=True,
    ewm_span=3.5,
    expanding=True,
    volatility_windows=[2, 4],
    spectral=True,
    spectral_window=8,
    spectral_top_k=2,
    spectral_step=3,
    calendar=True,
    cyclical=True,
)
CONFIGS = {
    "default": sf.FeatureConfig.default(),
    "every_family": EVERY_FAMILY,
    "min_samples": replace(EVERY_FAMILY, min_samples=2, spectral_step=1),
}
INEXACT_RTOL = 1e-12
"""ewm_std (own recurrence) and running-sum kernel windows are equal up to rounding only."""


def _frame(ids: list[str], steps: list[int], values: list[float | None]) -> pl.DataFrame:
    """Rows of the sensors in time order (a step of 0 repeats the previous timestamp)."""
    clock: dict[str, int] = {}
    times = []
    for sid, step in zip(ids, steps, strict=True):
        clock[sid] = clock.get(sid, 0) + step
        times.append(T0 + timedelta(seconds=clock[sid]))
    return pl.DataFrame(
        {"sensor_id": ids, "timestamp": times, "value": values},
        schema={"sensor_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[pl.DataFrame, list[int]]:
    """A history of sensors a and b, and c joining later; cut points in seconds."""
    n = draw(st.integers(1, 60))
    ids = draw(st.lists(st.sampled_from("ab"), min_size=n, max_size=n))
    late = draw(st.integers(0, n))  # sensor c appears from row `late` on
    ids = ids[:late] + [draw(st.sampled_from("abc")) for _ in ids[late:]]
    values = draw(st.lists(st.one_of(tied_readings, finite_values), min_size=n, max_size=n))
    steps = draw(st.lists(st.sampled_from([0, 1, 30, 60, 61, 200]), min_size=n, max_size=n))
    history = _frame(ids, steps, values)
    horizon = int((history["timestamp"].max() - T0).total_seconds()) + 1  # type: ignore[operator]
    cuts = draw(st.lists(st.integers(0, horizon), max_size=4, unique=True))
    return history, sorted(cuts)


def _increments(history: pl.DataFrame, cuts: list[int]) -> list[pl.DataFrame]:
    """The rows between consecutive cut times (every timestamp in exactly one increment)."""
    bounds = [T0 + timedelta(seconds=c) for c in cuts]
    t = pl.col("timestamp")
    parts = []
    for lo, hi in zip([None, *bounds], [*bounds, None], strict=True):
        keep = pl.lit(value=True)
        if lo is not None:
            keep &= t > lo
        if hi is not None:
            keep &= t <= hi
        parts.append(history.filter(keep))
    return parts


def _run(increments: list[pl.DataFrame], cfg: sf.FeatureConfig) -> pl.DataFrame:
    state = FeatureState.empty(cfg)
    outputs = []
    for part in increments:
        out, state = continue_features(part, cfg, state)
        outputs.append(out)
        state = FeatureState.from_frames(state.to_frames())  # stored and read back
    return pl.concat(outputs).sort("sensor_id", "timestamp", maintain_order=True)


def _assert_same(got: pl.DataFrame, want: pl.DataFrame, cfg: sf.FeatureConfig) -> None:
    assert got.columns == want.columns
    inexact = feature_context(cfg).inexact
    exact = [c for c in want.columns if c not in inexact]
    assert_frame_equal(got.select(exact), want.select(exact), check_exact=True)
    scale = 1.0 + (want["value"].abs().max() or 0.0)  # type: ignore[operator]
    for name in inexact:  # running sums round relative to the readings' magnitude
        assert_series_equal(got[name], want[name], rel_tol=INEXACT_RTOL, abs_tol=1e-9 * scale)


@pytest.mark.parametrize("name", list(CONFIGS))
@given(case=histories())
def test_increments_equal_one_full_run(name: str, case: tuple[pl.DataFrame, list[int]]) -> None:
    history, cuts = case
    cfg = CONFIGS[name]
    want = sf.engineer_features(history, cfg).collect()
    _assert_same(_run(_increments(history, cuts), cfg), want, cfg)


def test_single_row_increments_equal_one_full_run() -> None:
    rng = np.random.default_rng(7)
    n = 60
    ids = rng.choice(["a", "b"], n).tolist()
    values = [
        None if u < 0.1 else float(v)
        for u, v in zip(rng.random(n), rng.normal(5, 2, n), strict=True)
    ]
    history = _frame(ids, rng.choice([1, 60, 90], n).tolist(), values)
    history = pl.concat([history, _frame(["c"] * 12, [60] * 12, [1.0] * 12)])  # a flat sensor
    for cfg in (CONFIGS["default"], EVERY_FAMILY):
        want = sf.engineer_features(history, cfg).collect()
        got = _run([history.slice(i, 1) for i in range(history.height)], cfg)
        _assert_same(got, want, cfg)


def test_ewm_std_recurrence_matches_polars_and_pandas() -> None:
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(1e3, 2.0, 3000), np.full(40, 7.0), rng.normal(0, 1e-3, 500)]
    x[rng.random(x.size) < 0.1] = np.nan
    rows = pl.DataFrame({"sensor_id": "a", "value": pl.Series(x, nan_to_null=True)})
    for span in (1.5, 3.0, 12.0, 50.0):
        cfg = sf.FeatureConfig(ewm_span=span)
        got, _ = running_features(rows, FeatureState.empty(cfg).sensors, cfg)
        want = rows.select(
            ewm_mean=pl.col("value").ewm_mean(span=span, adjust=False, ignore_nulls=True),
            ewm_std=pl.col("value").ewm_std(span=span, adjust=False, ignore_nulls=True),
        ).select(pl.all().forward_fill())
        assert_series_equal(got["ewm_mean"], want["ewm_mean"], check_exact=True)
        assert_series_equal(got["ewm_std"], want["ewm_std"], rel_tol=1e-14, abs_tol=0.0)
        pandas = pd.Series(x).ewm(span=span, adjust=False, ignore_na=True).std().ffill()
        np.testing.assert_allclose(got["ewm_std"].to_numpy(), pandas.to_numpy(), rtol=1e-12)


def test_feature_context_of_the_default_config() -> None:
    ctx = feature_context(sf.FeatureConfig.default())
    assert dict(ctx.history) == {
        "rolling": 23,
        "lag": 12,
        "diff": 2,
        "pct_change": 1,
        "rate_of_change": 1,
        "acceleration": 2,
        "volatility": 24,
        "spectral": 63,
        "calendar": 0,
        "cyclical": 0,
    }
    assert (ctx.rows, ctx.duration, ctx.running) == (63, None, ("ewm", "expanding"))
    assert ctx.inexact == ("ewm_std",)
    assert feature_context(CONFIGS["min_samples"]).inexact == (
        *(f"rolling_{w}_{s}" for w in (3, 5, "5m") for s in ("mean", "std")),
        "ewm_std",
        "volatility_2",
        "volatility_4",
    )


def test_feature_context_of_durations_and_steps() -> None:
    ctx = feature_context(sf.FeatureConfig(rolling_windows=["30m", "1h"], spectral=True))
    assert (dict(ctx.history), ctx.duration, ctx.running) == (
        {"rolling": 0, "spectral": 63},
        "1h",
        (),
    )
    assert feature_context(EVERY_FAMILY).history["spectral"] == 8 - 1 + 3 - 1
    assert feature_context(sf.FeatureConfig(calendar=True)).rows == 0


def test_trailing_rows_are_the_context() -> None:
    cfg = sf.FeatureConfig(rolling_windows=[4], lags=[2], ewm_span=5)
    history = _frame(["a"] * 10 + ["b"] * 2, [60] * 12, [float(i) for i in range(12)])
    _, state = continue_features(history, cfg, FeatureState.empty(cfg))
    assert state.trailing.group_by("sensor_id").len().sort("sensor_id").rows() == [
        ("a", 3),
        ("b", 2),
    ]
    assert state.trailing["value"].to_list() == [7.0, 8.0, 9.0, 10.0, 11.0]
    assert state.sensors.select("sensor_id", "rows", "ewm_count").rows() == [
        ("a", 10, 10),
        ("b", 2, 2),
    ]
    assert state.sensors["last_time"].to_list() == [
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=2),
    ]


def test_late_rows_raise_naming_the_sensor_and_recompute_from_scratch() -> None:
    cfg = sf.FeatureConfig(lags=[1], expanding=True)
    history = _frame(["a"] * 5 + ["b"] * 5, [60] * 10, [float(i) for i in range(10)])
    _, state = continue_features(history, cfg, FeatureState.empty(cfg))
    late = _frame(["b"], [240], [100.0])  # at b's 4th timestamp
    with pytest.raises(SensorSchemaError, match=r"'?b \(a row at 2026-01-01T00:04:00"):
        continue_features(late, cfg, state)
    corrected = pl.concat([history.filter(pl.col("sensor_id") == "b").head(3), late])
    got, _ = continue_features(corrected, cfg, state.without(["b"]))
    want = sf.engineer_features(corrected, cfg).collect()
    assert_frame_equal(got, want, check_exact=True)


def test_empty_increment_changes_nothing() -> None:
    cfg = CONFIGS["default"]
    history = _frame(["a"] * 5, [60] * 5, [1.0, 2.0, None, 4.0, 5.0])
    _, state = continue_features(history, cfg, FeatureState.empty(cfg))
    out, after = continue_features(history.head(0), cfg, state)
    assert out.height == 0
    assert out.schema == sf.engineer_features(history, cfg).collect_schema()
    assert_frame_equal(after.sensors, state.sensors)
    assert_frame_equal(after.trailing, state.trailing)


def test_another_config_is_refused() -> None:
    state = FeatureState.empty(sf.FeatureConfig(lags=[1]))
    with pytest.raises(ConfigError, match=r"lags: \(1,\) -> \(2,\)"):
        continue_features(_frame(["a"], [1], [1.0]), sf.FeatureConfig(lags=[2]), state)
    with pytest.raises(InvalidTypeError, match="FeatureState"):
        continue_features(_frame(["a"], [1], [1.0]), sf.FeatureConfig(lags=[1]), {})  # type: ignore[arg-type]


def test_bad_state_frames_are_refused() -> None:
    frames = FeatureState.empty(EVERY_FAMILY).to_frames()
    with pytest.raises(SensorSchemaError, match="lack"):
        FeatureState.from_frames({k: v for k, v in frames.items() if k != "trailing"})
    with pytest.raises(SensorSchemaError, match=r"FeatureState\.sensors"):
        FeatureState.from_frames({**frames, "sensors": frames["sensors"].drop("ewm_var")})
    with pytest.raises(ConfigError, match="format"):
        FeatureState.from_frames({**frames, "config": frames["config"].with_columns(format=2)})
    bad = frames["config"].with_columns(config=pl.lit('{"lags": [0]}'))
    with pytest.raises(ConfigError, match="no FeatureConfig"):
        FeatureState.from_frames({**frames, "config": bad})
    assert FeatureState.from_frames(frames).config == EVERY_FAMILY
