from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.datasets import synthetic
from sensorframe.pipeline import runner

WEEK = timedelta(days=7)


@pytest.fixture
def data() -> sf.datasets.LabelledData:
    # 3 weeks at 30 minutes; sensors S000, S001 get faults and a level shift at 2/3
    return synthetic(
        n_sensors=5,
        n_points=3 * 7 * 48,
        freq="30m",
        seed=3,
        shift_at=2 / 3,
        fault_fraction=0.4,
        shift_size=3.0,
    )


@pytest.fixture
def pipe(tmp_path: Path) -> sf.Pipeline:
    # the synthetic sensors follow a daily cycle: compare like with like (hour of day);
    # without it the autocorrelation-aware p-values see ~6 independent readings a week
    drift = sf.DriftConfig(season="1d")
    return sf.Pipeline(
        sf.DatasetStore(tmp_path / "lake"), sf.PipelineConfig(window=WEEK, drift=drift)
    )


def test_full_run_holds_reports_and_versions(pipe: sf.Pipeline, data: Any) -> None:
    run = pipe.run(data.frame)
    assert run.succeeded
    assert run.quality is not None
    assert set(run.quality.table["sensor_id"]) == set(data.frame["sensor_id"])
    assert run.drift is None  # the first run stores the reference profile
    raw, processed = run.versions["raw"], run.versions["processed"]
    assert (
        raw.rows == data.frame.filter(pl.col("timestamp") > pl.col("timestamp").max() - WEEK).height
    )
    assert processed.parents == (("raw", raw.version),)
    assert set(run.timings) >= {"load", "quality", "normalize", "features", "drift", "version"}
    feats = pipe.store.read("processed").collect()
    assert set(sf.feature_names(pipe.config.features)) <= set(feats.columns)
    lineage = pipe.store.lineage("processed", processed.version)
    assert ("raw", raw.version) in set(
        zip(lineage["parent_dataset"], lineage["parent_version"], strict=True)
    )


def test_runs_are_recorded_and_queryable(pipe: sf.Pipeline, data: Any) -> None:
    first = pipe.run(data.frame, sensors=["S002", "S003"])
    second = pipe.run(data.frame)
    records = pipe.runs(run_id=first.run_id)
    assert records.height == 6  # start, commit and finish for two sensors
    assert records["event"].to_list() == ["start"] * 2 + ["commit"] * 2 + ["finish"] * 2
    assert set(records.filter(pl.col("event") == "start")["status"]) == {"running"}
    assert set(records.filter(pl.col("event") == "commit")["status"]) == {"committing"}
    by_sensor = pipe.runs(sensor="S002")
    assert set(by_sensor["run_id"]) == {first.run_id, second.run_id}
    latest = pipe.latest_successful("S002")
    assert latest is not None
    assert latest["run_id"] == second.run_id
    assert latest["processed_version"] == second.versions["processed"].version
    assert pipe.latest_successful("nope") is None


def test_second_run_detects_the_injected_drift(pipe: sf.Pipeline, data: Any) -> None:
    start = data.frame["timestamp"].min()
    pipe.run(data.frame.filter(pl.col("timestamp") < start + 2 * WEEK))
    run = pipe.run(data.frame)
    assert run.drift is not None
    detected = dict(run.drift.table.select("sensor_id", "drift_detected").iter_rows())
    shifted = set(data.labels.filter(pl.col("fault") == "level_shift")["sensor_id"])
    assert shifted == {"S000", "S001"}
    assert all(detected[s] for s in shifted)
    assert set(run.sensors.columns) >= {"drift_severity", "quality_status"}


def test_a_bad_sensor_does_not_sink_the_batch(
    pipe: sf.Pipeline, data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner.engineer_features

    def fragile(frame: Any, config: Any = None) -> Any:
        if "S001" in frame["sensor_id"].to_list():
            raise ValueError("boom in S001")
        return real(frame, config)

    monkeypatch.setattr(runner, "engineer_features", fragile)
    few = pl.DataFrame(
        {"sensor_id": ["tiny"] * 3, "timestamp": data.frame["timestamp"].tail(3), "value": 1.0}
    )
    run = pipe.run(pl.concat([data.frame, few]))
    assert sorted(run.failed_sensors) == ["S001", "tiny"]
    errors = dict(run.sensors.select("sensor_id", "error").iter_rows())
    assert "boom in S001" in errors["S001"]
    assert "only 3 finite reading" in errors["tiny"]
    assert errors["S000"] is None
    stored = set(pipe.store.read("processed").collect()["sensor_id"])
    assert stored == {"S000", "S002", "S003", "S004"}
    finish = pipe.runs(run_id=run.run_id).filter(pl.col("event") == "finish")
    assert dict(finish.select("sensor_id", "status").iter_rows())["S001"] == "failed"


def test_a_run_failing_midway_leaves_no_version(
    pipe: sf.Pipeline, data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(frame: Any, config: Any = None) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner, "engineer_features", broken)
    with pytest.raises(sf.PipelineError, match="every sensor"):
        pipe.run(data.frame)
    assert pipe.store.datasets() == []
    finish = pipe.runs().filter(pl.col("event") == "finish")
    assert set(finish["status"]) == {"failed"}


def test_run_batch_aggregates(pipe: sf.Pipeline, data: Any) -> None:
    batch = pipe.run_batch(data.frame, ["S000", "S001", "S002", "S004"], batch_size=3)
    assert len(batch.runs) == 2
    assert sorted(batch.sensors["sensor_id"]) == ["S000", "S001", "S002", "S004"]
    assert batch.failed_sensors == []


def test_prepare_training_data_from_the_store(pipe: sf.Pipeline, data: Any) -> None:
    run = pipe.run(data.frame)
    prepared = pipe.prepare_training_data(["S002", "S003"])
    version = prepared.version
    assert version is not None
    assert set(prepared.train["sensor_id"]) == {"S002", "S003"}
    assert version.parents == (("raw", run.versions["raw"].version),)
    assert prepared.quality is not None


def test_config_validation() -> None:
    with pytest.raises(sf.ConfigError, match="unknown step"):
        sf.PipelineConfig(steps=("quality", "teleport"))  # type: ignore[arg-type]
    with pytest.raises(sf.ConfigError, match="window"):
        sf.PipelineConfig(window=timedelta(0))
    with pytest.raises(sf.PipelineError, match="no readings"):
        sf.Pipeline(sf.DatasetStore("unused-lake")).run(
            synthetic(n_sensors=1, n_points=50, faults=()).frame, sensors=["missing"]
        )


def test_run_batch_leaves_one_state_with_every_sensor(pipe: sf.Pipeline, data: Any) -> None:
    pipe.run(data.frame, sensors=["S004"])  # an earlier run: replaced, not kept
    batch = pipe.run_batch(data.frame, ["S000", "S001", "S002", "S003"], batch_size=2)
    first, second = (r.versions for r in batch.runs)
    assert first["raw"].operation == "overwrite"
    assert second["raw"].operation == "append"
    for name in ("raw", "processed"):
        latest = pipe.store.latest(name)
        assert latest.version == second[name].version
        assert latest.sensors == ("S000", "S001", "S002", "S003")
        stored = pipe.store.read(name).collect()
        assert sorted(stored["sensor_id"].unique()) == ["S000", "S001", "S002", "S003"]
    assert second["processed"].parents == (("raw", second["raw"].version),)


def test_window_bounds_and_sensor_selection(pipe: sf.Pipeline, data: Any) -> None:
    with pytest.raises(sf.ConfigError, match="at most 36500 days"):
        sf.PipelineConfig(window=timedelta(days=10**6))
    with pytest.raises(sf.ConfigError, match="at most 36500 days"):
        pipe.run(data.frame, window=timedelta(days=-1))
    with pytest.raises(sf.InvalidTypeError, match="timedelta"):
        pipe.run(data.frame, window=24)  # type: ignore[arg-type]
    with pytest.raises(sf.InvalidTypeError, match="'S001'"):
        pipe.run(data.frame, sensors="S001")
    with pytest.raises(sf.PipelineError, match=r"no readings of the sensor\(s\) \['nope'\]"):
        pipe.run(data.frame, sensors=["nope"])
    assert pipe.store.datasets() == []


def test_every_sensor_too_short_says_so(pipe: sf.Pipeline, data: Any) -> None:
    short = data.frame.group_by("sensor_id").head(3)
    with pytest.raises(sf.PipelineError, match=r"every sensor failed: .*only 3 finite reading"):
        pipe.run(short)
    finish = pipe.runs().filter(pl.col("event") == "finish")
    assert set(finish["status"]) == {"failed"}


def test_the_description_reaches_both_versions(pipe: sf.Pipeline, data: Any) -> None:
    run = pipe.run(data.frame, description="pull of 3 March")
    assert {v.description for v in run.versions.values()} == {"pull of 3 March"}
    assert pipe.store.latest("processed").properties == (("run_id", run.run_id),)


def test_run_batch_after_a_failed_first_batch_overwrites(
    pipe: sf.Pipeline, data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe.run(data.frame, sensors=["S004"])
    real = runner.engineer_features

    def fragile(frame: Any, config: Any = None) -> Any:
        if {"S000", "S001"} & set(frame["sensor_id"]):
            raise ValueError("boom")
        return real(frame, config)

    monkeypatch.setattr(runner, "engineer_features", fragile)
    batch = pipe.run_batch(data.frame, ["S000", "S001", "S002", "S003"], batch_size=2)
    [run] = batch.runs  # the first batch failed as a whole
    assert run.versions["raw"].operation == "overwrite"
    assert pipe.store.latest("processed").sensors == ("S002", "S003")


@pytest.mark.parametrize("failing", ["raw", "processed"])
def test_a_failed_commit_is_settled_at_once(
    pipe: sf.Pipeline, data: Any, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    real = sf.DatasetStore.commit
    calls: list[str] = []

    def flaky(store: Any, dataset: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(dataset)
        if dataset == failing and calls.count(dataset) == 1:
            raise sf.CommitConflictError("lost the race")
        return real(store, dataset, *args, **kwargs)

    monkeypatch.setattr(sf.DatasetStore, "commit", flaky)
    with pytest.raises(sf.CommitConflictError, match="lost the race"):
        pipe.run(data.frame)
    # settled before the error reached the caller: no recover() needed
    assert sorted(pipe.store.datasets()) == ([] if failing == "raw" else ["processed", "raw"])
    finish = pipe._log.read().filter(pl.col("event") == "finish").collect()
    if failing == "raw":  # nothing landed
        assert set(finish["status"]) == {"failed"}
        assert finish["error"][0] == "commit failed: lost the race; no version was committed"
    else:  # rolled forward from the staged output
        assert set(finish["status"]) == {"success"}
        assert pipe.store.version("processed", 0).parents == (("raw", 0),)
    assert list((Path(pipe.store.root) / "_sensorframe" / "staging").glob("*")) == []


def test_unreadable_staged_output_is_retried_then_reported(
    pipe: sf.Pipeline, data: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = sf.DatasetStore.commit

    def no_processed(store: Any, dataset: str, *args: Any, **kwargs: Any) -> Any:
        if dataset == "processed":
            raise sf.CommitConflictError("lost the race")
        return real(store, dataset, *args, **kwargs)

    monkeypatch.setattr(sf.DatasetStore, "commit", no_processed)
    with pytest.raises(sf.CommitConflictError):
        pipe.run(data.frame)
    monkeypatch.setattr(sf.DatasetStore, "commit", real)
    [staged] = (Path(pipe.store.root) / "_sensorframe" / "staging").iterdir()
    run_id = staged.name
    (staged / "processed.arrow").write_bytes(b"garbage")
    assert pipe.recover() == []  # not resolved, nothing guessed: the next call retries
    assert f"run {run_id}: could not be resolved: could not read the staged output" in caplog.text
    assert pipe.store.datasets() == ["raw"]
    for path in staged.iterdir():
        path.unlink()
    assert pipe.recover() == [run_id]
    [error] = pipe.runs(run_id=run_id).filter(pl.col("event") == "finish")["error"].unique()
    assert "after committing raw@0" in error
    assert "the processed version is missing" in error
