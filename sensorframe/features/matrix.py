"""
:func:`feature_matrix`: selected feature columns as a 2-D NumPy array for a model.

With a target it also aligns the target with the features and drops the rows whose
feature windows overlap the target's span (:func:`feature_window` says which readings
each feature reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import polars as pl

from sensorframe._columns import require_numeric
from sensorframe._times import parse_duration_us
from sensorframe.errors import (
    InvalidParameterError,
    InvalidTypeError,
    SensorFrameError,
    SensorSchemaError,
    UnknownFeatureError,
)
from sensorframe.features._names import unique_names
from sensorframe.features.config import (
    _COUNTED_NAME,
    _ROLLING_NAME,
    CALENDAR_NAMES,
    CYCLICAL_NAMES,
)
from sensorframe.frame import SENSOR, TIME, VALUE, scan

if TYPE_CHECKING:
    from sensorframe._typing import FrameInput

__all__ = [
    "ALIGNED_TARGET",
    "TARGET",
    "TARGET_END",
    "TARGET_START",
    "Window",
    "align_target",
    "feature_matrix",
    "feature_window",
]

TARGET = "target"
"""Name of a target frame's target column (as :func:`sensorframe.make_target` writes it)."""
TARGET_START = "target_start"
"""Optional column of a target frame: the (exclusive) start of each target's span."""
TARGET_END = "target_end"
"""Column of a target frame: the (inclusive) end of each target's span."""

Window = (
    tuple[Literal["rows"], int, int]
    | tuple[Literal["duration"], int]
    | tuple[Literal["history"] | Literal["none"]]
)
"""
The readings a feature at row i reads: ``("rows", a, b)`` rows i-a .. i-b of its sensor,
``("duration", d)`` the readings in ``(t - d, t]`` (d in microseconds), ``("history",)``
every reading up to t, ``("none",)`` no reading (calendar features).
"""
_S = "__sf_span_start"
_E = "__sf_span_end"
ALIGNED_TARGET = "__sf_target"
"""Column :func:`align_target` adds: the target of the row, float64."""
_TIME_NAMES = frozenset(CALENDAR_NAMES) | frozenset(CYCLICAL_NAMES)
_PAIRS = {"pct_change": 1, "rate_of_change": 1, "acceleration": 2}


def feature_window(name: str) -> Window:
    """
    Say which readings the feature `name` reads at a row (for the overlap rule).

    Names are those of :func:`sensorframe.feature_names`, or ``value``. Spectral, EWM
    and expanding features, and any other column, count as reading the whole history
    (a spectral feature's name does not say its window, so the bound is conservative).

    Examples
    --------
    >>> from sensorframe.features.matrix import feature_window
    >>> feature_window("rolling_12_mean"), feature_window("lag_3"), feature_window("hour")
    (('rows', 11, 0), ('rows', 3, 3), ('none',))
    >>> feature_window("rolling_1h_std")
    ('duration', 3600000000)
    """
    if name == VALUE:
        return ("rows", 0, 0)
    if name in _TIME_NAMES:
        return ("none",)
    if name in _PAIRS:
        return ("rows", _PAIRS[name], 0)
    rolling = _ROLLING_NAME.match(name)
    if rolling:
        w = rolling["window"]
        if w.isdecimal():
            return ("rows", int(w) - 1, 0)
        try:
            return ("duration", parse_duration_us(w))
        except SensorFrameError:
            return ("history",)
    counted = _COUNTED_NAME.match(name)
    if counted:
        k = int(counted["k"])
        return ("rows", k, k) if counted["kind"] == "lag" else ("rows", k, 0)
    return ("history",)


@overload
def feature_matrix(
    features: FrameInput,
    select: Sequence[str] | str | None = ...,
    *,
    target: None = ...,
    dtype: Any = ...,
    drop_nulls: bool = ...,
) -> np.ndarray: ...


@overload
def feature_matrix(
    features: FrameInput,
    select: Sequence[str] | str | None = ...,
    *,
    target: str | pl.DataFrame | pl.LazyFrame,
    dtype: Any = ...,
    drop_nulls: bool = ...,
) -> tuple[np.ndarray, np.ndarray]: ...


def feature_matrix(
    features: FrameInput,
    select: Sequence[str] | str | None = None,
    *,
    target: str | pl.DataFrame | pl.LazyFrame | None = None,
    dtype: Any = np.float64,
    drop_nulls: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """
    Feature columns as an array of shape (rows, features), in the order asked for.

    With a `target`, also the target aligned with them, ``(X, y)``: the rows are those
    with a non-null target, and a row is dropped when the readings any selected feature
    reads there (:func:`feature_window`) overlap the target's span, so no feature
    contains what it is meant to predict. A target frame from
    :func:`sensorframe.make_target` spans ``(t, target_end]``, after every trailing
    window at t, and loses no row; a target column of `features` (such as ``"value"``)
    is a fact about t itself, so every feature reading the row's own reading (rolling
    windows, differences, EWM ...) overlaps it, which is the leak of a model predicting
    the value at t from ``rolling_12_mean`` at t.

    Parameters
    ----------
    features
        Output of :func:`engineer_features` (a ``LazyFrame`` or ``DataFrame``), or any
        frame with ``sensor_id``, ``timestamp`` and numeric feature columns.
    select
        Column names, in the order wanted (``"value"`` may be among them). By default
        every column except ``sensor_id``, ``timestamp`` and ``value`` (and the target
        column).
    target
        None; the name of a numeric or boolean column of `features` (its span is the
        row's own time); or a frame with ``sensor_id``, ``timestamp`` and ``target``,
        and optionally ``target_end`` (the span's inclusive end; without it the span is
        the row's time) and ``target_start`` (its exclusive start, default the row's
        timestamp), joined to the features on (sensor, time).
    dtype
        NumPy dtype of the array. Null becomes NaN; an integer dtype needs
        ``drop_nulls=True`` or columns without nulls.
    drop_nulls
        Drop the rows with a null in any selected column (typically the warm-up rows).

    Returns
    -------
    ndarray, or (ndarray, ndarray) with a target
        Array of shape (rows, features); booleans become 0/1. With a target, also the
        float64 target of each row.

    Raises
    ------
    UnknownFeatureError
        If a selected name (or the target column) is not a column, listing the ones
        available.
    InvalidParameterError
        If a name is selected twice, a selected column is not numeric or boolean, or
        nulls cannot be represented in `dtype`.
    InvalidTypeError
        If `select` holds something other than names, `dtype` is not a NumPy number or
        bool dtype, or `target` is neither a name nor a frame.
    SensorSchemaError
        If a target frame lacks ``sensor_id``, ``timestamp`` or ``target``.

    Examples
    --------
    >>> feats = pl.DataFrame(
    ...     {"sensor_id": ["a", "a"], "timestamp": [1, 2], "value": [1.0, 2.0]}
    ... ).with_columns(lag_1=pl.Series([None, 1.0]))
    >>> sf.features.feature_matrix(feats, ["value", "lag_1"])
    array([[ 1., nan],
           [ 2.,  1.]])
    >>> sf.features.feature_matrix(feats, drop_nulls=True)
    array([[1.]])

    ``lag_1`` does not read the row's own reading, ``value`` does:

    >>> sf.features.feature_matrix(feats, ["lag_1"], target="value", drop_nulls=True)
    (array([[1.]]), array([2.]))
    >>> sf.features.feature_matrix(feats, ["value"], target="value")[0].shape
    (0, 1)
    """
    lf = features.lazy() if isinstance(features, pl.DataFrame | pl.LazyFrame) else scan(features)
    schema = lf.collect_schema()
    available = [c for c in schema.names() if c not in (SENSOR, TIME)]
    if target is not None and not isinstance(target, str | pl.DataFrame | pl.LazyFrame):
        msg = f"`target` must be a column name or a target frame, got {type(target).__name__}"
        raise InvalidTypeError(msg)
    label = target if isinstance(target, str) else None
    if select is None:
        columns = [c for c in available if c not in (VALUE, label)]
    else:
        columns = unique_names("select", select, what="column")
    for names, what in ((columns, "feature column"), ([label] if label else [], "target column")):
        require_numeric(
            schema,
            names,
            among=available,
            what=what,
            also=pl.Boolean(),
            errors=(UnknownFeatureError, InvalidParameterError),
        )
    try:
        out_dtype = np.dtype(dtype)
    except TypeError as exc:
        msg = f"`dtype` must be a NumPy number or bool dtype, got {dtype!r}"
        raise InvalidTypeError(msg) from exc
    if not (np.issubdtype(out_dtype, np.number) or out_dtype == np.bool_):
        msg = f"`dtype` must be a NumPy number or bool dtype, got {out_dtype}"
        raise InvalidTypeError(msg)
    if target is not None:
        lf = align_target(lf, columns, target)
    selected = lf.select(
        *(pl.col(c).cast(pl.Float64) for c in columns),
        *([ALIGNED_TARGET] if target is not None else []),
    )
    if drop_nulls:
        selected = selected.drop_nulls(columns)
    frame = selected.collect()
    if not columns and target is None:
        rows = lf.select(pl.len()).collect().item()  # no column, so no null to drop
        return np.empty((rows, 0), dtype=out_dtype)
    if not np.issubdtype(out_dtype, np.floating):
        nulls = [c for c in columns if frame[c].null_count()]
        if nulls:
            msg = (
                f"column(s) {nulls} hold nulls, which dtype {out_dtype} cannot represent; "
                "pass drop_nulls=True"
            )
            raise InvalidParameterError(msg)
    x = (
        frame.select(columns).to_numpy(order="c").astype(out_dtype, copy=False)
        if columns
        else np.empty((frame.height, 0), dtype=out_dtype)
    )
    if target is None:
        return x
    return x, frame.get_column(ALIGNED_TARGET).to_numpy().astype(np.float64, copy=False)


def align_target(
    lf: pl.LazyFrame, columns: Sequence[str], target: str | pl.DataFrame | pl.LazyFrame
) -> pl.LazyFrame:
    """
    Add the target as :data:`ALIGNED_TARGET`; keep the rows with one that no feature overlaps.

    `columns` are the features whose windows count (:func:`feature_window`); `target`
    is as for :func:`feature_matrix`. The rows keep their order.

    Raises
    ------
    SensorSchemaError
        If a target frame lacks ``sensor_id``, ``timestamp`` or ``target``.

    Examples
    --------
    >>> from sensorframe.features.matrix import align_target
    >>> feats = pl.LazyFrame({"sensor_id": ["a", "a"], "timestamp": [1, 2], "value": [1.0, 2.0]})
    >>> align_target(feats, [], "value").collect().height
    2
    """
    t = pl.col(TIME)
    first = t.min().over(SENSOR)
    windows = {feature_window(c) for c in columns} - {("none",)}
    bounds: list[tuple[pl.Expr, pl.Expr]] = []
    for w in sorted(windows, key=repr):
        if w[0] == "rows":
            a, b = w[1], w[2]
            start = t.shift(a).over(SENSOR, order_by=TIME).fill_null(first) if a else t
            # the end reading does not exist before the sensor's first row: nothing read
            end = t.shift(b).over(SENSOR, order_by=TIME) if b else t
            bounds.append((start, end))
        elif w[0] == "duration":
            bounds.append((t - pl.duration(microseconds=w[1] - 1), t))
        else:
            bounds.append((first, t))
    names = [f"__sf_window_{i}_{end}" for i in range(len(bounds)) for end in ("start", "end")]
    lf = lf.with_columns(
        expr.alias(name)
        for (start, end), i in zip(bounds, range(len(bounds)), strict=True)
        for expr, name in ((start, names[2 * i]), (end, names[2 * i + 1]))
    )
    if isinstance(target, str):
        lf = lf.with_columns(
            pl.col(target).cast(pl.Float64).alias(ALIGNED_TARGET), t.alias(_S), t.alias(_E)
        )
        inclusive = True
    else:
        right = target.lazy()
        given = right.collect_schema().names()
        missing = [c for c in (SENSOR, TIME, TARGET) if c not in given]
        if missing:
            msg = (
                f"the target frame has no column(s) {missing}: it needs sensor_id, timestamp "
                f"and target (as make_target writes them), got {given}"
            )
            raise SensorSchemaError(msg)
        inclusive = TARGET_END not in given
        right = right.select(
            SENSOR,
            TIME,
            pl.col(TARGET).cast(pl.Float64).alias(ALIGNED_TARGET),
            (pl.col(TARGET_START) if TARGET_START in given else t).alias(_S),
            (t if inclusive else pl.col(TARGET_END)).alias(_E),
        )
        lf = lf.join(right, on=[SENSOR, TIME], how="inner", maintain_order="left")
    s, e = pl.col(_S), pl.col(_E)
    overlaps = [
        (((pl.col(we) >= s) if inclusive else (pl.col(we) > s)) & (pl.col(ws) <= e)).fill_null(
            value=False
        )
        for ws, we in zip(names[::2], names[1::2], strict=True)
    ]
    keep = pl.col(ALIGNED_TARGET).is_not_null() & s.is_not_null() & e.is_not_null()
    if overlaps:
        keep = keep & ~pl.any_horizontal(overlaps)
    return lf.filter(keep)
