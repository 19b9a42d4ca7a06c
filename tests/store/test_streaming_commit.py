"""Committing batches of whole sensors: one Delta commit, the in-memory version's metadata."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorframe.errors import (
    DatasetNotFoundError,
    InvalidParameterError,
    SensorSchemaError,
)
from sensorframe.prepare import content_hash
from sensorframe.store import DatasetStore
from tests.conftest import sensor_frames

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def readings(sensors: str, n: int = 3, offset: float = 0.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": [s for s in sensors for _ in range(n)],
            "timestamp": [T0 + timedelta(minutes=i) for _ in sensors for i in range(n)],
            "value": [float(i) + offset for _ in sensors for i in range(n)],
            "note": [f"{s}{i}" for s in sensors for i in range(n)],
        }
    )


def by_sensor(frame: pl.DataFrame, groups: list[list[str]]) -> list[pl.DataFrame]:
    return [frame.filter(pl.col("sensor_id").is_in(g)) for g in groups]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=15)
@given(
    frame=sensor_frames(sensors="abcdef"), cut=st.lists(st.integers(0, 3), min_size=6, max_size=6)
)
def test_batches_commit_the_version_memory_would(
    tmp_path: Path, frame: pl.DataFrame, cut: list[int]
) -> None:
    groups = [[s for s, c in zip("abcdef", cut, strict=True) if c == k] for k in range(4)]
    root = tmp_path / f"lake-{len(list(tmp_path.iterdir()))}"
    streamed, memory = DatasetStore(root / "s"), DatasetStore(root / "m")
    want = memory.commit("raw", frame)
    got = streamed.commit("raw", iter(by_sensor(frame, groups)))
    assert (got.data_hash, got.rows, got.sensors) == (want.data_hash, want.rows, want.sensors)
    assert got.data_hash == content_hash(frame)
    assert content_hash(streamed.read("raw")) == want.data_hash
    assert streamed.verify("raw", got.version)


def test_one_delta_commit_per_version_with_files_per_batch(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "lake")
    first = store.commit("raw", by_sensor(readings("abcd"), [["a", "b"], ["c"], ["d"]]))
    assert first.version == 0
    assert len(DeltaTable(str(tmp_path / "lake" / "raw")).file_uris()) == 3
    more = readings("xy", offset=5.0)
    appended = store.commit(
        "raw", [more.filter(sensor_id="x"), more.filter(sensor_id="y")], mode="append"
    )
    assert appended.version == 1
    assert appended.batch_hash == content_hash(more)
    assert appended.rows == 18
    assert appended.sensors == ("a", "b", "c", "d", "x", "y")
    assert store.verify("raw", 1)
    # an overwrite that changes the schema, in batches
    narrow = readings("ab").drop("note")
    replaced = store.commit("raw", by_sensor(narrow, [["a"], ["b"]]))
    assert replaced.data_hash == content_hash(narrow)
    assert store.read("raw").collect_schema().names() == ["sensor_id", "timestamp", "value"]
    assert store.verify("raw", 2)
    assert store.versions("raw")["version"].to_list() == [0, 1, 2]


def test_a_failure_mid_way_leaves_no_version(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "lake")

    def failing() -> Iterator[pl.DataFrame]:
        yield readings("a")
        yield readings("b")
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError, match="the source broke"):
        store.commit("raw", failing())
    with pytest.raises(DatasetNotFoundError):
        store.latest("raw")
    v0 = store.commit("raw", readings("a"))
    with pytest.raises(RuntimeError, match="the source broke"):
        store.commit("raw", failing(), mode="append")
    assert store.latest("raw") == v0
    assert content_hash(store.read("raw")) == content_hash(readings("a"))


def test_bad_batches_are_refused_naming_the_problem(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "lake")
    with pytest.raises(SensorSchemaError, match="batch 1 has the columns"):
        store.commit("raw", [readings("a"), readings("b").drop("note")])
    with pytest.raises(InvalidParameterError, match=r"\['a'\] have more than one digest"):
        store.commit("raw", [readings("a").head(1), readings("a").tail(2)])
    with pytest.raises(InvalidParameterError, match="no batches to commit"):
        store.commit("raw", [])
    with pytest.raises(DatasetNotFoundError):
        store.latest("raw")


def test_batches_of_types_polars_does_not_write_are_committed_from_memory(
    tmp_path: Path,
) -> None:
    frame = readings("ab").with_columns(tags=pl.Series([[1], [2, 3], [], None, [4], [5]]))
    store = DatasetStore(tmp_path / "lake")
    v = store.commit("raw", by_sensor(frame, [["a"], ["b"]]))
    assert v.data_hash == content_hash(frame)
    assert store.verify("raw", 0)
    empty = store.commit("empty", [readings("a").head(0)])
    assert empty.rows == 0
    assert empty.data_hash == content_hash(readings("a").head(0))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)
@given(frame=sensor_frames(sensors="abcdef"), batch_rows=st.integers(1, 30))
def test_a_lazy_source_in_batches_commits_the_version_memory_would(
    tmp_path: Path, frame: pl.DataFrame, batch_rows: int
) -> None:
    root = tmp_path / f"lake-{len(list(tmp_path.iterdir()))}"
    want = DatasetStore(root / "m").commit("raw", frame)
    streamed = DatasetStore(root / "s")
    got = streamed.commit("raw", frame.lazy(), batch_rows=batch_rows)
    assert (got.data_hash, got.rows, got.sensors) == (want.data_hash, want.rows, want.sensors)
    assert streamed.verify("raw", got.version)
