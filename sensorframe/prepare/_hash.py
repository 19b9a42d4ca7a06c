"""An order- and chunk-independent SHA-256 of a frame's content."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl

from sensorframe._order import in_order, keyed, sensor_numbers, sensor_runs, sort_frame
from sensorframe.frame import KEYS, SENSOR, TIME, scan

__all__ = ["as_type", "canonical_hash", "canonical_type", "content_hash", "hash_and_sort"]


def content_hash(frame: Any) -> str:
    """
    SHA-256 of a frame's content, independent of row order and of chunking.

    The frame is made canonical (as :func:`sensorframe.scan` does), put in a
    canonical row order (below), and each column's Arrow-style buffers are hashed: a
    validity bitmap and the raw values for numbers and times, run lengths and bytes for
    text. Extra columns are included, in name order, each in the canonical type of its
    content (below). Any change of a value, timestamp, sensor id or column name, and
    any change of type beyond those, changes the hash.

    Parameters
    ----------
    frame
        Any input :func:`sensorframe.scan` accepts.

    Returns
    -------
    str
        64 hexadecimal characters.

    Notes
    -----
    Rows are ordered by sensor id, then timestamp (one integer sort key packing the
    sensor's rank among the sorted ids with the time offset, when both fit in 62 bits;
    no sort at all when the input is already in that order);
    only rows that tie on both are ordered further, by the bit patterns of their
    values and then the other columns, so even ``0.0`` and ``-0.0`` order the same
    way every time. Rows tied in every other column are ordered by their nested
    (list, struct) values' JSON text.

    Types that hold the same content hash alike, as the dataset store stores them
    (so ``content_hash(frame) == store.commit(..., frame).data_hash``):
    Categorical and Enum as String; UInt8/16/32 as Int16/32/64, UInt64 as Int64 when
    every value fits; time-zone aware datetimes as UTC; millisecond datetimes, and
    nanosecond ones whose values are whole microseconds, as microseconds.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["a", "b"], "timestamp": ["2026-01-01", "2026-01-01"], "value": [1, 2]}
    ... )
    >>> sf.content_hash(df) == sf.content_hash(df.reverse())
    True
    >>> sf.content_hash(df) == sf.content_hash(df.with_columns(value=pl.lit(1.0)))
    False
    """
    return canonical_hash(scan(frame).collect())


def canonical_hash(df: pl.DataFrame) -> str:
    """
    Return :func:`content_hash` of a frame that is canonical already, without scanning it.

    For a frame just produced by ``scan(...).collect()`` (saves a validation pass,
    about 0.25 s per 10 M rows); not for data read back from elsewhere, which may
    hold NaN or other types that ``scan`` would canonicalize.
    """
    return hash_and_sort(df, keep_frame=False)[0]


def hash_and_sort(df: pl.DataFrame, *, keep_frame: bool = True) -> tuple[str, pl.DataFrame]:
    """
    Return the content hash of a canonical frame and the frame in canonical row order.

    The order is the one hashed: by sensor id, timestamp, then (for tied rows only)
    the bits of the other columns. Columns keep their order. Without ``keep_frame``
    the frame returned is an internal one (sensor codes, not ids), not for use.
    """
    extras = sorted(c for c in df.columns if c not in KEYS)
    order = [*KEYS, *extras]
    ordered, ids, ties = _canonical_sort(df.select(order), tie_columns=order[2:])
    types = {c: canonical_type(df.get_column(c)) for c in order}
    digest = hashlib.sha256()
    digest.update(repr([(c, str(types[c])) for c in order]).encode())
    digest.update(df.height.to_bytes(8, "little"))
    # The sensor column from its sorted integer codes: its runs and their ids.
    digest.update(SENSOR.encode())
    codes = ordered.get_column(_CODE)
    runs = codes.rle()
    digest.update(bytes((df.height + 7) // 8))  # the validity: scan rejects null ids
    for chunk in _text_bytes(runs.struct.field("len"), ids.gather(runs.struct.field("value"))):
        digest.update(chunk)
    for name in order[1:]:
        digest.update(name.encode())
        column = ordered.get_column(name)
        if ties is not None and name != TIME:  # one column at a time, not the frame
            column = column.gather(ties)
        for chunk in _column_bytes(as_type(column, types[name])):
            digest.update(chunk)
    if not keep_frame:
        return digest.hexdigest(), ordered
    if ties is not None:
        ordered = ordered[ties]
    sensors = ids.gather(codes).alias(SENSOR)
    return digest.hexdigest(), ordered.with_columns(sensors).select(df.columns)


_WIDER: dict[Any, pl.DataType] = {
    pl.UInt8: pl.Int16(),
    pl.UInt16: pl.Int32(),
    pl.UInt32: pl.Int64(),
}
_INT64_MAX = (1 << 63) - 1


def canonical_type(series: pl.Series) -> pl.DataType:
    """
    Return the type a column's content is hashed (and stored) in; see :func:`content_hash`.

    Every cast to it is exact: a value that would change (a UInt64 above the Int64
    range, a nanosecond time that is not a whole microsecond) keeps the column's type.
    """
    dtype = series.dtype
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return pl.String()
    if dtype.base_type() in _WIDER:
        return _WIDER[dtype.base_type()]
    if dtype == pl.UInt64 and (series.len() == 0 or (series.max() or 0) <= _INT64_MAX):  # type: ignore[operator]
        return pl.Int64()
    if isinstance(dtype, pl.Datetime):
        zone = None if dtype.time_zone is None else "UTC"
        unit = dtype.time_unit
        if unit == "ms" or (unit == "ns" and (series.to_physical() % 1000 == 0).all()):
            unit = "us"
        return pl.Datetime(unit, zone)
    return dtype


def as_type(series: pl.Series, dtype: pl.DataType) -> pl.Series:
    """Cast a column to its :func:`canonical_type` (exact by construction)."""
    if series.dtype == dtype:
        return series
    if isinstance(dtype, pl.Datetime) and isinstance(series.dtype, pl.Datetime):
        if dtype.time_zone is not None:
            series = series.dt.convert_time_zone(dtype.time_zone)
        return series.dt.cast_time_unit(dtype.time_unit)
    return series.cast(dtype, strict=True)


_CODE = "__sf_code"


def _canonical_sort(
    df: pl.DataFrame, *, tie_columns: list[str]
) -> tuple[pl.DataFrame, pl.Series, pl.Series | None]:
    """
    Sort by (sensor id, timestamp); order rows tied on both by the bits of the others.

    Returns the frame sorted by (sensor, time), with the sensor ids replaced by their
    integer code (``_CODE``, the rank among the sorted unique ids); those unique ids;
    and, if some rows tie, the row order that also orders the tied rows (None if no
    rows tie). The caller applies it: column by column when it only hashes them, so
    a few duplicate timestamps never cost a copy of the whole frame. Rows in order
    already are not sorted; others are sorted on the packed (sensor, time) key, whose
    codes and times are read back from it (see :mod:`sensorframe._order`).
    """
    rest = [c for c in df.columns if c not in (SENSOR, TIME)]
    lengths = in_order(df)
    if lengths is None:
        rows = keyed(df, rest)
        if rows is not None:
            ordered = rows.sorted()
            frame = ordered.frame.select(*rest, ordered.codes().alias(_CODE), ordered.times())
            return frame, rows.ids, _break_ties(frame, tie_columns)
        df = sort_frame(df)  # the key does not fit: sorted on the two columns
    ids, lengths = sensor_runs(df.get_column(SENSOR))
    frame = df.select(*rest, sensor_numbers(lengths, _CODE), TIME)
    return frame, ids, _break_ties(frame, tie_columns)


def _break_ties(ordered: pl.DataFrame, tie_columns: list[str]) -> pl.Series | None:
    """Row order that sorts rows tied on (sensor, time) by the other columns (None: no ties)."""
    if not tie_columns:
        return None
    keys = [_CODE, TIME]
    same_as_next = pl.all_horizontal(pl.col(k) == pl.col(k).shift(-1) for k in keys)
    same_as_next = same_as_next.fill_null(False)
    tied = ordered.select(same_as_next | same_as_next.shift(1).fill_null(False)).to_series()
    if not tied.any():
        return None
    where = tied.arg_true()
    schema = ordered.schema
    sub = ordered.select(
        *keys, *(_tie_key(c, schema[c]) for c in tie_columns if _sortable(schema[c]))
    ).select(pl.all().gather(where))
    nested = [c for c in tie_columns if schema[c].is_nested()]
    if nested:  # tied rows only (few): their values as canonical JSON text
        sub = sub.with_columns(_nested_key(ordered.get_column(c).gather(where)) for c in nested)
    sub_order = sub.select(pl.arg_sort_by(sub.columns, nulls_last=True)).to_series()
    permutation = pl.int_range(ordered.height, dtype=pl.UInt32, eager=True)
    return permutation.scatter(where, where.gather(sub_order))


def _nested_key(values: pl.Series) -> pl.Series:
    """Return a sortable text of each nested value (lists, structs), equal for equal ones."""
    return pl.Series(
        values.name,
        [json.dumps(v, sort_keys=True, default=str) for v in values.to_list()],
        dtype=pl.String,
    )


def _sortable(dtype: pl.DataType) -> bool:
    return not dtype.is_nested() and dtype != pl.Object


def _tie_key(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Float64:
        return col.reinterpret(dtype=pl.Int64).alias(name)
    if dtype == pl.Float32:
        return col.reinterpret(dtype=pl.Int32).alias(name)
    if isinstance(dtype, pl.Categorical):  # physical codes depend on the string cache
        return col.cast(pl.String).alias(name)
    return col


def _column_bytes(series: pl.Series) -> Iterator[bytes | memoryview]:
    """
    Yield the bytes that identify a column's content: validity, then values.

    Numbers go to the hash chunk by chunk, as views of their buffers: no copy of the
    column (a copy of 80 MB costs about twice what hashing it does: SHA-256 runs at
    ~1.8 GB/s here), and the bytes are those of the column in one chunk.
    """
    nulls = series.null_count()
    validity = (
        np.packbits(series.is_null().to_numpy())
        if nulls
        else np.zeros((series.len() + 7) // 8, dtype=np.uint8)
    )
    yield validity.data
    dtype = series.dtype
    if (dtype.is_numeric() and _bits(dtype) <= 64) or dtype.is_temporal() or dtype == pl.Boolean:
        for chunk in series.get_chunks():
            physical = chunk.to_physical()
            physical = physical.fill_null(0) if chunk.null_count() else physical
            values = physical.cast(pl.UInt8) if dtype == pl.Boolean else physical
            yield np.ascontiguousarray(values.to_numpy()).data
    elif dtype in (pl.String, pl.Binary, pl.Categorical):
        text = series.cast(pl.String) if dtype == pl.Categorical else series
        runs = text.rle()
        yield from _text_bytes(runs.struct.field("len"), runs.struct.field("value"))
    else:  # nested and 128-bit types: the IPC bytes of the column in one chunk
        buffer = io.BytesIO()
        series.rechunk().to_frame().write_ipc(buffer, compression="uncompressed")
        yield buffer.getbuffer()


def _bits(dtype: pl.DataType) -> int:
    """Width of a numeric type's values (128 for Int128 and Decimal, NumPy has none)."""
    return 128 if isinstance(dtype, pl.Decimal) or dtype.base_type() is pl.Int128 else 64


def _text_bytes(lengths: pl.Series, values: pl.Series) -> list[bytes | memoryview]:
    """Bytes of a run-length encoded text column: run lengths, sizes, data."""
    binary = values.cast(pl.Binary)
    sizes = binary.bin.size().fill_null(0).to_numpy()
    data = b"".join(binary.fill_null(b"").to_list())
    return [np.ascontiguousarray(lengths.to_numpy()).data, sizes.data, data]
