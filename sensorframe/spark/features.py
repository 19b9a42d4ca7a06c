"""Features on Spark: :func:`sensorframe.engineer_features` per bucket of whole sensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from sensorframe.features import FeatureConfig, engineer_features
from sensorframe.frame import SENSOR, TIME, VALUE
from sensorframe.spark._buckets import Engine, canonical_schema, empty_frame, map_buckets

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["features"]


def features(
    df: DataFrame,
    config: FeatureConfig | None = None,
    *,
    names: Sequence[str] | None = None,
    buckets: int | None = None,
    engine: Engine = "auto",
) -> DataFrame:
    """
    Compute features of a Spark DataFrame, as :func:`sensorframe.engineer_features`.

    Every feature of a sensor depends on that sensor's readings only, and each bucket
    of whole sensors is computed by the local library on a worker, so the values are
    the local ones bit for bit (Spark gives no row order: sort by ``sensor_id``,
    ``timestamp`` to compare).

    Parameters
    ----------
    df
        A Spark DataFrame with ``sensor_id``, ``timestamp`` and ``value``.
    config
        The features; :meth:`FeatureConfig.default` when None and `names` is not given.
    names
        Compute and return only these features (the local ``features=``).
    buckets, engine
        As in :func:`sensorframe.spark.flag_quality`.

    Returns
    -------
    pyspark.sql.DataFrame
        ``sensor_id``, ``timestamp``, ``value`` and one column per feature.

    Raises
    ------
    InvalidTypeError, ConfigError, UnknownFeatureError
        As :func:`sensorframe.engineer_features`, before any job runs.
    SensorSchemaError
        If `df` lacks a canonical column, before any job runs.

    Examples
    --------
    >>> import sensorframe.spark as sfs
    >>> cfg = sf.FeatureConfig(rolling_windows=[6], lags=[1])
    >>> sfs.features(spark_df, cfg).columns[:4]  # doctest: +SKIP
    ['sensor_id', 'timestamp', 'value', 'rolling_6_mean']
    """
    wanted = None if names is None else list(names)
    canonical = canonical_schema(df)
    empty = empty_frame(pl.Schema({name: canonical[name] for name in (SENSOR, TIME, VALUE)}))
    out = engineer_features(empty, config, features=wanted).collect_schema()

    def local(rows: pl.DataFrame) -> pl.DataFrame:
        return engineer_features(rows, config, features=wanted).collect()

    return map_buckets(df.select(SENSOR, TIME, VALUE), local, out, buckets=buckets, engine=engine)
