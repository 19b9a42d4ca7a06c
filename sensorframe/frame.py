"""
The sensor frame: one reading per row, in three canonical columns.

=============  ==========================  =========================================
column         type                        notes
=============  ==========================  =========================================
``sensor_id``  ``String``                  any non-empty id
``timestamp``  ``Datetime("us", "UTC")``   naive times are taken as UTC
``value``      ``Float64``                 NaN and ±inf become null (missing)
=============  ==========================  =========================================

Every public function of sensorframe accepts anything :func:`scan` accepts and starts
by turning it into this canonical, validated ``pl.LazyFrame``. Other column names are
mapped once, here, with :class:`Columns`; extra columns are kept after the three keys.

Why NaN becomes null: a NaN poisons every Polars rolling window that contains it and
``ewm_mean`` never recovers after one, while null is skipped (and ``min_samples``
counts non-null values), which matches what pandas users expect.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sensorframe._utils import preview
from sensorframe.errors import EmptyFrameError, SensorSchemaError, SourceError

__all__ = [
    "SENSOR",
    "TIME",
    "VALUE",
    "Columns",
    "melt_wide",
    "require_rows",
    "scan",
]

SENSOR = "sensor_id"
TIME = "timestamp"
VALUE = "value"
KEYS = (SENSOR, TIME, VALUE)
CANONICAL_SCHEMA = pl.Schema(
    [(SENSOR, pl.String()), (TIME, pl.Datetime("us", "UTC")), (VALUE, pl.Float64())]
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Columns:
    """
    Names of the sensor, time and value columns in a user's table.

    Parameters
    ----------
    sensor, time, value
        Column names in the input. They are renamed to ``sensor_id``, ``timestamp``
        and ``value`` at the edge and never seen by the algorithms.

    Examples
    --------
    >>> df = pl.DataFrame({"device": ["p1"], "ts": ["2026-01-01 00:00"], "reading": [3]})
    >>> sf.scan(df, columns=sf.Columns(sensor="device", time="ts", value="reading")).collect()
    shape: (1, 3)
    ┌───────────┬─────────────────────────┬───────┐
    │ sensor_id ┆ timestamp               ┆ value │
    │ ---       ┆ ---                     ┆ ---   │
    │ str       ┆ datetime[μs, UTC]       ┆ f64   │
    ╞═══════════╪═════════════════════════╪═══════╡
    │ p1        ┆ 2026-01-01 00:00:00 UTC ┆ 3.0   │
    └───────────┴─────────────────────────┴───────┘
    """

    sensor: str = SENSOR
    time: str = TIME
    value: str = VALUE


def scan(
    source: Any,
    *,
    columns: Columns | None = None,
    timestamps: Any = None,
    sensor_id: str | None = None,
    storage_options: dict[str, str] | None = None,
    validate: bool = True,
) -> pl.LazyFrame:
    """
    Read any supported input into a canonical, validated ``pl.LazyFrame``.

    Parameters
    ----------
    source
        A ``pl.DataFrame`` or ``pl.LazyFrame``; a pyarrow ``Table``,
        ``RecordBatchReader`` or ``Dataset``; any object with ``__arrow_c_stream__``
        (pandas, DuckDB relations ...); a path to a Parquet or CSV file, a folder of
        Parquet files, a Delta table folder or URI; or a 1-D NumPy array of values for
        one sensor (then ``timestamps`` and ``sensor_id`` are required).
    columns
        Names of the sensor, time and value columns when they differ from the
        canonical ``sensor_id``, ``timestamp``, ``value``.
    timestamps
        With a NumPy ``source``: the reading times, as anything ``pl.Series`` accepts.
    sensor_id
        With a NumPy ``source``: the sensor id of every reading.
    storage_options
        Passed to the Delta or object-store reader for URIs (``AWS_ENDPOINT_URL`` ...).
    validate
        Check the data (one cheap aggregate pass): null or empty sensor ids, null or
        unparseable timestamps. Schema problems are always checked.

    Returns
    -------
    LazyFrame
        ``sensor_id`` (String), ``timestamp`` (Datetime[us, UTC]), ``value``
        (Float64, null where missing), then any extra input columns. Row order is
        the input's: nothing is sorted, so out-of-order input can still be detected.

    Raises
    ------
    SourceError
        If a path does not exist or the object cannot be read as a table.
    SensorSchemaError
        If a column is missing, has the wrong type or holds invalid values.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {
    ...         "sensor_id": ["a", "a"],
    ...         "timestamp": ["2026-01-01T00:00:00", "2026-01-01T00:01:00"],
    ...         "value": [1, None],
    ...     }
    ... )
    >>> sf.scan(df).collect()
    shape: (2, 3)
    ┌───────────┬─────────────────────────┬───────┐
    │ sensor_id ┆ timestamp               ┆ value │
    │ ---       ┆ ---                     ┆ ---   │
    │ str       ┆ datetime[μs, UTC]       ┆ f64   │
    ╞═══════════╪═════════════════════════╪═══════╡
    │ a         ┆ 2026-01-01 00:00:00 UTC ┆ 1.0   │
    │ a         ┆ 2026-01-01 00:01:00 UTC ┆ null  │
    └───────────┴─────────────────────────┴───────┘
    """
    cols = columns or Columns()
    if isinstance(source, np.ndarray):
        lf = _from_numpy(source, timestamps=timestamps, sensor_id=sensor_id)
        cols = Columns()
    else:
        if timestamps is not None or sensor_id is not None:
            msg = "`timestamps` and `sensor_id` are only used with a NumPy array source"
            raise TypeError(msg)
        lf = _to_lazy(source, storage_options=storage_options)
    return _canonicalize(lf, cols, validate=validate)


def melt_wide(
    frame: Any,
    *,
    time: str,
    sensors: Sequence[str] | None = None,
    validate: bool = True,
) -> pl.LazyFrame:
    """
    Turn a wide table (one column per sensor) into the canonical long form.

    Parameters
    ----------
    frame
        Any input :func:`scan` accepts, with a time column and one value column per
        sensor.
    time
        Name of the time column.
    sensors
        Value columns to keep; by default every column except ``time``. The column
        names become the sensor ids.
    validate
        As in :func:`scan`.

    Examples
    --------
    >>> wide = pl.DataFrame({"t": ["2026-01-01"], "P-1": [1.5], "P-2": [7]})
    >>> sf.melt_wide(wide, time="t").collect()
    shape: (2, 3)
    ┌───────────┬─────────────────────────┬───────┐
    │ sensor_id ┆ timestamp               ┆ value │
    │ ---       ┆ ---                     ┆ ---   │
    │ str       ┆ datetime[μs, UTC]       ┆ f64   │
    ╞═══════════╪═════════════════════════╪═══════╡
    │ P-1       ┆ 2026-01-01 00:00:00 UTC ┆ 1.5   │
    │ P-2       ┆ 2026-01-01 00:00:00 UTC ┆ 7.0   │
    └───────────┴─────────────────────────┴───────┘
    """
    lf = _to_lazy(frame, storage_options=None)
    schema = lf.collect_schema()
    if time not in schema:
        msg = f"time column {time!r} not found; columns are {preview(schema.names())}"
        raise SensorSchemaError(msg)
    on = list(sensors) if sensors is not None else [c for c in schema.names() if c != time]
    unknown = [c for c in on if c not in schema]
    if unknown:
        msg = f"sensor columns not found: {preview(unknown)}"
        raise SensorSchemaError(msg)
    bad = [c for c in on if not (schema[c].is_numeric() or schema[c] == pl.Null)]
    if bad:
        msg = f"sensor columns must be numeric; not numeric: {preview(bad)}"
        raise SensorSchemaError(msg)
    if not on:
        msg = "no sensor columns to melt"
        raise SensorSchemaError(msg)
    long = lf.select(pl.col(time), *(pl.col(c).cast(pl.Float64) for c in on)).unpivot(
        index=time, on=on, variable_name=SENSOR, value_name=VALUE
    )
    return _canonicalize(long, Columns(time=time), validate=validate)


def require_rows(frame: pl.DataFrame, what: str) -> pl.DataFrame:
    """
    Return ``frame`` unchanged, or raise :class:`EmptyFrameError` if it has no rows.

    Examples
    --------
    >>> sf.frame.require_rows(pl.DataFrame({"value": []}), "fitting a normalizer")
    Traceback (most recent call last):
    ...
    sensorframe.errors.EmptyFrameError: fitting a normalizer needs data, but the frame has no rows
    """
    if frame.height == 0:
        msg = f"{what} needs data, but the frame has no rows"
        raise EmptyFrameError(msg)
    return frame


def _from_numpy(values: np.ndarray, *, timestamps: Any, sensor_id: str | None) -> pl.LazyFrame:
    if values.ndim != 1:
        msg = f"a NumPy source must be 1-D (one sensor), got shape {values.shape}"
        raise SensorSchemaError(msg)
    if timestamps is None or sensor_id is None:
        msg = "a NumPy source needs `timestamps=` and `sensor_id=`"
        raise SensorSchemaError(msg)
    try:
        times = pl.Series(TIME, timestamps)
    except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        msg = f"could not read `timestamps` as times: {exc}"
        raise SensorSchemaError(msg) from exc
    if len(times) != len(values):
        msg = f"`timestamps` has {len(times)} entries but `values` has {len(values)}"
        raise SensorSchemaError(msg)
    if not np.issubdtype(values.dtype, np.number):
        msg = f"`values` must be numeric, got dtype {values.dtype}"
        raise SensorSchemaError(msg)
    return pl.DataFrame(
        {
            SENSOR: pl.repeat(sensor_id, len(values), dtype=pl.String, eager=True),
            TIME: times,
            VALUE: pl.Series(VALUE, values.astype(np.float64)),
        }
    ).lazy()


def _to_lazy(source: Any, *, storage_options: dict[str, str] | None) -> pl.LazyFrame:
    if isinstance(source, pl.LazyFrame):
        return source
    if isinstance(source, pl.DataFrame):
        return source.lazy()
    if isinstance(source, str | os.PathLike):
        return _scan_path(os.fspath(source), storage_options=storage_options)
    module = type(source).__module__.split(".")[0]
    try:
        if module == "pyarrow":
            import pyarrow as pa
            import pyarrow.dataset as pads

            if isinstance(source, pads.Dataset):
                return pl.scan_pyarrow_dataset(source)
            if isinstance(source, pa.RecordBatchReader):
                source = source.read_all()
            if isinstance(source, pa.Table | pa.RecordBatch):
                return pl.DataFrame(pl.from_arrow(source)).lazy()
        if module == "pandas":
            return pl.from_pandas(source).lazy()
        if hasattr(source, "__arrow_c_stream__"):
            import pyarrow as pa

            return pl.DataFrame(pl.from_arrow(pa.table(source))).lazy()
    except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
        msg = f"could not read {type(source).__name__} as a table: {exc}"
        raise SourceError(msg) from exc
    msg = (
        f"cannot read a {type(source).__module__}.{type(source).__name__} as sensor data; "
        "pass a polars/pyarrow/pandas frame, an Arrow stream, a path or a NumPy array"
    )
    raise SourceError(msg)


def _scan_path(path: str, *, storage_options: dict[str, str] | None) -> pl.LazyFrame:
    is_uri = "://" in path and not path.startswith("file://")
    local = Path(path.removeprefix("file://"))
    suffix = Path(path).suffix.lower()
    if not is_uri and not any(ch in path for ch in "*?[") and not local.exists():
        msg = f"no such file or table: {path}"
        raise SourceError(msg)
    try:
        if suffix in {".parquet", ".pq"}:
            return pl.scan_parquet(path, storage_options=storage_options)
        if suffix in {".csv", ".tsv", ".txt"}:
            return pl.scan_csv(path, separator="\t" if suffix == ".tsv" else ",")
        if suffix in {".arrow", ".ipc", ".feather"}:
            return pl.scan_ipc(path, storage_options=storage_options)
        if is_uri or (local / "_delta_log").is_dir():
            return pl.scan_delta(path, storage_options=storage_options)
        if local.is_dir():
            return pl.scan_parquet(local / "**" / "*.parquet")
    except Exception as exc:  # deltalake and object-store errors have no common base
        msg = f"could not read {path}: {exc}"
        raise SourceError(msg) from exc
    msg = f"cannot tell the format of {path}: use .parquet, .csv, .arrow or a Delta table"
    raise SourceError(msg)


def _canonicalize(lf: pl.LazyFrame, cols: Columns, *, validate: bool) -> pl.LazyFrame:
    try:
        schema = lf.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        msg = f"could not read the input's schema: {exc}"
        raise SourceError(msg) from exc
    wanted = {cols.sensor: SENSOR, cols.time: TIME, cols.value: VALUE}
    missing = [c for c in wanted if c not in schema]
    if missing:
        msg = (
            f"missing column(s) {missing}; the input has {preview(schema.names())}. "
            "Map other names with columns=sf.Columns(sensor=..., time=..., value=...)"
        )
        raise SensorSchemaError(msg)
    clash = [c for c in KEYS if c in schema and c not in wanted]
    if clash:
        msg = f"column(s) {clash} would be overwritten by the mapped {list(wanted)}"
        raise SensorSchemaError(msg)
    sensor = _sensor_expr(cols.sensor, schema[cols.sensor])
    time = _time_expr(cols.time, schema[cols.time])
    value = _value_expr(cols.value, schema[cols.value])
    extras = [c for c in schema.names() if c not in wanted]
    out = lf.select(sensor, time, value, *extras)
    if validate:
        _validate(lf, out, cols)
    return out


def _sensor_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return pl.col(name).alias(SENSOR)
    if isinstance(dtype, pl.Categorical | pl.Enum) or dtype.is_integer() or dtype == pl.Null:
        return pl.col(name).cast(pl.String).alias(SENSOR)
    msg = f"sensor column {name!r} must hold strings or integers, got {dtype}"
    raise SensorSchemaError(msg)


def _time_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        col = (
            col.dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else col.dt.convert_time_zone("UTC")
        )
        return col.dt.cast_time_unit("us").alias(TIME)
    if dtype in (pl.Date, pl.Null):
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias(TIME)
    if dtype == pl.String:
        # Offsets in the text ("+02:00", "Z") are honoured; text without one is UTC.
        parsed = col.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
        return parsed.alias(TIME)
    msg = (
        f"time column {name!r} must hold datetimes, dates or ISO-8601 text, got {dtype}; "
        "convert epoch numbers first, e.g. pl.from_epoch(col, time_unit='s')"
    )
    raise SensorSchemaError(msg)


def _value_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    if not (dtype.is_numeric() or dtype == pl.Null):
        msg = f"value column {name!r} must be numeric, got {dtype}"
        raise SensorSchemaError(msg)
    col = pl.col(name).cast(pl.Float64)
    return pl.when(col.is_finite()).then(col).alias(VALUE)


def _validate(raw: pl.LazyFrame, out: pl.LazyFrame, cols: Columns) -> None:
    checks = pl.concat(
        [
            raw.select(
                null_sensor=pl.col(cols.sensor).is_null().sum(),
                null_time=pl.col(cols.time).is_null().sum(),
            ),
            out.select(
                empty_sensor=(pl.col(SENSOR) == "").sum(),
                bad_time=pl.col(TIME).is_null().sum(),
                first_bad_time=pl.col(TIME).is_null().arg_true().first(),
            ),
        ],
        how="horizontal",
    )
    try:
        row = checks.collect().row(0, named=True)
    except (pl.exceptions.PolarsError, OSError) as exc:
        msg = f"could not read the input: {exc}"
        raise SensorSchemaError(msg) from exc
    if row["null_sensor"]:
        msg = f"sensor column {cols.sensor!r} has {row['null_sensor']} null id(s)"
        raise SensorSchemaError(msg)
    if row["empty_sensor"]:
        msg = f"sensor column {cols.sensor!r} has {row['empty_sensor']} empty id(s)"
        raise SensorSchemaError(msg)
    if row["null_time"]:
        msg = f"time column {cols.time!r} has {row['null_time']} null timestamp(s)"
        raise SensorSchemaError(msg)
    if row["bad_time"]:
        first = row["first_bad_time"]
        example = raw.select(pl.col(cols.time).slice(first, 1)).collect().item()
        msg = (
            f"time column {cols.time!r} has {row['bad_time']} value(s) that are not "
            f"timestamps, first at row {first}: {example!r}"
        )
        raise SensorSchemaError(msg)
