"""Events: one row per fault episode, checked against a plain-Python reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings

from sensorframe.quality import QualityConfig, assess_quality, flag_quality
from tests.conftest import T0, sensor_frames, tied_readings

COLUMNS = ["sensor_id", "check", "start", "end", "duration", "rows", "value"]
CONFIG = QualityConfig(flatline_min_length=3, gap_factor=2.0)


def reference(flags: pl.DataFrame, cfg: QualityConfig) -> list[tuple[Any, ...]]:
    """The events of flagged rows (sorted by sensor and time), row by row."""
    ids, t, x = flags["sensor_id"].to_list(), flags["timestamp"].to_list(), flags["value"]
    x = x.to_numpy()
    events: list[tuple[Any, ...]] = []
    checks = [c.removeprefix("flag_") for c in flags.columns if c.startswith("flag_")]
    for check in (c for c in checks if c != "any"):
        flag = flags[f"flag_{check}"].to_list()
        if check == "gap":
            events += [
                (ids[i], check, t[i - 1], t[i], t[i] - t[i - 1], 0, None)
                for i in range(len(flag))
                if flag[i]
            ]
            continue
        i = 0
        while i < len(flag):
            if not flag[i]:
                i += 1
                continue
            j = i + 1
            while j < len(flag) and flag[j] and ids[j] == ids[i]:
                touching = check == "flatline" and abs(x[j] - x[j - 1]) >= cfg.flatline_tolerance
                if touching:
                    break
                j += 1
            value = None
            if check == "flatline":
                value = x[i]
            elif check == "level_shift":
                value = _shift_size(flags, ids, x, i)
            events.append((ids[i], check, t[i], t[j - 1], t[j - 1] - t[i], j - i, value))
            i = j
    return sorted(events, key=lambda e: (e[0], e[2], e[1]))


def _shift_size(flags: pl.DataFrame, ids: list[str], x: np.ndarray, i: int) -> float | None:
    """Mean of the segment a shift at row i starts minus the mean of the segment before."""
    mine = np.flatnonzero(np.array(ids) == ids[i])
    cuts = [k for k in mine if flags["flag_level_shift"][int(k)]]
    starts = [int(mine[0]), *map(int, cuts), int(mine[-1]) + 1]
    k = starts.index(i)
    if k == 0:
        return None
    before, after = x[starts[k - 1] : i], x[i : starts[k + 1]]
    return float(np.nanmean(after) - np.nanmean(before))


def close(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g[:6] == w[:6]
        if w[6] is None or g[6] is None:
            assert g[6] is w[6] is None or (w[6] is not None and np.isnan(w[6]))
        else:
            assert np.isclose(g[6], w[6], rtol=1e-9, atol=1e-9)


@settings(max_examples=25)  # each example runs the whole engine twice
@given(sensor_frames(values=tied_readings, max_rows=60) | sensor_frames(max_rows=40, shuffle=False))
def test_events_match_the_reference(frame: pl.DataFrame) -> None:
    # tied readings: flat-lines and touching flat-lines; continuous ones: outliers, spikes
    flags = flag_quality(frame, CONFIG).collect()
    report = assess_quality(frame, CONFIG)
    close(report.events.rows(), reference(flags, CONFIG))
    # the counts the table reads off the events are the flagged rows
    counts = flags.group_by("sensor_id").agg(
        pl.col("flag_spike").sum().alias("spike_count"),
        pl.col("flag_interpolated").sum().alias("interpolated_points"),
        pl.col("flag_level_shift").sum().alias("level_shifts"),
    )
    got = report.table.select(counts.columns).sort("sensor_id")
    assert got.equals(counts.sort("sensor_id").cast(dict(got.schema)))


def _minutes(values: list[float | None], *, at: list[int] | None = None) -> pl.DataFrame:
    minutes = at if at is not None else list(range(len(values)))
    return pl.DataFrame(
        {
            "sensor_id": "a",
            "timestamp": [T0 + timedelta(minutes=m) for m in minutes],
            "value": values,
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    )


def test_a_gap_event_spans_the_missing_interval() -> None:
    frame = _minutes([1.0, 2.0, 3.0, 2.0, 1.0, 2.0], at=[0, 1, 2, 13, 14, 15])
    events = assess_quality(frame).events
    assert events.columns == COLUMNS
    gap = events.filter(pl.col("check") == "gap").row(0, named=True)
    assert gap["start"] == datetime(2026, 1, 1, 0, 2, tzinfo=UTC)  # the last reading before
    assert gap["end"] == datetime(2026, 1, 1, 0, 13, tzinfo=UTC)  # the first after
    assert gap["duration"] == timedelta(minutes=11)
    assert gap["rows"] == 0
    assert gap["value"] is None


def test_a_flat_line_event_carries_its_value_and_duration() -> None:
    frame = _minutes([1.0, 2.0] + [0.0] * 8 + [3.0, 1.0])
    flat = assess_quality(frame).events.filter(pl.col("check") == "flatline").row(0, named=True)
    assert (flat["rows"], flat["value"], flat["duration"]) == (8, 0.0, timedelta(minutes=7))
    assert flat["start"] == T0 + timedelta(minutes=2)


def test_no_events_on_empty_input() -> None:
    events = assess_quality(_minutes([])).events
    assert events.height == 0
    assert events.columns == COLUMNS
    assert events.schema["duration"] == pl.Duration("us")


def test_a_level_shift_event_carries_the_size_of_the_step() -> None:
    g = np.random.default_rng(1)
    levels = [0.0, 3.2, 1.0]
    frame = _minutes(list(np.concatenate([g.normal(m, 0.1, 300) for m in levels])))
    report = assess_quality(frame)
    shifts = report.events.filter(pl.col("check") == "level_shift")
    assert shifts["start"].to_list() == [T0 + timedelta(minutes=m) for m in (300, 600)]
    x = frame["value"].to_numpy()
    want = [x[300:600].mean() - x[:300].mean(), x[600:].mean() - x[300:600].mean()]
    np.testing.assert_allclose(shifts["value"].to_numpy(), want)
    record = report["a"]
    assert record.largest_shift == pytest.approx(want[0])
    assert record.largest_shift_at == T0 + timedelta(minutes=300)
