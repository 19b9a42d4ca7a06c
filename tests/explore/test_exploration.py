"""explore_features: what it selects, and that it selects nothing when nothing is there."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import scipy.stats as ss

import sensorframe as sf
from sensorframe.errors import InvalidParameterError, InvalidTypeError, UnknownFeatureError
from sensorframe.explore import explore_features, make_target
from sensorframe.explore.exploration import family
from sensorframe.features import FeatureConfig, engineer_features, feature_names

CONFIG = FeatureConfig(
    rolling_windows=[6, 24], rolling_stats=["mean", "std"], lags=[1, 3], ewm_span=12
)


def _ar1(rng: np.random.Generator, shape: tuple[int, int], phi: float) -> np.ndarray:
    """AR(1) series along axis 1 (one row per sensor), started stationary."""
    noise = rng.normal(size=shape)
    out = np.empty(shape)
    out[:, 0] = noise[:, 0] / np.sqrt(1 - phi * phi)
    for i in range(1, shape[1]):
        out[:, i] = phi * out[:, i - 1] + noise[:, i]
    return out


def _frame(values: np.ndarray) -> pl.DataFrame:
    sensors, points = values.shape
    start = np.datetime64("2026-01-01T00:00", "us")
    return pl.DataFrame(
        {
            "sensor_id": np.repeat([f"S{i}" for i in range(sensors)], points),
            "timestamp": np.tile(start + np.arange(points) * np.timedelta64(60, "s"), sensors),
            "value": values.ravel(),
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


def _target(frame: pl.DataFrame, y: np.ndarray) -> pl.DataFrame:
    """A target frame whose span is the minute after each row."""
    return frame.select(
        "sensor_id",
        "timestamp",
        pl.Series("target", y.ravel()),
        (pl.col("timestamp") + pl.duration(minutes=1)).alias("target_end"),
    )


def test_a_target_made_from_one_family_selects_that_family() -> None:
    rng = np.random.default_rng(0)
    sigma = np.repeat(rng.choice([0.5, 1.0, 4.0], size=(4, 12)), 50, axis=1)  # volatility regimes
    frame = _frame(50 + sigma * rng.normal(size=sigma.shape))
    cfg = FeatureConfig(rolling_windows=[6, 24], rolling_stats=["mean", "std"], lags=[1, 3])
    feats = engineer_features(frame, cfg).collect()
    y = feats["rolling_24_std"].to_numpy() * np.exp(0.1 * rng.normal(size=feats.height))
    result = explore_features(frame, cfg, target=_target(feats, y))
    assert result.selected
    assert {family(n) for n in result.selected} == {"rolling_std"}
    assert "rolling_24_std" in result.selected
    relevant = result.table.filter("relevant")["family"].unique().to_list()
    assert set(relevant) == {"rolling_std"}
    assert result.config is not None
    assert "rolling_24_std" in feature_names(result.config)
    assert "relevant at FDR 0.05 (BY)" in repr(result)


@pytest.mark.parametrize("method", ["by", "bh"])
def test_a_shuffled_target_selects_nothing_at_the_fdr(method: str) -> None:
    # 40 seeds: under the global null, any selection at all happens in <= fdr of runs
    # (BH and BY control the family-wise error then); 6 of 40 has probability < 0.003
    # at a true rate of 0.05, so the floor fails only if the test is miscalibrated.
    runs = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        frame = _frame(np.cumsum(rng.normal(size=(3, 200)), axis=1))
        target = make_target(frame, horizon=3, kind="mean").collect()
        shuffled = target.with_columns(pl.col("target").shuffle(seed=seed))
        result = explore_features(frame, CONFIG, target=shuffled, method=method)  # type: ignore[arg-type]
        runs.append(len(result.selected) > 0)
    assert sum(runs) <= 6


def test_an_autocorrelated_unrelated_target_selects_nothing_where_naive_tests_do() -> None:
    # Slow features and a slow target, independent of each other: a test counting every
    # row as independent calls the features relevant in most runs; blocks do not.
    ours, naive = [], []
    for seed in range(40):
        rng = np.random.default_rng(100 + seed)
        frame = _frame(_ar1(rng, (3, 200), 0.97))
        target = _target(frame, _ar1(rng, (3, 200), 0.97))
        result = explore_features(frame, CONFIG, target=target)
        ours.append(len(result.selected) > 0)
        x, y = sf.feature_matrix(engineer_features(frame, CONFIG), target=target, drop_nulls=True)
        p = [ss.spearmanr(x[:, j], y).pvalue for j in range(x.shape[1])]
        naive.append(bool((ss.false_discovery_control(p, method="by") < 0.05).any()))
    assert sum(naive) >= 20
    assert sum(ours) <= 6


def test_without_target_redundant_and_constant_features_are_left_out() -> None:
    rng = np.random.default_rng(2)
    frame = _frame(np.cumsum(rng.normal(size=(2, 300)), axis=1))
    cfg = FeatureConfig(
        rolling_windows=[3], rolling_stats=["mean", "median"], lags=[1], calendar=True
    )
    result = explore_features(frame, cfg)
    table = result.table
    assert table["feature"].to_list() == feature_names(cfg)
    assert set(table.columns) >= {"null_share", "most_correlated", "max_abs_correlation"}
    assert "p_value" not in table.columns
    assert "month" not in result.selected  # constant over five hours
    assert "hour" in result.selected
    # rolling mean and median of 3 rows of a random walk are near-duplicates: one is kept
    assert not {"rolling_3_mean", "rolling_3_median"} <= set(result.selected)
    assert table.filter(pl.col("feature") == "lag_1")["null_share"].item() == pytest.approx(1 / 300)
    assert result.families.columns[:2] == ["family", "features"]
    assert "no target" in repr(result)


def test_large_data_is_sampled_and_says_so() -> None:
    rng = np.random.default_rng(4)
    frame = _frame(rng.normal(size=(6, 50)))
    result = explore_features(frame, FeatureConfig(lags=[1]), sample_sensors=2)
    assert (result.sensors, result.sensors_total, result.rows) == (2, 6, 100)
    assert result.sampled
    assert "2 of 6 sensors (sampled)" in repr(result)
    assert not explore_features(frame, FeatureConfig(lags=[1])).sampled


def test_bad_arguments_are_typed_errors() -> None:
    frame = _frame(np.zeros((1, 10)))
    cfg = FeatureConfig(lags=[1])
    with pytest.raises(InvalidParameterError, match="fdr"):
        explore_features(frame, cfg, fdr=1.5)
    with pytest.raises(InvalidParameterError, match="method"):
        explore_features(frame, cfg, method="holm")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="sample_sensors"):
        explore_features(frame, cfg, sample_sensors=0)
    with pytest.raises(InvalidParameterError, match="make_target"):
        explore_features(frame, cfg, target="value")
    with pytest.raises(UnknownFeatureError, match="power"):
        explore_features(frame, cfg, target="power")
    with pytest.raises(InvalidTypeError, match="target"):
        explore_features(frame, cfg, target=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="FeatureConfig"):
        explore_features(frame, {"lags": [1]})  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="no feature"):
        explore_features(frame, FeatureConfig())


def test_an_empty_frame_is_refused() -> None:
    with pytest.raises(sf.EmptyFrameError, match="no rows"):
        explore_features(_frame(np.zeros((1, 0))), FeatureConfig(lags=[1]))
