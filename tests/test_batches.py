"""Batches of whole sensors: same rows and order as the in-memory path, temp folder cleanup."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe._batches import Batches, rows_per_batch, stream, wants_batches
from sensorframe.errors import ConfigError, InvalidTypeError
from tests.conftest import T0, sensor_frames


def _in_memory(source: object) -> pl.DataFrame:
    return sf.scan(source).collect().sort("sensor_id", "timestamp", maintain_order=True)


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the partition pass write under a folder the test can inspect."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _ties() -> pl.DataFrame:
    """Three sensors, shuffled, with rows equal in (sensor, time) but not in value."""
    times = [T0.replace(minute=m) for m in (3, 1, 1, 2, 1, 1, 0, 1)]
    return pl.DataFrame(
        {
            "sensor_id": ["b", "a", "a", "c", "b", "a", "c", "b"],
            "timestamp": times,
            "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        },
        schema={"sensor_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )


@pytest.mark.parametrize(
    ("kwargs", "rows"),
    [
        ({"batch_rows": 7}, 7),
        ({"memory_limit": "2MB"}, 2 * 1024**2 // 2_400),
        ({"memory_limit": "1.5 GiB"}, int(1.5 * 1024**3) // 2_400),
        ({"memory_limit": 4_800_000}, 2_000),
    ],
)
def test_rows_per_batch_from_rows_or_bytes(kwargs: dict[str, object], rows: int) -> None:
    assert rows_per_batch(**kwargs) == rows  # type: ignore[arg-type]


def test_rows_per_batch_default_is_positive() -> None:
    assert rows_per_batch() >= 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"memory_limit": "lots"},
        {"memory_limit": "4 parsecs"},
        {"memory_limit": "-1GB"},
        {"memory_limit": 0},
        {"memory_limit": "10B"},
        {"batch_rows": 0},
        {"batch_rows": 5, "memory_limit": "1GB"},
    ],
)
def test_bad_budget_is_a_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        rows_per_batch(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"memory_limit": 1.5}, {"batch_rows": "10"}])
def test_budget_of_the_wrong_type(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidTypeError):
        rows_per_batch(**kwargs)  # type: ignore[arg-type]


@given(
    frame=sensor_frames(max_rows=40, sensors="abcde"),
    budget=st.integers(1, 15),
    lazy=st.booleans(),
    by_sensor=st.booleans(),
)
def test_batches_concatenate_to_the_sorted_frame(
    frame: pl.DataFrame, budget: int, lazy: bool, by_sensor: bool
) -> None:
    if by_sensor:  # in sensor order (read by row ranges), times still in input order
        frame = frame.sort("sensor_id", maintain_order=True)
    source = frame.lazy() if lazy else frame
    with Batches(source, batch_rows=budget, progress=False) as batches:
        parts = list(batches)
    assert len(parts) == len(batches)
    expected = _in_memory(frame)
    got = pl.concat(parts) if parts else expected.clear()
    assert got.equals(expected)
    assert batches.rows == frame.height
    assert batches.sensors == sorted(set(frame["sensor_id"]))
    seen: list[str] = []
    for part in parts:
        ids = part["sensor_id"].unique(maintain_order=True).to_list()
        assert part.height <= budget or len(ids) == 1  # one sensor above the budget
        seen += ids
    assert seen == batches.sensors  # each sensor whole, in one batch, in order


def test_ties_keep_their_input_order_through_the_partition_pass(temp_root: Path) -> None:
    frame = _ties()
    with Batches(frame.lazy(), batch_rows=3, progress=False) as batches:
        got = pl.concat(list(batches))
    assert got["value"].to_list() == [2.0, 3.0, 6.0, 5.0, 8.0, 1.0, 7.0, 4.0]
    assert list(temp_root.iterdir()) == []


def test_a_sensor_larger_than_the_budget_is_a_batch_of_its_own() -> None:
    frame = _ties()
    with Batches(frame, batch_rows=2, progress=False) as batches:
        sizes = [(b["sensor_id"].unique().to_list(), b.height) for b in batches]
    assert sizes == [(["a"], 3), (["b"], 3), (["c"], 2)]


def test_empty_input_has_no_batches() -> None:
    frame = _ties().clear()
    batches = Batches(frame.lazy(), batch_rows=2, progress=False)
    assert (len(batches), batches.rows, batches.sensors, list(batches)) == (0, 0, [], [])


def test_sensor_filter_selects_whole_sensors(temp_root: Path) -> None:
    frame = _ties()
    with Batches(frame.lazy(), batch_rows=1, sensors=["c", "a", "zz"], progress=False) as b:
        got = pl.concat(list(b))
    assert b.sensors == ["a", "c"]
    assert got.equals(_in_memory(frame).filter(pl.col("sensor_id").is_in(["a", "c"])))


def test_unsorted_parquet_goes_through_one_partition_pass(tmp_path: Path, temp_root: Path) -> None:
    frame = sf.datasets.synthetic(n_sensors=6, n_points=400, seed=3).frame.sample(
        fraction=1.0, shuffle=True, seed=1
    )
    path = tmp_path / "shuffled.parquet"
    frame.write_parquet(path)
    batches = Batches(path, batch_rows=1_000, progress=False)
    parts = []
    for part in batches:
        parts.append(part)
        assert len(list(temp_root.iterdir())) == 1  # the partitions, while iterating
    assert len(parts) == 3
    assert pl.concat(parts).equals(_in_memory(frame))
    assert list(temp_root.iterdir()) == []  # removed at the end of the iteration


def test_parquet_in_sensor_order_is_read_by_row_ranges(tmp_path: Path, temp_root: Path) -> None:
    frame = sf.datasets.synthetic(n_sensors=6, n_points=400, seed=3).frame
    folder = tmp_path / "sorted"
    folder.mkdir()
    frame.filter(pl.col("sensor_id") < "S003").write_parquet(folder / "part-0.parquet")
    frame.filter(pl.col("sensor_id") >= "S003").write_parquet(folder / "part-1.parquet")
    parts = []
    for part in Batches(str(folder), batch_rows=1_000, progress=False):
        parts.append(part)
        assert list(temp_root.iterdir()) == []  # no partition pass
    assert [p["sensor_id"].unique().sort().to_list() for p in parts] == [
        ["S000", "S001"],
        ["S002", "S003"],
        ["S004", "S005"],
    ]
    assert pl.concat(parts).equals(_in_memory(frame))


def test_sensors_together_but_not_in_id_order_are_partitioned(
    tmp_path: Path, temp_root: Path
) -> None:
    frame = sf.datasets.synthetic(n_sensors=4, n_points=400, seed=3).frame
    path = tmp_path / "descending.parquet"
    frame.sort("sensor_id", descending=True, maintain_order=True).write_parquet(path)
    batches = Batches(path, batch_rows=800, progress=False)
    parts = []
    for part in batches:
        parts.append(part)
        assert len(list(temp_root.iterdir())) == 1
    assert pl.concat(parts).equals(_in_memory(frame))


def test_temp_folder_is_removed_after_an_error_mid_iteration(
    tmp_path: Path, temp_root: Path
) -> None:
    path = tmp_path / "ties.parquet"
    _ties().write_parquet(path)
    with pytest.raises(RuntimeError, match="consumer failed"):  # noqa: PT012
        for _ in Batches(path, batch_rows=1, progress=False):  # no `with`: the loop cleans up
            assert list(temp_root.iterdir())
            msg = "consumer failed"
            raise RuntimeError(msg)
    assert list(temp_root.iterdir()) == []


def test_delta_input(tmp_path: Path, temp_root: Path) -> None:
    frame = sf.datasets.synthetic(n_sensors=4, n_points=400, seed=5).frame
    table = tmp_path / "table"
    frame.filter(pl.col("sensor_id") > "S001").write_delta(table)
    frame.filter(pl.col("sensor_id") <= "S001").write_delta(table, mode="append")
    with Batches(str(table), batch_rows=500, progress=False) as batches:
        parts = list(batches)
    assert len(parts) == 4
    assert pl.concat(parts).equals(_in_memory(frame))
    assert list(temp_root.iterdir()) == []


def test_wants_batches_when_asked_or_for_large_files(tmp_path: Path) -> None:
    frame = _ties()
    path = tmp_path / "ties.parquet"
    frame.write_parquet(path)
    assert not wants_batches(frame)
    assert not wants_batches(path)  # 8 rows: below the default budget
    assert wants_batches(frame, batch_rows=3)
    assert wants_batches(path, memory_limit="1GB")


def test_progress_logs_rows_and_sensors(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sensorframe"):
        list(Batches(_ties(), batch_rows=3, progress=True, label="test"))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0].startswith("test: 3/8 rows (37%), 1/3 sensors")
    assert lines[-1].startswith("test: 8/8 rows (100%), 3/3 sensors")


def test_stream_collects_and_sinks_the_batches(tmp_path: Path) -> None:
    frame = _ties()
    expected = _in_memory(frame)
    lf = stream(Batches(frame, batch_rows=3, progress=False), frame.schema)
    assert lf.collect().equals(expected)
    assert lf.collect().equals(expected)  # a Batches can be iterated again
    lf.sink_parquet(tmp_path / "out.parquet")
    assert pl.read_parquet(tmp_path / "out.parquet").equals(expected)
    picked = lf.filter(pl.col("value") > 4).select("value").head(3).collect()
    assert picked["value"].to_list() == expected.filter(pl.col("value") > 4)["value"][:3].to_list()
