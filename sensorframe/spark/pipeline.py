"""
A pipeline run on Spark, recorded and committed as a local run of the same config.

Workers run the local steps (quality, normalize, features, drift) on their buckets of
whole sensors and write the raw and processed rows as Parquet into the run's staging
folder in the store; the driver puts the reports together (Benjamini-Hochberg over
every sensor), stores the new sensors' drift profiles, and hands the rest to
:meth:`sensorframe.Pipeline.record_elsewhere`: the run records, the two-phase commit of
both versions (one Delta commit each, recoverable) and the finish records are the
local pipeline's own. A run that fails before the commits leaves no version.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from sensorframe.drift import DriftDetector, DriftReport, combine_reports
from sensorframe.errors import ConfigError, InvalidTypeError, PipelineError
from sensorframe.features import engineer_features
from sensorframe.frame import CANONICAL_SCHEMA, SENSOR, TIME, VALUE
from sensorframe.pipeline import (
    REFERENCE_TABLE,
    ElsewhereOutcome,
    Pipeline,
    PipelineConfig,
    PipelineRun,
    isolated,
    stored_reference,
    too_few_readings,
    without,
)
from sensorframe.prepare import Normalizer, split
from sensorframe.quality import QualityReport, assess_quality
from sensorframe.spark._buckets import (
    Engine,
    bucket_count,
    canonical_schema,
    empty_frame,
    map_buckets,
)
from sensorframe.spark._payload import PAYLOAD, pack, unpack
from sensorframe.store import DatasetStore

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["run_pipeline"]

_TABLES = ("table", "events", "failures", "counts", "drift", "profiles", "current")
_FAILURES = pl.Schema({SENSOR: pl.String, "error": pl.String})
_COUNTS = pl.Schema({SENSOR: pl.String, "rows": pl.Int64, "rows_left_out": pl.Int64})


def _check(store: object, config: object) -> PipelineConfig:
    if not isinstance(store, DatasetStore):
        msg = f"`store` must be a DatasetStore, got {type(store).__name__}"
        raise InvalidTypeError(msg)
    cfg = PipelineConfig() if config is None else config
    if not isinstance(cfg, PipelineConfig):
        msg = f"`config` must be a PipelineConfig or None, got {type(cfg).__name__}"
        raise InvalidTypeError(msg)
    if cfg.report:
        msg = "a Spark pipeline writes no HTML report: run sensorframe.report on its output"
        raise ConfigError(msg)
    if cfg.window is not None or cfg.hours_back is not None:
        msg = (
            f"a Spark pipeline runs on all readings; got window={cfg.window}, "
            f"hours_back={cfg.hours_back} (a window starts at the newest reading of all "
            "sensors: filter df first)"
        )
        raise ConfigError(msg)
    return cfg


def _drift(
    good: pl.DataFrame,
    frame: pl.DataFrame,
    failures: dict[str, str],
    cfg: PipelineConfig,
    reference: pl.DataFrame | None,
) -> dict[str, pl.DataFrame]:
    """
    Run the drift step on one bucket: the new sensors' profiles, the known ones' report.

    As the local pipeline: sensors without a stored profile are profiled on their
    rows; the others are compared with theirs (the failed ones too, without readings).
    """
    known = pl.Series(SENSOR, [], pl.String) if reference is None else reference[SENSOR]
    out: dict[str, pl.DataFrame] = {}
    new = good.filter(~pl.col(SENSOR).is_in(known.implode()))
    if new.height:
        out["profiles"] = DriftDetector(cfg.drift).fit(new).profile_
    ids = frame[SENSOR].unique()
    if reference is not None and ids.is_in(known.implode()).any():
        profile = reference.filter(pl.col(SENSOR).is_in(ids.implode()))
        detector = DriftDetector.from_profile(profile, cfg.drift)
        current = good.filter(pl.col(SENSOR).is_in(known.implode()))
        report, _ = isolated("drift", current, failures, detector.detect)
        out["drift"] = report.table
        out["current"] = pl.DataFrame({"rows": [current.height]})
    return out


def _bucket_steps(
    frame: pl.DataFrame, cfg: PipelineConfig, staging: str, reference: pl.DataFrame | None
) -> pl.DataFrame:
    """Run the local steps on one bucket, write its rows, return its reports' tables."""
    frame = frame.select(SENSOR, TIME, VALUE)
    failures = too_few_readings(frame, cfg.min_readings)
    report = assess_quality(frame.head(0), cfg.quality)
    if "quality" in cfg.steps:
        report, _ = isolated("quality", frame, failures, lambda f: assess_quality(f, cfg.quality))
    good = without(frame, failures)
    processed = good
    if "normalize" in cfg.steps and good.height:

        def normalize(rows: pl.DataFrame) -> pl.DataFrame:
            train = split(rows, cfg.ratios).train
            return Normalizer(cfg.normalize).fit(train).transform(rows)

        processed, _ = isolated("normalize", processed, failures, normalize)
    if "features" in cfg.steps and good.height:
        processed, _ = isolated(
            "features", processed, failures, lambda f: engineer_features(f, cfg.features).collect()
        )
    drift: dict[str, pl.DataFrame] = {}
    if "drift" in cfg.steps:
        drift = _drift(without(good, failures), frame, failures, cfg, reference)
    counts = frame.group_by(SENSOR).agg(pl.len().cast(pl.Int64).alias("rows"))
    counts = counts.with_columns(rows_left_out=pl.lit(0, pl.Int64)).select(_COUNTS.names())
    name = f"part-{uuid.uuid4().hex}.parquet"
    for kind, rows in (
        ("raw", without(good, failures)),
        ("processed", without(processed, failures)),
    ):
        if rows.height:
            rows.write_parquet(f"{staging}/{kind}/{name}")
    lost = pl.DataFrame(
        {SENSOR: list(failures), "error": list(failures.values())}, schema=_FAILURES
    )
    return pack(table=report.table, events=report.events, failures=lost, counts=counts, **drift)


def run_pipeline(
    df: DataFrame,
    store: DatasetStore,
    config: PipelineConfig | None = None,
    *,
    description: str = "",
    buckets: int | None = None,
    engine: Engine = "auto",
) -> PipelineRun:
    """
    Run the pipeline's steps on Spark, recorded and committed as ``Pipeline.run`` does.

    Every step is the local pipeline's, per bucket of whole sensors: the quality report
    of every sensor, the sensors with fewer than ``config.min_readings`` finite readings
    (or whose step failed) left out, normalization fitted on each sensor's training
    split, the features of ``config.features``, and drift against the store's drift
    reference: a sensor without a stored profile is profiled on this run's readings
    (the profiles stored as the local pipeline stores them), the others compared with
    theirs, Benjamini-Hochberg over every sensor on the driver. The run is then
    recorded and committed by :meth:`sensorframe.Pipeline.record_elsewhere`: the same
    run records (``Pipeline(store).runs()``), one commit each of
    ``config.raw_dataset`` and ``config.processed_dataset`` (the processed version's
    parent the raw one), the same reports, versions and content hashes as a local
    ``Pipeline(store, config).run`` of the same readings. Time windows and the HTML
    report are not supported (filter ``df`` first; run ``sensorframe.report`` after).

    Parameters
    ----------
    df
        A Spark DataFrame with ``sensor_id``, ``timestamp`` and ``value``.
    store
        The store to commit to. The workers write the rows to commit into its staging
        folder (``<root>/_sensorframe/staging/<run_id>``): every worker must reach it
        (any local store for ``local[*]``).
    config
        Steps and settings; ``PipelineConfig()`` (every step) by default.
    description
        Stored with both versions.
    buckets, engine
        As in :func:`sensorframe.spark.flag_quality`.

    Returns
    -------
    PipelineRun
        As :meth:`sensorframe.Pipeline.run` returns it (``batches``: the buckets).

    Raises
    ------
    InvalidTypeError
        If `store` is not a DatasetStore or `config` not a PipelineConfig.
    ConfigError
        If `config` asks for a time window or a report.
    PipelineError
        If no sensor is left to commit (the run is recorded as failed).

    Examples
    --------
    >>> import sensorframe.spark as sfs
    >>> run = sfs.run_pipeline(spark_df, sf.DatasetStore("lake"))  # doctest: +SKIP
    >>> sorted(run.versions)  # doctest: +SKIP
    ['processed', 'raw']
    """
    cfg = _check(store, config)
    schema = canonical_schema(df)
    ids = sorted(str(row[0]) for row in df.select(SENSOR).distinct().collect())
    if not ids:
        msg = "no readings selected: the DataFrame has no rows"
        raise PipelineError(msg)

    def compute(folder: str) -> ElsewhereOutcome:
        for kind in ("raw", "processed"):
            Path(f"{folder}/{kind}").mkdir(parents=True, exist_ok=True)
        empty = assess_quality(empty_frame(schema), cfg.quality)
        reference = stored_reference(store) if "drift" in cfg.steps else None

        def local(rows: pl.DataFrame) -> pl.DataFrame:
            return _bucket_steps(rows, cfg, folder, reference)

        n = bucket_count(df, buckets)
        parts = unpack(map_buckets(df, local, PAYLOAD, buckets=n, engine=engine), *_TABLES)
        if not any(Path(f"{folder}/raw").iterdir()):
            msg = "every sensor failed: no sensor left to commit"
            raise PipelineError(msg)
        quality = QualityReport(
            pl.concat([empty.table, *parts["table"]]).sort(SENSOR),
            pl.concat([empty.events, *parts["events"]]).sort(SENSOR, "start", "check"),
            cfg.quality,
        )
        failures = pl.concat([empty_frame(_FAILURES), *parts["failures"]])
        drift = _drift_report(cfg, reference, parts)
        if parts["profiles"]:  # stored before the commits, as the local pipeline does
            profiles = pl.concat(parts["profiles"], how="diagonal_relaxed").sort(SENSOR)
            store.append_pipeline_records(
                REFERENCE_TABLE, profiles.with_columns(created_at=pl.lit(datetime.now(UTC)))
            )
        return ElsewhereOutcome(
            quality=quality if "quality" in cfg.steps else None,
            drift=drift,
            failures=dict(failures.sort(SENSOR).iter_rows()),
            counts=pl.concat([empty_frame(_COUNTS), *parts["counts"]]),
            batches=n,
        )

    return Pipeline(store, cfg).record_elsewhere(ids, compute, description=description)


def _drift_report(
    cfg: PipelineConfig, reference: pl.DataFrame | None, parts: dict[str, list[pl.DataFrame]]
) -> DriftReport | None:
    """
    Put the buckets' drift reports together, as one detection over every stored sensor.

    The reference sensors no bucket holds are detected here, with no readings; rows
    follow the reference's order. None when no reference sensor has readings.
    """
    if reference is None or not sum(int(c["rows"].sum()) for c in parts["current"]):
        return None
    reports = [DriftReport(table=table, config=cfg.drift) for table in parts["drift"]]
    seen = pl.concat([t.select(SENSOR) for t in parts["drift"]])[SENSOR]
    absent = reference.filter(~pl.col(SENSOR).is_in(seen.implode()))
    if absent.height:
        detector = DriftDetector.from_profile(absent, cfg.drift)
        reports.append(detector.detect(pl.DataFrame(schema=CANONICAL_SCHEMA)))
    return combine_reports(reports, order=reference[SENSOR])
