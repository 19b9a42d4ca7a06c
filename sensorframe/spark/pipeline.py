"""
A pipeline run on Spark that commits through the :class:`~sensorframe.DatasetStore`.

Workers run the local steps (quality, normalize, features) on their buckets of whole
sensors and write the raw and processed rows as Parquet to a staging folder; the
driver then commits each dataset once, with its lineage, through the store's own
commit (hash, metadata, one Delta transaction), and removes the staging folder. A run
that fails before the commits leaves no version.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from sensorframe.errors import ConfigError, InvalidTypeError, PipelineError
from sensorframe.features import engineer_features
from sensorframe.frame import SENSOR, TIME, VALUE
from sensorframe.pipeline import PipelineConfig, Step, isolated, too_few_readings, without
from sensorframe.prepare import Normalizer, split
from sensorframe.quality import QualityReport, assess_quality
from sensorframe.spark._buckets import Engine, canonical_schema, empty_frame, map_buckets
from sensorframe.spark._payload import PAYLOAD, pack, unpack
from sensorframe.store import DatasetStore, DatasetVersion

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["SparkRun", "run_pipeline"]

_SUPPORTED: tuple[Step, ...] = ("quality", "normalize", "features", "version")
_TABLES = ("table", "events", "failures")
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
    """

    quality: QualityReport | None
    failures: pl.DataFrame
    versions: dict[str, DatasetVersion]


def _check(store: object, config: object) -> PipelineConfig:
    if not isinstance(store, DatasetStore):
        msg = f"`store` must be a DatasetStore, got {type(store).__name__}"
        raise InvalidTypeError(msg)
    cfg = PipelineConfig() if config is None else config
    if not isinstance(cfg, PipelineConfig):
        msg = f"`config` must be a PipelineConfig or None, got {type(cfg).__name__}"
        raise InvalidTypeError(msg)
    unsupported = [s for s in cfg.steps if s not in _SUPPORTED]
    if unsupported or cfg.window is not None or cfg.hours_back is not None:
        msg = (
            f"a Spark pipeline runs the steps {_SUPPORTED} on all readings; got steps "
            f"{cfg.steps}, window={cfg.window}, hours_back={cfg.hours_back} (drift and "
            "windows run on the driver: use sensorframe.spark.drift, or filter df first)"
        )
        raise ConfigError(msg)
    return cfg


def _bucket_steps(frame: pl.DataFrame, cfg: PipelineConfig, staging: str) -> pl.DataFrame:
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
    return pack(table=report.table, events=report.events, failures=lost)


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
    Run the quality, normalize and features steps on Spark and commit the versions.

    Every step is the local pipeline's, per bucket of whole sensors: the quality report
    of every sensor, the sensors with fewer than ``config.min_readings`` finite readings
    (or whose step failed) left out, normalization fitted on each sensor's training
    split, the features of ``config.features``. The raw rows and the processed rows
    are committed to ``config.raw_dataset`` and ``config.processed_dataset`` (one
    commit each, the processed version's parent the raw one), so
    ``store.read(...)`` holds what a local ``Pipeline(store, config).run`` commits.
    The drift step and time windows are not run here (see :func:`drift`); no run
    records are written.

    Parameters
    ----------
    df
        A Spark DataFrame with ``sensor_id``, ``timestamp`` and ``value``.
    store
        The store to commit to.
    config
        Steps and settings; ``PipelineConfig(steps=("quality", "normalize",
        "features", "version"))`` is what runs by default.
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
        If `config` asks for the drift step or a time window.
    PipelineError
        If no sensor is left to commit.

    Examples
    --------
    >>> import sensorframe.spark as sfs
    >>> cfg = sf.PipelineConfig(steps=("quality", "normalize", "features", "version"))
    >>> run = sfs.run_pipeline(spark_df, sf.DatasetStore("lake"), cfg)  # doctest: +SKIP
    >>> sorted(run.versions)  # doctest: +SKIP
    ['processed', 'raw']
    """
    if config is None:
        config = PipelineConfig(steps=_SUPPORTED)
    cfg = _check(store, config)
    canonical_schema(df)
    folder = staging or tempfile.mkdtemp(prefix="sensorframe-spark-")
    run = f"{folder.rstrip('/')}/{uuid.uuid4().hex}"
    try:
        for kind in ("raw", "processed"):
            Path(f"{run}/{kind}").mkdir(parents=True)
        empty = assess_quality(empty_frame(canonical_schema(df)), cfg.quality)

        def local(rows: pl.DataFrame) -> pl.DataFrame:
            return _bucket_steps(rows, cfg, run)

        parts = unpack(map_buckets(df, local, PAYLOAD, buckets=buckets, engine=engine), *_TABLES)
        quality = QualityReport(
            pl.concat([empty.table, *parts["table"]]).sort(SENSOR),
            pl.concat([empty.events, *parts["events"]]).sort(SENSOR, "start", "check"),
            cfg.quality,
        )
        failures = pl.concat([empty_frame(_FAILURES), *parts["failures"]]).sort(SENSOR)
        versions = _commit(store, cfg, run, description) if "version" in cfg.steps else {}
    finally:
        shutil.rmtree(run, ignore_errors=True)
        if staging is None:
            shutil.rmtree(folder, ignore_errors=True)
    return SparkRun(
        quality=quality if "quality" in cfg.steps else None,
        failures=failures,
        versions=versions,
    )


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
