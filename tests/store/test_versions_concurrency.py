"""Writer processes and a reader: every version's label, metadata, data and returned version agree.

Processes are spawned (deltalake panics in a child forked after it was used).
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_module
import time
from typing import Any

import pytest

from sensorframe.prepare import content_hash
from sensorframe.store import DatasetStore
from tests.store import _workers


def run_writers_and_read(store: DatasetStore, writers: int, commits: int) -> None:
    ctx = mp.get_context("spawn")
    results: Any = ctx.Queue()
    args = (store.root, store.storage_options, "shared")
    processes = [
        ctx.Process(target=_workers.commit_and_report, args=(*args, w, commits, results))
        for w in range(writers)
    ]
    for p in processes:
        p.start()
    returned: list[tuple[int, int, int, str, str]] = []
    seen: dict[int, tuple[str, str, str]] = {}  # version -> what a listing showed
    reads = 0
    deadline = time.monotonic() + 300
    while len(returned) < writers * commits:
        assert time.monotonic() < deadline, "the writers did not finish"
        try:
            returned.append(results.get(timeout=0.01))
            continue
        except queue_module.Empty:
            pass
        assert all(p.is_alive() or p.exitcode == 0 for p in processes)
        if "shared" not in store.datasets():
            continue
        # the reader: listings, the latest version and its data, while others commit
        for row in store.versions("shared").iter_rows(named=True):
            listed = (row["description"], row["data_hash"], row["batch_hash"])
            assert seen.setdefault(row["version"], listed) == listed, row["version"]
            assert row["description"] == "w{writer} #{i}".format(
                **{p["key"]: p["value"] for p in row["properties"]}
            )
        latest = store.latest("shared")
        assert store.read("shared", version=latest.version).collect().height == latest.rows
        reads += 1
    for p in processes:
        p.join(60)
    assert [p.exitcode for p in processes] == [0] * writers

    final = {row["version"]: row for row in store.versions("shared").iter_rows(named=True)}
    assert len(final) == writers * commits
    for version, listed in seen.items():  # no listing ever mislabelled a version
        row = final[version]
        assert listed == (row["description"], row["data_hash"], row["batch_hash"])
    for worker, i, version, data_hash, batch_hash in returned:
        row = final[version]  # the version returned to its writer holds its data
        assert row["description"] == f"w{worker} #{i}"
        assert (row["data_hash"], row["batch_hash"]) == (data_hash, batch_hash)
        assert batch_hash == content_hash(_workers.batch(worker, i))
    for version, row in final.items():  # the data of every version is what it claims
        result = store.verify("shared", version)
        assert result, (version, result)
        assert store.read("shared", version=version).collect().height == row["rows"]
    assert reads > 0


def test_writer_processes_and_a_reader_agree_on_every_version(store: DatasetStore) -> None:
    run_writers_and_read(store, writers=3, commits=3)


@pytest.mark.slow
def test_writer_processes_and_a_reader_agree_on_every_version_at_length(
    store: DatasetStore,
) -> None:
    run_writers_and_read(store, writers=4, commits=30)
