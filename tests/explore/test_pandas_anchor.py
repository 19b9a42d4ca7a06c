"""The pandas anchor of `sensorframe bench` computes the same features as ours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl

import sensorframe as sf
from sensorframe.explore._pandas import NO_PANDAS, pandas_family
from sensorframe.explore.exploration import family
from sensorframe.features import FeatureConfig, engineer_features, feature_names


def test_every_family_but_spectral_matches_engineer_features() -> None:
    frame = sf.datasets.synthetic(n_sensors=3, n_points=400, seed=5).frame
    cfg = FeatureConfig.default(timezone="Europe/Berlin")
    ours = engineer_features(frame, cfg).collect()
    df = ours.select("sensor_id", "timestamp", "value").to_pandas()
    groups: dict[str, list[str]] = {}
    for name in feature_names(cfg):
        groups.setdefault(family(name), []).append(name)
    assert set(groups) - NO_PANDAS == set(groups) - {"spectral"}
    for fam, names in groups.items():
        if fam in NO_PANDAS:
            continue
        got = pandas_family(df, cfg, names)()
        for name in names:
            theirs = np.asarray(pd.Series(got[name]).astype("float64"))
            mine = ours[name].cast(pl.Float64).to_numpy()
            np.testing.assert_allclose(
                theirs, mine, rtol=1e-7, atol=1e-6, err_msg=name
            )  # pandas: running sums


def test_duration_windows() -> None:
    frame = sf.datasets.synthetic(n_sensors=2, n_points=400, seed=6, faults=()).frame
    cfg = FeatureConfig(rolling_windows=["10m"], rolling_stats=["mean", "max"], min_samples=1)
    ours = engineer_features(frame, cfg).collect()
    df = ours.select("sensor_id", "timestamp", "value").to_pandas()
    got = pandas_family(df, cfg, ["rolling_10m_mean"])()
    np.testing.assert_allclose(got["rolling_10m_mean"], ours["rolling_10m_mean"].to_numpy())
