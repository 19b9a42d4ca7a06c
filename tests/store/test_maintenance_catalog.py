"""Catalog tables: first writes under concurrency, damaged tables, schema clashes."""

from __future__ import annotations

import glob
import multiprocessing as mp
import os
import threading
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

from sensorframe.errors import IntegrityError, SensorSchemaError
from sensorframe.store import DatasetStore, _catalog

FRAME = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
N_WORKERS = 3
ROUNDS = 2


@pytest.mark.parametrize("trial", range(5))
def test_two_creators_of_one_catalog_table_get_their_own_versions(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, trial: int
) -> None:
    # Both threads see no table and create it at the same moment. Without care both
    # "succeed", the loser sliding to version 1 (with a second metaData action) while
    # being told it wrote version 0.
    uri = f"{tmp_path}/_sensorframe/tags"
    start = threading.Barrier(2)
    real = _catalog.open_table
    waited: set[int] = set()

    def in_step(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            start.wait(timeout=10)
            return None
        return real(*args, **kwargs)

    monkeypatch.setattr(_catalog, "open_table", in_step)
    landed: list[int] = []
    threads = [
        threading.Thread(
            target=lambda i=i: landed.append(
                _catalog.append_rows(uri, pl.DataFrame({"x": [i]}), None)
            )
        )
        for i in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    monkeypatch.undo()
    assert sorted(landed) == [0, 1]
    assert sorted(_catalog.read_table(uri, None)["x"].to_list()) == [0, 1]  # type: ignore[index]


def first_writes(root: str, worker: int, start: Any, queue: Any) -> None:
    """Write to every catalog table of a fresh store at the same moment as the others."""
    problems: list[str] = []
    for r in range(ROUNDS):
        store = DatasetStore(f"{root}/{r}")
        steps: list[Callable[[DatasetStore], object]] = [
            lambda s: s.commit(f"d{worker}", FRAME),  # datasets
            lambda s: s.commit(f"d{worker}", FRAME.with_columns(value=pl.lit(2.0))),
            lambda s: s.tag(f"d{worker}", 1, "t"),  # tags
            lambda s: s.link_model(
                f"d{worker}", 1, model_id=f"m{worker}", model_version="1"
            ),  # model_links
            lambda s: s.append_records("labels", pl.DataFrame({"w": [worker]})),
            lambda s: s.vacuum(f"d{worker}", retention_hours=0),  # vacuums
        ]
        for step in steps:
            start.wait(timeout=60)
            try:
                step(store)
            except BaseException as exc:  # reported to the parent
                problems.append(f"round {r}: {type(exc).__name__}: {exc}")
    queue.put(problems)


def test_first_writes_to_every_catalog_table_from_several_processes(tmp_path: Any) -> None:
    ctx = mp.get_context("spawn")
    start, queue = ctx.Barrier(N_WORKERS), ctx.Queue()
    workers = [
        ctx.Process(target=first_writes, args=(str(tmp_path), w, start, queue))
        for w in range(N_WORKERS)
    ]
    for p in workers:
        p.start()
    problems = [queue.get(timeout=240) for _ in workers]
    for p in workers:
        p.join(60)
    assert problems == [[]] * N_WORKERS
    for r in range(ROUNDS):
        store = DatasetStore(f"{tmp_path}/{r}")
        names = [f"d{w}" for w in range(N_WORKERS)]
        assert store.datasets() == names
        assert store.tags().select("dataset", "tag", "version").rows() == [
            (n, "t", 1) for n in names
        ]
        assert sorted(store.records("labels").collect()["w"].to_list()) == list(range(N_WORKERS))
        assert store.model_datasets("m0")["dataset"].to_list() == ["d0"]
        lost = store.records("vacuums").collect().drop_nulls("version")
        assert sorted(lost["dataset"].to_list()) == names


@pytest.fixture
def store(tmp_path: Any) -> DatasetStore:
    store = DatasetStore(f"{tmp_path}/lake")
    store.commit("raw", FRAME)
    store.link_model("raw", 0, model_id="m", model_version="1")
    store.tag("raw", 0, "t")
    store.append_records("labels", pl.DataFrame({"x": [1]}))
    return store


def _catalog_files(store: DatasetStore, name: str, pattern: str) -> list[str]:
    return sorted(glob.glob(f"{store.root}/_sensorframe/{name}/{pattern}"))


def test_a_garbage_log_file_is_an_integrity_error(store: DatasetStore) -> None:
    with open(_catalog_files(store, "model_links", "_delta_log/*.json")[-1], "w") as f:
        f.write("garbage{")
    with pytest.raises(IntegrityError, match="catalog table 'model_links'"):
        store.models("raw", 0)
    with pytest.raises(IntegrityError, match="catalog table 'model_links'"):
        store.link_model("raw", 0, model_id="m", model_version="2")
    with pytest.raises(IntegrityError, match="catalog table 'model_links'"):
        store.records("model_links")
    with pytest.raises(IntegrityError, match="catalog table 'model_links'"):
        store.vacuum(retention_hours=0)


def test_a_truncated_log_file_is_an_integrity_error(store: DatasetStore) -> None:
    path = _catalog_files(store, "tags", "_delta_log/*.json")[-1]
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text[: len(text) // 2])
    with pytest.raises(IntegrityError, match="catalog table 'tags'"):
        store.tags()
    with pytest.raises(IntegrityError, match="catalog table 'tags'"):
        store.read("raw", tag="t")


def test_a_deleted_data_file_is_an_integrity_error(store: DatasetStore) -> None:
    for path in _catalog_files(store, "labels", "*.parquet"):
        os.remove(path)
    with pytest.raises(IntegrityError, match="catalog table 'labels'"):
        store.records("labels")


def test_a_rewritten_data_file_is_an_integrity_error_not_a_panic(store: DatasetStore) -> None:
    for path in _catalog_files(store, "labels", "*.parquet"):
        with open(path, "wb") as f:
            f.write(b"PAR1garbagePAR1")
    with pytest.raises(IntegrityError, match="catalog table 'labels'"):
        store.records("labels")


def test_a_record_of_another_type_is_a_schema_error(store: DatasetStore) -> None:
    with pytest.raises(SensorSchemaError, match="catalog table 'labels'"):
        store.append_records("labels", pl.DataFrame({"x": ["text"]}))
