"""
``Pipeline.run`` in batches of whole sensors equals the run in memory.

Tiny ``batch_rows`` split a few sensors into many batches (a sensor larger than the
budget is a batch of its own); the sensor table, the quality and drift reports, the
committed versions and their content hashes must be those of the run in memory.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe.pipeline import _commit, runner
from tests.conftest import sensor_frames

FEATURES = sf.FeatureConfig(rolling_windows=[3], rolling_stats=["mean", "std"], lags=[1])


def _pipe(root: Path, **changes: Any) -> sf.Pipeline:
    settings = {"features": FEATURES, "min_readings": 3, "normalize": "zscore", **changes}
    config = sf.PipelineConfig(**settings)
    return sf.Pipeline(sf.DatasetStore(root), config)


def _run(pipe: sf.Pipeline, frame: pl.DataFrame, **kwargs: Any) -> sf.PipelineRun | str:
    """The run, or the message of the PipelineError it raised."""
    try:
        return pipe.run(frame, progress=False, **kwargs)
    except sf.PipelineError as exc:
        return str(exc)


def assert_same_run(
    batched: sf.PipelineRun | str, memory: sf.PipelineRun | str, pipes: tuple[sf.Pipeline, ...]
) -> None:
    if isinstance(memory, str) or isinstance(batched, str):
        assert isinstance(batched, str)
        assert isinstance(memory, str)
        return
    assert_frame_equal(batched.sensors, memory.sensors, check_exact=True)
    assert batched.rows_left_out == memory.rows_left_out
    assert (batched.quality is None) == (memory.quality is None)
    if batched.quality is not None and memory.quality is not None:
        assert_frame_equal(batched.quality.table, memory.quality.table, check_exact=True)
        assert_frame_equal(batched.quality.events, memory.quality.events, check_exact=True)
    assert (batched.drift is None) == (memory.drift is None)
    if batched.drift is not None and memory.drift is not None:
        assert_frame_equal(
            batched.drift.table.sort("sensor_id"),
            memory.drift.table.sort("sensor_id"),
            check_exact=True,
        )
    assert batched.versions.keys() == memory.versions.keys()
    for name, version in memory.versions.items():
        assert batched.versions[name].data_hash == version.data_hash
        assert batched.versions[name].rows == version.rows
        assert batched.versions[name].sensors == version.sensors
    b, m = (p.store.read("processed").collect() for p in pipes)
    assert_frame_equal(b, m, check_exact=True)


@pytest.mark.filterwarnings("ignore::sensorframe.errors.ZeroScaleWarning")
@settings(max_examples=8, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(
    frame=sensor_frames(max_rows=120, sensors="abcd"),
    batch_rows=st.integers(1, 80),
    window=st.sampled_from([None, timedelta(minutes=40)]),
    sensors=st.sampled_from([None, ["a", "c", "d"]]),
)
def test_batched_runs_equal_the_run_in_memory(
    tmp_path_factory: pytest.TempPathFactory,
    frame: pl.DataFrame,
    batch_rows: int,
    window: timedelta | None,
    sensors: list[str] | None,
) -> None:
    pipes = (_pipe(tmp_path_factory.mktemp("b")), _pipe(tmp_path_factory.mktemp("m")))
    later = frame.with_columns(pl.col("value") * 2.0 + 1.0)
    for data in (frame, later):  # the second run detects drift against the first's reference
        batched = _run(pipes[0], data, batch_rows=batch_rows, window=window, sensors=sensors)
        memory = _run(pipes[1], data, window=window, sensors=sensors)
        assert_same_run(batched, memory, pipes)


@pytest.fixture
def data() -> pl.DataFrame:
    return sf.datasets.synthetic(n_sensors=5, n_points=400, seed=3, freq="10m").frame


def test_each_sensor_its_own_batch(tmp_path: Path, data: pl.DataFrame) -> None:
    pipes = (_pipe(tmp_path / "b"), _pipe(tmp_path / "m"))
    first = _run(pipes[0], data, batch_rows=1)
    assert_same_run(first, _run(pipes[1], data), pipes)
    assert not isinstance(first, str)
    assert first.batches == 5
    assert "in 5 batches" in first.summary()
    assert set(first.timings) >= {"load", "quality", "normalize", "features", "drift", "version"}
    later = data.with_columns(pl.col("value") + (pl.col("sensor_id") == "S002") * 5.0)
    second = _run(pipes[0], later, batch_rows=900)
    assert_same_run(second, _run(pipes[1], later), pipes)
    assert not isinstance(second, str)
    assert second.batches == 3
    assert second.drift is not None
    assert "S002" in second.drift.drifted


def test_a_bad_sensor_fails_alone_in_its_batch(
    tmp_path: Path, data: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner.engineer_features

    def broken(frame: Any, config: Any) -> Any:
        if "S001" in frame["sensor_id"].to_list():
            msg = "S001 breaks the features"
            raise ValueError(msg)
        return real(frame, config)

    monkeypatch.setattr(runner, "engineer_features", broken)
    short = pl.concat(
        [
            data,
            data.filter(pl.col("sensor_id") == "S000").head(2).with_columns(sensor_id=pl.lit("S9")),
        ]
    )
    pipes = (_pipe(tmp_path / "b"), _pipe(tmp_path / "m"))
    batched = _run(pipes[0], short, batch_rows=800)
    assert_same_run(batched, _run(pipes[1], short), pipes)
    assert not isinstance(batched, str)
    failed = batched.sensors.filter(pl.col("status") == "failed")
    assert failed["sensor_id"].to_list() == ["S001", "S9"]
    assert "S001 breaks the features" in failed["error"][0]
    assert "only 2 finite reading(s)" in failed["error"][1]
    assert pipes[0].store.latest("processed").sensors == ("S000", "S002", "S003", "S004")


def test_every_sensor_failing_in_every_batch_fails_the_run(
    tmp_path: Path, data: pl.DataFrame
) -> None:
    pipe = _pipe(tmp_path, min_readings=1_000)
    with pytest.raises(sf.PipelineError, match=r"every sensor failed: .*only 400 finite"):
        pipe.run(data, batch_rows=800, progress=False)
    assert pipe.store.datasets() == []
    finish = pipe.runs().filter(pl.col("event") == "finish")
    assert set(finish["status"]) == {"failed"}


def test_a_failure_midway_leaves_no_version_and_no_staging(
    tmp_path: Path, data: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _commit.Staging.add

    def add(staging: _commit.Staging, raw: pl.DataFrame, processed: pl.DataFrame) -> None:
        if staging.parts == 2:
            msg = "disk full"
            raise OSError(msg)
        real(staging, raw, processed)

    monkeypatch.setattr(_commit.Staging, "add", add)
    pipe = _pipe(tmp_path)
    with pytest.raises(OSError, match="disk full"):
        pipe.run(data, batch_rows=400, progress=False)
    assert pipe.store.datasets() == []
    assert list((tmp_path / "_sensorframe" / "staging").glob("*")) == []
    [error] = pipe.runs().filter(pl.col("event") == "finish")["error"].unique()
    assert error == "disk full"
    monkeypatch.setattr(_commit.Staging, "add", real)
    assert _run(pipe, data, batch_rows=400) != ""  # the next run works
    assert pipe.store.latest("processed").version == 0


def test_processed_rolls_forward_from_the_staged_parts(
    tmp_path: Path, data: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sf.DatasetStore.commit
    calls: list[str] = []

    def processed_fails_once(store: Any, dataset: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(dataset)
        if calls == ["raw", "processed"]:
            raise sf.CommitConflictError("lost the race")
        return real(store, dataset, *args, **kwargs)

    monkeypatch.setattr(sf.DatasetStore, "commit", processed_fails_once)
    pipes = (_pipe(tmp_path / "b"), _pipe(tmp_path / "m"))
    with pytest.raises(sf.CommitConflictError):
        pipes[0].run(data, batch_rows=800, progress=False)
    monkeypatch.setattr(sf.DatasetStore, "commit", real)
    memory = pipes[1].run(data, progress=False)
    rolled = pipes[0].store.version("processed", 0)  # committed at once from the parts
    assert rolled.parents == (("raw", 0),)
    assert rolled.data_hash == memory.versions["processed"].data_hash
    assert set(pipes[0].runs().filter(pl.col("event") == "finish")["status"]) == {"success"}
    assert list((tmp_path / "b" / "_sensorframe" / "staging").glob("*")) == []


def test_batch_settings_are_checked_and_recorded(tmp_path: Path, data: pl.DataFrame) -> None:
    with pytest.raises(sf.ConfigError):
        sf.PipelineConfig(batch_rows=0)
    with pytest.raises(sf.ConfigError):
        sf.PipelineConfig(memory_limit="lots")
    pipe = _pipe(tmp_path, memory_limit="4GB")
    run = pipe.run(data, batch_rows=700, progress=False)
    [params] = pipe.runs(run_id=run.run_id)["params"].unique()
    recorded = json.loads(params)
    assert (recorded["batch_rows"], recorded["memory_limit"]) == (700, None)  # the run's
    assert run.batches == 5
