"""
Incremental pipeline runs: process only what is new, equal to a full run over all data.

An incremental run continues from the state the last successful one left in the store
(:mod:`sensorframe.pipeline._state_store`): each sensor's last processed time, rows
processed, normalizer parameters and trailing rows. Of the source's readings it keeps

* the *new* ones: newer than their sensor's last processed time, or of a sensor the
  store has not seen (which starts from scratch: its normalizer is fitted on its own
  training split, as a first run does);
* the *late* ones: at or before that time but absent from the raw dataset;
* the *corrections*: a reading at a (sensor, timestamp) the raw dataset holds with a
  different value. Every reading of the source at that key replaces the stored ones.

Readings the raw dataset holds already are skipped, so running the same batch twice
makes no second version (the run logs that it found nothing new). Late readings and
corrections are never skipped: their sensor is recomputed from its whole stored history
and its processed rows from the earliest affected reading on are replaced. The store
writes whole versions (overwrite or append), so such a run overwrites the processed
dataset (and the raw one for a correction): it costs in proportion to the dataset.
Runs with new readings only append, at a cost in proportion to the new readings.

The processed dataset after any sequence of incremental runs has the content hash of a
full run over all the readings with the first run's normalizer (with
``normalize="none"``: of a plain :meth:`Pipeline.run`). ``refit=True`` fits the
normalizer again on every stored reading and rewrites the processed dataset: a new
lineage, named by the refit run's id in the ``lineage`` property of its versions and
recorded in its run record (``params``: ``incremental.refit``).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from sensorframe.errors import ConfigError, InvalidTypeError, PipelineError
from sensorframe.features import engineer_features
from sensorframe.frame import SENSOR, TIME, VALUE
from sensorframe.pipeline._commit import RUN_PROPERTY, Intent, commit_run
from sensorframe.pipeline._outcome import (
    Computed,
    Outcome,
    isolated,
    sensor_table,
    too_few_readings,
    without,
)
from sensorframe.pipeline._progress import Progress
from sensorframe.pipeline._state_store import (
    CONTEXT_SCHEMA,
    LINEAGE_PROPERTY,
    STATE_PROPERTY,
    SUMMARY_SCHEMA,
    RunState,
    aligned,
    context_rows,
    load_state,
    state_dataset,
)
from sensorframe.pipeline.result import PipelineRun
from sensorframe.prepare import Normalizer, split
from sensorframe.quality import assess_quality
from sensorframe.reporting.figure import require_matplotlib

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sensorframe.pipeline.runner import Pipeline
    from sensorframe.store import DatasetStore, DatasetVersion

__all__ = ["run_incremental"]

logger = logging.getLogger("sensorframe.pipeline")

_KEYS = [SENSOR, TIME]
_FROM = "__sf_keep_from"
_ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class _Changes:
    """What a source adds to the store: readings to add, stored keys replaced, affected."""

    added: pl.DataFrame  # sensor_id, timestamp, value: new, late and corrected readings
    replaced: pl.DataFrame  # (sensor_id, timestamp) keys of stored readings corrected
    affected: pl.DataFrame  # sensor_id, earliest late or corrected timestamp (_FROM)


def run_incremental(
    pipeline: Pipeline,
    source: Any,
    *,
    refit: bool = False,
    sensors: Sequence[str] | None = None,
    description: str = "",
    progress: bool | None = None,
) -> PipelineRun:
    """
    Run the pipeline on the readings the store has not processed yet.

    See the module documentation for what counts as new, late and corrected, and what
    the processed dataset then equals.

    Parameters
    ----------
    pipeline
        The pipeline (its store and config); its config must set no ``window`` or
        ``hours_back``: an incremental run takes every new reading.
    source
        Anything :func:`sensorframe.scan` accepts: the new batch, or a source that has
        grown (readings already stored are skipped).
    refit
        Fit the normalizer again on every stored reading and rewrite the processed
        dataset, starting a new lineage.
    sensors
        Sensor ids to run; by default every sensor of the source.
    description
        Stored with the dataset versions of the run.
    progress
        Show progress, as for :meth:`Pipeline.run`.

    Returns
    -------
    PipelineRun
        Its ``versions`` are empty when the source held nothing new. Quality and drift
        are those of the readings the run added.

    Raises
    ------
    ConfigError
        If the config sets a ``window`` or ``hours_back``.
    PipelineError
        If no sensor is selected, or every sensor failed.
    IntegrityError
        If the latest processed version is paired with another run's state.

    Examples
    --------
    >>> import tempfile
    >>> from sensorframe.pipeline.incremental import run_incremental
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=60, freq="1h", faults=())
    >>> cfg = sf.PipelineConfig(steps=("features", "version"), normalize="none",
    ...                         features=sf.FeatureConfig(lags=[1]))
    >>> pipe = sf.Pipeline(sf.DatasetStore(tempfile.mkdtemp()), cfg)
    >>> start = data.frame["timestamp"].min()
    >>> first = data.frame.filter(pl.col("timestamp") < start + timedelta(hours=40))
    >>> sorted(run_incremental(pipe, first, progress=False).versions)
    ['processed', 'raw']
    >>> run = run_incremental(pipe, data.frame, progress=False)  # 20 new hours per sensor
    >>> run.versions["processed"].batch_rows, run.versions["processed"].parents
    (40, (('raw', 1), ('processed', 0)))
    >>> run_incremental(pipe, data.frame, progress=False).versions  # nothing new
    {}
    """
    cfg = pipeline.config
    if cfg.window is not None or cfg.hours_back is not None:
        msg = (
            "an incremental run processes every new reading: PipelineConfig.window and "
            f"hours_back must be None, got window={cfg.window}, hours_back={cfg.hours_back!r}"
        )
        raise ConfigError(msg)
    if not isinstance(refit, bool):
        msg = f"`refit` must be True or False, got {refit!r}"
        raise InvalidTypeError(msg)
    if cfg.report:  # before any work: a missing extra fails the run at once
        require_matplotlib()
    store = pipeline.store
    started = datetime.now(UTC)
    pipeline.recover()
    run_id = uuid.uuid4().hex[:12]
    report = Progress(total=3 + len(cfg.steps) + cfg.report, enabled=progress)
    with report.step("load"):
        state = load_state(store, cfg)
        received, _ = pipeline._load(source, sensors, None)
        if received.height == 0:
            asked = "" if sensors is None else f" of the sensor(s) {list(sensors)[:5]}"
            msg = f"no readings selected: the source has no readings{asked}"
            raise PipelineError(msg)
        changes = _changes(store, cfg.raw_dataset, received, state)
        lineage = run_id if state is None or refit else state.lineage
        plan = _Plan(pipeline, state, changes, refit=refit, lineage=lineage, report=report)
    info = {
        "refit": refit,
        "lineage": lineage,
        "added_rows": changes.added.height,
        "replaced_rows": changes.replaced.height,
        "affected_sensors": changes.affected.height,
    }
    params = json.dumps({**json.loads(cfg.to_json()), "incremental": info}, sort_keys=True)
    if not plan.ids:
        logger.info("run %s: found nothing new in the source; no version committed", run_id)
        report.close()
        nothing = pl.DataFrame(schema={SENSOR: pl.String, "status": pl.String})
        return pipeline._result(run_id, started, report, nothing, Outcome(), {})

    def compute() -> Computed:
        outcome, frames = plan.compute()
        added = changes.added.group_by(SENSOR).agg(pl.len().cast(pl.Int64).alias("rows"))
        counts = ids.join(added, on=SENSOR, how="left").select(
            SENSOR, pl.col("rows").fill_null(0), rows_left_out=pl.lit(0, pl.Int64)
        )
        table = sensor_table(plan.ids, plan.failures, counts, outcome.quality, outcome.drift)
        return Computed(
            outcome=outcome,
            sensors=table,
            commit=lambda: _commit(pipeline, run_id, frames, table, description, params),
            readings=lambda versions: _readings(pipeline, versions, frames, changes.added),
        )

    ids = pl.DataFrame({SENSOR: plan.ids}, schema={SENSOR: pl.String})
    return pipeline._record(run_id, plan.ids, cfg, params, started, report, compute)


def _readings(
    pipeline: Pipeline,
    versions: dict[str, DatasetVersion],
    frames: _Frames,
    added: pl.DataFrame,
) -> pl.DataFrame | pl.LazyFrame:
    """
    Return the readings of the run's report, lazily: the raw version of its processed one.

    That is the raw version it committed, or the one a refit with nothing new reuses;
    without a commit (no ``version`` step), the readings it added.
    """
    name = pipeline.config.raw_dataset
    if not versions:
        return added
    raw = versions.get("raw") or next(v for v in frames.parents if v.dataset == name)
    return pipeline.store.read(name, version=raw.version)


def _changes(
    store: DatasetStore, raw_dataset: str, received: pl.DataFrame, state: RunState | None
) -> _Changes:
    """Sort the received readings into new, late, corrected and already stored."""
    keys = pl.DataFrame(schema={SENSOR: pl.String, TIME: pl.Datetime("us", "UTC")})
    none = _Changes(added=received, replaced=keys, affected=keys.rename({TIME: _FROM}))
    if state is None or state.processed is None:
        return none
    last = state.summary.select(SENSOR, "last_time")
    tagged = received.join(last, on=SENSOR, how="left", maintain_order="left")
    is_old = pl.col(TIME) <= pl.col("last_time")
    newer = tagged.filter(~is_old.fill_null(value=False)).drop("last_time")
    older = tagged.filter(is_old).drop("last_time")
    if older.height == 0:
        return _Changes(added=newer, replaced=keys, affected=none.affected)
    raw_version = dict(state.processed.parents)[raw_dataset]
    stored = (
        store.read(raw_dataset, version=raw_version)
        .filter(
            pl.col(SENSOR).is_in(older[SENSOR].unique().to_list()),
            pl.col(TIME).is_between(older[TIME].min(), older[TIME].max()),
        )
        .select(SENSOR, TIME, VALUE)
        .collect()
    )
    unseen = older.join(stored, on=[SENSOR, TIME, VALUE], how="anti", nulls_equal=True)
    replaced = unseen.join(stored, on=_KEYS, how="semi").select(_KEYS).unique()
    corrected = older.join(replaced, on=_KEYS, how="semi")
    late = unseen.join(stored, on=_KEYS, how="anti")
    touched = pl.concat([late, corrected])
    if touched.height:
        logger.info(
            "%d late and %d corrected reading(s) of %d sensor(s): recomputed from the earliest",
            late.height,
            corrected.height,
            touched[SENSOR].n_unique(),
        )
    return _Changes(
        added=pl.concat([newer, touched]).sort(SENSOR, TIME, maintain_order=True),
        replaced=replaced.sort(_KEYS),
        affected=touched.group_by(SENSOR).agg(pl.col(TIME).min().alias(_FROM)).sort(SENSOR),
    )


@dataclass(frozen=True, slots=True)
class _Frames:
    """What a run commits: raw rows (None: nothing to add), processed rows, next state."""

    raw: pl.DataFrame | None
    raw_mode: Literal["overwrite", "append"]
    processed: pl.DataFrame
    processed_mode: Literal["overwrite", "append"]
    state: RunState
    parents: tuple[DatasetVersion, ...]  # the raw version kept, the previous processed one


class _Plan:
    """
    The computation of one incremental run.

    Sensors are computed in one of two ways. *Whole*: from their first stored reading,
    for a first run or a refit, a new sensor, a sensor with late or corrected readings,
    and every sensor when a feature needs the whole history (:func:`context_rows` is
    None). *Continued*: from their saved trailing rows plus the new readings. Either
    way the rows are normalized (the saved normalizer; fitted for new sensors), the
    features computed in one call, and only the rows not yet processed kept.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        state: RunState | None,
        changes: _Changes,
        *,
        refit: bool,
        lineage: str,
        report: Progress,
    ) -> None:
        self.pipeline = pipeline
        self.cfg = cfg = pipeline.config
        self.state = None if state is None or refit else state
        self.previous = state
        self.changes = changes
        self.lineage = lineage
        self.report = report
        self.failures: dict[str, str] = {}
        features = cfg.features if "features" in cfg.steps else None
        self.context = 0 if features is None else context_rows(features)
        self.step = features.spectral_step if features is not None and features.spectral else 1
        needs_stored = refit or changes.affected.height > 0 or self.context is None
        self.stored: pl.DataFrame | None = None  # the stored raw readings, if read
        if state is not None and needs_stored:
            self.stored = self._read_raw(state)
        self.known = set() if self.state is None else set(self.state.summary[SENSOR])
        ids = set(changes.added[SENSOR].unique())
        if refit and self.stored is not None:
            ids |= set(self.stored[SENSOR].unique())
        self.ids = sorted(ids)

    def _read_raw(self, state: RunState) -> pl.DataFrame:
        assert state.processed is not None
        raw = self.cfg.raw_dataset
        version = dict(state.processed.parents)[raw]
        rows = self.pipeline.store.read(raw, version=version).select(SENSOR, TIME, VALUE)
        return rows.collect()

    def compute(self) -> tuple[Outcome, _Frames]:
        """Run the steps; return the reports and what to commit."""
        cfg, added = self.cfg, self.changes.added
        history = self._history()
        new_ids = [s for s in self.ids if s not in self.known]
        fresh = history.filter(pl.col(SENSOR).is_in(new_ids))
        self.failures.update(too_few_readings(fresh, cfg.min_readings))
        if len(self.failures) == len(self.ids):
            msg = f"every sensor failed: {list(self.failures.values())[:3]}"
            raise PipelineError(msg)
        out = Outcome()
        if "quality" in cfg.steps and added.height:
            with self.report.step("quality"):
                out.quality, _ = isolated(
                    "quality", added, self.failures, lambda f: assess_quality(f, cfg.quality)
                )
        normalizer = self._normalizer(without(fresh, self.failures))
        frame_in = self._inputs(history, normalizer)
        processed = frame_in
        if "features" in cfg.steps:
            with self.report.step("features"):
                processed, _ = isolated(
                    "features",
                    processed,
                    self.failures,
                    lambda f: engineer_features(f, cfg.features).collect(),
                )
        processed = without(processed, self.failures)
        keep = self._keep_from()
        if keep.height:  # a first run or a refit keeps every row: no copy
            processed = (
                processed.join(keep, on=SENSOR, how="left")
                .filter(pl.col(_FROM).is_null() | (pl.col(TIME) >= pl.col(_FROM)))
                .drop(_FROM)
            )
        good = without(added, self.failures)
        if "drift" in cfg.steps and good.height:
            with self.report.step("drift"):
                out.drift = self.pipeline._drift(good, self.failures)
        history = without(history, self.failures)
        state = self._next_state(without(frame_in, self.failures), history, good, normalizer)
        return out, self._frames(processed, good, state)

    def _history(self) -> pl.DataFrame:
        """Return the raw rows of the sensors computed whole, corrections applied, sorted."""
        added = self.changes.added
        whole = (set(self.ids) - self.known) | set(self.changes.affected[SENSOR])
        if self.context is None:
            whole |= set(added[SENSOR].unique())
        rows = added.filter(pl.col(SENSOR).is_in(list(whole)))
        if self.stored is None:
            return rows  # the added rows are in (sensor, time) order
        stored = self.stored.filter(pl.col(SENSOR).is_in(list(whole)))
        stored = stored.join(self.changes.replaced, on=_KEYS, how="anti")
        return pl.concat([stored, rows]).sort(SENSOR, TIME, maintain_order=True)

    def _normalizer(self, fresh: pl.DataFrame) -> Normalizer | None:
        """Return the saved normalizer, with the new sensors fitted on their training split."""
        if "normalize" not in self.cfg.steps:
            return None
        method = self.cfg.normalize
        saved = None if self.state is None else self.state.normalizer(method)
        if fresh.height == 0:
            return saved
        with self.report.step("normalize"):
            fitted, _ = isolated(
                "normalize",
                fresh,
                self.failures,
                lambda f: Normalizer(method).fit(split(f, self.cfg.ratios).train),
            )
        if saved is not None:
            fitted.params_ = pl.concat([saved.params_, fitted.params_]).sort(SENSOR)
        return fitted

    def _inputs(self, history: pl.DataFrame, normalizer: Normalizer | None) -> pl.DataFrame:
        """Return the normalized rows to compute the features on (history, context + new)."""
        added = self.changes.added
        whole = set(history[SENSOR].unique())
        going = sorted(set(added[SENSOR].unique()) - whole - set(self.failures))
        rows = without(
            pl.concat([history, added.filter(pl.col(SENSOR).is_in(going))]), self.failures
        )
        if normalizer is not None and rows.height:
            rows = normalizer.transform(rows)
        if self.state is None or not going:
            return rows
        context = aligned(self.state, going, rows=self.context or 0, step=self.step)
        return pl.concat([context, rows]).sort(SENSOR, TIME, maintain_order=True)

    def _keep_from(self) -> pl.DataFrame:
        """Per continued or recomputed sensor, the time its processed rows are kept from."""
        empty = pl.DataFrame(schema={SENSOR: pl.String, _FROM: pl.Datetime("us", "UTC")})
        if self.state is None:
            return empty
        affected = self.changes.affected
        after = self.state.summary.select(SENSOR, (pl.col("last_time") + _ONE_US).alias(_FROM))
        return pl.concat([affected, after.join(affected, on=SENSOR, how="anti")])

    def _next_state(
        self,
        frame_in: pl.DataFrame,
        history: pl.DataFrame,
        good: pl.DataFrame,
        normalizer: Normalizer | None,
    ) -> RunState:
        """Return the state after this run: the saved one, updated for the sensors computed."""
        tail = self.context or 0
        whole = history.group_by(SENSOR).agg(pl.len().cast(pl.Int64).alias("rows_seen"))
        seen = whole
        if self.state is not None:  # continued sensors: rows before, plus those added
            going = good.join(whole, on=SENSOR, how="anti").group_by(SENSOR).len()
            going = going.join(self.state.summary.select(SENSOR, "rows_seen"), on=SENSOR)
            seen = pl.concat([whole, going.select(SENSOR, pl.col("rows_seen") + pl.col("len"))])
        last = frame_in.group_by(SENSOR).agg(pl.col(TIME).max().alias("last_time"))
        params = pl.DataFrame(schema={SENSOR: pl.String} | dict(list(SUMMARY_SCHEMA.items())[3:]))
        if normalizer is not None:
            params = normalizer.params_.select(params.columns)
        summary = last.join(seen, on=SENSOR).join(params, on=SENSOR, how="left")
        position = pl.int_range(pl.len()).over(SENSOR)
        context = frame_in.filter(position >= pl.len().over(SENSOR) - tail)
        summary = summary.select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA)
        context = context.select(list(CONTEXT_SCHEMA)).cast(CONTEXT_SCHEMA)
        if self.state is not None:
            done = summary[SENSOR].to_list()
            others = pl.col(SENSOR).is_in(done).not_()
            summary = pl.concat([self.state.summary.filter(others), summary])
            context = pl.concat([self.state.context.filter(others), context])
        return RunState(summary=summary.sort(SENSOR), context=context, lineage=self.lineage)

    def _frames(self, processed: pl.DataFrame, good: pl.DataFrame, state: RunState) -> _Frames:
        """Return the raw and processed rows to commit, and how (append or overwrite)."""
        changes, previous = self.changes, self.previous
        parents: tuple[DatasetVersion, ...] = ()
        if self.state is not None:
            assert self.state.processed is not None
            parents = (self.state.processed,)
        rewrite = self.state is None or changes.affected.height > 0
        if rewrite and parents:
            redone = without(changes.affected, self.failures)  # a failed one keeps its rows
            stored = self.pipeline.store.read(
                self.cfg.processed_dataset, version=parents[0].version
            )
            kept = (
                stored.collect()
                .join(redone, on=SENSOR, how="left")
                .filter(pl.col(_FROM).is_null() | (pl.col(TIME) < pl.col(_FROM)))
                .drop(_FROM)
            )
            processed = pl.concat([kept, processed], how="vertical_relaxed")
        raw: pl.DataFrame | None = good
        raw_mode: Literal["overwrite", "append"] = "append" if previous else "overwrite"
        replaced = without(changes.replaced, self.failures)
        if replaced.height:
            assert self.stored is not None
            raw = pl.concat([self.stored.join(replaced, on=_KEYS, how="anti"), good])
            raw_mode = "overwrite"
        elif good.height == 0:  # a refit with nothing new: the stored raw version is used
            assert previous is not None
            assert previous.processed is not None
            raw_version = dict(previous.processed.parents)[self.cfg.raw_dataset]
            store = self.pipeline.store
            parents = (store.version(self.cfg.raw_dataset, raw_version), *parents)
            raw = None
        return _Frames(
            raw=None if raw is None else raw.sort(SENSOR, TIME, maintain_order=True),
            raw_mode=raw_mode,
            processed=processed,
            processed_mode="overwrite" if rewrite else "append",
            state=state,
            parents=parents,
        )


def _commit(
    pipeline: Pipeline,
    run_id: str,
    frames: _Frames,
    table: pl.DataFrame,
    description: str,
    params: str,
) -> dict[str, DatasetVersion]:
    """
    Commit the state, then raw and processed by the recorded protocol of ``commit_run``.

    The processed version has the previous processed version as a parent too and names
    the state version and the lineage in its properties; raw and processed each have
    their own mode. All of that is in the staged intent, so a recovery that rolls the
    run forward (the process died after the raw commit) commits the processed version
    as the run would have. The state goes first: one without its processed version is
    never read (:func:`~sensorframe.pipeline._state_store.load_state` starts from the
    latest processed version).
    """
    cfg, store = pipeline.config, pipeline.store
    mine = {RUN_PROPERTY: run_id, LINEAGE_PROPERTY: frames.state.lineage}
    state = store.commit(
        state_dataset(cfg),
        frames.state.to_frame(),
        description=f"incremental pipeline state after run {run_id}",
        properties=mine,
    )
    n = table.filter(pl.col("status") == "success").height
    intent = Intent(
        mode=frames.processed_mode,
        raw_mode=frames.raw_mode,
        raw_dataset=cfg.raw_dataset,
        processed_dataset=cfg.processed_dataset,
        raw_description=description or f"incremental pipeline input, {n} sensor(s)",
        processed_description=description
        or f"{cfg.normalize} normalized features, incremental run, {n} sensor(s)",
        parents=json.dumps([[v.dataset, v.version] for v in frames.parents]),
        properties=json.dumps({**mine, STATE_PROPERTY: str(state.version)}),
    )
    return commit_run(
        store,
        pipeline._log,
        run_id,
        raw=frames.raw,
        processed=frames.processed,
        sensors=table,
        intent=intent,
        params=params,
    )
