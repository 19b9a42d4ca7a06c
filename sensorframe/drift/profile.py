"""Per-sensor sample profiles: sorted finite readings, bins, moments, missing counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from sensorframe._exact import segment_moments
from sensorframe._order import in_order, sensor_runs
from sensorframe.drift.autocorrelation import lag1_autocorrelation
from sensorframe.drift.bins import reference_edges
from sensorframe.drift.location_scale import deviation_moments
from sensorframe.drift.statistics import (
    QUANTILES,
    Samples,
    batches,
    quantiles_sorted,
    searchsorted_rows,
)
from sensorframe.errors import InvalidParameterError, InvalidTypeError, SensorSchemaError
from sensorframe.frame import SENSOR, TIME, VALUE, scan
from sensorframe.quality.overflow import refuse_overflow

__all__ = [
    "Groups",
    "Side",
    "collect_groups",
    "read_window",
    "side_from_groups",
    "side_from_profile",
    "side_to_columns",
]

_COUNTS = ("n_rows", "n_missing", "t_n_missing", "n_pairs")
_MEDIAN = QUANTILES.index(0.5)


@dataclass(frozen=True, slots=True)
class Groups:
    """One window read once: per-sensor counts and moments, and the finite readings."""

    meta: pl.DataFrame
    """
    ``sensor_id``, ``n_rows``, ``since``, ``n_missing``, ``mean``, ``std``, ``span``
    (``t_*`` for a target).
    """
    values: Samples
    target: Samples | None = None


@dataclass(frozen=True, slots=True)
class Side:
    """One column (readings or target) of one window, for every sensor in order."""

    samples: Samples
    n_rows: np.ndarray
    n_missing: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    edges: np.ndarray | None = None
    """Interior bin edges ``(sensors, n_bins - 1)`` (reference only)."""
    le_edges: np.ndarray | None = None
    """Readings <= each edge ``(sensors, n_bins - 1)`` (reference only)."""
    quantiles: np.ndarray | None = None
    span: np.ndarray | None = None
    """``max - min`` of each sensor's readings (current windows of the readings only)."""
    rho: np.ndarray | None = None
    """Lag-1 autocorrelation of the readings in time order (NaN: unknown or undefined)."""
    deviations: tuple[np.ndarray, np.ndarray] | None = None
    """Mean and sum of squares of ``|x - median|`` (Brown-Forsythe; reference only)."""

    @property
    def n(self) -> np.ndarray:
        """Finite readings per sensor."""
        return self.samples.lengths


def _finite(expr: pl.Expr) -> pl.Expr:
    expr = expr.cast(pl.Float64)
    return pl.when(expr.is_finite()).then(expr)


def read_window(frame: Any, *, target: str | None) -> pl.LazyFrame:
    """Scan a window and check its target column (see :func:`collect_groups`)."""
    if target is not None and not isinstance(target, str):
        msg = f"`target` must be a column name or None, got {type(target).__name__}"
        raise InvalidTypeError(msg)
    if target in (SENSOR, TIME, VALUE):
        # The target is compared with the readings: concept drift is the change of
        # their correlation. The readings as their own target would be a correlation
        # of 1 and a copy of the covariate shift; the keys are not numeric.
        msg = (
            f"`target` must be a numeric column other than {SENSOR!r}, {TIME!r} and the "
            f"readings {VALUE!r}, got {target!r}"
        )
        raise InvalidParameterError(msg)
    lf = scan(frame)
    schema = lf.collect_schema()
    if target is not None:
        if target not in schema:
            msg = f"target column {target!r} not found; columns are {schema.names()}"
            raise SensorSchemaError(msg)
        if not (schema[target].is_numeric() or schema[target] == pl.Boolean):
            msg = f"target column {target!r} must be numeric, got {schema[target]}"
            raise SensorSchemaError(msg)
    return lf


def collect_groups(lf: pl.LazyFrame, *, target: str | None, sensors: pl.Series | None) -> Groups:
    """
    Read a window once: per-sensor counts, moments and finite readings (and target).

    The readings of each sensor are kept in time order (rows are sorted by sensor,
    time and value unless they already are in (sensor, time) order), for the
    autocorrelation; ``meta["since"]`` is each sensor's first timestamp. Without
    ``sensors`` the sensors are sorted by id; with it, they follow that order (sensors
    absent from the frame get no readings) and the frame's other sensors are appended,
    sorted.
    """
    columns = [SENSOR, TIME, VALUE] if target is None else [SENSOR, TIME, VALUE, target]
    df = lf.select(columns).collect()
    n_rows = in_order(df)
    if n_rows is None:
        df = df.sort(SENSOR, TIME, VALUE, nulls_last=True)
        n_rows = sensor_runs(df.get_column(SENSOR))[1]
    groups = _contiguous_groups(df, n_rows, target)
    meta = groups.meta.with_row_index("__pos")
    if sensors is None:
        out = meta.sort(SENSOR)
    else:
        order = pl.DataFrame({SENSOR: sensors}).with_row_index("__order")
        out = (
            order.join(meta, on=SENSOR, how="full", coalesce=True)
            .sort(pl.col("__order"), pl.col(SENSOR), nulls_last=True)
            .drop("__order")
        )
    pos = out["__pos"].fill_null(-1).cast(pl.Int64).to_numpy()
    fill = [pl.col(c).fill_null(0) for c in _COUNTS if c in out.columns]
    return Groups(
        meta=out.drop("__pos").with_columns(fill),
        values=groups.values.take(pos),
        target=None if groups.target is None else groups.target.take(pos),
    )


def _flat(column: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    lengths = column.list.len().fill_null(0).to_numpy().astype(np.int64)
    values = column.explode(empty_as_null=False, keep_nulls=False).cast(pl.Float64)
    return values.to_numpy(), lengths


def _contiguous_groups(df: pl.DataFrame, n_rows: np.ndarray, target: str | None) -> Groups:
    """
    Group a frame in (sensor, time) order, ``n_rows`` rows per sensor, without hashing.

    Stored telemetry is usually in that order already; NumPy then takes the moments
    (and the value-target correlation), each a function of its sensor's rows alone, so
    a batch of sensors gets the moments the whole fleet gets, bit for bit.
    """
    first = np.cumsum(n_rows) - n_rows
    ids = df.get_column(SENSOR).gather(first)
    values, moments, spans = _segment_moments(df[VALUE], n_rows, "")
    meta: dict[str, pl.Series] = {
        SENSOR: ids,
        "n_rows": pl.Series(n_rows, dtype=pl.UInt32),
        "since": df[TIME].gather(first),
        **moments,
    }
    targets = None
    if target is not None:
        t = df.select(_finite(pl.col(target))).to_series()
        targets, tmoments, tspans = _segment_moments(t, n_rows, "t_")
        meta |= {k: v for k, v in tmoments.items() if k != "t_span"}
        meta |= _segment_correlation(df[VALUE], t, n_rows)
        spans = np.maximum(spans, tspans)
    found = [meta[c] for c in ("mean", "std", "t_mean", "t_std") if c in meta]
    refuse_overflow(ids, *found, spans=spans, what="drift statistics")
    return Groups(pl.DataFrame(meta), values, targets)


def _segment_moments(
    column: pl.Series, n_rows: np.ndarray, prefix: str
) -> tuple[Samples, dict[str, pl.Series], np.ndarray]:
    """Return a column's non-null readings per run of ``n_rows`` rows, their counts, moments."""
    m = segment_moments(column.cast(pl.Float64).to_numpy(), n_rows, ddof=1)
    vals = column.drop_nulls().to_numpy()
    moments = {
        f"{prefix}n_missing": pl.Series(n_rows - m.n, dtype=pl.UInt32),
        f"{prefix}mean": pl.Series(m.mean).fill_nan(None),
        f"{prefix}std": pl.Series(m.std).fill_nan(None),
        f"{prefix}span": pl.Series(m.span).fill_nan(None),
    }
    return Samples(vals, m.n, np.cumsum(m.n) - m.n), moments, np.nan_to_num(m.span, nan=0.0)


def _segment_correlation(x: pl.Series, y: pl.Series, n_rows: np.ndarray) -> dict[str, pl.Series]:
    """Pearson's r of the rows where both are present, per run (NaN below two pairs)."""
    both = (x.is_not_null() & y.is_not_null()).to_numpy()
    present = np.cumsum(both)
    n = np.diff(present[np.cumsum(n_rows) - 1], prepend=0).astype(np.int64)
    xs, ys = x.to_numpy()[both], y.to_numpy()[both]
    starts = np.cumsum(n) - n
    full = n > 0
    sxy, sxx, syy = np.zeros(len(n)), np.zeros(len(n)), np.zeros(len(n))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if xs.size:
            at = starts[full]
            dx = xs - np.repeat(np.add.reduceat(xs, at) / n[full], n[full])
            dy = ys - np.repeat(np.add.reduceat(ys, at) / n[full], n[full])
            sxy[full] = np.add.reduceat(dx * dy, at)
            sxx[full] = np.add.reduceat(dx * dx, at)
            syy[full] = np.add.reduceat(dy * dy, at)
        r = sxy / np.sqrt(sxx * syy)
    r[n < 2] = np.nan
    return {"correlation": pl.Series(r), "n_pairs": pl.Series(n, dtype=pl.UInt32)}


def side_from_groups(groups: Groups, *, target: bool, n_bins: int | None, batch_cells: int) -> Side:
    """
    One side of a comparison; with ``n_bins`` (a reference) sorted and binned.

    A reference is sorted once here; a current window is sorted batch by batch when
    it is compared.
    """
    prefix = "t_" if target else ""
    samples = groups.target if target else groups.values
    assert samples is not None
    meta = groups.meta
    n_rows = meta["n_rows"].to_numpy().astype(np.int64)
    n_missing = meta[f"{prefix}n_missing"].to_numpy().astype(np.int64)
    mean = meta[f"{prefix}mean"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    std = meta[f"{prefix}std"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    rho = lag1_autocorrelation(samples, batch_cells=batch_cells)  # still in time order
    if n_bins is None:
        spread = None
        if not target:
            spread = meta["span"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        return Side(samples, n_rows, n_missing, mean, std, span=spread, rho=rho)
    samples = Samples.from_unsorted(samples.concatenate(), samples.lengths, batch_cells=batch_cells)
    edges, le, quant = _reference_bins(samples, n_bins)
    deviations = deviation_moments(samples, quant[:, _MEDIAN])
    return Side(
        samples, n_rows, n_missing, mean, std, edges, le, quant, rho=rho, deviations=deviations
    )


def _reference_bins(samples: Samples, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_sensors = len(samples.lengths)
    edges = np.full((n_sensors, n_bins - 1), np.nan)
    le = np.zeros((n_sensors, n_bins - 1), dtype=np.int64)
    quant = np.full((n_sensors, len(QUANTILES)), np.nan)
    rows = np.flatnonzero(samples.lengths > 0)
    for sub in batches(samples.lengths[rows], 4_000_000):
        idx = rows[sub]
        lens = samples.lengths[idx]
        padded = samples.padded(idx, int(lens.max()))
        edges[idx] = reference_edges(padded, lens, n_bins)
        le[idx] = searchsorted_rows(padded, edges[idx], side="right")
        quant[idx] = quantiles_sorted(padded, lens, np.asarray(QUANTILES))
    return edges, le, quant


def _list_column(flat: np.ndarray, lengths: np.ndarray) -> pl.Series:
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    arr = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(flat, type=pa.float64()))
    series = pl.from_arrow(arr)
    assert isinstance(series, pl.Series)
    return series


def _rows_column(matrix: np.ndarray) -> pl.Series:
    n, k = matrix.shape
    return _list_column(matrix.ravel().astype(np.float64), np.full(n, k, dtype=np.int64))


def side_to_columns(side: Side, prefix: str) -> dict[str, pl.Series]:
    """Return the profile columns of a reference side (lists: samples, edges, counts)."""
    assert side.edges is not None
    assert side.le_edges is not None
    assert side.quantiles is not None
    return {
        f"{prefix}n_missing": pl.Series(side.n_missing),
        f"{prefix}mean": pl.Series(side.mean).fill_nan(None),
        f"{prefix}std": pl.Series(side.std).fill_nan(None),
        f"{prefix}values": _list_column(side.samples.concatenate(), side.samples.lengths),
        f"{prefix}bin_edges": _rows_column(side.edges),
        f"{prefix}bin_le_counts": _rows_column(side.le_edges),
        f"{prefix}quantiles": _rows_column(side.quantiles),
        f"{prefix}autocorrelation": pl.Series(side.rho, dtype=pl.Float64).fill_nan(None),
    }


def _matrix(column: pl.Series, width: int) -> np.ndarray:
    flat, lengths = _flat(column)
    if np.any(lengths != width):
        msg = f"profile column {column.name!r} must hold lists of length {width}"
        raise SensorSchemaError(msg)
    return flat.reshape(len(lengths), width)


def side_from_profile(profile: pl.DataFrame, *, prefix: str, n_bins: int) -> Side:
    """
    Rebuild a reference side from :func:`side_to_columns` output.

    A profile written before the autocorrelation was stored (sensorframe 0.1) has
    none: its reference counts as independent readings (effective size ``n``).
    """
    rho = np.full(profile.height, np.nan)
    if f"{prefix}autocorrelation" in profile.columns:
        rho = profile[f"{prefix}autocorrelation"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    samples = Samples.concatenated(*_flat(profile[f"{prefix}values"]))
    quantiles = _matrix(profile[f"{prefix}quantiles"], len(QUANTILES))
    return Side(
        samples=samples,
        n_rows=profile["n_rows"].to_numpy().astype(np.int64),
        n_missing=profile[f"{prefix}n_missing"].to_numpy().astype(np.int64),
        mean=profile[f"{prefix}mean"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        std=profile[f"{prefix}std"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        edges=_matrix(profile[f"{prefix}bin_edges"], n_bins - 1),
        le_edges=_matrix(profile[f"{prefix}bin_le_counts"], n_bins - 1).astype(np.int64),
        quantiles=quantiles,
        rho=rho,
        deviations=deviation_moments(samples, quantiles[:, _MEDIAN]),
    )
