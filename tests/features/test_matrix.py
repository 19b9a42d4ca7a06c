from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import sensorframe as sf
from sensorframe.errors import InvalidParameterError, UnknownFeatureError
from sensorframe.explore import make_target
from sensorframe.features import FeatureConfig, engineer_features, feature_matrix, feature_names
from sensorframe.features.matrix import feature_window


@pytest.fixture(scope="module")
def feats() -> pl.LazyFrame:
    data = sf.datasets.synthetic(n_sensors=2, n_points=60, seed=4, faults=()).frame
    return engineer_features(data, FeatureConfig.default(spectral_window=8))


def test_default_selects_every_feature(feats: pl.LazyFrame) -> None:
    x = feature_matrix(feats)
    frame = feats.collect()
    assert x.shape == (frame.height, len(feature_names(FeatureConfig.default())))
    assert x.dtype == np.float64
    lag = frame["lag_1"].to_numpy()
    col = feature_names(FeatureConfig.default()).index("lag_1")
    np.testing.assert_array_equal(x[:, col], lag)  # nulls became NaN, order kept


def test_select_order_and_value(feats: pl.LazyFrame) -> None:
    x = feature_matrix(feats, ["lag_6", "value", "is_weekend"])
    frame = feats.collect()
    np.testing.assert_array_equal(x[:, 0], frame["lag_6"].to_numpy())
    np.testing.assert_array_equal(x[:, 1], frame["value"].to_numpy())
    np.testing.assert_array_equal(x[:, 2], frame["is_weekend"].cast(pl.Float64).to_numpy())
    assert feature_matrix(feats.collect(), "lag_1").shape == (frame.height, 1)


def test_unknown_feature_lists_available(feats: pl.LazyFrame) -> None:
    with pytest.raises(UnknownFeatureError, match="rolling_99_mean") as info:
        feature_matrix(feats, ["value", "rolling_99_mean"])
    assert "rolling_12_mean" in str(info.value)
    assert isinstance(info.value, KeyError)


def test_drop_nulls_and_dtype(feats: pl.LazyFrame) -> None:
    x = feature_matrix(feats, ["rolling_12_mean", "lag_12"], drop_nulls=True, dtype=np.float32)
    frame = feats.collect().drop_nulls(["rolling_12_mean", "lag_12"])
    assert x.dtype == np.float32
    assert x.shape == (frame.height, 2)
    assert not np.isnan(x).any()
    with pytest.raises(InvalidParameterError, match="drop_nulls"):
        feature_matrix(feats, ["lag_1"], dtype=np.int64)
    ints = feature_matrix(feats, ["hour", "month"], dtype=np.int64)
    assert ints.dtype == np.int64


def test_non_numeric_and_empty_selection() -> None:
    frame = pl.DataFrame({"sensor_id": ["a"], "timestamp": [1], "value": [1.0], "note": ["x"]})
    with pytest.raises(InvalidParameterError, match="note"):
        feature_matrix(frame, ["note"])
    assert feature_matrix(frame, []).shape == (1, 0)


# --------------------------------------------------------------- target alignment
def _r2(x: np.ndarray, y: np.ndarray) -> float:
    design = np.column_stack([x, np.ones(len(y))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return float(1 - resid.var() / y.var())


def _noise_frame(n: int = 3_000, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-01-01T00:00", "us")
    return pl.DataFrame(
        {
            "sensor_id": np.repeat(["a", "b"], n),
            "timestamp": np.tile(start + np.arange(n) * np.timedelta64(60, "s"), 2),
            "value": rng.normal(size=2 * n),
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


def test_the_leak_of_rolling_mean_at_t_is_reproduced_then_dropped() -> None:
    # White noise: nothing at t predicts a later reading, so any fit is a leak.
    frame = _noise_frame()
    feats = engineer_features(frame, FeatureConfig(rolling_windows=[3], rolling_stats=["mean"]))
    # unfixed alignment: the feature at t next to the value at t, which its window holds
    naive = feats.collect().drop_nulls()
    assert _r2(naive["rolling_3_mean"].to_numpy(), naive["value"].to_numpy()) > 0.3
    # aligned: those rows overlap the target's span, all of them are dropped
    x, y = feature_matrix(feats, ["rolling_3_mean"], target="value")
    assert x.shape == (0, 1)
    assert y.shape == (0,)
    # a leak-free target (the next reading) keeps every row and the fit is honest
    target = make_target(frame, horizon=1)
    x, y = feature_matrix(feats, ["rolling_3_mean"], target=target, drop_nulls=True)
    assert x.shape[0] == naive.height - 2  # the last row of each sensor has nothing ahead
    assert _r2(x[:, 0], y) < 0.01


def test_overlap_rule_matches_a_row_by_row_reference() -> None:
    frame = _noise_frame(n=40)
    names = ["rolling_3_mean", "rolling_2m_max", "lag_2", "diff_1", "hour", "ewm_mean"]
    feats = engineer_features(frame, features=names).collect()
    # a centred target: the mean over (t - 3 min, t + 1 min], it reaches into the past
    t = pl.col("timestamp")
    target = feats.select(
        "sensor_id",
        "timestamp",
        pl.col("value").alias("target"),
        (t - pl.duration(minutes=3)).alias("target_start"),
        (t + pl.duration(minutes=1)).alias("target_end"),
    )
    for select in (["lag_2"], ["hour"], ["diff_1", "hour"], ["rolling_2m_max"], names):
        x, _ = feature_matrix(feats, select, target=target)
        kept = 0
        for sid in ("a", "b"):
            times = feats.filter(pl.col("sensor_id") == sid)["timestamp"].to_list()
            for i, ti in enumerate(times):
                s, e = ti - np.timedelta64(3, "m"), ti + np.timedelta64(1, "m")
                read: list[object] = []  # times of the readings the selection reads at row i
                for name in select:
                    w = feature_window(name)
                    if w[0] == "rows":
                        read += [times[j] for j in range(max(0, i - w[1]), i - w[2] + 1)]
                    elif w[0] == "duration":
                        read += [u for u in times[: i + 1] if u > ti - np.timedelta64(w[1], "us")]
                    elif w[0] == "history":
                        read += times[: i + 1]
                kept += not any(s < u <= e for u in read)
        assert x.shape[0] == kept, select
    assert feature_matrix(feats, ["hour"], target=target)[0].shape[0] == feats.height


def test_target_errors() -> None:
    feats = pl.DataFrame({"sensor_id": ["a"], "timestamp": [1], "value": [1.0]})
    with pytest.raises(sf.SensorSchemaError, match="target"):
        feature_matrix(feats, ["value"], target=feats)
    with pytest.raises(UnknownFeatureError, match="nope"):
        feature_matrix(feats, ["value"], target="nope")
    with pytest.raises(sf.InvalidTypeError, match="target"):
        feature_matrix(feats, ["value"], target=3)  # type: ignore[call-overload]
