"""
EWM and expanding statistics continued from a per-sensor running state.

:mod:`sensorframe.features.state` continues a feature computation from where an
earlier one stopped. Windowed features only need each sensor's trailing rows; the EWM
and expanding statistics depend on the whole history, so they continue from a few
numbers per sensor instead, the running state:

* expanding mean and std (:func:`~sensorframe.features.expanding_mean`,
  :func:`~sensorframe.features.expanding_std`): the first non-null reading (the shift),
  the count of non-null readings and the running sums of ``d = x - first`` and ``d**2``;
* EWM mean (:func:`~sensorframe.features.ewm_mean`): the last mean;
* EWM std (:func:`~sensorframe.features.ewm_std`): the last mean, the variance
  recurrence's state ``c`` and the count of non-null readings.

Each sensor's rows are preceded by one *seed row* carrying its state, and the same
Polars kernels then run per sensor (``.over``): a cumulative sum seeded with the
carried sum adds the new terms one by one, as the sum over the whole history does,
and an EWM mean seeded with the carried mean starts from it exactly as the kernel
carries it from row to row. So the expanding statistics and the EWM mean are equal,
bit for bit, to one computation over the whole history.

Polars exposes no state for ``ewm_std``, so its recurrence is written out here, for
the definition sensorframe uses (adjust=False, bias=False, ignore_nulls=True,
min_samples=1; pandas' ``ewm(span, adjust=False, ignore_na=True).std()``). With
``a = 2 / (span + 1)`` and ``o = 1 - a``, at each non-null reading x after the first::

    m_t = (o m_{t-1} + a x) / (o + a)                       (the EWM mean)
    c_t = (o (c_{t-1} + (m_{t-1} - m_t)**2) + a (x - m_t)**2) / (o + a),   c_1 = 0
    std_t = sqrt(c_t / (1 - w_k)),   w_k = o**(2 (k - 1)) + a**2 (1 - o**(2 (k - 1))) / (1 - o**2)

where k counts the non-null readings and ``w_k`` is the kernel's sum of squared weights
(its sum of weights is 1 with adjust=False), so ``1 - w_k = (1 - o**(2 (k - 1))) 2 o /
(1 + o)``: null while k < 2. ``c`` is an EWM mean of ``y = (o / a) (m_{t-1} - m_t)**2 +
(x - m_t)**2`` with the same span, which is how it is computed (seeded like the mean).
Rounding differs from Polars' kernel in the last bits: relative differences measured
below 5e-16 at span 12 (and below pandas' own 4e-15 from Polars), growing in proportion
to the span beyond 100 (2e-14 at 1,000, 7e-12 at 10**6), where the kernel's own
``1 - w_k`` cancels and this closed form does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from sensorframe.frame import SENSOR, VALUE

if TYPE_CHECKING:
    from sensorframe.features.config import FeatureConfig

__all__ = ["RUNNING_STATE", "running_features"]

_SEED = "__sf_seed"
_D = "__sf_d"
_MEAN_PREV = "__sf_m_prev"
RUNNING_STATE: dict[str, dict[str, pl.DataType]] = {
    "expanding": {
        "expanding_first": pl.Float64(),
        "expanding_count": pl.Int64(),
        "expanding_sum": pl.Float64(),
        "expanding_sum_sq": pl.Float64(),
    },
    "ewm": {"ewm_mean": pl.Float64(), "ewm_var": pl.Float64(), "ewm_count": pl.Int64()},
}
"""Columns of the running state per family (null means: no non-null reading yet)."""
_ZEROS = {"expanding_count": 0, "expanding_sum": 0.0, "expanding_sum_sq": 0.0, "ewm_count": 0}
"""The state of a sensor without readings, where it is not null."""


def running_families(cfg: FeatureConfig) -> tuple[str, ...]:
    """Return the families of `cfg` computed from running state, in output order."""
    return tuple(
        family
        for family, on in (("ewm", cfg.ewm_span is not None), ("expanding", cfg.expanding))
        if on
    )


def _per_sensor(expr: pl.Expr) -> pl.Expr:
    return expr.over(SENSOR)


def _carried(name: str) -> pl.Expr:
    """Broadcast the state column `name` of each sensor's seed row (its first row)."""
    return _per_sensor(pl.col(name).first())


def _expanding_steps(x: pl.Expr) -> list[dict[str, pl.Expr]]:
    """Compute expanding mean and std and their next state, as the engine does."""
    seed = pl.col(_SEED)
    shift = pl.coalesce(_carried("expanding_first"), _per_sensor(x.drop_nulls().first()))
    d = pl.col(_D)

    def seeded_sum(state: str, term: pl.Expr) -> pl.Expr:
        return _per_sensor(pl.when(seed).then(pl.col(state)).otherwise(term).cum_sum())

    s1 = seeded_sum("expanding_sum", d.fill_null(0.0))
    s2 = seeded_sum("expanding_sum_sq", (d * d).fill_null(0.0))
    n = _carried("expanding_count") + _per_sensor(x.cum_count())
    nf = n.cast(pl.Float64)
    var = ((s2 - s1 * s1 / nf) / (nf - 1)).clip(lower_bound=0.0)
    return [
        {"expanding_first": shift},
        {_D: x - pl.col("expanding_first")},
        {
            "expanding_mean": pl.when(n > 0).then(pl.col("expanding_first") + s1 / n),
            "expanding_std": pl.when(nf > 1).then(var.sqrt()),
            "expanding_count": n,
            "expanding_sum": s1,
            "expanding_sum_sq": s2,
        },
    ]


def _ewm_steps(x: pl.Expr, span: float) -> list[dict[str, pl.Expr]]:
    """Compute EWM mean and std and their next state (the std reads the mean column)."""
    seed = pl.col(_SEED)
    a = 2.0 / (span + 1.0)  # as Polars derives alpha from the span
    o = 1.0 - a

    def ewm(column: pl.Expr) -> pl.Expr:
        return _per_sensor(
            column.ewm_mean(span=span, adjust=False, ignore_nulls=True).forward_fill()
        )

    m, m_prev = pl.col("ewm_mean"), pl.col(_MEAN_PREV)
    y = (
        pl.when(seed)
        .then(pl.col("ewm_var"))
        .when(x.is_null())
        .then(None)
        .when(m_prev.is_null())
        .then(0.0)  # the first reading: c_1 = 0
        .otherwise((o / a) * (m_prev - m) ** 2 + (x - m) ** 2)
    )
    c = ewm(y)
    k = _carried("ewm_count") + _per_sensor(x.cum_count())
    spread = (1.0 - o ** (2.0 * (k.cast(pl.Float64) - 1.0))) * (2.0 * o / (1.0 + o))  # 1 - w_k
    return [
        {"ewm_mean": ewm(pl.when(seed).then(m).otherwise(x))},
        {_MEAN_PREV: _per_sensor(m.shift(1))},
        {"ewm_std": pl.when(spread > 0).then((c / spread).sqrt()), "ewm_var": c, "ewm_count": k},
    ]


def running_features(
    rows: pl.DataFrame, state: pl.DataFrame, cfg: FeatureConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """
    EWM and expanding features of `rows`, continued from `state`, and the next state.

    Parameters
    ----------
    rows
        ``sensor_id`` and ``value`` of the new rows, in (sensor, time) order.
    state
        One row per sensor: ``sensor_id`` and the :data:`RUNNING_STATE` columns of the
        families of `cfg`; sensors absent from it start from scratch.
    cfg
        The feature config (its EWM span and whether it computes expanding statistics).

    Returns
    -------
    features : DataFrame
        One column per running feature of `cfg` (``ewm_mean``, ``ewm_std``,
        ``expanding_mean``, ``expanding_std``), row for row with `rows`.
    state : DataFrame
        The next state of the sensors of `rows`, one row per sensor in order of
        appearance.

    Examples
    --------
    >>> from sensorframe.features.recurrences import running_features
    >>> cfg = sf.FeatureConfig(expanding=True)
    >>> rows = pl.DataFrame({"sensor_id": ["a", "a"], "value": [3.0, 5.0]})
    >>> carried = pl.DataFrame(
    ...     {
    ...         "sensor_id": ["a"],
    ...         "expanding_first": [1.0],
    ...         "expanding_count": [1],
    ...         "expanding_sum": [0.0],
    ...         "expanding_sum_sq": [0.0],
    ...     }
    ... )
    >>> feats, after = running_features(rows, carried, cfg)
    >>> feats["expanding_mean"].to_list()  # the means of [1, 3] and [1, 3, 5]
    [2.0, 3.0]
    >>> after["expanding_count"].to_list()
    [3]
    """
    families = running_families(cfg)
    columns = {name: dtype for f in families for name, dtype in RUNNING_STATE[f].items()}
    seeds = (
        rows.select(pl.col(SENSOR).unique(maintain_order=True))
        .join(state.select(SENSOR, *columns), on=SENSOR, how="left")
        .with_columns(pl.col(c).fill_null(v) for c, v in _ZEROS.items() if c in columns)
        .with_columns(pl.lit(value=True).alias(_SEED))
    )
    x = pl.col(VALUE)
    frame = pl.concat(
        [seeds, rows.select(SENSOR, VALUE).with_columns(pl.lit(value=False).alias(_SEED))],
        how="diagonal_relaxed",
    ).lazy()
    steps: list[dict[str, pl.Expr]] = []
    if cfg.ewm_span is not None:
        steps += _ewm_steps(x, cfg.ewm_span)
    if cfg.expanding:
        steps += _expanding_steps(x)
    for exprs in steps:
        frame = frame.with_columns(**exprs)
    out = frame.collect()
    head = seeds.height
    after = (
        out.group_by(SENSOR, maintain_order=True)
        .agg(pl.col(c).last() for c in columns)
        .cast(columns)  # type: ignore[arg-type]
    )
    features = [f"{family}_{stat}" for family in families for stat in ("mean", "std")]
    return out.slice(head).select(features), after
