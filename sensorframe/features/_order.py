"""
Readings in (sensor, time) order, handed out a slice of whole sensors at a time.

:func:`sort_rows` checks in one pass whether the rows are in (sensor, time) order
already (data read back from our own output is) and only otherwise sorts them, on one
integer key: the sensor id's rank among the distinct ids times 2**b plus the
microseconds since the earliest reading (< 2**b). That orders rows exactly as
(sensor_id, timestamp) does, and the sorted key gives back both columns, so no string
or timestamp column is sorted or gathered in a random order.

The result is read a slice at a time (:meth:`SortedRows.rows`): the engine computes
features one slice of whole sensors after another, on a thread per core, so the
columns of a sorted slice are rebuilt from the packed key in parallel too, a few MB
at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

import numpy as np
import polars as pl
import pyarrow as pa

from sensorframe.frame import SENSOR, TIME, VALUE

__all__ = ["SortedRows", "sensor_ranges", "sort_rows", "with_positions"]

_KEY = "__sf_key"
_CODE = "__sf_code"
_SAMPLE_ROWS = 100_000
"""Rows whose sensor ids are looked at first (see :func:`sort_rows`)."""


class SortedRows(Protocol):
    """Rows sorted by (sensor, time); ties keep their input order."""

    @property
    def lengths(self) -> np.ndarray:
        """Rows of each sensor, in order."""
        ...

    def rows(self, offset: int, length: int) -> pl.DataFrame:
        """``sensor_id``, ``timestamp`` and ``value`` of the sorted rows in the range."""
        ...


@dataclass(frozen=True, slots=True)
class _Frame:
    """Sorted rows held as a frame."""

    frame: pl.DataFrame
    lengths: np.ndarray

    def rows(self, offset: int, length: int) -> pl.DataFrame:
        return self.frame.slice(offset, length)


@dataclass(frozen=True, slots=True)
class _Packed:
    """Sorted rows held as pairs of 64-bit words: the value's bits, then the key."""

    words: np.ndarray
    ids: pl.Series
    bits: int
    first: int
    time: pl.DataType
    lengths: np.ndarray

    def rows(self, offset: int, length: int) -> pl.DataFrame:
        words = self.words[offset : offset + length]
        keys = words[:, 1].view(np.int64)
        values = np.ascontiguousarray(words[:, 0]).view(np.float64)
        micros = (keys & ((1 << self.bits) - 1)) + self.first
        return pl.DataFrame(
            [
                self.ids.gather((keys >> self.bits).astype(np.uint32)).alias(SENSOR),
                pl.Series(TIME, micros).cast(self.time),
                pl.Series(VALUE, values, nan_to_null=True),
            ]
        )


def sort_rows(df: pl.DataFrame) -> SortedRows:
    """
    Sort a canonical frame by (sensor, time) unless it is in that order already.

    Examples
    --------
    >>> from sensorframe.features._order import sort_rows
    >>> df = sf.scan(
    ...     pl.DataFrame(
    ...         {
    ...             "sensor_id": ["b", "a", "b", "a"],
    ...             "timestamp": ["2026-01-01T00:01", "2026-01-01T00:01"]
    ...             + ["2026-01-01T00:00", "2026-01-01T00:00"],
    ...             "value": [1.0, 2.0, 3.0, None],
    ...         }
    ...     )
    ... ).collect()
    >>> ordered = sort_rows(df)
    >>> ordered.lengths.tolist()
    [2, 2]
    >>> ordered.rows(0, 4)["value"].to_list()  # a at 00:00, 00:01, then b
    [None, 2.0, 3.0, 1.0]
    >>> ordered.rows(2, 2)["sensor_id"].to_list()
    ['b', 'b']
    """
    df = df.select(SENSOR, TIME, VALUE)
    lengths = _in_order(df)
    if lengths is not None:  # one chunk per column (~20 ms on 10 M rows): new one-chunk
        # columns beside a column of many chunks make every later step slower
        return _Frame(df.rechunk(), lengths)
    micros = pl.col(TIME).dt.epoch("us")
    first, last = df.select(micros.min().alias("first"), micros.max().alias("last")).row(0)
    bits = max(last - first, 1).bit_length()

    def fits(ids: pl.Series) -> bool:
        return bits + max(len(ids) - 1, 1).bit_length() <= 62

    def keyed(ids: pl.Series) -> pl.DataFrame:
        code = pl.col(SENSOR).cast(pl.Enum(ids), strict=False).to_physical().cast(pl.Int64)
        return df.select((code * (1 << bits) + (micros - first)).alias(_KEY), VALUE)

    # The distinct ids of a sample of the rows are usually all of them (a sensor with
    # 0.01% of the rows is in a sample of 100k with 99.995% chance), and finding them
    # there saves a pass over every id (~0.1 s on 10 M rows). An id the sample missed
    # has no code, which leaves its key null: then the ids are taken from every row.
    sensors = df.get_column(SENSOR)
    ids = sensors.gather_every(max(df.height // _SAMPLE_ROWS, 1)).unique().sort()
    rows = keyed(ids) if fits(ids) else None
    if rows is None or rows.get_column(_KEY).null_count():
        ids = sensors.unique().sort()
        if not fits(ids):  # an Int128 key and a stable sort
            code = pl.col(SENSOR).cast(pl.Enum(ids)).to_physical()
            wide = code.cast(pl.Int128) * (1 << 64) + (micros.cast(pl.Int128) - first)
            out = df.with_columns(wide.alias(_KEY), code.alias(_CODE))
            out = out.sort(_KEY, maintain_order=True)
            runs = out.get_column(_CODE).rle().struct.field("len").to_numpy().astype(np.int64)
            return _Frame(out.select(SENSOR, TIME, VALUE), runs)
        rows = keyed(ids)
    words = _sorted_words(rows)
    starts = np.searchsorted(words[:, 1], np.arange(len(ids) + 1, dtype=np.uint64) << bits)
    return _Packed(
        words=words,
        ids=ids,
        bits=bits,
        first=first,
        time=df.schema[TIME],
        lengths=np.diff(starts).astype(np.int64),
    )


def _sorted_words(keyed: pl.DataFrame) -> np.ndarray:
    """
    Sort the (key, value) rows as one 128-bit column: the key, then the value's bits.

    Sorting plain values (a radix sort) is several times faster than sorting by a key
    and gathering another column in that order. The 128-bit numbers are built and taken
    apart in NumPy, as pairs of 64-bit words handed to Polars as an Arrow
    ``decimal128`` array (16-byte little-endian integers: the value's bits are the low
    word, the key the high one; the key is < 2**62, so every number is < 10**38). Both
    ways are zero-copy; Polars' Int128 arithmetic takes ~150 ms more on 10 M rows.
    Rows with equal keys would come out in the order of their values' bits, not their
    input order: then a stable sort by the key alone orders them instead.

    Returns an array of shape (rows, 2): the value's bits and the key of each row.
    """
    n = keyed.height

    def pack(rows: pl.DataFrame) -> np.ndarray:
        words = np.empty((n, 2), dtype=np.uint64)
        nan = float("nan")  # the readings have no NaN (scan made them null): it marks null
        words[:, 0] = rows.get_column(VALUE).fill_null(nan).to_numpy().view(np.uint64)
        words[:, 1] = rows.get_column(_KEY).to_numpy()
        return words

    numbers = pa.Array.from_buffers(pa.decimal128(38, 0), n, [None, pa.py_buffer(pack(keyed))])
    ordered = pl.Series(numbers).sort().to_arrow()
    words = np.frombuffer(
        ordered.buffers()[1], dtype=np.uint64, count=2 * n, offset=16 * ordered.offset
    ).reshape(n, 2)
    if (words[1:, 1] == words[:-1, 1]).any():
        return pack(keyed.sort(_KEY, maintain_order=True))
    return words


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


def sensor_ranges(lengths: np.ndarray, rows: int) -> list[tuple[int, int]]:
    """
    Cut sensors with these row counts into ranges ``[first, end)`` of ~`rows` rows.

    A range ends with the sensor that crosses each multiple of `rows`, so a sensor
    longer than `rows` makes a range of its own.

    Examples
    --------
    >>> from sensorframe.features._order import sensor_ranges
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


def with_positions(
    frame: pl.DataFrame, lengths: np.ndarray, *, group: str, row: str
) -> pl.DataFrame:
    """
    Add each row's sensor number (`group`, from 0) and position in its sensor (`row`).

    `frame` holds whole sensors with these row counts, in order. Built from the run
    lengths (a repeat and a subtraction), without a window function.
    """
    starts = np.cumsum(lengths) - lengths
    return frame.with_columns(
        pl.Series(group, np.repeat(np.arange(len(lengths), dtype=np.uint32), lengths)).set_sorted(),
        pl.Series(row, np.arange(frame.height, dtype=np.int64) - np.repeat(starts, lengths)),
    )
