"""
Per-sensor sums, means and standard deviations that do not depend on the other sensors.

Batched results must equal the in-memory ones bit for bit (see
:mod:`sensorframe._batches`), so a per-sensor statistic may depend only on that
sensor's own readings, in their own order. Polars' float aggregations do not promise
that: ``group_by().agg(mean, std, sum)`` splits a group's rows along the frame's
chunks and threads, and sums the pieces in an order that depends on which other
groups share the frame, on its size and on the sortedness flags of the key (a fleet
and its subsets differ in the last bit for most sensors). So these statistics are
*defined* here as NumPy segment reductions over each sensor's finite readings laid
end to end in the canonical (sensor, time) order: ``numpy.add.reduceat``, which is
the first reading plus NumPy's pairwise sum of the rest (as accurate as ``np.sum``,
and a function of the segment alone), then two-pass moments as ``np.mean`` and
``np.std`` take them. A quantity that is integral (microseconds) is summed as
integers instead. (A related trap: Polars divides a column by a scalar by multiplying
with its reciprocal, but a one-row column by true division, so a per-sensor
``agg / constant`` changes with the number of sensors; multiply by a reciprocal
constant instead.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sensorframe._order import KEY, in_order, keyed, sensor_runs
from sensorframe.frame import SENSOR, TIME, VALUE

__all__ = ["Moments", "segment_moments", "segment_sums", "sensor_moments"]

_FLOATS = ("mean", "std", "span")


@dataclass(frozen=True, slots=True)
class Moments:
    """
    Count, mean, standard deviation and span of the finite values of each segment.

    ``mean`` and ``span`` (max - min, what
    :func:`~sensorframe.quality.overflow.refuse_overflow` checks) are NaN for a
    segment without finite values, ``std`` where fewer than ``ddof + 1`` remain.
    """

    n: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    span: np.ndarray


def segment_sums(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """
    Sum each run of `lengths` consecutive `values` (0.0 for an empty run).

    The sum of a run is its first value plus NumPy's pairwise sum of the others
    (``numpy.add.reduceat``): it depends on the run's values and their order only,
    not on where the run lies in `values` or what surrounds it.

    Examples
    --------
    >>> from sensorframe._exact import segment_sums
    >>> segment_sums(np.array([1.0, 2.0, 4.0]), np.array([2, 0, 1])).tolist()
    [3.0, 0.0, 4.0]
    """
    sums = np.zeros(lengths.size)
    full = lengths > 0
    if full.any():
        sums[full] = np.add.reduceat(values, (np.cumsum(lengths) - lengths)[full])
    return sums


def segment_moments(values: np.ndarray, lengths: np.ndarray, *, ddof: int = 0) -> Moments:
    """
    Moments of each run of `lengths` consecutive `values`, skipping NaN and ±inf.

    Two passes, as ``np.mean`` and ``np.std(ddof=ddof)``: the mean is the
    :func:`segment_sums` of the finite values over their count, the standard
    deviation the square root of the segment sum of squared deviations from it over
    ``count - ddof``.

    Parameters
    ----------
    values
        Float64 readings of consecutive segments (null readings as NaN).
    lengths
        Rows per segment (int), summing to ``len(values)``.
    ddof
        Delta degrees of freedom of the standard deviation (0: population).

    Examples
    --------
    >>> from sensorframe._exact import segment_moments
    >>> m = segment_moments(np.array([1.0, 3.0, np.nan, 5.0]), np.array([3, 1]))
    >>> m.n.tolist(), m.mean.tolist(), m.std.tolist()
    ([2, 1], [2.0, 5.0], [1.0, 0.0])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ok = np.isfinite(values)
    if not ok.all():
        kept = np.append(0, np.cumsum(ok))
        ends = np.cumsum(lengths)
        lengths = kept[ends] - kept[ends - lengths]
        values = values[ok]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = segment_sums(values, lengths) / lengths
        dev = values - np.repeat(mean, lengths)
        var = segment_sums(dev * dev, lengths) / (lengths - ddof)
        span = np.full(lengths.size, np.nan)
        full = lengths > 0
        if full.any():
            at = (np.cumsum(lengths) - lengths)[full]
            span[full] = np.maximum.reduceat(values, at) - np.minimum.reduceat(values, at)
    var[lengths <= ddof] = np.nan
    return Moments(lengths, mean, np.sqrt(var), span)


def sensor_moments(df: pl.DataFrame, *, ddof: int = 0) -> pl.DataFrame:
    """
    Count, mean, std and span of each sensor's finite ``value``, in (sensor, time) order.

    `df` holds ``sensor_id``, ``timestamp`` and ``value``; it is sorted by (sensor,
    time) first unless in that order (rows at equal times keep their input order), so
    the result depends only on each sensor's own rows, whatever else shares the frame.

    Returns
    -------
    DataFrame
        ``sensor_id`` (sorted), ``n`` (Int64), ``mean``, ``std`` and ``span``
        (Float64, null where undefined).

    Examples
    --------
    >>> from sensorframe._exact import sensor_moments
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["b", "a", "a"], "timestamp": [0, 1, 0], "value": [1.0, 2.0, 4.0]}
    ... )
    >>> sensor_moments(df).rows()
    [('a', 2, 3.0, 1.0, 2.0), ('b', 1, 1.0, 0.0, 0.0)]
    """
    ids, lengths, values = _in_sensor_order(df)
    m = segment_moments(values, lengths, ddof=ddof)
    stats = {name: pl.Series(name, getattr(m, name), nan_to_null=True) for name in _FLOATS}
    return pl.DataFrame([ids.alias(SENSOR), pl.Series("n", m.n, dtype=pl.Int64), *stats.values()])


def _in_sensor_order(df: pl.DataFrame) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    """
    Return the sensor ids, their row counts and ``value`` in (sensor, time) order.

    Rows not in that order are first grouped by sensor, stable (a radix sort of the
    sensor codes): input that interleaves time-ordered sensors is then in order. Only
    if a sensor's own rows step back in time are they stable-sorted on the packed
    (sensor, time) key (:func:`sensorframe._order.keyed`), or on the two columns when
    the key does not fit.
    """
    if in_order(df) is None:
        rows = keyed(df, [VALUE])
        if rows is None:
            df = df.sort(SENSOR, TIME, maintain_order=True)
        else:
            key = rows.frame.get_column(KEY).to_numpy()
            codes = key >> rows.bits
            narrow = codes.astype(np.uint16) if len(rows.ids) <= 1 << 16 else codes
            by_sensor = np.argsort(narrow, kind="stable")
            lengths = np.bincount(codes, minlength=len(rows.ids)).astype(np.int64)
            if (np.diff(key[by_sensor]) < 0).any():
                values = rows.sorted().frame.get_column(VALUE).cast(pl.Float64).to_numpy()
            else:
                values = rows.frame.get_column(VALUE).cast(pl.Float64).to_numpy()[by_sensor]
            return rows.ids, lengths, values
    ids, lengths = sensor_runs(df.get_column(SENSOR))
    return ids, lengths, df.get_column(VALUE).cast(pl.Float64).to_numpy()
