"""
The canonical (sensor, time) row order, in one place for quality, features and the hash.

* :func:`in_order` checks in one pass whether rows are in (sensor, time) order already
  (telemetry usually is, and so is data read back from our own output) and gives each
  sensor's row count (:func:`sensor_runs`).
* :func:`keyed` packs each row's (sensor, time) into one Int64 key: the sensor id's rank
  among the sorted distinct ids times 2**b plus the microseconds since the earliest
  reading (< 2**b). Sorting on it orders rows exactly as (sensor_id, timestamp) does,
  about three times faster than sorting the string and timestamp columns, and the
  sorted key gives back both (:meth:`Keyed.codes`, :meth:`Keyed.times`).
* :func:`sort_frame` is the stable sort of a whole frame by (sensor, time) on that key.
* :func:`with_positions` and :func:`sensor_ranges` number the sorted rows and cut them
  into slices of whole sensors, from the run lengths alone.

Rows equal in (sensor, time) keep their input order everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import polars as pl

from sensorframe.frame import SENSOR, TIME

__all__ = [
    "KEY",
    "Keyed",
    "in_order",
    "keyed",
    "sensor_numbers",
    "sensor_ranges",
    "sensor_runs",
    "sort_frame",
    "steps_back_of",
    "with_positions",
]

KEY = "__sf_key"
"""The packed (sensor, time) key column of :func:`keyed`."""
_KEY_BITS = 62
"""Bits of the key: below 2**62, so products and sums on it stay in Int64."""
_SAMPLE_ROWS = 100_000
"""Rows whose sensor ids are looked at first (see :func:`keyed`)."""


def sensor_runs(sensors: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """
    Return the runs of equal ids in order: each run's id, and its length (int64).

    Examples
    --------
    >>> from sensorframe._order import sensor_runs
    >>> ids, lengths = sensor_runs(pl.Series(["a", "a", "b", "a"]))
    >>> ids.to_list(), lengths.tolist()
    (['a', 'b', 'a'], [2, 1, 1])
    """
    runs = sensors.rle()
    return runs.struct.field("value"), runs.struct.field("len").to_numpy().astype(np.int64)


def in_order(df: pl.DataFrame) -> np.ndarray | None:
    """
    Each sensor's row count if the rows are in (sensor, time) order, else None.

    The sensor column must be sorted and time may step back only where a new sensor
    starts. A null time never counts as a step back. Sortedness is read off the runs
    of equal ids (a run-length pass, then a check of one id per sensor), after a
    check of every ~1000th id that stops shuffled input before a run per row.

    Examples
    --------
    >>> from sensorframe._order import in_order
    >>> df = pl.DataFrame({"sensor_id": ["a", "a", "b"], "timestamp": [1, 2, 0]})
    >>> in_order(df).tolist()
    [2, 1]
    >>> in_order(df.reverse()) is None
    True
    """
    sensors = df.get_column(SENSOR)
    if not sensors.gather_every(max(df.height // 1000, 1)).is_sorted():
        return None
    ids, lengths = sensor_runs(sensors)
    if not ids.is_sorted():  # neighbouring runs differ: sorted runs are distinct ids
        return None
    times = df.get_column(TIME).to_physical()
    if times.null_count():
        back = df.select((pl.col(TIME).diff().to_physical() < 0).fill_null(value=False))
        steps_back = np.flatnonzero(back.to_series().to_numpy())
    else:  # zero-copy, about half the time of a Polars diff
        micros = times.to_numpy()
        steps_back = np.flatnonzero(micros[1:] < micros[:-1]) + 1
    starts = np.cumsum(lengths) - lengths
    if not np.isin(steps_back, starts).all():
        return None
    return lengths


@dataclass(frozen=True, slots=True)
class Keyed:
    """Rows as their packed (sensor, time) key (:data:`KEY`) and the columns carried."""

    frame: pl.DataFrame
    ids: pl.Series
    """The sorted distinct sensor ids; a sensor's code is its position here."""
    bits: int
    first: int
    """Microseconds since the epoch of the earliest reading."""
    time: pl.DataType

    def sorted(self) -> Keyed:
        """Return the same rows, stable-sorted by the key (so by sensor, then time)."""
        frame = self.frame.sort(KEY, maintain_order=True)
        return Keyed(frame, self.ids, self.bits, self.first, self.time)

    def codes(self) -> pl.Expr:
        """Return each row's sensor code (UInt32), from the key."""
        return (pl.col(KEY) // (1 << self.bits)).cast(pl.UInt32)

    def times(self) -> pl.Expr:
        """Return each row's time (in its original type), from the key."""
        micros = pl.col(KEY) % (1 << self.bits) + self.first
        return micros.cast(self.time).alias(TIME)


def keyed(df: pl.DataFrame, carry: list[str]) -> Keyed | None:
    """
    Pack the rows' (sensor, time) into :data:`KEY`, next to the `carry` columns.

    None if the key would not fit in 62 bits, the times are not microseconds, or a
    sensor or time is null (frames read with ``scan(validate=False)``): then sort on
    the two columns instead.

    Examples
    --------
    >>> from sensorframe._order import KEY, keyed
    >>> df = sf.scan(
    ...     pl.DataFrame(
    ...         {
    ...             "sensor_id": ["b", "a", "b"],
    ...             "timestamp": ["2026-01-01T00:01", "2026-01-01T00:02", "2026-01-01T00:00"],
    ...             "value": [1.0, 2.0, 3.0],
    ...         }
    ...     )
    ... ).collect()
    >>> rows = keyed(df, ["value"]).sorted()
    >>> rows.frame.select(rows.codes(), "value").rows()
    [(0, 2.0), (1, 3.0), (1, 1.0)]
    """
    time = df.schema[TIME]
    if not (isinstance(time, pl.Datetime) and time.time_unit == "us"):
        return None
    micros = pl.col(TIME).dt.epoch("us")
    first, last, nulls = df.select(
        micros.min().alias("first"),
        micros.max().alias("last"),
        (pl.col(TIME).null_count() + pl.col(SENSOR).null_count()).alias("nulls"),
    ).row(0)
    if first is None or nulls:
        return None
    bits = max(last - first, 1).bit_length()

    def attempt(ids: pl.Series) -> pl.DataFrame | None:
        if bits + max(len(ids) - 1, 1).bit_length() > _KEY_BITS:
            return None
        code = pl.col(SENSOR).cast(pl.Enum(ids), strict=False).to_physical().cast(pl.Int64)
        return df.select((code * (1 << bits) + (micros - first)).alias(KEY), *carry)

    # The distinct ids of a sample of the rows are usually all of them (a sensor with
    # 0.01% of the rows is in a sample of 100k with 99.995% chance), and finding them
    # there saves a pass over every id (~0.1 s on 10 M rows). An id the sample missed
    # has no code, which leaves its key null: then the ids are taken from every row.
    sensors = df.get_column(SENSOR)
    ids = sensors.gather_every(max(df.height // _SAMPLE_ROWS, 1)).unique().sort()
    frame = attempt(ids)
    if frame is None or frame.get_column(KEY).null_count():
        ids = sensors.unique().sort()
        frame = attempt(ids)
    if frame is None:
        return None
    return Keyed(frame, ids, bits, first, time)


def sort_frame(df: pl.DataFrame, *, steps_back: str | None = None) -> pl.DataFrame:
    """
    Sort a frame by (sensor, time), stable, on the packed key when it fits.

    With `steps_back`, a boolean column of that name is added first: true where a
    row's time is earlier than that of its sensor's previous row, in input order
    (what :func:`sensorframe.quality.out_of_order` flags per sensor), computed on
    the key when there is one.

    Examples
    --------
    >>> from sensorframe._order import sort_frame
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["b", "a", "b"], "timestamp": [2, 2, 1], "value": [1.0, 2.0, 3.0]}
    ... ).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))
    >>> sort_frame(df, steps_back="back").select("value", "back").rows()
    [(2.0, False), (3.0, True), (1.0, False)]
    """
    rows = keyed(df, [c for c in df.columns if c not in (SENSOR, TIME)])
    columns = [*df.columns, *([steps_back] if steps_back else [])]
    if rows is None:
        if steps_back:
            df = df.with_columns(steps_back_of(pl.col(TIME)).over(SENSOR).alias(steps_back))
        return df.sort(SENSOR, TIME, maintain_order=True)
    if steps_back:
        frame = rows.frame.with_columns(
            steps_back_of(pl.col(KEY)).over(rows.codes()).alias(steps_back)
        )
        rows = Keyed(frame, rows.ids, rows.bits, rows.first, rows.time)
    ordered = rows.sorted()
    sensors = ordered.ids.gather(ordered.frame.select(ordered.codes()).to_series())
    return ordered.frame.with_columns(sensors.alias(SENSOR), ordered.times()).select(columns)


def steps_back_of(column: pl.Expr) -> pl.Expr:
    """Flag rows whose value is below the previous row's (never the first row)."""
    return (column < column.shift(1)).fill_null(value=False)


def sensor_ranges(lengths: np.ndarray, rows: int) -> list[tuple[int, int]]:
    """
    Cut sensors with these row counts into ranges ``[first, end)`` of ~`rows` rows.

    A range ends with the sensor that crosses each multiple of `rows`, so a sensor
    longer than `rows` makes a range of its own.

    Examples
    --------
    >>> from sensorframe._order import sensor_ranges
    >>> sensor_ranges(np.array([3, 3, 10, 1, 1]), rows=4)
    [(0, 2), (2, 3), (3, 5)]
    >>> sensor_ranges(np.array([], dtype=np.int64), rows=4)
    []
    """
    ends = np.cumsum(lengths)
    if not len(ends):
        return []
    crossing = np.searchsorted(ends, np.arange(rows, ends[-1], rows), side="left")
    bounds = np.unique(np.concatenate([[0], crossing + 1, [len(ends)]]))
    return [(int(a), int(b)) for a, b in pairwise(bounds)]


def sensor_numbers(lengths: np.ndarray, name: str) -> pl.Series:
    """
    Give each row its sensor's number (from 0), for whole sensors with these row counts.

    Examples
    --------
    >>> from sensorframe._order import sensor_numbers
    >>> sensor_numbers(np.array([2, 1]), "g").to_list()
    [0, 0, 1]
    """
    return pl.Series(
        name, np.repeat(np.arange(len(lengths), dtype=np.uint32), lengths)
    ).set_sorted()


def with_positions(
    frame: pl.DataFrame, lengths: np.ndarray, *, group: str, row: str
) -> pl.DataFrame:
    """
    Add each row's sensor number (`group`, from 0) and position in its sensor (`row`).

    `frame` holds whole sensors with these row counts, in order. Built from the run
    lengths (a repeat and a subtraction), without a window function.

    Examples
    --------
    >>> from sensorframe._order import with_positions
    >>> out = with_positions(pl.DataFrame({"x": [5, 6, 7]}), np.array([2, 1]), group="g", row="r")
    >>> out.rows()
    [(5, 0, 0), (6, 0, 1), (7, 1, 0)]
    """
    starts = np.cumsum(lengths) - lengths
    return frame.with_columns(
        sensor_numbers(lengths, group),
        pl.Series(row, np.arange(frame.height, dtype=np.int64) - np.repeat(starts, lengths)),
    )
