"""An order- and chunk-independent SHA-256 of a frame's content."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import polars as pl

from sensorframe._batches import Batches, wants_batches
from sensorframe._order import in_order, keyed, sensor_numbers, sensor_runs, sort_frame
from sensorframe.errors import InvalidParameterError
from sensorframe.frame import KEYS, SENSOR, TIME, scan

__all__ = [
    "DIGEST_SCHEMA",
    "HASH_SCHEME",
    "as_type",
    "canonical_hash",
    "canonical_type",
    "canonical_types",
    "combine_digests",
    "content_hash",
    "hash_and_sort",
    "sensor_digests",
]


HASH_SCHEME = 2
"""
Definition of :func:`content_hash` (recorded with each stored version). 1: one SHA-256
over the whole frame's columns (sensorframe before session 6). 2: SHA-256 over
per-sensor digests (:func:`sensor_digests`, :func:`combine_digests`), so a source
larger than memory is hashed batch by batch with the same result.
"""
DIGEST_SCHEMA = pl.Schema({SENSOR: pl.String(), "rows": pl.Int64(), "digest": pl.Binary()})
"""Columns of a frame of per-sensor digests (:func:`sensor_digests`)."""


def content_hash(
    frame: Any, *, batch_rows: int | None = None, memory_limit: str | int | None = None
) -> str:
    """
    SHA-256 of a frame's content, independent of row order, chunking and batching.

    The frame is made canonical (as :func:`sensorframe.scan` does). Each sensor's rows,
    in a canonical order (below), get a digest (:func:`sensor_digests`): SHA-256 of the
    column names and types, the sensor's row count and each column's bytes (a
    validity byte per row, then the raw values for numbers and times, the sizes and
    bytes for text). The hash combines those digests in sensor-id order with the
    schema and the row count (:func:`combine_digests`). Extra columns are included, in
    name order, each in the canonical type of its content (below). Any change of a
    value, timestamp, sensor id or column name, and any change of type beyond those,
    changes the hash.

    Parameters
    ----------
    frame
        Any input :func:`sensorframe.scan` accepts.
    batch_rows, memory_limit
        Hash a source larger than memory in batches of whole sensors of about this
        many rows, or within this memory budget (``"4GB"``, bytes); see
        :class:`sensorframe._batches.Batches`. A lazy or on-disk source larger than
        the default budget is batched without asking. The hash is the same either way.

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
    nanosecond ones whose values are whole microseconds, as microseconds (decided
    over the whole source, see :func:`canonical_types`).

    This is scheme :data:`HASH_SCHEME` 2; hashes of scheme 1 differ.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["a", "b"], "timestamp": ["2026-01-01", "2026-01-01"], "value": [1, 2]}
    ... )
    >>> sf.content_hash(df) == sf.content_hash(df.reverse())
    True
    >>> sf.content_hash(df) == sf.content_hash(df.with_columns(value=pl.lit(1.0)))
    False
    >>> sf.content_hash(df) == sf.content_hash(df.lazy(), batch_rows=1)
    True
    """
    if not wants_batches(frame, batch_rows=batch_rows, memory_limit=memory_limit):
        return canonical_hash(scan(frame).collect())
    types = canonical_types(scan(frame))
    with Batches(frame, batch_rows=batch_rows, memory_limit=memory_limit) as batches:
        parts = [sensor_digests(batch, types=types) for batch in batches]
    return combine_digests(types, pl.concat(parts) if parts else DIGEST_SCHEMA.to_frame())


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
    types = canonical_types(df)
    digests, ordered = _digests(df, types, keep_frame=keep_frame)
    return combine_digests(types, digests), ordered


def sensor_digests(
    df: pl.DataFrame, *, types: Mapping[str, pl.DataType] | None = None
) -> pl.DataFrame:
    """
    Return each sensor's digest: the part of :func:`content_hash` its rows make.

    Parameters
    ----------
    df
        A canonical frame (as ``scan(...).collect()`` gives) holding whole sensors.
    types
        The canonical type of every column (:func:`canonical_types` of the whole
        source, when `df` is one batch of it); by default those of `df`.

    Returns
    -------
    DataFrame
        :data:`DIGEST_SCHEMA`: ``sensor_id``, ``rows`` and the 32-byte ``digest``,
        one row per sensor, sorted by id. Frames of disjoint sensors concatenated
        and given to :func:`combine_digests` give the hash of all their rows.

    Examples
    --------
    >>> from sensorframe.prepare._hash import canonical_types, combine_digests, sensor_digests
    >>> raw = {"sensor_id": ["a", "b"], "timestamp": ["2026-01-01"] * 2, "value": [1, 2]}
    >>> df = sf.scan(pl.DataFrame(raw)).collect()
    >>> types = canonical_types(df)
    >>> parts = [sensor_digests(df.filter(sensor_id=s), types=types) for s in ("b", "a")]
    >>> combine_digests(types, pl.concat(parts)) == sf.content_hash(df)
    True
    """
    return _digests(df, canonical_types(df) if types is None else types, keep_frame=False)[0]


def combine_digests(schema: Mapping[str, pl.DataType], digests: pl.DataFrame) -> str:
    """
    Combine per-sensor digests (:func:`sensor_digests`) into the :func:`content_hash`.

    SHA-256 of the scheme, the column names and canonical types (`schema`, as
    :func:`canonical_types` gives it), the total row count, then for each sensor in
    id order its id (length and UTF-8 bytes) and digest. The order of `digests`
    does not matter.

    Raises
    ------
    InvalidParameterError
        If a sensor has more than one digest (its rows were split between batches).
    """
    duplicated = digests.get_column(SENSOR).is_duplicated()
    if duplicated.any():
        twice = digests.get_column(SENSOR).filter(duplicated).unique().sort().to_list()
        msg = f"sensors {twice[:5]} have more than one digest: batches must hold whole sensors"
        raise InvalidParameterError(msg)
    ordered = digests.sort(SENSOR)
    ids = ordered.get_column(SENSOR).cast(pl.Binary).to_list()
    total = hashlib.sha256(f"sensorframe.content_hash:{HASH_SCHEME}".encode())
    total.update(_header(schema))
    total.update(int(ordered.get_column("rows").sum()).to_bytes(8, "little"))
    for sensor, digest in zip(ids, ordered.get_column("digest").to_list(), strict=True):
        total.update(len(sensor).to_bytes(8, "little") + sensor + digest)
    return total.hexdigest()


def canonical_types(frame: pl.DataFrame | pl.LazyFrame) -> dict[str, pl.DataType]:
    """
    Return the type each column is hashed (and stored) in, in hash order.

    Key columns first, then the others by name. Where the type depends on the values
    (UInt64, nanosecond datetimes) one query over the frame decides, so a lazy
    source is read once for those columns only, and every batch of it is hashed
    in the same types.

    Examples
    --------
    >>> from sensorframe.prepare._hash import canonical_types
    >>> canonical_types(pl.LazyFrame({"sensor_id": ["a"], "n": pl.Series([1], dtype=pl.UInt64)}))
    {'sensor_id': String, 'n': Int64}
    """
    schema = frame.collect_schema()
    names = _hash_order(schema)
    checks = [_fits_narrower(name, schema[name]) for name in names]
    wanted = [check for check in checks if check is not None]
    found = frame.lazy().select(wanted).collect().row(0, named=True) if wanted else {}
    return {name: _canonical(schema[name], narrower=found.get(name, False)) for name in names}


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
    return canonical_types(series.to_frame())[series.name]


def _fits_narrower(name: str, dtype: pl.DataType) -> pl.Expr | None:
    """Whether every value fits the narrower type, for types where that depends on them."""
    col = pl.col(name)
    if dtype == pl.UInt64:
        return (col.max().fill_null(0) <= _INT64_MAX).alias(name)
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
        return (col.to_physical() % 1000 == 0).all().alias(name)
    return None


def _canonical(dtype: pl.DataType, *, narrower: bool) -> pl.DataType:
    """Return the canonical type of a column of this type (`narrower`: its values all fit)."""
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return pl.String()
    if dtype.base_type() in _WIDER:
        return _WIDER[dtype.base_type()]
    if dtype == pl.UInt64 and narrower:
        return pl.Int64()
    if isinstance(dtype, pl.Datetime):
        zone = None if dtype.time_zone is None else "UTC"
        unit = "us" if dtype.time_unit == "ms" or narrower else dtype.time_unit
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


def _digests(
    df: pl.DataFrame, types: Mapping[str, pl.DataType], *, keep_frame: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """
    Per-sensor digests of a canonical frame, and the frame in canonical row order.

    One hashlib object per sensor, fed slices of each column's buffers (built once,
    vectorized, for the whole frame): a loop over sensors, never over rows. Without
    ``keep_frame`` the frame returned is an internal one (sensor codes, not ids).
    """
    order = _hash_order(types)
    missing = sorted(set(df.columns) ^ set(order))
    if missing:
        msg = f"`types` and the frame disagree on the columns {missing}"
        raise InvalidParameterError(msg)
    ordered, ids, ties = _canonical_sort(df.select(order), tie_columns=order[2:])
    codes = ordered.get_column(_CODE)
    lengths = np.bincount(codes.to_numpy(), minlength=len(ids)).astype(np.int64)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    parts: list[tuple[memoryview, list[int]]] = []
    for name in order[1:]:
        column = ordered.get_column(name)
        if ties is not None and name != TIME:  # one column at a time, not the frame
            column = column.gather(ties)
        parts += _column_parts(as_type(column, types[name]).rechunk(), bounds)
    start = hashlib.sha256(_header(types))
    digests: list[bytes] = []
    for i, rows in enumerate(lengths.tolist()):
        digest = start.copy()
        digest.update(rows.to_bytes(8, "little"))
        for buffer, edges in parts:
            digest.update(buffer[edges[i] : edges[i + 1]])
        digests.append(digest.digest())
    frame = pl.DataFrame({SENSOR: ids, "rows": lengths, "digest": digests}, schema=DIGEST_SCHEMA)
    if not keep_frame:
        return frame, ordered
    if ties is not None:
        ordered = ordered[ties]
    sensors = ids.gather(codes).alias(SENSOR)
    return frame, ordered.with_columns(sensors).select(df.columns)


def _header(types: Mapping[str, pl.DataType]) -> bytes:
    """Return the column names and canonical types as bytes, in hash order."""
    return repr([(c, str(types[c])) for c in _hash_order(types)]).encode()


def _hash_order(names: Iterable[str]) -> list[str]:
    """Return column names in hash order: the key columns, then the others by name."""
    names = list(names)
    return [c for c in KEYS if c in names] + sorted(c for c in names if c not in KEYS)


def _column_parts(series: pl.Series, bounds: np.ndarray) -> list[tuple[memoryview, list[int]]]:
    """
    Return the bytes identifying a column's content: buffers and each sensor's byte range.

    `bounds` are the sensors' first rows (and the end). Every column gives a validity
    byte per row (1 for null); numbers, times and booleans then their raw values
    (nulls as 0); text its sizes (int64) and bytes; lists and arrays their lengths
    (int64) and their values' parts; structs their fields' parts; 128-bit numbers
    their decimal text. All of it vectorized: none depends on the memory layout.
    Numbers are views of the column's buffer: no copy (a copy costs about twice
    what hashing does: SHA-256 runs at ~1.8 GB/s here).
    """
    nulls = series.is_null().to_numpy().view(np.uint8)
    parts = [(nulls.data, bounds.tolist())]
    dtype = series.dtype
    if (dtype.is_numeric() and _bits(dtype) <= 64) or dtype.is_temporal() or dtype == pl.Boolean:
        physical = series.to_physical()
        physical = physical.fill_null(0) if series.null_count() else physical
        physical = physical.cast(pl.UInt8) if dtype == pl.Boolean else physical
        values = np.ascontiguousarray(physical.to_numpy())
        parts.append((values.data.cast("B"), (bounds * values.itemsize).tolist()))
    elif dtype in (pl.String, pl.Binary):
        text = series.cast(pl.Binary).fill_null(b"").to_arrow(compat_level=pl.CompatLevel.oldest())
        offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset :]
        sizes = np.diff(offsets[: len(text) + 1])
        data = text.buffers()[2]
        parts.append((sizes.data.cast("B"), (bounds * 8).tolist()))
        parts.append((memoryview(b"" if data is None else data), offsets[bounds].tolist()))
    elif isinstance(dtype, pl.List | pl.Array):  # lengths, then the values in them
        lists = series.cast(pl.List(dtype.inner)) if isinstance(dtype, pl.Array) else series
        lengths = lists.list.len().fill_null(0).cast(pl.Int64).to_numpy()
        parts.append((lengths.data.cast("B"), (bounds * 8).tolist()))
        inner = np.concatenate([[0], np.cumsum(lengths)])[bounds]
        items = lists.explode(empty_as_null=False, keep_nulls=False)
        parts += _column_parts(items.rechunk(), inner)
    elif isinstance(dtype, pl.Struct):  # each field in turn
        for name in dtype.to_schema():
            parts += _column_parts(series.struct.field(name).rechunk(), bounds)
    else:  # 128-bit numbers and others: their exact text
        parts += _column_parts(series.cast(pl.String), bounds)[1:]
    return parts


def _bits(dtype: pl.DataType) -> int:
    """Width of a numeric type's values (128 for Int128 and Decimal, NumPy has none)."""
    return 128 if isinstance(dtype, pl.Decimal) or dtype.base_type() is pl.Int128 else 64
