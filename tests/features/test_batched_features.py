"""engineer_features in batches of whole sensors equals the in-memory path bit for bit."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.errors import ConfigError, UnknownSensorError
from tests.conftest import sensor_frames

_CFG = sf.FeatureConfig(
    rolling_windows=[2, 3, "3m"],
    rolling_stats=["mean", "std", "min", "max", "median"],
    lags=[1, 2],
    diffs=[1],
    pct_change=True,
    volatility_windows=[3],
    rate_of_change=True,
    ewm_span=3,
    expanding=True,
    calendar=True,
)


@given(
    frame=sensor_frames(max_rows=50, sensors="abcd"),
    batch_rows=st.integers(1, 20),
    lazy=st.booleans(),
)
def test_batched_features_equal_the_in_memory_path(
    frame: pl.DataFrame, batch_rows: int, lazy: bool
) -> None:
    expected = sf.engineer_features(frame, _CFG).collect()
    source = frame.lazy() if lazy else frame
    got = sf.engineer_features(source, _CFG, batch_rows=batch_rows).collect()
    assert got.schema == expected.schema
    assert got.equals(expected)


def test_default_set_with_spectral_features_in_batches() -> None:
    frame = sf.datasets.synthetic(n_sensors=5, n_points=400, seed=2).frame
    cfg = sf.FeatureConfig.default()
    expected = sf.engineer_features(frame, cfg).collect()
    got = sf.engineer_features(frame.lazy(), cfg, batch_rows=700).collect()
    assert got.equals(expected)


def test_sink_parquet_from_an_unsorted_file(tmp_path: Path) -> None:
    frame = sf.datasets.synthetic(n_sensors=4, n_points=400, seed=4).frame
    path = tmp_path / "in.parquet"
    frame.sample(fraction=1.0, shuffle=True, seed=0).write_parquet(path)
    expected = sf.engineer_features(frame, _CFG).collect()
    lf = sf.engineer_features(path, _CFG, memory_limit=1_200_000)  # 500 rows per batch
    lf.sink_parquet(tmp_path / "out.parquet")
    assert pl.read_parquet(tmp_path / "out.parquet").equals(expected)


def test_sensor_and_feature_selection_in_batches() -> None:
    frame = sf.datasets.synthetic(n_sensors=4, n_points=400, seed=6).frame
    kwargs = {"features": ["lag_1", "rolling_3_mean"], "sensors": ["S003", "S001"]}
    expected = sf.engineer_features(frame, **kwargs).collect()  # type: ignore[arg-type]
    got = sf.engineer_features(frame, batch_rows=1, **kwargs).collect()  # type: ignore[arg-type]
    assert got["sensor_id"].unique().sort().to_list() == ["S001", "S003"]
    assert got.equals(expected)


def test_unknown_sensor_in_batches_is_named() -> None:
    frame = sf.datasets.synthetic(n_sensors=2, n_points=400).frame
    lf = sf.engineer_features(frame, _CFG, sensors=["S000", "nope"], batch_rows=100)
    with pytest.raises(UnknownSensorError, match="nope"):
        lf.collect()


def test_bad_memory_limit_is_refused_at_once() -> None:
    frame = sf.datasets.synthetic(n_sensors=2, n_points=400).frame
    with pytest.raises(ConfigError, match="memory_limit"):
        sf.engineer_features(frame, _CFG, memory_limit="a lot")
