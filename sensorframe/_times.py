"""
Times and durations: reading a time column as UTC, and the one duration grammar.

:func:`time_expr` turns a time column (datetimes, dates, ISO-8601 text or text in a
``time_format``) into ``Datetime("us", "UTC")``, localising naive times in a time zone
and resolving daylight-saving repeats; out-of-range times are masked before any cast.
:func:`parse_duration_us` reads every duration parameter (rolling windows, sampling
intervals ...) the same way, so ``"90min"``, ``"1h30m"``, ``"1.5h"`` and
``timedelta(minutes=90)`` are the same duration everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Literal

import polars as pl

from sensorframe._columns import RESERVED_PREFIX, Columns
from sensorframe.errors import (
    ConfigError,
    InvalidParameterError,
    InvalidTypeError,
    SensorSchemaError,
)

__all__ = [
    "MAX_DURATION",
    "TIME_RANGE",
    "Ambiguous",
    "ParsedTime",
    "ReadOptions",
    "duration_text",
    "is_duration_text",
    "parse_duration_us",
    "read_options",
    "time_expr",
]

MAX_DURATION = timedelta(days=36_525)
"""Longest duration window (100 years): longer ones would overflow the time arithmetic."""

_UNITS = r"(ns|us|ms|s|min|m|h|d|w)"
_DURATION = re.compile(rf"^(?:\d+(?:\.\d+)?{_UNITS})+$")
_PART = re.compile(rf"(\d+(?:\.\d+)?){_UNITS}")
_US_PER_UNIT: dict[str, Fraction | int] = {
    "ns": Fraction(1, 1_000),
    "us": 1,
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "min": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
    "w": 604_800_000_000,
}


def is_duration_text(text: str) -> bool:
    """
    Tell whether ``text`` is written in the duration grammar (any length, even zero).

    Examples
    --------
    >>> from sensorframe._times import is_duration_text
    >>> is_duration_text("1h30m"), is_duration_text("1 h")
    (True, False)
    """
    return _DURATION.match(text) is not None


def parse_duration_us(
    duration: str | timedelta, *, name: str = "window", limit: timedelta | None = MAX_DURATION
) -> int:
    """
    Length of a fixed duration in microseconds: a ``timedelta`` or text such as ``"1h30m"``.

    The one duration grammar of sensorframe: one or more parts, each a number (decimals
    allowed) and a unit: ``ns``, ``us``, ``ms``, ``s``, ``m`` or ``min`` (minutes), ``h``,
    ``d`` and ``w``. So ``"90min"``, ``"1h30m"``, ``"1.5h"`` and ``timedelta(minutes=90)``
    are the same duration. Calendar units (months, years) are refused because their
    length varies. A length that is not a whole number of microseconds is rounded up.

    Parameters
    ----------
    duration
        The duration.
    name
        The parameter's name, for messages.
    limit
        Longest duration accepted, :data:`MAX_DURATION` (100 years) unless given; None
        for no limit (the caller then bounds the result itself).

    Returns
    -------
    int
        Microseconds, at least 1.

    Raises
    ------
    InvalidTypeError
        If `duration` is neither text nor a ``timedelta``.
    ConfigError
        If the text is not such a duration, the duration is not longer than zero or is
        longer than `limit`.

    Examples
    --------
    >>> from datetime import timedelta
    >>> from sensorframe.features.config import parse_duration_us
    >>> parse_duration_us("1h30m"), parse_duration_us("90min"), parse_duration_us("1.5h")
    (5400000000, 5400000000, 5400000000)
    >>> parse_duration_us(timedelta(minutes=90))
    5400000000
    """
    if isinstance(duration, timedelta):
        total = Fraction(duration // timedelta(microseconds=1))
    elif isinstance(duration, str) and is_duration_text(duration):
        total = sum(
            (Fraction(number) * _US_PER_UNIT[unit] for number, unit in _PART.findall(duration)),
            start=Fraction(0),
        )
    else:
        msg = (
            f"`{name}` must be a timedelta or a duration like '30m', '90min', '1h30m', "
            f"'1.5h' (units ns, us, ms, s, m or min, h, d, w), got {duration!r}"
        )
        raise ConfigError(msg) if isinstance(duration, str) else InvalidTypeError(msg)
    if total <= 0:
        msg = f"`{name}` must be a duration longer than zero, got {duration!r}"
        raise ConfigError(msg)
    if limit is not None and total > limit // timedelta(microseconds=1):
        msg = f"`{name}` must be at most {duration_text(limit // timedelta(microseconds=1))}"
        msg += f", got {duration!r}"
        raise ConfigError(msg)
    return -(-total.numerator // total.denominator)  # ceil to whole microseconds


def duration_text(micros: int) -> str:
    """
    Write a duration in microseconds in the duration grammar, largest units first.

    Examples
    --------
    >>> from sensorframe.features.config import duration_text
    >>> duration_text(5_400_000_000), duration_text(1_500)
    ('1h30m', '1ms500us')
    """
    parts = []
    for unit in ("d", "h", "m", "s", "ms", "us"):
        count, micros = divmod(micros, int(_US_PER_UNIT[unit]))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


TIME_RANGE = (datetime(1, 1, 2), datetime(9999, 12, 31))
"""Supported times (naive bounds, a day inside Python's range so any offset still fits)."""
Ambiguous = Literal["raise", "infer", "earliest", "latest"]


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How :func:`sensorframe.scan` reads times, checked by :func:`read_options`."""

    time_format: str | None
    timezone: str | None
    ambiguous: Ambiguous
    validate: bool


def read_options(
    time_format: object, timezone: object, ambiguous: object, *, validate: bool
) -> ReadOptions:
    """Check the time options of :func:`sensorframe.scan`; UTC is stored as no zone."""
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
    return ReadOptions(
        time_format=time_format,
        timezone=None if timezone == "UTC" else timezone,
        ambiguous=ambiguous,
        validate=validate,
    )


@dataclass(frozen=True, slots=True)
class ParsedTime:
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


def time_expr(lf: pl.LazyFrame, cols: Columns, dtype: pl.DataType, opts: ReadOptions) -> ParsedTime:
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
    col: pl.Expr, dtype: pl.DataType, sensor: pl.Expr, opts: ReadOptions, *, mismatch: str
) -> ParsedTime:
    if dtype == pl.Null:
        col, dtype = col.cast(pl.Datetime("us")), pl.Datetime("us")
    unit = dtype.time_unit if isinstance(dtype, pl.Datetime) else "d"
    lo, hi = _physical_bounds(unit)
    in_range = col.to_physical().is_between(lo, hi)
    # Out-of-range values are masked before any cast: a cast would overflow and panic.
    safe = pl.when(in_range).then(col)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        utc = safe.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        return ParsedTime(utc=utc, in_range=in_range, local=None, mismatch=mismatch)
    naive = safe.cast(pl.Datetime("us"))
    return ParsedTime(
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


def _from_iso_text(col: pl.Expr, sensor: pl.Expr, opts: ReadOptions) -> ParsedTime:
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
    return ParsedTime(
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


def _localise(naive: pl.Expr, sensor: pl.Expr, opts: ReadOptions) -> pl.Expr:
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
