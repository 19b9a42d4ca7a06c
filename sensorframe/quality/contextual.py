"""
Contextual outliers: readings far from their neighbourhood, not from the whole series.

A global z-score or MAD calls a PV plant's sunniest noon an outlier and misses a drop at
noon or a spike at night. :func:`hampel_outlier` compares each reading with the median
of the readings around it, in units of their median absolute deviation (Hampel's
filter, as pvanalytics' ``quality.outliers.hampel``). It is one expression per series:
``.over("sensor_id")`` on a frame sorted by sensor and time.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from sensorframe._times import parse_duration_us
from sensorframe._typing import IntoExpr
from sensorframe._utils import parse_into_expr
from sensorframe.quality.checks import _named, _require
from sensorframe.quality.limits import MAD_SCALE, check_window, finite, threshold_expr

__all__ = ["hampel_outlier"]


def _rolling_median(
    x: pl.Expr, window: int | timedelta, *, center: bool, by: pl.Expr | None
) -> pl.Expr:
    """Median of the non-missing readings in each row's window (rows, or a duration on `by`)."""
    if isinstance(window, int):
        return x.rolling_median(window, min_samples=1, center=center)
    assert by is not None  # the public function checks it
    if not center:
        return x.rolling_median_by(by, window, min_samples=1, closed="right")
    return x.median().rolling(index_column=by, period=window, offset=-window / 2, closed="right")


def _hampel_core(deviation: pl.Expr, scale: pl.Expr, threshold: pl.Expr) -> pl.Expr:
    """
    ``deviation > threshold * 1.4826 * scale``.

    `deviation` is ``|x - rolling median|`` and `scale` the rolling median of the
    deviations (both over one sensor's window, e.g. ``.over(GID)`` in the engine). Null
    where the reading is missing.
    """
    return deviation > threshold * MAD_SCALE * scale


def hampel_outlier(
    column: IntoExpr,
    *,
    window: int | str | timedelta,
    threshold: float | pl.Expr = 3.5,
    center: bool = True,
    by: IntoExpr | None = None,
) -> pl.Expr:
    """
    Flag contextual outliers with a Hampel filter: far from the local median, in local MADs.

    With ``m_t`` the median of the readings in the window of row ``t`` and
    ``d_t = |x_t - m_t|``, the local scale is ``s_t``, the median of ``d`` over the same
    window, and a reading is an outlier when ``d_t > threshold * 1.4826 * s_t``
    (pvanalytics' ``hampel``: the MAD is the rolling median of the deviations from
    each row's own median, not from the centre row's). Missing readings (null, NaN,
    ±inf) are skipped by the medians. A window of ``window`` rows is centred as Polars
    centres it (``t - window // 2 .. t + (window - 1) // 2``) or trailing
    (``t - window + 1 .. t``); a duration window with `by` covers times in
    ``(t - window / 2, t + window / 2]`` centred, or ``(t - window, t]`` trailing.
    Windows are cut short at the series' ends. Where more than half of the window
    agrees exactly (``s_t = 0``), any other value is an outlier: a spike at night on a
    zero line.

    Parameters
    ----------
    column
        The readings in time order, as a column name or an expression.
    window
        Rows in the window (an odd integer >= 3 keeps it symmetric), or a duration
        (``"2h"``, a ``timedelta``) over `by`.
    threshold
        Multiple of the local scale (1.4826 MAD, a standard deviation for normal
        data) a deviation must exceed.
    center
        Centre the window on the reading (a trailing window looks only backwards).
    by
        The reading times (sorted), required for a duration window.

    Returns
    -------
    Expr
        Boolean; null where the reading is missing.

    Raises
    ------
    InvalidParameterError
        If `threshold` is not a positive finite number, an integer `window` is < 3, a
        duration `window` is not positive, or a duration comes without `by`.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, 1.2, 0.9, 9.0, 1.1, 1.0, None]})
    >>> df.select(sf.quality.contextual.hampel_outlier("value", window=5))["value"].to_list()
    [False, False, False, True, False, False, None]
    """
    limit = threshold_expr("threshold", threshold)
    t, span = None, window
    if isinstance(window, int) and not isinstance(window, bool):
        check_window("window", window, least=3)
    else:
        span = timedelta(microseconds=parse_duration_us(window))  # type: ignore[arg-type]
        _require(by is not None, "a duration `window` needs `by`, the time column")
        t = parse_into_expr(by)  # type: ignore[arg-type]
    x = finite(parse_into_expr(column))
    deviation = (x - _rolling_median(x, span, center=center, by=t)).abs()  # type: ignore[arg-type]
    scale = _rolling_median(deviation, span, center=center, by=t)  # type: ignore[arg-type]
    return _named(_hampel_core(deviation, scale, limit), x)
