"""Quality and drift reports behave alike: ordered string grades, Enum columns, short reprs."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import polars as pl
import pytest

import sensorframe as sf
from sensorframe.drift import DriftConfig, DriftSeverity, detect_drift
from sensorframe.errors import (
    ConfigError,
    InvalidParameterError,
    InvalidTypeError,
    UnknownSensorError,
)
from sensorframe.frame import SENSOR
from sensorframe.quality import QualityStatus, assess_quality
from tests.drift.helpers import frame


@pytest.fixture(scope="module")
def quality() -> sf.QualityReport:
    g = np.random.default_rng(3)
    values: dict[str, Any] = {
        "ok": g.normal(size=200),
        "dead": [None] * 50,
        "holes": [1.0, None] * 20,
    }
    return assess_quality(frame(values))


@pytest.fixture(scope="module")
def drift() -> sf.DriftReport:
    g = np.random.default_rng(4)
    sizes = {f"S{i:02d}": 400 for i in range(12)}
    ref = frame({s: g.normal(size=n) for s, n in sizes.items()} | {"few": [1.0, 2.0]})
    cur_values = {s: g.normal(2.0 if s == "S03" else 0.0, 1, size=n) for s, n in sizes.items()}
    return detect_drift(ref, frame(cur_values | {"few": [1.0, 3.0]}))


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (QualityStatus, ["excellent", "good", "fair", "poor", "critical"]),
        (DriftSeverity, ["none", "low", "moderate", "high", "critical"]),
    ],
)
def test_grades_are_ordered_lowercase_strings(enum: type[QualityStatus], values: list[str]) -> None:
    members = list(enum)
    assert [m.value for m in members] == values
    assert [m.rank for m in members] == list(range(5))
    assert all(a < b for a, b in itertools.pairwise(members))
    assert sorted([members[i] for i in (3, 0, 4, 1, 2)]) == members
    assert max(members[1], members[3], members[0]) is members[3]
    assert members[0] == values[0]
    assert members[2] >= values[1]
    assert members[1] < values[2].upper()
    assert enum(values[2].upper()) is members[2]
    assert enum[values[2].upper()] is members[2]
    assert enum.dtype() == pl.Enum(values)
    with pytest.raises(InvalidParameterError, match="'bogus' is not a"):
        _ = members[0] < "bogus"


def test_grades_of_different_kinds_do_not_compare() -> None:
    with pytest.raises(TypeError):
        _ = QualityStatus.GOOD < DriftSeverity.HIGH
    with pytest.raises(TypeError):
        _ = QualityStatus.GOOD < 2


def test_drift_severity_compared_with_int_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="rank") as compared:
        above = DriftSeverity.HIGH > 2
    with pytest.warns(DeprecationWarning, match="rank") as looked_up:
        member = DriftSeverity(3)  # type: ignore[arg-type]
    assert above
    assert member is DriftSeverity.HIGH
    assert compared[0].filename == looked_up[0].filename == __file__
    with pytest.raises(TypeError):
        _ = DriftSeverity.HIGH > 2.5


def test_quality_status_severity_is_deprecated_for_rank() -> None:
    with pytest.warns(DeprecationWarning, match="rank") as caught:
        assert QualityStatus.POOR.severity == 3
    assert caught[0].filename == __file__


def test_original_design_severity_check_works(drift: sf.DriftReport) -> None:
    sev = drift["S00"].severity
    assert sev is not None
    assert sev.value in ["none", "low"]
    high = drift["S03"].severity
    assert high is not None
    assert high.value in ["moderate", "high", "critical"]


def test_tables_hold_enum_columns_that_sort_by_severity(
    quality: sf.QualityReport, drift: sf.DriftReport
) -> None:
    assert quality.table.schema["status"] == QualityStatus.dtype()
    assert quality.table.sort("status")[SENSOR].to_list() == ["ok", "holes", "dead"]
    assert drift.table.schema["severity"] == DriftSeverity.dtype()
    worst = drift.table.sort("severity", descending=True, nulls_last=True)
    assert worst[SENSOR][0] == "S03"
    assert drift.table.filter(pl.col("severity") >= "moderate")[SENSOR].to_list() == ["S03"]


def test_reports_iterate_index_and_measure_alike(
    quality: sf.QualityReport, drift: sf.DriftReport
) -> None:
    pairs: list[tuple[Any, type]] = [(quality, sf.SensorQuality), (drift, sf.SensorDrift)]
    for report, item in pairs:
        items = list(report)
        assert len(items) == len(report) == report.table.height
        assert all(isinstance(i, item) for i in items)
        assert [i.sensor_id for i in items] == report.sensors
        assert report[report.sensors[0]] == items[0]
        assert report.sensors[0] in report
        with pytest.raises(UnknownSensorError, match="'nope'"):
            report["nope"]
        with pytest.raises(InvalidTypeError, match="sensor id must be a string, got int"):
            report[0]


def test_report_reprs_are_short_counts(quality: sf.QualityReport, drift: sf.DriftReport) -> None:
    assert repr(quality) == "QualityReport(3 sensors: 1 excellent, 1 poor, 1 critical)"
    assert repr(drift) == (
        "DriftReport(13 sensors: 6 none, 5 low, 1 critical, 1 insufficient_data; 1 drifted)"
    )
    assert repr(quality["dead"]) == "SensorQuality('dead', critical, 50 rows, 1 issue)"
    assert [r.graded_by for r in quality] == [("missing",), ("missing",), ()]  # dead, holes, ok
    assert repr(drift["S03"]) == "SensorDrift('S03', critical, drifted, score 13.4)"
    assert repr(drift["few"]) == "SensorDrift('few', insufficient_data)"


def test_drift_min_readings_renames_min_samples() -> None:
    assert DriftConfig(min_readings=3).min_readings == 3
    with pytest.warns(DeprecationWarning, match="min_readings") as caught:
        old = DriftConfig(min_samples=3, alpha=0.01)  # type: ignore[call-arg]
    assert caught[0].filename == __file__
    assert old == DriftConfig(min_readings=3, alpha=0.01)
    with pytest.warns(DeprecationWarning, match="min_readings"):
        assert old.min_samples == 3  # type: ignore[attr-defined]
    assert dataclasses.replace(old, alpha=0.02).min_readings == 3
    with pytest.raises(ConfigError, match="min_readings"):
        DriftConfig(min_readings=0)
    with pytest.raises(InvalidTypeError, match="both"):
        DriftConfig(min_samples=3, min_readings=3)  # type: ignore[call-arg]
    few = detect_drift(frame({"a": [1.0, 2.0, 3.0]}), frame({"a": [1.0, 3.0, 4.0]}))
    assert few["a"].status == "insufficient_data"
    assert "at least 20 finite readings" in few["a"].recommendations[0]


def _series(sensor: str, times: np.ndarray, values: np.ndarray) -> pl.DataFrame:
    start = np.datetime64("2016-01-01T00:00:00", "us")
    return pl.DataFrame(
        {"sensor_id": sensor, "timestamp": start + times, "value": values},
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    )


@pytest.fixture(scope="module")
def field() -> sf.QualityReport:
    """The issue's real-data cases, rebuilt: a dead year, a gappy flow, a rising record."""
    g = np.random.default_rng(15)
    hour, five = np.timedelta64(1, "h"), np.timedelta64(5, "m")
    hours = np.arange(365 * 24)
    daily = np.sin(2 * np.pi * hours / 24)
    dead = 20 + 10 * daily + g.normal(0, 0.5, hours.size)
    dead[13 * 24 :] = 0.0  # exactly 0.0 from day 14 to the end: 352 days
    steps = np.ones(30 * 288, dtype=np.int64)
    gaps = [3, 4, 6, 12, 30, 60, 384]  # in readings; the largest 1 day 8 h (384 x 5 min)
    steps[np.linspace(500, 8000, len(gaps)).astype(int)] += gaps
    flow = _series("flow", np.cumsum(steps) * five, 3 + g.normal(0, 0.2, steps.size))
    weeks = np.arange(60 * 52)
    co2 = 315 + 2.1 * weeks / 52 + 3 * np.sin(2 * np.pi * weeks / 52) + g.normal(0, 0.3, weeks.size)
    frames = [
        _series("module_temp", hours * hour, dead),
        flow,
        _series("co2", weeks * np.timedelta64(7, "D"), co2),
        _series("clean", hours[:5000] * hour, g.normal(0, 1, 5000)),
    ]
    return assess_quality(pl.concat(frames))


def test_a_dead_year_is_critical_and_named(field: sf.QualityReport) -> None:
    dead = field["module_temp"]
    assert dead.status is QualityStatus.CRITICAL
    assert dead.stuck
    assert "flatline" in dead.graded_by
    # 8448 hourly readings at 0.0: 351 days 23 h from the first to the last
    assert dead.issues[0].startswith("stuck: flat at 0.0 for 351 days 23 h since 2016-01-14")
    assert dead.issues[0].endswith("the sensor may be dead")


def test_a_gappy_sensor_is_not_excellent(field: sf.QualityReport) -> None:
    flow = field["flow"]
    assert flow.status > QualityStatus.EXCELLENT
    assert flow.graded_by == ("gap",)
    assert flow.gap_count == 7
    gap_text = next(t for t in flow.issues if t.startswith("gaps:"))
    assert "7 step(s)" in gap_text
    assert "largest 1 day 8 h" in gap_text
    events = field.events.filter((pl.col(SENSOR) == "flow") & (pl.col("check") == "gap"))
    assert events["duration"].max() == np.timedelta64(385 * 5, "m")


def test_a_trend_is_reported_not_graded(field: sf.QualityReport) -> None:
    co2 = field["co2"]
    assert co2.status <= QualityStatus.GOOD
    assert any(t.startswith("trend: +2.1 per year") for t in co2.issues)
    assert not any("recalibrat" in t for t in co2.recommendations)


def test_a_clean_sensor_stays_excellent(field: sf.QualityReport) -> None:
    assert field["clean"].status <= QualityStatus.GOOD
