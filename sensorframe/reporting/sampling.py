"""
Downsampling for display: a few rows per time bucket that keep every spike visible.

A plot a thousand pixels wide cannot show a million readings, and averaging them
would flatten the spikes a sensor engineer looks for. :func:`downsample` keeps, per
sensor and time bucket, the first, last, smallest and largest reading (the "M4"
selection of Jugel et al., 2014): drawn as a line in time order, it covers exactly the
pixels the full series would, so a single-reading spike survives.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from sensorframe.errors import InvalidParameterError, InvalidTypeError
from sensorframe.frame import SENSOR, TIME, VALUE, scan

__all__ = ["downsample"]

_BUCKET = "__sf_bucket"
_POS = "__sf_pos"


def downsample(frame: Any, *, buckets: int = 1000) -> pl.DataFrame:
    """
    Keep at most four readings per sensor and time bucket: first, last, min and max.

    Each sensor's time span (first to last reading) is cut into `buckets` buckets of
    equal length; in each, the rows holding the first and last reading, the smallest
    and the largest value are kept (fewer when they coincide). A bucket's minimum and
    maximum are therefore exactly those of the full series, and a bucket of four
    readings or fewer keeps them all. Missing values are dropped (they cannot be
    drawn). One vectorized query over all sensors.

    Parameters
    ----------
    frame
        Anything :func:`sensorframe.scan` accepts.
    buckets
        Buckets per sensor (about the plot's width in pixels).

    Returns
    -------
    pl.DataFrame
        ``sensor_id``, ``timestamp``, ``value``: a subset of the input rows, sorted by
        sensor and time, at most ``4 * buckets`` per sensor.

    Raises
    ------
    InvalidParameterError
        If `buckets` is below 1.
    InvalidTypeError
        If `buckets` is not an int.

    Examples
    --------
    >>> from sensorframe.reporting import downsample
    >>> start, end = pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 1, 0, 7)
    >>> t = pl.datetime_range(start, end, "1m", eager=True)
    >>> df = pl.DataFrame({"sensor_id": "a", "timestamp": t, "value": [1.0, 2, 9, 2, 1, 2, 1, 3]})
    >>> downsample(df, buckets=1)["value"].to_list()  # first, max 9, min 1 (first), last
    [1.0, 9.0, 3.0]
    """
    if not isinstance(buckets, int) or isinstance(buckets, bool):
        msg = f"`buckets` must be an int, got {type(buckets).__name__}"
        raise InvalidTypeError(msg)
    if buckets < 1:
        msg = f"`buckets` must be at least 1, got {buckets}"
        raise InvalidParameterError(msg)
    t = pl.col(TIME).dt.epoch("us")
    start, span = t.min().over(SENSOR), (t.max() - t.min()).over(SENSOR)
    # a reading at the very end of the span belongs to the last bucket, not a new one
    bucket = ((t - start) * buckets // pl.max_horizontal(span, 1)).clip(upper_bound=buckets - 1)
    keys = [SENSOR, _BUCKET]
    pos = pl.col(_POS)
    keep = (
        (pos == pos.min().over(keys))
        | (pos == pos.max().over(keys))
        | (pos == pos.get(pl.col(VALUE).arg_min()).over(keys))
        | (pos == pos.get(pl.col(VALUE).arg_max()).over(keys))
    )
    return (
        scan(frame)
        .select(SENSOR, TIME, VALUE)
        .filter(pl.col(VALUE).is_not_null())
        .sort(SENSOR, TIME, maintain_order=True)
        .with_row_index(_POS)
        .with_columns(bucket.alias(_BUCKET))
        .filter(keep)
        .select(SENSOR, TIME, VALUE)
        .collect()
    )
