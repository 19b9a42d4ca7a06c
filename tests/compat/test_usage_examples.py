"""
The original design's five usage examples, verbatim apart from the imports.

Each runs in a temporary working directory. The inputs the original took from its
surroundings (``sensor_data``, ``timestamps``, a file to version, earlier versions
v1 and v2, readings in the pipeline's data source) are made first; the DVC remote is
a local folder instead of ``s3://my-bucket/dvc-storage``. After each example, checks
that what it printed is what the library computes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import sensorframe as sf
from sensorframe.compat import (
    DataDriftDetector,
    DataPipeline,
    DataProcessingService,
    DriftConfig,
    DVCManager,
    FeatureConfig,
    FeatureEngineer,
    NormalizationMethod,
)

RNG = np.random.default_rng(14)
sensor_data = RNG.normal(10.0, 1.0, 500)
raw_data = sensor_data.copy()
timestamps = [datetime(2026, 3, 1, tzinfo=UTC) + i * timedelta(minutes=10) for i in range(500)]


def test_data_processing_service(workdir: Path) -> None:
    # Initialize service
    processor = DataProcessingService(
        cache_dir="data/processing_cache", default_normalization=NormalizationMethod.ZSCORE
    )

    # Assess data quality
    quality_report = processor.assess_data_quality(
        data=sensor_data, timestamps=timestamps, sensor_id="SENSOR_001"
    )
    print(f"Quality: {quality_report.status.value}")
    print(f"Issues: {quality_report.issues}")

    # Prepare training data
    prepared = processor.prepare_training_data(
        data=raw_data,
        sensor_id="SENSOR_001",
        split_ratio=(0.7, 0.15, 0.15),
        normalize=True,
        assess_quality=True,
    )

    train_data = prepared["train_data"]
    val_data = prepared["val_data"]
    test_data = prepared["test_data"]
    norm_params = prepared["norm_params"]
    data_hash = prepared["data_hash"]

    assert quality_report.status.value == "excellent"
    assert (len(train_data), len(val_data), len(test_data)) == (350, 75, 75)
    assert norm_params["center"] == pytest.approx(raw_data[:350].mean())
    assert abs(train_data.mean()) < 1e-12
    assert len(data_hash) == 64
    assert (workdir / "data/processing_cache/SENSOR_001_normalization.json").is_file()
    assert processor.load_normalizer("SENSOR_001").params.equals(prepared["normalizer"].params)


def test_feature_engineer() -> None:
    # Configure feature engineering
    config = FeatureConfig(
        rolling_windows=[3, 6, 12, 24],
        lag_periods=[1, 2, 3, 6, 12],
        include_fft=True,
        include_time_features=True,
        include_cyclical_encoding=True,
    )

    # Initialize engineer
    engineer = FeatureEngineer(config=config)

    # Engineer features
    features = engineer.engineer_features(
        data=sensor_data, timestamps=timestamps, sensor_id="SENSOR_001"
    )

    # Features is a dictionary with keys like:
    # 'raw', 'rolling_6_mean', 'lag_12', 'diff_1', 'ewm', 'fft_component_1', etc.

    # Create feature matrix
    feature_matrix = engineer.create_feature_matrix(
        features, selected_features=["raw", "rolling_12_mean", "lag_6", "diff_1"]
    )
    # Shape: (n_samples, n_features)

    assert {"raw", "rolling_6_mean", "lag_12", "diff_1", "ewm", "fft_component_1"} <= set(features)
    assert len(features) >= 40
    assert feature_matrix.shape == (500, 4)
    np.testing.assert_array_equal(feature_matrix[:, 0], sensor_data)


def _versions_before(dvc: DVCManager, path: Path) -> None:
    """Versions v1 and v2, which the example's later calls refer to."""
    for k in range(2):
        np.save(path, RNG.normal(size=100 + k))
        dvc.version_dataset(file_path=path, dataset_id="SENSOR_001", sensor_ids=["SENSOR_001"])


def test_dvc_manager(workdir: Path) -> None:
    processed = workdir / "data/processed/SENSOR_001_processed.npy"
    processed.parent.mkdir(parents=True)
    remote = str(workdir / "dvc-storage")
    _versions_before(DVCManager(repo_root=".", data_dir="data", dvc_remote=remote), processed)
    np.save(processed, sensor_data)

    # Initialize DVC manager
    dvc = DVCManager(repo_root=".", data_dir="data", dvc_remote=remote)

    # Initialize DVC (first time only)
    dvc.initialize_dvc()

    # Version a dataset
    dataset_version = dvc.version_dataset(
        file_path="data/processed/SENSOR_001_processed.npy",
        dataset_id="SENSOR_001",
        description="Processed sensor data with normalization",
        tags=["normalized", "stable"],
        sensor_ids=["SENSOR_001"],
        push_to_remote=True,
    )

    print(f"Versioned as: {dataset_version.version}")
    print(f"Data hash: {dataset_version.data_hash}")

    # Get latest version
    latest = dvc.get_dataset_version("SENSOR_001")

    # Get specific version
    v2 = dvc.get_dataset_version("SENSOR_001", version="v2")

    # Get lineage
    lineage = dvc.get_dataset_lineage("SENSOR_001", "v3")

    # Link dataset to model
    dvc.link_dataset_to_model(
        dataset_id="SENSOR_001",
        dataset_version="v3",
        model_id="telemanom_SENSOR_001",
        model_version="v1.2",
    )

    assert dataset_version.version == latest.version == "v3"
    assert latest.tags == ["normalized", "stable"]
    assert v2.num_samples == 101
    assert [v.version for v in lineage] == ["v3", "v2", "v1"]
    store = sf.DatasetStore(remote)
    assert store.versions("SENSOR_001")["version"].to_list() == [0, 1, 2]
    frame = sf.scan(sensor_data, timestamps=_index(500), sensor_id="SENSOR_001")
    assert (
        dataset_version.data_hash == sf.content_hash(frame) == store.latest("SENSOR_001").data_hash
    )
    linked = store.model_datasets("telemanom_SENSOR_001")
    assert linked.select("dataset", "version").rows() == [("SENSOR_001", 2)]


def _index(n: int) -> pl.Series:
    start = datetime(1970, 1, 1, tzinfo=UTC)
    return pl.Series([start + i * timedelta(hours=1) for i in range(n)])


def test_data_drift_detector() -> None:
    baseline_data, baseline_timestamps = sensor_data[:250], timestamps[:250]
    new_data, new_timestamps = sensor_data[250:] + 1.5, timestamps[250:]

    # Configure drift detection
    config = DriftConfig(psi_threshold=0.2, jensen_shannon_threshold=0.1, mean_shift_threshold=2.0)

    # Initialize detector
    detector = DataDriftDetector(config=config)

    # Fit reference distribution (baseline)
    detector.fit_reference(
        data=baseline_data, sensor_id="SENSOR_001", timestamps=baseline_timestamps
    )

    # Detect drift on new data
    drift_report = detector.detect_drift(
        current_data=new_data, sensor_id="SENSOR_001", current_timestamps=new_timestamps
    )

    print(f"Drift detected: {drift_report.drift_detected}")
    print(f"Severity: {drift_report.severity.value}")
    print(f"Drift score: {drift_report.drift_score:.3f}")
    print(f"Recommendations: {drift_report.recommendations}")

    # Statistical tests
    print(f"KS test p-value: {drift_report.statistical_tests['ks_test']['p_value']}")
    print(f"PSI: {drift_report.metrics['psi']:.3f}")

    ref = sf.scan(baseline_data, timestamps=baseline_timestamps, sensor_id="SENSOR_001")
    cur = sf.scan(new_data, timestamps=new_timestamps, sensor_id="SENSOR_001")
    expected = sf.detect_drift(ref, cur, config.to_sensorframe())["SENSOR_001"]
    assert drift_report.drift_detected is True
    assert drift_report.severity.value == expected.severity.name.lower() == "critical"
    assert drift_report.statistical_tests == expected.statistical_tests
    assert drift_report.metrics["psi"] == expected.metrics["psi"]


def test_data_pipeline(workdir: Path) -> None:
    # Initialize pipeline
    pipeline = DataPipeline()

    # Run full pipeline for a sensor
    results = pipeline.run_full_pipeline(
        sensor_id="SENSOR_001",
        hours_back=168,  # 7 days
        normalize=True,
        normalization_method=NormalizationMethod.ZSCORE,
        engineer_features=True,
        feature_config=FeatureConfig(rolling_windows=[6, 12, 24]),
        detect_drift=True,
        version_dataset=True,
        save_processed=True,
    )

    print(f"Success: {results['success']}")
    print(f"Quality: {results['quality_report'].status.value}")
    print(f"Drift detected: {results.get('drift_detected')}")
    print(f"Dataset version: {results.get('dataset_version')}")
    print(f"Output file: {results.get('output_file')}")

    # Prepare training data
    training_data = pipeline.prepare_training_data(
        sensor_id="SENSOR_001", split_ratio=(0.7, 0.15, 0.15), normalize=True, assess_quality=True
    )

    train_data = training_data["train_data"]
    val_data = training_data["val_data"]
    test_data = training_data["test_data"]

    # Batch processing
    sensor_ids = ["SENSOR_001", "SENSOR_002", "SENSOR_003"]
    batch_results = pipeline.run_batch_pipeline(
        sensor_ids=sensor_ids, hours_back=168, normalize=True
    )

    assert results["success"] is True
    assert results.get("drift_detected") is None  # the first run keeps the reference
    assert results["rows_left_out"] == 64  # of 400 readings, one every 30 minutes
    output = pl.read_parquet(results["output_file"])
    assert output.height == 336
    assert "rolling_24_mean" in output.columns
    assert "lag_1" in output.columns
    assert (len(train_data), len(val_data), len(test_data)) == (280, 60, 60)
    assert all(batch_results[s]["success"] for s in sensor_ids)
    assert batch_results["SENSOR_001"]["dataset_version"] == "v2"
    assert batch_results["SENSOR_001"]["drift_detected"] is False
    assert pipeline.get_latest_successful_run("SENSOR_002") is batch_results["SENSOR_002"]


def test_issue_snippet(workdir: Path) -> None:
    """The code of issue 14's "verbatim" section, with its elided arguments filled in."""
    values, baseline, new = sensor_data, sensor_data[:250], sensor_data[250:] + 3.0
    np.save(workdir / "data/x.npy", values)
    processor = DataProcessingService(
        cache_dir="cache", default_normalization=NormalizationMethod.ZSCORE
    )
    quality_report = processor.assess_data_quality(
        data=values, timestamps=timestamps, sensor_id="SENSOR_001"
    )
    prepared = processor.prepare_training_data(
        data=values,
        sensor_id="SENSOR_001",
        split_ratio=(0.7, 0.15, 0.15),
        normalize=True,
        assess_quality=True,
    )
    prepared["train_data"], prepared["norm_params"], prepared["data_hash"]
    features = FeatureEngineer(
        config=FeatureConfig(
            rolling_windows=[3, 6, 12, 24],
            lag_periods=[1, 2, 3, 6, 12],
            include_fft=True,
            include_time_features=True,
            include_cyclical_encoding=True,
        )
    ).engineer_features(data=values, timestamps=timestamps, sensor_id="SENSOR_001")
    dvc = DVCManager(repo_root=".", data_dir="data")
    for _ in range(3):
        v = dvc.version_dataset(
            file_path="data/x.npy",
            dataset_id="SENSOR_001",
            description="...",
            tags=["stable"],
            sensor_ids=["SENSOR_001"],
        )
    dvc.get_dataset_version("SENSOR_001", version="v2")
    dvc.get_dataset_lineage("SENSOR_001", "v3")
    dvc.link_dataset_to_model(
        dataset_id="SENSOR_001", dataset_version="v3", model_id="m", model_version="1"
    )
    detector = DataDriftDetector(
        config=DriftConfig(
            psi_threshold=0.2, jensen_shannon_threshold=0.1, mean_shift_threshold=2.0
        )
    )
    detector.fit_reference(data=baseline, sensor_id="SENSOR_001")
    report = detector.detect_drift(current_data=new, sensor_id="SENSOR_001")
    results = DataPipeline().run_full_pipeline(
        sensor_id="P-1",
        hours_back=168,
        normalize=True,
        engineer_features=True,
        detect_drift=True,
        version_dataset=True,
    )

    assert quality_report.status.value == "excellent"
    assert {"raw", "rolling_6_mean", "lag_12", "diff_1", "ewm", "fft_component_1"} <= set(features)
    assert v.version == "v3"
    assert v.tags == ["stable"]
    assert report.severity.value not in ["none", "low"]
    assert 0 <= report.statistical_tests["ks_test"]["p_value"] < 1e-6
    assert report.metrics["psi"] > 1
    assert results["success"]
    assert (workdir / "cache/SENSOR_001_normalization.json").is_file()
    assert (workdir / "data/.sensorframe/SENSOR_001/_delta_log").is_dir()
