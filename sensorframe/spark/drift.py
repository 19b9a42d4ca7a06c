"""Drift on Spark: both windows cogrouped by bucket, Benjamini-Hochberg on the driver."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from sensorframe._utils import checked_config
from sensorframe.drift import DriftConfig, DriftReport, combine_reports, detect_drift
from sensorframe.frame import SENSOR
from sensorframe.spark._buckets import Engine, canonical_schema, cogroup, empty_frame
from sensorframe.spark._payload import PAYLOAD, pack, unpack

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["drift"]


def drift(
    ref_df: DataFrame,
    cur_df: DataFrame,
    config: DriftConfig | None = None,
    *,
    target: str | None = None,
    buckets: int | None = None,
    engine: Engine = "auto",
) -> DriftReport:
    """
    Detect drift between two Spark DataFrames, as :func:`sensorframe.detect_drift`.

    Both windows are bucketed by the same stable hash of ``sensor_id``; each worker
    compares one bucket's sensors with the local library, and the driver combines the
    buckets' reports (:func:`sensorframe.drift.combine_reports`), which redoes the
    Benjamini-Hochberg correction across all sensors, so the report equals the local
    one, rows in its order: the reference's sensors sorted, then the new ones. With a
    ``target``, prior shift and concept drift are adjusted across all sensors too.

    Parameters
    ----------
    ref_df, cur_df
        Spark DataFrames with ``sensor_id``, ``timestamp`` and ``value``.
    config
        Thresholds and tests; ``DriftConfig()`` when None.
    target
        Optional numeric column of both windows (as in :func:`sensorframe.detect_drift`).
    buckets, engine
        As in :func:`sensorframe.spark.flag_quality`.

    Returns
    -------
    DriftReport

    Raises
    ------
    InvalidTypeError
        If a window is not a Spark DataFrame or `config` not a ``DriftConfig``.
    SensorSchemaError
        If a window lacks a canonical column, before any job runs.

    Examples
    --------
    >>> import sensorframe.spark as sfs
    >>> sfs.drift(reference_df, current_df).drifted  # doctest: +SKIP
    ['P-7']
    """
    cfg = checked_config(config, DriftConfig)
    empty_ref = empty_frame(canonical_schema(ref_df, "ref_df"))
    empty_cur = empty_frame(canonical_schema(cur_df, "cur_df"))

    def local(ref: pl.DataFrame, cur: pl.DataFrame) -> pl.DataFrame:
        # a bucket may hold sensors of one window only; its other side has no rows
        report = detect_drift(
            ref if ref.height else empty_ref,
            cur if cur.height else empty_cur,
            cfg,
            target=target,
        )
        return pack(table=report.table)

    payload = cogroup(ref_df, cur_df, local, PAYLOAD, buckets=buckets, engine=engine)
    tables = unpack(payload, "table")["table"]
    if not tables:  # no rows on either side
        return detect_drift(empty_ref, empty_cur, cfg, target=target)
    parts = [DriftReport(table=table, config=cfg, target=target) for table in tables]
    combined = combine_reports(parts)
    new = pl.col("status") == "no_reference"
    ordered = combined.table.sort(new, SENSOR, maintain_order=True)
    return DriftReport(table=ordered, config=cfg, target=target)
