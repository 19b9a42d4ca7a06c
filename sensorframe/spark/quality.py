"""Quality on Spark: :func:`flag_quality` rows and the :func:`quality` report, per bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from sensorframe._utils import checked_config
from sensorframe.frame import SENSOR
from sensorframe.quality import QualityConfig, QualityReport, assess_quality
from sensorframe.quality import flag_quality as local_flag_quality
from sensorframe.spark._buckets import Engine, canonical_schema, empty_frame, map_buckets
from sensorframe.spark._payload import PAYLOAD, pack, unpack

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["flag_quality", "quality"]

TABLES = ("table", "events")


def flag_quality(
    df: DataFrame,
    config: QualityConfig | None = None,
    *,
    buckets: int | None = None,
    engine: Engine = "auto",
) -> DataFrame:
    """
    Flag every row of a Spark DataFrame, as :func:`sensorframe.flag_quality` does.

    Each bucket of whole sensors is flagged by the local library on a worker, so the
    rows and flags equal the local ones (Spark gives no row order: sort by
    ``sensor_id``, ``timestamp`` to compare).

    Parameters
    ----------
    df
        A Spark DataFrame with ``sensor_id``, ``timestamp`` and ``value`` (extra
        columns are kept).
    config
        Thresholds; the defaults of :class:`~sensorframe.QualityConfig` if omitted.
    buckets
        How many buckets of sensors to spread over the workers; the session's
        ``spark.sql.shuffle.partitions`` by default.
    engine
        ``"arrow"`` (``applyInArrow``, Spark >= 4), ``"pandas"`` (``applyInPandas``,
        Spark 3.5) or ``"auto"``: arrow where the Spark version has it.

    Returns
    -------
    pyspark.sql.DataFrame
        The columns of the local result; ``Enum`` and ``Categorical`` become strings,
        unsigned integers signed ones (:mod:`sensorframe.spark._arrow`).

    Raises
    ------
    InvalidTypeError
        If `df` is not a Spark DataFrame or `config` not a ``QualityConfig``.
    SensorSchemaError
        If `df` lacks a canonical column, before any job runs.

    Examples
    --------
    >>> import sensorframe.spark as sfs
    >>> flags = sfs.flag_quality(spark_df)  # doctest: +SKIP
    >>> flags.filter("flag_any").count()  # doctest: +SKIP
    12
    """
    cfg = checked_config(config, QualityConfig)
    schema = canonical_schema(df)

    def local(rows: pl.DataFrame) -> pl.DataFrame:
        return local_flag_quality(rows, cfg).collect()

    out = local(empty_frame(schema)).schema
    return map_buckets(df, local, out, buckets=buckets, engine=engine)


def _report_parts(frame: pl.DataFrame, cfg: QualityConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    report = assess_quality(frame, cfg)
    return report.table, report.events


def quality(
    df: DataFrame,
    config: QualityConfig | None = None,
    *,
    buckets: int | None = None,
    engine: Engine = "auto",
) -> QualityReport:
    """
    Assess every sensor of a Spark DataFrame, as :func:`sensorframe.assess_quality` does.

    Each worker assesses a bucket of whole sensors with the local library; the driver
    concatenates the buckets' tables and events (every grade is per sensor), so the
    report equals the local one. Parameters as in :func:`flag_quality`.

    Returns
    -------
    QualityReport
        ``.table`` sorted by ``sensor_id``, ``.events`` by sensor, start and check.

    Examples
    --------
    >>> import sensorframe.spark as sfs
    >>> sfs.quality(spark_df)  # doctest: +SKIP
    QualityReport(3 sensors: 2 excellent, 1 fair)
    """
    cfg = checked_config(config, QualityConfig)
    table, events = _report_parts(empty_frame(canonical_schema(df)), cfg)

    def local(rows: pl.DataFrame) -> pl.DataFrame:
        return pack(**dict(zip(TABLES, _report_parts(rows, cfg), strict=True)))

    parts = unpack(map_buckets(df, local, PAYLOAD, buckets=buckets, engine=engine), *TABLES)
    return QualityReport(
        pl.concat([table, *parts["table"]]).sort(SENSOR),
        pl.concat([events, *parts["events"]]).sort(SENSOR, "start", "check"),
        cfg,
    )
