"""
Run the local library on Spark: buckets of whole sensors, one Polars frame per bucket.

Every row gets a bucket, ``pmod(xxhash64(sensor_id), n)`` (stable across runs, so a
reference and a current frame put a sensor in the same bucket), and
``groupBy(bucket).applyInArrow`` (Spark >= 4) or ``applyInPandas`` (Spark 3.5) hands
each bucket, all its sensors' rows, to a function of one Polars frame. A sensor is
never split, so any per-sensor computation equals the local one; what crosses sensors
(Benjamini-Hochberg) is finished on the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, get_args

import polars as pl
import pyarrow as pa

from sensorframe.errors import InvalidParameterError, InvalidTypeError
from sensorframe.frame import SENSOR, TIME, VALUE, scan
from sensorframe.spark._arrow import spark_schema, spark_table

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, GroupedData

__all__ = ["BUCKET", "Engine", "bucket_count", "canonical_schema", "cogroup", "map_buckets"]

Engine = Literal["auto", "arrow", "pandas"]
"""How buckets reach Python: ``applyInArrow`` (Spark >= 4), ``applyInPandas``, or by version."""
BUCKET = "__sf_bucket"
Local = Callable[[pl.DataFrame], pl.DataFrame]
LocalPair = Callable[[pl.DataFrame, pl.DataFrame], pl.DataFrame]


def _spark_frame(df: object, name: str = "df") -> DataFrame:
    from pyspark.sql import DataFrame

    if not isinstance(df, DataFrame):
        msg = f"`{name}` must be a Spark DataFrame, got {type(df).__name__}"
        raise InvalidTypeError(msg)
    return df


def canonical_schema(df: object, name: str = "df") -> pl.Schema:
    """
    Return the schema :func:`sensorframe.scan` gives the rows of a Spark DataFrame.

    Checked on the driver before any job runs, with the library's own schema checks.

    Raises
    ------
    InvalidTypeError
        If `df` is not a Spark DataFrame.
    SensorSchemaError
        If it lacks ``sensor_id``, ``timestamp`` or ``value``, or one has a type the
        library cannot read.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    frame = _spark_frame(df, name)
    empty = pa.Table.from_batches([], schema=to_arrow_schema(frame.schema, timezone="UTC"))
    return scan(empty).collect_schema()


def empty_frame(schema: pl.Schema) -> pl.DataFrame:
    """Return a frame with no rows (the local result on it gives the output schema)."""
    return pl.DataFrame(schema=schema)


def bucket_count(df: DataFrame, buckets: int | None) -> int:
    """`buckets`, checked, or the session's ``spark.sql.shuffle.partitions``."""
    if buckets is None:
        return int(df.sparkSession.conf.get("spark.sql.shuffle.partitions") or 1)
    if isinstance(buckets, bool) or not isinstance(buckets, int):
        msg = f"`buckets` must be a positive integer or None, got {buckets!r}"
        raise InvalidTypeError(msg)
    if buckets < 1:
        msg = f"`buckets` must be >= 1, got {buckets}"
        raise InvalidParameterError(msg)
    return buckets


def _engine(df: DataFrame, engine: Engine) -> Literal["arrow", "pandas"]:
    if engine not in get_args(Engine):
        msg = f"`engine` must be one of {get_args(Engine)}, got {engine!r}"
        raise InvalidParameterError(msg)
    major = int(df.sparkSession.version.split(".")[0])
    if engine == "arrow" and major < 4:
        msg = f"engine='arrow' needs Spark >= 4 (applyInArrow); this is Spark {major}"
        raise InvalidParameterError(msg)
    if engine == "auto":
        return "arrow" if major >= 4 else "pandas"
    return engine


def _grouped(df: DataFrame, n: int) -> GroupedData:
    from pyspark.sql import functions as F

    return df.withColumn(BUCKET, F.pmod(F.xxhash64(SENSOR), F.lit(n))).groupBy(BUCKET)


def _polars(table: pa.Table) -> pl.DataFrame:
    """Return a bucket's rows in (sensor, time, value) order: a shuffle keeps no order."""
    frame = pl.from_arrow(table.drop_columns([BUCKET]))
    assert isinstance(frame, pl.DataFrame)
    return frame.sort(SENSOR, TIME, VALUE, maintain_order=True)


def _zoned(df: DataFrame) -> tuple[list[str], str]:
    """Columns of Spark ``TimestampType`` and the session's zone, which pandas shows them in."""
    from pyspark.sql.types import TimestampType

    names = [f.name for f in df.schema.fields if isinstance(f.dataType, TimestampType)]
    return names, str(df.sparkSession.conf.get("spark.sql.session.timeZone") or "UTC")


def _from_pandas(frame: pd.DataFrame, zoned: tuple[list[str], str]) -> pl.DataFrame:
    """Return a bucket as Polars (pandas gets instants as naive session-zone times)."""
    names, zone = zoned
    out = _polars(pa.Table.from_pandas(frame, preserve_index=False))
    naive = [n for n in names if isinstance(out.schema.get(n), pl.Datetime)]
    return out.with_columns(pl.col(naive).dt.replace_time_zone(zone).dt.convert_time_zone("UTC"))


def map_buckets(
    df: DataFrame, local: Local, schema: pl.Schema, *, buckets: int | None, engine: Engine
) -> DataFrame:
    """
    Apply `local` to each bucket of whole sensors of `df`, as a Polars frame.

    `local` must return a frame of `schema` (the Polars schema the local library
    gives); the Spark result has the types of :func:`spark_schema` of it.
    """
    out = spark_schema(schema)
    grouped = _grouped(df, bucket_count(df, buckets))
    if _engine(df, engine) == "arrow":

        def arrow(table: pa.Table) -> pa.Table:
            return spark_table(local(_polars(table)))

        return grouped.applyInArrow(arrow, out)

    zoned = _zoned(df)

    def pandas(frame: pd.DataFrame) -> pd.DataFrame:
        return spark_table(local(_from_pandas(frame, zoned))).to_pandas()

    return grouped.applyInPandas(pandas, out)


def cogroup(
    left: DataFrame,
    right: DataFrame,
    local: LocalPair,
    schema: pl.Schema,
    *,
    buckets: int | None,
    engine: Engine,
) -> DataFrame:
    """Apply `local` to each bucket's rows of `left` and of `right` (one may be empty)."""
    out = spark_schema(schema)
    n = bucket_count(left, buckets)
    pair = _grouped(left, n).cogroup(_grouped(right, n))
    if _engine(left, engine) == "arrow":

        def arrow(one: pa.Table, two: pa.Table) -> pa.Table:
            return spark_table(local(_polars(one), _polars(two)))

        return pair.applyInArrow(arrow, out)

    zones = _zoned(left), _zoned(right)

    def pandas(one: pd.DataFrame, two: pd.DataFrame) -> pd.DataFrame:
        frames = _from_pandas(one, zones[0]), _from_pandas(two, zones[1])
        return spark_table(local(*frames)).to_pandas()

    return pair.applyInPandas(pandas, out)
