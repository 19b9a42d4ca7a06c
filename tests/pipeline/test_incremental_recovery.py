"""An incremental run whose process dies after its raw commit is rolled forward intact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.pipeline._state_store import load_state
from tests.pipeline.test_incremental import _before, _config, _full_hash, _pipe, _processed_hash


class _Killed(BaseException):
    """Stands for the process dying: no ``except Exception`` of the pipeline catches it."""


@pytest.fixture
def data() -> pl.DataFrame:
    """Three sensors, 60 hourly readings each."""
    return sf.datasets.synthetic(n_sensors=3, n_points=60, freq="1h", seed=5, faults=()).frame


def _dies_before(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make the next commit of dataset `name` kill the run (the ones before it land)."""
    real = sf.DatasetStore.commit

    def commit(self: sf.DatasetStore, dataset: str, *args: Any, **kwargs: Any) -> Any:
        if dataset == name:
            raise _Killed
        return real(self, dataset, *args, **kwargs)

    monkeypatch.setattr(sf.DatasetStore, "commit", commit)


def test_a_recovered_increment_keeps_its_lineage_and_state(
    tmp_path: Path, data: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _config()
    pipe = _pipe(tmp_path / "inc", cfg)
    first = pipe.run(_before(data, 40), incremental=True, progress=False)
    _dies_before(monkeypatch, "processed")
    with pytest.raises(_Killed):
        pipe.run(_before(data, 50), incremental=True, progress=False)
    monkeypatch.undo()
    [raw] = pipe.store.versions("raw").filter(pl.col("version") == 1).iter_rows(named=True)
    run_id = {p["key"]: p["value"] for p in raw["properties"]}["run_id"]
    assert pipe.store.latest("processed").version == 0  # died before its processed commit
    assert pipe.recover() == [run_id]
    processed = pipe.store.latest("processed")
    assert processed.version == 1
    assert processed.parents == (("raw", 1), ("processed", 0))  # the edge to the previous
    props = dict(processed.properties)
    assert props["run_id"] == run_id
    assert props["lineage"] == first.run_id
    state = pipe.store.version("processed_state", int(props["state_version"]))
    assert dict(state.properties)["run_id"] == run_id
    saved = load_state(pipe.store, cfg)  # the next run continues from the recovered one
    assert saved is not None
    assert saved.summary["rows_seen"].to_list() == [50, 50, 50]
    finish = pipe.runs(run_id=run_id).filter(pl.col("event") == "finish")
    assert finish["status"].unique().to_list() == ["success"]
    last = pipe.run(data, incremental=True, progress=False)
    assert last.versions["processed"].parents == (("raw", 2), ("processed", 1))
    assert last.versions["processed"].batch_rows == 30  # only the 10 new hours x 3 sensors
    assert _processed_hash(pipe) == _full_hash(tmp_path / "full", cfg, data)


def test_a_recovered_refit_with_nothing_new_keeps_the_raw_parent(
    tmp_path: Path, data: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = _pipe(tmp_path, _config(normalize="zscore"))
    pipe.run(data, incremental=True, progress=False)
    _dies_before(monkeypatch, "processed")
    with pytest.raises(_Killed):
        pipe.run(data, incremental=True, refit=True, progress=False)
    monkeypatch.undo()
    [run_id] = pipe.recover()  # nothing of it but the state landed: abandoned
    finish = pipe.runs(run_id=run_id).filter(pl.col("event") == "finish")
    assert finish["status"].unique().to_list() == ["abandoned"]
    assert pipe.store.latest("processed").version == 0
    refit = pipe.run(data, incremental=True, refit=True, progress=False)
    assert refit.versions["processed"].parents == (("raw", 0),)
