"""Chronological train / validation / test splits per sensor."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, TypeAlias

import polars as pl

from sensorframe.errors import InvalidParameterError, InvalidTypeError
from sensorframe.frame import SENSOR, TIME, scan

__all__ = ["Split", "TimeLike", "split"]

TimeLike: TypeAlias = datetime | date | str

_DEFAULT_RATIOS = (0.7, 0.15, 0.15)
_PART = "__sf_part"


# -- split ---------------------------------------------------------------------------


class Split(NamedTuple):
    """The train, validation and test parts of a frame, each a ``pl.LazyFrame``."""

    train: pl.LazyFrame
    val: pl.LazyFrame
    test: pl.LazyFrame


def split(
    frame: Any,
    ratios: Sequence[float] = _DEFAULT_RATIOS,
    *,
    at: tuple[TimeLike, TimeLike] | None = None,
) -> Split:
    """
    Split every sensor's readings chronologically into train, validation and test.

    Lazy: nothing is read or computed until the parts are collected.

    Parameters
    ----------
    frame
        Any input :func:`sensorframe.scan` accepts.
    ratios
        Fractions of each sensor's rows for train, validation and test: three positive
        numbers summing to 1. Ignored (and must be left at the default) with ``at``.
    at
        Two timestamps ``(t1, t2)``: rows before ``t1`` train, rows from ``t1`` up to
        (not including) ``t2`` validate, rows from ``t2`` on test. Naive times and
        ISO-8601 text without an offset are UTC.

    Returns
    -------
    Split
        ``(train, val, test)`` lazy frames. Rows keep their input order; every input row
        is in exactly one part.

    Raises
    ------
    InvalidParameterError
        If the ratios are not three positive numbers summing to 1, or ``t1 > t2``.
    InvalidTypeError
        If `at` holds something other than datetimes, dates or ISO-8601 text.

    Notes
    -----
    With ratios, a sensor with ``n`` rows gives ``floor(n * val_ratio)`` rows to
    validation and ``floor(n * test_ratio)`` to test, and the rest (at least one row) to
    training: a sensor with few rows is trained on and may have no validation or test
    rows (fewer than 7 rows with the default ratios). Rows are placed by their position
    in time; rows sharing a timestamp are never separated: a tied group that straddles a
    boundary goes wholly to the earlier part, so the parts do not depend on row order.

    The three frames share one plan: ``pl.collect_all(split(...))`` reads the input and
    ranks the rows once, where collecting them one by one does it three times.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["a"] * 5, "timestamp": [f"2026-01-0{d}" for d in range(1, 6)]}
    ... ).with_columns(value=pl.int_range(5))
    >>> parts = sf.prepare.split(df, (0.6, 0.2, 0.2))
    >>> [p.collect()["value"].to_list() for p in parts]
    [[0.0, 1.0, 2.0], [3.0], [4.0]]
    """
    lf = scan(frame)
    if at is not None:
        if _check_ratios(ratios) != _DEFAULT_RATIOS:
            msg = f"pass either `ratios` or `at`, not both; got ratios={ratios!r}"
            raise InvalidParameterError(msg)
        labelled = lf.with_columns(_time_labels(at))
    else:
        labelled = lf.with_columns(_rank_labels(_check_ratios(ratios)))
    return Split(*(labelled.filter(pl.col(_PART) == k).drop(_PART) for k in range(3)))


def _check_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    values = tuple(ratios) if isinstance(ratios, Sequence) else ()
    ok = len(values) == 3 and all(
        isinstance(r, int | float) and not isinstance(r, bool) and math.isfinite(r) and r > 0
        for r in values
    )
    if not ok or abs(math.fsum(values) - 1.0) > 1e-9:
        msg = f"`ratios` must be three positive numbers summing to 1, got {ratios!r}"
        raise InvalidParameterError(msg)
    return (float(values[0]), float(values[1]), float(values[2]))


def _rank_labels(ratios: tuple[float, float, float]) -> pl.Expr:
    """Part (0 train, 1 val, 2 test) of each row by its rank in time within its sensor."""
    n = pl.len().over(SENSOR).cast(pl.Int64)
    # The relative nudge absorbs rounding in n * ratio (0.15 * 20 = 2.9999...).
    n_val = (n * (ratios[1] * (1 + 1e-9))).floor().cast(pl.Int64)
    n_test = (n * (ratios[2] * (1 + 1e-9))).floor().cast(pl.Int64)
    n_train = n - n_val - n_test
    position = pl.col(TIME).rank("min").over(SENSOR).cast(pl.Int64) - 1
    return (
        pl.when(position < n_train)
        .then(pl.lit(0, pl.Int8))
        .when(position < n_train + n_val)
        .then(pl.lit(1, pl.Int8))
        .otherwise(pl.lit(2, pl.Int8))
        .alias(_PART)
    )


def _time_labels(at: tuple[TimeLike, TimeLike]) -> pl.Expr:
    if not isinstance(at, Sequence) or len(at) != 2:
        msg = f"`at` must be two timestamps (t1, t2), got {at!r}"
        raise InvalidParameterError(msg)
    t1, t2 = (_as_utc(t) for t in at)
    if t1 > t2:
        msg = f"`at` must be in order, got t1={t1.isoformat()} > t2={t2.isoformat()}"
        raise InvalidParameterError(msg)
    time = pl.col(TIME)
    return (
        pl.when(time < t1)
        .then(pl.lit(0, pl.Int8))
        .when(time < t2)
        .then(pl.lit(1, pl.Int8))
        .otherwise(pl.lit(2, pl.Int8))
        .alias(_PART)
    )


def _as_utc(moment: TimeLike) -> datetime:
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError as exc:
            msg = f"cannot read {moment!r} as an ISO-8601 timestamp"
            raise InvalidParameterError(msg) from exc
    if not isinstance(moment, datetime):
        if not isinstance(moment, date):
            msg = (
                f"`at` must hold datetimes, dates or ISO-8601 text, got "
                f"{type(moment).__name__} {moment!r}"
            )
            raise InvalidTypeError(msg)
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01 00:00+01:00 is before year 1 in UTC
        msg = f"`at` holds {moment.isoformat()}, which is outside the datetime range in UTC"
        raise InvalidParameterError(msg) from exc
