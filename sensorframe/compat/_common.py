"""
What the compat adapters share: arrays to frames, files to frames, frames to arrays.

The original classes took one sensor's readings as a NumPy array with optional
timestamps; sensorframe takes a long frame. :func:`sensor_frame` is the one bridge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl

import sensorframe as sf
from sensorframe.errors import InvalidTypeError, SourceError

__all__ = [
    "INDEX_START",
    "INDEX_STEP",
    "attributes",
    "collect",
    "read_file",
    "regular_index",
    "sensor_frame",
]

INDEX_START = datetime(1970, 1, 1, tzinfo=UTC)
"""First time of the regular index given to readings that come without timestamps."""
INDEX_STEP = timedelta(hours=1)
"""Step of that index: one reading per hour (the original's lags were in hours)."""


_C = TypeVar("_C")


def attributes(source: object, names: Mapping[str, str]) -> dict[str, Any]:
    """
    Return ``{name: source.<attribute>}`` for each ``name: attribute`` of `names`.

    The adapters' one way to carry fields between the original's names and
    sensorframe's.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from sensorframe.compat._common import attributes
    >>> attributes(SimpleNamespace(rows=3), {"total_samples": "rows", "rows": "rows"})
    {'total_samples': 3, 'rows': 3}
    """
    return {name: getattr(source, attribute) for name, attribute in names.items()}


def regular_index(n: int) -> pl.Series:
    """
    Return times for `n` readings without timestamps: :data:`INDEX_START` + i x :data:`INDEX_STEP`.

    Examples
    --------
    >>> from sensorframe.compat._common import regular_index
    >>> regular_index(2).dt.hour().to_list()
    [0, 1]
    """
    return pl.datetime_range(
        INDEX_START,
        INDEX_START + max(n - 1, 0) * INDEX_STEP,
        INDEX_STEP,
        time_unit="us",
        time_zone="UTC",
        eager=True,
    ).head(n)


def sensor_frame(data: Any, timestamps: Any, sensor_id: str) -> pl.LazyFrame:
    """
    One sensor's readings (a 1-D array or sequence of numbers) as a validated frame.

    Without `timestamps`, the readings get :func:`regular_index`. Anything else
    :func:`sensorframe.scan` reads (a frame, a table, a path) passes through it, as
    long as it holds only `sensor_id`'s readings or no sensor column at all.

    Examples
    --------
    >>> from sensorframe.compat._common import sensor_frame
    >>> sensor_frame([1.0, 2.0], None, "S1").collect()["sensor_id"].to_list()
    ['S1', 'S1']
    """
    if not isinstance(sensor_id, str):
        msg = f"`sensor_id` must be a string, got {type(sensor_id).__name__}"
        raise InvalidTypeError(msg)
    if isinstance(data, np.ndarray | pl.Series | Sequence) and not isinstance(data, str | bytes):
        values = np.asarray(data)
        times = regular_index(len(values)) if timestamps is None else timestamps
        return sf.scan(values, timestamps=times, sensor_id=sensor_id)
    if timestamps is not None:
        msg = "`timestamps` are only used with an array of values"
        raise InvalidTypeError(msg)
    return sf.scan(data).filter(pl.col("sensor_id") == sensor_id)


def read_file(path: str | Path, sensor_ids: Sequence[str] | None) -> pl.LazyFrame:
    """
    Read a ``.npy``, ``.parquet`` or ``.csv`` file into a sensor frame.

    A ``.npy`` file holds one sensor's values (its first column if 2-D, as in the
    Telemanom layout) and no times: it needs exactly one id in `sensor_ids` and gets
    :func:`regular_index`. Parquet and CSV files are read by :func:`sensorframe.scan`
    and, with `sensor_ids`, keep only those sensors.

    Raises
    ------
    SourceError
        If the file does not exist or has another suffix, or a ``.npy`` file comes
        without exactly one sensor id.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sensorframe.compat._common import read_file
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.npy"
    >>> np.save(path, np.arange(3.0))
    >>> read_file(path, ["S1"]).collect().height
    3
    """
    file = Path(path)
    if not file.is_file():
        msg = f"no such file: {file}"
        raise SourceError(msg)
    suffix = file.suffix.lower()
    if suffix == ".npy":
        if sensor_ids is None or len(sensor_ids) != 1:
            msg = f"{file} holds one sensor's values: give exactly one id in `sensor_ids`"
            raise SourceError(msg)
        try:
            values = np.load(file, allow_pickle=False)
        except ValueError as exc:
            msg = f"could not read {file} as a NumPy array: {exc}"
            raise SourceError(msg) from exc
        column = values[:, 0] if values.ndim == 2 else values
        return sensor_frame(column, None, sensor_ids[0])
    if suffix not in {".parquet", ".csv"}:
        msg = f"cannot version {file}: use a .npy, .parquet or .csv file"
        raise SourceError(msg)
    lf = sf.scan(str(file))
    return lf if sensor_ids is None else lf.filter(pl.col("sensor_id").is_in(list(sensor_ids)))


def collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Return `frame` as a DataFrame, whichever kind a library function returned."""
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame
