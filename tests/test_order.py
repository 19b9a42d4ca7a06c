"""The canonical (sensor, time) order, shared by quality, features and the content hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe import _order
from sensorframe._order import in_order, keyed, sensor_runs, sort_frame
from tests.conftest import sensor_frames


def _frames() -> dict[str, pl.DataFrame]:
    """Frames that take each path of the canonical sort: in order, keyed, two columns."""
    rng = np.random.default_rng(14)
    n = 300
    start = datetime(2026, 1, 1, tzinfo=UTC)
    values = rng.normal(size=n)
    values[::9] = None
    values[::13] = -0.0
    base = pl.DataFrame(
        {
            "sensor_id": [f"s{k}" for k in rng.integers(0, 12, n)],
            "timestamp": [start + timedelta(minutes=int(k)) for k in rng.integers(0, 40, n)],
            "value": values,
            "quality": rng.integers(0, 3, n),
            "tag": [["x", "y", "z"][k] for k in rng.integers(0, 3, n)],
        }
    )
    years = rng.integers(1, 10_000, n)  # with 40 ids, too wide for the Int64 key
    wide = base.with_columns(
        timestamp=pl.Series([datetime(int(y), 1, 1, tzinfo=UTC) for y in years]),
        sensor_id=pl.Series([f"w{k}" for k in rng.integers(0, 40, n)]),
    )
    keys = base.select("sensor_id", "timestamp", "value")
    return {
        "shuffled_ties": base,
        "sorted": base.sort("sensor_id", "timestamp", "value", "quality", "tag", nulls_last=True),
        "sensor_sorted_times_not": base.sort("sensor_id"),
        "keys_only": keys.unique(["sensor_id", "timestamp"], keep="first").sort("value"),
        "wide": wide,
        "empty": base.head(0),
    }


# Content-hash scheme 2 (per-sensor digests): hashes stored in Delta tables stay valid
# only while the hash's row order (and everything else) stays the same.
PINNED = {
    "shuffled_ties": "59f45a2fd0f5585dc9e61c6039bac11024f7f3f020a41924e84d0d8c74340a45",
    "sorted": "59f45a2fd0f5585dc9e61c6039bac11024f7f3f020a41924e84d0d8c74340a45",
    "sensor_sorted_times_not": "59f45a2fd0f5585dc9e61c6039bac11024f7f3f020a41924e84d0d8c74340a45",
    "keys_only": "db32ae7c61d797f1ecf22ef9175ffaac6f92a8ef7f3576cab16fa8841c97c08b",
    "wide": "977b43ea8512bf60e7af6daacc073f08f8d5c0f429b56ffc43f626f246517789",
    "empty": "466f40ec53367c28d2196fa1253ef3e70502a0af007b517ac562af23c0e7f7f5",
}


@pytest.mark.parametrize("name", PINNED)
def test_content_hashes_are_those_of_scheme_2(name: str) -> None:
    assert sf.content_hash(_frames()[name]) == PINNED[name]


@given(frame=sensor_frames(max_rows=50), sample=st.sampled_from([100_000, 3]))
def test_sort_frame_is_the_stable_two_column_sort(frame: pl.DataFrame, sample: int) -> None:
    """With a sample of 3 rows the ids are usually missed, then taken from every row."""
    back = frame.with_columns(back=sf.quality.out_of_order("timestamp").over("sensor_id"))
    want = back.sort("sensor_id", "timestamp", maintain_order=True)
    with mock.patch.object(_order, "_SAMPLE_ROWS", sample):
        got = sort_frame(frame, steps_back="back")
    assert got.equals(want)
    assert got["value"].to_numpy().view(np.uint64).tolist() == (
        want["value"].to_numpy().view(np.uint64).tolist()
    )  # -0.0 stays -0.0
    lengths = in_order(got.drop("back"))
    assert lengths is not None
    assert lengths.tolist() == sensor_runs(want["sensor_id"])[1].tolist()


@pytest.mark.parametrize("name", ["wide", "nulls", "nanoseconds"])
def test_frames_without_a_key_sort_on_the_two_columns(name: str) -> None:
    frame = _frames()["wide"] if name == "wide" else _frames()["shuffled_ties"]
    if name == "nulls":  # as scan(validate=False) may give
        frame = frame.with_columns(pl.when(pl.col("quality") == 0).then("sensor_id").alias("x"))
        frame = frame.with_columns(sensor_id="x").drop("x")
    if name == "nanoseconds":  # a key in microseconds would round them
        frame = frame.with_columns(
            pl.col("timestamp").dt.cast_time_unit("ns") + pl.duration(nanoseconds=pl.col("quality"))
        )
    assert keyed(frame, ["value"]) is None
    want = frame.with_columns(back=sf.quality.out_of_order("timestamp").over("sensor_id"))
    assert sort_frame(frame, steps_back="back").equals(
        want.sort("sensor_id", "timestamp", maintain_order=True)
    )


def test_in_order_needs_sorted_sensors_and_time_forward_within_each() -> None:
    t = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=k) for k in (0, 1, 0, 2)]
    frame = pl.DataFrame({"sensor_id": ["a", "a", "b", "b"], "timestamp": t})
    lengths = in_order(frame)
    assert lengths is not None
    assert lengths.tolist() == [2, 2]
    assert in_order(frame.with_columns(sensor_id=pl.Series(["a", "b", "b", "b"]))) is None
    assert in_order(frame.with_columns(sensor_id=pl.Series(["b", "b", "a", "a"]))) is None
    late = frame.with_columns(timestamp=pl.Series([*t[:3], t[0] - timedelta(1)]))
    assert in_order(late) is None
    null = frame.with_columns(timestamp=pl.Series([t[0], None, t[2], t[3]]))
    assert in_order(null) is not None  # a null time never steps back, as in quality


def test_quality_counts_steps_back_in_input_order_whatever_the_path() -> None:
    """Keyed and two-column sorts count the same steps back as the public expression."""
    for name in ("shuffled_ties", "wide"):
        frame = sf.scan(_frames()[name]).collect()
        want = (
            frame.group_by("sensor_id")
            .agg(sf.quality.out_of_order("timestamp").sum().alias("out_of_order"))
            .sort("sensor_id")
        )
        table = sf.assess_quality(frame).table.select("sensor_id", "out_of_order")
        assert table.sort("sensor_id").equals(want.cast({"out_of_order": pl.Int64}))
