""":func:`feature_matrix`: selected feature columns as a 2-D NumPy array for a model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from sensorframe._columns import require_numeric
from sensorframe.errors import InvalidParameterError, InvalidTypeError, UnknownFeatureError
from sensorframe.features._names import unique_names
from sensorframe.frame import SENSOR, TIME, VALUE, scan

if TYPE_CHECKING:
    from sensorframe._typing import FrameInput

__all__ = ["feature_matrix"]


def feature_matrix(
    features: FrameInput,
    select: Sequence[str] | str | None = None,
    *,
    dtype: Any = np.float64,
    drop_nulls: bool = False,
) -> np.ndarray:
    """
    Feature columns as an array of shape (rows, features), in the order asked for.

    Parameters
    ----------
    features
        Output of :func:`engineer_features` (a ``LazyFrame`` or ``DataFrame``), or any
        frame with ``sensor_id``, ``timestamp`` and numeric feature columns.
    select
        Column names, in the order wanted (``"value"`` may be among them). By default
        every column except ``sensor_id``, ``timestamp`` and ``value``.
    dtype
        NumPy dtype of the array. Null becomes NaN; an integer dtype needs
        ``drop_nulls=True`` or columns without nulls.
    drop_nulls
        Drop the rows with a null in any selected column (typically the warm-up rows).

    Returns
    -------
    ndarray
        Array of shape (rows, features); booleans become 0/1.

    Raises
    ------
    UnknownFeatureError
        If a selected name is not a column, listing the ones available.
    InvalidParameterError
        If a name is selected twice, a selected column is not numeric or boolean, or
        nulls cannot be represented in `dtype`.
    InvalidTypeError
        If `select` holds something other than names or `dtype` is not a NumPy
        number or bool dtype.

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
    """
    lf = features.lazy() if isinstance(features, pl.DataFrame | pl.LazyFrame) else scan(features)
    schema = lf.collect_schema()
    available = [c for c in schema.names() if c not in (SENSOR, TIME)]
    if select is None:
        columns = [c for c in available if c != VALUE]
    else:
        columns = unique_names("select", select, what="column")
    require_numeric(
        schema,
        columns,
        among=available,
        what="feature column",
        also=pl.Boolean(),
        errors=(UnknownFeatureError, InvalidParameterError),
    )
    try:
        target = np.dtype(dtype)
    except TypeError as exc:
        msg = f"`dtype` must be a NumPy number or bool dtype, got {dtype!r}"
        raise InvalidTypeError(msg) from exc
    if not (np.issubdtype(target, np.number) or target == np.bool_):
        msg = f"`dtype` must be a NumPy number or bool dtype, got {target}"
        raise InvalidTypeError(msg)
    selected = lf.select(pl.col(c).cast(pl.Float64) for c in columns)
    if drop_nulls:
        selected = selected.drop_nulls()
    frame = selected.collect()
    if not columns:
        rows = lf.select(pl.len()).collect().item()  # no column, so no null to drop
        return np.empty((rows, 0), dtype=target)
    if not np.issubdtype(target, np.floating):
        nulls = [c for c in columns if frame[c].null_count()]
        if nulls:
            msg = (
                f"column(s) {nulls} hold nulls, which dtype {target} cannot represent; "
                "pass drop_nulls=True"
            )
            raise InvalidParameterError(msg)
    return frame.to_numpy(order="c").astype(target, copy=False)
