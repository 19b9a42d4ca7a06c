"""
Pipelines: load, assess, normalize, engineer, detect drift, version and record a run.

A run works on all selected sensors at once: every step is one vectorized call of the
library over the whole frame. One bad sensor must not sink the batch, so a step that
fails is retried sensor by sensor (a slow path taken only on failure) to find the
culprits, which are recorded as failed while the others complete. Dataset versions are
committed only after every computation of the run has succeeded, so a run that fails
midway leaves no version behind; the raw and processed versions are committed all or
nothing, even if the process is killed between them (a recorded two-phase protocol, see
:mod:`sensorframe.pipeline._commit`); run records are append-only events in the store.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import polars as pl

from sensorframe._utils import preview
from sensorframe.drift import DriftDetector, DriftReport
from sensorframe.errors import ConfigError, InvalidTypeError, PipelineError, SensorFrameError
from sensorframe.features import engineer_features
from sensorframe.frame import SENSOR, TIME, VALUE, scan
from sensorframe.pipeline._commit import Intent, commit_run, finish_run, recover, resolve
from sensorframe.pipeline._outcome import (
    Outcome,
    isolated,
    sensor_table,
    too_few_readings,
    window_text,
    without,
)
from sensorframe.pipeline._owner import ACTIVE, current_owner
from sensorframe.pipeline._progress import Progress
from sensorframe.pipeline._records import RunLog
from sensorframe.pipeline.config import PipelineConfig, cutoff
from sensorframe.pipeline.result import BatchRun, PipelineRun
from sensorframe.prepare import Normalizer, TrainingData, split
from sensorframe.prepare import prepare_training_data as _prepare_training_data
from sensorframe.quality import assess_quality
from sensorframe.store import DatasetStore, DatasetVersion

__all__ = ["Pipeline"]

logger = logging.getLogger("sensorframe.pipeline")

REFERENCE_TABLE = "drift_reference"


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
        if not isinstance(store, DatasetStore):
            msg = f"`store` must be a DatasetStore, got {type(store).__name__}"
            raise InvalidTypeError(msg)
        if not isinstance(config, PipelineConfig | None):
            msg = f"`config` must be a PipelineConfig or None, got {type(config).__name__}"
            raise InvalidTypeError(msg)
        self.store = store
        self.config = config or PipelineConfig()
        self._log = RunLog(store)

    def run(
        self,
        source: Any,
        *,
        sensors: Sequence[str] | None = None,
        window: timedelta | None = None,
        hours_back: float | timedelta | None = None,
        description: str = "",
        progress: bool | None = None,
    ) -> PipelineRun:
        """
        Run every configured step for the selected sensors in one pass.

        Eager: the source is read (collected) once, every step computed and the
        versions committed before this returns.

        Parameters
        ----------
        source
            Anything :func:`sensorframe.scan` accepts.
        sensors
            Sensor ids to run; by default every sensor in the source.
        window, hours_back
            The readings to use: those newer than ``newest reading - window``, or
            than ``now - hours_back`` (hours, or a timedelta); give one at most.
            Either one replaces ``config.window`` and ``config.hours_back`` for this
            run; by default the config's apply (all data unless it sets one). The
            rows left out are counted in :attr:`PipelineRun.rows_left_out`.
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

        Notes
        -----
        The raw and processed versions are committed all or nothing: if the commit of
        the processed version fails, or the process dies after the raw commit, the
        processed version is committed from the staged output (at once, or by the
        next :meth:`recover`); a run that committed nothing is recorded as failed or,
        once its process is gone, abandoned.
        """
        return self._run(
            source,
            sensors,
            window=window,
            hours_back=hours_back,
            description=description,
            progress=progress,
            mode="overwrite",
        )

    def _run(
        self,
        source: Any,
        sensors: Sequence[str] | None,
        *,
        window: timedelta | None,
        hours_back: float | timedelta | None,
        description: str,
        progress: bool | None,
        mode: Literal["overwrite", "append"],
    ) -> PipelineRun:
        cfg = self.config
        if window is None and hours_back is None:
            window, hours_back = cfg.window, cfg.hours_back
        started = datetime.now(UTC)
        keep = cutoff(window, hours_back, now=started)
        self.recover()
        run_id = uuid.uuid4().hex[:12]
        report = Progress(total=2 + len(cfg.steps), enabled=progress)
        with report.step("load"):
            frame, counts = self._load(source, sensors, keep)
        ids = frame[SENSOR].unique().sort().to_list()
        if not ids:
            asked = "" if sensors is None else f" of the sensor(s) {preview(list(sensors))}"
            msg = (
                f"no readings selected: the source has no readings{asked} in the window"
                f"{window_text(window, hours_back)}"
            )
            raise PipelineError(msg)
        params = cfg.to_json()
        ACTIVE.add(run_id)
        try:
            self._log.append(
                run_id,
                pl.DataFrame({SENSOR: ids}),
                event="start",
                status="running",
                at=started,
                params=params,
                owner=current_owner(),
            )
            failures = too_few_readings(frame, cfg.min_readings)
            try:
                outcome, good, processed = self._steps(frame, failures, report)
            except Exception as exc:
                self._log.append(
                    run_id,
                    pl.DataFrame({SENSOR: ids}),
                    event="finish",
                    status="failed",
                    error=str(exc),
                    params=params,
                )
                raise
            sensors_table = sensor_table(ids, failures, counts, outcome.quality, outcome.drift)
            versions: dict[str, DatasetVersion] = {}
            if "version" in cfg.steps:
                with report.step("version"):
                    try:
                        versions = self._version(
                            run_id, good, processed, sensors_table, description, mode, params
                        )
                    except Exception as exc:  # roll forward if raw landed, else failed
                        ACTIVE.discard(run_id)
                        self._settle(run_id, ids, params, exc)
                        raise
            with report.step("record"):
                finish_run(
                    self.store,
                    self._log,
                    run_id,
                    sensors=sensors_table,
                    versions=versions,
                    params=params,
                )
        finally:  # a run that stops here unfinished is left to recover()
            ACTIVE.discard(run_id)
        report.close()
        names = {"raw": cfg.raw_dataset, "processed": cfg.processed_dataset}
        run = PipelineRun(
            run_id=run_id,
            started_at=started,
            finished_at=datetime.now(UTC),
            sensors=sensors_table,
            quality=outcome.quality,
            drift=outcome.drift,
            versions={names[role]: v for role, v in versions.items()},
            timings=report.timings,
            output=f"{self.store.root}/{cfg.processed_dataset}" if versions else None,
            rows_left_out=int(counts["rows_left_out"].sum()),
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
        hours_back: float | timedelta | None = None,
        progress: bool | None = None,
    ) -> BatchRun:
        """
        Run the pipeline for a list of sensors, ``batch_size`` sensors per run.

        Each batch is one vectorized run with its own records and versions: the first
        batch that commits overwrites the raw and processed datasets, later batches
        append to them, so the latest versions hold every sensor of the batch run (and
        only those, as after one :meth:`run` of them all). Each batch commits its two
        versions all or nothing; a batch run stopped midway leaves the batches done so
        far. A batch in which every sensor fails is recorded and the next batch still
        runs. ``window`` and ``hours_back`` are those of :meth:`run`; with
        ``hours_back``, each batch counts back from its own start.

        Examples
        --------
        >>> import tempfile
        >>> data = sf.datasets.synthetic(n_sensors=4, n_points=500, seed=2)
        >>> pipe = sf.Pipeline(sf.DatasetStore(tempfile.mkdtemp()))
        >>> batch = pipe.run_batch(data.frame, ["S000", "S001", "S003"], batch_size=2)
        >>> len(batch.runs), batch.sensors.height
        (2, 3)
        >>> pipe.store.latest("processed").sensors
        ('S000', 'S001', 'S003')
        """
        if batch_size < 1:
            msg = f"`batch_size` must be >= 1, got {batch_size}"
            raise ConfigError(msg)
        runs: list[PipelineRun] = []
        for start in range(0, len(sensors), batch_size):
            chunk = list(sensors[start : start + batch_size])
            mode: Literal["overwrite", "append"] = (
                "append" if any(r.versions for r in runs) else "overwrite"
            )
            try:
                runs.append(
                    self._run(
                        source,
                        chunk,
                        window=window,
                        hours_back=hours_back,
                        description="",
                        progress=progress,
                        mode=mode,
                    )
                )
            except PipelineError as exc:
                logger.warning("batch of %d sensor(s) failed: %s", len(chunk), exc)
        return BatchRun(runs)

    def runs(self, *, run_id: str | None = None, sensor: str | None = None) -> pl.DataFrame:
        """
        Return the run records: one row per run, sensor and event (eager).

        The events are ``start`` (status ``running``), ``commit`` (``committing``) and
        ``finish`` (the sensor's outcome, or ``failed`` / ``abandoned``). Runs whose
        process died are resolved first (see :meth:`recover`), so a run without a
        finish event is still running.

        Examples
        --------
        >>> import tempfile
        >>> pipe = sf.Pipeline(sf.DatasetStore(tempfile.mkdtemp()))
        >>> pipe.runs().height
        0
        """
        self.recover()
        records = self._log.read()
        if run_id is not None:
            records = records.filter(pl.col("run_id") == run_id)
        if sensor is not None:
            records = records.filter(pl.col(SENSOR) == sensor)
        return records.sort("at", SENSOR).collect()

    def recover(self) -> list[str]:
        """
        Resolve the unfinished runs whose process died; return their run ids.

        A run that died after committing its raw version is rolled forward: its
        processed version is committed from the output it staged under
        ``<root>/_sensorframe/staging/<run_id>/`` and its outcome recorded. A run
        that died before is recorded as ``abandoned``. A run counts as dead when its
        process (same host: pid and process start time) is gone, or, for a run of
        another host, once its last record is ``config.abandon_after`` old. Called
        at the start of every run and by :meth:`runs`.

        Examples
        --------
        >>> import tempfile
        >>> sf.Pipeline(sf.DatasetStore(tempfile.mkdtemp())).recover()
        []
        """
        return recover(self.store, self._log, timeout=self.config.abandon_after)

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
        as_known_at: datetime | None = None,
        dataset: str | None = None,
        assess_quality: bool = True,
    ) -> TrainingData:
        """
        Prepare training data from a stored dataset version, recording its lineage.

        The train / validation / test frames are committed together as dataset
        ``"training"`` (a ``split`` column tells them apart) with the version read as
        its parent, so every model's training data can be traced to the raw readings.
        Eager, as :func:`sensorframe.prepare_training_data`.

        Parameters
        ----------
        sensors
            Sensor ids (or one id) to prepare; by default every sensor of the version.
        ratios
            Train / validation / test ratios; ``config.ratios`` by default.
        version, as_known_at
            The version to read: a version number, or the one that was current at a
            time (the last committed at or before it, by recorded commit time), so a
            model can be retrained on exactly what was known then, also before a later
            correction; give one at most. By default the latest.
        dataset
            The dataset to read; ``config.raw_dataset`` by default.
        assess_quality
            Assess the quality of the prepared data too.

        Returns
        -------
        TrainingData
            The prepared data, as :func:`sensorframe.prepare_training_data` returns
            it, with ``version`` the committed ``"training"`` version.

        Raises
        ------
        ConfigError
            If both ``version`` and ``as_known_at`` are given.
        DatasetNotFoundError, VersionNotFoundError
            If the dataset has no such version (also for a time before its first).

        Notes
        -----
        .. versionchanged:: 0.2
            Returns a ``TrainingData`` (it returned a tuple ``(data, version)``:
            unpacking it so still works, with a ``DeprecationWarning``).

        Examples
        --------
        >>> import tempfile
        >>> data = sf.datasets.synthetic(n_sensors=2, n_points=40, freq="1h", faults=())
        >>> cfg = sf.PipelineConfig(steps=("version",))
        >>> pipe = sf.Pipeline(sf.DatasetStore(tempfile.mkdtemp()), cfg)
        >>> _ = pipe.run(data.frame, progress=False)
        >>> prepared = pipe.prepare_training_data("S000", assess_quality=False)
        >>> prepared.train.height, prepared.version.dataset, prepared.version.parents
        (28, 'training', (('raw', 0),))
        """
        name = dataset or self.config.raw_dataset
        if version is not None and as_known_at is not None:
            msg = "give `version` or `as_known_at`, not both"
            raise ConfigError(msg)
        if as_known_at is not None:
            version = self.store.resolve(name, as_of=as_known_at)
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
        return replace(data, version=committed)

    # -- internals -------------------------------------------------------------------

    def _load(
        self, source: Any, sensors: Sequence[str] | None, keep: pl.Expr | None
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """
        Return the selected readings, sorted, and their counts per sensor.

        The counts (``sensor_id``, ``rows``, ``rows_left_out``) cover every selected
        sensor of the source, also one with no reading in the window.
        """
        if isinstance(sensors, str):
            msg = f"`sensors` must be a sequence of sensor ids, got the string {sensors!r}"
            raise InvalidTypeError(msg)
        lf = scan(source)
        if sensors is not None:
            lf = lf.filter(pl.col(SENSOR).is_in(list(sensors)))
        kept = lf if keep is None else lf.filter(keep)
        frame, totals = pl.collect_all(
            [
                kept.sort(SENSOR, TIME, maintain_order=True),
                lf.group_by(SENSOR).agg(pl.len().alias("total")),
            ]
        )
        counts = totals.join(
            frame.group_by(SENSOR).agg(pl.len().alias("rows")), on=SENSOR, how="left"
        ).select(
            SENSOR,
            pl.col("rows").fill_null(0).cast(pl.Int64),
            (pl.col("total") - pl.col("rows").fill_null(0)).cast(pl.Int64).alias("rows_left_out"),
        )
        return frame, counts

    def _steps(
        self,
        frame: pl.DataFrame,
        failures: dict[str, str],
        report: Progress,
    ) -> tuple[Outcome, pl.DataFrame, pl.DataFrame]:
        """Run the computing steps; return their reports and the raw and processed rows kept."""
        cfg = self.config
        if len(failures) == frame[SENSOR].n_unique():
            msg = f"every sensor failed: {preview(failures.values(), limit=3)}"
            raise PipelineError(msg)
        out = Outcome()
        if "quality" in cfg.steps:  # on every sensor: an all-missing one is graded CRITICAL
            with report.step("quality"):
                out.quality, _ = isolated(
                    "quality", frame, failures, lambda f: assess_quality(f, cfg.quality)
                )
        good = without(frame, failures)
        processed = good
        if "normalize" in cfg.steps:
            with report.step("normalize"):
                processed, _ = isolated("normalize", processed, failures, self._normalize)
        if "features" in cfg.steps:
            with report.step("features"):
                processed, _ = isolated(
                    "features",
                    processed,
                    failures,
                    lambda f: engineer_features(f, cfg.features).collect(),
                )
        good = without(good, failures)
        if "drift" in cfg.steps:
            with report.step("drift"):
                out.drift = self._drift(good, failures)
        return out, without(good, failures), without(processed, failures)

    def _normalize(self, frame: pl.DataFrame) -> pl.DataFrame:
        train = split(frame, self.config.ratios).train
        normalizer = Normalizer(self.config.normalize).fit(train)
        return normalizer.transform(frame)

    def _drift(self, frame: pl.DataFrame, failures: dict[str, str]) -> DriftReport | None:
        reference = self._reference()
        known = [] if reference is None else reference[SENSOR].to_list()
        new = frame.filter(~pl.col(SENSOR).is_in(known))
        if new.height:
            fitted = DriftDetector(self.config.drift).fit(new)
            self.store.append_pipeline_records(
                REFERENCE_TABLE,
                fitted.profile_.with_columns(created_at=pl.lit(datetime.now(UTC))),
            )
        if reference is None:
            return None
        current = frame.filter(pl.col(SENSOR).is_in(known))
        if current.height == 0:
            return None
        detector = DriftDetector.from_profile(reference, self.config.drift)
        report, _ = isolated("drift", current, failures, detector.detect)
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

    def _settle(self, run_id: str, ids: list[str], params: str, error: Exception) -> None:
        """Finish a run whose commit phase raised; if that fails too, recover() will."""
        try:
            resolve(
                self.store,
                self._log,
                run_id,
                current_owner(),
                sensors=ids,
                params=params,
                error=error,
            )
        except Exception:  # the original error is the one to raise
            logger.exception("run %s: could not settle the failed commit; recover() will", run_id)

    def _version(
        self,
        run_id: str,
        raw: pl.DataFrame,
        processed: pl.DataFrame,
        sensors_table: pl.DataFrame,
        description: str,
        mode: Literal["overwrite", "append"],
        params: str,
    ) -> dict[str, DatasetVersion]:
        cfg = self.config
        n = raw[SENSOR].n_unique()
        intent = Intent(
            mode=mode,
            raw_dataset=cfg.raw_dataset,
            processed_dataset=cfg.processed_dataset,
            raw_description=description or f"pipeline input, {n} sensor(s)",
            processed_description=description
            or f"{cfg.normalize} normalized features, {n} sensor(s)",
        )
        return commit_run(
            self.store,
            self._log,
            run_id,
            raw=raw.select(SENSOR, TIME, VALUE),
            processed=processed,
            sensors=sensors_table,
            intent=intent,
            params=params,
        )
