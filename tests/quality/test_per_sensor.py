"""Per-sensor settings: ``QualityConfig(per_sensor=frame)``, checked against the reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.errors import ConfigError
from tests.conftest import sensor_frames, tied_readings
from tests.test_quality import REFERENCED, _check_against_reference


@st.composite
def per_sensor_frames(draw: st.DrawFn) -> pl.DataFrame:
    """Settings for some of the sensors a, b, c (and one not in any frame), nulls allowed."""
    ids = draw(st.lists(st.sampled_from("abcz"), unique=True, max_size=4))
    n = len(ids)

    def column(values: st.SearchStrategy[object]) -> list[object]:
        return draw(st.lists(st.none() | values, min_size=n, max_size=n))

    frame = pl.DataFrame(
        {
            "sensor_id": pl.Series(ids, dtype=pl.String),
            "valid_min": column(st.sampled_from([-2.0, -1.5])),
            "valid_max": column(st.sampled_from([1.5, 3.0])),
            "suspect_max": column(st.just(1.0)),
            "outlier_z": column(st.sampled_from([0.5, 1.5])),
            "expected_interval": column(st.sampled_from([timedelta(seconds=20)])),
            "max_stuck": column(st.sampled_from([timedelta(seconds=90), timedelta(hours=1)])),
            "flatline_ignore": column(st.sampled_from([[], [0.0], [1.0, 3.25]])),
        },
        schema_overrides={
            "valid_min": pl.Float64,
            "valid_max": pl.Float64,
            "suspect_max": pl.Float64,
            "outlier_z": pl.Float64,
            "expected_interval": pl.Duration("us"),
            "max_stuck": pl.Duration("us"),
            "flatline_ignore": pl.List(pl.Float64),
        },
    )
    keep = draw(st.lists(st.sampled_from(frame.columns[1:]), unique=True))
    return frame.select("sensor_id", *keep)


@given(
    frame=sensor_frames(values=tied_readings, max_rows=60),
    own=per_sensor_frames(),
    ignore=st.sampled_from([(), (1.5,)]),
)
def test_per_sensor_settings_match_the_reference(
    frame: pl.DataFrame, own: pl.DataFrame, ignore: tuple[float, ...]
) -> None:
    cfg = sf.QualityConfig(
        flatline_min_length=3,
        flatline_ignore=ignore,
        suspect_min=-1.0,
        max_stuck=timedelta(minutes=3),
        per_sensor=own,
        checks=REFERENCED,
    )
    _check_against_reference(frame, cfg)


def _minutes(sensor: str, values: list[float | None]) -> pl.DataFrame:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            "sensor_id": sensor,
            "timestamp": [t0 + timedelta(minutes=i) for i in range(len(values))],
            "value": values,
        },
        schema_overrides={"value": pl.Float64},
    )


def test_night_zeros_of_one_sensor_are_ignored_without_hiding_a_dead_one() -> None:
    night = [0.0] * 600
    day = list(np.sin(np.linspace(0.1, 3.0, 840)) * 800)
    pv = _minutes("pv", night + day + night)
    dead = _minutes("dead", [0.0] * 2040)
    own = pl.DataFrame({"sensor_id": ["pv"], "flatline_ignore": [[0.0]]})
    cfg = sf.QualityConfig(max_stuck=timedelta(hours=6), per_sensor=own)
    table = sf.quality.engine.sensor_table(
        *sf.quality.engine.flag_rows(sf.scan(pl.concat([pv, dead])), cfg, table=True)
    ).collect()
    rows = {r["sensor_id"]: r for r in table.iter_rows(named=True)}
    assert rows["pv"]["flat_points"] == 0
    assert not rows["pv"]["stuck"]
    assert rows["dead"]["stuck"]
    assert rows["dead"]["longest_flat_duration"] == timedelta(minutes=2039)
    assert rows["dead"]["longest_flat_value"] == 0.0
    # the global setting would have hidden the dead sensor too
    both = sf.QualityConfig(max_stuck=timedelta(hours=6), flatline_ignore=(0.0,))
    flags = sf.flag_quality(dead, both).collect()
    assert not flags["flag_flatline"].any()


def test_a_sensor_with_its_own_range_and_interval() -> None:
    a = _minutes("a", [1.0, 5.0, 12.0, 3.0])
    b = _minutes("b", [1.0, 5.0, 12.0, 3.0])
    own = pl.DataFrame(
        {
            "sensor_id": ["a", "not-in-the-input"],
            "valid_max": [10.0, 0.0],
            "suspect_max": [4.0, None],
            "expected_interval": [timedelta(seconds=10), None],
        }
    )
    flags = sf.flag_quality(pl.concat([a, b]), sf.QualityConfig(per_sensor=own)).collect()
    a_flags = flags.filter(pl.col("sensor_id") == "a")
    assert a_flags["flag_range"].to_list() == [False, True, True, False]
    # 5 is suspect (> 4), 12 fails (> 10); 3 passes the range but follows a gap
    assert a_flags["qartod"].to_list() == [1, 3, 4, 3]
    assert flags.filter(pl.col("sensor_id") == "b")["qartod"].to_list() == [1, 1, 1, 1]
    # a minute is more than 3 x 10 s: every step of sensor a is a gap
    assert flags.filter(pl.col("sensor_id") == "a")["flag_gap"].to_list() == [False] + [True] * 3
    assert not flags.filter(pl.col("sensor_id") == "b")["flag_gap"].any()


def test_an_empty_per_sensor_frame_changes_nothing() -> None:
    frame = sf.datasets.synthetic(n_sensors=2, n_points=400, seed=1).frame
    empty = pl.DataFrame({"sensor_id": []}, schema={"sensor_id": pl.String})
    with_empty = sf.flag_quality(frame, sf.QualityConfig(per_sensor=empty)).collect()
    assert with_empty.equals(sf.flag_quality(frame).collect())


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (
            pl.DataFrame({"sensor_id": ["a"], "valid_mx": [1.0]}),
            r"unknown column\(s\) \['valid_mx'\]",
        ),
        (pl.DataFrame({"sensor": ["a"]}), "needs a `sensor_id` column"),
        (pl.DataFrame({"sensor_id": ["a", "b", "a"]}), r"sensor\(s\) \['a'\] more than once"),
        (pl.DataFrame({"sensor_id": [None, "b"]}), "null id"),
        (pl.DataFrame({"sensor_id": [1, 2]}), "must hold strings"),
        (pl.DataFrame({"sensor_id": ["a", "b"], "outlier_z": [1.0, -2.0]}), "b: -2.0"),
        (pl.DataFrame({"sensor_id": ["a"], "valid_min": [float("nan")]}), "a: nan"),
        (pl.DataFrame({"sensor_id": ["a"], "max_stuck": ["1d"]}), "durations"),
        (
            pl.DataFrame({"sensor_id": ["a"], "max_stuck": [timedelta(0)]}),
            "`max_stuck` must hold durations > 0",
        ),
        (pl.DataFrame({"sensor_id": ["a"], "flatline_ignore": [[0.0, None]]}), "lists of finite"),
        (pl.DataFrame({"sensor_id": ["a"], "flatline_ignore": [0.0]}), "lists of numbers"),
        (
            pl.DataFrame({"sensor_id": ["s1"], "valid_min": [5.0], "valid_max": [1.0]}),
            "`valid_min` must be <= `valid_max` for sensor 's1'",
        ),
        ({"sensor_id": ["a"]}, "must be a polars DataFrame"),
    ],
)
def test_bad_per_sensor_frames_are_config_errors(frame: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        sf.QualityConfig(per_sensor=frame)  # type: ignore[arg-type]


def test_per_sensor_bounds_are_checked_against_the_defaults() -> None:
    own = pl.DataFrame({"sensor_id": ["a"], "suspect_max": [50.0]})
    with pytest.raises(ConfigError, match="`suspect_max` must be <= `valid_max` for sensor 'a'"):
        sf.QualityConfig(valid_max=20.0, per_sensor=own)


def test_configs_with_per_sensor_frames_compare_by_content() -> None:
    own = pl.DataFrame({"sensor_id": ["a"], "valid_max": [1.0]})
    assert sf.QualityConfig(per_sensor=own) == sf.QualityConfig(per_sensor=own.clone())
    assert sf.QualityConfig(per_sensor=own) != sf.QualityConfig()
    assert hash(sf.QualityConfig(per_sensor=own)) == hash(sf.QualityConfig())
