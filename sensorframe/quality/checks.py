"""
Quality checks as Polars expressions, one function per check.

Every function takes a column name or an expression and returns a ``pl.Expr`` over one
series in time order. Apply it per sensor with ``.over("sensor_id")`` (row checks) or
inside ``group_by("sensor_id").agg(...)`` (aggregates such as :func:`noise_level`), on a
frame sorted by ``sensor_id`` and ``timestamp``. Missing readings are null (as
:func:`sensorframe.scan` delivers them) and are skipped by the statistics.

Each check is written once, as a private *core* that takes what it depends on as
expressions (the previous reading, the sensor's centre and scale, its usual step ...):
the public function passes ``shift(1)`` and the series' own aggregates, the engine of
:func:`~sensorframe.quality.assess_quality` passes shifts masked at sensor boundaries
and per-sensor statistics broadcast to the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

import polars as pl

from sensorframe._deprecation import renamed_keywords
from sensorframe._order import steps_back_of
from sensorframe._typing import IntoExpr
from sensorframe._utils import parse_into_expr
from sensorframe.errors import InvalidParameterError

__all__ = [
    "drift_ratio",
    "duplicate_timestamp",
    "flatline",
    "flatline_run_length",
    "gap",
    "mad_outlier",
    "missing",
    "noise_level",
    "out_of_order",
    "zscore_outlier",
]

_MAD_NORMAL = 0.6745
"""Median of |Z| for a standard normal Z: MAD / 0.6745 estimates the standard deviation."""
_NOISE_PER_MAD = 1.0 / (_MAD_NORMAL * math.sqrt(2))
"""
MAD of first differences -> white-noise std, as a factor.

A factor, not a divisor: Polars divides a column of several per-sensor aggregates by
a scalar as a multiplication by its reciprocal, but one of a single sensor by true
division, so ``mad / constant`` would change in the last bit with the number of
sensors in the frame (see :mod:`sensorframe._exact`).
"""


def _require(ok: bool, msg: str) -> None:  # noqa: FBT001
    if not ok:
        raise InvalidParameterError(msg)


def _named(result: pl.Expr, source: pl.Expr) -> pl.Expr:
    """Give ``result`` the output name of ``source`` (a ``when`` chain would say 'literal')."""
    name = source.meta.output_name(raise_if_undetermined=False)
    return result if name is None else result.alias(name)


def _check_threshold(name: str, value: float, *, allow_zero: bool = False) -> None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    _require(
        is_number and math.isfinite(value) and (value > 0 or (allow_zero and value == 0)),
        f"`{name}` must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}",
    )


@renamed_keywords(value="column")
def missing(column: IntoExpr) -> pl.Expr:
    """
    Flag missing readings: null, NaN or ±inf.

    Parameters
    ----------
    column
        Name of, or expression for, the readings.

    Returns
    -------
    Expr
        True for a missing reading, false for a finite one.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, None, float("nan")]})
    >>> df.select(sf.quality.missing("value"))["value"].to_list()
    [False, True, True]
    """
    return ~_finite(parse_into_expr(column))


def _finite(x: pl.Expr) -> pl.Expr:
    """Core of :func:`missing`: true for a finite reading, false for null, NaN, ±inf."""
    return x.is_finite().fill_null(value=False)


@renamed_keywords(value="column")
def zscore_outlier(column: IntoExpr, *, threshold: float = 3.0) -> pl.Expr:
    """
    Flag readings more than ``threshold`` population standard deviations from the mean.

    ``|x - mean| / std > threshold`` with ``std`` the population (ddof=0) standard
    deviation of the non-null readings. A series with zero spread has no outliers.

    Parameters
    ----------
    column
        Name of, or expression for, the readings.
    threshold
        The z-score a reading must exceed.

    Returns
    -------
    Expr
        Boolean; null where the reading is null.

    Raises
    ------
    InvalidParameterError
        If `threshold` is not a positive finite number.

    Examples
    --------
    >>> df = pl.DataFrame({"sensor_id": ["a"] * 5, "value": [1.0, 2.0, 1.0, 2.0, 50.0]})
    >>> df.select(sf.quality.zscore_outlier("value", threshold=1.5).over("sensor_id"))[
    ...     "value"
    ... ].to_list()
    [False, False, False, False, True]
    """
    _check_threshold("threshold", threshold)
    x = parse_into_expr(column)
    return _outlier(x, _outlier_core(x, *_zscore_stats(x), threshold, mad=False))


@renamed_keywords(value="column")
def mad_outlier(column: IntoExpr, *, threshold: float = 3.5) -> pl.Expr:
    """
    Flag readings whose modified z-score exceeds ``threshold`` (Iglewicz and Hoaglin).

    The modified z-score is ``0.6745 * |x - median| / MAD`` with
    ``MAD = median(|x - median|)`` over the non-null readings. A series with a MAD of
    zero (more than half the readings tied) has no outliers.

    Parameters
    ----------
    column
        Name of, or expression for, the readings; nulls are skipped by the median.
    threshold
        Cut-off for the modified z-score (3.5 is the value Iglewicz and Hoaglin advise).

    Returns
    -------
    Expr
        True for an outlier, false otherwise, null for a null reading.

    Raises
    ------
    InvalidParameterError
        If `threshold` is zero, negative, infinite or not a number.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, 2.0, 3.0, 2.0, 40.0]})
    >>> df.select(sf.quality.mad_outlier("value"))["value"].to_list()
    [False, False, False, False, True]
    """
    _check_threshold("threshold", threshold)
    x = parse_into_expr(column)
    return _outlier(x, _outlier_core(x, *_mad_stats(x), threshold, mad=True))


def _zscore_stats(x: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Centre and scale of the ``"zscore"`` method: mean and population std."""
    return x.mean(), x.std(ddof=0)


def _mad_stats(x: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Centre and scale of the ``"mad"`` method: median and ``median(|x - median|)``."""
    return x.median(), (x - x.median()).abs().median()


def _outlier_core(
    x: pl.Expr, center: pl.Expr, scale: pl.Expr, threshold: float | pl.Expr, *, mad: bool
) -> pl.Expr:
    """
    Core of the global outlier checks: ``k * |x - center| / scale > threshold``.

    ``k`` is 0.6745 for the modified z-score (`mad`), else 1. False where the scale
    is not positive (a constant sensor has no outliers), null for a null reading.
    `center`, `scale` and `threshold` may be aggregates or per-row columns.
    """
    deviation = (x - center).abs()
    if mad:
        deviation = _MAD_NORMAL * deviation
    return pl.when(scale > 0).then(deviation / scale > threshold).otherwise(pl.lit(value=False))


def _outlier(x: pl.Expr, flags: pl.Expr) -> pl.Expr:
    """Give an outlier flag its public form: null for null readings, named after `x`."""
    return _named(pl.when(x.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(flags), x)


def _flat_ok(
    x: pl.Expr,
    *,
    tolerance: float,
    ignore: Sequence[float | pl.Expr],
    finite: pl.Expr | None = None,
) -> pl.Expr:
    """
    Select readings that may be flat: finite and not within tolerance of an ignored value.

    An ignored value may be a per-row column (``inf`` where a sensor has no value in
    that slot: no finite reading is within tolerance of it).
    """
    ok = _finite(x) if finite is None else finite
    for v in ignore:
        ok = ok & ((x - v).abs() >= tolerance).fill_null(value=False)
    return ok


def _flat_links(
    x: pl.Expr, prev: pl.Expr, ok: pl.Expr, prev_ok: pl.Expr, *, tolerance: float
) -> pl.Expr:
    """
    Core of the flat-line check: the reading continues a flat stretch from `prev`.

    Both readings may be flat (`ok`, `prev_ok`: :func:`_flat_ok`) and differ by less
    than `tolerance`; a null `prev` (no reading before, or another sensor's) links
    nothing.
    """
    close = ((x - prev).abs() < tolerance).fill_null(value=False)
    return ok & prev_ok.fill_null(value=False) & close


def _chain_bounds(linked: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """
    Row index of the first and of the last row of the chain of `linked` rows.

    A chain is a row that is not linked followed by the linked rows after it; these
    positions are in the rows given (any subset of rows that keeps every chain whole).
    """
    idx = pl.int_range(pl.len(), dtype=pl.Int64)
    start = pl.when(~linked).then(idx).forward_fill()
    end = pl.when(~linked.shift(-1).fill_null(value=False)).then(idx).backward_fill()
    return start, end


def _run_length(linked: pl.Expr, ok: pl.Expr) -> pl.Expr:
    """Length of the chain of ``linked`` rows each row is in; 0 where not ``ok``."""
    start, end = _chain_bounds(linked)
    return pl.when(ok).then(end - start + 1).otherwise(0)


def _check_flat_args(tolerance: float, min_length: int, ignore: Sequence[float]) -> None:
    _check_threshold("tolerance", tolerance)
    _require(
        isinstance(min_length, int) and not isinstance(min_length, bool) and min_length >= 2,
        f"`min_length` must be an integer >= 2, got {min_length!r}",
    )
    _require(
        isinstance(ignore, Sequence) and not isinstance(ignore, str),
        f"`ignore` must be a sequence of numbers, got {ignore!r}",
    )
    bad = [v for v in ignore if not isinstance(v, int | float) or not math.isfinite(v)]
    _require(not bad, f"`ignore` must hold finite numbers, got {bad!r}")


@renamed_keywords(value="column")
def flatline_run_length(
    column: IntoExpr, *, tolerance: float = 1e-6, ignore: Sequence[float] = ()
) -> pl.Expr:
    """
    Length of the flat stretch each reading belongs to (1 for a reading on its own).

    A flat stretch is a maximal run of consecutive readings in which each differs from
    the one before by less than ``tolerance``. A missing reading, or one within
    ``tolerance`` of a value in ``ignore``, ends a stretch and has length 0.

    Parameters
    ----------
    column
        Name of, or expression for, the readings, in time order.
    tolerance
        Largest absolute difference (exclusive) that still counts as flat.
    ignore
        Values that never count as flat (a sensor resting at zero: ``(0.0,)``).

    Returns
    -------
    Expr
        Int64, never null.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, 1.0, 1.0, None, 2.0]})
    >>> df.select(sf.quality.flatline_run_length("value"))["value"].to_list()
    [3, 3, 3, 0, 1]
    """
    _check_flat_args(tolerance, 2, ignore)
    x = parse_into_expr(column)
    ok = _flat_ok(x, tolerance=tolerance, ignore=ignore)
    linked = _flat_links(x, x.shift(1), ok, ok.shift(1), tolerance=tolerance)
    return _named(_run_length(linked, ok), x)


@renamed_keywords(value="column")
def flatline(
    column: IntoExpr,
    *,
    tolerance: float = 1e-6,
    min_length: int = 5,
    ignore: Sequence[float] = (),
) -> pl.Expr:
    """
    Flag readings in a flat-line: at least ``min_length`` consecutive nearly equal values.

    Consecutive readings are linked when ``|x[i] - x[i-1]| < tolerance``; a flat-line
    is a chain of at least ``min_length`` linked readings (see
    :func:`flatline_run_length`). A missing reading breaks a chain: it is counted as
    missing, not as flat. Readings within ``tolerance`` of a value in ``ignore`` never
    count (a pump that rests at zero is not stuck).

    Parameters
    ----------
    column
        The readings in time order, as a column name or an expression.
    tolerance
        Steps smaller than this (in absolute value) link two readings.
    min_length
        Fewest readings (>= 2) in a flat-line.
    ignore
        Values that never count as flat.

    Returns
    -------
    Expr
        Boolean, never null.

    Raises
    ------
    InvalidParameterError
        If `tolerance` is not positive, `min_length` < 2 or `ignore` holds a non-number.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [2.0, 2.0, 2.0, 0.0, 0.0]})
    >>> df.select(sf.quality.flatline("value", min_length=3, ignore=[0.0]))[
    ...     "value"
    ... ].to_list()
    [True, True, True, False, False]
    """
    _check_flat_args(tolerance, min_length, ignore)
    length = flatline_run_length(column, tolerance=tolerance, ignore=ignore)
    return length >= min_length


@renamed_keywords(timestamp="time")
def gap(time: IntoExpr, *, factor: float = 3.0, expected: timedelta | None = None) -> pl.Expr:
    """
    Flag readings that follow a gap: a step longer than ``factor`` x the usual step.

    The usual step is ``expected`` if given, else the median of the positive steps
    between consecutive timestamps (zero steps from duplicates are left out). The
    timestamps must be sorted.

    Parameters
    ----------
    time
        Name of, or expression for, the reading times, sorted.
    factor
        How many usual steps make a gap.
    expected
        The sampling interval, overriding the median step.

    Returns
    -------
    Expr
        Boolean, never null; true on the first reading after each gap.

    Raises
    ------
    InvalidParameterError
        If `factor` or `expected` is not positive.

    Examples
    --------
    >>> from datetime import datetime
    >>> times = [datetime(2026, 1, 1, 0, m) for m in (0, 1, 2, 10, 11)]
    >>> pl.DataFrame({"t": times}).select(sf.quality.gap("t"))["t"].to_list()
    [False, False, False, True, False]
    """
    _check_threshold("factor", factor)
    if expected is not None:
        _require(
            isinstance(expected, timedelta) and expected > timedelta(0),
            f"`expected` must be a positive timedelta, got {expected!r}",
        )
    step = parse_into_expr(time).diff().dt.total_microseconds()
    usual = pl.lit(expected / timedelta(microseconds=1)) if expected is not None else _usual(step)
    return _gap_core(step, usual, factor)


def _usual(step: pl.Expr) -> pl.Expr:
    """Return the usual step when none is expected: the median of the positive steps."""
    return step.filter(step > 0).median()


def _gap_core(step: pl.Expr, usual: pl.Expr, factor: float) -> pl.Expr:
    """Core of :func:`gap`: ``step > factor * usual`` (microseconds), never null."""
    return (step > factor * usual).fill_null(value=False)


@renamed_keywords(timestamp="time")
def duplicate_timestamp(time: IntoExpr) -> pl.Expr:
    """
    Flag repeated timestamps: every reading whose time was already seen (not the first).

    Parameters
    ----------
    time
        Name of, or expression for, the reading times (any order).

    Returns
    -------
    Expr
        True for each repeat of an earlier time, false for its first occurrence.

    Examples
    --------
    >>> df = pl.DataFrame({"t": [1, 2, 2, 3, 2]})
    >>> df.select(sf.quality.duplicate_timestamp("t"))["t"].to_list()
    [False, False, True, False, True]
    """
    return ~parse_into_expr(time).is_first_distinct()


@renamed_keywords(timestamp="time")
def out_of_order(time: IntoExpr) -> pl.Expr:
    """
    Flag readings whose time is earlier than the reading before them, in input order.

    Apply it before sorting: it describes the order the data arrived in.

    Parameters
    ----------
    time
        The reading times as they arrived (a column name or an expression).

    Returns
    -------
    Expr
        True where time steps back, false elsewhere (the first row included).

    Examples
    --------
    >>> df = pl.DataFrame({"t": [1, 3, 2, 4, 0]})
    >>> df.with_columns(back=sf.quality.out_of_order("t")).get_column("back").to_list()
    [False, False, True, False, True]
    """
    return steps_back_of(parse_into_expr(time))


@renamed_keywords(value="column")
def noise_level(column: IntoExpr) -> pl.Expr:
    """
    Robust white-noise level: MAD of the first differences / (0.6745 * sqrt(2)).

    For a smooth signal plus white noise of standard deviation sigma, the first
    differences are dominated by noise with standard deviation ``sigma * sqrt(2)``, and
    ``MAD / 0.6745`` estimates a standard deviation robustly. Missing readings are
    dropped first. Null with fewer than two readings.

    Parameters
    ----------
    column
        Name of, or expression for, the readings, in time order.

    Returns
    -------
    Expr
        Float64 aggregate (one value per group).

    Examples
    --------
    >>> df = pl.DataFrame({"sensor_id": ["a"] * 5, "value": [0.0, 1.0, 0.0, 1.0, 0.0]})
    >>> df.group_by("sensor_id").agg(sf.quality.noise_level("value").round(4))
    shape: (1, 2)
    ┌───────────┬────────┐
    │ sensor_id ┆ value  │
    │ ---       ┆ ---    │
    │ str       ┆ f64    │
    ╞═══════════╪════════╡
    │ a         ┆ 1.0483 │
    └───────────┴────────┘
    """
    d = parse_into_expr(column).drop_nulls().diff().drop_nulls()
    return (d - d.median()).abs().median() * _NOISE_PER_MAD


@renamed_keywords(value="column")
def drift_ratio(column: IntoExpr) -> pl.Expr:
    """
    Within-series drift: |mean(second half) - mean(first half)| / std(first half).

    The non-null readings, in time order, are cut into a first half of ``n // 2`` and
    a second half of the rest; ``std`` is the population standard deviation of the
    first half, used as the reference. (The whole-series std would include the shift
    itself and cap the ratio of a mid-series step at 2.) Null when the first half has
    fewer than two readings; infinite when a first half of zero spread is followed by
    a different mean, 0 when nothing changes.

    Parameters
    ----------
    column
        The readings (a column name or an expression), oldest first.

    Returns
    -------
    Expr
        One Float64 per group: use it in ``select`` or ``group_by().agg``.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [1.0, 2.0, 1.0, 2.0, 9.0, 9.0]})
    >>> df.select(sf.quality.drift_ratio("value"))["value"].round(3).to_list()
    [11.314]
    """
    v = parse_into_expr(column).drop_nulls()
    half = v.len() // 2
    first, second = v.slice(0, half), v.slice(half)
    return _named(_drift(first.mean(), second.mean(), first.std(ddof=0), half), v)


def _drift(
    first_mean: pl.Expr, second_mean: pl.Expr, first_std: pl.Expr, n_first: pl.Expr
) -> pl.Expr:
    """Drift ratio from the halves' means, the first half's std (ddof=0) and its size."""
    shift = (second_mean - first_mean).abs()
    std = first_std
    return (
        pl.when(n_first < 2)
        .then(pl.lit(None, dtype=pl.Float64))
        .when(std > 0)
        .then(shift / std)
        .when(shift > 0)
        .then(pl.lit(math.inf))
        .otherwise(pl.lit(0.0))
    )
