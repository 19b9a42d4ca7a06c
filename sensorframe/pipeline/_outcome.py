"""
A run's per-sensor outcome: isolating the sensors a step fails for, and the sensor table.

One bad sensor must not sink the batch: a step that fails for the whole frame is retried
sensor by sensor (:func:`isolated`, the failure path only) to find the culprits. A run in
batches of sensors gathers each batch's outcome (:class:`Gathered`) and puts the reports
together at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from sensorframe.drift import DriftReport, combine_reports
from sensorframe.errors import PipelineError
from sensorframe.frame import SENSOR, VALUE
from sensorframe.quality import QualityReport

__all__ = [
    "Computed",
    "ElsewhereOutcome",
    "Gathered",
    "Outcome",
    "isolated",
    "sensor_table",
    "too_few_readings",
    "window_counts",
    "window_text",
    "without",
]

if TYPE_CHECKING:
    from sensorframe.store import DatasetVersion

logger = logging.getLogger("sensorframe.pipeline")
_T = TypeVar("_T")


@dataclass
class Outcome:
    quality: QualityReport | None = None
    drift: DriftReport | None = None


@dataclass
class Gathered:
    """
    The outcomes of a run's batches, put together: reports, failures, counts.

    ``raw`` and ``processed`` hold the rows to commit of a run in memory (one batch).
    """

    failures: dict[str, str] = field(default_factory=dict)
    qualities: list[QualityReport] = field(default_factory=list)
    drifts: list[DriftReport] = field(default_factory=list)
    counted: list[pl.DataFrame] = field(default_factory=list)
    batches: int = 0
    succeeded: bool = False
    raw: pl.DataFrame = field(default_factory=pl.DataFrame)
    processed: pl.DataFrame = field(default_factory=pl.DataFrame)

    def add(self, out: Outcome, failures: dict[str, str], *, succeeded: bool) -> None:
        """Add one batch's reports and failures (``succeeded``: some sensor completed)."""
        self.failures.update(failures)
        self.succeeded |= succeeded
        if out.quality is not None:
            self.qualities.append(out.quality)
        if out.drift is not None:
            self.drifts.append(out.drift)

    def outcome(self) -> Outcome:
        """Return the run's reports: the batches', put together (drift adjusted over all)."""
        quality = drift = None
        if self.qualities:
            many = len(self.qualities) > 1
            quality = QualityReport.concat(self.qualities) if many else self.qualities[0]
        if self.drifts:
            drift = combine_reports(self.drifts) if len(self.drifts) > 1 else self.drifts[0]
        return Outcome(quality, drift)

    def counts(self) -> pl.DataFrame:
        """Return the rows in and out of the window per sensor, of every batch."""
        return pl.concat(self.counted) if len(self.counted) > 1 else self.counted[0]


@dataclass(frozen=True, slots=True)
class Computed:
    """
    What the computing steps of a run (plain or incremental) leave to record and commit.

    ``commit`` commits the run's versions by the recorded protocol and returns them by
    role (``"raw"``, ``"processed"``); ``readings`` returns the readings its report
    shows, given those versions.
    """

    outcome: Outcome
    sensors: pl.DataFrame
    commit: Callable[[], dict[str, DatasetVersion]]
    readings: Callable[[dict[str, DatasetVersion]], Any]
    rows_left_out: int = 0
    batches: int = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class ElsewhereOutcome:
    """
    What an engine that ran a run's steps itself (``sensorframe.spark``) hands back.

    Attributes
    ----------
    quality, drift
        The run's reports over all its sensors (None without the step).
    failures
        Sensor id -> ``"<step>: <error>"`` of the sensors left out.
    counts
        ``sensor_id``, ``rows``, ``rows_left_out`` of every sensor of the run.
    batches
        How many parts the sensors were computed in.
    """

    quality: QualityReport | None
    drift: DriftReport | None
    failures: dict[str, str]
    counts: pl.DataFrame
    batches: int = 1


def isolated(
    step: str,
    frame: pl.DataFrame,
    failures: dict[str, str],
    fn: Callable[[pl.DataFrame], _T],
) -> tuple[_T, pl.DataFrame]:
    """
    Run ``fn`` on all sensors; if it fails, find the failing sensors and run the rest.

    Returns the result and the frame it was computed on. The sensor-by-sensor retry is
    the failure path only. Sensors that fail are added to ``failures`` with the step
    and error; if all fail, :class:`PipelineError`.
    """
    try:
        return fn(frame), frame
    except Exception as exc:  # one sensor's bad data must not sink the batch
        logger.warning("step %s failed for the batch (%s); isolating sensors", step, exc)
        first_error = exc
    bad: dict[str, str] = {}
    for sensor, part in frame.group_by(SENSOR, maintain_order=True):
        try:
            fn(part)
        except Exception as exc:
            bad[str(sensor[0])] = f"{step}: {type(exc).__name__}: {exc}"
    if not bad:  # only the combination fails: blame every sensor
        bad = dict.fromkeys(frame[SENSOR].unique().to_list(), f"{step}: {first_error}")
    failures.update(bad)
    rest = frame.filter(~pl.col(SENSOR).is_in(list(bad)))
    if rest.height == 0:
        msg = f"step {step} failed for every sensor: {first_error}"
        raise PipelineError(msg) from first_error
    return fn(rest), rest


def without(frame: pl.DataFrame, failures: dict[str, str]) -> pl.DataFrame:
    return frame.filter(~pl.col(SENSOR).is_in(list(failures))) if failures else frame


def window_counts(totals: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """
    Rows of each sensor in the window and left out of it.

    ``totals``: every selected sensor's rows (``sensor_id``, ``total``); ``kept``: the
    rows in the window. Gives ``sensor_id``, ``rows``, ``rows_left_out`` for each
    sensor of ``totals``, also one with no reading in the window.
    """
    return totals.join(
        kept.group_by(SENSOR).agg(pl.len().alias("rows")), on=SENSOR, how="left"
    ).select(
        SENSOR,
        pl.col("rows").fill_null(0).cast(pl.Int64),
        (pl.col("total") - pl.col("rows").fill_null(0)).cast(pl.Int64).alias("rows_left_out"),
    )


def window_text(window: timedelta | None, hours_back: float | timedelta | None) -> str:
    """Describe the window for a message: `` of the last 24 hours`` and the like."""
    if window is not None:
        return f" of {window} before the newest reading"
    if isinstance(hours_back, timedelta):
        return f" of the last {hours_back.total_seconds() / 3600:g} hours"
    return "" if hours_back is None else f" of the last {hours_back:g} hours"


def too_few_readings(frame: pl.DataFrame, minimum: int) -> dict[str, str]:
    counts = frame.group_by(SENSOR).agg(pl.col(VALUE).count().alias("n"))
    few = counts.filter(pl.col("n") < minimum)
    return {
        sensor: f"load: only {n} finite reading(s) in the window, need {minimum}"
        for sensor, n in few.iter_rows()
    }


def sensor_table(
    ids: list[str],
    failures: dict[str, str],
    counts: pl.DataFrame,
    quality: QualityReport | None,
    drift: DriftReport | None,
) -> pl.DataFrame:
    table = pl.DataFrame({SENSOR: ids}).join(
        pl.DataFrame(
            {SENSOR: list(failures), "error": list(failures.values())},
            schema={SENSOR: pl.String, "error": pl.String},
        ),
        on=SENSOR,
        how="left",
    )
    table = table.with_columns(
        status=pl.when(pl.col("error").is_null())
        .then(pl.lit("success"))
        .otherwise(pl.lit("failed"))
    )
    table = table.join(counts, on=SENSOR, how="left")
    if quality is not None:
        q = quality.table.select(SENSOR, pl.col("status").alias("quality_status"))
        table = table.join(q, on=SENSOR, how="left")
    if drift is not None:
        d = drift.table.select(SENSOR, pl.col("severity").alias("drift_severity"), "drift_detected")
        table = table.join(d, on=SENSOR, how="left")
    return table.select(SENSOR, "status", "error", pl.exclude(SENSOR, "status", "error"))
