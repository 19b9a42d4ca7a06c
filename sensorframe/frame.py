"""
The sensor frame: one reading per row, in three canonical columns.

=============  ==========================  =========================================
column         type                        notes
=============  ==========================  =========================================
``sensor_id``  ``String``                  any non-empty id
``timestamp``  ``Datetime("us", "UTC")``   naive times are UTC or in ``timezone=``
``value``      ``Float64``                 NaN and ±inf become null (missing)
=============  ==========================  =========================================

Every public function of sensorframe accepts anything :func:`scan` accepts and starts
by turning it into this canonical, validated ``pl.LazyFrame``. Other column names are
mapped once, here, with :class:`Columns`; extra columns are kept after the three keys,
except names starting with ``__sf_``, which sensorframe uses internally.

Nothing is guessed: textual times are ISO-8601 or follow ``time_format=`` (Polars alone
would infer a format from the first value and read "1/2/2022" as 1 February), text in
the value column must be numbers, and a time outside 0001-01-02 .. 9999-12-31 (which no
cast to microseconds could hold) is refused before any cast, so nothing wraps or panics.

Why NaN becomes null: a NaN poisons every Polars rolling window that contains it and
``ewm_mean`` never recovers after one, while null is skipped (and ``min_samples``
counts non-null values), which matches what pandas users expect.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from deltalake.exceptions import DeltaError

from sensorframe._utils import preview
from sensorframe.errors import (
    EmptyFrameError,
    InvalidParameterError,
    InvalidTypeError,
    SensorFrameError,
    SensorSchemaError,
    SourceError,
)

__all__ = [
    "SENSOR",
    "TIME",
    "VALUE",
    "Columns",
    "melt_wide",
    "require_rows",
    "scan",
]

# What reading a source can raise: a Delta table is opened lazily, at the first collect.
_READ_ERRORS = (pl.exceptions.PolarsError, OSError, DeltaError)

SENSOR = "sensor_id"
TIME = "timestamp"
VALUE = "value"
KEYS = (SENSOR, TIME, VALUE)
CANONICAL_SCHEMA = pl.Schema(
    [(SENSOR, pl.String()), (TIME, pl.Datetime("us", "UTC")), (VALUE, pl.Float64())]
)
RESERVED_PREFIX = "__sf_"
"""Column names sensorframe uses internally start with this; user columns may not."""
TIME_RANGE = (datetime(1, 1, 2), datetime(9999, 12, 31))
"""Supported times (naive bounds, a day inside Python's range so any offset still fits)."""
Ambiguous = Literal["raise", "infer", "earliest", "latest"]


@dataclass(frozen=True, slots=True)
class _ReadOptions:
    time_format: str | None
    timezone: str | None
    ambiguous: Ambiguous
    validate: bool


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
    time_format: str | None = None,
    timezone: str | None = None,
    ambiguous: Ambiguous = "raise",
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
        Check the data (one aggregate pass): null or empty sensor ids; null,
        unparseable, out-of-range or (with ``timezone``) non-existent or ambiguous
        times; text in the value column that is not a number. The error names the
        file, the column, the first bad row (0-based, header not counted) and its
        value. Schema problems are always checked; with ``validate=False`` the values
        these checks would refuse become null.
    time_format
        How a textual time column is written, as a strftime format (Polars'
        ``str.to_datetime(format=...)``), e.g. ``"%m/%d/%Y %H:%M"``. Without it only
        ISO-8601 text is read (``2026-01-31``, ``2026-01-31T13:45``, with a space for
        the "T", seconds, a fraction, an offset ``Z``/``+02``/``+0200``/``+02:00``): any
        other text raises, as "1/2/2022" cannot be read without knowing whether the
        month or the day comes first. Ignored for columns that already hold times.
    timezone
        IANA zone (``"Europe/Berlin"``) of naive times: datetimes without a zone,
        dates and text without an offset are read as wall-clock times there and
        converted to UTC. Times that carry a zone or offset are converted as they
        are. By default naive times are UTC. A wall-clock time skipped when clocks
        go forward (02:30 on 2022-03-27 in Berlin) does not exist and raises.
    ambiguous
        What a naive wall-clock time that occurs twice when clocks go back means
        (02:30 on 2022-10-30 in Berlin, first on summer time, then an hour later on
        winter time):

        - ``"raise"`` (the default): raise, naming the first such time;
        - ``"infer"``: the readings are in time order per sensor, so each sensor's
          readings of the repeated hour are on summer time until the wall clock first
          fails to advance (02:50 then 02:00, or 02:00 twice), and on winter time from
          that reading on;
        - ``"earliest"`` / ``"latest"``: every such time on summer / winter time.

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
        If a column is missing, has the wrong type or holds invalid values (the
        message names the file, column, row and value), or an extra column's name
        starts with ``__sf_``.
    InvalidParameterError, InvalidTypeError
        If ``time_format``, ``timezone`` or ``ambiguous`` is not valid.

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

    Text in another format needs ``time_format``; naive local times need ``timezone``:

    >>> us = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["1/2/2022 9:30"], "value": [1]})
    >>> sf.scan(us)
    Traceback (most recent call last):
    ...
    sensorframe.errors.SensorSchemaError: time column 'timestamp' ... '1/2/2022 9:30'. ...
    >>> lf = sf.scan(us, time_format="%m/%d/%Y %H:%M", timezone="America/New_York")
    >>> lf.collect()["timestamp"].item()
    datetime.datetime(2022, 1, 2, 14, 30, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
    """
    cols = columns or Columns()
    opts = _read_options(time_format, timezone, ambiguous, validate=validate)
    if isinstance(source, np.ndarray):
        lf = _from_numpy(source, timestamps=timestamps, sensor_id=sensor_id)
        cols = Columns()
    else:
        if timestamps is not None or sensor_id is not None:
            msg = "`timestamps` and `sensor_id` are only used with a NumPy array source"
            raise InvalidTypeError(msg)
        lf = _to_lazy(source, cols, storage_options=storage_options)
    with _naming(source):
        return _canonicalize(lf, cols, opts)


def melt_wide(
    frame: Any,
    *,
    time: str,
    sensors: Sequence[str] | None = None,
    validate: bool = True,
    time_format: str | None = None,
    timezone: str | None = None,
    ambiguous: Ambiguous = "raise",
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
    validate, time_format, timezone, ambiguous
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
    opts = _read_options(time_format, timezone, ambiguous, validate=validate)
    lf = _to_lazy(frame, Columns(time=time), storage_options=None)
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
    with _naming(frame):
        return _canonicalize(long, Columns(time=time), opts)


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


def _read_options(
    time_format: object, timezone: object, ambiguous: object, *, validate: bool
) -> _ReadOptions:
    if time_format is not None and not isinstance(time_format, str):
        msg = (
            f"`time_format` must be a strftime string such as '%m/%d/%Y %H:%M', got {time_format!r}"
        )
        raise InvalidTypeError(msg)
    if time_format == "":
        msg = "`time_format` must not be empty; pass None to read ISO-8601 text"
        raise InvalidParameterError(msg)
    if timezone is not None and not isinstance(timezone, str):
        msg = f"`timezone` must be an IANA zone name such as 'Europe/Berlin', got {timezone!r}"
        raise InvalidTypeError(msg)
    if timezone is not None:
        try:
            pl.Series([0], dtype=pl.Datetime("us")).dt.replace_time_zone(timezone)
        except pl.exceptions.PolarsError as exc:
            msg = f"unknown time zone {timezone!r}: use an IANA name such as 'Europe/Berlin'"
            raise InvalidParameterError(msg) from exc
    if ambiguous not in ("raise", "infer", "earliest", "latest"):
        msg = f"`ambiguous` must be 'raise', 'infer', 'earliest' or 'latest', got {ambiguous!r}"
        raise InvalidParameterError(msg)
    return _ReadOptions(
        time_format=time_format,
        timezone=None if timezone == "UTC" else timezone,
        ambiguous=ambiguous,
        validate=validate,
    )


@contextmanager
def _naming(source: Any) -> Iterator[None]:
    """Prefix the message of a SensorFrameError with the path ``source`` names, if any."""
    try:
        yield
    except SensorFrameError as exc:
        if not isinstance(source, str | os.PathLike):
            raise
        msg = f"{os.fspath(source)}: {exc}"
        raise type(exc)(msg) from exc


def _to_lazy(source: Any, cols: Columns, *, storage_options: dict[str, str] | None) -> pl.LazyFrame:
    if isinstance(source, pl.LazyFrame):
        return source
    if isinstance(source, pl.DataFrame):
        return source.lazy()
    if isinstance(source, str | os.PathLike):
        return _scan_path(os.fspath(source), cols, storage_options=storage_options)
    module = type(source).__module__.split(".")[0]
    try:
        table = _arrow_table(source, module, cols)
    except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
        msg = f"could not read {type(source).__name__} as a table: {exc}"
        raise SourceError(msg) from exc
    if isinstance(table, pl.LazyFrame):
        return table
    if table is not None:
        return _from_arrow(table)
    msg = (
        f"cannot read a {type(source).__module__}.{type(source).__name__} as sensor data; "
        "pass a polars/pyarrow/pandas frame, an Arrow stream, a path or a NumPy array"
    )
    raise SourceError(msg)


def _arrow_table(source: Any, module: str, cols: Columns) -> Any:
    """Read an Arrow-like ``source`` as a ``pa.Table`` (a Dataset stays lazy), or None."""
    import pyarrow as pa

    if module == "pyarrow":
        import pyarrow.dataset as pads

        if isinstance(source, pads.Dataset):
            # Polars' scan would wrap second-unit times (see _from_arrow): read those.
            if any(_in_seconds(field.type) for field in source.schema):
                return source.to_table()
            return pl.scan_pyarrow_dataset(source)
        if isinstance(source, pa.RecordBatchReader):
            return source.read_all()
        if isinstance(source, pa.RecordBatch):
            return pa.Table.from_batches([source])
        if isinstance(source, pa.Table):
            return source
    if module == "pandas":
        frame = _pandas_index_as_columns(source, cols)
        return pa.Table.from_pandas(frame, preserve_index=False)
    if hasattr(source, "__arrow_c_stream__"):
        return pa.table(source)
    return None


def _from_arrow(table: Any) -> pl.LazyFrame:
    """
    Turn a ``pa.Table`` into a LazyFrame, converting second-unit columns first.

    Polars reads Arrow ``timestamp[s]`` and ``duration[s]`` by multiplying by 1000
    unchecked (2**62 s wraps to 1970-01-01): they are cast to milliseconds here with
    Arrow's overflow check, and a value that does not fit is refused.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, field in enumerate(table.schema):
        kind = field.type
        if not _in_seconds(kind):
            continue
        ms = pa.timestamp("ms", kind.tz) if pa.types.is_timestamp(kind) else pa.duration("ms")
        try:
            column = table.column(i).cast(ms)
        except pa.ArrowInvalid as exc:
            seconds = table.column(i).cast(pa.int64())
            limit = (2**63 - 1) // 1000
            row = pc.index(pc.or_(pc.less(seconds, -limit), pc.greater(seconds, limit)), True)
            msg = (
                f"column {field.name!r} holds seconds too large for any time, first at "
                f"row {row.as_py()}: {seconds[row.as_py()].as_py()} s"
            )
            raise SensorSchemaError(msg) from exc
        table = table.set_column(i, field.with_type(ms), column)
    return pl.DataFrame(pl.from_arrow(table)).lazy()


def _in_seconds(kind: Any) -> bool:
    """Tell whether an Arrow type is a timestamp or duration in seconds."""
    import pyarrow as pa

    return (pa.types.is_timestamp(kind) or pa.types.is_duration(kind)) and kind.unit == "s"


def _pandas_index_as_columns(frame: Any, cols: Columns) -> Any:
    """
    Move index levels that hold a key column into columns (pandas keeps time there).

    A level named like a missing key column becomes that column; a ``DatetimeIndex``
    becomes the time column when the frame has none, whatever its name.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        return frame
    index = frame.index
    names = [cols.sensor, cols.time, cols.value]
    levels = [n for n in index.names if n in names and n not in frame.columns]
    if levels:
        return frame.reset_index(level=levels)
    if isinstance(index, pd.DatetimeIndex) and cols.time not in frame.columns:
        return frame.reset_index(names=cols.time)
    return frame


def _scan_path(path: str, cols: Columns, *, storage_options: dict[str, str] | None) -> pl.LazyFrame:
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
            # The key columns are read as text and parsed strictly by _canonicalize: a
            # type inferred from the first rows would fail as a raw error further on, and
            # the other columns are inferred from the whole file for the same reason,
            # once, here (a scan left to infer would infer again at every collect).
            separator = "\t" if suffix == ".tsv" else ","
            keys = dict.fromkeys([cols.sensor, cols.time, cols.value], pl.String)
            schema = pl.scan_csv(
                path, separator=separator, schema_overrides=keys, infer_schema_length=None
            ).collect_schema()
            return pl.scan_csv(path, separator=separator, schema=schema)
        if suffix in {".arrow", ".ipc", ".feather"}:
            if not is_uri:
                import pyarrow.dataset as pads

                dataset = pads.dataset(path, format="ipc")
                if any(_in_seconds(field.type) for field in dataset.schema):
                    return _from_arrow(dataset.to_table())  # as for a pyarrow Dataset
            return pl.scan_ipc(path, storage_options=storage_options)
        if is_uri or (local / "_delta_log").is_dir():
            return pl.scan_delta(path, storage_options=storage_options)
        if local.is_dir():
            return pl.scan_parquet(local / "**" / "*.parquet")
    except SensorFrameError:
        raise
    except Exception as exc:  # deltalake and object-store errors have no common base
        msg = f"could not read {path}: {exc}"
        raise SourceError(msg) from exc
    msg = f"cannot tell the format of {path}: use .parquet, .csv, .arrow or a Delta table"
    raise SourceError(msg)


def _canonicalize(lf: pl.LazyFrame, cols: Columns, opts: _ReadOptions) -> pl.LazyFrame:
    try:
        schema = lf.collect_schema()
    except _READ_ERRORS as exc:
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
    extras = [c for c in schema.names() if c not in wanted]
    reserved = [c for c in extras if c.startswith(RESERVED_PREFIX)]
    if reserved:
        msg = (
            f"column(s) {preview(reserved)} start with {RESERVED_PREFIX!r}, a prefix "
            "sensorframe uses for internal columns; rename them"
        )
        raise SensorSchemaError(msg)
    sensor = _sensor_expr(cols.sensor, schema[cols.sensor])
    time = _time_expr(lf, cols, schema[cols.time], opts)
    value = _value_expr(cols.value, schema[cols.value])
    # Text is parsed into helper columns once (a Polars expression used twice is
    # computed twice); the final select drops them.
    staged = lf
    for stage in time.stages:
        staged = staged.with_columns(**stage)
    out = staged.select(sensor, time.utc.alias(TIME), value.parsed.alias(VALUE), *extras)
    if opts.validate:
        _validate(staged, cols, time, value, opts)
    return out


def _sensor_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return pl.col(name).alias(SENSOR)
    if isinstance(dtype, pl.Categorical | pl.Enum) or dtype.is_integer() or dtype == pl.Null:
        return pl.col(name).cast(pl.String).alias(SENSOR)
    msg = f"sensor column {name!r} must hold strings or integers, got {dtype}"
    raise SensorSchemaError(msg)


@dataclass(frozen=True, slots=True)
class _Time:
    """How one time column becomes ``Datetime("us", "UTC")``, with what validation needs."""

    utc: pl.Expr
    """The canonical time; null where the input is not a valid time."""
    in_range: pl.Expr
    """False where the time lies outside the supported range (checked before any cast)."""
    local: pl.Expr | None
    """The naive wall-clock time to localise in ``timezone`` (null where the row carries
    its own offset), or None when no zone other than UTC applies."""
    mismatch: str
    """What is wrong with a time that cannot be read ("that are not timestamps")."""
    hint: str = ""
    """How to fix it, appended to the message."""
    stages: tuple[dict[str, pl.Expr], ...] = ()
    """Helper columns the expressions read, added in this order with ``with_columns``."""


@dataclass(frozen=True, slots=True)
class _Value:
    parsed: pl.Expr
    bad: pl.Expr | None
    """True where a textual value is not a number; None for numeric columns."""


def _time_expr(lf: pl.LazyFrame, cols: Columns, dtype: pl.DataType, opts: _ReadOptions) -> _Time:
    name, col, sensor = cols.time, pl.col(cols.time), pl.col(cols.sensor)
    if dtype == pl.String and opts.time_format is not None:
        parsed = col.str.to_datetime(opts.time_format, time_unit="us", strict=False)
        parsed_dtype = lf.select(parsed).collect_schema().dtypes()[0]
        mismatch = f"that do not match time_format={opts.time_format!r}"
        time = _from_datetime(pl.col(_WALL), parsed_dtype, sensor, opts, mismatch=mismatch)
        return replace(time, stages=({_WALL: parsed},))
    if dtype == pl.String:
        return _from_iso_text(col, sensor, opts)
    if isinstance(dtype, pl.Datetime) or dtype in (pl.Date, pl.Null):
        return _from_datetime(col, dtype, sensor, opts, mismatch="that are not timestamps")
    msg = (
        f"time column {name!r} must hold datetimes, dates or ISO-8601 text, got {dtype}; "
        "convert epoch numbers first, e.g. pl.from_epoch(col, time_unit='s')"
    )
    raise SensorSchemaError(msg)


def _from_datetime(
    col: pl.Expr, dtype: pl.DataType, sensor: pl.Expr, opts: _ReadOptions, *, mismatch: str
) -> _Time:
    if dtype == pl.Null:
        col, dtype = col.cast(pl.Datetime("us")), pl.Datetime("us")
    unit = dtype.time_unit if isinstance(dtype, pl.Datetime) else "d"
    lo, hi = _physical_bounds(unit)
    in_range = col.to_physical().is_between(lo, hi)
    # Out-of-range values are masked before any cast: a cast would overflow and panic.
    safe = pl.when(in_range).then(col)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        utc = safe.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        return _Time(utc=utc, in_range=in_range, local=None, mismatch=mismatch)
    naive = safe.cast(pl.Datetime("us"))
    return _Time(
        utc=_localise(naive, sensor, opts),
        in_range=in_range,
        local=None if opts.timezone is None else naive,
        mismatch=mismatch,
    )


# Helper columns of the text parsers (names with the reserved prefix cannot collide).
_PARTS, _WALL, _OFFSET = (
    f"{RESERVED_PREFIX}time_parts",
    f"{RESERVED_PREFIX}wall",
    f"{RESERVED_PREFIX}offset",
)

# ISO-8601 as written by most systems: a date, optionally a time with "T" or a space,
# seconds, a fraction and an offset ("Z", "+02", "+0200", "+02:00").
_ISO = (
    r"^(?<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?<hm>\d{2}:\d{2})(?<sec>:\d{2}(?:\.\d{1,9})?)?"
    r"(?<off>Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?$"
)


def _from_iso_text(col: pl.Expr, sensor: pl.Expr, opts: _ReadOptions) -> _Time:
    # Parsed field by field with one fixed format: Polars' own inference guesses a format
    # from the first value (and reads "1/2/2022" as 1 February), so it is never used.
    parts = pl.col(_PARTS)
    wall_text = pl.concat_str(
        parts.struct["date"],
        pl.lit(" "),
        parts.struct["hm"].fill_null("00:00"),
        parts.struct["sec"].fill_null(":00"),
    )
    offset = parts.struct["off"].str.replace("Z", "+00:00").str.replace(":", "").str.pad_end(5, "0")
    minutes = offset.str.slice(1, 2).cast(pl.Int64) * 60 + offset.str.slice(3, 2).cast(pl.Int64)
    stages = (
        {_PARTS: col.str.strip_chars().str.extract_groups(_ISO)},
        {
            _WALL: wall_text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False),
            _OFFSET: pl.when(offset.str.starts_with("-")).then(-minutes).otherwise(minutes),
        },
    )
    lo, hi = _physical_bounds("us")
    in_range = pl.col(_WALL).to_physical().is_between(lo, hi)
    wall = pl.when(in_range).then(pl.col(_WALL))
    own_offset = pl.col(_OFFSET)
    naive = pl.when(own_offset.is_null()).then(wall)
    utc = (
        pl.when(own_offset.is_null())
        .then(_localise(naive, sensor, opts))
        .otherwise((wall - pl.duration(minutes=own_offset)).dt.replace_time_zone("UTC"))
    )
    return _Time(
        stages=stages,
        utc=utc,
        in_range=in_range,
        local=None if opts.timezone is None else naive,
        mismatch="that are not timestamps",
        hint=(
            ". Without time_format= only ISO-8601 text is read (2026-01-31, "
            "2026-01-31T13:45, 2026-01-31 13:45:00.25+02:00); give the format of other "
            "text, e.g. time_format='%m/%d/%Y %H:%M' for '1/31/2026 13:45'"
        ),
    )


def _localise(naive: pl.Expr, sensor: pl.Expr, opts: _ReadOptions) -> pl.Expr:
    """Read naive wall-clock times in ``opts.timezone`` (UTC if None), as UTC."""
    zone = opts.timezone
    if zone is None:
        return naive.dt.replace_time_zone("UTC")
    if opts.ambiguous != "infer":
        ambiguous = "null" if opts.ambiguous == "raise" else opts.ambiguous
        local = naive.dt.replace_time_zone(zone, ambiguous=ambiguous, non_existent="null")
        return local.dt.convert_time_zone("UTC")
    earliest = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    latest = naive.dt.replace_time_zone(zone, ambiguous="latest", non_existent="null")
    # Each sensor's readings of one repeated hour, in row order: from the first step
    # that does not advance the wall clock on (02:50 -> 02:00), they are the second pass.
    repeated = (earliest != latest).fill_null(False)
    turned = (naive.diff() <= 0).fill_null(False).cum_sum().over(sensor, naive.dt.date(), repeated)
    local = pl.when(repeated & (turned > 0)).then(latest).otherwise(earliest)
    return local.dt.convert_time_zone("UTC")


def _physical_bounds(unit: str) -> tuple[int, int]:
    """Give :data:`TIME_RANGE` as integers of ``unit`` ("ns", "us", "ms", "d" for dates)."""
    epoch = datetime(1970, 1, 1)
    step = {
        "ns": timedelta(microseconds=1),
        "us": timedelta(microseconds=1),
        "ms": timedelta(milliseconds=1),
        "d": timedelta(days=1),
    }[unit]
    scale = 1000 if unit == "ns" else 1
    lo = (TIME_RANGE[0] - epoch) // step * scale
    hi = (TIME_RANGE[1] - epoch) // step * scale
    return max(lo, -(2**63) + 1), min(hi, 2**63 - 1)


def _value_expr(name: str, dtype: pl.DataType) -> _Value:
    col = pl.col(name)
    if dtype == pl.String:
        # Text is parsed strictly: anything that is not a number is reported, never nulled.
        text = col.str.strip_chars()
        number = text.cast(pl.Float64, strict=False)
        return _Value(parsed=_finite(number), bad=(text != "") & number.is_null())
    if dtype.is_numeric() or dtype == pl.Null:
        return _Value(parsed=_finite(col.cast(pl.Float64)), bad=None)
    msg = f"value column {name!r} must be numeric, got {dtype}"
    raise SensorSchemaError(msg)


def _finite(col: pl.Expr) -> pl.Expr:
    return pl.when(col.is_finite()).then(col)


def _validate(
    raw: pl.LazyFrame, cols: Columns, time: _Time, value: _Value, opts: _ReadOptions
) -> None:
    raw_time = pl.col(cols.time)
    present = raw_time.is_not_null()
    checks: dict[str, pl.Expr] = {"null sensor": pl.col(cols.sensor).is_null()}
    if not raw.collect_schema()[cols.sensor].is_integer():  # an integer is never empty
        checks["empty sensor"] = pl.col(cols.sensor).cast(pl.String) == ""
    checks["null time"] = raw_time.is_null()
    checks["out of range"] = present & ~time.in_range
    if time.local is not None:
        zone = opts.timezone
        earliest = time.local.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        latest = time.local.dt.replace_time_zone(zone, ambiguous="latest", non_existent="null")
        checks["non-existent"] = time.local.is_not_null() & earliest.is_null()
        if opts.ambiguous == "raise":
            checks["ambiguous"] = earliest != latest
    checks["bad time"] = present & time.utc.is_null()
    if value.bad is not None:
        checks["bad value"] = value.bad
    query = raw.select(
        *(expr.fill_null(False).sum().alias(f"{key} count") for key, expr in checks.items()),
        *(expr.fill_null(False).arg_true().first().alias(key) for key, expr in checks.items()),
    )
    try:
        found = query.collect().row(0, named=True)
    except _READ_ERRORS as exc:
        msg = f"could not read the input: {exc}"
        raise SensorSchemaError(msg) from exc
    failed = next((key for key in checks if found[f"{key} count"]), None)
    if failed is None:
        return
    count, row = found[f"{failed} count"], found[failed]
    column = (
        cols.value if failed == "bad value" else cols.sensor if "sensor" in failed else cols.time
    )
    example = _example(raw, column, row, physical=failed == "out of range")
    messages = {
        "null sensor": f"sensor column {column!r} has {count} null id(s), first at row {row}",
        "empty sensor": f"sensor column {column!r} has {count} empty id(s), first at row {row}",
        "null time": f"time column {column!r} has {count} null timestamp(s), first at row {row}",
        "out of range": (
            f"time column {column!r} has {count} time(s) outside {TIME_RANGE[0]} .. "
            f"{TIME_RANGE[1]}, first at row {row}: {example}"
        ),
        "non-existent": (
            f"time column {column!r} has {count} local time(s) that do not exist in "
            f"{opts.timezone} (skipped by a daylight-saving change), first at row {row}: "
            f"{example}"
        ),
        "ambiguous": (
            f"time column {column!r} has {count} local time(s) that occur twice in "
            f"{opts.timezone} (daylight saving ends), first at row {row}: {example}; "
            "give times with offsets, or choose a rule: ambiguous='infer' (readings in "
            "time order), 'earliest' or 'latest'"
        ),
        "bad time": (
            f"time column {column!r} has {count} value(s) {time.mismatch}, "
            f"first at row {row}: {example}{time.hint}"
        ),
        "bad value": (
            f"value column {column!r} has {count} value(s) that are not numbers, "
            f"first at row {row}: {example}"
        ),
    }
    msg = messages[failed]
    raise SensorSchemaError(msg)


def _example(raw: pl.LazyFrame, column: str, row: int, *, physical: bool) -> str:
    """Show the value at ``row`` for a message; with ``physical``, a time as its integer."""
    dtype = raw.collect_schema()[column]
    col = pl.col(column).slice(row, 1)
    if physical and isinstance(dtype, pl.Datetime | pl.Date):
        unit = dtype.time_unit if isinstance(dtype, pl.Datetime) else "days"
        return f"{raw.select(col.to_physical()).collect().item()} ({unit} since 1970-01-01)"
    value = raw.select(col).collect().item()
    return repr(value) if isinstance(value, str) else str(value)
