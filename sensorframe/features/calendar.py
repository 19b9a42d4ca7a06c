"""
Calendar features of the reading time, in a chosen time zone.

``hour``, ``day_of_week`` (Monday = 0), ``day_of_month``, ``month`` and ``is_weekend``,
and cyclical encodings ``sin``/``cos`` of ``2π·hour/24``, ``2π·day_of_week/7`` and
``2π·(month - 1)/12`` so that 23:00 sits next to 00:00 and December next to January.
"""

from __future__ import annotations

import math
import zoneinfo
from typing import TYPE_CHECKING

import polars as pl

from sensorframe._utils import parse_into_expr
from sensorframe.errors import InvalidParameterError
from sensorframe.frame import TIME

if TYPE_CHECKING:
    from sensorframe._typing import IntoExpr

__all__ = ["calendar_features", "cyclical_features"]


def _local(time: IntoExpr, timezone: str) -> pl.Expr:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        msg = f"`timezone` must be an IANA time zone, got {timezone!r}"
        raise InvalidParameterError(msg) from exc
    return parse_into_expr(time).dt.convert_time_zone(timezone)


def calendar_features(time: IntoExpr = TIME, *, timezone: str = "UTC") -> list[pl.Expr]:
    """
    Hour, day of week (Monday = 0), day of month, month and weekend flag of each time.

    Parameters
    ----------
    time
        A time-zone-aware datetime column (the canonical ``timestamp`` is UTC).
    timezone
        IANA time zone in which the calendar is read.

    Returns
    -------
    list of Expr
        ``hour``, ``day_of_week``, ``day_of_month``, ``month`` (Int8) and
        ``is_weekend`` (Boolean).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> df = pl.DataFrame({"timestamp": [datetime(2026, 1, 3, 23, 30, tzinfo=timezone.utc)]})
    >>> df.select(sf.features.calendar_features(timezone="Europe/Berlin")).row(0)
    (0, 6, 4, 1, True)
    """
    t = _local(time, timezone)
    dow = (t.dt.weekday() - 1).cast(pl.Int8)
    return [
        t.dt.hour().cast(pl.Int8).alias("hour"),
        dow.alias("day_of_week"),
        t.dt.day().cast(pl.Int8).alias("day_of_month"),
        t.dt.month().cast(pl.Int8).alias("month"),
        (dow >= 5).alias("is_weekend"),
    ]


def cyclical_features(time: IntoExpr = TIME, *, timezone: str = "UTC") -> list[pl.Expr]:
    """
    Sin/cos encodings of hour of day, day of week and month of each time.

    Returns
    -------
    list of Expr
        ``hour_sin``, ``hour_cos``, ``day_of_week_sin``, ``day_of_week_cos``,
        ``month_sin``, ``month_cos`` (Float64).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> df = pl.DataFrame({"timestamp": [datetime(2026, 1, 5, 6, tzinfo=timezone.utc)]})
    >>> [round(v, 6) for v in df.select(sf.features.cyclical_features()).row(0)]
    [1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    """
    t = _local(time, timezone)
    parts = {
        "hour": (t.dt.hour().cast(pl.Float64), 24.0),
        "day_of_week": ((t.dt.weekday() - 1).cast(pl.Float64), 7.0),
        "month": ((t.dt.month() - 1).cast(pl.Float64), 12.0),
    }
    out = []
    for name, (value, period) in parts.items():
        angle = value * (2.0 * math.pi / period)
        out += [angle.sin().alias(f"{name}_sin"), angle.cos().alias(f"{name}_cos")]
    return out
