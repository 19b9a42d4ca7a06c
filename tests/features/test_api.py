"""Issue 14's feature API: opt-in configs, selection by name, push-down, Polars names."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe.errors import (
    ConfigError,
    InvalidParameterError,
    InvalidTypeError,
    UnknownFeatureError,
    UnknownSensorError,
)
from sensorframe.features import FeatureConfig, engineer_features, feature_names
from sensorframe.features.config import parse_duration_us
from tests.conftest import sensor_frames

KEYS = ["sensor_id", "timestamp", "value"]


@pytest.fixture(scope="module")
def data() -> pl.DataFrame:
    return sf.datasets.synthetic(n_sensors=3, n_points=200, seed=4, faults=()).frame


# -- 1. opt-in groups, presets, selection by names ----------------------------------


def test_one_window_and_one_stat_is_one_feature(data: pl.DataFrame) -> None:
    cfg = sf.FeatureConfig(rolling_windows=[6], rolling_stats=["mean"])
    assert feature_names(cfg) == ["rolling_6_mean"]
    assert engineer_features(data, cfg).collect().columns == [*KEYS, "rolling_6_mean"]


def test_groups_are_off_unless_asked_for() -> None:
    assert feature_names(FeatureConfig()) == []
    assert feature_names(FeatureConfig(lags=[1], calendar=True)) == [
        "lag_1",
        "hour",
        "day_of_week",
        "day_of_month",
        "month",
        "is_weekend",
    ]


def test_presets() -> None:
    assert len(feature_names(FeatureConfig.default())) == 60
    assert feature_names(FeatureConfig.default()) == feature_names()  # None is the default
    assert FeatureConfig.default(timezone="Asia/Tokyo").timezone == "Asia/Tokyo"
    assert feature_names(FeatureConfig.minimal()) == [
        "rolling_12_mean",
        "rolling_12_std",
        "lag_1",
        "diff_1",
    ]


def test_no_config_computes_the_default_set(data: pl.DataFrame) -> None:
    assert engineer_features(data).collect_schema().names()[3:] == feature_names(
        FeatureConfig.default()
    )


def test_a_config_selecting_nothing_is_refused_loudly(data: pl.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"FeatureConfig\.default\(\)"):
        engineer_features(data, FeatureConfig())


def test_selection_by_names_computes_exactly_those(data: pl.DataFrame) -> None:
    names = ["rolling_12_mean", "lag_1"]
    got = engineer_features(data, features=names).collect()
    assert got.columns == [*KEYS, *names]
    full = engineer_features(data, FeatureConfig.default()).collect()
    assert_frame_equal(got, full.select(*KEYS, *names))


@pytest.mark.parametrize(
    "names",
    [
        ["volatility_6"],  # needs pct change, not returned
        ["rolling_6_std", "rolling_1h30m_max"],  # a cross product is not returned
        ["fft_amp_2", "spectral_entropy"],
        ["ewm_std", "expanding_mean", "acceleration", "month_cos", "is_weekend"],
        ["diff_2", "pct_change", "rolling_3_median", "rate_of_change"],
    ],
)
def test_selected_features_equal_the_full_computation(data: pl.DataFrame, names: list[str]) -> None:
    got = engineer_features(data, features=names).collect()
    assert got.columns == [*KEYS, *names]
    cfg = FeatureConfig.default(rolling_windows=[3, 6, "1h30m"])
    want = engineer_features(data, cfg).collect().select(*KEYS, *names)
    assert_frame_equal(got, want)


def test_names_round_trip_through_from_names() -> None:
    cfg = FeatureConfig.default(rolling_windows=[3, "90min"], spectral_top_k=2)
    assert FeatureConfig.from_names(feature_names(cfg)) == cfg


def test_features_take_options_from_the_config(data: pl.DataFrame) -> None:
    base = FeatureConfig(ewm_span=3, timezone="Asia/Tokyo")
    got = engineer_features(data, base, features=["ewm_mean", "hour"]).collect()
    want = engineer_features(data, FeatureConfig(ewm_span=3, calendar=True, timezone="Asia/Tokyo"))
    assert_frame_equal(got, want.collect().select(*KEYS, "ewm_mean", "hour"))


def test_unknown_feature_lists_close_matches(data: pl.DataFrame) -> None:
    with pytest.raises(UnknownFeatureError, match=r"rolling_12_maen.*rolling_12_mean"):
        engineer_features(data, features=["rolling_12_maen"])
    with pytest.raises(UnknownFeatureError, match="lag_0"):
        engineer_features(data, features=["lag_0"])
    with pytest.raises(UnknownFeatureError, match="'rolling_soon_mean'"):
        engineer_features(data, features=["rolling_soon_mean"])  # no such window


@pytest.mark.parametrize("name", ["rolling_012_mean", "lag_1\u0661", "rolling_1\u0661_std"])
def test_names_in_another_spelling_are_unknown(data: pl.DataFrame, name: str) -> None:
    # 012 and Arabic-Indic digits would parse as the row counts 12 and 11
    with pytest.raises(UnknownFeatureError, match="unknown feature"):
        engineer_features(data, features=[name])


@pytest.mark.parametrize(
    ("features", "error"),
    [
        (["lag_1", "lag_1"], InvalidParameterError),
        ([], ConfigError),
        ("lag_1", InvalidTypeError),
        ([1], InvalidTypeError),
    ],
)
def test_bad_feature_lists(data: pl.DataFrame, features: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        engineer_features(data, features=features)


# -- 2. sensors pushed down ---------------------------------------------------------


@given(frame=sensor_frames(max_rows=40))
def test_sensors_equal_filtering_afterwards(frame: pl.DataFrame) -> None:
    cfg = FeatureConfig(rolling_windows=[2, "2m"], lags=[1], ewm_span=3, expanding=True)
    present = sorted(set(frame["sensor_id"]))[:2]
    got = engineer_features(frame, cfg, sensors=present).collect()
    want = engineer_features(frame, cfg).filter(pl.col("sensor_id").is_in(present)).collect()
    assert_frame_equal(got, want)


def test_sensors_filter_the_rows_before_the_computation(
    data: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = sf.features.engine.sort_rows

    def spy(rows: pl.DataFrame) -> Any:
        seen.append(rows.height)
        return real(rows)

    monkeypatch.setattr(sf.features.engine, "sort_rows", spy)
    out = engineer_features(data, FeatureConfig.minimal(), sensors="S001").collect()
    assert seen == [out.height] == [200]
    assert out["sensor_id"].unique().to_list() == ["S001"]


def test_unknown_sensor(data: pl.DataFrame) -> None:
    lf = engineer_features(data, FeatureConfig.minimal(), sensors=["S001", "nope"])
    with pytest.raises(UnknownSensorError, match="nope"):
        lf.collect()
    with pytest.raises(InvalidTypeError, match="sensors"):
        engineer_features(data, FeatureConfig.minimal(), sensors=[1])  # type: ignore[list-item]


# -- 3. order: the documented expression route sorts first --------------------------

ORDER_DEPENDENT = [
    "rolling_stat",
    "lag",
    "diff",
    "pct_change",
    "rate_of_change",
    "acceleration",
    "ewm_mean",
    "ewm_std",
    "expanding_mean",
    "expanding_std",
    "volatility",
    "spectral_features",
]


@pytest.mark.parametrize("name", ORDER_DEPENDENT)
def test_order_dependent_docstrings_say_to_sort(name: str) -> None:
    doc = getattr(sf.features, name).__doc__ or ""
    notes = doc.split("Notes\n")[1].split("Examples\n")[0] if "Notes\n" in doc else ""
    assert "sorted by time within each sensor" in " ".join(notes.split()) or (
        "sort by time within each sensor" in " ".join(notes.split())
    ), name
    assert "engineer_features` sorts for you" in " ".join(notes.split()), name


def test_engineer_features_is_order_safe_where_expressions_are_not() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "sensor_id": ["a"] * 4,
            "timestamp": [t0 + timedelta(minutes=m) for m in (3, 0, 2, 1)],
            "value": [4.0, 1.0, 3.0, 2.0],
        }
    )
    unsorted = frame.select(sf.features.lag("value", n=1)).to_series().to_list()
    assert unsorted == [None, 4.0, 1.0, 3.0]  # row order, not time order: why docs say sort
    got = engineer_features(frame, features=["lag_1"]).collect()["lag_1"].to_list()
    assert got == [None, 1.0, 2.0, 3.0]


# -- 4. Polars names, keyword-only options, one duration grammar ---------------------


def test_min_periods_is_renamed_min_samples_with_a_shim() -> None:
    with pytest.warns(DeprecationWarning, match="min_periods.*min_samples") as caught:
        cfg = FeatureConfig(rolling_windows=[3], min_periods=2)  # type: ignore[call-arg]
    assert cfg == FeatureConfig(rolling_windows=[3], min_samples=2)
    assert caught[0].filename == __file__  # the warning points at user code
    frame = pl.DataFrame({"value": [1.0, None, 3.0, 4.0]})
    new = sf.features.rolling_stat("value", window=3, stat="mean", min_samples=2)
    with pytest.warns(DeprecationWarning, match="min_samples") as caught:
        old = sf.features.rolling_stat("value", window=3, stat="mean", min_periods=2)  # type: ignore[call-arg]
    assert caught[0].filename == __file__
    assert_frame_equal(frame.select(old), frame.select(new))
    with pytest.warns(DeprecationWarning, match="min_samples"):
        sf.features.volatility("value", window=2, min_periods=1)  # type: ignore[call-arg]
    with pytest.warns(DeprecationWarning, match="min_samples"):
        pl.col("value").sf.rolling_stat(window=3, stat="mean", min_periods=2)  # type: ignore[call-arg]
    with pytest.raises(InvalidTypeError, match="min_samples"):
        FeatureConfig(min_periods=2, min_samples=2)  # type: ignore[call-arg]


@pytest.mark.parametrize("name", ["lag", "diff"])
def test_positional_options_warn_and_still_work(name: str) -> None:
    frame = pl.DataFrame({"value": [1.0, 2.0, 4.0, 8.0]})
    fn = getattr(sf.features, name)
    want = frame.select(fn("value", n=2))
    with pytest.warns(DeprecationWarning, match=rf"keyword-only.*{name}\(\.\.\., n=2\)") as caught:
        got = frame.select(fn("value", 2))
    assert caught[0].filename == __file__
    assert_frame_equal(got, want)
    with pytest.warns(DeprecationWarning, match="keyword-only") as caught:
        via_method = frame.select(getattr(pl.col("value").sf, name)(2))
    assert caught[0].filename == __file__
    assert_frame_equal(via_method, want)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame.select(fn("value", n=2))  # the keyword form does not warn
    with pytest.raises(InvalidTypeError, match="positional"):
        fn("value", 1, 2)
    with pytest.raises(InvalidTypeError, match="both by position and by keyword"):
        fn("value", 1, n=2)


SAME_DURATION = ["90min", "1h30m", "1.5h", "5400s", timedelta(minutes=90)]


@pytest.mark.parametrize("duration", SAME_DURATION)
def test_one_duration_grammar(duration: str | timedelta) -> None:
    assert parse_duration_us(duration) == 5_400_000_000


def test_equal_durations_give_equal_windows(data: pl.DataFrame) -> None:
    frames = [
        data.select(sf.features.rolling_stat("value", window=w, stat="mean").over("sensor_id"))
        for w in SAME_DURATION
    ]
    for other in frames[1:]:
        assert_frame_equal(other, frames[0])
    assert frames[0].to_series().drop_nulls().len() > 0
    cfg = FeatureConfig(rolling_windows=[timedelta(minutes=90)], rolling_stats=["mean"])
    assert feature_names(cfg) == ["rolling_1h30m_mean"]  # a timedelta is stored as text
    out = engineer_features(data, cfg).collect()
    text = engineer_features(data, FeatureConfig(rolling_windows=["1.5h"], rolling_stats=["mean"]))
    assert np.array_equal(
        out["rolling_1h30m_mean"].to_numpy(), text.collect()["rolling_1.5h_mean"].to_numpy(), True
    )


@pytest.mark.parametrize("duration", ["1mo", "1y", "1.5", "h", "-1h", "1 h", "0.0h", "1e3s"])
def test_durations_refused_the_same_way(duration: str) -> None:
    for build in (
        lambda: FeatureConfig(rolling_windows=[duration]),
        lambda: sf.features.rolling_stat("value", window=duration, stat="mean"),
    ):
        with pytest.raises(ConfigError, match="duration"):
            build()


def test_equal_durations_are_duplicates() -> None:
    with pytest.raises(ConfigError, match="duplicate"):
        FeatureConfig(rolling_windows=["90min", timedelta(hours=1.5)])
