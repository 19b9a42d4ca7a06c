"""
The canonical columns of a sensor frame and :class:`Columns`, the map from a user's names.

:mod:`sensorframe.frame` re-exports these names; they live here so that the modules that
read sources and times can use them without importing :mod:`sensorframe.frame`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["CANONICAL_SCHEMA", "KEYS", "RESERVED_PREFIX", "SENSOR", "TIME", "VALUE", "Columns"]

SENSOR = "sensor_id"
TIME = "timestamp"
VALUE = "value"
KEYS = (SENSOR, TIME, VALUE)
CANONICAL_SCHEMA = pl.Schema(
    [(SENSOR, pl.String()), (TIME, pl.Datetime("us", "UTC")), (VALUE, pl.Float64())]
)
RESERVED_PREFIX = "__sf_"
"""Column names sensorframe uses internally start with this; user columns may not."""


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
