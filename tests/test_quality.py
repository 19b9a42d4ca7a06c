"""Tests of sensorframe.quality against the plain NumPy reference and on labelled faults."""

from __future__ import annotations

import itertools
import math
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.errors import ConfigError, InvalidParameterError, UnknownSensorError
from sensorframe.quality import (
    CHECKS,
    QualityConfig,
    QualityStatus,
    StatusThresholds,
    assess_quality,
    drift_ratio,
    flag_quality,
    flatline,
    mad_outlier,
    noise_level,
    zscore_outlier,
)
from sensorframe.quality.engine import flag_rows, sensor_table
from tests.conftest import T0, sensor_frames, tied_readings
from tests.test_quality_reference import reference_frame

COUNTS = [
    "rows",
    "missing_count",
    "outlier_count",
    "flat_points",
    "flat_runs",
    "longest_flat_run",
    "gap_count",
    "duplicate_timestamps",
    "out_of_order",
]


T0_US = (T0 - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _frame(values: list[float | None], *, sensor: str = "a", step_s: int = 60) -> pl.DataFrame:
    times = [T0 + timedelta(seconds=step_s * i) for i in range(len(values))]
    return pl.DataFrame(
        {"sensor_id": [sensor] * len(values), "timestamp": times, "value": values},
        schema={"sensor_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


REFERENCED = ("missing", "outlier", "flatline", "gap", "duplicate", "out_of_order", "range")
"""The checks tests/test_quality_reference.py implements (the others: tests/quality/)."""


def _check_against_reference(frame: pl.DataFrame, cfg: QualityConfig) -> None:
    cfg = replace(cfg, checks=REFERENCED)
    ref = reference_frame(frame, cfg)
    assert assess_quality(frame, cfg).sensors == sorted(ref)
    # every number of the engine's sensor table (the report adds rates, grades, texts)
    table = sensor_table(*flag_rows(sf.scan(frame), cfg, table=True)).collect()
    us = timedelta(microseconds=1)
    for row in table.iter_rows(named=True):
        want = ref[row["sensor_id"]]
        for col in COUNTS:
            assert row[col] == want[col], (row["sensor_id"], col)
        gap = row["largest_gap"]
        assert (None if gap is None else gap // us) == want["largest_gap_us"]
        assert _close(row["noise_std"], want["noise_std"])
        assert _close(row["drift_ratio"], want["drift_ratio"])
        assert math.isclose(row["pass_rate"], want["pass_rate"], abs_tol=1e-12)
        for col in ("range_failures", "range_suspects", "stuck", "longest_flat_value"):
            assert row[col] == want[col], (row["sensor_id"], col)
        assert row["gap_time_pct"] == pytest.approx(want["gap_time_pct"], rel=1e-9, abs=1e-9)
        duration, start, interval = (
            row[c] for c in ("longest_flat_duration", "longest_flat_start", "expected_interval")
        )
        assert (None if duration is None else duration // us) == want["longest_flat_us"]
        assert (None if interval is None else interval // us) == want["expected_interval_us"]
        want_start = want["longest_flat_start_us"]
        assert start == (None if want_start is None else T0 + (want_start - T0_US) * us)
    # per-row flags, in (sensor, time) order, against the reference's sorted order
    flags = flag_quality(frame, cfg).collect()
    for sid, want in ref.items():
        got = flags.filter(pl.col("sensor_id") == sid)
        for check in REFERENCED:
            assert got[f"flag_{check}"].to_list() == want["flags"][check].tolist(), (sid, check)
        assert got["qartod"].to_list() == want["qartod"].tolist(), sid


@given(frame=sensor_frames())
def test_counts_match_numpy_reference(frame: pl.DataFrame) -> None:
    _check_against_reference(frame, QualityConfig())


@given(frame=sensor_frames(values=tied_readings, max_rows=80))
def test_flat_runs_with_ties_match_reference(frame: pl.DataFrame) -> None:
    _check_against_reference(frame, QualityConfig(flatline_min_length=3))


@given(
    frame=sensor_frames(values=tied_readings, max_rows=60, regular=True, shuffle=False),
    min_length=st.integers(2, 6),
    ignore=st.sampled_from([(), (0.0,), (1.0, 3.25)]),
)
def test_flat_ignore_and_mad_match_reference(
    frame: pl.DataFrame, min_length: int, ignore: tuple[float, ...]
) -> None:
    cfg = QualityConfig(
        outlier_method="mad", flatline_min_length=min_length, flatline_ignore=ignore
    )
    _check_against_reference(frame, cfg)


@given(frame=sensor_frames(max_rows=60), data=st.data())
def test_duplicates_and_expected_interval_match_reference(
    frame: pl.DataFrame, data: st.DataObject
) -> None:
    # repeat some rows (same sensor and time, maybe another value) and shuffle
    if frame.height:
        idx = data.draw(st.lists(st.integers(0, frame.height - 1), max_size=10))
        frame = pl.concat([frame, frame[idx].with_columns(pl.col("value") + 1)])
        frame = frame.sample(fraction=1.0, shuffle=True, seed=data.draw(st.integers(0, 99)))
    interval = data.draw(st.sampled_from([None, timedelta(seconds=30), timedelta(minutes=2)]))
    _check_against_reference(frame, QualityConfig(expected_interval=interval, gap_factor=1.5))


def test_original_usage() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(20.0, 1.0, 1_000)
    values[rng.choice(1_000, 10, replace=False)] = np.nan
    spikes = rng.choice(np.flatnonzero(~np.isnan(values)), 10, replace=False)
    values[spikes] = 100.0
    times = [T0 + timedelta(minutes=i) for i in range(1_000)]
    report = sf.quality.assess_quality(
        sf.scan(values, timestamps=times, sensor_id="P-1"), QualityConfig()
    )
    record = report["P-1"]
    assert record.missing_count == 10
    assert record.outlier_count > 0
    assert record.issues
    assert any("10 of 1000" in text for text in record.issues)
    assert record.recommendations


def test_all_missing_sensor_is_critical() -> None:
    frame = pl.concat([_frame([None] * 6, sensor="dead"), _frame([1.0, 2.0, 1.5], sensor="ok")])
    report = assess_quality(frame)
    dead = report["dead"]
    assert dead.status is QualityStatus.CRITICAL
    assert dead.missing_count == 6
    assert dead.missing_pct == 100.0
    assert dead.outlier_pct == 0.0
    assert dead.noise_std is None
    assert dead.drift_ratio is None
    assert dead.pass_rate == 0.0
    assert any("all 6 readings are missing" in s for s in dead.issues)
    assert report["ok"].status is QualityStatus.EXCELLENT
    # the all-missing rule holds even if the ladder never reaches CRITICAL on missing
    lenient = QualityConfig(status=StatusThresholds(missing_pct=(None, None, None, None)))
    assert assess_quality(frame, lenient)["dead"].status is QualityStatus.CRITICAL


def test_single_reading() -> None:
    record = assess_quality(_frame([5.0]))["a"]
    assert (record.rows, record.outlier_count, record.gap_count) == (1, 0, 0)
    assert record.largest_gap is None
    assert record.median_step is None
    assert record.noise_std is None
    assert record.drift_ratio is None
    assert record.status is QualityStatus.EXCELLENT
    assert record.issues == ()


def test_constant_values_have_no_outliers_and_one_flat_run() -> None:
    for method in ("zscore", "mad"):
        record = assess_quality(_frame([0.1] * 12), QualityConfig(outlier_method=method))["a"]
        assert record.outlier_count == 0
        assert (record.flat_points, record.flat_runs, record.longest_flat_run) == (12, 1, 12)
        assert record.noise_std == 0.0
        assert record.drift_ratio == 0.0
        assert record.status >= QualityStatus.POOR  # every reading is flat


def test_missing_reading_breaks_a_flat_line() -> None:
    record = assess_quality(_frame([2.0] * 4 + [None] + [2.0] * 4))["a"]
    assert record.flat_points == 0  # 4 + 4 readings: neither run reaches 5
    record = assess_quality(_frame([2.0] * 5 + [float("nan")] + [2.0] * 6))["a"]
    assert (record.flat_points, record.flat_runs, record.longest_flat_run) == (11, 2, 6)
    assert record.missing_count == 1
    events = assess_quality(_frame([2.0] * 5 + [None] + [2.0] * 6)).events
    flat = events.filter(pl.col("check") == "flatline")
    assert flat["rows"].to_list() == [5, 6]


def test_touching_flat_lines_are_separate_runs_and_events() -> None:
    report = assess_quality(_frame([1.0] * 5 + [2.0] * 6))
    assert (report["a"].flat_runs, report["a"].longest_flat_run) == (2, 6)
    flat = report.events.filter(pl.col("check") == "flatline")
    assert flat["rows"].to_list() == [5, 6]


def test_flatline_ignore_resting_value() -> None:
    values = [0.0] * 10 + [3.0, 4.0, 5.0]
    assert assess_quality(_frame(values))["a"].flat_points == 10
    cfg = QualityConfig(flatline_ignore=(0.0,))
    assert assess_quality(_frame(values), cfg)["a"].flat_points == 0


def test_duplicates_and_unsorted_input() -> None:
    base = _frame([1.0, 2.0, 3.0, 4.0, 5.0])
    frame = pl.concat([base, base[[1, 3]]])[[4, 0, 6, 2, 1, 5, 3]]  # shuffled, 2 repeats
    record = assess_quality(frame)["a"]
    assert record.duplicate_timestamps == 2
    assert record.rows == 7
    times = frame["timestamp"].to_list()
    assert record.out_of_order == sum(b < a for a, b in itertools.pairwise(times))
    flags = flag_quality(frame).collect()
    assert flags["timestamp"].is_sorted()
    assert flags["flag_duplicate"].sum() == 2


def test_out_of_order_uses_input_order_per_sensor() -> None:
    a = _frame([1.0, 2.0, 3.0], sensor="a")
    b = _frame([1.0, 2.0, 3.0], sensor="b")
    interleaved = pl.concat([a[2], b[0], a[0], b[1], a[1], b[2]])
    report = assess_quality(interleaved)
    assert report["a"].out_of_order == 1  # t2 -> t0 is a step back; t0 -> t1 is not
    assert report["b"].out_of_order == 0


def test_sensors_in_any_order_give_the_same_report() -> None:
    a = _frame([1.0, 2.0, 9.0, 2.0, 2.0, 2.0], sensor="a")
    b = _frame([None, 5.0, 5.0, 5.0, 1.0, 5.0], sensor="b", step_s=30)
    sorted_report = assess_quality(pl.concat([a, b]))
    report = assess_quality(pl.concat([b, a]))  # whole sensors in another order
    assert report.table.equals(sorted_report.table)
    assert report.events.equals(sorted_report.events)
    # reversed, every reading steps back: only the flags that describe the input order
    # (and what they feed: flag_any, qartod) change
    order = ["flag_out_of_order", "flag_any", "qartod"]
    flags = flag_quality(pl.concat([a, b]).reverse()).collect()
    assert flags.drop(order).equals(flag_quality(pl.concat([a, b])).collect().drop(order))
    assert flags["flag_out_of_order"].sum() == 10


def test_unsorted_input_with_a_huge_time_span_sorts_on_the_columns() -> None:
    # 20 sensors x (year 1 .. 9999) overflows the one-key sort: the fallback sorts
    times = [datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC), T0]
    frame = pl.DataFrame(
        {
            "sensor_id": [f"s{k:02}" for k in range(20) for _ in times],
            "timestamp": times * 20,
            "value": [1.0, 2.0, 3.0] * 20,
        },
        schema={"sensor_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )
    report = assess_quality(frame.reverse())
    assert report.table["out_of_order"].to_list() == [1] * 20  # 2026, 9999, then 1
    flags = flag_quality(frame.reverse()).collect()
    assert flags.select("sensor_id", "timestamp").equals(
        frame.sort("sensor_id", "timestamp").select("sensor_id", "timestamp")
    )


def test_gap_and_events() -> None:
    frame = _frame([1.0, 2.0, 3.0, 2.0, 1.0, 2.0])
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) >= 3)
        .then(pl.col("timestamp") + timedelta(minutes=10))
        .otherwise(pl.col("timestamp"))
    )
    report = assess_quality(frame)
    record = report["a"]
    assert (record.gap_count, record.largest_gap, record.median_step) == (
        1,
        timedelta(minutes=11),
        timedelta(minutes=1),
    )
    assert record.expected_interval == timedelta(minutes=1)
    assert record.gap_time_pct == pytest.approx(100 * 10 / 15)  # 10 of 15 minutes lost
    assert any("largest 11 min" in s for s in record.issues)
    # the event spans the missing interval, from the last reading before to the first after
    gap = report.events.filter(pl.col("check") == "gap").row(0, named=True)
    assert gap["start"] == datetime(2026, 1, 1, 0, 2, tzinfo=UTC)
    assert gap["end"] == datetime(2026, 1, 1, 0, 13, tzinfo=UTC)
    assert gap["duration"] == timedelta(minutes=11)


def test_events_match_flag_runs() -> None:
    frame = _frame([1.0, None, None, 2.0, None, 3.0, 4.0])
    events = assess_quality(frame).events
    missing = events.filter(pl.col("check") == "missing")
    assert missing["rows"].to_list() == [2, 1]
    assert missing.columns[:4] == ["sensor_id", "check", "start", "end"]
    assert missing["start"][0] == T0 + timedelta(minutes=1)
    assert missing["end"][0] == T0 + timedelta(minutes=2)


def test_status_ladder() -> None:
    def status(n_missing: int) -> QualityStatus:
        # 0, 3, 6, 2, 5, 1, 4, ...: no straight line, flat-line, spike or shift
        values = [float(i * 3 % 7) for i in range(100 - n_missing)] + [None] * n_missing
        return assess_quality(_frame(values))["a"].status

    assert [status(k) for k in (5, 6, 11, 21, 51)] == [
        QualityStatus.EXCELLENT,
        QualityStatus.GOOD,
        QualityStatus.FAIR,
        QualityStatus.POOR,
        QualityStatus.CRITICAL,
    ]


def test_drift_grades_poor() -> None:
    values = [float(i % 3) for i in range(40)] + [10.0 + i % 3 for i in range(40)]
    graded = QualityConfig(status=StatusThresholds(drift=QualityStatus.POOR))
    record = assess_quality(_frame(values), graded)["a"]
    assert record.drift_flag
    assert record.drift_ratio == pytest.approx(10 / np.std([0.0, 1.0, 2.0] * 13 + [0.0]))
    assert record.status is QualityStatus.POOR
    assert any("threshold 2.0" in s for s in record.issues)


def test_drift_of_mid_series_step_can_exceed_two() -> None:
    # with the whole-series std the ratio of this step would be capped at 2
    values = [0.0, 1.0] * 10 + [5.0, 6.0] * 10
    whole = abs(np.mean(values[20:]) - np.mean(values[:20])) / np.std(values)
    assert whole <= 2
    got = pl.DataFrame({"v": values}).select(drift_ratio("v")).item()
    assert got == pytest.approx(10.0)


def test_report_record_and_unknown_sensor() -> None:
    report = assess_quality(_frame([1.0, 2.0, 3.0], sensor="P-1"))
    record = report["P-1"]
    assert record.status is QualityStatus.EXCELLENT
    with pytest.raises(FrozenInstanceError):
        record.rows = 3  # type: ignore[misc]
    with pytest.raises(UnknownSensorError, match="P-1"):
        report["P-2"]
    assert "P-1" in report
    assert len(report) == 1
    assert report.statuses == {"P-1": QualityStatus.EXCELLENT}
    assert [r.sensor_id for r in report] == ["P-1"]
    assert report.config == QualityConfig()
    assert report.table["status"].dtype == QualityStatus.dtype()
    assert report.table.schema["issues"] == pl.List(pl.String)


def test_empty_input() -> None:
    report = assess_quality(_frame([]))
    assert report.table.height == 0
    assert report.events.height == 0
    assert "rows" in report.table.columns
    assert repr(report) == "QualityReport(0 sensors)"
    assert flag_quality(_frame([])).collect().height == 0


def test_flag_quality_keeps_extra_columns_and_is_lazy() -> None:
    frame = _frame([1.0, None, 3.0]).with_columns(unit=pl.lit("bar"))
    out = flag_quality(frame)
    assert isinstance(out, pl.LazyFrame)
    cols = out.collect_schema().names()
    assert cols[:4] == ["sensor_id", "timestamp", "value", "unit"]
    assert cols[4:] == [f"flag_{c}" for c in CHECKS] + ["flag_any", "qartod"]
    assert out.collect()["flag_any"].to_list() == [False, True, False]


def test_status_enum_orders_by_severity() -> None:
    S = QualityStatus
    assert S.EXCELLENT < S.GOOD < S.FAIR < S.POOR < S.CRITICAL
    assert sorted([S.CRITICAL, S.EXCELLENT, S.FAIR]) == [S.EXCELLENT, S.FAIR, S.CRITICAL]
    assert S.POOR >= "fair"
    assert S.CRITICAL == "critical"
    assert [s.rank for s in S] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"outlier_method": "iqr"},
        {"outlier_z": 0},
        {"outlier_z": float("nan")},
        {"mad_threshold": -1.0},
        {"flatline_tolerance": "small"},
        {"flatline_min_length": 1},
        {"flatline_min_length": 2.5},
        {"flatline_ignore": [float("nan")]},
        {"flatline_ignore": "0"},
        {"gap_factor": 0.0},
        {"expected_interval": timedelta(0)},
        {"expected_interval": 60},
        {"drift_threshold": -0.1},
        {"status": "strict"},
    ],
)
def test_config_rejects_bad_fields(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        QualityConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"missing_pct": (5.0, 10.0, 20.0)},
        {"missing_pct": (50.0, 10.0, 20.0, 60.0)},
        {"outlier_pct": (5.0, 10.0, 150.0, None)},
        {"drift": "BAD"},
    ],
)
def test_status_thresholds_reject_bad_ladders(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        StatusThresholds(**kwargs)  # type: ignore[arg-type]


def test_config_is_frozen_and_coerces() -> None:
    cfg = QualityConfig(flatline_ignore=[0], status=StatusThresholds(drift="FAIR"))  # type: ignore[arg-type]
    assert cfg.flatline_ignore == (0.0,)
    assert cfg.status.drift is QualityStatus.FAIR
    with pytest.raises(FrozenInstanceError):
        cfg.outlier_z = 2.0  # type: ignore[misc]


def test_expressions_validate_parameters() -> None:
    with pytest.raises(InvalidParameterError):
        zscore_outlier("value", threshold=-1)
    with pytest.raises(InvalidParameterError):
        flatline("value", min_length=1)
    with pytest.raises(TypeError):
        mad_outlier(3)  # type: ignore[arg-type]


@given(frame=sensor_frames(max_rows=40))
def test_expressions_work_in_group_by_and_over(frame: pl.DataFrame) -> None:
    ref = reference_frame(frame, QualityConfig())
    stats = (
        frame.sort("sensor_id", "timestamp")
        .group_by("sensor_id")
        .agg(noise=noise_level("value"), drift=drift_ratio("value"))
    )
    for sid, noise, drift in stats.iter_rows():
        assert _close(noise, ref[sid]["noise_std"])
        assert _close(drift, ref[sid]["drift_ratio"])
    flagged = frame.sort("sensor_id", "timestamp").with_columns(
        z=zscore_outlier("value").over("sensor_id")
    )
    for sid, part in flagged.group_by("sensor_id"):
        want = ref[str(sid[0])]["flags"]["outlier"]
        assert part["z"].fill_null(value=False).to_list() == want.tolist()


@given(
    frame=sensor_frames(values=tied_readings, max_rows=50),
    method=st.sampled_from(["zscore", "mad"]),
    ignore=st.sampled_from([(), (0.0,)]),
)
def test_public_row_expressions_over_sensor_match_reference(
    frame: pl.DataFrame, method: str, ignore: tuple[float, ...]
) -> None:
    cfg = QualityConfig(outlier_method=method, flatline_min_length=3, flatline_ignore=ignore)  # type: ignore[arg-type]
    ref = reference_frame(frame, cfg)
    q = sf.quality
    outlier = (
        q.zscore_outlier("value", threshold=cfg.outlier_z)
        if method == "zscore"
        else q.mad_outlier("value", threshold=cfg.mad_threshold)
    )
    ooo = frame.with_columns(q.out_of_order("timestamp").over("sensor_id").alias("ooo"))
    for sid, part in ooo.group_by("sensor_id"):
        assert part["ooo"].sum() == ref[str(sid[0])]["out_of_order"]
    flagged = frame.sort("sensor_id", "timestamp", maintain_order=True).with_columns(
        missing=q.missing("value"),
        outlier=outlier.over("sensor_id").fill_null(value=False),
        flatline=q.flatline("value", min_length=3, ignore=ignore).over("sensor_id"),
        gap=q.gap("timestamp").over("sensor_id"),
        duplicate=q.duplicate_timestamp("timestamp").over("sensor_id"),
    )
    for sid, part in flagged.group_by("sensor_id", maintain_order=True):
        want = ref[str(sid[0])]["flags"]
        for check in ("missing", "outlier", "flatline", "gap", "duplicate"):
            assert part[check].to_list() == want[check].tolist(), (sid, check)
