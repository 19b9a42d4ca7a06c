"""
:func:`make_target`: a leak-free prediction target per sensor, from the readings ahead.

The target of a row at time t describes the sensor's readings after t only, over the
span ``(t, target_end]``, so no trailing-window feature at t (which reads readings at or
before t) can contain it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal, TypeAlias, get_args

import polars as pl

from sensorframe._times import duration_text, parse_duration_us
from sensorframe.errors import InvalidParameterError, InvalidTypeError
from sensorframe.features.config import check_count
from sensorframe.features.matrix import TARGET, TARGET_END
from sensorframe.frame import SENSOR, TIME, VALUE, scan

if TYPE_CHECKING:
    from sensorframe._typing import FrameInput

__all__ = ["TargetKind", "horizon_text", "make_target"]

TargetKind: TypeAlias = Literal["value", "mean", "max", "event"]
_KEY = "__sf_key"
_AT = "__sf_at"


def horizon_text(horizon: int | str | timedelta) -> str:
    """
    Describe a horizon: ``"12 rows"`` or a duration as feature names write it.

    Examples
    --------
    >>> from sensorframe.explore.target import horizon_text
    >>> horizon_text(12), horizon_text("90min")
    ('12 rows', '1h30m')
    """
    if isinstance(horizon, int):
        return f"{horizon} row{'s' if horizon != 1 else ''}"
    return duration_text(parse_duration_us(horizon, name="horizon"))


def make_target(
    frame: FrameInput,
    *,
    horizon: int | str | timedelta,
    kind: TargetKind = "value",
    threshold: float | None = None,
) -> pl.LazyFrame:
    """
    Build a target per row from each sensor's readings after it: the future to predict.

    For a row of a sensor at time t (rows in time order within the sensor), the target
    looks at the span after t only:

    * a row count k: the next k rows of the sensor, ``x_{i+1} .. x_{i+k}``;
    * a duration h (``"1h"``, ``"90min"``, a ``timedelta``): the readings with
      timestamps in ``(t, t + h]``.

    and is, by `kind`:

    * ``"value"``: the reading at the end of the span (k rows ahead; for a duration, the
      reading at the latest timestamp in the span);
    * ``"mean"``, ``"max"``: the mean or maximum of the span's non-missing readings;
    * ``"event"``: whether a reading of the span is above `threshold` (Boolean).

    The target is null where the horizon runs past the sensor's data (fewer than k rows
    follow, or ``t + h`` is after its last timestamp), and where the span holds no
    non-missing reading (for ``"value"``: where that reading is missing).

    Parameters
    ----------
    frame
        Anything :func:`sensorframe.scan` accepts.
    horizon
        Rows ahead (an int >= 1) or a duration.
    kind
        What the target is (see above).
    threshold
        The level an ``"event"`` exceeds; only for ``kind="event"``.

    Returns
    -------
    LazyFrame
        ``sensor_id``, ``timestamp``, ``target`` and ``target_end`` (the end of the span,
        inclusive; null where rows run out), one row per reading, sorted by (sensor,
        time). :func:`sensorframe.feature_matrix` aligns it with features, and
        :func:`sensorframe.explore_features` tests features against it.

    Raises
    ------
    InvalidParameterError
        If `horizon` is out of range, `kind` is unknown, or `threshold` is missing for
        ``"event"`` (or given for another kind).
    InvalidTypeError
        If `horizon` is neither an int nor a duration.

    Examples
    --------
    >>> from sensorframe.explore import make_target
    >>> df = pl.DataFrame(
    ...     {
    ...         "sensor_id": ["a"] * 4,
    ...         "timestamp": [f"2026-01-01T00:0{m}" for m in (0, 1, 2, 4)],
    ...         "value": [1.0, 2.0, None, 8.0],
    ...     }
    ... )
    >>> make_target(df, horizon=1).collect()["target"].to_list()
    [2.0, None, 8.0, None]
    >>> make_target(df, horizon="2m", kind="mean").collect()["target"].to_list()
    [2.0, None, 8.0, None]
    >>> make_target(df, horizon=2, kind="event", threshold=5.0).collect()["target"].to_list()
    [False, True, None, None]
    """
    if kind not in get_args(TargetKind):
        msg = f"`kind` must be one of {get_args(TargetKind)}, got {kind!r}"
        raise InvalidParameterError(msg)
    if kind == "event":
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            msg = (
                "kind='event' needs a number `threshold` (the level an event exceeds), "
                f"got {threshold!r}"
            )
            raise InvalidParameterError(msg)
        if threshold != threshold:
            msg = "`threshold` must not be NaN"
            raise InvalidParameterError(msg)
    elif threshold is not None:
        msg = f"`threshold` is only for kind='event', got kind={kind!r}"
        raise InvalidParameterError(msg)
    lf = scan(frame).select(SENSOR, TIME, VALUE).sort(SENSOR, TIME, maintain_order=True)
    if isinstance(horizon, bool) or not isinstance(horizon, int | str | timedelta):
        msg = (
            "`horizon` must be a row count (int) or a duration ('1h', a timedelta), "
            f"got {horizon!r}"
        )
        raise InvalidTypeError(msg)
    if isinstance(horizon, int):
        check_count("horizon", horizon)
        out = _by_rows(lf, horizon, kind)
    else:
        out = _by_duration(lf, parse_duration_us(horizon, name="horizon"), kind)
    if kind == "event":
        out = out.with_columns(pl.col(TARGET) > threshold)
    return out.select(SENSOR, TIME, TARGET, TARGET_END)


def _by_rows(lf: pl.LazyFrame, k: int, kind: TargetKind) -> pl.LazyFrame:
    x = pl.col(VALUE)
    ahead = {
        "value": x,
        "mean": x.rolling_mean(k, min_samples=1),
        "max": x.rolling_max(k, min_samples=1),
        "event": x.rolling_max(k, min_samples=1),
    }[kind]
    return lf.with_columns(
        ahead.shift(-k).over(SENSOR).alias(TARGET),
        pl.col(TIME).shift(-k).over(SENSOR).alias(TARGET_END),
    )


def _by_duration(lf: pl.LazyFrame, h: int, kind: TargetKind) -> pl.LazyFrame:
    end = pl.col(TIME) + pl.duration(microseconds=h)
    past_data = end > pl.col(TIME).max().over(SENSOR)
    lf = lf.with_columns(end.alias(TARGET_END))
    if kind == "value":
        readings = lf.select(SENSOR, pl.col(TIME).alias(_AT), pl.col(VALUE).alias(TARGET))
        joined = lf.join_asof(
            readings, left_on=TARGET_END, right_on=_AT, by=SENSOR, strategy="backward"
        )
        return joined.with_columns(
            pl.when(~past_data & (pl.col(_AT) > pl.col(TIME))).then(pl.col(TARGET)).alias(TARGET)
        )
    # (t, t + h] is [s - h, s) for s = -t: a trailing, left-closed window on reversed time
    window = {"mean": "rolling_mean_by", "max": "rolling_max_by", "event": "rolling_max_by"}[kind]
    stat = getattr(pl.col(VALUE), window)(pl.col(_KEY), window_size=f"{h}i", closed="left")
    return (
        lf.with_columns((-pl.col(TIME).dt.epoch("us")).alias(_KEY))
        .sort(SENSOR, _KEY, maintain_order=True)
        .with_columns(pl.when(~past_data).then(stat.over(SENSOR)).alias(TARGET))
        .sort(SENSOR, TIME, maintain_order=True)
    )
