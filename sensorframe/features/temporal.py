"""
Lags, differences, rates, exponentially weighted and expanding statistics, volatility.

Each function returns a ``pl.Expr`` over the rows in the frame's order: apply
``.over("sensor_id")`` on a frame sorted by time within each sensor (on unsorted rows the
results are silently wrong), or use :func:`sensorframe.engineer_features`, which sorts
for you. Absent history is null, never zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import polars as pl

from sensorframe._deprecation import deprecate_positional, renamed_keywords
from sensorframe._utils import parse_into_expr
from sensorframe.features.config import check_count, check_span
from sensorframe.features.rolling import rolling_stat
from sensorframe.frame import TIME

if TYPE_CHECKING:
    from sensorframe._typing import IntoExpr

__all__ = [
    "PCT_CHANGE_EPS",
    "acceleration",
    "diff",
    "ewm_mean",
    "ewm_std",
    "expanding_mean",
    "expanding_std",
    "lag",
    "pct_change",
    "rate_of_change",
    "volatility",
]

PCT_CHANGE_EPS = 1e-10
"""``pct_change`` is null where the previous reading's magnitude is below this."""

_ROW_ORDER_NOTE = """Notes
    -----
    Computed over the rows in the frame's order: sort by time within each sensor first
    (on unsorted rows the result is silently wrong); :func:`sensorframe.engineer_features`
    sorts for you.

    """

_F = TypeVar("_F", bound=Callable[..., pl.Expr])


def _in_row_order(func: _F) -> _F:
    """Add the row-order note to the docstring of `func`, before its Examples."""
    if func.__doc__ is not None:  # None under python -OO
        head, examples, tail = func.__doc__.partition("Examples\n    --------")
        func.__doc__ = f"{head}{_ROW_ORDER_NOTE}{examples}{tail}"
    return func


@deprecate_positional(allowed=1, version="0.2.0")
@_in_row_order
def lag(column: IntoExpr, *, n: int = 1) -> pl.Expr:
    """
    Return the reading `n` rows back, null where there is none.

    .. versionchanged:: 0.2.0
        `n` is keyword-only; ``lag(column, 2)`` still works, with a ``DeprecationWarning``.

    Examples
    --------
    >>> df = pl.DataFrame({"t": [2, 0, 1], "value": [4.0, 1.0, 2.0]})
    >>> df.sort("t").select(sf.features.lag("value", n=1)).to_series().to_list()
    [None, 1.0, 2.0]
    """
    check_count("n", n)
    return parse_into_expr(column).shift(n)


@deprecate_positional(allowed=1, version="0.2.0")
@_in_row_order
def diff(column: IntoExpr, *, n: int = 1) -> pl.Expr:
    """
    Difference ``x_t - x_{t-n}``; null where either reading is absent.

    .. versionchanged:: 0.2.0
        `n` is keyword-only; ``diff(column, 2)`` still works, with a ``DeprecationWarning``.

    Examples
    --------
    >>> df = pl.DataFrame({"t": [2, 0, 1], "value": [4.0, 1.0, 2.0]})
    >>> df.sort("t").select(sf.features.diff("value", n=2)).to_series().to_list()
    [None, None, 3.0]
    """
    check_count("n", n)
    x = parse_into_expr(column)
    return x - x.shift(n)


@_in_row_order
def pct_change(column: IntoExpr) -> pl.Expr:
    """
    Relative change ``(x_t - x_{t-1}) / |x_{t-1}|``.

    Null where the previous reading is absent or ``|x_{t-1}| < 1e-10``, so a reading
    near zero never produces an infinite change.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [-2.0, 1.0, 0.0, 5.0]})
    >>> df.select(sf.features.pct_change("value")).to_series().to_list()
    [None, 1.5, -1.0, None]
    """
    x = parse_into_expr(column)
    prev = x.shift(1)
    return pl.when(prev.abs() >= PCT_CHANGE_EPS).then((x - prev) / prev.abs())


def _seconds_since_previous(time: pl.Expr) -> pl.Expr:
    step = (time - time.shift(1)).dt.total_microseconds().cast(pl.Float64) / 1e6
    return pl.when(step != 0).then(step)


@_in_row_order
def rate_of_change(column: IntoExpr, time: IntoExpr = TIME) -> pl.Expr:
    """
    ``diff_1`` divided by the seconds since the previous reading (per second).

    Null at the first row, where either reading is absent, and where two readings
    share a timestamp.

    Examples
    --------
    >>> from datetime import datetime
    >>> times = [datetime(2026, 1, 1, 0, 0, s) for s in (0, 2, 6)]
    >>> df = pl.DataFrame({"timestamp": times, "value": [1.0, 2.0, 4.0]})
    >>> df.select(sf.features.rate_of_change("value")).to_series().to_list()
    [None, 0.5, 0.5]
    """
    x = parse_into_expr(column)
    return (x - x.shift(1)) / _seconds_since_previous(parse_into_expr(time))


@_in_row_order
def acceleration(column: IntoExpr, time: IntoExpr = TIME) -> pl.Expr:
    """
    Change of ``rate_of_change`` divided by the seconds since the previous reading.

    Examples
    --------
    >>> from datetime import datetime
    >>> times = [datetime(2026, 1, 1, 0, 0, s) for s in (0, 2, 4)]
    >>> df = pl.DataFrame({"timestamp": times, "value": [1.0, 2.0, 4.0]})
    >>> df.select(sf.features.acceleration("value")).to_series().to_list()
    [None, None, 0.25]
    """
    roc = rate_of_change(column, time)
    return (roc - roc.shift(1)) / _seconds_since_previous(parse_into_expr(time))


@_in_row_order
def ewm_mean(column: IntoExpr, *, span: float = 12) -> pl.Expr:
    """
    Exponentially weighted mean, ``m_t = (1 - a) m_{t-1} + a x_t`` with ``a = 2 / (span + 1)``.

    As pandas ``ewm(span=span, adjust=False, ignore_na=True).mean()``: null readings
    are skipped and the mean so far carries over their rows.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, None, 3.0]})
    >>> df.select(sf.features.ewm_mean("value", span=3)).to_series().to_list()
    [1.0, 1.0, 2.0]
    """
    check_span("span", span)
    x = parse_into_expr(column)
    return x.ewm_mean(span=span, adjust=False, ignore_nulls=True).forward_fill()


@_in_row_order
def ewm_std(column: IntoExpr, *, span: float = 12) -> pl.Expr:
    """
    Exponentially weighted standard deviation (bias-corrected, adjust=False).

    As pandas ``ewm(span=span, adjust=False, ignore_na=True).std()``.
    Bias-corrected, over the non-null readings (a null reading's row carries the value
    so far); null until there are two readings.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, None, 3.0]})
    >>> df.select(sf.features.ewm_std("value", span=3)).to_series().round(4).to_list()
    [None, None, 1.4142]
    """
    check_span("span", span)
    x = parse_into_expr(column)
    return x.ewm_std(span=span, adjust=False, ignore_nulls=True, bias=False).forward_fill()


@_in_row_order
def expanding_mean(column: IntoExpr) -> pl.Expr:
    """
    Mean of all non-null readings up to and including the row; null before the first.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [None, 2.0, None, 4.0]})
    >>> df.select(sf.features.expanding_mean("value")).to_series().to_list()
    [None, 2.0, 2.0, 3.0]
    """
    x = parse_into_expr(column)
    shift = x.drop_nulls().first()
    n = x.cum_count()
    return pl.when(n > 0).then(shift + (x - shift).fill_null(0.0).cum_sum() / n)


@_in_row_order
def expanding_std(column: IntoExpr) -> pl.Expr:
    """
    Compute the std (ddof=1) of all non-null readings so far; null before two.

    Sums are taken relative to the first reading, which keeps the usual
    sum-of-squares formula accurate when the level is large compared with the spread.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, None, 3.0, 5.0]})
    >>> df.select(sf.features.expanding_std("value")).to_series().to_list()
    [None, None, 1.4142135623730951, 2.0]
    >>> df.select(sf.features.expanding_mean("value")).to_series().to_list()
    [1.0, 1.0, 2.0, 3.0]
    """
    x = parse_into_expr(column)
    d = x - x.drop_nulls().first()
    n = d.cum_count().cast(pl.Float64)
    s1 = d.fill_null(0.0).cum_sum()
    s2 = (d * d).fill_null(0.0).cum_sum()
    var = ((s2 - s1 * s1 / n) / (n - 1)).clip(lower_bound=0.0)
    return pl.when(n > 1).then(var.sqrt())


@renamed_keywords(min_periods="min_samples")
@_in_row_order
def volatility(column: IntoExpr, *, window: int, min_samples: int | None = None) -> pl.Expr:
    """
    Compute the rolling std (ddof=1) of ``pct_change`` over `window` rows.

    A window needs `min_samples` non-null changes (by default all of them).

    .. versionchanged:: 0.2.0
        `min_samples` was ``min_periods`` (as in Polars 1.21); the old keyword warns.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, 2.0, 3.0, 6.0]})
    >>> df.select(sf.features.volatility("value", window=2)).to_series().round(4).to_list()
    [None, None, 0.3536, 0.3536]
    """
    check_count("window", window)
    return rolling_stat(pct_change(column), window=window, stat="std", min_samples=min_samples)
