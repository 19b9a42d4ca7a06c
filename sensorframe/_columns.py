"""
The canonical columns of a sensor frame and :class:`Columns`, the map from a user's names.

:mod:`sensorframe.frame` re-exports these names; they live here so that the modules that
read sources and times can use them without importing :mod:`sensorframe.frame`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from sensorframe._utils import preview

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sensorframe.errors import SensorFrameError

__all__ = [
    "CANONICAL_SCHEMA",
    "KEYS",
    "RESERVED_PREFIX",
    "SENSOR",
    "TIME",
    "VALUE",
    "Columns",
    "require_numeric",
]

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
    >>> cols = sf.Columns(sensor="device", time="ts", value="reading")
    >>> sf.scan(df, columns=cols).collect().rows()
    [('p1', datetime.datetime(2026, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 3.0)]
    """

    sensor: str = SENSOR
    time: str = TIME
    value: str = VALUE


def require_numeric(
    schema: pl.Schema,
    names: Sequence[str],
    *,
    among: Sequence[str],
    what: str,
    also: pl.DataType,
    errors: tuple[type[SensorFrameError], type[SensorFrameError]],
) -> None:
    """
    Raise unless every column of `names` is one of `among` and numeric (or of type `also`).

    `what` names the columns in messages; ``errors`` are the errors for an unknown
    column and for a column of another type.

    Examples
    --------
    >>> from sensorframe._columns import require_numeric
    >>> schema = pl.Schema({"a": pl.Int64(), "b": pl.String()})
    >>> require_numeric(
    ...     schema, ["a", "b"], among=["a", "b"], what="column", also=pl.Null(),
    ...     errors=(sf.SensorSchemaError, sf.SensorSchemaError),
    ... )
    Traceback (most recent call last):
    ...
    sensorframe.errors.SensorSchemaError: column(s) ['b'] are not numeric: ['String']
    """
    unknown = [c for c in names if c not in among]
    if unknown:
        msg = f"unknown {what}(s) {preview(unknown)}; available: {list(among)}"
        raise errors[0](msg)
    bad = [c for c in names if not (schema[c].is_numeric() or schema[c] == also)]
    if bad:
        types = [str(schema[c]) for c in bad]
        msg = f"{what}(s) {preview(bad)} are not numeric: {preview(types)}"
        raise errors[1](msg)
