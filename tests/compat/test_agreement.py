"""
The adapters agree with the library, keep its fixes of the original's bugs, and fail typed.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import sensorframe as sf
import sensorframe.compat as compat
from sensorframe.compat import (
    DataDriftDetector,
    DataPipeline,
    DataProcessingService,
    DriftConfig,
    DVCManager,
    FeatureConfig,
    FeatureEngineer,
)
from tests.compat.conftest import recent_readings

RNG = np.random.default_rng(7)
VALUES = RNG.normal(5.0, 2.0, 300)
TIMES = pl.datetime_range(
    datetime(2026, 5, 1), datetime(2026, 5, 1) + timedelta(minutes=299), "1m", eager=True
)


def _frame(values: np.ndarray = VALUES, sensor: str = "S") -> pl.LazyFrame:
    return sf.scan(values, timestamps=TIMES[: len(values)], sensor_id=sensor)


# -- features -------------------------------------------------------------------------


def test_features_equal_engineer_features_columns() -> None:
    cfg = FeatureConfig(rolling_windows=[3, 12], lag_periods=[1, 6], fft_window=32)
    got = FeatureEngineer(config=cfg).engineer_features(VALUES, timestamps=TIMES, sensor_id="S")
    want = sf.engineer_features(_frame(), cfg.to_sensorframe()).collect()
    names = sf.feature_names(cfg.to_sensorframe())
    aliases = [*compat._features.ALIASES, *(f"fft_component_{k}" for k in (1, 2, 3))]
    assert set(got) == {*names, *aliases}
    for name in names:
        np.testing.assert_array_equal(got[name], want[name].cast(float).to_numpy(), err_msg=name)
    np.testing.assert_array_equal(got["raw"], VALUES)
    np.testing.assert_array_equal(got["ewm"], got["ewm_mean"])
    np.testing.assert_array_equal(got["fft_component_2"], got["fft_amp_2"])


def test_every_original_option_reaches_the_library_config() -> None:
    cfg = FeatureConfig(
        rolling_windows=[5],
        rolling_stats=["max"],
        lag_periods=[2],
        diff_periods=[3],
        include_differences=False,
        ewm_span=None,
        include_statistical=False,
        volatility_windows=[7],
        include_fft=False,
        fft_window=16,
        fft_components=2,
        include_time_features=False,
        include_cyclical_encoding=False,
        timezone="Europe/Paris",
    ).to_sensorframe()
    assert cfg == sf.FeatureConfig(
        rolling_windows=[5],
        rolling_stats=["max"],
        lags=[2],
        diffs=[3],
        pct_change=False,
        rate_of_change=False,
        acceleration=False,
        ewm_span=None,
        expanding=False,
        volatility_windows=[7],
        spectral=False,
        spectral_window=16,
        spectral_top_k=2,
        calendar=False,
        cyclical=False,
        timezone="Europe/Paris",
    )


def test_lags_are_not_zero_filled_and_fft_does_not_look_ahead() -> None:
    cfg = FeatureConfig(fft_window=16)
    engineer = FeatureEngineer(config=cfg)
    first = engineer.engineer_features(VALUES, sensor_id="S")
    assert np.isnan(first["lag_12"][:12]).all()
    assert not np.isnan(first["lag_12"][12:]).any()
    assert np.isnan(first["fft_component_1"][:15]).all()
    changed = VALUES.copy()
    changed[200:] += 50.0  # the future changes: features before row 200 must not
    second = engineer.engineer_features(changed, sensor_id="S")
    for name in ("fft_component_1", "spectral_energy", "rolling_24_mean", "lag_1"):
        np.testing.assert_array_equal(first[name][:200], second[name][:200], err_msg=name)
    assert not np.array_equal(first["fft_component_1"][200:], second["fft_component_1"][200:])


def test_unknown_feature_raises_instead_of_zeros() -> None:
    engineer = FeatureEngineer()
    feats = engineer.engineer_features(VALUES[:50], sensor_id="S")
    with pytest.raises(sf.UnknownFeatureError, match="'rolling_5_mean'"):
        engineer.create_feature_matrix(feats, ["raw", "rolling_5_mean"])


def test_bad_feature_config_is_a_config_error() -> None:
    with pytest.raises(sf.ConfigError, match="lags"):
        FeatureConfig(lag_periods=[0])
    with pytest.raises(sf.InvalidTypeError):
        FeatureEngineer(config=sf.FeatureConfig())  # type: ignore[arg-type]


def test_arrays_without_timestamps_get_an_hourly_index_from_1970() -> None:
    feats = FeatureEngineer().engineer_features(VALUES[:30], sensor_id="S")
    assert feats["hour"][:3].tolist() == [0.0, 1.0, 2.0]
    assert feats["day_of_month"][25] == 2.0  # 1970-01-02 01:00


# -- processing -----------------------------------------------------------------------


def test_quality_report_equals_assess_quality() -> None:
    values = VALUES.copy()
    values[[3, 40, 41]] = np.nan
    values[100] = 80.0
    got = DataProcessingService().assess_data_quality(values, timestamps=TIMES, sensor_id="S")
    want = sf.assess_quality(_frame(values))["S"]
    assert (got.missing_count, got.outlier_count, got.total_samples) == (3, 1, 300)
    assert got.missing_count == want.missing_count
    assert got.outlier_count == want.outlier_count
    assert got.status.name == want.status.name
    assert got.issues == list(want.issues)
    assert got.details == want


def test_prepared_data_equal_split_and_normalizer() -> None:
    robust = compat.NormalizationMethod.ROBUST
    prepared = DataProcessingService().prepare_training_data(
        VALUES, sensor_id="S", timestamps=TIMES, normalization_method=robust
    )
    parts = sf.split(_frame(), ratios=(0.7, 0.15, 0.15))
    norm = sf.Normalizer("robust").fit(parts.train)
    for name, part in zip(("train", "val", "test"), parts, strict=True):
        want = norm.transform(part).lazy().collect()["value"].to_numpy()
        np.testing.assert_array_equal(prepared[f"{name}_data"], want, err_msg=name)
    assert prepared["norm_params"] == {
        "method": "robust",
        "center": norm.params["center"].item(),
        "scale": norm.params["scale"].item(),
    }
    assert prepared["data_hash"] == sf.content_hash(_frame())
    assert prepared["quality_report"].status.value == "excellent"


def test_normalize_false_leaves_values() -> None:
    prepared = DataProcessingService().prepare_training_data(
        VALUES, sensor_id="S", normalize=False, assess_quality=False
    )
    np.testing.assert_array_equal(prepared["train_data"], VALUES[:210])
    assert prepared["quality_report"] is None
    with pytest.raises(sf.NotFittedError, match="'other'"):
        DataProcessingService().load_normalizer("other")


# -- drift ----------------------------------------------------------------------------


def test_drift_report_equals_detect_drift() -> None:
    cfg = DriftConfig(psi_threshold=0.2, jensen_shannon_threshold=0.1, mean_shift_threshold=2.0)
    assert cfg.to_sensorframe().mean_shift_thresholds == (0.4, 2.0, 4.0, 8.0)
    detector = DataDriftDetector(config=cfg).fit_reference(VALUES[:150], sensor_id="S")
    got = detector.detect_drift(VALUES[150:] * 1.5, sensor_id="S")
    ref = sf.scan(VALUES[:150], timestamps=compat._common.regular_index(150), sensor_id="S")
    cur = sf.scan(VALUES[150:] * 1.5, timestamps=compat._common.regular_index(150), sensor_id="S")
    want = sf.detect_drift(ref, cur, cfg.to_sensorframe())["S"]
    assert got.statistical_tests == want.statistical_tests
    assert got.metrics == want.metrics
    assert got.severity is not None
    assert got.severity.name == want.severity.name
    assert got.drift_detected == want.drift_detected


def test_drift_report_is_the_librarys_record_plus_details() -> None:
    detector = DataDriftDetector().fit_reference(VALUES[:150], sensor_id="S")
    got = detector.detect_drift(VALUES[150:], sensor_id="S")
    assert isinstance(got, sf.drift.SensorDrift)
    assert got.details is not None
    for field in fields(got.details):
        assert getattr(got, field.name) == getattr(got.details, field.name)
    assert repr(got).startswith("DriftReport('S', ")


def test_severity_does_not_flag_a_negligible_shift_at_large_n() -> None:
    """The original's mean(1 - p) severity flagged nearly every sensor at large n."""
    rng = np.random.default_rng(3)
    detector = DataDriftDetector().fit_reference(rng.normal(0, 1, 50_000), sensor_id="S")
    report = detector.detect_drift(rng.normal(0.02, 1, 50_000), sensor_id="S")
    assert report.severity is not None
    assert report.severity <= compat.DriftSeverity.LOW


def test_drift_without_reference_or_enough_data_says_so() -> None:
    detector = DataDriftDetector()
    with pytest.raises(sf.UnknownSensorError, match="'S'"):
        detector.detect_drift(VALUES, sensor_id="S")
    detector.fit_reference(VALUES, sensor_id="S")
    report = detector.detect_drift(VALUES[:5], sensor_id="S")
    assert report.status == "insufficient_data"
    assert report.severity is None
    assert report.drift_detected is None
    with pytest.raises(sf.ConfigError, match="psi_threshold"):
        DriftConfig(psi_threshold=-1.0)


def test_levels_are_ordered_lowercase_enums() -> None:
    sev, status = compat.DriftSeverity, compat.DataQualityStatus
    assert [s.value for s in sev] == ["none", "low", "moderate", "high", "critical"]
    assert sev.MODERATE > sev.LOW
    assert sev.CRITICAL >= "high"
    assert sorted([status.POOR, status.EXCELLENT, status.FAIR]) == [
        status.EXCELLENT,
        status.FAIR,
        status.POOR,
    ]


# -- versions -------------------------------------------------------------------------


def test_versions_are_delta_commits(tmp_path: Path) -> None:
    dvc = DVCManager(repo_root=tmp_path)
    csv = tmp_path / "readings.csv"
    rows = {"sensor_id": ["a", "b"], "timestamp": ["2026-01-01"] * 2, "value": [1.0, 2.0]}
    pl.DataFrame(rows).write_csv(csv)
    first = dvc.version_dataset(csv, dataset_id="site", tags=["raw"])
    parquet = tmp_path / "readings.parquet"
    pl.read_csv(csv).write_parquet(parquet)
    second = dvc.version_dataset(parquet, dataset_id="site", sensor_ids=["b"])
    store = sf.DatasetStore(tmp_path / "data" / ".sensorframe")
    assert (first.version, second.version) == ("v1", "v2")
    assert store.version("site", 1).data_hash == second.data_hash
    assert second.sensor_ids == ["b"]
    assert second.parent_version == "v1"
    assert second.file_size == parquet.stat().st_size
    assert dvc.get_dataset_version("site", "v1").tags == ["raw"]
    assert dvc.load_dataset("site", "v1").collect().height == 2
    assert store.lineage("site", 1).rows() == [("site", 1, "site", 0, 1)]


def test_bad_versions_and_files_are_typed_errors(tmp_path: Path) -> None:
    dvc = DVCManager(repo_root=tmp_path)
    npy = tmp_path / "x.npy"
    np.save(npy, np.arange(3.0))
    with pytest.raises(sf.SourceError, match="exactly one id"):
        dvc.version_dataset(npy, dataset_id="x")
    with pytest.raises(sf.SourceError, match="no such file"):
        dvc.version_dataset(tmp_path / "missing.npy", dataset_id="x", sensor_ids=["x"])
    dvc.version_dataset(npy, dataset_id="x", sensor_ids=["x"])
    for label in ("v0", "2", "latest"):
        with pytest.raises(sf.InvalidParameterError, match=repr(label)):
            dvc.get_dataset_version("x", label)
    with pytest.raises(sf.VersionNotFoundError):
        dvc.get_dataset_version("x", "v9")


# -- pipeline -------------------------------------------------------------------------


def test_pipeline_window_counts_back_from_now(tmp_path: Path) -> None:
    old = sf.datasets.synthetic(n_sensors=1, n_points=200, faults=()).frame  # January 2026
    frame = pl.concat([recent_readings(["new"]), old.select(recent_readings(["x"]).columns)])
    pipe = DataPipeline(data_source=frame, store_root=tmp_path / "lake")
    results = pipe.run_batch_pipeline(["new", "S000"], hours_back=24)
    assert results["new"]["success"] is True
    assert results["new"]["rows_left_out"] == 400 - 48
    assert results["S000"]["success"] is False
    assert results["S000"]["rows_left_out"] == 200
    assert results["S000"]["error"]
    everything = pipe.run_full_pipeline("S000", hours_back=None, detect_drift=False)
    assert everything["success"] is True
    assert everything["rows_left_out"] == 0


def test_pipeline_reads_the_telemanom_layout(tmp_path: Path) -> None:
    root = tmp_path / "nasa"
    for part in ("train", "test"):
        (root / part).mkdir(parents=True)
        np.save(root / part / "P-1.npy", RNG.normal(size=(150, 3)))
    (root / "labeled_anomalies.csv").write_text(
        'chan_id,spacecraft,anomaly_sequences,class,num_values\nP-1,SMAP,"[[1, 2]]",[point],150\n'
    )
    pipe = DataPipeline(data_source=root, store_root=tmp_path / "lake")
    results = pipe.run_full_pipeline("P-1", hours_back=None, engineer_features=False)
    assert results["success"] is True
    assert results["quality_report"].total_samples == 300
    stored = pipe.store.read("raw").collect()
    assert stored.height == 300
    assert stored["timestamp"].min() == datetime(2026, 1, 1, tzinfo=UTC)


def test_compat_names_stay_out_of_the_top_level() -> None:
    shared = {"DriftSeverity"}  # the library's own enum, with the original's values
    for name in set(compat.__all__) - shared:
        assert getattr(sf, name, None) is not getattr(compat, name), name
    for name in shared:
        assert getattr(sf, name) is getattr(compat, name), name
    assert compat.DataQualityStatus is sf.QualityStatus
    assert sf.FeatureConfig is not compat.FeatureConfig


def test_pipeline_refuses_a_bad_window(tmp_path: Path) -> None:
    pipe = DataPipeline(data_source=recent_readings(["a"]), store_root=tmp_path / "lake")
    cases = [("7d", sf.InvalidTypeError)]
    cases += [(bad, sf.InvalidParameterError) for bad in (-1, float("nan"), 1e12)]
    for bad, error in cases:
        with pytest.raises(error, match="hours_back"):
            pipe.run_full_pipeline("a", hours_back=bad)
    by_timedelta = pipe.run_full_pipeline("a", hours_back=timedelta(hours=24), detect_drift=False)
    assert by_timedelta["rows_left_out"] == 400 - 48
