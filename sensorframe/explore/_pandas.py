"""
The same features in pandas: the anchor ``sensorframe bench`` times each family against.

``groupby`` + ``rolling`` / ``shift`` / ``ewm`` / ``expanding``; pandas is imported only
by the caller, when it is installed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np

from sensorframe._times import parse_duration_us
from sensorframe.explore.exploration import family
from sensorframe.features.config import FeatureConfig
from sensorframe.frame import SENSOR, TIME, VALUE

__all__ = ["NO_PANDAS", "pandas_family"]

NO_PANDAS = frozenset({"spectral"})
"""Families pandas has no batched equivalent of (a trailing-window FFT per row)."""


def pandas_family(df: Any, cfg: FeatureConfig, names: list[str]) -> Callable[[], dict[str, Any]]:
    """
    Return a function computing the features `names` (one family) of `df` in pandas.

    `df` is a pandas frame sorted by (sensor, time); the function returns the columns.
    `cfg` gives the options (EWM span, time zone, `min_samples`).

    Examples
    --------
    >>> import pandas as pd
    >>> from sensorframe.explore._pandas import pandas_family
    >>> df = pd.DataFrame({"sensor_id": ["a"] * 3, "timestamp": pd.date_range("2026", periods=3,
    ...     freq="min", tz="UTC"), "value": [1.0, 2.0, 4.0]})
    >>> pandas_family(df, sf.FeatureConfig(), ["lag_1"])()["lag_1"].tolist()
    [nan, 1.0, 2.0]
    """
    g = df.groupby(SENSOR, sort=False)[VALUE]

    def seconds() -> Any:
        dt = df.groupby(SENSOR, sort=False)[TIME].diff().dt.total_seconds()
        return dt.where(dt != 0)

    def pct() -> Any:
        prev = g.shift(1)
        return ((df[VALUE] - prev) / prev.abs()).where(prev.abs() >= 1e-10)

    def rate() -> Any:
        return g.diff(1) / seconds()

    def run() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in names:
            fam = family(name)
            one = FeatureConfig.from_names([name])
            if fam.startswith("rolling_"):
                out[name] = _rolling(df, g, one.rolling_windows[0], one.rolling_stats[0], cfg)
            elif fam == "lag":
                out[name] = g.shift(one.lags[0])
            elif fam == "diff":
                out[name] = g.diff(one.diffs[0])
            elif fam == "volatility":
                w = one.volatility_windows[0]
                roll = (
                    pct()
                    .groupby(df[SENSOR], sort=False)
                    .rolling(w, min_periods=cfg.min_samples or w)
                )
                out[name] = roll.std().reset_index(level=0, drop=True)
            elif name == "pct_change":
                out[name] = pct()
            elif name == "rate_of_change":
                out[name] = rate()
            elif name == "acceleration":
                r = rate()
                out[name] = (r - r.groupby(df[SENSOR], sort=False).shift(1)) / seconds()
            elif fam in ("ewm", "expanding"):
                roll = (
                    g.ewm(span=cfg.ewm_span or 12, adjust=False, ignore_na=True)
                    if fam == "ewm"
                    else g.expanding()
                )
                stat = roll.mean() if name.endswith("mean") else roll.std()
                out[name] = stat.reset_index(level=0, drop=True)
            else:
                out[name] = _calendar(df, name, cfg.timezone)
        return out

    return run


def _rolling(df: Any, g: Any, window: int | str, stat: str, cfg: FeatureConfig) -> Any:
    if isinstance(window, int):
        w = window
        roll = g.rolling(w, min_periods=cfg.min_samples or w)
    else:
        frame = df.set_index(TIME).groupby(SENSOR, sort=False)[VALUE]
        span = timedelta(microseconds=parse_duration_us(window))
        roll = frame.rolling(span, min_periods=cfg.min_samples or 1)
    if stat == "range":
        values = roll.max().to_numpy() - roll.min().to_numpy()
    else:
        values = getattr(roll, stat)().to_numpy()
    return values


def _calendar(df: Any, name: str, timezone: str) -> Any:
    ts = df[TIME].dt.tz_convert(timezone)
    parts = {
        "hour": (ts.dt.hour, 24),
        "day_of_week": (ts.dt.day_of_week, 7),
        "month": (ts.dt.month - 1, 12),
    }
    if name == "day_of_month":
        return ts.dt.day
    if name == "is_weekend":
        return ts.dt.day_of_week >= 5
    if name in parts:
        return parts[name][0] + (1 if name == "month" else 0)
    base, fn = name.rsplit("_", 1)
    values, period = parts[base]
    angle = 2 * math.pi * values / period
    return np.sin(angle) if fn == "sin" else np.cos(angle)
