"""
:func:`engineer_features`: every configured feature for all sensors in one lazy query.

How it is computed, deferred until the returned LazyFrame is collected (the features
themselves run on the in-memory engine, whatever engine collects the query):

* Order: one pass checks whether the rows are already in (sensor, time) order (as
  data read back from our own output is) and finds where each sensor starts; only
  otherwise is the frame sorted, on one integer key (see :func:`_sort`). Each row's
  position within its sensor and a sorted sensor number follow without ``.over``.
* Row-count windows of mean, std, min, max and range (and volatility) are built from
  blocks of 2**b rows (:mod:`sensorframe.features._blocks`): stateless elementwise steps
  on the whole column, so a window's value depends on its own readings only; rows
  whose window would reach into the previous sensor are set to null. The std combines
  blocks pairwise (Chan et al.), more accurate than the running-sum kernel.
* Other stateless features (rolling median, lags, differences, pct change, rates) run
  on the whole column with the same warm-up mask.
* Everything that carries state along the column runs per sensor with ``.over`` on
  the sorted sensor number: EWM and expanding statistics, duration windows, and
  windows with `min_periods`. Spectral features run in batched NumPy.

So every feature of a sensor at time t depends, bit for bit, on that sensor's readings
at or before t only.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from sensorframe.features import temporal
from sensorframe.features._blocks import BLOCK_STATS, block_windows
from sensorframe.features.calendar import calendar_features, cyclical_features
from sensorframe.features.config import FeatureConfig, feature_names, spectral_names
from sensorframe.features.rolling import rolling_stat
from sensorframe.features.spectral import _struct_dtype, spectral_block
from sensorframe.frame import SENSOR, TIME, VALUE, scan

if TYPE_CHECKING:
    from sensorframe._typing import FrameInput

__all__ = ["engineer_features", "sorted_with_row_index"]

_ROW = "__sf_row"
_PCT = "__sf_pct"
_SPECTRAL = "__sf_spectral"
_GRP = "__sf_group"
_KEY = "__sf_key"


def _sort(df: pl.DataFrame) -> pl.DataFrame:
    """
    Sort by (sensor, time) on one integer key; ties keep their input order.

    Sorting on the string and time columns is slow (a multi-column sort row-encodes
    every key), and so is gathering columns in a random order. So the key is the sensor
    id's rank among the distinct ids (a cast to an Enum of the sorted ids) times 2**b
    plus the microseconds since the earliest reading (< 2**b), which orders rows
    exactly as (sensor_id, timestamp) does, and the sorted key gives back the ids and
    timestamps. An Int128 key covers time spans too long for Int64. Also returns the
    sensor codes (sorted) as the column ``_GRP``.
    """
    ids = df.get_column(SENSOR).unique().sort()
    code = pl.col(SENSOR).cast(pl.Enum(ids)).to_physical()
    micros = pl.col(TIME).dt.epoch("us")
    first, last = df.select(micros.min().alias("first"), micros.max().alias("last")).row(0)
    bits = max(last - first, 1).bit_length()
    if bits + max(len(ids) - 1, 1).bit_length() > 62:
        wide = code.cast(pl.Int128) * (1 << 64) + (micros.cast(pl.Int128) - first)
        return (
            df.with_columns(wide.alias(_KEY), code.alias(_GRP))
            .sort(_KEY, maintain_order=True)
            .drop(_KEY)
        )
    keyed = df.select((code.cast(pl.Int64) * (1 << bits) + (micros - first)).alias(_KEY), VALUE)
    out = _sort_packed(keyed)
    if out is None:  # repeated (sensor, time): a stable sort keeps the input order
        out = keyed.sort(_KEY, maintain_order=True)
    key = pl.col(_KEY)
    sensor = key // (1 << bits)
    return out.select(
        pl.lit(ids).gather(sensor).alias(SENSOR),
        (key - sensor * (1 << bits) + first).cast(df.schema[TIME]).alias(TIME),
        VALUE,
        sensor.cast(pl.UInt32).alias(_GRP),
    )


def _sort_packed(keyed: pl.DataFrame) -> pl.DataFrame | None:
    """
    Sort the (key, value) rows as one Int128 column: the key, then the value's bits.

    Sorting plain values (a radix sort) is several times faster than sorting by a key
    and gathering another column in that order. Rows with equal keys would come out in
    the order of their values' bits, not their input order, so then return None.
    """
    nan = float("nan")  # the readings have no NaN (scan made them null): it marks null
    bits = keyed.get_column(VALUE).fill_null(nan).to_numpy().view(np.uint64)
    packed = pl.DataFrame({_KEY: keyed.get_column(_KEY), "bits": bits}).select(
        (pl.col(_KEY).cast(pl.Int128) * (1 << 64) + pl.col("bits").cast(pl.Int128)).alias("p")
    )
    p = pl.col("p")
    out = packed.sort("p").select(
        (p // (1 << 64)).cast(pl.Int64).alias(_KEY), (p % (1 << 64)).cast(pl.UInt64).alias("bits")
    )
    if (out.get_column(_KEY).diff() == 0).any():
        return None
    values = out.get_column("bits").to_numpy().view(np.float64)
    return out.select(_KEY).with_columns(pl.Series(VALUE, values, nan_to_null=True))


def _in_order(df: pl.DataFrame) -> np.ndarray | None:
    """
    Each sensor's row count if the rows are in (sensor, time) order, else None.

    One run-length pass over the sensor column gives the runs; the rows are in order
    when the run values are distinct and sorted and time steps back only where a new
    sensor starts. No per-row string comparison beyond the run-length pass.
    """
    sensors = df.get_column(SENSOR)
    if not sensors.is_sorted():  # shuffled input stops here, before a run per row
        return None
    runs = sensors.rle()
    ids = runs.struct.field("value")
    if ids.n_unique() != ids.len():
        return None
    lengths = runs.struct.field("len").to_numpy().astype(np.int64)
    back = df.select((pl.col(TIME).diff().dt.total_microseconds() < 0).fill_null(value=False))
    starts = np.cumsum(lengths) - lengths
    if not np.isin(np.flatnonzero(back.to_series().to_numpy()), starts).all():
        return None
    return lengths


def _sorted_indexed(df: pl.DataFrame, row: str) -> pl.DataFrame:
    """
    Sort unless already in order, then add the sensor group number and row position.

    Data read back from our own output is usually in (sensor, time) order already:
    :func:`_in_order` checks that in one cheap pass and only otherwise is the frame
    sorted. The group numbers and positions are built from the run lengths of the
    sensors (a repeat and a subtraction), without a window function.
    """
    df = df.select(SENSOR, TIME, VALUE)
    lengths = _in_order(df)
    if lengths is not None:  # new columns in one chunk: the others must match, or
        df = df.rechunk()  # every step between them costs more (850 ms instead of 1.3 s)
    else:
        df = _sort(df)  # also gives the sorted sensor codes: count runs of integers
        lengths = df.get_column(_GRP).rle().struct.field("len").to_numpy().astype(np.int64)
        df = df.drop(_GRP)
    starts = np.cumsum(lengths) - lengths
    return df.with_columns(
        pl.Series(_GRP, np.repeat(np.arange(len(lengths), dtype=np.uint32), lengths)).set_sorted(),
        pl.Series(row, np.arange(df.height, dtype=np.int64) - np.repeat(starts, lengths)),
    )


def _prepared(frame: FrameInput, row: str = _ROW) -> pl.LazyFrame:
    """Sort the canonical frame by (sensor, time); add group number and row position."""
    lf = scan(frame).select(SENSOR, TIME, VALUE)
    schema = dict(lf.collect_schema()) | {_GRP: pl.UInt32(), row: pl.Int64()}
    return lf.map_batches(lambda df: _sorted_indexed(df, row), schema=schema)


def sorted_with_row_index(frame: FrameInput, *, name: str = _ROW) -> pl.LazyFrame:
    """
    Sort the canonical frame by (sensor, time) and add each row's position in its sensor.

    Input that is already in (sensor, time) order, the usual case for data read back
    from our own output, is detected with one cheap pass and not sorted again. The
    position (0 at a sensor's first row) is computed from where the sensor id changes,
    without a window function. Ties keep their input order.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["b", "a", "a"], "timestamp": ["2026-01-01"] * 3, "value": [1, 2, 3]}
    ... )
    >>> from sensorframe.features.engine import sorted_with_row_index
    >>> sorted_with_row_index(df, name="row").collect()["row"].to_list()
    [0, 1, 0]
    """
    return _prepared(frame, name).drop(_GRP)


def _spectral_expr(cfg: FeatureConfig) -> pl.Expr:
    window, top_k, step = cfg.spectral_window, cfg.spectral_top_k, cfg.spectral_step

    def run(s: pl.Series) -> pl.Series:
        return spectral_block(
            s.struct.field(VALUE), s.struct.field(_ROW), window=window, top_k=top_k, step=step
        )

    return (
        pl.struct(VALUE, _ROW).map_batches(run, return_dtype=_struct_dtype(top_k)).alias(_SPECTRAL)
    )


def _by_sensor(expr: pl.Expr) -> pl.Expr:
    """Compute `expr` per sensor (the group number is sorted, which makes `.over` cheap)."""
    return expr.over(pl.col(_GRP).set_sorted())


def _block_requests(
    cfg: FeatureConfig,
) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
    """Row-count windows computed from blocks: (of the readings, of pct change)."""
    if cfg.min_periods is not None:
        return [], []
    rolling: list[tuple[str, int, str]] = [
        (f"rolling_{w}_{stat}", w, str(stat))
        for w in cfg.rolling_windows
        for stat in cfg.rolling_stats
        if isinstance(w, int) and stat in BLOCK_STATS
    ]
    return rolling, [(f"volatility_{w}", w, "std") for w in cfg.volatility_windows]


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
            e = _by_sensor(rolling_stat(x, window=w, stat=stat, min_periods=mp, by=TIME))
            exprs[f"rolling_{w}_{stat}"] = e  # replaced below for windows made of blocks
    for k in cfg.lags:
        exprs[f"lag_{k}"] = after(temporal.lag(x, k), k)
    for k in cfg.diffs:
        exprs[f"diff_{k}"] = after(temporal.diff(x, k), k)
    if cfg.pct_change:
        exprs["pct_change"] = pl.col(_PCT)
    if cfg.rate_of_change:
        exprs["rate_of_change"] = after(temporal.rate_of_change(x, TIME), 1)
    if cfg.acceleration:
        exprs["acceleration"] = after(temporal.acceleration(x, TIME), 2)
    if cfg.ewm_span is not None:
        exprs["ewm_mean"] = _by_sensor(temporal.ewm_mean(x, span=cfg.ewm_span))
        exprs["ewm_std"] = _by_sensor(temporal.ewm_std(x, span=cfg.ewm_span))
    if cfg.expanding:
        exprs["expanding_mean"] = _by_sensor(temporal.expanding_mean(x))
        exprs["expanding_std"] = _by_sensor(temporal.expanding_std(x))
    for w in cfg.volatility_windows:
        e = rolling_stat(pl.col(_PCT), window=w, stat="std", min_periods=mp)
        exprs[f"volatility_{w}"] = _by_sensor(e)
    rolling_blocks, pct_blocks = _block_requests(cfg)
    for name, _, _ in rolling_blocks + pct_blocks:
        exprs[name] = pl.col(name)  # added to the frame by `block_windows`
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
    lf = scan(frame).select(SENSOR, TIME, VALUE)
    empty = pl.DataFrame(schema=lf.collect_schema())
    schema = _features(_sorted_indexed(empty, _ROW).lazy(), cfg).collect_schema()
    return pl.defer(partial(_compute, lf, cfg=cfg), schema=dict(schema))


def _compute(lf: pl.LazyFrame, *, cfg: FeatureConfig) -> pl.DataFrame:
    """
    Sort (unless in order) and compute the features of a whole canonical frame.

    :func:`engineer_features` defers this to when its LazyFrame is collected, so the
    query engine the user picks does not matter: the feature steps (shifts, windows
    per sensor) run on the in-memory engine, which evaluates them with about half the
    work the streaming engine spends on them (and, unlike a ``map_batches`` step
    inside a streaming query, with every thread of the pool free to help).
    """
    df = lf.collect(engine="in-memory")
    return _features(_sorted_indexed(df, _ROW).lazy(), cfg).collect(engine="in-memory")


def _features(lf: pl.LazyFrame, cfg: FeatureConfig) -> pl.LazyFrame:
    """Add the features of `cfg` to a sorted frame with group number and row position."""
    need_pct = cfg.pct_change or bool(cfg.volatility_windows)
    if need_pct:
        lf = lf.with_columns(
            pl.when(pl.col(_ROW) >= 1).then(temporal.pct_change(VALUE)).alias(_PCT)
        )
    if cfg.spectral:
        lf = lf.with_columns(_spectral_expr(cfg))
    rolling_blocks, pct_blocks = _block_requests(cfg)
    lf = block_windows(lf, VALUE, rolling_blocks, row=_ROW, prefix="__sf_x")
    lf = block_windows(lf, _PCT, pct_blocks, row=_ROW, prefix="__sf_p")
    exprs = _feature_exprs(cfg)
    names = feature_names(cfg)
    return lf.select(SENSOR, TIME, VALUE, *(exprs[name].alias(name) for name in names))
