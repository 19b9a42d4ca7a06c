"""
Run records: append-only events in ``<root>/_sensorframe/runs``, one row per sensor.

A run writes ``start`` (status ``running``, with the owning process), ``commit``
(status ``committing``: its output is staged and its versions are about to be
committed) and ``finish`` (the per-sensor outcome, or ``failed`` / ``abandoned`` for
the whole run). A run that wrote its HTML report (``PipelineConfig(report=True)``)
names it in the ``report`` column of its finish records: the path relative to the
store root (see :mod:`sensorframe.pipeline._report`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import polars as pl

from sensorframe.errors import SensorFrameError
from sensorframe.frame import SENSOR
from sensorframe.pipeline._owner import Owner
from sensorframe.store import DatasetStore, DatasetVersion

__all__ = ["RUNS_TABLE", "RUN_SCHEMA", "RunLog"]

RUNS_TABLE = "runs"

_TEXT, _COUNT = pl.String(), pl.Int64()
RUN_SCHEMA = pl.Schema(
    {
        **dict.fromkeys(("run_id", SENSOR, "event"), _TEXT),
        "at": pl.Datetime("us", "UTC"),
        **dict.fromkeys(("status", "error", "quality_status", "drift_severity"), _TEXT),
        "drift_detected": pl.Boolean(),
        **dict.fromkeys(("rows", "rows_left_out", "raw_version", "processed_version"), _COUNT),
        **dict.fromkeys(("params", "host"), _TEXT),
        "pid": _COUNT,
        "process": _TEXT,
        "report": _TEXT,
    }
)
"""Columns of a run record, in table order."""
_OUTCOME = ("quality_status", "drift_severity", "drift_detected", "rows", "rows_left_out")


class RunLog:
    """Write and read the run records of a store."""

    def __init__(self, store: DatasetStore) -> None:
        self.store = store

    def read(self) -> pl.LazyFrame:
        """All records (an empty frame of :data:`RUN_SCHEMA` before the first run)."""
        try:
            records = self.store.records(RUNS_TABLE)
        except SensorFrameError:
            return pl.LazyFrame(schema=RUN_SCHEMA)
        # Tables written before a column existed lack it.
        names = records.collect_schema().names()
        missing = [
            pl.lit(None, dtype).alias(c) for c, dtype in RUN_SCHEMA.items() if c not in names
        ]
        return records.with_columns(missing) if missing else records

    def append(
        self,
        run_id: str,
        sensors: pl.DataFrame,
        *,
        event: str,
        params: str,
        status: str | None = None,
        error: str | None = None,
        at: datetime | None = None,
        versions: Mapping[str, DatasetVersion | None] | None = None,
        owner: Owner | None = None,
        report: str | None = None,
    ) -> None:
        """
        Append one record per row of ``sensors`` (a ``sensor_id`` column at least).

        ``status`` and ``error`` apply to every sensor unless ``sensors`` has those
        columns; ``versions`` maps ``"raw"`` / ``"processed"`` to the run's versions;
        ``report`` is the run's HTML report, relative to the store root.
        """
        versions = versions or {}
        raw, processed = versions.get("raw"), versions.get("processed")
        given = sensors.columns
        records = sensors.select(
            pl.lit(run_id).alias("run_id"),
            pl.col(SENSOR),
            pl.lit(event).alias("event"),
            pl.lit(at or datetime.now(UTC)).alias("at"),
            (pl.col("status") if "status" in given else pl.lit(status)).alias("status"),
            (pl.col("error") if "error" in given else pl.lit(error)).alias("error"),
            *((pl.col(c) if c in given else pl.lit(None)).alias(c) for c in _OUTCOME),
            pl.lit(raw.version if raw else None).alias("raw_version"),
            pl.lit(processed.version if processed else None).alias("processed_version"),
            pl.lit(params).alias("params"),
            pl.lit(owner.host if owner else None).alias("host"),
            pl.lit(owner.pid if owner else None).alias("pid"),
            pl.lit(owner.token if owner else None).alias("process"),
            pl.lit(report).alias("report"),
        )
        self.store.append_pipeline_records(RUNS_TABLE, records.cast(RUN_SCHEMA))
