"""
Pipelines: load, assess, normalize, engineer, detect drift, version and record a run.

A run works on all selected sensors at once: every step is one vectorized call of the
library over the whole frame, or, for a source larger than memory, over one batch of
whole sensors at a time (the outputs staged per batch, the reports put together at the
end). One bad sensor must not sink the batch, so a step that
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self

import polars as pl

from sensorframe._batches import Batches, wants_batches
from sensorframe._utils import preview
from sensorframe.drift import DriftConfig, DriftDetector, DriftReport
from sensorframe.errors import ConfigError, InvalidTypeError, PipelineError, SensorFrameError
from sensorframe.features import engineer_features
from sensorframe.frame import SENSOR, TIME, VALUE, scan
from sensorframe.pipeline._commit import (
    Intent,
    Staging,
    commit_run,
    commit_staged,
    finish_run,
    recover,
    resolve,
)
from sensorframe.pipeline._outcome import (
    Computed,
    ElsewhereOutcome,
    Gathered,
    Outcome,
    isolated,
    sensor_table,
    too_few_readings,
    window_counts,
    window_text,
    without,
)
from sensorframe.pipeline._owner import ACTIVE, current_owner
from sensorframe.pipeline._progress import Progress
from sensorframe.pipeline._records import RunLog
from sensorframe.pipeline._report import write_run_report
from sensorframe.pipeline.config import PipelineConfig, cutoff
from sensorframe.pipeline.incremental import run_incremental
from sensorframe.pipeline.result import BatchRun, PipelineRun
from sensorframe.prepare import Normalizer, TrainingData, split
from sensorframe.prepare import prepare_training_data as _prepare_training_data
from sensorframe.quality import assess_quality
from sensorframe.reporting.figure import require_matplotlib
from sensorframe.store import DatasetStore, DatasetVersion

__all__ = ["REFERENCE_TABLE", "Pipeline", "stored_reference"]

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
        batch_rows: int | None = None,
        memory_limit: str | int | None = None,
        incremental: bool = False,
        refit: bool = False,
    ) -> PipelineRun:
        """
        Run every configured step for the selected sensors in one pass.

        Eager: every step is computed and the versions committed before this returns.
        A source that fits in memory is read (collected) once and each step is one
        vectorized call over all sensors; a larger one is processed in batches of
        whole sensors (see Notes).

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
            standard error is a terminal. A run in batches shows the rows and sensors
            done, the rate and the time left.
        batch_rows, memory_limit
            Process the source in batches of whole sensors of at most ``batch_rows``
            rows, or of as many as fit in ``memory_limit`` (``"4GB"``, ``"512MB"`` or
            bytes). Either one replaces ``config.batch_rows`` and
            ``config.memory_limit`` for this run (and is recorded with it); by default
            the config's apply, and a lazy or on-disk source larger than the default
            budget is batched too.
        incremental
            Process only the readings newer than each sensor's last processed one
            (new sensors from scratch; late and corrected readings recompute their
            sensor), appending one raw and one processed version; a source with
            nothing new commits nothing (see
            :func:`~sensorframe.pipeline.incremental.run_incremental`). Takes no
            ``window`` / ``hours_back``.
        refit
            With ``incremental``: refit the normalizer on everything stored (a new
            lineage of processed versions, recorded in the run record) instead of
            reusing the first run's.

        Returns
        -------
        PipelineRun

        Raises
        ------
        PipelineError
            If no sensor is selected, or every sensor failed.
        ConfigError
            For a bad ``batch_rows`` or ``memory_limit``.

        Notes
        -----
        The raw and processed versions are committed all or nothing: if the commit of
        the processed version fails, or the process dies after the raw commit, the
        processed version is committed from the staged output (at once, or by the
        next :meth:`recover`); a run that committed nothing is recorded as failed or,
        once its process is gone, abandoned.

        In batches, each step runs on one batch of sensors at a time (a sensor's rows
        are never split; every step is per sensor: the normalizer is fitted on each
        sensor's own training split) and each batch's raw and processed rows are
        staged as Parquet files; the raw and processed versions are then committed
        once each from the staged files. The quality and drift reports are put
        together at the end (the drift p-values adjusted over every sensor), so the
        results, the versions and their content hashes equal those of a run in
        memory. A step that fails is retried sensor by sensor within its batch; a
        batch in which every sensor fails does not stop the others.

        Examples
        --------
        >>> import tempfile
        >>> data = sf.datasets.synthetic(n_sensors=3, n_points=400, seed=2)
        >>> store = sf.DatasetStore(tempfile.mkdtemp())
        >>> run = sf.Pipeline(store).run(data.frame, batch_rows=800, progress=False)
        >>> run.batches, run.sensors["status"].to_list()
        (2, ['success', 'success', 'success'])
        >>> store.latest("processed").rows == sf.Pipeline(store).run(data.frame).versions[
        ...     "processed"
        ... ].rows
        True
        """
        if incremental:
            if window is not None or hours_back is not None:
                msg = "an incremental run takes every new reading: pass no window/hours_back"
                raise ConfigError(msg)
            return run_incremental(
                self,
                source,
                refit=refit,
                sensors=sensors,
                description=description,
                progress=progress,
            )
        if refit:
            msg = "`refit` refits the normalizer of an incremental run: it needs incremental=True"
            raise ConfigError(msg)
        return self._run(
            source,
            sensors,
            window=window,
            hours_back=hours_back,
            description=description,
            progress=progress,
            mode="overwrite",
            batching=(batch_rows, memory_limit),
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
        batching: tuple[int | None, str | int | None] = (None, None),
    ) -> PipelineRun:
        cfg = self.config
        if batching != (None, None):
            cfg = replace(cfg, batch_rows=batching[0], memory_limit=batching[1])
        if window is None and hours_back is None:
            window, hours_back = cfg.window, cfg.hours_back
        started = datetime.now(UTC)
        keep = cutoff(window, hours_back, now=started)
        if cfg.report:  # before any work: a missing extra fails the run at once
            require_matplotlib()
        self.recover()
        run_id = uuid.uuid4().hex[:12]
        batched = wants_batches(source, batch_rows=cfg.batch_rows, memory_limit=cfg.memory_limit)
        # In batches, the batches show the progress (rows, sensors, rate, time left).
        steps = 2 + len(cfg.steps) + cfg.report
        report = Progress(total=steps, enabled=False if batched else progress)
        with report.step("load"):
            work: _Loaded | _Batched = (
                _Batched(source, sensors, cfg, window, hours_back, now=started, progress=progress)
                if batched
                else _Loaded(*self._load(source, sensors, keep))
            )
        with work:
            if not work.ids:
                asked = "" if sensors is None else f" of the sensor(s) {preview(list(sensors))}"
                msg = (
                    f"no readings selected: the source has no readings{asked} in the window"
                    f"{window_text(window, hours_back)}"
                )
                raise PipelineError(msg)
            return self._execute(run_id, work, cfg, report, started, description, mode)

    def record_elsewhere(
        self,
        ids: Sequence[str],
        compute: Callable[[str], ElsewhereOutcome],
        *,
        description: str = "",
    ) -> PipelineRun:
        """
        Record and commit a run whose steps another engine computes (``sensorframe.spark``).

        ``compute(folder)`` runs the configured steps on the sensors ``ids`` (as
        :meth:`run` would, on all their readings), writes the raw and the processed
        rows to commit as Parquet files in ``folder/raw/`` and ``folder/processed/``
        (the run's staging folder under the store root: every writer must reach it),
        and returns the reports, failures and counts. The run is recorded and committed
        as a run in batches of :meth:`run` is: ``start`` records, the staged two-phase
        commit (rolled forward by :meth:`recover` if the process dies after the raw
        commit), the ``finish`` records; ``failed`` records if ``compute`` raises.
        """
        cfg = self.config
        self.recover()
        run_id = uuid.uuid4().hex[:12]
        started = datetime.now(UTC)
        params = cfg.to_json()
        staging = Staging(self.store, run_id)
        names = list(ids)

        def compute_run() -> Computed:
            done = compute(staging.root)
            table = sensor_table(names, done.failures, done.counts, done.quality, done.drift)
            ok = table.filter(pl.col("status") == "success").height
            return Computed(
                outcome=Outcome(done.quality, done.drift),
                sensors=table,
                commit=lambda: commit_staged(
                    self.store,
                    self._log,
                    staging,
                    sensors=table,
                    intent=self._intent(ok, description, "overwrite"),
                    params=params,
                ),
                readings=lambda versions: self.store.read(
                    cfg.raw_dataset, version=versions["raw"].version
                ),
                rows_left_out=int(done.counts["rows_left_out"].sum()),
                batches=done.batches,
            )

        report = Progress(total=2 + len(cfg.steps), enabled=False)
        return self._record(
            run_id, names, cfg, params, started, report, compute_run, on_failure=staging.remove
        )

    def _execute(
        self,
        run_id: str,
        work: _Loaded | _Batched,
        cfg: PipelineConfig,
        report: Progress,
        started: datetime,
        description: str,
        mode: Literal["overwrite", "append"],
    ) -> PipelineRun:
        """Compute and commit a plain run (in memory or in batches), recorded by :meth:`_record`."""
        params = cfg.to_json()
        staging = Staging(self.store, run_id) if work.batched and "version" in cfg.steps else None

        def compute() -> Computed:
            gathered = self._compute(work, report, staging)
            outcome, counts = gathered.outcome(), gathered.counts()
            table = sensor_table(
                work.ids, gathered.failures, counts, outcome.quality, outcome.drift
            )
            return Computed(
                outcome=outcome,
                sensors=table,
                commit=lambda: self._commit_versions(
                    run_id, gathered, staging, table, description, mode, params
                ),
                readings=lambda versions: self._readings(cfg, versions, work),
                rows_left_out=int(counts["rows_left_out"].sum()),
                batches=gathered.batches,
            )

        return self._record(
            run_id,
            work.ids,
            cfg,
            params,
            started,
            report,
            compute,
            on_failure=None if staging is None else staging.remove,
        )

    def _record(
        self,
        run_id: str,
        ids: list[str],
        cfg: PipelineConfig,
        params: str,
        started: datetime,
        report: Progress,
        compute: Callable[[], Computed],
        *,
        on_failure: Callable[[], None] | None = None,
    ) -> PipelineRun:
        """
        Record, compute, commit, write the report and record again: the body of a run.

        Plain and incremental runs alike: ``start`` records, the computation
        (``failed`` records and ``on_failure`` if it raises), the commit protocol (a
        commit that raises is settled: rolled forward if the raw version landed, else
        failed), the report, the ``finish`` records; then the :class:`PipelineRun`.
        """
        ACTIVE.add(run_id)
        try:
            self._log.append(
                run_id,
                pl.DataFrame({SENSOR: ids}, schema={SENSOR: pl.String}),
                event="start",
                status="running",
                at=started,
                params=params,
                owner=current_owner(),
            )
            try:
                done = compute()
            except Exception as exc:
                self._log.append(
                    run_id,
                    pl.DataFrame({SENSOR: ids}, schema={SENSOR: pl.String}),
                    event="finish",
                    status="failed",
                    error=str(exc),
                    params=params,
                )
                if on_failure is not None:
                    on_failure()
                raise
            versions: dict[str, DatasetVersion] = {}
            if "version" in cfg.steps:
                with report.step("version"):
                    try:
                        versions = done.commit()
                    except Exception as exc:  # roll forward if raw landed, else failed
                        ACTIVE.discard(run_id)
                        self._settle(run_id, ids, params, exc)
                        raise
            page = None
            if cfg.report:
                with report.step("report"):
                    page = write_run_report(
                        self.store,
                        run_id,
                        quality=done.outcome.quality,
                        drift=done.outcome.drift,
                        readings=done.readings(versions),
                    )
            with report.step("record"):
                finish_run(
                    self.store,
                    self._log,
                    run_id,
                    sensors=done.sensors,
                    versions=versions,
                    params=params,
                    report=page,
                )
        finally:  # a run that stops here unfinished is left to recover()
            ACTIVE.discard(run_id)
        report.close()
        return self._result(
            run_id,
            started,
            report,
            done.sensors,
            done.outcome,
            versions,
            rows_left_out=done.rows_left_out,
            batches=done.batches,
            page=page,
        )

    def _result(
        self,
        run_id: str,
        started: datetime,
        report: Progress,
        sensors: pl.DataFrame,
        outcome: Outcome,
        versions: dict[str, DatasetVersion],
        *,
        rows_left_out: int = 0,
        batches: int = 1,
        page: str | None = None,
    ) -> PipelineRun:
        """Return (and log) the :class:`PipelineRun` of a run; ``versions`` by role."""
        cfg = self.config
        names = {"raw": cfg.raw_dataset, "processed": cfg.processed_dataset}
        run = PipelineRun(
            run_id=run_id,
            started_at=started,
            finished_at=datetime.now(UTC),
            sensors=sensors,
            quality=outcome.quality,
            drift=outcome.drift,
            versions={names[role]: v for role, v in versions.items()},
            timings=report.timings,
            output=f"{self.store.root}/{cfg.processed_dataset}" if versions else None,
            rows_left_out=rows_left_out,
            batches=batches,
            report_path=None if page is None else f"{self.store.root}/{page}",
        )
        logger.info(run.summary())
        return run

    def _readings(
        self, cfg: PipelineConfig, versions: dict[str, DatasetVersion], work: _Loaded | _Batched
    ) -> pl.DataFrame | pl.LazyFrame:
        """Return the run's readings for its report: its raw version, else its input."""
        raw = versions.get("raw")
        if raw is not None:
            return self.store.read(cfg.raw_dataset, version=raw.version)
        return work.readings()

    def _compute(
        self, work: _Loaded | _Batched, report: Progress, staging: Staging | None
    ) -> Gathered:
        """
        Run the computing steps batch by batch; stage (or keep) what is to be committed.

        In memory (one batch), a batch in which every sensor fails fails the run; in
        batches, only if that happens in every batch.
        """
        reference = None
        if "drift" in self.config.steps:
            reference = _Reference(self.store, self.config.drift, run_sensors=work.sensors)
        gathered = Gathered()
        for frame, counts in work:
            failures = too_few_readings(frame, self.config.min_readings)
            gathered.batches += 1
            if frame.height:
                try:
                    out, good, processed = self._steps(frame, failures, report, reference)
                except PipelineError as exc:
                    if not work.batched:
                        raise
                    logger.warning("every sensor of a batch failed: %s", exc)
                    out, good, processed = Outcome(), frame.clear(), frame.clear()
                if staging is not None and good.height:
                    staging.add(good.select(SENSOR, TIME, VALUE), processed)
                elif staging is None:
                    gathered.raw, gathered.processed = good, processed
                gathered.add(out, failures, succeeded=good.height > 0)
            gathered.counted.append(counts)
        if not gathered.succeeded:
            msg = f"every sensor failed: {preview(gathered.failures.values(), limit=3)}"
            raise PipelineError(msg)
        if reference is not None:
            reference.save()
        return gathered

    def _commit_versions(
        self,
        run_id: str,
        gathered: Gathered,
        staging: Staging | None,
        sensors_table: pl.DataFrame,
        description: str,
        mode: Literal["overwrite", "append"],
        params: str,
    ) -> dict[str, DatasetVersion]:
        if staging is None:
            return self._version(
                run_id,
                gathered.raw,
                gathered.processed,
                sensors_table,
                description,
                mode,
                params,
            )
        ok = sensors_table.filter(pl.col("status") == "success").height
        return commit_staged(
            self.store,
            self._log,
            staging,
            sensors=sensors_table,
            intent=self._intent(ok, description, mode),
            params=params,
        )

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
        finish event is still running. The finish records of a run that wrote its
        HTML report (``PipelineConfig(report=True)``) name it in column ``report``,
        relative to the store root.

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
            version = self.store.resolve(name, as_known_at=as_known_at)
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
        wanted = _selected(sensors)
        lf = scan(source)
        if wanted is not None:
            lf = lf.filter(pl.col(SENSOR).is_in(wanted))
        kept = lf if keep is None else lf.filter(keep)
        frame, totals = pl.collect_all(
            [
                kept.sort(SENSOR, TIME, maintain_order=True),
                lf.group_by(SENSOR).agg(pl.len().alias("total")),
            ]
        )
        return frame, window_counts(totals, frame)

    def _steps(
        self,
        frame: pl.DataFrame,
        failures: dict[str, str],
        report: Progress,
        reference: _Reference | None = None,
    ) -> tuple[Outcome, pl.DataFrame, pl.DataFrame]:
        """
        Run the computing steps; return their reports and the raw and processed rows kept.

        ``reference``: the run's drift reference (new sensors' profiles are stored when
        the run saves it); by default it is read, and the new profiles stored, here.
        """
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
                out.drift = self._drift(good, failures, reference, batch=frame)
        return out, without(good, failures), without(processed, failures)

    def _normalize(self, frame: pl.DataFrame) -> pl.DataFrame:
        train = split(frame, self.config.ratios).train
        normalizer = Normalizer(self.config.normalize).fit(train)
        return normalizer.transform(frame)

    def _drift(
        self,
        frame: pl.DataFrame,
        failures: dict[str, str],
        reference: _Reference | None = None,
        *,
        batch: pl.DataFrame | None = None,
    ) -> DriftReport | None:
        """
        Detect drift of ``frame``'s known sensors; profile the new ones.

        Without ``reference`` the stored one is read and the new profiles stored at
        once. ``batch``: the batch ``frame`` is from (with the failed sensors).
        """
        ref = reference or _Reference(self.store, self.config.drift)
        new = frame.filter(~pl.col(SENSOR).is_in(ref.known))
        if new.height:
            ref.add(DriftDetector(self.config.drift).fit(new).profile_)
        current = frame.filter(pl.col(SENSOR).is_in(ref.known))
        report = None
        if current.height:
            detector = ref.detector(frame if batch is None else batch)
            report, _ = isolated("drift", current, failures, detector.detect)
        if reference is None:
            ref.save()
        return report

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

    def _intent(self, n: int, description: str, mode: Literal["overwrite", "append"]) -> Intent:
        cfg = self.config
        return Intent(
            mode=mode,
            raw_dataset=cfg.raw_dataset,
            processed_dataset=cfg.processed_dataset,
            raw_description=description or f"pipeline input, {n} sensor(s)",
            processed_description=description
            or f"{cfg.normalize} normalized features, {n} sensor(s)",
        )

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
        return commit_run(
            self.store,
            self._log,
            run_id,
            raw=raw.select(SENSOR, TIME, VALUE),
            processed=processed,
            sensors=sensors_table,
            intent=self._intent(raw[SENSOR].n_unique(), description, mode),
            params=params,
        )


def _selected(sensors: Sequence[str] | None) -> list[str] | None:
    """Return the ``sensors`` argument of a run as a list (``None``: every sensor)."""
    if isinstance(sensors, str):
        msg = f"`sensors` must be a sequence of sensor ids, got the string {sensors!r}"
        raise InvalidTypeError(msg)
    return None if sensors is None else list(sensors)


class _Loaded:
    """The input of a run in memory: the selected readings, one batch."""

    batched = False

    def __init__(self, frame: pl.DataFrame, counts: pl.DataFrame) -> None:
        self.ids: list[str] = frame[SENSOR].unique().sort().to_list()
        self.sensors: list[str] | None = None  # the batch holds every sensor of the run
        self._batch = (frame, counts)

    def __iter__(self) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        yield self._batch

    def readings(self) -> pl.DataFrame:
        """Return the run's readings (in the window)."""
        return self._batch[0]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        del self._batch


class _Batched:
    """
    The input of a run in batches of whole sensors.

    Each batch's readings in the window, sorted, with their counts per sensor (as
    :meth:`Pipeline._load` gives them).

    With a window, one query first finds each selected sensor's newest reading: the
    run's sensors (those with readings in the window) and the window's start.
    """

    batched = True

    def __init__(
        self,
        source: Any,
        sensors: Sequence[str] | None,
        cfg: PipelineConfig,
        window: timedelta | None,
        hours_back: float | timedelta | None,
        *,
        now: datetime,
        progress: bool | None,
    ) -> None:
        self.source = source
        self.batches = Batches(
            source,
            batch_rows=cfg.batch_rows,
            memory_limit=cfg.memory_limit,
            sensors=_selected(sensors),
            progress=progress,
            label="pipeline",
        )
        self.sensors: list[str] | None = self.batches.sensors
        self.ids: list[str] = self.batches.sensors
        self.keep = cutoff(window, hours_back, now=now)
        if self.keep is not None and self.ids:
            lf = scan(source).filter(pl.col(SENSOR).is_in(self.ids))
            newest = lf.group_by(SENSOR).agg(pl.col(TIME).max()).collect(engine="streaming")
            self.ids = newest.filter(self.keep)[SENSOR].sort().to_list()
            start = newest[TIME].max()
            self.keep = cutoff(window, hours_back, now=now, newest=start)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        for batch in self.batches:
            totals = batch.group_by(SENSOR).agg(pl.len().alias("total"))
            frame = batch if self.keep is None else batch.filter(self.keep)
            yield frame, window_counts(totals, frame)

    def readings(self) -> pl.LazyFrame:
        """Return the run's readings (in the window), filtered lazily as they are read."""
        lf = scan(self.source).filter(pl.col(SENSOR).is_in(self.ids))
        return lf if self.keep is None else lf.filter(self.keep)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.batches.close()


class _Reference:
    """
    The stored drift reference as a run uses it.

    Read once; the new sensors' profiles of every batch are stored together when the
    run saves it.

    The drift report of a run covers every sensor of the reference (those not in the
    run too, with no current readings), as one detection over them all would.
    """

    def __init__(
        self, store: DatasetStore, config: DriftConfig, *, run_sensors: list[str] | None = None
    ) -> None:
        self.store = store
        self.config = config
        self.profile = stored_reference(store)
        self.known: list[str] = [] if self.profile is None else self.profile[SENSOR].to_list()
        # reference sensors no batch holds: detected (with no readings) with the first one
        self._others: list[str] | None = (
            None if run_sensors is None else sorted(set(self.known) - set(run_sensors))
        )
        self._new: list[pl.DataFrame] = []

    def add(self, profile: pl.DataFrame) -> None:
        self._new.append(profile)

    def detector(self, batch: pl.DataFrame) -> DriftDetector:
        """
        Return a detector of the reference sensors of ``batch``.

        In a run in batches; of every reference sensor otherwise. The first batch also
        gets the reference sensors that are not in the run.
        """
        assert self.profile is not None  # called for known sensors only
        profile = self.profile
        if self._others is not None:
            ids = [*batch[SENSOR].unique().to_list(), *self._others]
            profile = profile.filter(pl.col(SENSOR).is_in(ids))
            self._others = []
        return DriftDetector.from_profile(profile, self.config)

    def save(self) -> None:
        if self._new:
            profiles = pl.concat(self._new, how="diagonal_relaxed")
            self.store.append_pipeline_records(
                REFERENCE_TABLE, profiles.with_columns(created_at=pl.lit(datetime.now(UTC)))
            )
            self._new = []


def stored_reference(store: DatasetStore) -> pl.DataFrame | None:
    """
    Return the newest stored drift profile of every sensor, or ``None`` without any.

    The reference a run's drift step compares with (``REFERENCE_TABLE`` of the store's
    pipeline records), as ``DriftDetector.profile_`` rows.
    """
    try:
        records = store.records(REFERENCE_TABLE).collect()
    except SensorFrameError:
        return None
    if records.height == 0:
        return None
    latest = records.sort("created_at").group_by(SENSOR, maintain_order=True).last()
    return latest.drop("created_at")
