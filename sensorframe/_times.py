"""
Times and durations: the one duration grammar of sensorframe.

:func:`parse_duration_us` reads every duration parameter (rolling windows, sampling
intervals ...) the same way, so ``"90min"``, ``"1h30m"``, ``"1.5h"`` and
``timedelta(minutes=90)`` are the same duration everywhere.
"""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction

from sensorframe.errors import ConfigError, InvalidTypeError

__all__ = ["MAX_DURATION", "duration_text", "is_duration_text", "parse_duration_us"]

MAX_DURATION = timedelta(days=36_525)
"""Longest duration window (100 years): longer ones would overflow the time arithmetic."""

_UNITS = r"(ns|us|ms|s|min|m|h|d|w)"
_DURATION = re.compile(rf"^(?:\d+(?:\.\d+)?{_UNITS})+$")
_PART = re.compile(rf"(\d+(?:\.\d+)?){_UNITS}")
_US_PER_UNIT: dict[str, Fraction | int] = {
    "ns": Fraction(1, 1_000),
    "us": 1,
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "min": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
    "w": 604_800_000_000,
}


def is_duration_text(text: str) -> bool:
    """
    Tell whether ``text`` is written in the duration grammar (any length, even zero).

    Examples
    --------
    >>> from sensorframe._times import is_duration_text
    >>> is_duration_text("1h30m"), is_duration_text("1 h")
    (True, False)
    """
    return _DURATION.match(text) is not None


def parse_duration_us(
    duration: str | timedelta, *, name: str = "window", limit: timedelta | None = MAX_DURATION
) -> int:
    """
    Length of a fixed duration in microseconds: a ``timedelta`` or text such as ``"1h30m"``.

    The one duration grammar of sensorframe: one or more parts, each a number (decimals
    allowed) and a unit: ``ns``, ``us``, ``ms``, ``s``, ``m`` or ``min`` (minutes), ``h``,
    ``d`` and ``w``. So ``"90min"``, ``"1h30m"``, ``"1.5h"`` and ``timedelta(minutes=90)``
    are the same duration. Calendar units (months, years) are refused because their
    length varies. A length that is not a whole number of microseconds is rounded up.

    Parameters
    ----------
    duration
        The duration.
    name
        The parameter's name, for messages.
    limit
        Longest duration accepted, :data:`MAX_DURATION` (100 years) unless given; None
        for no limit (the caller then bounds the result itself).

    Returns
    -------
    int
        Microseconds, at least 1.

    Raises
    ------
    InvalidTypeError
        If `duration` is neither text nor a ``timedelta``.
    ConfigError
        If the text is not such a duration, the duration is not longer than zero or is
        longer than `limit`.

    Examples
    --------
    >>> from datetime import timedelta
    >>> from sensorframe.features.config import parse_duration_us
    >>> parse_duration_us("1h30m"), parse_duration_us("90min"), parse_duration_us("1.5h")
    (5400000000, 5400000000, 5400000000)
    >>> parse_duration_us(timedelta(minutes=90))
    5400000000
    """
    if isinstance(duration, timedelta):
        total = Fraction(duration // timedelta(microseconds=1))
    elif isinstance(duration, str) and is_duration_text(duration):
        total = sum(
            (Fraction(number) * _US_PER_UNIT[unit] for number, unit in _PART.findall(duration)),
            start=Fraction(0),
        )
    else:
        msg = (
            f"`{name}` must be a timedelta or a duration like '30m', '90min', '1h30m', "
            f"'1.5h' (units ns, us, ms, s, m or min, h, d, w), got {duration!r}"
        )
        raise ConfigError(msg) if isinstance(duration, str) else InvalidTypeError(msg)
    if total <= 0:
        msg = f"`{name}` must be a duration longer than zero, got {duration!r}"
        raise ConfigError(msg)
    if limit is not None and total > limit // timedelta(microseconds=1):
        msg = f"`{name}` must be at most {duration_text(limit // timedelta(microseconds=1))}"
        msg += f", got {duration!r}"
        raise ConfigError(msg)
    return -(-total.numerator // total.denominator)  # ceil to whole microseconds


def duration_text(micros: int) -> str:
    """
    Write a duration in microseconds in the duration grammar, largest units first.

    Examples
    --------
    >>> from sensorframe.features.config import duration_text
    >>> duration_text(5_400_000_000), duration_text(1_500)
    ('1h30m', '1ms500us')
    """
    parts = []
    for unit in ("d", "h", "m", "s", "ms", "us"):
        count, micros = divmod(micros, int(_US_PER_UNIT[unit]))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
