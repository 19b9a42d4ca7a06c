"""
Readings in (sensor, time) order, handed out a slice of whole sensors at a time.

:func:`sort_rows` checks in one pass whether the rows are in (sensor, time) order
already (:func:`sensorframe._order.in_order`) and only otherwise sorts them, on the
packed (sensor, time) key of :func:`sensorframe._order.keyed`, with each row's value
bits packed beside it into one 128-bit number (:func:`_sorted_words`): 1.7x faster
than a stable sort on the Int64 key alone (1.29 s against 2.14 s on 10 M shuffled
rows, best of three, alternating). The sorted key gives back the sensor and time
columns, so no string or timestamp column is sorted or gathered in a random order.

The result is read a slice at a time (:meth:`SortedRows.rows`): the engine computes
features one slice of whole sensors after another, on a thread per core, so the
columns of a sorted slice are rebuilt from the packed key in parallel too, a few MB
at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import polars as pl
import pyarrow as pa

from sensorframe._order import KEY, Keyed, in_order, keyed, sensor_runs, sort_frame
from sensorframe.frame import SENSOR, TIME, VALUE

__all__ = ["SortedRows", "sort_rows"]


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
    source: Keyed
    lengths: np.ndarray

    def rows(self, offset: int, length: int) -> pl.DataFrame:
        words = self.words[offset : offset + length]
        keyed = self.source
        key = pl.Series(KEY, words[:, 1].view(np.int64))
        values = np.ascontiguousarray(words[:, 0]).view(np.float64)
        codes = key.to_frame().select(keyed.codes(), keyed.times())
        return pl.DataFrame(
            [
                keyed.ids.gather(codes.to_series(0)).alias(SENSOR),
                codes.get_column(TIME),
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
    lengths = in_order(df)
    if lengths is not None:  # one chunk per column (~20 ms on 10 M rows): new one-chunk
        # columns beside a column of many chunks make every later step slower
        return _Frame(df.rechunk(), lengths)
    rows = keyed(df, [VALUE])
    if rows is None:  # the key does not fit in 62 bits: sort the two columns
        out = sort_frame(df)
        return _Frame(out, sensor_runs(out.get_column(SENSOR))[1])
    words = _sorted_words(rows.frame)
    bounds = np.arange(len(rows.ids) + 1, dtype=np.uint64) << np.uint64(rows.bits)
    starts = np.searchsorted(words[:, 1], bounds)
    return _Packed(words=words, source=rows, lengths=np.diff(starts).astype(np.int64))


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
        words[:, 1] = rows.get_column(KEY).to_numpy()
        return words

    numbers = pa.Array.from_buffers(pa.decimal128(38, 0), n, [None, pa.py_buffer(pack(keyed))])
    ordered = pl.Series(numbers).sort().to_arrow()
    words = np.frombuffer(
        ordered.buffers()[1], dtype=np.uint64, count=2 * n, offset=16 * ordered.offset
    ).reshape(n, 2)
    if (words[1:, 1] == words[:-1, 1]).any():
        return pack(keyed.sort(KEY, maintain_order=True))
    return words
