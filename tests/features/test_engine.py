from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.features import FeatureConfig, engine, engineer_features, feature_names
from tests.conftest import sensor_frames, tied_readings
from tests.features._reference import assert_features_close, reference_features

SMALL = FeatureConfig.default(
    rolling_windows=[2, 3, "3m"],
    lags=[1, 3],
    diffs=[1, 2],
    ewm_span=3,
    volatility_windows=[2, 4],
    spectral_window=4,
    spectral_top_k=2,
    timezone="America/New_York",
)


@given(frame=sensor_frames(max_rows=40))
def test_all_features_match_reference(frame: pl.DataFrame) -> None:
    got = engineer_features(frame, SMALL).collect()
    want = reference_features(frame, SMALL)
    assert got.columns == ["sensor_id", "timestamp", "value", *feature_names(SMALL)]
    assert_features_close(got, want, feature_names(SMALL))


@given(frame=sensor_frames(max_rows=40, values=tied_readings))
def test_all_features_match_reference_with_ties_and_flat_runs(frame: pl.DataFrame) -> None:
    cfg = FeatureConfig.default(
        rolling_windows=[3, "2m"], ewm_span=2, spectral_window=7, spectral_step=2, lags=[2]
    )
    got = engineer_features(frame, cfg).collect()
    assert_features_close(got, reference_features(frame, cfg), feature_names(cfg))


@given(frame=sensor_frames(max_rows=40), min_periods=st.integers(1, 3))
def test_min_periods_matches_reference(frame: pl.DataFrame, min_periods: int) -> None:
    cfg = FeatureConfig.default(
        rolling_windows=[3, "2m"],
        volatility_windows=[3],
        spectral=False,
        min_samples=min_periods,
    )
    got = engineer_features(frame, cfg).collect()
    assert_features_close(got, reference_features(frame, cfg), feature_names(cfg))


@given(frame=sensor_frames(max_rows=50))
def test_masked_whole_column_equals_over(frame: pl.DataFrame) -> None:
    """The fast paths (whole column + warm-up mask, blocks) give what `.over` gives."""
    cfg = FeatureConfig.default(
        rolling_windows=[2, 4], lags=[1, 2], volatility_windows=[3], spectral=False
    )
    fast = engineer_features(frame, cfg).collect()
    x = pl.col("value")
    over = {
        f"rolling_{w}_{s}": sf.features.rolling_stat(x, window=w, stat=s)
        for w in (2, 4)
        for s in cfg.rolling_stats
    }
    over |= {f"lag_{k}": sf.features.lag(x, n=k) for k in (1, 2)}
    over |= {f"diff_{k}": sf.features.diff(x, n=k) for k in (1, 2)}
    over |= {
        "pct_change": sf.features.pct_change(x),
        "rate_of_change": sf.features.rate_of_change(x),
        "acceleration": sf.features.acceleration(x),
        "volatility_3": sf.features.volatility(x, window=3),
    }
    slow = fast.select(
        "sensor_id", "timestamp", *(e.over("sensor_id").alias(n) for n, e in over.items())
    )
    for name in over:
        # mean and std combine blocks of the window (pairwise), not the running-sum
        # kernel: equal up to rounding; everything else is bit for bit the same
        if not name.endswith(("_mean", "_std")) and not name.startswith("volatility"):
            assert fast[name].equals(slow[name]), name
    assert_features_close(fast, slow.with_columns(value=fast["value"]), list(over), rtol=1e-9)


def test_no_look_ahead() -> None:
    data = sf.datasets.synthetic(n_sensors=3, n_points=300, seed=3, faults=()).frame
    cut = data["timestamp"].sort()[data.height // 2]
    changed = data.with_columns(
        value=pl.when(pl.col("timestamp") > cut)
        .then(pl.col("value") * -7.0 + 1e3)
        .otherwise(pl.col("value"))
    )
    cfg = FeatureConfig.default(rolling_windows=[3, 12, "30m"], spectral_window=16)
    names = feature_names(cfg)
    before = engineer_features(data, cfg).filter(pl.col("timestamp") <= cut).collect()
    after = engineer_features(changed, cfg).filter(pl.col("timestamp") <= cut).collect()
    assert after.height > 0
    # bit for bit: no running sum carries another sensor's later readings either
    for name in names:
        assert before[name].equals(after[name]), name


def test_no_look_ahead_single_sensor_exact() -> None:
    rng = np.random.default_rng(0)
    n = 200
    times = pl.datetime_range(
        pl.datetime(2026, 1, 1, time_zone="UTC"),
        pl.datetime(2026, 1, 1, time_zone="UTC") + timedelta(minutes=n - 1),
        "1m",
        eager=True,
    )
    values = rng.normal(size=n) * 100
    base = pl.DataFrame({"sensor_id": "a", "timestamp": times, "value": values})
    cfg = FeatureConfig.default(rolling_windows=[3, 12, "10m"], spectral_window=8, spectral_step=3)
    full = engineer_features(base, cfg).collect()
    for t in (0, 50, 137, n - 2):
        tampered = base.with_columns(
            value=pl.when(pl.int_range(pl.len()) > t).then(1e9).otherwise(pl.col("value"))
        )
        part = engineer_features(tampered, cfg).collect()
        assert part.head(t + 1).equals(full.head(t + 1)), t


@given(frame=sensor_frames(max_rows=30))
def test_unsorted_input_gives_sorted_output(frame: pl.DataFrame) -> None:
    out = engineer_features(frame, SMALL).collect()
    assert out.select("sensor_id", "timestamp").equals(
        frame.select("sensor_id", "timestamp").sort("sensor_id", "timestamp")
    )
    reversed_ = engineer_features(frame.reverse(), SMALL).collect()
    assert_features_close(reversed_, out, feature_names(SMALL), rtol=1e-12)


def test_default_config_has_at_least_40_features() -> None:
    data = sf.datasets.synthetic(n_sensors=2, n_points=100, seed=1, faults=()).frame
    out = engineer_features(data).collect()
    names = feature_names()
    assert len(names) >= 40
    assert len(set(names)) == len(names)
    assert out.columns == ["sensor_id", "timestamp", "value", *names]


@given(
    windows=st.lists(st.sampled_from([2, 3, 5, "1m", "90s"]), unique=True, max_size=3),
    stats=st.lists(st.sampled_from(["mean", "std", "min", "max", "median", "range"]), unique=True),
    flags=st.lists(st.booleans(), min_size=9, max_size=9),
)
def test_feature_names_equal_output_columns(
    windows: list[int | str], stats: list[str], flags: list[bool]
) -> None:
    cfg = FeatureConfig.default(
        rolling_windows=windows,
        rolling_stats=stats,  # type: ignore[arg-type]
        pct_change=flags[0],
        rate_of_change=flags[1],
        acceleration=flags[2],
        ewm_span=5 if flags[3] else None,
        expanding=flags[4],
        volatility_windows=[3] if flags[5] else [],
        spectral=flags[6],
        calendar=flags[7],
        cyclical=flags[8],
        spectral_window=8,
    )
    data = sf.datasets.synthetic(n_sensors=2, n_points=30, seed=2, faults=()).frame
    out = engineer_features(data, cfg)
    assert out.collect_schema().names()[3:] == feature_names(cfg)
    assert out.collect().columns[3:] == feature_names(cfg)


def test_empty_frame_and_extra_columns() -> None:
    empty = pl.DataFrame(
        {"sensor_id": [], "timestamp": [], "value": []},
        schema={"sensor_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )
    out = engineer_features(empty).collect()
    assert out.height == 0
    assert out.columns[3:] == feature_names()
    data = sf.datasets.synthetic(n_sensors=1, n_points=20, seed=1, faults=()).frame.with_columns(
        extra=1
    )
    assert "extra" not in engineer_features(data).collect_schema().names()


def test_sensor_shorter_than_every_window_is_all_null() -> None:
    frame = pl.DataFrame(
        {
            "sensor_id": ["a", "a", "b"],
            "timestamp": ["2026-01-01T00:00", "2026-01-01T00:01", "2026-01-01T00:00"],
            "value": [1.0, 2.0, 3.0],
        }
    )
    cfg = FeatureConfig.default(rolling_windows=[3, "1h"], spectral_window=8)
    out = engineer_features(frame, cfg).collect()
    for name in feature_names(cfg):
        if name.startswith(("rolling", "fft", "spectral", "volatility")):
            assert out[name].null_count() == 3, name
    assert out["lag_1"].to_list() == [None, 1.0, None]


def test_bad_config_type() -> None:
    with pytest.raises(TypeError, match="FeatureConfig"):
        engineer_features(pl.DataFrame(), {"lags": [1]})  # type: ignore[arg-type]


@pytest.mark.parametrize("sample", [100_000, 7])
@pytest.mark.parametrize("kind", ["distinct", "ties", "wide"])
def test_sort_matches_a_stable_multi_column_sort(kind: str, sample: int) -> None:
    """
    Packed 128-bit, stable Int64 (ties) and two-column sorts all sort like (id, time).

    With a sample of 7 rows most ids are missing from it, and the ids of every row
    are used instead.
    """
    from sensorframe import _order as shared
    from sensorframe.features import _order

    rng = np.random.default_rng(5)
    n = 400
    if kind == "wide":  # years 1 to 9999 and 40 ids do not fit an Int64 key
        years = rng.integers(1, 10_000, n)
        times = [datetime(int(y), 1, 1, tzinfo=UTC) for y in years]
    else:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        steps = rng.permutation(n) if kind == "distinct" else rng.integers(0, 5, n)
        times = [start + timedelta(minutes=int(k)) for k in steps]
    values = rng.normal(size=n) * 1e3
    values[::7] = np.nan  # becomes null
    values[::11] = -0.0
    frame = sf.scan(
        pl.DataFrame(
            {
                "sensor_id": [f"s{k}" for k in rng.integers(0, 40, n)],
                "timestamp": times,
                "value": values,
            }
        )
    ).collect()
    want = frame.sort("sensor_id", "timestamp", maintain_order=True)
    with mock.patch.object(shared, "_SAMPLE_ROWS", sample):
        ordered = _order.sort_rows(frame)
    got = ordered.rows(0, frame.height)
    assert ordered.lengths.tolist() == want["sensor_id"].rle().struct.field("len").to_list()
    assert got.equals(want)
    assert got["value"].to_numpy().view(np.uint64).tolist() == (
        want["value"].to_numpy().view(np.uint64).tolist()
    )  # -0.0 stays -0.0


def test_sorted_and_shuffled_input_give_identical_features() -> None:
    """Input already in (sensor, time) order skips the sort and gives the same bits."""
    data = sf.datasets.synthetic(n_sensors=4, n_points=120, seed=4, faults=()).frame
    ordered = data.sort("sensor_id", "timestamp")
    cfg = FeatureConfig.default(rolling_windows=[3, 12, "30m"], spectral_window=16)
    want = engineer_features(ordered, cfg).collect()
    assert (
        engineer_features(ordered.sample(fraction=1.0, shuffle=True, seed=1), cfg)
        .collect()
        .equals(want)
    )
    assert want.select("sensor_id", "timestamp").equals(ordered.select("sensor_id", "timestamp"))


@given(frame=sensor_frames(max_rows=40), rows=st.integers(1, 30))
def test_slices_of_whole_sensors_give_the_same_bits(frame: pl.DataFrame, rows: int) -> None:
    """Computing the sorted rows in slices of whole sensors changes no feature."""
    want = engineer_features(frame, SMALL).collect()
    ordered = frame.sort("sensor_id", "timestamp")
    with mock.patch.object(engine, "_SLICE_ROWS", rows):
        for data in (frame, ordered):  # rows sorted here, and rows read in order
            got = engineer_features(data, SMALL).collect()
            assert got.equals(want)
            assert got.schema == want.schema
