"""Incremental pipeline runs: equal to a full run, idempotent, late rows, refit, failures."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.datasets import synthetic
from sensorframe.errors import ConfigError, PipelineError
from sensorframe.pipeline._state_store import load_state
from sensorframe.pipeline.incremental import run_incremental

WINDOWED = sf.FeatureConfig(
    rolling_windows=[3, 6],
    rolling_stats=["mean", "std", "max"],
    lags=[1, 4],
    diffs=[1],
    pct_change=True,
    rate_of_change=True,
    acceleration=True,
    volatility_windows=[4],
    spectral=True,
    spectral_window=8,
    spectral_top_k=2,
    calendar=True,
)
STEPS = ("normalize", "features", "version")


def _config(**changes: Any) -> sf.PipelineConfig:
    options: dict[str, Any] = {"steps": STEPS, "normalize": "none", "features": WINDOWED}
    return sf.PipelineConfig(**(options | changes))


def _pipe(path: Path, cfg: sf.PipelineConfig) -> sf.Pipeline:
    return sf.Pipeline(sf.DatasetStore(path), cfg)


def _full_hash(path: Path, cfg: sf.PipelineConfig, frame: pl.DataFrame) -> str:
    """The processed content hash of one plain run over every reading."""
    pipe = _pipe(path, cfg)
    pipe.run(frame, progress=False)
    return sf.content_hash(pipe.store.read(cfg.processed_dataset))


def _processed_hash(pipe: sf.Pipeline) -> str:
    return sf.content_hash(pipe.store.read(pipe.config.processed_dataset))


@pytest.fixture
def data() -> pl.DataFrame:
    """Three sensors, 60 hourly readings each."""
    return synthetic(n_sensors=3, n_points=60, freq="1h", seed=5, faults=()).frame


def _before(frame: pl.DataFrame, hours: int) -> pl.DataFrame:
    start = frame["timestamp"].min()
    return frame.filter(pl.col("timestamp") < start + timedelta(hours=hours))  # type: ignore[operator]


def test_increments_give_the_processed_content_of_one_full_run(
    tmp_path: Path, data: pl.DataFrame
) -> None:
    cfg = _config()
    pipe = _pipe(tmp_path / "inc", cfg)
    for hours in (20, 21, 45, 60):  # a one-hour increment, then the rest
        run_incremental(pipe, _before(data, hours), progress=False)
    assert _processed_hash(pipe) == _full_hash(tmp_path / "full", cfg, data)
    versions = pipe.store.versions("processed")
    assert versions["operation"].to_list() == ["overwrite", "append", "append", "append"]
    assert pipe.store.read("raw").collect().height == data.height


def test_an_increment_appends_only_its_rows_with_lineage_to_the_previous_version(
    tmp_path: Path, data: pl.DataFrame
) -> None:
    pipe = _pipe(tmp_path, _config())
    first = run_incremental(pipe, _before(data, 50), progress=False)
    run = run_incremental(pipe, data, progress=False)  # the grown source: 10 new hours
    processed, raw = run.versions["processed"], run.versions["raw"]
    assert (raw.batch_rows, processed.batch_rows) == (30, 30)
    assert processed.parents == (("raw", raw.version), ("processed", 0))
    props = dict(processed.properties)
    assert props["lineage"] == first.run_id
    assert props["run_id"] == run.run_id
    state = pipe.store.version("processed_state", int(props["state_version"]))
    assert dict(state.properties)["run_id"] == run.run_id
    saved = load_state(pipe.store, pipe.config)
    assert saved is not None
    assert saved.summary["rows_seen"].to_list() == [60, 60, 60]
    assert saved.summary["last_time"].to_list() == [data["timestamp"].max()] * 3


def test_the_same_batch_twice_makes_no_second_version(
    tmp_path: Path, data: pl.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    pipe = _pipe(tmp_path, _config())
    run_incremental(pipe, _before(data, 30), progress=False)
    batch = data.join(_before(data, 30), on=["sensor_id", "timestamp"], how="anti")
    run_incremental(pipe, batch, progress=False)
    with caplog.at_level(logging.INFO, logger="sensorframe.pipeline"):
        again = run_incremental(pipe, batch, progress=False)
    assert again.versions == {}
    assert "found nothing new" in caplog.text
    assert pipe.store.latest("processed").version == 1
    assert pipe.store.latest("raw").rows == data.height


def test_late_rows_recompute_their_sensor_from_the_earliest_affected_reading(
    tmp_path: Path, data: pl.DataFrame
) -> None:
    late = data.filter(
        (pl.col("sensor_id") == "S001")
        & pl.col("timestamp").is_in(data["timestamp"].unique().sort()[10:12].implode())
    )
    first = data.join(late, on=["sensor_id", "timestamp"], how="anti")
    cfg = _config()
    pipe = _pipe(tmp_path / "inc", cfg)
    run_incremental(pipe, _before(first, 40), progress=False)
    run = run_incremental(pipe, pl.concat([late, first]), progress=False)
    info = json.loads(pipe.runs(run_id=run.run_id)["params"][0])["incremental"]
    assert (info["affected_sensors"], info["replaced_rows"]) == (1, 0)
    assert run.versions["processed"].operation == "overwrite"
    assert _processed_hash(pipe) == _full_hash(tmp_path / "full", cfg, data)


def test_a_corrected_reading_replaces_the_stored_one(tmp_path: Path, data: pl.DataFrame) -> None:
    when = data["timestamp"].unique().sort()[15]
    fix = (pl.col("sensor_id") == "S002") & (pl.col("timestamp") == when)
    corrected = data.with_columns(value=pl.when(fix).then(pl.lit(123.0)).otherwise("value"))
    cfg = _config()
    pipe = _pipe(tmp_path / "inc", cfg)
    run_incremental(pipe, _before(data, 40), progress=False)
    run = run_incremental(pipe, corrected, progress=False)
    assert run.versions["raw"].operation == "overwrite"
    raw = pipe.store.read("raw").filter(fix).collect()
    assert raw["value"].to_list() == [123.0]
    assert _processed_hash(pipe) == _full_hash(tmp_path / "full", cfg, corrected)
    before = pipe.store.read("raw", version=0).filter(fix).collect()  # what was known then
    assert before["value"].to_list() == data.filter(fix)["value"].to_list()


def test_the_first_runs_normalizer_is_reused(tmp_path: Path, data: pl.DataFrame) -> None:
    cfg = _config(normalize="zscore")
    pipe = _pipe(tmp_path, cfg)
    first = _before(data, 30).filter(pl.col("sensor_id") != "S002")
    run_incremental(pipe, first, progress=False)
    run_incremental(pipe, data, progress=False)  # S002 is new: fitted on its own rows
    old = sf.Normalizer("zscore").fit(sf.split(first, cfg.ratios).train)
    new = sf.Normalizer("zscore").fit(
        sf.split(data.filter(pl.col("sensor_id") == "S002"), cfg.ratios).train
    )
    both = sf.Normalizer("zscore").fit(sf.split(first, cfg.ratios).train)
    both.params_ = pl.concat([old.params_, new.params_])
    expected = sf.engineer_features(both.transform(data), WINDOWED)
    assert _processed_hash(pipe) == sf.content_hash(expected)


def test_refit_starts_a_new_lineage_recorded_in_the_run(tmp_path: Path, data: pl.DataFrame) -> None:
    cfg = _config(normalize="zscore")
    pipe = _pipe(tmp_path, cfg)
    run_incremental(pipe, _before(data, 30), progress=False)
    run_incremental(pipe, _before(data, 45), progress=False)
    refit = run_incremental(pipe, data, refit=True, progress=False)
    processed = refit.versions["processed"]
    assert processed.operation == "overwrite"
    assert processed.parents == (("raw", refit.versions["raw"].version),)
    assert dict(processed.properties)["lineage"] == refit.run_id
    info = json.loads(pipe.runs(run_id=refit.run_id)["params"][0])["incremental"]
    assert info["refit"] is True
    norm = sf.Normalizer("zscore").fit(sf.split(data, cfg.ratios).train)
    expected = sf.engineer_features(norm.transform(data), WINDOWED)
    assert _processed_hash(pipe) == sf.content_hash(expected)
    later = run_incremental(pipe, data, progress=False)
    assert later.versions == {}


def test_a_refit_with_nothing_new_keeps_the_raw_version(tmp_path: Path, data: pl.DataFrame) -> None:
    pipe = _pipe(tmp_path, _config(normalize="zscore"))
    run_incremental(pipe, data, progress=False)
    refit = run_incremental(pipe, data, refit=True, progress=False)
    assert sorted(refit.versions) == ["processed"]
    assert refit.versions["processed"].parents == (("raw", 0),)


def test_a_failure_mid_run_leaves_no_version_and_the_next_run_works(
    tmp_path: Path, data: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _config()
    pipe = _pipe(tmp_path / "inc", cfg)
    run_incremental(pipe, _before(data, 30), progress=False)
    real = sf.DatasetStore.commit

    def failing(self: sf.DatasetStore, dataset: str, *args: Any, **kwargs: Any) -> Any:
        if dataset == "raw":
            msg = "disk full"
            raise OSError(msg)
        return real(self, dataset, *args, **kwargs)

    monkeypatch.setattr(sf.DatasetStore, "commit", failing)
    with pytest.raises(OSError, match="disk full"):
        run_incremental(pipe, data, progress=False)
    monkeypatch.undo()
    assert pipe.store.latest("processed").version == 0
    assert pipe.store.latest("processed_state").version == 1  # committed, but never read
    finish = pipe.runs().filter(pl.col("event") == "finish")
    assert "failed" in finish["status"].to_list()
    run_incremental(pipe, data, progress=False)
    assert _processed_hash(pipe) == _full_hash(tmp_path / "full", cfg, data)


def test_features_of_the_whole_history_are_exact_too(tmp_path: Path, data: pl.DataFrame) -> None:
    cfg = _config(features=sf.FeatureConfig(expanding=True, lags=[2], rolling_windows=["3h"]))
    pipe = _pipe(tmp_path / "inc", cfg)
    for hours in (25, 40, 60):
        run_incremental(pipe, _before(data, hours), progress=False)
    assert _processed_hash(pipe) == _full_hash(tmp_path / "full", cfg, data)


def test_quality_and_drift_run_on_the_new_readings(tmp_path: Path, data: pl.DataFrame) -> None:
    pipe = _pipe(tmp_path, _config(steps=("quality", "normalize", "features", "drift", "version")))
    run_incremental(pipe, _before(data, 40), progress=False)
    run = run_incremental(pipe, data, progress=False)
    assert run.quality is not None
    assert run.quality.table["sensor_id"].to_list() == ["S000", "S001", "S002"]
    assert run.drift is not None
    assert run.sensors["rows"].to_list() == [20, 20, 20]


def test_a_window_is_refused(tmp_path: Path) -> None:
    pipe = _pipe(tmp_path, _config(window=timedelta(days=1)))
    with pytest.raises(ConfigError, match="window"):
        run_incremental(pipe, pl.DataFrame(), progress=False)


def test_no_readings_is_an_error(tmp_path: Path, data: pl.DataFrame) -> None:
    with pytest.raises(PipelineError, match="no readings"):
        run_incremental(_pipe(tmp_path, _config()), data, sensors=["nope"], progress=False)


def test_a_new_sensor_with_too_few_readings_fails_alone(tmp_path: Path, data: pl.DataFrame) -> None:
    pipe = _pipe(tmp_path, _config())
    run_incremental(pipe, _before(data, 30), progress=False)
    times = data["timestamp"].unique().sort()[-12:]
    x = pl.DataFrame({"sensor_id": "X", "timestamp": times, "value": [float(i) for i in range(12)]})
    run = run_incremental(pipe, pl.concat([data, x.tail(3)]), progress=False)
    assert run.failed_sensors == ["X"]
    error = run.sensors.filter(pl.col("sensor_id") == "X")["error"][0]
    assert "only 3 finite reading(s)" in error
    assert pipe.store.latest("processed").sensors == ("S000", "S001", "S002")
    again = run_incremental(pipe, x, progress=False)  # X is still new: from scratch
    assert again.failed_sensors == []
    assert again.versions["processed"].batch_rows == 12
