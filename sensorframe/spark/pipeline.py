"""
A pipeline run on Spark that commits through the :class:`~sensorframe.DatasetStore`.

Workers run the local steps (quality, normalize, features, drift) on their buckets of
whole sensors and write the raw and processed rows as Parquet to a staging folder; the
driver then puts the drift reports together (Benjamini-Hochberg over every sensor),
stores the new sensors' drift profiles, commits each dataset once, with its lineage,
through the store's own commit (hash, metadata, one Delta transaction), and removes
the staging folder. A run that fails before the commits leaves no version.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from sensorframe.drift import DriftDetector, DriftReport, combine_reports
from sensorframe.errors import ConfigError, InvalidTypeError, PipelineError, SensorFrameError
from sensorframe.features import engineer_features
from sensorframe.frame import CANONICAL_SCHEMA, SENSOR, TIME, VALUE
from sensorframe.pipeline import PipelineConfig, isolated, too_few_readings, without
from sensorframe.pipeline.runner import REFERENCE_TABLE
from sensorframe.prepare import Normalizer, split
from sensorframe.quality import QualityReport, assess_quality
from sensorframe.spark._buckets import Engine, canonical_schema, empty_frame, map_buckets
from sensorframe.spark._payload import PAYLOAD, pack, unpack
from sensorframe.store import DatasetStore, DatasetVersion

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["SparkRun", "run_pipeline"]

_TABLES = ("table", "events", "failures", "drift", "profiles", "current")
_FAILURES = pl.Schema({SENSOR: pl.String, "error": pl.String})


@dataclass(frozen=True, kw_only=True, slots=True)
class SparkRun:
    """
    What :func:`run_pipeline` did.

    Attributes
    ----------
    quality
        The quality report of every sensor (None without the quality step).
    failures
        Sensors left out of the versions, with the step and error (``sensor_id``,
        ``error``), as the local pipeline records them.
    versions
        The committed versions by dataset name (empty without the version step).
    drift
        The drift report of the sensors with a stored reference profile, as the local
        pipeline's (None without the drift step, or when no sensor has a profile yet).
    """

    quality: QualityReport | None
    failures: pl.DataFrame
    versions: dict[str, DatasetVersion]
    drift: DriftReport | None = None


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


def _stored_profiles(store: DatasetStore) -> pl.DataFrame | None:
    """
    Return the newest stored drift profile of every sensor, or None without any.

    The reference the local pipeline keeps in ``REFERENCE_TABLE``, read as it reads it.
    """
    try:
        records = store.records(REFERENCE_TABLE).collect()
    except SensorFrameError:
        return None
    if records.height == 0:
        return None
    latest = records.sort("created_at").group_by(SENSOR, maintain_order=True).last()
    return latest.drop("created_at")


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
    return pack(table=report.table, events=report.events, failures=lost, **drift)


def run_pipeline(
    df: DataFrame,
    store: DatasetStore,
    config: PipelineConfig | None = None,
    *,
    description: str = "",
    staging: str | None = None,
    buckets: int | None = None,
    engine: Engine = "auto",
) -> SparkRun:
    """
    Run the quality, normalize, features and drift steps on Spark and commit the versions.

    Every step is the local pipeline's, per bucket of whole sensors: the quality report
    of every sensor, the sensors with fewer than ``config.min_readings`` finite readings
    (or whose step failed) left out, normalization fitted on each sensor's training
    split, the features of ``config.features``, and drift against the store's drift
    reference: a sensor without a stored profile is profiled on this run's readings
    (the profiles stored as the local pipeline stores them), the others compared with
    theirs, Benjamini-Hochberg over every sensor on the driver. The raw rows and the
    processed rows are committed to ``config.raw_dataset`` and
    ``config.processed_dataset`` (one commit each, the processed version's parent the
    raw one), so ``store.read(...)`` holds what a local ``Pipeline(store, config).run``
    commits, and its quality and drift reports equal the local run's. Time windows
    are not supported (filter ``df`` first); no run records are written yet.

    Parameters
    ----------
    df
        A Spark DataFrame with ``sensor_id``, ``timestamp`` and ``value``.
    store
        The store to commit to.
    config
        Steps and settings; ``PipelineConfig()`` (every step) by default.
    description
        Stored with both versions.
    staging
        A folder every worker can write and the driver read, for the rows between the
        steps and the commit; a temporary folder by default (fine for ``local[*]``).
        Removed after the commits.
    buckets, engine
        As in :func:`sensorframe.spark.flag_quality`.

    Returns
    -------
    SparkRun

    Raises
    ------
    InvalidTypeError
        If `store` is not a DatasetStore or `config` not a PipelineConfig.
    ConfigError
        If `config` asks for a time window or a report.
    PipelineError
        If no sensor is left to commit.

    Examples
    --------
    >>> import sensorframe.spark as sfs
    >>> run = sfs.run_pipeline(spark_df, sf.DatasetStore("lake"))  # doctest: +SKIP
    >>> sorted(run.versions)  # doctest: +SKIP
    ['processed', 'raw']
    """
    cfg = _check(store, config)
    canonical_schema(df)
    folder = staging or tempfile.mkdtemp(prefix="sensorframe-spark-")
    run = f"{folder.rstrip('/')}/{uuid.uuid4().hex}"
    try:
        for kind in ("raw", "processed"):
            Path(f"{run}/{kind}").mkdir(parents=True)
        empty = assess_quality(empty_frame(canonical_schema(df)), cfg.quality)
        reference = _stored_profiles(store) if "drift" in cfg.steps else None

        def local(rows: pl.DataFrame) -> pl.DataFrame:
            return _bucket_steps(rows, cfg, run, reference)

        parts = unpack(map_buckets(df, local, PAYLOAD, buckets=buckets, engine=engine), *_TABLES)
        quality = QualityReport(
            pl.concat([empty.table, *parts["table"]]).sort(SENSOR),
            pl.concat([empty.events, *parts["events"]]).sort(SENSOR, "start", "check"),
            cfg.quality,
        )
        failures = pl.concat([empty_frame(_FAILURES), *parts["failures"]]).sort(SENSOR)
        drift = _drift_report(cfg, reference, parts)
        if parts["profiles"]:  # stored before the commits, as the local pipeline does
            profiles = pl.concat(parts["profiles"], how="diagonal_relaxed").sort(SENSOR)
            store.append_pipeline_records(
                REFERENCE_TABLE, profiles.with_columns(created_at=pl.lit(datetime.now(UTC)))
            )
        versions = _commit(store, cfg, run, description) if "version" in cfg.steps else {}
    finally:
        shutil.rmtree(run, ignore_errors=True)
        if staging is None:
            shutil.rmtree(folder, ignore_errors=True)
    return SparkRun(
        quality=quality if "quality" in cfg.steps else None,
        failures=failures,
        versions=versions,
        drift=drift,
    )


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


def _commit(
    store: DatasetStore, cfg: PipelineConfig, run: str, description: str
) -> dict[str, DatasetVersion]:
    if not any(Path(f"{run}/raw").iterdir()):
        msg = "no sensor left to commit: every sensor failed or the input has no rows"
        raise PipelineError(msg)
    raw = store.commit(
        cfg.raw_dataset,
        pl.scan_parquet(f"{run}/raw/*.parquet"),
        description=description or "pipeline input (Spark)",
    )
    processed = store.commit(
        cfg.processed_dataset,
        pl.scan_parquet(f"{run}/processed/*.parquet"),
        description=description or f"{cfg.normalize} normalized features (Spark)",
        parents=[raw],
    )
    return {cfg.raw_dataset: raw, cfg.processed_dataset: processed}
