"""
Rolling-window statistics over the trailing window of each row, as expressions.

``rolling_stat(column, window=12, stat="mean")`` is the last 12 rows including the
current one; ``window="1h"`` is the readings in ``(t - 1h, t]`` by the time column, which
suits irregular sampling. Windows run over the rows in the frame's order: apply
``.over("sensor_id")`` on a frame sorted by time within each sensor (or use
:func:`sensorframe.engineer_features`, which sorts for you).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, get_args

import polars as pl

from sensorframe._deprecation import renamed_keywords
from sensorframe._utils import parse_into_expr
from sensorframe.errors import InvalidParameterError
from sensorframe.features.config import MAX_ROWS, RollingStat, check_count, parse_duration_us
from sensorframe.frame import TIME

if TYPE_CHECKING:
    from sensorframe._typing import IntoExpr

__all__ = ["rolling_stat"]


def _count_stat(x: pl.Expr, stat: RollingStat, window: int, min_samples: int) -> pl.Expr:
    if stat == "mean":
        return x.rolling_mean(window, min_samples=min_samples)
    if stat == "std":
        return x.rolling_std(window, min_samples=min_samples, ddof=1)
    if stat == "min":
        return x.rolling_min(window, min_samples=min_samples)
    if stat == "max":
        return x.rolling_max(window, min_samples=min_samples)
    if stat == "median":
        return x.rolling_median(window, min_samples=min_samples)
    return x.rolling_max(window, min_samples=min_samples) - x.rolling_min(
        window, min_samples=min_samples
    )


def _duration_stat(
    x: pl.Expr, stat: RollingStat, by: pl.Expr, window: timedelta, min_samples: int
) -> pl.Expr:
    kw = {"min_samples": min_samples, "closed": "right"}
    if stat == "mean":
        return x.rolling_mean_by(by, window, **kw)  # type: ignore[arg-type]
    if stat == "std":
        return x.rolling_std_by(by, window, ddof=1, **kw)  # type: ignore[arg-type]
    if stat == "min":
        return x.rolling_min_by(by, window, **kw)  # type: ignore[arg-type]
    if stat == "max":
        return x.rolling_max_by(by, window, **kw)  # type: ignore[arg-type]
    if stat == "median":
        return x.rolling_median_by(by, window, **kw)  # type: ignore[arg-type]
    return x.rolling_max_by(by, window, **kw) - x.rolling_min_by(by, window, **kw)  # type: ignore[arg-type]


@renamed_keywords(min_periods="min_samples")
def rolling_stat(
    column: IntoExpr,
    *,
    window: int | str | timedelta,
    stat: RollingStat,
    min_samples: int | None = None,
    by: IntoExpr = TIME,
) -> pl.Expr:
    """
    Compute a statistic of the trailing window ending at each row.

    Null readings are skipped; a window needs `min_samples` non-null readings, by
    default all of them (a count window is then null until it is full and whenever it
    holds a null). A duration window with the default `min_samples` is null until the
    history spans the whole duration (``t - first time >= window``) and needs at least
    one reading (two for ``std``).

    Parameters
    ----------
    column
        Name of, or expression for, the readings.
    window
        Row count (>= 1) or a fixed duration: a ``timedelta`` or text such as ``"30m"``,
        ``"90min"``, ``"1h30m"`` or ``"1.5h"`` (see
        :func:`~sensorframe.features.config.parse_duration_us`).
    stat : {'mean', 'std', 'min', 'max', 'median', 'range'}
        The statistic; ``std`` uses ddof=1 and ``range`` is max - min.
    min_samples
        Fewest non-null readings in the window for a result.

        .. versionchanged:: 0.2.0
            Renamed from ``min_periods`` (as in Polars 1.21); the old keyword warns.
    by
        Time column of a duration window (sorted within each group).

    Returns
    -------
    Expr
        Float expression, null where the window lacks readings.

    Raises
    ------
    InvalidParameterError
        If `stat` is unknown or `window` / `min_samples` is not valid.

    Notes
    -----
    The window runs over the rows in the frame's order, so the frame must be sorted by
    time within each sensor: on unsorted rows the result is silently wrong.
    :func:`sensorframe.engineer_features` sorts for you.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["b", "a", "a", "a"], "step": [0, 2, 0, 1], "value": [5.0, 4.0, 1.0, 2.0]}
    ... )
    >>> mean_2 = sf.features.rolling_stat("value", window=2, stat="mean")
    >>> df.sort("sensor_id", "step").with_columns(m=mean_2.over("sensor_id"))
    shape: (4, 4)
    ┌───────────┬──────┬───────┬──────┐
    │ sensor_id ┆ step ┆ value ┆ m    │
    │ ---       ┆ ---  ┆ ---   ┆ ---  │
    │ str       ┆ i64  ┆ f64   ┆ f64  │
    ╞═══════════╪══════╪═══════╪══════╡
    │ a         ┆ 0    ┆ 1.0   ┆ null │
    │ a         ┆ 1    ┆ 2.0   ┆ 1.5  │
    │ a         ┆ 2    ┆ 4.0   ┆ 3.0  │
    │ b         ┆ 0    ┆ 5.0   ┆ null │
    └───────────┴──────┴───────┴──────┘
    """
    if stat not in get_args(RollingStat):
        msg = f"`stat` must be one of {get_args(RollingStat)}, got {stat!r}"
        raise InvalidParameterError(msg)
    if min_samples is not None:
        check_count("min_samples", min_samples)
    x = parse_into_expr(column)
    if isinstance(window, str | timedelta):
        span_us = parse_duration_us(window)
        time = parse_into_expr(by)
        out = _duration_stat(x, stat, time, timedelta(microseconds=span_us), min_samples or 1)
        if min_samples is None:
            covered = (time - time.min()).dt.total_microseconds() >= span_us
            out = pl.when(covered).then(out)
        return out
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_ROWS:
        msg = f"`window` must be a row count from 1 to {MAX_ROWS:_} or a duration, got {window!r}"
        raise InvalidParameterError(msg)
    needed = window if min_samples is None else min(min_samples, window)
    return _count_stat(x, stat, window, needed)
