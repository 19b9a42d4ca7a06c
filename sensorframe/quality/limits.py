"""
Limit checks after QARTOD: gross range, spike and rate of change.

Each public function takes the readings (a column name or an expression) and returns
a ``pl.Expr`` over one series in time order: use ``.over("sensor_id")`` on a frame
sorted by sensor and time. Every threshold is a number or a ``pl.Expr``; an expression
is how a per-sensor setting arrives (a column broadcast over the sensor's rows), and a
null in it means "no setting" for that row. Numbers are checked when the expression
is built; expressions are taken as they are.

The arithmetic lives in private cores (``_gross_range_core``, ``_spike_jumps``,
``_rate_core``) that take the neighbour readings as expressions, so the whole-column
engine can pass shifts masked at sensor boundaries and share one definition.
NaN and infinite readings count as missing everywhere.
"""

from __future__ import annotations

import math

import polars as pl

from sensorframe._typing import IntoExpr
from sensorframe._utils import parse_into_expr
from sensorframe.errors import InvalidParameterError
from sensorframe.quality.checks import _check_threshold, _named, _require

__all__ = ["gross_range", "rate_of_change", "spike"]

MAD_SCALE = 1.4826
"""1 / Phi^-1(3/4): ``MAD_SCALE * MAD`` estimates the standard deviation of normal data."""

PASS, NOT_EVALUATED, SUSPECT, FAIL, MISSING = 1, 2, 3, 4, 9
"""The QARTOD flag codes (as ioos_qc's ``QartodFlags``)."""


def finite(x: pl.Expr) -> pl.Expr:
    """Turn NaN and ±inf readings into nulls, so the kernels skip them."""
    return pl.when(x.is_finite()).then(x)


def threshold_expr(name: str, value: float | pl.Expr | None, *, optional: bool = False) -> pl.Expr:
    """
    Make a threshold an expression: check a number (positive, finite), keep an expression.

    ``None`` (when `optional`) becomes a null literal: "not set".
    """
    if isinstance(value, pl.Expr):
        return value
    if value is None and optional:
        return pl.lit(None, dtype=pl.Float64)
    _check_threshold(name, value)  # type: ignore[arg-type]
    return pl.lit(float(value), dtype=pl.Float64)  # type: ignore[arg-type]


def check_window(name: str, window: int, *, least: int = 1) -> None:
    """Refuse a row window that is not an integer >= `least`."""
    _require(
        isinstance(window, int) and not isinstance(window, bool) and window >= least,
        f"`{name}` must be an integer >= {least}, got {window!r}",
    )


def _bound(name: str, value: float | pl.Expr | None) -> pl.Expr:
    if value is None:
        return pl.lit(None, dtype=pl.Float64)
    if isinstance(value, pl.Expr):
        return value.cast(pl.Float64)
    _require(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
        f"`{name}` must be a finite number, a polars expression or None, got {value!r}",
    )
    return pl.lit(float(value), dtype=pl.Float64)


def _check_nested(bounds: dict[str, float | pl.Expr | None]) -> None:
    """Check min <= max and the suspect range inside the fail range, for numbers."""
    num = {k: v for k, v in bounds.items() if isinstance(v, int | float)}
    for lo, hi in (("fail_min", "fail_max"), ("suspect_min", "suspect_max")):
        if lo in num and hi in num and num[lo] > num[hi]:
            msg = f"`{lo}` must be <= `{hi}`, got {lo}={num[lo]!r}, {hi}={num[hi]!r}"
            raise InvalidParameterError(msg)
    for s, f, sign in (("suspect_min", "fail_min", 1), ("suspect_max", "fail_max", -1)):
        if s in num and f in num and sign * (num[s] - num[f]) < 0:
            msg = (
                f"the suspect range must lie inside the fail range, got {s}={num[s]!r}, "
                f"{f}={num[f]!r}"
            )
            raise InvalidParameterError(msg)


def _gross_range_core(
    x: pl.Expr,
    fail_min: pl.Expr,
    fail_max: pl.Expr,
    suspect_min: pl.Expr,
    suspect_max: pl.Expr,
) -> pl.Expr:
    """
    QARTOD gross-range code (Int8) of each reading; a null bound is "not set".

    Row by row, needs no neighbours: the engine passes per-sensor bounds as columns.
    """
    any_bound = pl.any_horizontal(
        fail_min.is_not_null(),
        fail_max.is_not_null(),
        suspect_min.is_not_null(),
        suspect_max.is_not_null(),
    )

    def outside(lo: pl.Expr, hi: pl.Expr) -> pl.Expr:
        return ((x < lo).fill_null(value=False)) | ((x > hi).fill_null(value=False))

    return (
        pl.when(~x.is_finite().fill_null(value=False))
        .then(pl.lit(MISSING, dtype=pl.Int8))
        .when(outside(fail_min, fail_max))
        .then(pl.lit(FAIL, dtype=pl.Int8))
        .when(outside(suspect_min, suspect_max))
        .then(pl.lit(SUSPECT, dtype=pl.Int8))
        .when(any_bound)
        .then(pl.lit(PASS, dtype=pl.Int8))
        .otherwise(pl.lit(NOT_EVALUATED, dtype=pl.Int8))
    )


def gross_range(
    column: IntoExpr,
    *,
    fail_min: float | pl.Expr | None = None,
    fail_max: float | pl.Expr | None = None,
    suspect_min: float | pl.Expr | None = None,
    suspect_max: float | pl.Expr | None = None,
) -> pl.Expr:
    """
    QARTOD gross-range test: a flag code per reading from fail and suspect ranges.

    For a finite reading ``x``: 4 (fail) if ``x < fail_min`` or ``x > fail_max``, else
    3 (suspect) if ``x < suspect_min`` or ``x > suspect_max``, else 1 (pass); the bounds
    themselves pass. A null, NaN or infinite reading is 9 (missing). A reading with no
    bound set at all is 2 (not evaluated). A bound left out (or null in a per-sensor
    expression) is not checked. With both fail bounds set this is ioos_qc's
    ``qartod.gross_range_test(inp, fail_span=(fail_min, fail_max),
    suspect_span=(suspect_min, suspect_max))``.

    Parameters
    ----------
    column
        Name of, or expression for, the readings.
    fail_min, fail_max
        The sensor's valid (physical) range: readings outside it fail.
    suspect_min, suspect_max
        The plausible range, inside the fail range: readings outside it are suspect.

    Returns
    -------
    Expr
        Int8 code per reading, never null.

    Raises
    ------
    InvalidParameterError
        If a number bound is not finite, a minimum exceeds its maximum, or the suspect
        range sticks out of the fail range.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, 4.5, 8.0, None, -3.0]})
    >>> code = sf.quality.limits.gross_range(
    ...     "value", fail_min=0, fail_max=5, suspect_min=1, suspect_max=4
    ... )
    >>> df.select(code)["value"].to_list()
    [1, 3, 4, 9, 4]
    """
    bounds = {
        "fail_min": fail_min,
        "fail_max": fail_max,
        "suspect_min": suspect_min,
        "suspect_max": suspect_max,
    }
    exprs = {k: _bound(k, v) for k, v in bounds.items()}
    _check_nested(bounds)
    x = parse_into_expr(column)
    return _named(_gross_range_core(x, **exprs), x)


def _spike_reference(x: pl.Expr, prev: pl.Expr, nxt: pl.Expr) -> pl.Expr:
    """QARTOD's ``r_t = |x_t - (x_{t-1} + x_{t+1}) / 2|`` (null if any of the three is)."""
    return (x - (prev + nxt) / 2).abs()


def _spike_jumps(x: pl.Expr, prev: pl.Expr, nxt: pl.Expr, limit: pl.Expr) -> pl.Expr:
    """
    ``min(|x - prev|, |x - nxt|) > limit`` with ``x`` above or below both neighbours.

    `prev` and `nxt` are the neighbouring readings (null at a sensor's ends, or where
    missing: the engine passes shifts masked at sensor boundaries). Null where the
    reading, a neighbour or `limit` is null.
    """
    up, down = x - prev, x - nxt
    known = up.is_not_null() & down.is_not_null() & limit.is_not_null()
    return pl.when(known).then((up * down > 0) & (pl.min_horizontal(up.abs(), down.abs()) > limit))


def _spike_scale(x: pl.Expr, prev: pl.Expr, nxt: pl.Expr) -> pl.Expr:
    """``u_t = max(r_t, |x_t - x_{t-1}|)``, whose rolling median is the spike's noise scale."""
    return pl.max_horizontal(_spike_reference(x, prev, nxt), (x - prev).abs())


def _local_noise(u: pl.Expr, window: int, *, floor: pl.Expr | None = None) -> pl.Expr:
    """
    ``max(1.4826 * median(u), floor)`` over `window` centred rows (one sensor's rows).

    `floor` is :func:`default_floor` of the sensor's readings (a broadcast aggregate, as
    :func:`spike` passes it) or a per-sensor setting; None is no floor, which is not
    what :func:`spike` computes (the engine should pass the floor).
    """
    noise = MAD_SCALE * u.rolling_median(window, min_samples=1, center=True)
    return noise if floor is None else pl.max_horizontal(noise, floor)


FLOOR_FRACTION = 0.02
"""The default floor of a local noise scale, as a fraction of the sensor's interquartile range."""


def default_floor(x: pl.Expr) -> pl.Expr:
    """
    Aggregate: ``0.02 * (q75 - q25)`` of the readings, the default floor of a noise scale.

    Without a floor a local scale is 0 wherever the readings sit still, and a 0.5 W
    flicker of an inverter's night standby on a 5 kW plant is an "outlier"; 1% of the
    sensor's range keeps those out and still lets a spike at night on a zero line in.
    The quartiles, not the 1st and 99th percentiles, measure that range: a few percent
    of gross errors (readings of 1e4 on a 0-100 sensor) would otherwise raise the floor
    above the spikes (on ``datasets.synthetic(faults=FAULTS)`` the 1-99% floor missed
    a sixth of the spikes).
    """
    return FLOOR_FRACTION * (x.quantile(0.75, "linear") - x.quantile(0.25, "linear"))


def floor_expr(x: pl.Expr, min_scale: float | pl.Expr | None) -> pl.Expr:
    """Give the floor of a noise scale: `min_scale` (checked, >= 0) or :func:`default_floor`."""
    if min_scale is None:
        return default_floor(x)
    if isinstance(min_scale, pl.Expr):
        return min_scale
    _check_threshold("min_scale", min_scale, allow_zero=True)
    return pl.lit(float(min_scale), dtype=pl.Float64)


def spike(
    column: IntoExpr,
    *,
    threshold: float | pl.Expr | None = None,
    noise_factor: float | pl.Expr = 4.0,
    window: int = 25,
    min_scale: float | pl.Expr | None = None,
) -> pl.Expr:
    """
    Flag spikes: a reading that jumps away from both neighbours and back.

    A spike is a reading above (or below) both neighbours by more than the limit:
    ``(x_t - x_{t-1}) * (x_t - x_{t+1}) > 0`` and ``min(|x_t - x_{t-1}|, |x_t - x_{t+1}|)
    > limit``, QARTOD's spike test with ioos_qc's ``method="differential"``. The limit
    is `threshold` (absolute, in the sensor's unit, as QARTOD's suspect threshold) or,
    without it, a multiple of the local noise: ``noise_factor * 1.4826 * median(u)``
    over the `window` rows centred on ``t`` (Polars' centring: ``t - window // 2 .. t +
    (window - 1) // 2``; missing ``u`` skipped), where ``u_t = max(r_t, |x_t -
    x_{t-1}|)`` and ``r_t = |x_t - (x_{t-1} + x_{t+1}) / 2|`` is QARTOD's
    ``"average"`` statistic. ``r`` alone is 0 along a straight line, so every kink of
    gap-filled data would be a spike; the step ``|x_t - x_{t-1}|`` keeps the scale at
    the line's slope there. The scale is at least `min_scale`, by default 2% of the
    series' interquartile range (``0.02 * (q75 - q25)``, linear interpolation,
    :func:`default_floor`): on a stretch that sits still the median is 0, and a
    flicker of a few thousandths of the range is not a spike, while a spike at night
    on a zero line is.

    **Choice**: QARTOD's ``"average"`` test (``r_t > threshold``) also flags both
    neighbours of a large spike (their ``r`` is half the spike's) and both sides of a
    step; on pvanalytics' labelled inverter file a step (an inverter trip) and the
    first reading of a sunrise were its false alarms. Asking for a jump on both sides
    keeps only the reading that sticks out; a spike two readings wide is not a spike
    here (:func:`sensorframe.quality.hampel_outlier` finds those).

    Parameters
    ----------
    column
        The readings in time order, as a column name or an expression.
    threshold
        Absolute limit for ``r_t``; if None, the noise-relative limit applies.
    noise_factor
        Multiple of the local noise scale a spike must exceed (without `threshold`).
    window
        Rows in the centred window of the local noise scale (>= 3).
    min_scale
        Smallest local noise scale, in the sensor's unit (>= 0; 0 for none); None for
        2% of the series' interquartile range.

    Returns
    -------
    Expr
        Boolean; null for the first and last readings, a missing reading and one whose
        neighbour is missing (QARTOD's "not evaluated").

    Raises
    ------
    InvalidParameterError
        If `threshold` or `noise_factor` is not a positive finite number, `window` < 3 or
        `min_scale` is negative.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, 1.1, 9.0, 1.0, 1.2]})
    >>> df.select(sf.quality.limits.spike("value", threshold=2.0))["value"].to_list()
    [None, False, True, False, None]
    """
    check_window("window", window, least=3)
    x = finite(parse_into_expr(column))
    prev, nxt = x.shift(1), x.shift(-1)
    if threshold is not None:
        limit = threshold_expr("threshold", threshold)
    else:
        u = _spike_scale(x, prev, nxt)
        noise = _local_noise(u, window, floor=floor_expr(x, min_scale))
        limit = threshold_expr("noise_factor", noise_factor) * noise
    return _named(_spike_jumps(x, prev, nxt, limit), x)


def _rate_core(x: pl.Expr, prev: pl.Expr, seconds: pl.Expr | None, threshold: pl.Expr) -> pl.Expr:
    """
    ``|x - prev| (/ seconds) > threshold``: `seconds` is the time step, or None for per-row.

    Null where the reading or the one before it is missing.
    """
    change = (x - prev).abs()
    return (change if seconds is None else change / seconds) > threshold


def rate_of_change(
    column: IntoExpr, *, threshold: float | pl.Expr, by: IntoExpr | None = None
) -> pl.Expr:
    """
    Flag readings that change faster than `threshold` from the reading before.

    Per row ``|x_t - x_{t-1}| > threshold``; with `by` (the time column) the rate is
    per second, ``|x_t - x_{t-1}| / (t_t - t_{t-1})[s] > threshold``, as ioos_qc's
    ``rate_of_change_test`` (its SUSPECT flag).

    Parameters
    ----------
    column
        The readings in time order.
    threshold
        Largest allowed change per row, or per second with `by`.
    by
        The reading times (a Datetime column, sorted), for a rate per second; a
        zero step (duplicate time) gives null.

    Returns
    -------
    Expr
        Boolean; null on the first reading and where it or the one before is missing.

    Raises
    ------
    InvalidParameterError
        If `threshold` is not a positive finite number.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, 2.0, 20.0, 21.0]})
    >>> df.select(sf.quality.limits.rate_of_change("value", threshold=5.0))["value"].to_list()
    [None, False, True, False]
    """
    limit = threshold_expr("threshold", threshold)
    x = finite(parse_into_expr(column))
    seconds = None
    if by is not None:
        us = parse_into_expr(by).diff().dt.total_microseconds()
        seconds = pl.when(us > 0).then(us / 1e6)
    return _named(_rate_core(x, x.shift(1), seconds, limit), x)
