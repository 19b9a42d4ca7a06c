"""Several writer processes, and a writer killed mid-commit (spawned, never forked).

deltalake's Rust runtime panics in a child forked after it was used, so every test
here starts its processes with the ``spawn`` context.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from typing import Any

import polars as pl
import pytest

from sensorframe.prepare import content_hash
from sensorframe.store import DatasetStore, _commit
from sensorframe.store._core import StoreCore
from tests.store import _workers

N_APPENDS = 25


def test_two_processes_appending_lose_nothing(store: DatasetStore) -> None:
    ctx = mp.get_context("spawn")
    args = (store.root, store.storage_options, "events")
    workers = [ctx.Process(target=_workers.append_many, args=(*args, w, N_APPENDS)) for w in (1, 2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
    assert [p.exitcode for p in workers] == [0, 0]

    versions = store.versions("events")
    assert versions["version"].to_list() == list(range(2 * N_APPENDS))
    expected = pl.concat(
        [_workers.batch(w, i) for w in (1, 2) for i in range(N_APPENDS)], how="vertical"
    )
    table = store.read("events").collect()
    assert table.height == expected.height == 2 * N_APPENDS * 5
    assert content_hash(table) == content_hash(expected)
    # Every version's recorded hash is the table's content at that version.
    for n in (0, N_APPENDS, 2 * N_APPENDS - 1):
        assert store.verify("events", n)
    assert versions["rows"].to_list() == [5 * (n + 1) for n in range(2 * N_APPENDS)]


def test_writer_killed_mid_commit_leaves_no_partial_version(store: DatasetStore) -> None:
    ctx = mp.get_context("spawn")
    rows = 300_000
    writer = ctx.Process(
        target=_workers.overwrite_forever, args=(store.root, store.storage_options, "big", rows)
    )
    writer.start()
    try:
        deadline = time.monotonic() + 90
        while "big" not in store.datasets() or store.versions("big").height < 2:
            assert writer.is_alive(), "the writer died on its own"
            assert time.monotonic() < deadline, "the writer made no commits"
            time.sleep(0.05)
        time.sleep(0.15)  # land somewhere inside the next commit
    finally:
        assert writer.pid is not None
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(30)
    assert writer.exitcode == -signal.SIGKILL

    versions = store.versions("big")
    assert versions.height >= 2
    assert versions["version"].to_list() == list(range(versions.height))
    assert set(versions["rows"].to_list()) == {rows}
    latest = store.latest("big")
    assert store.read("big").collect().height == rows
    assert store.verify("big", latest.version)
    assert store.verify("big", 0)
    # The store stays writable after the crash.
    v = store.commit("big", _workers.batch(9, 0))
    assert v.version == latest.version + 1
    assert content_hash(store.read("big")) == v.data_hash


@pytest.mark.parametrize("n", [3])
def test_concurrent_creation_of_one_dataset(tmp_path: object, n: int) -> None:
    ctx = mp.get_context("spawn")
    root = str(tmp_path)
    workers = [
        ctx.Process(target=_workers.append_many, args=(root, None, "fresh", w, 1)) for w in range(n)
    ]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
    assert [p.exitcode for p in workers] == [0] * n
    store = DatasetStore(root)
    assert store.versions("fresh")["version"].to_list() == list(range(n))
    assert store.read("fresh").collect().height == 5 * n
    assert store.datasets() == ["fresh"]


@pytest.mark.parametrize("trial", range(4))
def test_two_writers_creating_one_dataset_both_land_with_true_metadata(
    store: DatasetStore, trial: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both threads reach the first Delta write of a new dataset at the same moment.
    # Without care the loser's commit slides to version 1 carrying the metadata it
    # wrote for version 0 (rows 5 instead of 10, a hash that does not verify).
    name = f"race{trial}"
    start = threading.Barrier(2)
    write = _commit.write

    waited: set[int] = set()

    def in_step(core: StoreCore, *args: Any, **kwargs: Any) -> int:
        if threading.get_ident() not in waited:  # only the first write of each thread
            waited.add(threading.get_ident())
            start.wait(timeout=10)
        return write(core, *args, **kwargs)

    monkeypatch.setattr(_commit, "write", in_step)
    errors: list[BaseException] = []

    def commit(worker: int) -> None:
        try:
            mine = DatasetStore(store.root, storage_options=store.storage_options)
            mine.commit(name, _workers.batch(worker, 0), mode="append")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=commit, args=(w,)) for w in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    versions = store.versions(name)
    assert versions["version"].to_list() == [0, 1]
    assert versions["rows"].to_list() == [5, 10]
    assert store.verify(name, 0)
    assert store.verify(name, 1)
