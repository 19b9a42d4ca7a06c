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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sensorframe._columns import (
    CANONICAL_SCHEMA,
    KEYS,
    RESERVED_PREFIX,
    SENSOR,
    TIME,
    VALUE,
    Columns,
    require_numeric,
)
from sensorframe._sources import READ_ERRORS, from_numpy, naming, to_lazy
from sensorframe._times import (
    TIME_RANGE,
    Ambiguous,
    ParsedTime,
    ReadOptions,
    read_options,
    time_expr,
)
from sensorframe._utils import preview
from sensorframe.errors import EmptyFrameError, InvalidTypeError, SensorSchemaError, SourceError

__all__ = [
    "CANONICAL_SCHEMA",
    "KEYS",
    "RESERVED_PREFIX",
    "SENSOR",
    "TIME",
    "TIME_RANGE",
    "VALUE",
    "Ambiguous",
    "Columns",
    "melt_wide",
    "require_rows",
    "scan",
]


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
    opts = read_options(time_format, timezone, ambiguous, validate=validate)
    if isinstance(source, np.ndarray):
        lf = from_numpy(source, timestamps=timestamps, sensor_id=sensor_id)
        cols = Columns()
    else:
        if timestamps is not None or sensor_id is not None:
            msg = "`timestamps` and `sensor_id` are only used with a NumPy array source"
            raise InvalidTypeError(msg)
        lf = to_lazy(source, cols, storage_options=storage_options)
    with naming(source):
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
    >>> long = sf.melt_wide(wide, time="t").collect()
    >>> long["timestamp"].unique().to_list()
    [datetime.datetime(2026, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
    >>> long.select("sensor_id", "value")
    shape: (2, 2)
    ┌───────────┬───────┐
    │ sensor_id ┆ value │
    │ ---       ┆ ---   │
    │ str       ┆ f64   │
    ╞═══════════╪═══════╡
    │ P-1       ┆ 1.5   │
    │ P-2       ┆ 7.0   │
    └───────────┴───────┘
    """
    opts = read_options(time_format, timezone, ambiguous, validate=validate)
    lf = to_lazy(frame, Columns(time=time), storage_options=None, text=(time,))
    schema = lf.collect_schema()
    if time not in schema:
        msg = f"time column {time!r} not found; columns are {preview(schema.names())}"
        raise SensorSchemaError(msg)
    on = list(sensors) if sensors is not None else [c for c in schema.names() if c != time]
    require_numeric(
        schema,
        on,
        among=[c for c in schema.names() if c != time],
        what="sensor column",
        also=pl.Null(),
        errors=(SensorSchemaError, SensorSchemaError),
    )
    if not on:
        msg = "no sensor columns to melt"
        raise SensorSchemaError(msg)
    # melted under private names: a sensor column may itself be called "value" or "sensor_id"
    names, values = "__sf_sensor", "__sf_value"
    long = (
        lf.select(pl.col(time), *(pl.col(c).cast(pl.Float64) for c in on))
        .unpivot(index=time, on=on, variable_name=names, value_name=values)
        .rename({names: SENSOR, values: VALUE})
    )
    with naming(frame):
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


def _canonicalize(lf: pl.LazyFrame, cols: Columns, opts: ReadOptions) -> pl.LazyFrame:
    try:
        schema = lf.collect_schema()
    except READ_ERRORS as exc:
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
    time = time_expr(lf, cols, schema[cols.time], opts)
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
class _Value:
    parsed: pl.Expr
    bad: pl.Expr | None
    """True where a textual value is not a number; None for numeric columns."""


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
    raw: pl.LazyFrame, cols: Columns, time: ParsedTime, value: _Value, opts: ReadOptions
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
    except READ_ERRORS as exc:
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
