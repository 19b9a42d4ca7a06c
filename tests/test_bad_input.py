"""
Bad input to quality, preparation, features and drift (issue 13), one case per test.

Each case gets a typed error (a ``SensorFrameError`` subclass naming what is at fault)
or a correct result; none may take unbounded memory or leave a NaN behind silently.
"""

from __future__ import annotations

import json
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import sensorframe as sf
from sensorframe.errors import (
    ConfigError,
    InvalidParameterError,
    InvalidTypeError,
    SensorSchemaError,
    SourceError,
    ZeroScaleWarning,
)
from sensorframe.features import FeatureConfig, engineer_features, feature_matrix, spectral_summary
from sensorframe.features.config import MAX_DURATION, MAX_ROWS, MAX_SPECTRAL_WINDOW, MAX_TOP_K
from tests.conftest import T0

_FEW = {
    "rolling_windows": [],
    "lags": [1],
    "diffs": [],
    "volatility_windows": [],
    "ewm_span": None,
    "expanding": False,
    "spectral": False,
    "calendar": False,
    "cyclical": False,
}


def _frame(values: list[float], sensor: str = "a") -> pl.DataFrame:
    n = len(values)
    times = [T0 + timedelta(minutes=i) for i in range(n)]
    return pl.DataFrame({"sensor_id": [sensor] * n, "timestamp": times, "value": values})


@pytest.fixture
def frame() -> pl.DataFrame:
    return _frame(np.sin(np.arange(40.0)).tolist())


# -- unbounded parameters ----------------------------------------------------------------


def test_spectral_summary_top_k_is_bounded(frame: pl.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match=rf"`top_k`.*{MAX_TOP_K}.*1000000000"):
        spectral_summary(frame, top_k=10**9)
    out = spectral_summary(frame, top_k=MAX_TOP_K)  # more ranks than bins: null, not an error
    assert out["fft_freq_1"].null_count() == 0
    assert out[f"fft_freq_{MAX_TOP_K}"].null_count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("spectral_window", 65536),
        ("spectral_window", MAX_SPECTRAL_WINDOW + 1),
        ("spectral_top_k", MAX_TOP_K + 1),
        ("spectral_step", MAX_ROWS + 1),
        ("rolling_windows", [10**20]),
        ("rolling_windows", ["99999999999999999999d"]),
        ("rolling_windows", ["36526d"]),
        ("lags", [10**20]),
        ("diffs", [MAX_ROWS + 1]),
        ("volatility_windows", [10**20]),
        ("ewm_span", 1e300),
        ("ewm_span", float("inf")),
        ("ewm_span", float("nan")),
        ("min_samples", 10**20),
    ],
)
def test_feature_config_bounds(field: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=field.removesuffix("s").removeprefix("rolling_")):
        FeatureConfig(**{field: value})


@pytest.mark.parametrize("pair", [(1e308, 5e-324), (1e308, -1e308), (1e200, -1e200)])
def test_spectral_features_of_huge_readings(pair: tuple[float, float]) -> None:
    # The power |X_k|^2 of readings beyond ~1e154 overflows; frequencies and amplitudes
    # must still be right (energy may be inf: its true value exceeds float64).
    high, low = pair
    frame = _frame([high, low] * 4)
    summary = spectral_summary(frame, top_k=1).row(0, named=True)
    assert summary["fft_freq_1"] == 0.5  # the Nyquist bin: |X| / W = (high - low) / 2
    assert summary["fft_amp_1"] == pytest.approx(high / 2 - low / 2, rel=1e-12)
    assert summary["spectral_entropy"] == 0.0
    cfg = FeatureConfig(**{**_FEW, "spectral": True}, spectral_window=4, spectral_top_k=1)
    out = engineer_features(frame, cfg).collect()
    assert out["fft_freq_1"].drop_nulls().to_list() == [0.5] * 5
    assert out["fft_amp_1"].drop_nulls().to_list() == pytest.approx([high / 2 - low / 2] * 5)


def test_largest_allowed_values_work(frame: pl.DataFrame) -> None:
    days = MAX_DURATION.days
    cfg = FeatureConfig(
        **{**_FEW, "rolling_windows": [MAX_ROWS, f"{days}d"], "lags": [MAX_ROWS]},
        rolling_stats=["mean"],
    )
    out = engineer_features(frame, cfg).collect()
    assert out[f"rolling_{MAX_ROWS}_mean"].null_count() == frame.height
    assert out[f"rolling_{days}d_mean"].null_count() == frame.height  # history is shorter
    assert out[f"lag_{MAX_ROWS}"].null_count() == frame.height


def test_wide_spectral_window_runs_in_bounded_batches(frame: pl.DataFrame) -> None:
    from sensorframe.features.spectral import spectral_window_features

    x = np.sin(2 * np.pi * np.arange(MAX_SPECTRAL_WINDOW + 2) / 8)
    out = spectral_window_features(x, np.arange(x.size), window=MAX_SPECTRAL_WINDOW, top_k=1)
    assert out["fft_freq_1"][-3:].tolist() == [0.125] * 3


@pytest.mark.parametrize(
    "make",
    [
        lambda: sf.features.rolling_stat("value", window=10**20, stat="mean"),
        lambda: sf.features.rolling_stat("value", window="99999999999999999999d", stat="mean"),
        lambda: sf.features.rolling_stat("value", window=3, stat="mean", min_samples=10**20),
        lambda: sf.features.lag("value", n=10**20),
        lambda: sf.features.diff("value", n=10**20),
        lambda: sf.features.ewm_mean("value", span=float("inf")),
        lambda: sf.features.spectral_features("value", top_k=10**9),
        lambda: sf.features.spectral_features("value", window=10**6),
        lambda: sf.quality.flatline("value", ignore=None),  # type: ignore[arg-type]
        lambda: sf.quality.flatline_run_length("value", ignore=5),  # type: ignore[arg-type]
        lambda: sf.features.spectral.spectral_window_features(
            np.zeros(8), np.arange(8), window=4, chunk_rows=-1
        ),
        lambda: sf.features.spectral.spectral_window_features(
            np.zeros(8), np.arange(8), window=4, threads=0
        ),
    ],
)
def test_expression_parameters_are_bounded(make: Any) -> None:
    with pytest.raises(InvalidParameterError):
        make()


def test_drift_bins_and_batches_are_bounded() -> None:
    with pytest.raises(ConfigError, match="n_bins"):
        sf.DriftConfig(n_bins=10**7)
    with pytest.raises(ConfigError, match="batch_cells"):
        sf.DriftConfig(batch_cells=10**20)
    with pytest.raises(ConfigError, match="min_readings"):
        sf.DriftConfig(min_readings=10**20)


def test_quality_lengths_are_bounded() -> None:
    with pytest.raises(ConfigError, match="flatline_min_length"):
        sf.QualityConfig(flatline_min_length=10**20)
    with pytest.raises(ConfigError, match="expected_interval"):
        sf.QualityConfig(expected_interval=timedelta.max)


# -- one-line cases ------------------------------------------------------------------------


def test_split_at_numbers(frame: pl.DataFrame) -> None:
    with pytest.raises(InvalidTypeError, match=r"`at`.*int"):
        sf.split(frame, at=(1, 2))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="ratios"):
        sf.split(frame, None, at=("2026-01-01", "2026-01-02"))  # type: ignore[arg-type]


def test_an_empty_dict_is_not_the_default_config(frame: pl.DataFrame) -> None:
    with pytest.raises(InvalidTypeError, match="DriftConfig"):
        sf.detect_drift(frame, frame, {})  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="QualityConfig"):
        sf.assess_quality(frame, {})  # type: ignore[arg-type]


def test_dict_for_a_config(frame: pl.DataFrame) -> None:
    with pytest.raises(InvalidTypeError, match=r"FeatureConfig\(\*\*"):
        engineer_features(frame, {"lags": [1]})  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match=r"QualityConfig\(\*\*"):
        sf.assess_quality(frame, {"outlier_z": 3})  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="QualityConfig"):
        sf.flag_quality(frame, {"outlier_z": 3})  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="DriftConfig"):
        sf.detect_drift(frame, frame, {"alpha": 0.1})  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="QualityConfig"):
        sf.prepare_training_data(frame, quality_config={"outlier_z": 3})  # type: ignore[arg-type]


def test_feature_matrix_duplicate_names(frame: pl.DataFrame) -> None:
    feats = engineer_features(frame, FeatureConfig(**_FEW))
    with pytest.raises(InvalidParameterError, match=r"'lag_1'.*twice"):
        feature_matrix(feats, ["lag_1", "lag_1"])
    with pytest.raises(InvalidTypeError, match="select"):
        feature_matrix(feats, [1])  # type: ignore[list-item]
    with pytest.raises(InvalidTypeError, match="dtype"):
        feature_matrix(feats, ["lag_1"], dtype="no such dtype")
    with pytest.raises(InvalidTypeError, match="dtype"):
        feature_matrix(feats, ["lag_1"], dtype=str)


def _garbage_files(tmp: Path) -> dict[str, Path]:
    frame = _frame([1.0, 2.0, 3.0])
    good = tmp / "good.parquet"
    sf.DriftDetector().fit(frame).save(good)
    data = good.read_bytes()
    files = {
        "random": np.random.default_rng(0).bytes(300),
        "truncated": data[: len(data) // 2],
        "truncated_json": b'{"format": "sensorframe',
        "wrong_json": json.dumps({"format": [1, 2]}).encode(),
        "empty": b"",
    }
    out = {name: tmp / name for name in files}
    for name, content in files.items():
        out[name].write_bytes(content)
    other = tmp / "other.parquet"
    frame.write_parquet(other)  # a Parquet file, not a profile
    bad_meta = tmp / "bad_meta.parquet"
    pl.read_parquet(good).write_parquet(
        bad_meta, metadata={"sensorframe.drift.config": '{"n_bins": [1, 2'}
    )
    wrong_meta = tmp / "wrong_meta.parquet"
    pl.read_parquet(good).write_parquet(
        wrong_meta, metadata={"sensorframe.drift.config": '{"bins": 3}'}
    )
    no_column = tmp / "no_column.parquet"
    pl.read_parquet(good).drop("n_rows").write_parquet(no_column)
    wrong_type = tmp / "wrong_type.parquet"
    pl.read_parquet(good).with_columns(pl.lit("x").alias("values")).write_parquet(wrong_type)
    return {
        **out,
        "parquet": other,
        "bad_meta": bad_meta,
        "wrong_meta": wrong_meta,
        "no_column": no_column,
        "wrong_type": wrong_type,
        "missing": tmp / "missing.parquet",
        "directory": tmp,
    }


def test_drift_detector_load_garbage(tmp_path: Path) -> None:
    for name, path in _garbage_files(tmp_path).items():
        with pytest.raises(SourceError, match=str(path.name)) as info:
            sf.DriftDetector.load(path)
        assert "\n" not in str(info.value), name


def test_normalizer_load_garbage(tmp_path: Path) -> None:
    for path in _garbage_files(tmp_path).values():
        with pytest.raises(SourceError, match=str(path.name)):
            sf.Normalizer.load(path)


def test_detect_drift_target_must_differ_from_the_readings(frame: pl.DataFrame) -> None:
    # the target is compared with the readings (concept drift is their correlation):
    # the readings themselves would give a correlation of 1 and a copy of covariate shift
    with pytest.raises(InvalidParameterError, match="'value'"):
        sf.detect_drift(frame, frame, target="value")
    with pytest.raises(InvalidParameterError, match="'value'"):
        sf.DriftDetector().fit(frame, target="value")
    with pytest.raises(InvalidTypeError, match="target"):
        sf.detect_drift(frame, frame, target=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'timestamp'"):
        sf.detect_drift(frame, frame, target="timestamp")


# -- values near the float64 limit ---------------------------------------------------------

_HUGE = [
    pytest.param([1e308, -1e308, 0.0], id="spread-1e308"),
    pytest.param([1e308, 1e308, 1e308], id="sum-overflows"),
    pytest.param([1e200, 1.0000001e200, 1e200], id="squares-overflow"),
]


def _result_or_refusal(call: Any, sensor: str = "a") -> Any:
    """The result of `call`, or None if it refused the sensor's huge readings."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZeroScaleWarning)  # a constant sensor
            return call()
    except SensorSchemaError as exc:
        message = str(exc)
    assert f"'{sensor}'" in message
    assert "'ok'" not in message
    assert "overflows float64" in message
    return None


@pytest.mark.parametrize("values", _HUGE)
@pytest.mark.parametrize("method", ["zscore", "minmax", "robust"])
def test_normalizer_never_gives_nan_scales(values: list[float], method: str) -> None:
    frame = pl.concat([_frame(values), _frame([1.0, 2.0, 4.0], "ok")])
    norm = _result_or_refusal(lambda: sf.Normalizer(method).fit(frame))  # type: ignore[arg-type]
    if norm is None:
        return
    params = norm.params_
    assert params["center"].is_finite().all()
    assert (params["scale"].is_finite() & (params["scale"] > 0)).all()
    out = norm.transform(frame)["value"]
    assert not out.is_nan().any()


@pytest.mark.parametrize("values", _HUGE)
def test_quality_z_scores_never_nan(values: list[float]) -> None:
    frame = pl.concat([_frame(values * 4), _frame([1.0, 2.0, 4.0] * 4, "ok")])
    report = _result_or_refusal(lambda: sf.assess_quality(frame))
    if report is None:
        return
    table = report.table
    for column, dtype in table.schema.items():
        if dtype == pl.Float64:
            assert not table[column].is_nan().any(), column


@pytest.mark.parametrize("values", _HUGE)
def test_flag_quality_never_silently_unflagged(values: list[float]) -> None:
    flags = _result_or_refusal(lambda: sf.flag_quality(_frame(values * 4)).collect())
    if flags is not None:
        assert flags["flag_outlier"].null_count() == 0


@pytest.mark.parametrize("values", _HUGE)
def test_drift_statistics_never_nan(values: list[float]) -> None:
    rng = np.random.default_rng(3)
    ref = _frame((np.array(values * 10) * rng.uniform(0.5, 1, 30)).tolist())
    cur = _frame((np.array(values * 10) * rng.uniform(0.5, 1, 30)).tolist())
    report = _result_or_refusal(lambda: sf.detect_drift(ref, cur, sf.DriftConfig(min_readings=5)))
    if report is None:
        return
    row = report.table.row(0, named=True)
    assert row["status"] in ("ok", "constant")
    for name in ("mean_shift", "std_ratio", "drift_score"):
        assert row[name] is not None
        assert not np.isnan(row[name]), name


def test_drift_detector_of_no_sensors_loads_back(tmp_path: Path) -> None:
    empty = _frame([])
    path = tmp_path / "ref.parquet"
    sf.DriftDetector(sf.DriftConfig(n_bins=5)).fit(empty).save(path)
    det = sf.DriftDetector.load(path)
    assert det.config_.n_bins == 5
    assert det.detect(_frame([1.0])).table["status"].to_list() == ["no_reference"]


def test_loads_and_saves_take_paths_only() -> None:
    # open(1) would read or write the process's standard output
    norm = sf.Normalizer().fit(_frame([1.0, 2.0]))
    det = sf.DriftDetector().fit(_frame([1.0, 2.0]))
    for call in (
        lambda: sf.Normalizer.load(1),  # type: ignore[arg-type]
        lambda: sf.DriftDetector.load(True),  # type: ignore[arg-type]
        lambda: norm.save(1),  # type: ignore[arg-type]
        lambda: det.save(None),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidTypeError, match="`path` must be a file path"):
            call()


def test_overflow_is_caught_where_polars_reports_a_zero_std() -> None:
    # Polars' std over sorted groups gives 0.0 for [1e308, -1e308] (squares overflow):
    # the sensor would pass for constant. Ties on the timestamp keep the rows in place.
    values = [None, None, None, None, 1e308, None, -1e308]
    frame = _frame([0.0] * 7).with_columns(
        timestamp=pl.lit(T0), value=pl.Series(values, dtype=pl.Float64)
    )
    with pytest.raises(SensorSchemaError, match=r"'a'.*overflows float64"):
        sf.assess_quality(frame)
    with pytest.raises(SensorSchemaError, match=r"'a'.*overflows float64"):
        sf.flag_quality(frame).collect()


@pytest.mark.parametrize("shuffle", [False, True])
def test_wide_spans_are_refused_whatever_the_row_order(shuffle: bool) -> None:
    # drift reads sorted frames in NumPy and others with a Polars group-by: same rule
    ref = pl.concat([_frame([0.0, 1e151] * 15), _frame([1.0, 2.0] * 15, "ok")])
    if shuffle:
        ref = ref.sample(fraction=1.0, shuffle=True, seed=1)
    with pytest.raises(SensorSchemaError, match=r"'a'.*more than 1e\+150"):
        sf.detect_drift(ref, ref)
    with pytest.raises(SensorSchemaError, match=r"'a'"):
        sf.Normalizer().fit(ref)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_sensors": 10**6, "n_points": 10**6}, ConfigError, "readings"),
        ({"n_sensors": 2, "n_points": 10**20}, ConfigError, "readings"),
        ({"n_sensors": 2.5}, InvalidTypeError, "n_sensors"),
        ({"n_points": "1000"}, InvalidTypeError, "n_points"),
        ({"seed": "x"}, InvalidTypeError, "seed"),
        ({"seed": -1}, ConfigError, "seed"),
        ({"start": 5}, InvalidTypeError, "start"),
        ({"freq": 5}, InvalidTypeError, "freq"),
        ({"freq": "1000000000d", "faults": ()}, ConfigError, "9999"),
        ({"shift_size": float("nan")}, ConfigError, "shift_size"),
        ({"shift_size": "big"}, InvalidTypeError, "shift_size"),
        ({"fault_fraction": "half"}, InvalidTypeError, "fault_fraction"),
        ({"faults": 5}, InvalidTypeError, "faults"),
    ],
)
def test_synthetic_parameters(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        sf.datasets.synthetic(**kwargs)


def test_load_telemanom_root_must_be_a_path() -> None:
    with pytest.raises(InvalidTypeError, match="root"):
        sf.datasets.load_telemanom(5)  # type: ignore[arg-type]
