"""Issue and recommendation texts: the evidence in words, from the table's numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensorframe.quality import QualityConfig, StatusThresholds
from sensorframe.quality.text import human_duration, issue_exprs, recommendation_exprs

DAY = timedelta(days=1)
CLEAN: dict[str, Any] = {
    "rows": 10_000,
    "missing_count": 0,
    "missing_pct": 0.0,
    "outlier_count": 0,
    "outlier_pct": 0.0,
    "flat_points": 0,
    "flat_pct": 0.0,
    "flat_runs": 0,
    "longest_flat_run": 0,
    "longest_flat_duration": None,
    "longest_flat_value": None,
    "longest_flat_start": None,
    "stuck": False,
    "gap_count": 0,
    "gap_time_pct": 0.0,
    "largest_gap": None,
    "expected_interval": timedelta(minutes=5),
    "duplicate_timestamps": 0,
    "out_of_order": 0,
    "range_failures": 0,
    "range_fail_pct": 0.0,
    "range_suspects": 0,
    "range_suspect_pct": 0.0,
    "spike_count": 0,
    "spike_pct": 0.0,
    "interpolated_points": 0,
    "interpolated_pct": 0.0,
    "level_shifts": 0,
    "largest_shift": None,
    "largest_shift_at": None,
    "trend_per_day": 0.0,
    "trend_pvalue": 0.5,
    "noise_std": 0.1,
    "drift_ratio": 0.0,
    "drift_flag": False,
}
SCHEMA = {
    "longest_flat_duration": pl.Duration("us"),
    "largest_gap": pl.Duration("us"),
    "expected_interval": pl.Duration("us"),
    "longest_flat_start": pl.Datetime("us", "UTC"),
    "largest_shift_at": pl.Datetime("us", "UTC"),
    "longest_flat_value": pl.Float64,
    "largest_shift": pl.Float64,
}


def texts(row: dict[str, Any], cfg: QualityConfig | None = None) -> tuple[list[str], list[str]]:
    cfg = cfg or QualityConfig()
    table = pl.DataFrame([CLEAN | row], schema_overrides=SCHEMA)
    out = table.select(
        issues=pl.concat_list(issue_exprs(cfg)).list.drop_nulls(),
        recommendations=pl.concat_list(recommendation_exprs(cfg)).list.drop_nulls(),
    ).row(0)
    return out[0], out[1]


def test_a_clean_sensor_has_nothing_to_say() -> None:
    assert texts({}) == ([], [])


def test_a_dead_sensor_is_named_dead_with_value_duration_and_start() -> None:
    dead = {
        "flat_points": 101_376,
        "flat_pct": 96.4,
        "flat_runs": 1,
        "longest_flat_run": 101_376,
        "longest_flat_duration": 352 * DAY,
        "longest_flat_value": 0.0,
        "longest_flat_start": datetime(2016, 3, 2, 6, 0, tzinfo=UTC),
        "stuck": True,
    }
    issues, recommendations = texts(dead)
    assert issues[0] == "stuck: flat at 0.0 for 352 days since 2016-03-02: the sensor may be dead"
    assert "the longest 101376 readings at 0.0 for 352 days since 2016-03-02" in issues[1]
    assert recommendations[0].startswith("check whether the sensor is dead or disconnected")
    assert "flatline_ignore" in recommendations[0]
    frozen = texts(dead | {"longest_flat_value": 0.6244, "longest_flat_duration": DAY})[0]
    assert frozen[0] == "stuck: flat at 0.6244 for 1 day since 2016-03-02: the sensor may be frozen"
    assert len(recommendations) == 1  # not also "check for a stuck sensor"


def test_a_short_flat_line_names_its_start_to_the_minute() -> None:
    flat = {
        "flat_points": 12,
        "flat_pct": 0.12,
        "flat_runs": 2,
        "longest_flat_run": 7,
        "longest_flat_duration": timedelta(minutes=30),
        "longest_flat_value": 21.25,
        "longest_flat_start": datetime(2026, 2, 3, 14, 5, tzinfo=UTC),
    }
    (issue,), _ = texts(flat)
    assert issue.endswith("the longest 7 readings at 21.25 for 30 min since 2026-02-03 14:05")


def test_gaps_say_how_many_how_long_and_how_much_time_is_lost() -> None:
    gaps = {"gap_count": 7, "largest_gap": DAY + timedelta(hours=8), "gap_time_pct": 12.04}
    (issue,), (rec,) = texts(gaps)
    assert issue == (
        "gaps: 7 step(s) longer than 3.0 x the expected interval (5 min), "
        "largest 1 day 8 h (12.04% of the expected time lost)"
    )
    assert "largest 1 day 8 h" in rec


def test_a_trend_is_information_and_never_asks_for_recalibration() -> None:
    # 2.1 ppm per year over 60 years of weekly readings, far above the noise
    rising = {
        "rows": 3_000,
        "expected_interval": 7 * DAY,
        "trend_per_day": 2.1 / 365.25,
        "trend_pvalue": 1e-12,
        "drift_flag": True,
        "drift_ratio": 9.0,
    }
    issues, recommendations = texts(rising)
    assert issues == ["trend: +2.1 per year (p < 0.0001); information, not graded"]
    assert recommendations == []
    # per day on a shorter record; not mentioned when below the noise or not significant
    week = {"rows": 2_016, "trend_per_day": -0.5, "trend_pvalue": 0.003}
    assert texts(week)[0] == ["trend: -0.5 per day (p = 0.003); information, not graded"]
    assert texts(week | {"noise_std": 5.0})[0] == []
    assert texts(week | {"trend_pvalue": 0.2})[0] == []


def test_drift_is_mentioned_only_when_it_grades() -> None:
    drifting = {"drift_flag": True, "drift_ratio": 3.0}
    assert texts(drifting) == ([], [])
    graded = QualityConfig(status=StatusThresholds(drift="POOR"))  # type: ignore[arg-type]
    issues, recommendations = texts(drifting, graded)
    assert issues == [
        "drift: the second-half mean is 3.0 first-half standard deviations from the "
        "first-half mean (threshold 2.0)"
    ]
    assert not any("recalibrat" in r for r in recommendations)


def test_a_level_shift_says_how_large_and_when() -> None:
    shift = {
        "level_shifts": 1,
        "largest_shift": 3.2,
        "largest_shift_at": datetime(2026, 2, 3, 10, 30, tzinfo=UTC),
    }
    (issue,), (rec,) = texts(shift)
    assert issue == "level shift: 1 step(s) in level, the largest +3.2 at 2026-02-03 10:30"
    assert rec.startswith("find out what changed at 2026-02-03 10:30")


@pytest.mark.parametrize(
    ("row", "issue", "rec"),
    [
        (
            {"range_failures": 4, "range_fail_pct": 0.04},
            "range: 4 reading(s) (0.04%) outside the valid range (QARTOD fail)",
            "mask the 4 reading(s) outside the valid range",
        ),
        (
            {"range_suspects": 2, "range_suspect_pct": 0.02},
            "range: 2 reading(s) (0.02%) in the suspect range (QARTOD suspect)",
            None,
        ),
        (
            {"spike_count": 3, "spike_pct": 0.03},
            "spikes: 3 reading(s) (0.03% of non-missing) jump away from both neighbours",
            "mask the 3 spike(s) (flag_spike)",
        ),
        (
            {"interpolated_points": 40, "interpolated_pct": 0.4},
            "interpolated: 40 reading(s) (0.4% of non-missing) lie on straight lines",
            "treat the 40 interpolated readings as missing",
        ),
        (
            {"duplicate_timestamps": 2},
            "duplicates: 2 reading(s) repeat an earlier timestamp",
            "deduplicate the 2 repeated timestamp(s)",
        ),
        (
            {"out_of_order": 5},
            "out of order: 5 reading(s) earlier than the one before them in the input",
            "sort by timestamp before use",
        ),
    ],
)
def test_each_new_check_has_its_words(row: dict[str, Any], issue: str, rec: str | None) -> None:
    issues, recommendations = texts(row)
    assert len(issues) == 1
    assert issues[0].startswith(issue)
    if rec is None:
        assert recommendations == []
    else:
        assert len(recommendations) == 1
        assert recommendations[0].startswith(rec)


def _reference(us: int) -> str:
    """Two largest units of a duration, in words."""
    s = us // 1_000_000
    if s < 1:
        return f"{float(f'{us / 1e3:.3g}')} ms"
    units = [("day", 86_400), ("h", 3_600), ("min", 60), ("s", 1)]
    for k, (unit, size) in enumerate(units):
        if s >= size:
            whole, rest = s // size, 0
            if k + 1 < len(units):
                rest = (s % size) // units[k + 1][1]
            name = unit + ("s" if unit == "day" and whole != 1 else "")
            if rest == 0:
                return f"{whole} {name}"
            nxt = units[k + 1][0]
            nxt += "s" if nxt == "day" and rest != 1 else ""
            return f"{whole} {name} {rest} {nxt}"
    raise AssertionError


# below a second whole milliseconds: three significant figures without rounding ties
durations = st.integers(0, 400 * 86_400 * 10**6).map(
    lambda u: u if u >= 10**6 else u // 1000 * 1000
)


@given(st.lists(durations, max_size=20))
def test_human_duration_matches_its_definition(us: list[int]) -> None:
    d = pl.Series(us, dtype=pl.Int64).cast(pl.Duration("us"))
    got = pl.select(human_duration(pl.lit(d))).to_series().to_list()
    assert got == [_reference(u) for u in us]
