"""drift_timeline / detect_timeline: chunks, leave-one-out reference chunks, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe.drift.timeline import MAX_CHUNKS, _chunks, detect_timeline, drift_timeline
from tests.conftest import sensor_frames

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PER_DAY = 144  # one reading every 10 minutes
CHUNK_COLUMNS = ["chunk", "chunk_start", "chunk_end", "rows", "in_reference"]


def days(values: dict[str, np.ndarray], *, start: datetime = T0) -> pl.DataFrame:
    """A long frame, one reading every 10 minutes from `start`, per sensor."""
    parts = [
        pl.DataFrame(
            {
                "sensor_id": [sid] * len(v),
                "timestamp": [start + timedelta(minutes=10 * i) for i in range(len(v))],
                "value": v,
            },
            schema={
                "sensor_id": pl.String,
                "timestamp": pl.Datetime("us", "UTC"),
                "value": pl.Float64,
            },
        )
        for sid, v in values.items()
    ]
    return pl.concat(parts)


def noise(seed: int, n_days: int, sensors: str = "abc") -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {s: rng.normal(size=n_days * PER_DAY) for s in sensors}


def day(k: int) -> pl.Expr:
    start = T0 + timedelta(days=k)
    return pl.col("timestamp").is_between(start, start + timedelta(days=1), closed="left")


def by_hand(reference: pl.DataFrame, chunk: pl.DataFrame) -> pl.DataFrame:
    return sf.detect_drift(reference, chunk).table.sort("sensor_id")


def chunk_rows(timeline: pl.DataFrame, k: int) -> pl.DataFrame:
    return timeline.filter(pl.col("chunk") == k).drop(CHUNK_COLUMNS).sort("sensor_id")


def test_chunks_outside_the_reference_equal_detect_drift_on_each_chunk() -> None:
    ref = days(noise(0, 2))
    later = noise(1, 3)
    later["b"][PER_DAY:] += 1.0  # b moves from the second chunk on
    frame = days(later, start=T0 + timedelta(days=2))
    out = drift_timeline(ref, frame, every="1d")
    assert out.height == 3 * 3
    assert not out["in_reference"].any()
    for k in range(3):
        expected = by_hand(ref, frame.filter(day(2 + k)))
        assert_frame_equal(chunk_rows(out, k), expected)
    assert out.filter(pl.col("sensor_id") == "b")["drift_detected"].to_list() == [
        False,
        True,
        True,
    ]


def test_reference_chunks_are_scored_leaving_themselves_out() -> None:
    ref = days(noise(2, 3))
    out = drift_timeline(ref, ref, every="1d")
    assert out["in_reference"].all()
    for k in range(3):
        left_out = ref.filter(~day(k))
        assert_frame_equal(chunk_rows(out, k), by_hand(left_out, ref.filter(day(k))))
    assert out["n_ref"].unique().to_list() == [2 * PER_DAY]
    # leave_out=False scores against the whole reference (NannyML's way)
    whole = drift_timeline(ref, ref, every="1d", leave_out=False)
    assert not whole["in_reference"].any()
    assert_frame_equal(chunk_rows(whole, 1), by_hand(ref, ref.filter(day(1))))


def test_a_chunk_half_in_the_reference_leaves_out_only_its_window() -> None:
    values = noise(3, 3)
    frame = days(values)
    ref = frame.filter(pl.col("timestamp") < T0 + timedelta(days=1, hours=12))
    out = drift_timeline(ref, frame, every="1d")
    assert out.group_by("chunk").agg(pl.col("in_reference").all()).sort("chunk")[
        "in_reference"
    ].to_list() == [True, True, False]
    second = frame.filter(day(1))
    assert_frame_equal(chunk_rows(out, 1), by_hand(ref.filter(~day(1)), second))
    assert_frame_equal(chunk_rows(out, 2), by_hand(ref, frame.filter(day(2))))


def test_a_shift_from_day_5_shows_from_day_5_chunk_on() -> None:
    values = noise(4, 10)
    values["b"][5 * PER_DAY :] += 0.8
    frame = days(values)
    ref = frame.filter(pl.col("timestamp") < T0 + timedelta(days=3))
    out = drift_timeline(ref, frame, every="1d")
    b = out.filter(pl.col("sensor_id") == "b").sort("chunk")
    assert b["drift_detected"].to_list() == [False] * 5 + [True] * 5
    assert b["chunk_start"][5] == T0 + timedelta(days=5)
    others = out.filter(pl.col("sensor_id") != "b")  # 20 no-drift chunks at alpha 5%
    assert others["drift_detected"].sum() <= 2


def test_empty_chunks_and_absent_sensors() -> None:
    ref = days(noise(5, 2))
    values = noise(6, 3)
    frame = days(values, start=T0 + timedelta(days=2)).filter(
        ~day(3) & ~((pl.col("sensor_id") == "c") & day(4))  # c misses the third
    )
    out = drift_timeline(ref, frame, every="1d")
    assert out.height == 3 * 3  # the empty day is a chunk: a gap shows
    gap = out.filter(pl.col("chunk") == 1)
    assert gap["rows"].to_list() == [0, 0, 0]
    assert gap["status"].to_list() == ["all_missing"] * 3
    assert gap["severity"].null_count() == 3
    assert gap["chunk_start"].to_list() == [T0 + timedelta(days=3)] * 3
    c_last = out.filter((pl.col("chunk") == 2) & (pl.col("sensor_id") == "c"))
    assert c_last["rows"].item() == 0
    assert c_last["status"].item() == "all_missing"


def test_a_sensor_missing_from_the_reference() -> None:
    ref = days(noise(7, 2, "ab"))
    frame = days(noise(8, 2, "abz"), start=T0 + timedelta(days=2))
    out = drift_timeline(ref, frame, every="1d")
    z = out.filter(pl.col("sensor_id") == "z")
    assert z["status"].to_list() == ["no_reference"] * 2
    assert z["rows"].to_list() == [PER_DAY] * 2
    assert z["severity"].null_count() == 2
    assert z["drift_detected"].null_count() == 2


def test_row_count_chunks_cut_each_sensor_in_time_order() -> None:
    ref = days(noise(9, 2))
    frame = days(noise(10, 2), start=T0 + timedelta(days=2)).reverse()  # any row order
    out = drift_timeline(ref, frame, every=100)
    assert out.filter(pl.col("sensor_id") == "a")["rows"].to_list() == [100, 100, 88]
    ordered = frame.sort("sensor_id", "timestamp")
    second = ordered.with_columns(i=pl.int_range(pl.len()).over("sensor_id")).filter(
        pl.col("i").is_between(100, 199)
    )
    assert_frame_equal(chunk_rows(out, 1), by_hand(ref, second.drop("i")))
    a1 = out.filter((pl.col("sensor_id") == "a") & (pl.col("chunk") == 1))
    times = second.filter(pl.col("sensor_id") == "a")["timestamp"]
    assert a1["chunk_start"].item() == times.min()
    assert a1["chunk_end"].item() == times.max()


def test_row_chunks_in_the_reference_leave_out_their_own_rows() -> None:
    ref = days(noise(11, 2))
    out = drift_timeline(ref, ref, every=PER_DAY)
    assert out["in_reference"].all()
    first = ref.filter(day(0))
    assert_frame_equal(chunk_rows(out, 0), by_hand(ref.filter(~day(0)), first))


def test_detect_timeline_scores_against_the_fitted_profile() -> None:
    ref = days(noise(12, 2))
    det = sf.DriftDetector().fit(ref)
    out = detect_timeline(det, ref, every="1d")
    assert not out["in_reference"].any()
    assert_frame_equal(chunk_rows(out, 0), det.detect(ref.filter(day(0))).table.sort("sensor_id"))
    assert_frame_equal(det.detect_timeline(ref, every="1d"), out)  # the method delegates


def test_empty_frame_gives_no_rows_with_the_columns() -> None:
    ref = days(noise(13, 1))
    out = drift_timeline(ref, ref.clear(), every="1d")
    assert out.height == 0
    full = drift_timeline(ref, ref, every="1d")
    assert out.schema == full.schema
    assert out.columns[:6] == [
        "chunk",
        "chunk_start",
        "chunk_end",
        "sensor_id",
        "rows",
        "in_reference",
    ]


@given(
    frame=sensor_frames(max_rows=60),
    every=st.sampled_from(["1m", "7min", "90s", "1h", timedelta(minutes=13)]),
)
def test_duration_chunks_align_like_group_by_dynamic(frame: pl.DataFrame, every: object) -> None:
    micros = sf.features.config.parse_duration_us(every)  # type: ignore[arg-type]
    chunks = _chunks(frame, every)  # type: ignore[arg-type]
    got = []
    for k in range(len(chunks.sizes)):
        window = chunks.window(k)
        assert window is not None
        rows = chunks.rows(k)
        assert rows["timestamp"].is_between(*window, closed="left").all()
        got += [(s, window[0], n) for s, n in rows.group_by("sensor_id").len().rows()]
    expected = (
        frame.sort("timestamp")
        .group_by_dynamic("timestamp", every=f"{micros}us", group_by="sensor_id")
        .agg(pl.len())
        .select("sensor_id", "timestamp", "len")
        .rows()
    )
    assert sorted(got) == sorted(expected)
    assert int(chunks.sizes.sum()) == frame.height


def test_bad_input_is_refused_with_typed_errors() -> None:
    ref = days(noise(14, 1, "a"))
    with pytest.raises(sf.ConfigError, match="every"):
        drift_timeline(ref, ref, every="0s")
    with pytest.raises(sf.ConfigError, match="every"):
        drift_timeline(ref, ref, every="1mo")
    with pytest.raises(sf.ConfigError, match="every"):
        drift_timeline(ref, ref, every=0)
    with pytest.raises(sf.InvalidTypeError, match="every"):
        drift_timeline(ref, ref, every=True)
    with pytest.raises(sf.InvalidTypeError, match="every"):
        drift_timeline(ref, ref, every=1.5)  # type: ignore[arg-type]
    with pytest.raises(sf.ConfigError, match=f"more than {MAX_CHUNKS:_}"):
        drift_timeline(ref, ref, every="1s")
    with pytest.raises(sf.InvalidTypeError, match="leave_out"):
        drift_timeline(ref, ref, leave_out="yes")  # type: ignore[arg-type]
    with pytest.raises(sf.InvalidTypeError, match="config"):
        drift_timeline(ref, ref, config={"alpha": 0.1})  # type: ignore[arg-type]
    with pytest.raises(sf.NotFittedError):
        detect_timeline(sf.DriftDetector(), ref)
    with pytest.raises(sf.InvalidTypeError, match="detector"):
        detect_timeline("detector", ref)  # type: ignore[arg-type]


def test_a_detector_fitted_with_a_target_and_extra_columns() -> None:
    values = noise(15, 2)
    ref = days(values).with_columns(y=pl.col("value") * 2.0, note=pl.lit("x"))
    det = sf.DriftDetector().fit(ref, target="y")
    out = detect_timeline(det, ref, every="1d")
    expected = det.detect(ref.filter(day(1))).table.sort("sensor_id")
    assert_frame_equal(chunk_rows(out, 1), expected)
    assert "target_psi" in out.columns
    with pytest.raises(sf.SensorSchemaError, match="y"):
        detect_timeline(det, ref.drop("y"), every="1d")
