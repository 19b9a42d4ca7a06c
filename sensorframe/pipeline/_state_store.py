"""
The state an incremental pipeline run leaves for the next: one Delta dataset in the store.

``<processed>_state`` holds one ``sensor`` row per processed sensor (its last processed
time, the rows processed so far and the normalizer's center, scale and n) and the
trailing ``context`` rows (normalized readings) that the features of the sensor's next
readings need. Every incremental run commits one overwriting version of it, carrying the
run id, before its raw and processed versions; the processed version names it in its
properties (``state_version``). A state is only ever read through the processed version
it was committed with, so a run that died after committing its state, but before its
processed version, leaves a state version nobody reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from sensorframe._typing import NormalizeMethod
from sensorframe.errors import IntegrityError
from sensorframe.features import FeatureConfig
from sensorframe.features.state import feature_context
from sensorframe.frame import SENSOR, TIME, VALUE
from sensorframe.pipeline._commit import RUN_PROPERTY, _landed
from sensorframe.pipeline.config import PipelineConfig
from sensorframe.prepare import Normalizer
from sensorframe.store import DatasetStore, DatasetVersion

__all__ = [
    "CONTEXT_SCHEMA",
    "LINEAGE_PROPERTY",
    "SUMMARY_SCHEMA",
    "STATE_PROPERTY",
    "RunState",
    "aligned",
    "context_rows",
    "load_state",
    "state_dataset",
]

STATE_PROPERTY = "state_version"
"""Key of the processed version's property naming the state version it pairs with."""
LINEAGE_PROPERTY = "lineage"
"""Key of the property naming the run that fitted the normalizer of a lineage."""

SUMMARY_SCHEMA = pl.Schema(
    {
        SENSOR: pl.String(),
        "last_time": pl.Datetime("us", "UTC"),
        "rows_seen": pl.Int64(),
        "center": pl.Float64(),
        "scale": pl.Float64(),
        "n": pl.Int64(),
    }
)
"""One row per sensor of a :class:`RunState`."""
CONTEXT_SCHEMA = pl.Schema(
    {SENSOR: pl.String(), TIME: pl.Datetime("us", "UTC"), VALUE: pl.Float64()}
)
"""The trailing rows of a :class:`RunState` (normalized readings)."""


def state_dataset(config: PipelineConfig) -> str:
    """Return the name of the state dataset of a pipeline config: ``<processed>_state``."""
    return f"{config.processed_dataset}_state"


def context_rows(config: FeatureConfig) -> int | None:
    """
    Return the trailing rows each sensor's next features need, or None for all of them.

    The windowed families depend on a bounded number of rows before a new one
    (:func:`~sensorframe.features.state.feature_context`), and are exact, bit for bit,
    when computed on that many rows of history plus the new ones; step - 1 rows more
    let the rows continued from start at a spectral step (:func:`aligned`). EWM and
    expanding statistics, duration windows and a ``min_samples`` (computed by the
    rolling kernel's running sums, whose last bits depend on earlier rows) depend on
    the whole history: None.

    Examples
    --------
    >>> from sensorframe.pipeline._state_store import context_rows
    >>> context_rows(sf.FeatureConfig(rolling_windows=[24], lags=[1, 6]))
    23
    >>> context_rows(sf.FeatureConfig(spectral=True, spectral_window=8, spectral_step=3))
    11
    >>> context_rows(sf.FeatureConfig.default()) is None
    True
    """
    context = feature_context(config)
    if context.running or context.duration is not None or config.min_samples is not None:
        return None
    return context.rows + (config.spectral_step - 1 if config.spectral else 0)


def aligned(state: RunState, sensors: Sequence[str], *, rows: int, step: int) -> pl.DataFrame:
    """
    Return the saved trailing rows of `sensors`, starting at a multiple of `step`.

    The spectrum is computed every step-th row counted from a sensor's first reading,
    so the rows the features continue from must start at such a row: up to step - 1 of
    the oldest saved rows are dropped (:func:`context_rows` keeps that many extra).
    With ``rows == 0`` (no feature needs history) there are none.
    """
    context = state.context.filter(pl.col(SENSOR).is_in(list(sensors)))
    if rows == 0 or step == 1:
        return context if rows else context.head(0)
    first = state.summary.select(SENSOR, "rows_seen").join(
        context.group_by(SENSOR).len(), on=SENSOR
    )
    drop = first.select(SENSOR, ((pl.col("len") - pl.col("rows_seen")) % step).alias("drop"))
    position = pl.int_range(pl.len()).over(SENSOR)
    return (
        context.join(drop, on=SENSOR, maintain_order="left")
        .filter(position >= pl.col("drop"))
        .drop("drop")
    )


@dataclass(frozen=True, slots=True)
class RunState:
    """
    What the last incremental run left: per-sensor summary, trailing rows, lineage.

    Attributes
    ----------
    summary
        :data:`SUMMARY_SCHEMA`: per sensor the last processed time, the rows processed
        and the normalizer's parameters (null when the pipeline does not normalize).
    context
        :data:`CONTEXT_SCHEMA`: each sensor's last rows (normalized), oldest first.
    lineage
        Run id of the run that fitted the normalizer (the first run, or a refit).
    processed
        The processed version this state was committed with (None before committing).
    """

    summary: pl.DataFrame
    context: pl.DataFrame
    lineage: str
    processed: DatasetVersion | None = None

    def normalizer(self, method: NormalizeMethod) -> Normalizer:
        """Return the saved normalizer (``method`` as configured) of every sensor."""
        norm = Normalizer(method)
        norm.params_ = self.summary.select(SENSOR, "center", "scale", "n")
        norm.fitted_at_ = datetime.now(UTC)
        return norm

    def to_frame(self) -> pl.DataFrame:
        """Return the state as stored: ``sensor`` rows, then ``context`` rows."""
        sensors = self.summary.select(
            SENSOR,
            pl.col("last_time").alias(TIME),
            pl.lit(None, pl.Float64).alias(VALUE),
            pl.lit("sensor").alias("kind"),
            pl.exclude(SENSOR, "last_time"),
        )
        return pl.concat(
            [sensors, self.context.with_columns(kind=pl.lit("context"))], how="diagonal"
        )

    @classmethod
    def from_frame(
        cls, frame: pl.DataFrame, *, lineage: str, processed: DatasetVersion
    ) -> RunState:
        """Read back what :meth:`to_frame` wrote."""
        kind = pl.col("kind")
        summary = frame.filter(kind == "sensor").select(
            SENSOR, pl.col(TIME).alias("last_time"), *list(SUMMARY_SCHEMA)[2:]
        )
        context = frame.filter(kind == "context").select(list(CONTEXT_SCHEMA))
        return cls(
            summary=summary.cast(SUMMARY_SCHEMA),
            context=context.cast(CONTEXT_SCHEMA),
            lineage=lineage,
            processed=processed,
        )


def load_state(store: DatasetStore, config: PipelineConfig) -> RunState | None:
    """
    Return the state paired with the latest processed version, or None if it has none.

    None means there is nothing to continue from: no processed version yet, or one that
    a plain (not incremental) run wrote. A processed version committed by recovery
    (roll-forward after a crash) lacks the property; its state is the version of the
    state dataset carrying the same run id.

    Raises
    ------
    IntegrityError
        If the processed version names a state version committed by another run.
    """
    name = config.processed_dataset
    if name not in store.datasets():
        return None
    processed = store.latest(name)
    props = dict(processed.properties)
    run_id = props.get(RUN_PROPERTY)
    if LINEAGE_PROPERTY not in props or run_id is None:
        return None
    dataset = state_dataset(config)
    if STATE_PROPERTY in props:
        state = store.version(dataset, int(props[STATE_PROPERTY]))
    else:
        found = _landed(store, dataset, run_id)
        if found is None:
            msg = f"{name}@{processed.version} (run {run_id}) has no state in dataset {dataset!r}"
            raise IntegrityError(msg)
        state = found
    if dict(state.properties).get(RUN_PROPERTY) != run_id:
        msg = (
            f"{name}@{processed.version} (run {run_id}) names state {dataset}@{state.version}, "
            f"which run {dict(state.properties).get(RUN_PROPERTY)} committed"
        )
        raise IntegrityError(msg)
    frame = store.read(dataset, version=state.version).collect()
    return RunState.from_frame(frame, lineage=props[LINEAGE_PROPERTY], processed=processed)
