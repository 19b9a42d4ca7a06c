"""
Checks on the shape of a series: gap-filled straight lines, level shifts, trends.

* :func:`interpolated` flags readings on straight lines that a gap-filler drew
  (runs with a constant, non-zero step).
* :func:`level_shift` flags the reading where the level jumps, and not a smooth trend.
* :func:`trend` is the aggregate that reports a trend for what it is: a slope per day
  with a p-value, for ``group_by("sensor_id").agg``.

Row checks are expressions over one series in time order (``.over("sensor_id")`` on a
frame sorted by sensor and time); NaN and infinite readings count as missing.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special

from sensorframe._exact import segment_sums as _segment_sums
from sensorframe._typing import IntoExpr
from sensorframe._utils import parse_into_expr
from sensorframe.quality.checks import _check_threshold, _named, _run_length
from sensorframe.quality.limits import MAD_SCALE, check_window, finite, threshold_expr

__all__ = ["interpolated", "level_shift", "trend"]

_US_PER_DAY = 86_400_000_000
_RELATIVE_EPS = 1e-9
"""A level shift must exceed this fraction of the series' largest |reading| (rounding)."""


def _line_links(x: pl.Expr, prev: pl.Expr, prev2: pl.Expr, tolerance: float) -> pl.Expr:
    """
    Whether ``x`` continues the straight line through ``prev2`` and ``prev``.

    ``d = x - prev`` and ``d' = prev - prev2`` are non-zero and
    ``|d - d'| <= tolerance * max(|d|, |d'|)``; false where any reading is missing.
    `prev` / `prev2` are the readings one and two rows before (null across a sensor
    boundary: the engine passes masked shifts).
    """
    d, d_prev = x - prev, prev - prev2
    step = pl.max_horizontal(d.abs(), d_prev.abs())
    return ((d != 0) & (d_prev != 0) & ((d - d_prev).abs() <= tolerance * step)).fill_null(
        value=False
    )


def _interpolated_core(links: pl.Expr, min_length: int) -> pl.Expr:
    """
    Flag the inner readings of lines with at least `min_length` of them, from the links.

    A run of ``m`` consecutive links (rows ``a + 2 .. b``) is a line through readings
    ``a .. b``; its inner readings ``a + 1 .. b - 1`` (``m`` of them) are the ones a
    gap-filler wrote. Row ``i`` is inner exactly when row ``i + 1`` is a link. Works on
    a whole column when the links are false at each sensor's first two rows.
    """
    chain = _run_length(links, pl.lit(value=True))  # m + 1 on the links of a run of m
    nxt = links.shift(-1).fill_null(value=False)
    return nxt & (chain.shift(-1) > min_length).fill_null(value=False)


def interpolated(column: IntoExpr, *, min_length: int = 3, tolerance: float = 1e-6) -> pl.Expr:
    """
    Flag readings on straight lines a gap-filler drew: a constant, non-zero step.

    Reading ``t`` continues a line when the steps ``d_t = x_t - x_{t-1}`` and
    ``d_{t-1}`` are both non-zero and ``|d_t - d_{t-1}| <= tolerance * max(|d_t|,
    |d_{t-1}|)`` (the second difference is ~0 relative to the step, so the check needs
    no scale). A run of ``m`` such readings ``a + 2 .. b`` is a line through ``a .. b``;
    when ``m >= min_length`` its ``m`` inner readings ``a + 1 .. b - 1`` are flagged
    and the two end points, real readings the line was drawn between, are not (as
    pvanalytics' labelled ``*_interpolated_data.csv`` marks them). A flat stretch
    (zero step) is a flat-line, not an interpolation. A missing reading breaks a
    line. Rows are assumed evenly spaced in time.

    Parameters
    ----------
    column
        The readings in time order, as a column name or an expression.
    min_length
        Fewest inner readings (>= 1) of a line that is flagged.
    tolerance
        Relative tolerance for equal steps (rounding of stored values).

    Returns
    -------
    Expr
        Boolean, never null.

    Raises
    ------
    InvalidParameterError
        If `min_length` < 1 or `tolerance` is not a positive finite number.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 2.0]})
    >>> df.select(sf.quality.shape.interpolated("value", min_length=2))["value"].to_list()
    [False, False, True, True, True, False, False]
    """
    check_window("min_length", min_length)
    _check_threshold("tolerance", tolerance)
    x = finite(parse_into_expr(column))
    links = _line_links(x, x.shift(1), x.shift(2), tolerance)
    return _named(_interpolated_core(links, min_length), x)


def _inside(window: int, partition_by: IntoExpr | None) -> pl.Expr:
    """
    Rows ``t`` whose four blocks ``[t - 2w, t + 2w)`` all lie in the series (its sensor's rows).

    Whole column when `partition_by` (the sensor column, frame sorted by it and time) is
    given, else one series.
    """
    row, rows = pl.int_range(pl.len()), pl.len()
    if partition_by is not None:
        row, rows = row.over(partition_by), rows.over(partition_by)
    return (row >= 2 * window) & (row + 2 * window <= rows)


def _block_mean(x: pl.Expr, window: int, partition_by: IntoExpr | None = None) -> pl.Expr:
    """
    Average the non-missing readings of rows ``t - w + 1 .. t`` (``ceil(w / 2)`` needed).

    Per `partition_by` group when given: Polars' rolling sums are incremental, so over
    the whole column a sensor's means would depend in the last bits on the rows before it.
    """
    mean = x.rolling_mean(window, min_samples=(window + 1) // 2)
    return mean if partition_by is None else mean.over(partition_by)


def _blocks(block: pl.Expr, window: int) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """
    ``M0 .. M3``: the means of the four blocks of `window` rows around ``t``.

    `block` is :func:`_block_mean` (an expression or a column of it). The blocks are
    ``[t - 2w, t - w)``, ``[t - w, t)``, ``[t, t + w)``, ``[t + w, t + 2w)`` over the
    non-missing readings; null if a block has fewer than ``ceil(w / 2)`` readings.
    Whole column: mask the rows whose blocks leave the series with :func:`_inside`.
    """
    w = window
    return block.shift(w + 1), block.shift(1), block.shift(-(w - 1)), block.shift(-(2 * w - 1))


Blocks = tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]


def _step_core(blocks: Blocks, inside: pl.Expr) -> pl.Expr:
    """``S_t = 1.5 (M2 - M1) - 0.5 (M3 - M0)`` from the blocks, null where not `inside`."""
    m0, m1, m2, m3 = blocks
    return pl.when(inside).then(1.5 * (m2 - m1) - 0.5 * (m3 - m0))


def _step_statistic(x: pl.Expr, window: int, inside: pl.Expr | None = None) -> pl.Expr:
    """
    ``S_t`` over the block means (:func:`_blocks`), null where a block leaves the series.

    `inside` is :func:`_inside` (one series if not given, or per series with ``.over``).
    """
    inside = _inside(window, None) if inside is None else inside
    return _step_core(_blocks(_block_mean(x, window), window), inside)


def _step_scale(s: pl.Expr, x: pl.Expr, partition_by: IntoExpr | None = None) -> pl.Expr:
    """
    Measure the typical size of ``S`` in each series: ``1.4826 * MAD(S)`` on its rows.

    Never below ``1e-9 * max|x|``, so float rounding on a perfect line is no step.
    Per `partition_by` when given, else over the whole input.
    """

    def per(e: pl.Expr) -> pl.Expr:
        return e if partition_by is None else e.over(partition_by)

    mad = MAD_SCALE * per((s - per(s.median())).abs().median())
    return pl.max_horizontal(mad, _RELATIVE_EPS * per(x.abs().max()))


def _step_holds(blocks: Blocks, s: pl.Expr) -> pl.Expr:
    """
    Whether the level holds on both sides of the step ``S_t``: no jump back beside it.

    With ``D01 = M1 - M0`` and ``D23 = M3 - M2`` (:func:`_blocks`), neither goes
    against ``S`` by more than ``|S| / 3``: ``S D >= -S^2 / 3`` for both. A burst (or a
    spike) that comes back within a block has one of ``-2 S / 3``. False where ``S``
    is null.
    """
    m0, m1, m2, m3 = blocks
    against = pl.min_horizontal((m1 - m0) * s, (m3 - m2) * s)
    return (against >= -(s * s) / 3).fill_null(value=False)


def _level_shift_core(s: pl.Expr, scale: pl.Expr, threshold: pl.Expr, window: int) -> pl.Expr:
    """
    ``|S_t| > threshold * scale`` where ``|S_t|`` is the largest within ``2 * window`` rows.

    `s` is :func:`_step_statistic`, `scale` :func:`_step_scale` (broadcast). Works on a
    whole column: ``S`` is null in the ``2 * window`` rows at each end of each series,
    so the peak window never reaches another series. The first of tied maxima wins.
    """
    size = s.abs()
    peak = size.rolling_max(4 * window + 1, min_samples=1, center=True)
    first = (size != size.shift(1)).fill_null(value=True)
    return ((size > threshold * scale) & (size == peak) & first).fill_null(value=False)


def level_shift(
    column: IntoExpr,
    *,
    window: int = 24,
    threshold: float | pl.Expr = 6.0,
    partition_by: IntoExpr | None = None,
) -> pl.Expr:
    """
    Flag the readings where the level steps, telling a step from a smooth trend.

    With ``M0 .. M3`` the means of four consecutive blocks of `window` rows around
    ``t`` (``[t - 2w, t - w)``, ``[t - w, t)``, ``[t, t + w)``, ``[t + w, t + 2w)``;
    missing readings skipped, a block needs ``ceil(w / 2)`` readings), the step
    statistic is ``S_t = 1.5 (M2 - M1) - 0.5 (M3 - M0)``: the jump between the blocks
    next to ``t`` minus the mean jump of the blocks one further out. It is 0 for a
    straight line and for a parabola (any trend with constant curvature), and ``h``
    at a step of height ``h``. Row ``t`` (the first reading at the new level) is a
    level shift when ``|S_t| > threshold * scale`` and ``|S_t|`` is the largest within
    ``2 * window`` rows on either side (one flag per step, its side lobes ignored),
    with ``scale = 1.4826 * MAD(S)`` over the series (the typical size of ``S``, so
    autocorrelated signals do not count their wanderings; at least ``1e-9 * max|x|``).
    A step closer than ``2 * window`` rows to either end of the series is not seen, and
    the series should be several times longer than ``4 * window`` rows (or the step's
    own ``S`` sets the scale). The new level must hold: with ``D01 = M1 - M0`` and
    ``D23 = M3 - M2``, a flagged row also has ``S_t D >= -S_t^2 / 3`` for both (neither
    jump beside the step goes back by more than ``|S_t| / 3``). A spike or a burst of
    up to ``window`` rows that comes back, such as a range fault, has a jump of ``-2
    S_t / 3`` beside its largest ``S_t``, and so has the rise and fall of a daily
    cycle; a trend against the step of more than ``|S_t| / 3`` per block hides it too.

    Parameters
    ----------
    column
        The readings in time order, as a column name or an expression.
    window
        Rows in each of the four blocks (>= 2).
    threshold
        Multiple of the series' typical ``|S|`` a step must exceed.
    partition_by
        The sensor column of a frame sorted by sensor and time: the check then runs on
        the whole column in one pass, per sensor (as ``.over(partition_by)`` does, but
        with each rolling block computed once: use it on many sensors).

    Returns
    -------
    Expr
        Boolean, never null.

    Raises
    ------
    InvalidParameterError
        If `window` < 2 or `threshold` is not a positive finite number.

    Examples
    --------
    >>> steps = [0.0, 0.1, -0.1, 0.05] * 8 + [5.0, 5.1, 4.9, 5.05] * 8
    >>> df = pl.DataFrame({"value": steps})
    >>> flags = df.select(sf.quality.shape.level_shift("value", window=4))["value"]
    >>> [i for i, f in enumerate(flags) if f]
    [32]
    """
    check_window("window", window, least=2)
    limit = threshold_expr("threshold", threshold)
    x = finite(parse_into_expr(column))
    blocks = _blocks(_block_mean(x, window, partition_by), window)
    s = _step_core(blocks, _inside(window, partition_by))
    core = _level_shift_core(s, _step_scale(s, x, partition_by), limit, window)
    return _named(core & _step_holds(blocks, s), x)


def _with_level_shift(
    rows: pl.LazyFrame,
    x: pl.Expr,
    *,
    window: int,
    threshold: pl.Expr,
    partition_by: str,
    name: str,
) -> pl.LazyFrame:
    """
    Add :func:`level_shift` of `x` as column `name`, staged: each block mean and ``S`` once.

    The same cores as :func:`level_shift` with ``partition_by``, but the block mean,
    ``S`` and its scale are columns of their own stages (Polars does not share rolling
    terms within one expression): 3.2 s on 10 M rows x 1,000 sensors, against 18 s for
    ``level_shift(...).over``. `rows` is sorted by `partition_by` and time; the helper
    columns are dropped again.
    """
    tmp = [f"{name}__{k}" for k in ("x", "in", "mean", "s", "scale")]
    xc, inside, mean, s, scale = (pl.col(c) for c in tmp)
    blocks = _blocks(mean, window)
    return (
        rows.with_columns(finite(x).alias(tmp[0]), _inside(window, partition_by).alias(tmp[1]))
        .with_columns(_block_mean(xc, window, partition_by).alias(tmp[2]))
        .with_columns(_step_core(blocks, inside).alias(tmp[3]))
        .with_columns(_step_scale(s, xc, partition_by).alias(tmp[4]))
        .with_columns(
            (_level_shift_core(s, scale, threshold, window) & _step_holds(blocks, s)).alias(name)
        )
        .drop(tmp)
    )


TREND_DTYPE = pl.Struct({"slope_per_day": pl.Float64, "pvalue": pl.Float64})


def _fit_trends(rows: pl.Series) -> pl.Series:
    """
    Slope per day and p-value of every group's ``List[{x, us}]`` (value, microseconds).

    One call for all groups: the groups' finite rows are laid end to end and every sum
    is a segment sum (``numpy.add.reduceat``), with no Python step per sensor. (As
    Polars aggregates, each of the dozen sums re-runs its own per-group filter and
    shift: about 5 s on 10 M rows x 1,000 sensors.)
    """
    lists = rows.to_arrow()
    fields = lists.flatten().flatten()
    x = np.asarray(fields[0].to_numpy(zero_copy_only=False), dtype=np.float64)
    d = np.asarray(fields[1].to_numpy(zero_copy_only=False), dtype=np.float64) / _US_PER_DAY
    lengths = np.diff(np.asarray(lists.offsets))
    ok = np.isfinite(x) & np.isfinite(d)
    if not ok.all():
        kept = np.append(0, np.cumsum(ok))
        ends = np.cumsum(lengths)
        lengths = kept[ends] - kept[ends - lengths]
        x, d = x[ok], d[ok]
    n = lengths.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        dc = d - np.repeat(_segment_sums(d, lengths) / n, lengths)
        xc = x - np.repeat(_segment_sums(x, lengths) / n, lengths)
        sxx = _segment_sums(dc * dc, lengths)
        fitted = (n >= 2) & (sxx > 0)
        slope = np.where(fitted, _segment_sums(dc * xc, lengths) / sxx, np.nan)
        e = np.repeat(slope, lengths)
        e *= dc
        np.subtract(xc, e, out=e)
        pvalue = np.where(fitted, _slope_pvalues(e, lengths, slope, sxx), np.nan)
    return pl.DataFrame({"slope_per_day": slope, "pvalue": pvalue}, nan_to_null=True).to_struct()


def _slope_pvalues(
    e: np.ndarray, lengths: np.ndarray, slope: np.ndarray, sxx: np.ndarray
) -> np.ndarray:
    """Two-sided p-values of the slopes from the residuals `e`, lag-1 corrected (see trend)."""
    n = lengths.astype(np.float64)
    sse = _segment_sums(e * e, lengths)
    pairs = e * np.roll(e, 1)  # e_i e_{i-1}, foreign at each segment's first row
    first = np.cumsum(lengths) - lengths
    full = lengths > 0
    pairs[first[full]] = 0.0
    r1 = _segment_sums(pairs, lengths) / sse
    n_eff = np.where(r1 > 0, n * (1 - r1) / (1 + r1), n)
    se = np.sqrt(sse / (n - 2) / sxx) * np.sqrt((n - 2) / (n_eff - 2))
    p = np.where(n_eff > 2, 2.0 * special.stdtr(n_eff - 2, -np.abs(slope) / se), np.nan)
    return np.where(sse == 0, np.where(slope == 0, 1.0, 0.0), p)


def trend(column: IntoExpr, time: IntoExpr) -> pl.Expr:
    """
    Aggregate: the least-squares trend of a series, its slope per day and p-value.

    On the finite readings ``x`` at times ``d`` (days since the first): ``slope =
    sum((d - mean d)(x - mean x)) / sum((d - mean d)^2)``, as ``numpy.polyfit(d, x, 1)``.
    The p-value tests slope = 0 with a t-test whose standard error allows for
    correlated residuals (Santer et al., 2000): with residuals ``e``, ``se = sqrt(sum
    e^2 / (n - 2) / sum((d - mean d)^2))``, the lag-1 autocorrelation ``r1 = sum e_i
    e_{i-1} / sum e^2`` gives the effective sample size ``n_eff = n (1 - r1) / (1 + r1)``
    (``n`` if ``r1 <= 0``), and ``p = 2 * P(T > |slope| / (se * sqrt((n - 2) / (n_eff -
    2))))`` with ``T`` Student-t on ``n_eff - 2`` degrees of freedom. Sensor series
    are strongly autocorrelated, so the plain OLS p-value would call any wander a
    trend. The slope is null with fewer than two distinct times; the p-value is null
    when ``n_eff <= 2``, 0 for a perfect non-flat line and 1 for a constant.

    Parameters
    ----------
    column
        The readings.
    time
        The reading times (Datetime), sorted (the autocorrelation is over time order).

    Returns
    -------
    Expr
        One ``Struct{slope_per_day: Float64, pvalue: Float64}`` per group, for
        ``select`` or ``group_by().agg``.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> days = [datetime(2026, 1, 1) + timedelta(days=i) for i in range(6)]
    >>> df = pl.DataFrame({"t": days, "value": [1.0, 1.6, 1.9, 2.6, 3.1, 3.4]})
    >>> df.select(sf.quality.shape.trend("value", "t")).unnest("value")
    shape: (1, 2)
    ┌───────────────┬──────────┐
    │ slope_per_day ┆ pvalue   │
    │ ---           ┆ ---      │
    │ f64           ┆ f64      │
    ╞═══════════════╪══════════╡
    │ 0.491429      ┆ 0.000046 │
    └───────────────┴──────────┘
    """
    x = parse_into_expr(column)
    us = parse_into_expr(time).dt.epoch("us")
    rows = pl.struct(x.alias("x"), us.alias("us")).implode()
    fits = rows.map_batches(_fit_trends, return_dtype=TREND_DTYPE, is_elementwise=True)
    return _named(fits, x)
