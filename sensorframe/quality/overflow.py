"""
Refusing readings whose statistics overflow float64.

``scan`` turns NaN and ±inf into null, so every reading is finite; but a mean, a
standard deviation or a range of finite readings can still overflow (the std of
``[1e308, -1e308]`` squares 2e308, deviations beyond ~1.3e154 square to inf). Rather
than carry a NaN or inf scale into z-scores, normalized values or drift effect
sizes, the functions that compute them check their per-sensor statistics (one value
per sensor, no extra pass over the rows) and raise
:class:`~sensorframe.errors.SensorSchemaError` naming the sensors.

A non-finite result is not enough of a sign: Polars' std over sorted groups gives 0.0
where the squares overflow (``[1e308, -1e308]`` reads as a constant sensor). So the
readings' span (max - min, one more aggregate in the same query) is checked too:
a span above :data:`MAX_SPAN` is refused, which keeps every sum of squared deviations
finite for up to 10**8 readings per sensor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from sensorframe._utils import preview
from sensorframe.errors import SensorSchemaError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["MAX_SPAN", "refuse_overflow", "span"]

MAX_SPAN = 1e150
"""Largest max - min of one sensor's readings that statistics are computed for."""


def span(column: pl.Expr) -> pl.Expr:
    """
    Return ``max - min`` of a column, the aggregate :func:`refuse_overflow` checks.

    Examples
    --------
    >>> from sensorframe.quality.overflow import span
    >>> pl.DataFrame({"x": [1.0, 4.0, None]}).select(span(pl.col("x"))).item()
    3.0
    """
    return column.max() - column.min()


def refuse_overflow(
    sensors: pl.Series | Sequence[str],
    *stats: pl.Series | np.ndarray,
    spans: pl.Series | np.ndarray | None = None,
    what: str,
) -> None:
    """
    Raise unless every statistic of every sensor is finite and its span is bounded.

    Parameters
    ----------
    sensors
        Sensor ids, one per row of each statistic.
    *stats
        Per-sensor statistics: null where a sensor has none (too few readings), so
        any NaN or ±inf is an overflow. NumPy arrays have no null: pass 0 there.
    spans
        Each sensor's :func:`span` (null for no readings); above :data:`MAX_SPAN`
        counts as an overflow.
    what
        What was being computed, for the message (``"a Normalizer"`` ...).

    Raises
    ------
    SensorSchemaError
        If a statistic is NaN or ±inf, naming the sensors at fault.

    Examples
    --------
    >>> from sensorframe.quality.overflow import refuse_overflow
    >>> refuse_overflow(["a", "b"], pl.Series([1.0, None]), what="z-scores")
    >>> refuse_overflow(["a", "b"], pl.Series([1.0, float("inf")]), what="z-scores")
    Traceback (most recent call last):
    ...
    sensorframe.errors.SensorSchemaError: the readings of 1 sensor(s) ['b'] are too ...
    """
    bad = np.zeros(len(sensors), dtype=bool)
    for stat in stats:
        if isinstance(stat, pl.Series):
            stat = stat.cast(pl.Float64).fill_null(0.0).to_numpy()
        bad |= ~np.isfinite(stat)
    if spans is not None:
        if isinstance(spans, pl.Series):
            spans = spans.cast(pl.Float64).fill_null(0.0).to_numpy()
        bad |= ~(spans <= MAX_SPAN)  # also NaN
    if bad.any():
        ids = [sensors[int(i)] for i in np.flatnonzero(bad)]
        msg = (
            f"the readings of {len(ids)} sensor(s) {preview(ids)} are too large for {what}: "
            "their mean or spread overflows float64 (readings near ±1e308, or spanning "
            f"more than {MAX_SPAN:.0e}); rescale them, e.g. to another unit"
        )
        raise SensorSchemaError(msg)
