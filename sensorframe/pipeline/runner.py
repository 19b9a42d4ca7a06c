"""
Pipelines: load, assess, normalize, engineer, detect drift, version and record a run.

A run works on all selected sensors at once: every step is one vectorized call of the
library over the whole frame. One bad sensor must not sink the batch, so a step that
fails is retried sensor by sensor (a slow path taken only on failure) to find the
culprits, which are recorded as failed while the others complete. Dataset versions are
committed only after every computation of the run has succeeded, so a run that fails
midway leaves no version behind; run records are append-only events in the store.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import polars as pl

from sensorframe.drift import DriftDetector, DriftReport
from sensorframe.errors import ConfigError, PipelineError, SensorFrameError
from sensorframe.features import engineer_features
from sensorframe.frame import SENSOR, TIME, VALUE, scan
from sensorframe.pipeline._progress import Progress
from sensorframe.pipeline.config import PipelineConfig
from sensorframe.pipeline.result import BatchRun, PipelineRun
from sensorframe.prepare import Normalizer, TrainingData, split
from sensorframe.prepare import prepare_training_data as _prepare_training_data
from sensorframe.quality import QualityReport, assess_quality
from sensorframe.store import DatasetStore, DatasetVersion

__all__ = ["Pipeline"]

logger = logging.getLogger("sensorframe.pipeline")

RUNS_TABLE = "runs"
REFERENCE_TABLE = "drift_reference"
_T = TypeVar("_T")


class Pipeline:
    """
    Run the whole preparation chain for many sensors and record every run.

    Parameters
    ----------
    store
        The :class:`DatasetStore` that receives dataset versions, the drift reference
        profile and the run records.
    config
        What to run; :class:`PipelineConfig` defaults otherwise.

    Examples
    --------
    >>> import tempfile
    >>> store = sf.DatasetStore(tempfile.mkdtemp())
    >>> data = sf.datasets.synthetic(n_sensors=3, n_points=500, seed=2)
    >>> run = sf.Pipeline(store).run(data.frame)
    >>> run.sensors["status"].to_list()
    ['success', 'success', 'success']
    >>> sorted(run.versions)
    ['processed', 'raw']
    """

    def __init__(self, store: DatasetStore, config: PipelineConfig | None = None) -> None:
        self.store = store
        self.config = config or PipelineConfig()

    def run(
        self,
        source: Any,
        *,
        sensors: Sequence[str] | None = None,
        window: timedelta | None = None,
        description: str = "",
        progress: bool | None = None,
    ) -> PipelineRun:
        """
        Run every configured step for the selected sensors in one pass.

        Parameters
        ----------
        source
            Anything :func:`sensorframe.scan` accepts.
        sensors
            Sensor ids to run; by default every sensor in the source.
        window
            Overrides ``config.window`` for this run.
        description
            Stored with the dataset versions of the run.
        progress
            Show progress (a bar on a terminal, log lines otherwise); default: on when
            standard error is a terminal.

        Returns
        -------
        PipelineRun

        Raises
        ------
        PipelineError
            If no sensor is selected, or every sensor failed.
        """
        cfg = self.config
        run_id = uuid.uuid4().hex[:12]
        started = datetime.now(UTC)
        report = Progress(total=2 + len(cfg.steps), enabled=progress)
        with report.step("load"):
            frame = self._load(source, sensors, window or cfg.window)
        ids = frame[SENSOR].unique().sort().to_list()
        if not ids:
            msg = "no readings selected: check `sensors` and `window`"
            raise PipelineError(msg)
        self._record(run_id, ids, event="start", status="running", started=started)
        failures = _too_few_readings(frame, cfg.min_readings)
        try:
            outcome = self._steps(frame, failures, report)
        except Exception as exc:
            self._record(run_id, ids, event="finish", status="failed", error=str(exc))
            raise
        sensors_table = _sensor_table(ids, failures, outcome.quality, outcome.drift)
        with report.step("record"):
            self._record(run_id, ids, event="finish", table=sensors_table, outcome=outcome)
        report.close()
        run = PipelineRun(
            run_id=run_id,
            started_at=started,
            finished_at=datetime.now(UTC),
            sensors=sensors_table,
            quality=outcome.quality,
            drift=outcome.drift,
            versions=outcome.versions,
            timings=report.timings,
            output=f"{self.store.root}/{cfg.processed_dataset}" if outcome.versions else None,
        )
        logger.info(run.summary())
        return run

    def run_batch(
        self,
        source: Any,
        sensors: Sequence[str],
        *,
        batch_size: int = 1_000,
        window: timedelta | None = None,
        progress: bool | None = None,
    ) -> BatchRun:
        """
        Run the pipeline for a list of sensors, ``batch_size`` sensors per run.

        Each batch is one vectorized run with its own dataset versions and records; a
        batch in which every sensor fails is recorded and the next batch still runs.

        Examples
        --------
        >>> import tempfile
        >>> data = sf.datasets.synthetic(n_sensors=4, n_points=500, seed=2)
        >>> pipe = sf.Pipeline(sf.DatasetStore(tempfile.mkdtemp()))
        >>> batch = pipe.run_batch(data.frame, ["S000", "S001", "S003"], batch_size=2)
        >>> len(batch.runs), batch.sensors.height
        (2, 3)
        """
        if batch_size < 1:
            msg = f"`batch_size` must be >= 1, got {batch_size}"
            raise ConfigError(msg)
        runs = []
        for start in range(0, len(sensors), batch_size):
            chunk = list(sensors[start : start + batch_size])
            try:
                runs.append(self.run(source, sensors=chunk, window=window, progress=progress))
            except PipelineError as exc:
                logger.warning("batch of %d sensor(s) failed: %s", len(chunk), exc)
        return BatchRun(runs)

    def runs(self, *, run_id: str | None = None, sensor: str | None = None) -> pl.DataFrame:
        """
        Return the run records: one row per run, sensor and event (start / finish).

        Examples
        --------
        >>> import tempfile
        >>> pipe = sf.Pipeline(sf.DatasetStore(tempfile.mkdtemp()))
        >>> pipe.runs().height
        0
        """
        records = self._run_records()
        if run_id is not None:
            records = records.filter(pl.col("run_id") == run_id)
        if sensor is not None:
            records = records.filter(pl.col(SENSOR) == sensor)
        return records.sort("at", SENSOR).collect()

    def latest_successful(self, sensor: str) -> dict[str, Any] | None:
        """Return the finish record of the newest successful run of ``sensor``, if any."""
        done = self.runs(sensor=sensor).filter(
            (pl.col("event") == "finish") & (pl.col("status") == "success")
        )
        return done.sort("at").row(-1, named=True) if done.height else None

    def prepare_training_data(
        self,
        sensors: str | Sequence[str] | None = None,
        *,
        ratios: tuple[float, float, float] | None = None,
        version: int | None = None,
        dataset: str | None = None,
        assess_quality: bool = True,
    ) -> tuple[TrainingData, DatasetVersion]:
        """
        Prepare training data from a stored dataset version, recording its lineage.

        The train / validation / test frames are committed together as dataset
        ``"training"`` (a ``split`` column tells them apart) with the version read as
        its parent, so every model's training data can be traced to the raw readings.

        Returns
        -------
        tuple of (TrainingData, DatasetVersion)
            The prepared data and the committed ``"training"`` version.
        """
        name = dataset or self.config.raw_dataset
        used = self.store.latest(name) if version is None else self.store.version(name, version)
        lf = self.store.read(name, version=used.version)
        if sensors is not None:
            wanted = [sensors] if isinstance(sensors, str) else list(sensors)
            lf = lf.filter(pl.col(SENSOR).is_in(wanted))
        data = _prepare_training_data(
            lf,
            ratios or self.config.ratios,
            normalize=self.config.normalize,
            assess_quality=assess_quality,
            quality_config=self.config.quality,
        )
        parts = [
            part.with_columns(split=pl.lit(label))
            for label, part in (("train", data.train), ("val", data.val), ("test", data.test))
        ]
        committed = self.store.commit(
            "training",
            pl.concat(parts, how="vertical_relaxed"),
            description=f"training data from {name}@{used.version}",
            parents=[used],
        )
        return data, committed

    # -- internals -------------------------------------------------------------------

    def _load(
        self, source: Any, sensors: Sequence[str] | None, window: timedelta | None
    ) -> pl.DataFrame:
        lf = scan(source)
        if sensors is not None:
            lf = lf.filter(pl.col(SENSOR).is_in(list(sensors)))
        if window is not None:
            lf = lf.filter(pl.col(TIME) > pl.col(TIME).max() - window)
        return lf.sort(SENSOR, TIME, maintain_order=True).collect()

    def _steps(
        self,
        frame: pl.DataFrame,
        failures: dict[str, str],
        report: Progress,
    ) -> _Outcome:
        cfg = self.config
        out = _Outcome()
        if "quality" in cfg.steps:  # on every sensor: an all-missing one is graded CRITICAL
            with report.step("quality"):
                out.quality, _ = _isolated(
                    "quality", frame, failures, lambda f: assess_quality(f, cfg.quality)
                )
        good = _without(frame, failures)
        processed = good
        if "normalize" in cfg.steps:
            with report.step("normalize"):
                processed, _ = _isolated("normalize", processed, failures, self._normalize)
        if "features" in cfg.steps:
            with report.step("features"):
                processed, _ = _isolated(
                    "features",
                    processed,
                    failures,
                    lambda f: engineer_features(f, cfg.features).collect(),
                )
        good = _without(good, failures)
        if "drift" in cfg.steps:
            with report.step("drift"):
                out.drift = self._drift(good, failures)
        if "version" in cfg.steps:
            with report.step("version"):
                out.versions = self._version(
                    _without(good, failures), _without(processed, failures)
                )
        return out

    def _normalize(self, frame: pl.DataFrame) -> pl.DataFrame:
        train = split(frame, self.config.ratios).train
        normalizer = Normalizer(self.config.normalize).fit(train)
        return normalizer.transform(frame).collect()

    def _drift(self, frame: pl.DataFrame, failures: dict[str, str]) -> DriftReport | None:
        reference = self._reference()
        known = [] if reference is None else reference[SENSOR].to_list()
        new = frame.filter(~pl.col(SENSOR).is_in(known))
        if new.height:
            fitted = DriftDetector(self.config.drift).fit(new)
            self.store._append_reserved_records(
                REFERENCE_TABLE,
                fitted.profile_.with_columns(created_at=pl.lit(datetime.now(UTC))),
            )
        if reference is None:
            return None
        current = frame.filter(pl.col(SENSOR).is_in(known))
        if current.height == 0:
            return None
        detector = DriftDetector.from_profile(reference, self.config.drift)
        report, _ = _isolated("drift", current, failures, detector.detect)
        return report

    def _reference(self) -> pl.DataFrame | None:
        try:
            records = self.store.records(REFERENCE_TABLE).collect()
        except SensorFrameError:
            return None
        if records.height == 0:
            return None
        latest = records.sort("created_at").group_by(SENSOR, maintain_order=True).last()
        return latest.drop("created_at")

    def _version(self, raw: pl.DataFrame, processed: pl.DataFrame) -> dict[str, DatasetVersion]:
        cfg = self.config
        sensors = raw[SENSOR].n_unique()
        raw_version = self.store.commit(
            cfg.raw_dataset,
            raw.select(SENSOR, TIME, VALUE),
            description=f"pipeline input, {sensors} sensor(s)",
        )
        processed_version = self.store.commit(
            cfg.processed_dataset,
            processed,
            description=f"{cfg.normalize} normalized features, {sensors} sensor(s)",
            parents=[raw_version],
        )
        return {cfg.raw_dataset: raw_version, cfg.processed_dataset: processed_version}

    def _run_records(self) -> pl.LazyFrame:
        try:
            return self.store.records(RUNS_TABLE)
        except SensorFrameError:
            return pl.LazyFrame(schema=_RUN_SCHEMA)

    def _record(
        self,
        run_id: str,
        ids: list[str],
        *,
        event: str,
        status: str | None = None,
        error: str | None = None,
        started: datetime | None = None,
        table: pl.DataFrame | None = None,
        outcome: _Outcome | None = None,
    ) -> None:
        base = table if table is not None else pl.DataFrame({SENSOR: ids})
        versions = outcome.versions if outcome else {}
        cfg = self.config
        raw = versions.get(cfg.raw_dataset)
        processed = versions.get(cfg.processed_dataset)
        records = base.select(
            pl.lit(run_id).alias("run_id"),
            pl.col(SENSOR),
            pl.lit(event).alias("event"),
            pl.lit(started or datetime.now(UTC)).alias("at"),
            (pl.col("status") if "status" in base.columns else pl.lit(status)).alias("status"),
            (pl.col("error") if "error" in base.columns else pl.lit(error)).alias("error"),
            *(
                (pl.col(c) if c in base.columns else pl.lit(None)).alias(c)
                for c in ("quality_status", "drift_severity", "drift_detected")
            ),
            pl.lit(raw.version if raw else None).alias("raw_version"),
            pl.lit(processed.version if processed else None).alias("processed_version"),
            pl.lit(cfg.to_json()).alias("params"),
        )
        self.store._append_reserved_records(RUNS_TABLE, records.cast(_RUN_SCHEMA))


_RUN_SCHEMA = pl.Schema(
    [
        ("run_id", pl.String()),
        (SENSOR, pl.String()),
        ("event", pl.String()),
        ("at", pl.Datetime("us", "UTC")),
        ("status", pl.String()),
        ("error", pl.String()),
        ("quality_status", pl.String()),
        ("drift_severity", pl.String()),
        ("drift_detected", pl.Boolean()),
        ("raw_version", pl.Int64()),
        ("processed_version", pl.Int64()),
        ("params", pl.String()),
    ]
)


@dataclass
class _Outcome:
    quality: QualityReport | None = None
    drift: DriftReport | None = None
    versions: dict[str, DatasetVersion] = field(default_factory=dict)


def _isolated(
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


def _without(frame: pl.DataFrame, failures: dict[str, str]) -> pl.DataFrame:
    return frame.filter(~pl.col(SENSOR).is_in(list(failures))) if failures else frame


def _too_few_readings(frame: pl.DataFrame, minimum: int) -> dict[str, str]:
    counts = frame.group_by(SENSOR).agg(pl.col(VALUE).count().alias("n"))
    few = counts.filter(pl.col("n") < minimum)
    return {
        sensor: f"load: only {n} finite reading(s) in the window, need {minimum}"
        for sensor, n in few.iter_rows()
    }


def _sensor_table(
    ids: list[str],
    failures: dict[str, str],
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
    if quality is not None:
        q = quality.table.select(SENSOR, pl.col("status").alias("quality_status"))
        table = table.join(q, on=SENSOR, how="left")
    if drift is not None:
        d = drift.table.select(SENSOR, pl.col("severity").alias("drift_severity"), "drift_detected")
        table = table.join(d, on=SENSOR, how="left")
    return table.select(SENSOR, "status", "error", pl.exclude(SENSOR, "status", "error"))
