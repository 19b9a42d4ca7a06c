from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sensorframe.errors import ConfigError, InvalidParameterError, InvalidTypeError
from sensorframe.features import FeatureConfig, feature_names
from sensorframe.features.config import parse_duration_us


def test_default_preset() -> None:
    cfg = FeatureConfig.default()
    assert cfg.rolling_windows == (3, 6, 12, 24)
    assert cfg.lags == (1, 2, 3, 6, 12)
    assert cfg.diffs == (1, 2)
    assert cfg.ewm_span == 12
    assert cfg.volatility_windows == (6, 12, 24)
    assert (cfg.spectral_window, cfg.spectral_top_k, cfg.spectral_step) == (64, 3, 1)
    assert cfg.timezone == "UTC"
    assert cfg.min_samples is None
    assert len(feature_names(cfg)) == 60
    assert feature_names(cfg) == feature_names()


def test_lists_become_tuples_and_config_is_hashable() -> None:
    cfg = FeatureConfig(rolling_windows=[3, "1h"], lags=[1], diffs=[])
    assert cfg.rolling_windows == (3, "1h")
    assert hash(cfg) == hash(FeatureConfig(rolling_windows=(3, "1h"), lags=(1,), diffs=()))
    with pytest.raises(AttributeError):
        cfg.lags = (2,)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rolling_windows", [1]),
        ("rolling_windows", [0]),
        ("rolling_windows", ["1mo"]),
        ("rolling_windows", ["0s"]),
        ("rolling_windows", ["soon"]),
        ("rolling_windows", [3, 3]),
        ("rolling_windows", [True]),
        ("rolling_windows", 3),
        ("rolling_stats", ["mode"]),
        ("rolling_stats", ["mean", "mean"]),
        ("lags", [0]),
        ("lags", [1.5]),
        ("diffs", [-1]),
        ("volatility_windows", ["1h"]),
        ("volatility_windows", [1]),
        ("ewm_span", 0.5),
        ("ewm_span", "12"),
        ("spectral_window", 3),
        ("spectral_top_k", 0),
        ("spectral_step", 0),
        ("timezone", "Mars/Olympus"),
        ("min_samples", 0),
        ("calendar", "yes"),
    ],
)
def test_invalid_fields_raise_config_error(field: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=field if field != "rolling_windows" else "window"):
        FeatureConfig(**{field: value})


def test_top_k_must_fit_the_window() -> None:
    with pytest.raises(ConfigError, match="spectral_top_k"):
        FeatureConfig(spectral_window=8, spectral_top_k=5)
    assert FeatureConfig(spectral_window=8, spectral_top_k=4).spectral_top_k == 4


def test_config_error_is_invalid_parameter_error() -> None:
    with pytest.raises(InvalidParameterError):
        FeatureConfig(lags=[0])


def test_feature_names_order() -> None:
    cfg = FeatureConfig.default(
        rolling_windows=[3, "30m"],
        rolling_stats=["mean", "range"],
        lags=[2],
        diffs=[1],
        volatility_windows=[6],
        spectral_top_k=2,
    )
    assert feature_names(cfg) == [
        "rolling_3_mean",
        "rolling_3_range",
        "rolling_30m_mean",
        "rolling_30m_range",
        "lag_2",
        "diff_1",
        "pct_change",
        "rate_of_change",
        "acceleration",
        "ewm_mean",
        "ewm_std",
        "expanding_mean",
        "expanding_std",
        "volatility_6",
        "fft_freq_1",
        "fft_amp_1",
        "fft_freq_2",
        "fft_amp_2",
        "spectral_energy",
        "spectral_entropy",
        "hour",
        "day_of_week",
        "day_of_month",
        "month",
        "is_weekend",
        "hour_sin",
        "hour_cos",
        "day_of_week_sin",
        "day_of_week_cos",
        "month_sin",
        "month_cos",
    ]


@pytest.mark.parametrize(
    ("text", "us"),
    [("1h", 3_600_000_000), ("90s", 90_000_000), ("1d12h", 129_600_000_000), ("1500ns", 2)],
)
def test_parse_duration(text: str, us: int) -> None:
    assert parse_duration_us(text) == us


@pytest.mark.parametrize("duration", [90, 1.5, None, b"1h"])
def test_parse_duration_refuses_other_types_with_a_type_error(duration: object) -> None:
    with pytest.raises(InvalidTypeError, match="`window` must be a timedelta"):
        parse_duration_us(duration)  # type: ignore[arg-type]


def test_parse_duration_limit_is_the_callers() -> None:
    with pytest.raises(ConfigError, match="at most 1d"):
        parse_duration_us("25h", limit=timedelta(days=1))
    assert parse_duration_us("1000000d", limit=None) == 86_400_000_000 * 1_000_000
