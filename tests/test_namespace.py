"""``pl.Expr.sf``: every method is the module function of the same name, nothing else."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe._namespace import SensorExprNameSpace

MODULES = (sf.quality, sf.features)

# keyword arguments that differ from the defaults, so a method that drops one fails
CALLS: dict[str, dict[str, Any]] = {
    "missing": {},
    "zscore_outlier": {"threshold": 1.5},
    "mad_outlier": {"threshold": 2.0},
    "flatline": {"tolerance": 0.5, "min_length": 2, "ignore": [0.0]},
    "flatline_run_length": {"tolerance": 0.5, "ignore": [0.0]},
    "gap": {"factor": 2.0, "expected": timedelta(minutes=1)},
    "duplicate_timestamp": {},
    "out_of_order": {},
    "noise_level": {},
    "drift_ratio": {},
    "gross_range": {"fail_min": -1.0, "fail_max": 30.0, "suspect_min": 0.0, "suspect_max": 6.0},
    "spike": {"threshold": 4.0, "noise_factor": 2.0, "window": 3, "min_scale": 0.1},
    "hampel_outlier": {"window": 3, "threshold": 2.0, "center": False, "min_scale": 0.1},
    "interpolated": {"min_length": 2, "tolerance": 1e-3},
    "level_shift": {"window": 2, "threshold": 3.0},
    "trend": {"time": "timestamp"},
    "rolling_stat": {"window": 3, "stat": "median", "min_samples": 2},
    "lag": {"n": 2},
    "diff": {"n": 2},
    "pct_change": {},
    "rate_of_change": {"time": "timestamp"},
    "acceleration": {"time": "timestamp"},
    "ewm_mean": {"span": 3},
    "ewm_std": {"span": 3},
    "expanding_mean": {},
    "expanding_std": {},
    "volatility": {"window": 3, "min_samples": 2},
    "spectral_features": {"window": 4, "top_k": 1, "step": 2},
}
ON_TIME = {"gap", "duplicate_timestamp", "out_of_order"}


def expression_functions() -> set[str]:
    """Public module functions whose first parameter is the data and that return one Expr."""
    names = set()
    for module in MODULES:
        for name in module.__all__:
            fn = getattr(module, name)
            if inspect.isfunction(fn) and inspect.signature(fn).return_annotation in (
                "pl.Expr",
                pl.Expr,
            ):
                names.add(name)
    return names


def test_every_expression_function_has_a_method_and_no_more() -> None:
    methods = {n for n, _ in inspect.getmembers(SensorExprNameSpace) if not n.startswith("_")}
    assert methods == expression_functions() == set(CALLS)


@pytest.fixture
def frame() -> pl.DataFrame:
    # a duplicate time, a gap, a null, a flat stretch, a resting zero and a spike
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    minutes = [0, 1, 2, 2, 3, 8, 9, 10, 11, 12]
    return pl.DataFrame(
        {
            "sensor_id": ["a"] * 10,
            "timestamp": [t0 + timedelta(minutes=m) for m in minutes],
            "value": [0.0, 0.0, 0.0, 1.0, None, 5.0, 5.0, 5.0, 2.0, 40.0],
        }
    )


@pytest.mark.parametrize("name", sorted(CALLS))
def test_method_equals_the_module_function(frame: pl.DataFrame, name: str) -> None:
    module = next(m for m in MODULES if name in m.__all__)
    column = "timestamp" if name in ON_TIME else "value"
    kwargs = CALLS[name]
    via_function = getattr(module, name)(column, **kwargs)
    via_method = getattr(pl.col(column).sf, name)(**kwargs)
    expected = frame.select(via_function.over("sensor_id").alias("out"))
    got = frame.select(via_method.over("sensor_id").alias("out"))
    assert_frame_equal(got, expected)
    assert expected.height > 0
