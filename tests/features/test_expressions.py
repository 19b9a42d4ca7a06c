from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sensorframe.features as sff
from sensorframe.errors import InvalidParameterError
from tests.conftest import sensor_frames
from tests.features import _reference as ref


def _per_sensor(frame: pl.DataFrame, fn: Any) -> list[float | None]:
    out: list[float | None] = []
    for (_sid,), part in frame.group_by("sensor_id", maintain_order=True):
        x = part["value"].to_numpy(allow_copy=True).astype(float)
        t_us = part["timestamp"].dt.epoch("us").to_numpy()
        out.extend(fn(x, t_us))
    return out


def _check(got: pl.Series, want: list[float | None], rtol: float = 1e-9) -> None:
    w = pl.Series(want, dtype=pl.Float64)
    assert got.is_null().to_list() == w.is_null().to_list()
    g, wv = got.cast(pl.Float64).to_numpy(), w.to_numpy()
    atol = rtol * float(np.nanmax(np.abs(wv), initial=1.0))
    np.testing.assert_allclose(g, wv, rtol=rtol, atol=atol, equal_nan=True)


@given(
    frame=sensor_frames(max_rows=40, shuffle=False),
    window=st.sampled_from([1, 2, 3, 5, "1m", "150s"]),
    stat=st.sampled_from(["mean", "std", "min", "max", "median", "range"]),
    min_periods=st.none() | st.integers(1, 4),
)
def test_rolling_stat_over_sensor(
    frame: pl.DataFrame, window: int | str, stat: str, min_periods: int | None
) -> None:
    expr = sff.rolling_stat("value", window=window, stat=stat, min_samples=min_periods)  # type: ignore[arg-type]
    got = frame.select(expr.over("sensor_id")).to_series()
    if isinstance(window, str):
        want = _per_sensor(
            frame, lambda x, t: ref.rolling_duration(x, t, window, stat, min_periods)
        )
    else:
        want = _per_sensor(frame, lambda x, t: ref.rolling_count(x, window, stat, min_periods))
    _check(got, want, rtol=1e-7)


@given(frame=sensor_frames(max_rows=40, shuffle=False), k=st.integers(1, 4))
def test_lag_diff_pct_rates(frame: pl.DataFrame, k: int) -> None:
    def over(e: pl.Expr) -> pl.Series:
        return frame.select(e.over("sensor_id")).to_series()

    _check(over(sff.lag("value", n=k)), _per_sensor(frame, lambda x, t: ref.lag(x, k)))
    _check(over(sff.diff("value", n=k)), _per_sensor(frame, lambda x, t: ref.diff(x, k)))
    _check(over(sff.pct_change("value")), _per_sensor(frame, lambda x, t: ref.pct_change(x)))
    _check(over(sff.rate_of_change("value")), _per_sensor(frame, lambda x, t: ref.rate(x, t / 1e6)))
    _check(over(sff.acceleration("value")), _per_sensor(frame, lambda x, t: ref.accel(x, t / 1e6)))
    vol = _per_sensor(
        frame,
        lambda x, t: ref.rolling_count(
            np.array([np.nan if v is None else v for v in ref.pct_change(x)]), k + 1, "std", None
        ),
    )
    _check(over(sff.volatility("value", window=k + 1)), vol, rtol=1e-7)


@given(frame=sensor_frames(max_rows=40, shuffle=False), span=st.sampled_from([1, 2, 3.5, 12]))
def test_ewm_and_expanding(frame: pl.DataFrame, span: float) -> None:
    def over(e: pl.Expr) -> pl.Series:
        return frame.select(e.over("sensor_id")).to_series()

    _check(
        over(sff.ewm_mean("value", span=span)),
        _per_sensor(frame, lambda x, t: ref.ewm(x, span, "mean")),
    )
    _check(
        over(sff.ewm_std("value", span=span)),
        _per_sensor(frame, lambda x, t: ref.ewm(x, span, "std")),
        1e-7,
    )
    _check(
        over(sff.expanding_mean("value")), _per_sensor(frame, lambda x, t: ref.expanding(x, "mean"))
    )
    _check(
        over(sff.expanding_std("value")),
        _per_sensor(frame, lambda x, t: ref.expanding(x, "std")),
        rtol=1e-6,
    )


def test_expanding_std_is_accurate_at_a_large_level() -> None:
    x = 1e9 + np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    got = pl.DataFrame({"value": x}).select(sff.expanding_std("value")).to_series()
    np.testing.assert_allclose(
        got.to_numpy()[1:], [np.std(x[: i + 1], ddof=1) for i in range(1, 5)]
    )


def test_constant_series() -> None:
    frame = pl.DataFrame({"value": [5.0] * 6})
    out = frame.select(
        std=sff.rolling_stat("value", window=3, stat="std"),
        range=sff.rolling_stat("value", window=3, stat="range"),
        ewm=sff.ewm_std("value", span=3),
        exp=sff.expanding_std("value"),
        vol=sff.volatility("value", window=2),
    )
    assert out["std"].to_list()[2:] == [0.0] * 4
    assert out["range"].to_list()[2:] == [0.0] * 4
    assert out["exp"].to_list()[1:] == [0.0] * 5
    assert out["vol"].to_list()[2:] == [0.0] * 4
    assert out["ewm"].to_list()[1:] == pytest.approx([0.0] * 5)


def test_pct_change_near_zero_is_null() -> None:
    out = pl.DataFrame({"value": [1e-12, 1.0, -1e-11, 2.0]}).select(sff.pct_change("value"))
    assert out.to_series().to_list() == [None, None, pytest.approx(-1.0), None]


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_calendar_and_cyclical(tz: str) -> None:
    times = [datetime(2026, 3, 28, tzinfo=UTC) + timedelta(minutes=97 * i) for i in range(80)]
    frame = pl.DataFrame({"timestamp": times})
    got = frame.select(*sff.calendar_features(timezone=tz), *sff.cyclical_features(timezone=tz))
    want = ref.calendar_rows(times, tz)
    for name, values in want.items():
        if name.endswith(("_sin", "_cos")):
            np.testing.assert_allclose(got[name].to_numpy(), values, atol=1e-12, err_msg=name)
        else:
            assert got[name].to_list() == values, name


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: sff.rolling_stat("value", window=3, stat="mode"), "stat"),  # type: ignore[arg-type]
        (lambda: sff.rolling_stat("value", window=0, stat="mean"), "window"),
        (lambda: sff.rolling_stat("value", window="3 hours", stat="mean"), "window"),
        (lambda: sff.rolling_stat("value", window=3, stat="mean", min_samples=0), "min_samples"),
        (lambda: sff.lag("value", n=0), "n"),
        (lambda: sff.diff("value", n=-1), "n"),
        (lambda: sff.ewm_mean("value", span=0.5), "span"),
        (lambda: sff.ewm_std("value", span=True), "span"),
        (lambda: sff.volatility("value", window=0), "window"),
        (lambda: sff.calendar_features(timezone="Nowhere/Land"), "timezone"),
    ],
)
def test_parameter_errors(call: Any, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        call()


def test_expressions_reject_other_types() -> None:
    with pytest.raises(TypeError, match="column name or a polars expression"):
        sff.lag(3)  # type: ignore[arg-type]
