"""
Pipeline runs killed with SIGKILL leave both versions or neither (spawned processes).

Children are started with the ``spawn`` method: forking after deltalake was used panics.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import signal
import time
from pathlib import Path

import polars as pl
import pytest

import sensorframe as sf
from tests.pipeline import _workers


def _spawn(target: object, *args: object) -> mp.process.BaseProcess:
    process = mp.get_context("spawn").Process(target=target, args=args)
    process.start()
    return process


def _killed_run(root: Path, kill_at: str) -> None:
    child = _spawn(_workers.run_and_die, str(root), kill_at)
    child.join(120)
    assert child.exitcode == -signal.SIGKILL


def _by_run(
    store: sf.DatasetStore, dataset: str
) -> dict[str, tuple[int, tuple[tuple[str, int], ...]]]:
    """``run_id -> (version, parents)`` of the versions a run committed."""
    if dataset not in store.datasets():
        return {}
    out = {}
    for row in store.versions(dataset).iter_rows(named=True):
        props = {p["key"]: p["value"] for p in row["properties"]}
        if "run_id" in props:
            assert props["run_id"] not in out, f"run {props['run_id']} committed {dataset} twice"
            out[props["run_id"]] = (row["version"], store.version(dataset, row["version"]).parents)
    return out


def assert_atomic(store: sf.DatasetStore) -> None:
    """Every raw version made by a run has its processed child; no processed without raw."""
    raw, processed = _by_run(store, "raw"), _by_run(store, "processed")
    assert set(processed) == set(raw)
    for run_id, (version, _) in raw.items():
        assert processed[run_id][1] == (("raw", version),)


def _staging(root: Path) -> list[Path]:
    folder = root / "_sensorframe" / "staging"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    "kill_at",
    [  # two points under slow keep the default run short; the random kills reach them too
        pytest.param(k, marks=pytest.mark.slow) if k in ("before_raw", "after_processed") else k
        for k in _workers.KILL_POINTS
    ],
)
def test_a_killed_run_is_rolled_forward_or_abandoned(tmp_path: Path, kill_at: str) -> None:
    root = tmp_path / "lake"
    _killed_run(root, kill_at)
    pipe = _workers.pipeline(str(root))
    [run_id] = pipe.store.records("runs").collect()["run_id"].unique().to_list()
    landed = kill_at in ("after_raw", "after_processed", "before_cleanup")
    assert ("raw" in pipe.store.datasets()) == landed
    assert _staging(root) == [root / "_sensorframe" / "staging" / run_id]
    assert pipe.recover() == ([] if kill_at == "before_cleanup" else [run_id])
    assert pipe.recover() == []  # resolved once
    assert_atomic(pipe.store)
    records = pipe.runs(run_id=run_id)
    started = records.filter(pl.col("event") == "start")
    assert started["host"].n_unique() == started["pid"].n_unique() == 1
    assert started["process"][0]  # the process token (Linux)
    finish = records.filter(pl.col("event") == "finish")
    assert finish.height == 3  # one per sensor
    if landed:
        assert set(finish["status"]) == {"success"}
        assert set(finish["processed_version"]) == {0}
        assert pipe.store.read("processed").collect()["sensor_id"].n_unique() == 3
        assert pipe.store.verify("processed", 0)
    else:
        assert set(finish["status"]) == {"abandoned"}
        assert finish["error"][0].endswith("died before committing; no version was committed")
        assert pipe.store.datasets() == []
    assert _staging(root) == []


def test_the_next_run_recovers_first(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _killed_run(root, "after_raw")
    pipe = _workers.pipeline(str(root))
    assert "processed" not in pipe.store.datasets()
    run = pipe.run(_workers.data(seed=2), progress=False)
    assert run.versions["raw"].version == 1
    assert run.versions["processed"].version == 1  # the dead run's processed@0 came first
    assert pipe.store.version("processed", 0).parents == (("raw", 0),)
    assert_atomic(pipe.store)


@pytest.mark.slow
def test_many_random_kills_keep_the_store_atomic(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    rng = random.Random(13)
    pipe = _workers.pipeline(str(root))
    for _ in range(24):
        child = _spawn(_workers.run_forever, str(root))
        time.sleep(rng.uniform(2.0, 8.0))  # imports take ~2 s, a run ~0.5 s
        child.kill()
        child.join(60)
        pipe.recover()
        assert_atomic(pipe.store)
        records = pipe.runs()
        unfinished = set(records["run_id"]) - set(
            records.filter(pl.col("event") == "finish")["run_id"]
        )
        assert unfinished == set()
    assert _staging(root) == []


@pytest.mark.s3
def test_a_run_killed_after_the_raw_commit_on_s3_is_rolled_forward(s3_endpoint: str) -> None:
    from sensorframe.pipeline._commit import Staging
    from tests.store.conftest import S3_KEYS, new_bucket

    root = f"s3://{new_bucket(s3_endpoint)}/lake"
    options = {"AWS_ENDPOINT_URL": s3_endpoint, **S3_KEYS}
    child = _spawn(_workers.run_and_die, root, "after_raw", options)
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    pipe = _workers.pipeline(root, options)
    [run_id] = Staging.runs(pipe.store)
    assert pipe.store.datasets() == ["raw"]
    assert pipe.recover() == [run_id]
    assert_atomic(pipe.store)
    assert pipe.store.verify("processed", 0)
    assert Staging.runs(pipe.store) == []
