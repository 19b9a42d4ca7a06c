"""
:func:`engineer_features`: every configured feature for all sensors in one lazy query.

How it is computed: the frame is sorted once by (sensor, time) and each row's position
within its sensor is computed once, without ``.over``. Features that depend only on the
last w rows, with no state carried along the column, then run on the whole column, and
rows whose window would reach into the previous sensor (position < w - 1) are set to
null: rolling min, max, median and range, lags, differences, pct change and rates. The
rolling mean is the sum of w shifted columns, which is as fast as the rolling kernel
and likewise stateless. That gives exactly the values ``.over("sensor_id")`` gives,
about twice as fast.

Everything that carries state along the column runs per sensor with
``.over("sensor_id")``: the rolling std (and volatility), whose kernel keeps running
sums, so on the whole column the last bits of a sensor's first windows would depend on
the previous sensor's readings; EWM and expanding statistics; time-based windows.
Spectral features run in batched NumPy over the sorted column. So every feature of a
sensor at time t depends, bit for bit, on that sensor's readings at or before t only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from sensorframe.features.calendar import calendar_features, cyclical_features
from sensorframe.features.config import FeatureConfig, feature_names, spectral_names
from sensorframe.features.rolling import rolling_stat
from sensorframe.features.spectral import _struct_dtype, spectral_block
from sensorframe.features.temporal import (
    acceleration,
    diff,
    ewm_mean,
    ewm_std,
    expanding_mean,
    expanding_std,
    lag,
    pct_change,
    rate_of_change,
)
from sensorframe.frame import SENSOR, TIME, VALUE, scan

if TYPE_CHECKING:
    from sensorframe._typing import FrameInput

__all__ = ["engineer_features", "sorted_with_row_index"]

_ROW = "__sf_row"
_PCT = "__sf_pct"
_SPECTRAL = "__sf_spectral"


def sorted_with_row_index(frame: FrameInput, *, name: str = _ROW) -> pl.LazyFrame:
    """
    Sort the canonical frame by (sensor, time) and add each row's position in its sensor.

    The position (0 at a sensor's first row) is computed from where the sensor id
    changes, without a window function. Sorting on the string and time columns is slow
    (a multi-column sort row-encodes every key), so the sort uses one Int128 key instead:
    the rank of the sensor id among the distinct ids (a small sort plus a hash join) times
    2**64 plus the microseconds since the earliest reading, which orders rows exactly as
    (sensor_id, timestamp) does, about five times faster. Ties keep their input order.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["b", "a", "a"], "timestamp": ["2026-01-01"] * 3, "value": [1, 2, 3]}
    ... )
    >>> from sensorframe.features.engine import sorted_with_row_index
    >>> sorted_with_row_index(df, name="row").collect()["row"].to_list()
    [0, 1, 0]
    """
    lf = scan(frame).select(SENSOR, TIME, VALUE)
    code, key_name = "__sf_code", "__sf_key"
    ids = lf.select(pl.col(SENSOR).unique()).sort(SENSOR).with_row_index(code)
    micros = pl.col(TIME).dt.epoch("us").cast(pl.Int128)
    key = pl.col(code).cast(pl.Int128) * (1 << 64) + (micros - micros.min())
    idx = pl.int_range(pl.len(), dtype=pl.Int64)
    starts = pl.col(code).ne_missing(pl.col(code).shift(1))
    return (
        lf.join(ids, on=SENSOR, how="left", maintain_order="left")
        .with_columns(key.alias(key_name))  # sorting by a column, not an expression, is faster
        .sort(key_name, maintain_order=True)
        .with_columns((idx - pl.when(starts).then(idx).forward_fill()).alias(name))
        .drop(code, key_name)
    )


def _spectral_expr(cfg: FeatureConfig) -> pl.Expr:
    window, top_k, step = cfg.spectral_window, cfg.spectral_top_k, cfg.spectral_step

    def run(s: pl.Series) -> pl.Series:
        return spectral_block(
            s.struct.field(VALUE), s.struct.field(_ROW), window=window, top_k=top_k, step=step
        )

    return (
        pl.struct(VALUE, _ROW).map_batches(run, return_dtype=_struct_dtype(top_k)).alias(_SPECTRAL)
    )


def _window_mean(x: pl.Expr, window: int) -> pl.Expr:
    """Mean of the last `window` rows as a sum of shifted columns (null if any is null)."""
    total = x
    for j in range(1, window):
        total = total + x.shift(j)
    return total / window


def _feature_exprs(cfg: FeatureConfig) -> dict[str, pl.Expr]:
    x = pl.col(VALUE)
    row = pl.col(_ROW)
    mp = cfg.min_periods

    def after(expr: pl.Expr, rows_back: int) -> pl.Expr:
        """Null the rows whose window would reach into the previous sensor."""
        return pl.when(row >= rows_back).then(expr)

    exprs: dict[str, pl.Expr] = {}
    for w in cfg.rolling_windows:
        for stat in cfg.rolling_stats:
            if isinstance(w, int) and mp is None and stat == "mean":
                e = after(_window_mean(x, w), w - 1)
            elif isinstance(w, int) and mp is None and stat != "std":
                e = after(rolling_stat(x, window=w, stat=stat), w - 1)
            else:
                e = rolling_stat(x, window=w, stat=stat, min_periods=mp, by=TIME).over(SENSOR)
            exprs[f"rolling_{w}_{stat}"] = e
    for k in cfg.lags:
        exprs[f"lag_{k}"] = after(lag(x, k), k)
    for k in cfg.diffs:
        exprs[f"diff_{k}"] = after(diff(x, k), k)
    if cfg.pct_change:
        exprs["pct_change"] = pl.col(_PCT)
    if cfg.rate_of_change:
        exprs["rate_of_change"] = after(rate_of_change(x, TIME), 1)
    if cfg.acceleration:
        exprs["acceleration"] = after(acceleration(x, TIME), 2)
    if cfg.ewm_span is not None:
        exprs["ewm_mean"] = ewm_mean(x, span=cfg.ewm_span).over(SENSOR)
        exprs["ewm_std"] = ewm_std(x, span=cfg.ewm_span).over(SENSOR)
    if cfg.expanding:
        exprs["expanding_mean"] = expanding_mean(x).over(SENSOR)
        exprs["expanding_std"] = expanding_std(x).over(SENSOR)
    for w in cfg.volatility_windows:
        e = rolling_stat(pl.col(_PCT), window=w, stat="std", min_periods=mp)
        exprs[f"volatility_{w}"] = e.over(SENSOR)
    if cfg.spectral:
        for name in spectral_names(cfg.spectral_top_k):
            exprs[name] = pl.col(_SPECTRAL).struct.field(name)
    if cfg.calendar:
        exprs.update(
            {e.meta.output_name(): e for e in calendar_features(TIME, timezone=cfg.timezone)}
        )
    if cfg.cyclical:
        exprs.update(
            {e.meta.output_name(): e for e in cyclical_features(TIME, timezone=cfg.timezone)}
        )
    return exprs


def engineer_features(frame: FrameInput, config: FeatureConfig | None = None) -> pl.LazyFrame:
    """
    Compute every feature of `config` for all sensors, in one lazy query.

    Features at a row use that sensor's readings at or before the row only, in
    timestamp order; absent history is null, never zero. Definitions are those of the
    expression functions (:func:`rolling_stat`, :func:`lag`, :func:`pct_change`,
    :func:`ewm_mean` ...) applied per sensor, and of :mod:`sensorframe.features.spectral`.

    Parameters
    ----------
    frame
        Anything :func:`sensorframe.scan` accepts; extra columns are dropped.
    config
        The features to compute; the default :class:`FeatureConfig` when None.

    Returns
    -------
    LazyFrame
        ``sensor_id``, ``timestamp``, ``value`` and then one column per name of
        :func:`feature_names`, sorted by (sensor, time).

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {
    ...         "sensor_id": ["a", "a", "a", "b"],
    ...         "timestamp": ["2026-01-01T00:00", "2026-01-01T00:01", "2026-01-01T00:02"]
    ...         + ["2026-01-01T00:00"],
    ...         "value": [1.0, 2.0, 4.0, 5.0],
    ...     }
    ... )
    >>> cfg = sf.features.FeatureConfig(
    ...     rolling_windows=[2], rolling_stats=["mean"], lags=[1], diffs=[], pct_change=False,
    ...     rate_of_change=True, acceleration=False, ewm_span=None, expanding=False,
    ...     volatility_windows=[], spectral=False, calendar=False, cyclical=False,
    ... )
    >>> sf.features.engineer_features(df, cfg).collect()
    shape: (4, 6)
    ┌───────────┬─────────────────────────┬───────┬────────────────┬───────┬────────────────┐
    │ sensor_id ┆ timestamp               ┆ value ┆ rolling_2_mean ┆ lag_1 ┆ rate_of_change │
    │ ---       ┆ ---                     ┆ ---   ┆ ---            ┆ ---   ┆ ---            │
    │ str       ┆ datetime[μs, UTC]       ┆ f64   ┆ f64            ┆ f64   ┆ f64            │
    ╞═══════════╪═════════════════════════╪═══════╪════════════════╪═══════╪════════════════╡
    │ a         ┆ 2026-01-01 00:00:00 UTC ┆ 1.0   ┆ null           ┆ null  ┆ null           │
    │ a         ┆ 2026-01-01 00:01:00 UTC ┆ 2.0   ┆ 1.5            ┆ 1.0   ┆ 0.016667       │
    │ a         ┆ 2026-01-01 00:02:00 UTC ┆ 4.0   ┆ 3.0            ┆ 2.0   ┆ 0.033333       │
    │ b         ┆ 2026-01-01 00:00:00 UTC ┆ 5.0   ┆ null           ┆ null  ┆ null           │
    └───────────┴─────────────────────────┴───────┴────────────────┴───────┴────────────────┘
    """
    cfg = config if config is not None else FeatureConfig()
    if not isinstance(cfg, FeatureConfig):
        msg = f"`config` must be a FeatureConfig, got {type(cfg).__name__}"
        raise TypeError(msg)
    lf = sorted_with_row_index(frame)
    need_pct = cfg.pct_change or bool(cfg.volatility_windows)
    if need_pct:
        lf = lf.with_columns(pl.when(pl.col(_ROW) >= 1).then(pct_change(VALUE)).alias(_PCT))
    if cfg.spectral:
        lf = lf.with_columns(_spectral_expr(cfg))
    exprs = _feature_exprs(cfg)
    names = feature_names(cfg)
    return lf.select(SENSOR, TIME, VALUE, *(exprs[name].alias(name) for name in names))
