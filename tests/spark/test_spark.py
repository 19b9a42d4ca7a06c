"""sensorframe.spark equals the local library: flags, quality, features and drift."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import sensorframe as sf
import sensorframe.spark as sfs
from sensorframe.spark._arrow import polars_frame, spark_table

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)
ENGINES = ["arrow", "pandas"]
KEYS = ["sensor_id", "timestamp"]


def to_spark(spark: Any, frame: pl.DataFrame) -> Any:
    return spark.createDataFrame(spark_table(frame))


def to_local(df: Any, schema: pl.Schema) -> pl.DataFrame:
    return polars_frame(df.toArrow(), schema).sort(*KEYS, "value", maintain_order=True)


@pytest.fixture(scope="module")
def readings() -> pl.DataFrame:
    """
    Seven sensors with injected faults (duplicate times too), one sensor all missing.

    In (sensor, time, value) order: Spark keeps no row order, so the Spark functions
    take each sensor's rows in that order, and the local reference gets them so too.
    """
    data = sf.datasets.synthetic(n_sensors=7, n_points=400, seed=3).frame
    dead = pl.when(pl.col("sensor_id") == "S006").then(None).otherwise(pl.col("value"))
    data = data.with_columns(value=dead)
    assert data.select(pl.struct(KEYS).is_duplicated().any()).item()
    return data.sort(*KEYS, "value", maintain_order=True)


@pytest.fixture(scope="module")
def spark_readings(spark: Any, readings: pl.DataFrame) -> Any:
    # shuffled, so the Spark functions must restore the order themselves
    return to_spark(spark, readings.sample(fraction=1.0, shuffle=True, seed=1)).cache()


def test_flag_quality_equals_local(spark_readings: Any, readings: pl.DataFrame) -> None:
    expected = sf.flag_quality(readings).collect()
    got = to_local(sfs.flag_quality(spark_readings, buckets=3), expected.schema)
    assert got["flag_duplicate"].sum() > 0
    assert_frame_equal(got, expected)


def test_quality_report_equals_local(spark_readings: Any, readings: pl.DataFrame) -> None:
    cfg = sf.QualityConfig(outlier_z=2.5)
    expected = sf.assess_quality(readings, cfg)
    got = sfs.quality(spark_readings, cfg, buckets=3)
    assert got.table.height == 7
    assert got.events.height > 0
    assert_frame_equal(got.table, expected.table)
    assert_frame_equal(got.events, expected.events)
    assert got.config == cfg


@pytest.mark.parametrize("engine", ENGINES)
def test_features_equal_local(spark_readings: Any, readings: pl.DataFrame, engine: str) -> None:
    cfg = sf.FeatureConfig.default()
    expected = sf.engineer_features(readings, cfg).collect()
    got = sfs.features(spark_readings, cfg, buckets=3, engine=engine)
    assert got.columns == expected.columns
    assert_frame_equal(to_local(got, expected.schema), expected)


def test_features_by_name_and_one_bucket(spark_readings: Any, readings: pl.DataFrame) -> None:
    names = ["rolling_6_std", "lag_2", "fft_amp_1"]
    expected = sf.engineer_features(readings, features=names).collect()
    got = sfs.features(spark_readings, names=names, buckets=1)
    assert_frame_equal(to_local(got, expected.schema), expected)


@pytest.mark.parametrize(("engine", "target"), [("arrow", "y"), ("pandas", None)])
def test_drift_equals_local(
    spark: Any, readings: pl.DataFrame, engine: str, target: str | None
) -> None:
    # S000 only in the reference, S001 only in the current window, two sensors shifted;
    # the target y: S003's shifted (prior shift), S005's relation to the value flipped
    noise = pl.Series(np.random.default_rng(4).normal(size=readings.height))
    both = readings.with_columns(y=pl.col("value") + noise)
    ref = both.filter(pl.col("sensor_id") != "S001")
    cur = both.filter(pl.col("sensor_id") != "S000")
    shift = pl.when(pl.col("sensor_id").is_in(["S002", "S004"])).then(pl.col("value") + 3.0)
    y = pl.col("y")
    cur = cur.with_columns(
        value=shift.otherwise(pl.col("value")),
        y=pl.when(pl.col("sensor_id") == "S003")
        .then(y + 3.0)
        .when(pl.col("sensor_id") == "S005")
        .then(-y)
        .otherwise(y),
        timestamp=pl.col("timestamp") + timedelta(days=30),
    )
    if target is None:
        ref, cur = ref.drop("y"), cur.drop("y")
    expected = sf.detect_drift(ref, cur, target=target)
    got = sfs.drift(
        to_spark(spark, ref), to_spark(spark, cur), target=target, buckets=3, engine=engine
    )
    assert set(expected.drifted) >= {"S002", "S004"}
    if target is not None:
        assert "prior_shift" in expected["S003"].drift_types
        assert "concept_drift" in expected["S005"].drift_types
    assert got.target == target
    assert_frame_equal(got.table, expected.table, check_exact=True)
    assert got.drifted == expected.drifted


def test_empty_input_gives_empty_results(spark: Any, readings: pl.DataFrame) -> None:
    empty = to_spark(spark, readings.head(0))
    assert sfs.quality(empty).table.height == 0
    assert sfs.features(empty, sf.FeatureConfig(lags=[1])).count() == 0


def test_typed_errors(spark: Any, spark_readings: Any) -> None:
    no_sensor = spark_readings.drop("sensor_id")
    with pytest.raises(sf.SensorSchemaError, match="sensor_id"):
        sfs.flag_quality(no_sensor)
    with pytest.raises(sf.SensorSchemaError, match="sensor_id"):
        sfs.drift(spark_readings, no_sensor)
    with pytest.raises(sf.InvalidTypeError, match="Spark DataFrame"):
        sfs.quality(pl.DataFrame({"sensor_id": ["a"]}))  # type: ignore[arg-type]
    with pytest.raises(sf.InvalidParameterError, match="engine"):
        sfs.features(spark_readings, sf.FeatureConfig(lags=[1]), engine="rust")  # type: ignore[arg-type]
    with pytest.raises(sf.InvalidParameterError, match="buckets"):
        sfs.features(spark_readings, sf.FeatureConfig(lags=[1]), buckets=0)
    with pytest.raises(sf.ConfigError):
        sfs.features(spark_readings, sf.FeatureConfig())
    text_values = spark_readings.withColumn("value", spark_readings["sensor_id"])
    with pytest.raises(sf.SensorSchemaError, match="value"):
        sfs.quality(text_values.limit(0).withColumn("value", text_values["timestamp"]))
    assert np.isfinite(1.0)


def _shifted(readings: pl.DataFrame) -> pl.DataFrame:
    """A later window: S000 gone, a new sensor NEW, S002 and S004 shifted by 3."""
    shift = pl.when(pl.col("sensor_id").is_in(["S002", "S004"])).then(pl.col("value") + 3.0)
    later = readings.filter(pl.col("sensor_id") != "S000").with_columns(
        value=shift.otherwise(pl.col("value")),
        timestamp=pl.col("timestamp") + timedelta(days=30),
    )
    new = readings.filter(pl.col("sensor_id") == "S001").with_columns(sensor_id=pl.lit("NEW"))
    return pl.concat([later, new]).sort(*KEYS, "value", maintain_order=True)


def test_pipeline_runs_equal_local(
    spark: Any, spark_readings: Any, readings: pl.DataFrame, tmp_path: Any
) -> None:
    """
    Two runs of every step on one store each: the first profiles every sensor, the
    second (a later window) detects drift against the stored profiles; quality, drift,
    the stored profiles, the versions and their hashes equal the local pipeline's.
    """
    features = sf.FeatureConfig(rolling_windows=[6], rolling_stats=["mean", "std"], lags=[1])
    cfg = sf.PipelineConfig(features=features)
    stores = {k: sf.DatasetStore(str(tmp_path / k)) for k in ("local", "spark")}
    later = _shifted(readings)
    for n, (frame, spark_frame) in enumerate(
        [(readings, spark_readings), (later, to_spark(spark, later.sample(fraction=1.0, seed=2)))]
    ):
        local = sf.Pipeline(stores["local"], cfg).run(frame, progress=False)
        run = sfs.run_pipeline(spark_frame, stores["spark"], cfg)
        failed = run.sensors.filter(status="failed")
        assert failed["sensor_id"].to_list() == ["S006"]  # all missing: too few readings
        assert_frame_equal(run.sensors, local.sensors, check_exact=True)
        assert local.quality is not None
        assert run.quality is not None
        assert_frame_equal(run.quality.table, local.quality.table, check_exact=True)
        for name in ("raw", "processed"):
            assert stores["spark"].versions(name).height == n + 1  # one commit each per run
            expected = stores["local"].read(name).collect().sort(pl.all())
            got = stores["spark"].read(name).collect().sort(pl.all())
            assert_frame_equal(got, expected, check_exact=True)
            assert run.versions[name].data_hash == local.versions[name].data_hash
        profiles = [
            s.records("drift_reference").collect().drop("created_at").sort("sensor_id")
            for s in (stores["spark"], stores["local"])
        ]
        assert_frame_equal(*profiles, check_exact=True)
        if n == 0:  # every sensor new: profiled, nothing to compare
            assert local.drift is None
            assert run.drift is None
            continue
        assert local.drift is not None
        assert run.drift is not None
        assert {"S002", "S004"} <= set(local.drift.drifted)
        assert "NEW" in profiles[0]["sensor_id"].to_list()
        assert local.drift.table.filter(sensor_id="S000")["status"].to_list() == ["all_missing"]
        assert_frame_equal(run.drift.table, local.drift.table, check_exact=True)
    # the same run records, but for the run, the time and the process
    own = ["run_id", "at", "host", "pid", "process"]
    records = [sf.Pipeline(stores[k]).runs().drop(own).sort(pl.all()) for k in ("spark", "local")]
    assert records[0]["event"].unique().sort().to_list() == ["commit", "finish", "start"]
    assert_frame_equal(*records, check_exact=True)
    assert not (tmp_path / "spark" / "_sensorframe" / "staging").exists() or not list(
        (tmp_path / "spark" / "_sensorframe" / "staging").iterdir()
    )
    edges = stores["spark"].lineage("processed", 1).select("parent_dataset", "parent_version")
    assert edges.rows() == [("raw", 1)]
    # the Spark read of a version sees the rows the local read of it sees
    back = sfs.read_dataset(spark, stores["spark"], "processed", version=1)
    expected = stores["spark"].read("processed", version=1).collect()
    every = expected.columns  # repeated (sensor, time, value) rows: order by all columns
    assert_frame_equal(to_local(back, expected.schema).sort(every), expected.sort(every))
    with pytest.raises(sf.ConfigError, match="window"):
        sfs.run_pipeline(spark_readings, stores["spark"], replace(cfg, hours_back=24.0))


def test_spark_run_is_a_deprecated_name_of_pipeline_run() -> None:
    import sensorframe.spark as sfs

    with pytest.warns(DeprecationWarning, match="PipelineRun"):
        assert sfs.SparkRun is sf.PipelineRun
