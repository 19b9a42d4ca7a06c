"""
Arrow types between Polars and Spark: what Spark cannot take, cast on the way out.

Polars writes strings as ``string_view`` or ``large_string``, lists as ``large_list``,
``Enum`` and ``Categorical`` as dictionaries and unsigned integers; Spark takes none of
these. :func:`spark_table` casts them to ``string``, ``list``, ``string`` and signed
integers or decimals (timestamps to microseconds, zoned ones to UTC), and :func:`spark_schema` is
the Spark schema of the result. :func:`polars_frame` casts a table that came back from
Spark to the Polars schema the local library gives, so results compare exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

__all__ = ["polars_frame", "spark_schema", "spark_table", "spark_type"]

_UNSIGNED = {8: pa.int16(), 16: pa.int32(), 32: pa.int64(), 64: pa.decimal128(20, 0)}
"""The signed type (or decimal) that holds every value of an unsigned one."""


def spark_type(dtype: pa.DataType) -> pa.DataType:
    """
    Return the Arrow type Spark takes for values of `dtype`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from sensorframe.spark._arrow import spark_type
    >>> spark_type(pa.large_list(pa.dictionary(pa.uint32(), pa.large_string())))
    ListType(list<item: string>)
    >>> spark_type(pa.timestamp("ns", tz="Europe/Berlin"))
    TimestampType(timestamp[us, tz=UTC])
    """
    if pa.types.is_dictionary(dtype):
        return spark_type(dtype.value_type)
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return pa.string()
    if pa.types.is_large_binary(dtype) or pa.types.is_binary_view(dtype):
        return pa.binary()
    if pa.types.is_unsigned_integer(dtype):
        return _UNSIGNED[dtype.bit_width]
    if pa.types.is_timestamp(dtype):
        return pa.timestamp("us", tz=None if dtype.tz is None else "UTC")
    if pa.types.is_duration(dtype):
        return pa.duration("us")
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_list_view(dtype):
        return pa.list_(spark_type(dtype.value_type))
    if pa.types.is_struct(dtype):
        return pa.struct([f.with_type(spark_type(f.type)) for f in dtype])
    return dtype


def _spark_arrow_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_type(spark_type(f.type)).remove_metadata() for f in schema])


def spark_table(frame: pl.DataFrame) -> pa.Table:
    """
    Return `frame` as an Arrow table of types Spark takes (:func:`spark_type`).

    Spark keeps times to the microsecond: finer times are truncated.
    """
    table = frame.to_arrow()
    return table.cast(_spark_arrow_schema(table.schema), safe=False)


def spark_schema(schema: pl.Schema) -> StructType:
    """
    Return the Spark schema of :func:`spark_table` of a frame of this Polars schema.

    Examples
    --------
    >>> from sensorframe.spark._arrow import spark_schema
    >>> spark_schema(pl.Schema({"sensor_id": pl.String, "flag": pl.Boolean}))  # doctest: +SKIP
    StructType([StructField('sensor_id', StringType(), True), ...])
    """
    from pyspark.sql.pandas.types import from_arrow_schema

    empty = pl.DataFrame(schema=schema).to_arrow()
    return from_arrow_schema(_spark_arrow_schema(empty.schema))


def polars_frame(table: pa.Table, schema: pl.Schema) -> pl.DataFrame:
    """
    Read a table that came back from Spark as a frame of `schema`, in its column order.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from sensorframe.spark._arrow import polars_frame
    >>> table = pa.table({"status": ["good"], "n": pa.array([3], pa.int64())})
    >>> schema = pl.Schema({"n": pl.UInt32, "status": pl.Enum(["good", "poor"])})
    >>> polars_frame(table, schema).schema
    Schema([('n', UInt32), ('status', Enum(categories=['good', 'poor']))])
    """
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())
