from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import sensorframe as sf
from sensorframe.errors import InvalidParameterError, UnknownFeatureError
from sensorframe.features import FeatureConfig, engineer_features, feature_matrix, feature_names


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
