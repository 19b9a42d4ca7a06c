"""
Per-sensor settings of the quality checks: ``QualityConfig(per_sensor=frame)``.

The frame has a ``sensor_id`` column and any of the per-sensor fields of
:class:`~sensorframe.quality.QualityConfig` (:data:`PER_SENSOR`); a non-null cell
overrides that field for that sensor, a null cell keeps the config's value. The
engine joins the settings onto the sensors of the input once and broadcasts them to
the rows as columns (:class:`Settings`), so every sensor is still checked in one
query; a field nobody overrides stays a literal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import polars as pl

from sensorframe._utils import preview
from sensorframe.errors import ConfigError
from sensorframe.frame import SENSOR

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MAX_INTERVAL", "PER_SENSOR", "Settings", "checked_per_sensor"]

Kind = Literal["bound", "positive", "duration", "values"]

PER_SENSOR: dict[str, Kind] = {
    "valid_min": "bound",
    "valid_max": "bound",
    "suspect_min": "bound",
    "suspect_max": "bound",
    "outlier_z": "positive",
    "mad_threshold": "positive",
    "spike_threshold": "positive",
    "expected_interval": "duration",
    "max_stuck": "duration",
    "flatline_ignore": "values",
}
"""The fields a ``per_sensor`` frame may set, and the kind of value each holds."""

MAX_INTERVAL = timedelta(days=36_525)
"""Longest duration setting (100 years), well inside the microsecond range."""

_DTYPES: dict[Kind, pl.DataType] = {
    "bound": pl.Float64(),
    "positive": pl.Float64(),
    "duration": pl.Duration("us"),
    "values": pl.List(pl.Float64()),
}
_PREFIX = "__sf_set_"


def _bad_sensors(frame: pl.DataFrame, bad: pl.Expr, column: str, rule: str) -> None:
    rows = frame.filter(bad.fill_null(value=False)).select(SENSOR, column)
    if rows.height:
        pairs = [f"{sid}: {value!r}" for sid, value in rows.iter_rows()]
        msg = f"`per_sensor` column `{column}` must hold {rule}; got {preview(pairs)}"
        raise ConfigError(msg)


def _cast(frame: pl.DataFrame, column: str, kind: Kind) -> pl.Series:
    series = frame.get_column(column)
    dtype = series.dtype
    inner = dtype.inner if isinstance(dtype, pl.List | pl.Array) else None
    fits = {
        "bound": dtype.is_numeric() or dtype == pl.Null,
        "positive": dtype.is_numeric() or dtype == pl.Null,
        "duration": isinstance(dtype, pl.Duration) or dtype == pl.Null,
        "values": (inner is not None and (inner.is_numeric() or inner == pl.Null))
        or dtype == pl.Null,
    }[kind]
    if not fits:
        want = {
            "bound": "numbers",
            "positive": "numbers",
            "duration": "durations (pl.Duration)",
            "values": "lists of numbers",
        }[kind]
        msg = f"`per_sensor` column `{column}` must hold {want}, got dtype {dtype}"
        raise ConfigError(msg)
    return series.cast(_DTYPES[kind])


def checked_per_sensor(frame: object) -> pl.DataFrame | None:
    """
    Validate a ``per_sensor`` frame; return it with one canonical dtype per column.

    Raises
    ------
    ConfigError
        If it is not a DataFrame, lacks ``sensor_id``, has a column that is not a
        per-sensor field, a null or repeated sensor id, or a value of the wrong kind
        (naming the column, the sensors and their values).

    Examples
    --------
    >>> from sensorframe.quality.per_sensor import checked_per_sensor
    >>> checked_per_sensor(pl.DataFrame({"sensor_id": ["a"], "valid_max": [5]})).dtypes
    [String, Float64]
    >>> checked_per_sensor(pl.DataFrame({"sensor_id": ["a"], "valid_mx": [5]}))
    Traceback (most recent call last):
    ...
    sensorframe.errors.ConfigError: `per_sensor` has unknown column(s) ['valid_mx']; ...
    """
    if frame is None:
        return None
    if not isinstance(frame, pl.DataFrame):
        msg = f"`per_sensor` must be a polars DataFrame or None, got {type(frame).__name__}"
        raise ConfigError(msg)
    if SENSOR not in frame.columns:
        msg = f"`per_sensor` needs a `{SENSOR}` column, got columns {frame.columns}"
        raise ConfigError(msg)
    unknown = [c for c in frame.columns if c != SENSOR and c not in PER_SENSOR]
    if unknown:
        msg = (
            f"`per_sensor` has unknown column(s) {unknown}; "
            f"per-sensor fields are {list(PER_SENSOR)}"
        )
        raise ConfigError(msg)
    ids = frame.get_column(SENSOR)
    if not (ids.dtype in (pl.String, pl.Null) or isinstance(ids.dtype, pl.Categorical | pl.Enum)):
        msg = f"`per_sensor` column `{SENSOR}` must hold strings, got dtype {ids.dtype}"
        raise ConfigError(msg)
    ids = ids.cast(pl.String)
    if ids.null_count():
        msg = f"`per_sensor` column `{SENSOR}` has {ids.null_count()} null id(s)"
        raise ConfigError(msg)
    repeated = ids.filter(ids.is_duplicated()).unique(maintain_order=True)
    if repeated.len():
        msg = f"`per_sensor` names sensor(s) {preview(repeated.to_list())} more than once"
        raise ConfigError(msg)
    out = pl.DataFrame([ids, *(_cast(frame, c, PER_SENSOR[c]) for c in frame.columns[1:])])
    for column in out.columns[1:]:
        c = pl.col(column)
        kind = PER_SENSOR[column]
        if kind == "bound":
            _bad_sensors(out, ~c.is_finite(), column, "finite numbers or null")
        elif kind == "positive":
            _bad_sensors(out, ~(c.is_finite() & (c > 0)), column, "finite numbers > 0 or null")
        elif kind == "duration":
            bad = (c <= timedelta(0)) | (c > MAX_INTERVAL)
            _bad_sensors(out, bad, column, f"durations > 0 and <= {MAX_INTERVAL.days} days")
        else:
            bad = c.list.eval(~pl.element().is_finite().fill_null(value=False)).list.any()
            _bad_sensors(out, bad, column, "lists of finite numbers")
    return out


@dataclass(frozen=True, slots=True)
class Settings:
    """
    Each sensor's value of every per-sensor field, aligned to the engine's sensors.

    ``frame`` has one row per sensor (in the order of the sorted rows) and a column
    ``__sf_set_<field>`` for each field the ``per_sensor`` frame sets: its value, or
    the config's where the cell is null. :meth:`expr` reads a field as that broadcast
    column, or as a literal when no sensor overrides it.
    """

    frame: pl.DataFrame
    defaults: Mapping[str, Any]

    @classmethod
    def build(
        cls, per_sensor: pl.DataFrame | None, sensors: pl.Series, defaults: Mapping[str, Any]
    ) -> Settings:
        """Join `per_sensor` onto `sensors` (one id per engine sensor, in order)."""
        base = pl.DataFrame({SENSOR: sensors.cast(pl.String)})
        if per_sensor is None or per_sensor.width == 1:
            return cls(base, defaults)
        joined = base.join(per_sensor, on=SENSOR, how="left", maintain_order="left")
        filled = [
            pl.coalesce(name, pl.lit(defaults[name], dtype=_DTYPES[PER_SENSOR[name]])).alias(
                _PREFIX + name
            )
            for name in per_sensor.columns[1:]
        ]
        return cls(joined.select(SENSOR, *filled), defaults)

    def overridden(self, name: str) -> bool:
        """Whether some sensor has its own value of the field `name`."""
        return _PREFIX + name in self.frame.columns

    def column(self, name: str) -> pl.Series:
        """Return the values of `name`, one per sensor, overridden or not."""
        if self.overridden(name):
            return self.frame.get_column(_PREFIX + name)
        dtype = _DTYPES[PER_SENSOR[name]]
        return pl.repeat(self.defaults[name], self.frame.height, dtype=dtype, eager=True)

    def expr(self, name: str) -> pl.Expr:
        """Read the field `name` on the rows: its broadcast column, or a literal."""
        if self.overridden(name):
            return pl.col(_PREFIX + name)
        return pl.lit(self.defaults[name], dtype=_DTYPES[PER_SENSOR[name]])

    def ignored(self) -> list[pl.Expr | float]:
        """
        Return the ``flatline_ignore`` values on the rows: literals, or a column per slot.

        A sensor with fewer values than the longest list has its slots padded with
        ``inf``, which no finite reading is within tolerance of.
        """
        if not self.overridden("flatline_ignore"):
            return list(self.defaults["flatline_ignore"])
        width = _width(self.frame.get_column(_PREFIX + "flatline_ignore"))
        return [pl.col(f"{_PREFIX}ignore_{k}") for k in range(width)]

    def broadcast(self, lengths: np.ndarray, gid: pl.Series) -> list[pl.Series]:
        """
        Repeat the overridden fields over each sensor's rows.

        ``np.repeat`` over the sensors' row counts (`lengths`); a column with nulls
        (a field whose default is None) takes a gather on the rows' sensor number
        (`gid`) instead, which keeps them null.
        """
        out = []
        for name in self.frame.columns[1:]:
            series = self.frame.get_column(name)
            if name == _PREFIX + "flatline_ignore":
                width = _width(series)
                slots = [
                    series.list.get(k, null_on_oob=True)
                    .fill_null(math.inf)
                    .alias(f"{_PREFIX}ignore_{k}")
                    for k in range(width)
                ]
            else:
                slots = [series]
            out += [
                pl.Series(s.name, np.repeat(s.to_numpy(), lengths))
                if s.null_count() == 0
                else s.gather(gid)
                for s in slots
            ]
        return out


def _width(lists: pl.Series) -> int:
    """Length of the longest list (0 for none)."""
    return int(cast("int | None", lists.list.len().max()) or 0)
