"""
The engine's new row checks are the public expressions, whole-column.

``flag_quality`` runs spike, interpolated, level-shift and Hampel outlier checks on all
sensors at once (masked shifts, ``.over`` the sensor number); here each flag must equal
the public function applied ``.over("sensor_id")`` on the sorted frame, which
tests/quality/test_limits.py, test_contextual.py and test_shape.py check against NumPy.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.quality.contextual import hampel_outlier
from sensorframe.quality.engine import flag_rows, sensor_table
from sensorframe.quality.limits import spike
from sensorframe.quality.shape import interpolated, level_shift
from tests.conftest import sensor_frames, tied_readings

CONFIG = sf.QualityConfig(
    spike_window=5,
    interpolation_min_length=2,
    level_shift_window=3,
    level_shift_threshold=2.0,
)
ramps = st.one_of(tied_readings, st.integers(-3, 3).map(float))
"""Few distinct values: ties, flat stretches and straight lines are common."""


def _public(frame: pl.DataFrame, **exprs: pl.Expr) -> pl.DataFrame:
    ordered = frame.sort("sensor_id", "timestamp", maintain_order=True)
    return ordered.select(
        **{name: e.over("sensor_id").fill_null(value=False) for name, e in exprs.items()}
    )


def _engine(frame: pl.DataFrame, cfg: sf.QualityConfig) -> pl.DataFrame:
    return sf.flag_quality(frame, cfg).collect()


@given(frame=sensor_frames(values=ramps, max_rows=80, shuffle=True))
def test_spike_interpolated_and_level_shift_flags_are_the_public_checks(
    frame: pl.DataFrame,
) -> None:
    got = _engine(frame, CONFIG)
    want = _public(
        frame,
        spike=spike("value", noise_factor=CONFIG.spike_noise_factor, window=5),
        interpolated=interpolated("value", min_length=2),
        level_shift=level_shift("value", window=3, threshold=2.0),
    )
    for check in want.columns:
        assert got[f"flag_{check}"].to_list() == want[check].to_list(), check


@given(frame=sensor_frames(values=ramps, max_rows=60), threshold=st.sampled_from([0.5, 2.0]))
def test_a_sensor_with_its_own_spike_threshold(frame: pl.DataFrame, threshold: float) -> None:
    own = pl.DataFrame({"sensor_id": ["a"], "spike_threshold": [threshold]})
    got = _engine(frame, sf.QualityConfig(spike_window=5, per_sensor=own))
    rule = pl.when(pl.col("sensor_id") == "a")
    want = _public(
        frame,
        spike=rule.then(spike("value", threshold=threshold)).otherwise(spike("value", window=5)),
    )
    assert got["flag_spike"].to_list() == want["spike"].to_list()


@given(
    frame=sensor_frames(values=ramps, max_rows=60),
    window=st.sampled_from([3, 5, timedelta(minutes=4)]),
    center=st.booleans(),
)
def test_hampel_outliers_are_the_public_check(
    frame: pl.DataFrame, window: int | timedelta, center: bool
) -> None:
    cfg = sf.QualityConfig(outlier_method="hampel", outlier_window=window, outlier_center=center)
    got = _engine(frame, cfg)
    want = _public(
        frame,
        outlier=hampel_outlier(
            "value", window=window, threshold=cfg.mad_threshold, center=center, by="timestamp"
        ),
    )
    assert got["flag_outlier"].to_list() == want["outlier"].to_list()


def test_a_check_left_out_is_not_run() -> None:
    frame = sf.datasets.synthetic(n_sensors=2, n_points=400, seed=3).frame
    cfg = sf.QualityConfig(checks=("missing", "gap"))
    flags = _engine(frame, cfg)
    assert flags["flag_gap"].any()
    others = [f"flag_{c}" for c in sf.quality.CHECKS if c not in ("missing", "gap")]
    assert not flags.select(pl.any_horizontal(others).any()).item()
    assert cfg.checks == ("missing", "gap")
    assert sf.QualityConfig(checks=()).checks == ("missing",)


@given(frame=sensor_frames(values=ramps, max_rows=80))
def test_the_new_counts_are_the_flags_per_sensor(frame: pl.DataFrame) -> None:
    table = sensor_table(*flag_rows(sf.scan(frame), CONFIG, table=True)).collect()
    flags = (
        _engine(frame, CONFIG)
        .group_by("sensor_id")
        .agg(
            spike_count=pl.col("flag_spike").sum(),
            interpolated_points=pl.col("flag_interpolated").sum(),
            level_shifts=pl.col("flag_level_shift").sum(),
        )
    )
    got = table.select(flags.columns).sort("sensor_id")
    assert got.cast(flags.schema).equals(flags.sort("sensor_id"))
