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


@dataclass(frozen=True, slots=True, repr=False)
class PipelineRun:
    """
    The outcome of one :meth:`Pipeline.run`.

    Attributes
    ----------
    run_id
        Unique id of the run, also in the run records.
    sensors
        One row per sensor: ``sensor_id``, ``status`` (success / failed), ``error``,
        ``rows`` (readings in the window), ``rows_left_out`` (readings outside it),
        ``quality_status``, ``drift_severity``, ``drift_detected``.
    quality, drift
        The quality and drift reports (``None`` where the step did not run; drift is
        ``None`` on the first run, which stores the reference profile).
    versions
        Dataset versions committed by the run, by dataset name.
    timings
        Seconds per step.
    output
        Where the processed dataset was written, or ``None`` if nothing was committed.
    rows_left_out
        Readings of the selected sensors outside the run's ``window`` / ``hours_back``
        (0 without one), also those of sensors with no reading in the window.
    batches
        Batches of whole sensors the run was computed in (1: in memory).
    report_path
        The run's HTML report in the store (``PipelineConfig(report=True)``), or
        ``None`` without one.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import timedelta
    >>> store = sf.DatasetStore(tempfile.mkdtemp())
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=48, freq="1h", faults=())
    >>> cfg = sf.PipelineConfig(steps=("quality", "version"), window=timedelta(hours=12))
    >>> run = sf.Pipeline(store, cfg).run(data.frame, progress=False)
    >>> run.rows_left_out
    72
    >>> run  # doctest: +ELLIPSIS
    PipelineRun(run_id='...', ok=2, failed=0, versions={'raw': 0, 'processed': 0}, rows_left_out=72)
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
    rows_left_out: int = 0
    batches: int = 1
    report_path: str | None = None

    def __repr__(self) -> str:
        ok, failed = _counts(self.sensors)
        versions = {name: v.version for name, v in self.versions.items()}
        return (
            f"PipelineRun(run_id={self.run_id!r}, ok={ok}, failed={failed}, "
            f"versions={versions}, rows_left_out={self.rows_left_out})"
        )

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
        ok, failed = _counts(self.sensors)
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items())
        versions = ", ".join(f"{k}@{v.version}" for k, v in self.versions.items()) or "none"
        left = (
            f"; {self.rows_left_out:,} row(s) outside the window left out"
            if self.rows_left_out
            else ""
        )
        batches = f" in {self.batches} batches" if self.batches > 1 else ""
        page = f"; report {self.report_path}" if self.report_path else ""
        return (
            f"run {self.run_id}: {ok} sensor(s) ok, {failed} failed{batches}; "
            f"versions {versions}{left}{page}; {steps}"
        )


@dataclass(frozen=True, slots=True, repr=False)
class BatchRun:
    """
    The runs of :meth:`Pipeline.run_batch` and their per-sensor results together.

    Examples
    --------
    >>> import tempfile
    >>> data = sf.datasets.synthetic(n_sensors=3, n_points=48, freq="1h", faults=())
    >>> pipe = sf.Pipeline(sf.DatasetStore(tempfile.mkdtemp()), sf.PipelineConfig(steps=()))
    >>> pipe.run_batch(data.frame, ["S000", "S001", "S002"], batch_size=2, progress=False)
    BatchRun(runs=2, ok=3, failed=0, rows_left_out=0)
    """

    runs: list[PipelineRun]

    def __repr__(self) -> str:
        ok, failed = _counts(self.sensors)
        left = sum(r.rows_left_out for r in self.runs)
        return f"BatchRun(runs={len(self.runs)}, ok={ok}, failed={failed}, rows_left_out={left})"

    @property
    def sensors(self) -> pl.DataFrame:
        """Per-sensor results of every run, with the ``run_id`` (no rows without a run)."""
        if not self.runs:
            return pl.DataFrame(
                schema=dict.fromkeys([SENSOR, "status", "error", "run_id"], pl.String)
            )
        return pl.concat(
            [r.sensors.with_columns(run_id=pl.lit(r.run_id)) for r in self.runs],
            how="diagonal_relaxed",
        )

    @property
    def failed_sensors(self) -> list[str]:
        """Ids of the sensors that failed in any run of the batch."""
        return [s for r in self.runs for s in r.failed_sensors]


def _counts(sensors: pl.DataFrame) -> tuple[int, int]:
    """Sensors that succeeded and that failed, from a ``status`` column."""
    status = sensors["status"]
    return int((status == "success").sum()), int((status == "failed").sum())
