"""What a pipeline run returns: per-sensor results, reports, versions and timings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from sensorframe.drift import DriftReport
from sensorframe.frame import SENSOR
from sensorframe.quality import QualityReport
from sensorframe.store import DatasetVersion

__all__ = ["BatchRun", "PipelineRun"]


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """
    The outcome of one :meth:`Pipeline.run`.

    Attributes
    ----------
    run_id
        Unique id of the run, also in the run records.
    sensors
        One row per sensor: ``sensor_id``, ``status`` (success / failed), ``error``,
        ``quality_status``, ``drift_severity``, ``drift_detected``.
    quality, drift
        The quality and drift reports (``None`` where the step did not run; drift is
        ``None`` on the first run, which stores the reference profile).
    versions
        Dataset versions committed by the run, by dataset name.
    timings
        Seconds per step.
    """

    run_id: str
    started_at: datetime
    finished_at: datetime
    sensors: pl.DataFrame
    quality: QualityReport | None
    drift: DriftReport | None
    versions: dict[str, DatasetVersion]
    timings: dict[str, float]
    output: str | None

    @property
    def succeeded(self) -> bool:
        """Whether at least one sensor completed and none failed."""
        status = self.sensors["status"]
        return self.sensors.height > 0 and bool((status == "success").all())

    @property
    def failed_sensors(self) -> list[str]:
        """Ids of the sensors that failed, with their errors in :attr:`sensors`."""
        return self.sensors.filter(pl.col("status") == "failed")[SENSOR].to_list()

    def summary(self) -> str:
        """Return a short, readable account of the run."""
        counts = dict(self.sensors.group_by("status").len().iter_rows())
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items())
        versions = ", ".join(f"{k}@{v.version}" for k, v in self.versions.items()) or "none"
        return (
            f"run {self.run_id}: {counts.get('success', 0)} sensor(s) ok, "
            f"{counts.get('failed', 0)} failed; versions {versions}; {steps}"
        )


@dataclass(frozen=True, slots=True)
class BatchRun:
    """The runs of :meth:`Pipeline.run_batch` and their per-sensor results together."""

    runs: list[PipelineRun]

    @property
    def sensors(self) -> pl.DataFrame:
        """Per-sensor results of every run, with the ``run_id``."""
        return pl.concat(
            [r.sensors.with_columns(run_id=pl.lit(r.run_id)) for r in self.runs],
            how="diagonal_relaxed",
        )

    @property
    def failed_sensors(self) -> list[str]:
        """Ids of the sensors that failed in any run of the batch."""
        return [s for r in self.runs for s in r.failed_sensors]
