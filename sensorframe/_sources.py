"""
Reading sources into a ``pl.LazyFrame`` before :func:`sensorframe.scan` canonicalizes it.

Polars and pyarrow objects, pandas (index levels holding a key column become columns),
Arrow streams, NumPy arrays of one sensor, and paths: Parquet, CSV (key columns read as
text, parsed strictly later), Arrow IPC, Delta tables and folders of Parquet files.
Arrow second-unit times are widened with Arrow's overflow check, as Polars would wrap them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from deltalake.exceptions import DeltaError

from sensorframe._columns import SENSOR, TIME, VALUE, Columns
from sensorframe.errors import SensorFrameError, SensorSchemaError, SourceError

__all__ = ["READ_ERRORS", "from_numpy", "naming", "to_lazy"]

# What reading a source can raise: a Delta table is opened lazily, at the first collect.
READ_ERRORS = (pl.exceptions.PolarsError, OSError, DeltaError)


def from_numpy(values: np.ndarray, *, timestamps: Any, sensor_id: str | None) -> pl.LazyFrame:
    if values.ndim != 1:
        msg = f"a NumPy source must be 1-D (one sensor), got shape {values.shape}"
        raise SensorSchemaError(msg)
    if timestamps is None or sensor_id is None:
        msg = "a NumPy source needs `timestamps=` and `sensor_id=`"
        raise SensorSchemaError(msg)
    try:
        times = pl.Series(TIME, timestamps)
    except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        msg = f"could not read `timestamps` as times: {exc}"
        raise SensorSchemaError(msg) from exc
    if len(times) != len(values):
        msg = f"`timestamps` has {len(times)} entries but `values` has {len(values)}"
        raise SensorSchemaError(msg)
    if not np.issubdtype(values.dtype, np.number):
        msg = f"`values` must be numeric, got dtype {values.dtype}"
        raise SensorSchemaError(msg)
    return pl.DataFrame(
        {
            SENSOR: pl.repeat(sensor_id, len(values), dtype=pl.String, eager=True),
            TIME: times,
            VALUE: pl.Series(VALUE, values.astype(np.float64)),
        }
    ).lazy()


@contextmanager
def naming(source: Any) -> Iterator[None]:
    """Prefix the message of a SensorFrameError with the path ``source`` names, if any."""
    try:
        yield
    except SensorFrameError as exc:
        if not isinstance(source, str | os.PathLike):
            raise
        msg = f"{os.fspath(source)}: {exc}"
        raise type(exc)(msg) from exc


def to_lazy(
    source: Any,
    cols: Columns,
    *,
    storage_options: dict[str, str] | None,
    text: tuple[str, ...] | None = None,
) -> pl.LazyFrame:
    """
    Read ``source`` lazily; a CSV file's ``text`` columns (default: the keys) as strings.

    :func:`sensorframe.melt_wide` passes only its time column: there every other column is
    a sensor, even one named like a key column (e.g. ``value``).
    """
    if isinstance(source, pl.LazyFrame):
        return source
    if isinstance(source, pl.DataFrame):
        return source.lazy()
    if isinstance(source, str | os.PathLike):
        keys = (cols.sensor, cols.time, cols.value) if text is None else text
        return _scan_path(os.fspath(source), keys, storage_options=storage_options)
    module = type(source).__module__.split(".")[0]
    try:
        table = _arrow_table(source, module, cols)
    except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
        msg = f"could not read {type(source).__name__} as a table: {exc}"
        raise SourceError(msg) from exc
    if isinstance(table, pl.LazyFrame):
        return table
    if table is not None:
        return _from_arrow(table)
    msg = (
        f"cannot read a {type(source).__module__}.{type(source).__name__} as sensor data; "
        "pass a polars/pyarrow/pandas frame, an Arrow stream, a path or a NumPy array"
    )
    raise SourceError(msg)


def _arrow_table(source: Any, module: str, cols: Columns) -> Any:
    """Read an Arrow-like ``source`` as a ``pa.Table`` (a Dataset stays lazy), or None."""
    import pyarrow as pa

    if module == "pyarrow":
        import pyarrow.dataset as pads

        if isinstance(source, pads.Dataset):
            # Polars' scan would wrap second-unit times (see _from_arrow): read those.
            if any(_in_seconds(field.type) for field in source.schema):
                return source.to_table()
            return pl.scan_pyarrow_dataset(source)
        if isinstance(source, pa.RecordBatchReader):
            return source.read_all()
        if isinstance(source, pa.RecordBatch):
            return pa.Table.from_batches([source])
        if isinstance(source, pa.Table):
            return source
    if module == "pandas":
        frame = _pandas_index_as_columns(source, cols)
        return pa.Table.from_pandas(frame, preserve_index=False)
    if hasattr(source, "__arrow_c_stream__"):
        return pa.table(source)
    return None


def _from_arrow(table: Any) -> pl.LazyFrame:
    """
    Turn a ``pa.Table`` into a LazyFrame, converting second-unit columns first.

    Polars reads Arrow ``timestamp[s]`` and ``duration[s]`` by multiplying by 1000
    unchecked (2**62 s wraps to 1970-01-01): they are cast to milliseconds here with
    Arrow's overflow check, and a value that does not fit is refused.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, field in enumerate(table.schema):
        kind = field.type
        if not _in_seconds(kind):
            continue
        ms = pa.timestamp("ms", kind.tz) if pa.types.is_timestamp(kind) else pa.duration("ms")
        try:
            column = table.column(i).cast(ms)
        except pa.ArrowInvalid as exc:
            seconds = table.column(i).cast(pa.int64())
            limit = (2**63 - 1) // 1000
            row = pc.index(pc.or_(pc.less(seconds, -limit), pc.greater(seconds, limit)), True)
            msg = (
                f"column {field.name!r} holds seconds too large for any time, first at "
                f"row {row.as_py()}: {seconds[row.as_py()].as_py()} s"
            )
            raise SensorSchemaError(msg) from exc
        table = table.set_column(i, field.with_type(ms), column)
    return pl.DataFrame(pl.from_arrow(table)).lazy()


def _in_seconds(kind: Any) -> bool:
    """Tell whether an Arrow type is a timestamp or duration in seconds."""
    import pyarrow as pa

    return (pa.types.is_timestamp(kind) or pa.types.is_duration(kind)) and kind.unit == "s"


def _pandas_index_as_columns(frame: Any, cols: Columns) -> Any:
    """
    Move index levels that hold a key column into columns (pandas keeps time there).

    A level named like a missing key column becomes that column; a ``DatetimeIndex``
    becomes the time column when the frame has none, whatever its name.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        return frame
    index = frame.index
    names = [cols.sensor, cols.time, cols.value]
    levels = [n for n in index.names if n in names and n not in frame.columns]
    if levels:
        return frame.reset_index(level=levels)
    if isinstance(index, pd.DatetimeIndex) and cols.time not in frame.columns:
        return frame.reset_index(names=cols.time)
    return frame


def _scan_path(
    path: str, text: tuple[str, ...], *, storage_options: dict[str, str] | None
) -> pl.LazyFrame:
    is_uri = "://" in path and not path.startswith("file://")
    local = Path(path.removeprefix("file://"))
    suffix = Path(path).suffix.lower()
    if not is_uri and not any(ch in path for ch in "*?[") and not local.exists():
        msg = f"no such file or table: {path}"
        raise SourceError(msg)
    try:
        if suffix in {".parquet", ".pq"}:
            return pl.scan_parquet(path, storage_options=storage_options)
        if suffix in {".csv", ".tsv", ".txt"}:
            # The key columns are read as text and parsed strictly by _canonicalize: a
            # type inferred from the first rows would fail as a raw error further on, and
            # the other columns are inferred from the whole file for the same reason,
            # once, here (a scan left to infer would infer again at every collect).
            separator = "\t" if suffix == ".tsv" else ","
            schema = pl.scan_csv(
                path,
                separator=separator,
                schema_overrides=dict.fromkeys(text, pl.String),
                infer_schema_length=None,
            ).collect_schema()
            return pl.scan_csv(path, separator=separator, schema=schema)
        if suffix in {".arrow", ".ipc", ".feather"}:
            if not is_uri:
                import pyarrow.dataset as pads

                dataset = pads.dataset(path, format="ipc")
                if any(_in_seconds(field.type) for field in dataset.schema):
                    return _from_arrow(dataset.to_table())  # as for a pyarrow Dataset
            return pl.scan_ipc(path, storage_options=storage_options)
        if is_uri or (local / "_delta_log").is_dir():
            return pl.scan_delta(path, storage_options=storage_options)
        if local.is_dir():
            return pl.scan_parquet(local / "**" / "*.parquet")
    except SensorFrameError:
        raise
    except Exception as exc:  # deltalake and object-store errors have no common base
        msg = f"could not read {path}: {exc}"
        raise SourceError(msg) from exc
    msg = f"cannot tell the format of {path}: use .parquet, .csv, .arrow or a Delta table"
    raise SourceError(msg)
