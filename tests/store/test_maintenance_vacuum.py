"""Vacuum: retention checks, commits in progress, tags placed mid-vacuum, concurrency."""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import time
from typing import Any

import polars as pl
import pytest

from sensorframe.errors import InvalidParameterError, InvalidTypeError, VersionNotFoundError
from sensorframe.frame import scan
from sensorframe.prepare import content_hash
from sensorframe.store import DatasetStore, _commit, _maintenance
from sensorframe.store._core import StoreCore

N_WORKERS = 3
ROUNDS = 3


def frame(value: float = 0.0) -> pl.DataFrame:
    return pl.DataFrame(
        {"sensor_id": ["a", "b"], "timestamp": ["2026-01-01", "2026-01-02"], "value": [value] * 2}
    )


def three_versions(root: str, options: dict[str, str] | None = None) -> DatasetStore:
    store = DatasetStore(root, storage_options=options)
    for i in range(3):
        store.commit("raw", frame(float(i)))
    return store


@pytest.fixture
def store(store_location: tuple[str, dict[str, str] | None]) -> DatasetStore:
    """Three versions of ``raw``, on a local folder and on the loopback S3 server."""
    return three_versions(*store_location)


@pytest.fixture
def local(tmp_path: Any) -> DatasetStore:
    return three_versions(f"{tmp_path}/lake")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"retention_hours": -1}, InvalidParameterError, "between 0 and"),
        ({"retention_hours": math.nan}, InvalidParameterError, "nan"),
        ({"retention_hours": math.inf}, InvalidParameterError, "inf"),
        ({"retention_hours": 1e30}, InvalidParameterError, "between 0 and"),
        ({"retention_hours": "1"}, InvalidTypeError, "str"),
        ({"retention_hours": None}, InvalidTypeError, "NoneType"),
        ({"retention_hours": True}, InvalidTypeError, "bool"),
        ({"keep": 5}, InvalidTypeError, "`keep` must be a sequence"),
        ({"keep": "1"}, InvalidTypeError, "`keep` must be a sequence"),
        ({"keep": ["1"]}, InvalidTypeError, "'1'"),
        ({"keep": [True]}, InvalidTypeError, "True"),
        ({"keep": [-1]}, InvalidParameterError, ">= 0"),
        ({"keep": [99]}, VersionNotFoundError, "no version 99"),
        ({"orphans": "yes"}, InvalidTypeError, "`orphans`"),
        ({"dry_run": 1}, InvalidTypeError, "`dry_run`"),
    ],
)
def test_bad_arguments_are_typed_errors(
    local: DatasetStore, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        local.vacuum("raw", **kwargs)
    assert local.vacuum("raw", retention_hours=0, dry_run=True).files.height == 2  # untouched


def test_a_fraction_of_an_hour_is_rounded_up(store: DatasetStore) -> None:
    # The files of versions 0 and 1 were removed a moment ago: younger than 0.9 hours.
    assert store.vacuum("raw", retention_hours=0.9).files.height == 0
    assert content_hash(store.read("raw", version=0)) == store.version("raw", 0).data_hash
    assert store.vacuum("raw", retention_hours=0.0).files.height == 2


def test_a_commit_in_progress_keeps_its_files(
    store: DatasetStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The commit's data files are written (by the store's writer), then a vacuum runs
    # in another store object, then the commit is made: the version must be readable.
    other = DatasetStore(store.root, storage_options=store.storage_options)
    write = _commit.write
    reports = []

    def vacuum_first(core: StoreCore, *args: Any, **kwargs: Any) -> int:
        files = next(a for a in [*args, *kwargs.values()] if hasattr(a, "result"))
        files.result()  # the Parquet files are written, not yet committed
        for hours in (0, 0.9):
            reports.append(other.vacuum("raw", retention_hours=hours, orphans=True))
        return write(core, *args, **kwargs)

    monkeypatch.setattr(_commit, "write", vacuum_first)
    v = store.commit("raw", frame(7.0), mode="append")
    monkeypatch.undo()
    assert [len(r.files) for r in reports] == [2, 0]  # versions 0 and 1, no new file
    expected = pl.concat([store.read("raw", version=2).collect(), scan(frame(7.0)).collect()])
    assert content_hash(store.read("raw", version=v.version)) == content_hash(expected)
    assert store.verify("raw", v.version)


def test_orphans_go_once_an_hour_old(local: DatasetStore) -> None:
    store = local
    orphan = f"{store.root}/raw/part-00000-killed-writer.parquet"
    frame(9.0).write_parquet(orphan)
    young = store.vacuum("raw", retention_hours=0, orphans=True, dry_run=True)
    assert young.files["path"].str.contains("killed-writer").sum() == 0
    two_hours_ago = time.time() - 2 * 3600
    os.utime(orphan, (two_hours_ago, two_hours_ago))
    assert store.vacuum("raw", retention_hours=3, orphans=True).files.height == 0
    report = store.vacuum("raw", retention_hours=0, orphans=True)
    assert "part-00000-killed-writer.parquet" in report.files["path"].to_list()
    assert not os.path.exists(orphan)
    assert store.verify("raw", 2)


def test_a_tag_placed_mid_vacuum_protects_its_version(
    store: DatasetStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = DatasetStore(store.root, storage_options=store.storage_options)
    plan = _maintenance.vacuum_files
    calls = []

    def tag_after_listing(*args: Any, **kwargs: Any) -> set[str]:
        listed = plan(*args, **kwargs)
        if not calls:
            other.tag("raw", 0, "baseline")  # lands after vacuum listed the files
        calls.append(kwargs["dry"])
        return listed

    monkeypatch.setattr(_maintenance, "vacuum_files", tag_after_listing)
    report = store.vacuum("raw", retention_hours=0)
    monkeypatch.undo()
    assert report.lost_versions["version"].to_list() == [1]
    assert dict(report.kept_versions.select("version", "reason").rows()) == {0: "tag", 2: "latest"}
    assert content_hash(store.read("raw", tag="baseline")) == store.version("raw", 0).data_hash
    with pytest.raises(VersionNotFoundError, match="vacuum"):
        store.read("raw", version=1)


def vacuum_at_once(roots: list[str], start: Any, queue: Any) -> None:
    """Vacuum every dataset of each store at the same moment as the other workers."""
    for root in roots:
        store = DatasetStore(root)
        start.wait(timeout=60)
        try:
            report = store.vacuum(retention_hours=0)
            queue.put(("ok", root, report.lost_versions.rows()))
        except BaseException as exc:  # reported to the parent
            queue.put(("error", root, f"{type(exc).__name__}: {exc}"))


def test_concurrent_vacuums_from_several_processes(tmp_path: Any) -> None:
    roots = [f"{tmp_path}/lake{k}" for k in range(ROUNDS)]
    for root in roots:
        store = DatasetStore(root)
        for name in ("raw", "clean"):
            for i in range(4):
                store.commit(name, frame(float(i)))
        store.tag("raw", 1, "baseline")
    ctx = mp.get_context("spawn")
    start, queue = ctx.Barrier(N_WORKERS), ctx.Queue()
    workers = [
        ctx.Process(target=vacuum_at_once, args=(roots, start, queue)) for _ in range(N_WORKERS)
    ]
    for p in workers:
        p.start()
    results = [queue.get(timeout=120) for _ in range(N_WORKERS * ROUNDS)]
    for p in workers:
        p.join(60)
    assert [r for r in results if r[0] != "ok"] == []
    for root in roots:
        lost = {row for _, where, rows in results if where == root for row in rows}
        assert lost == {("clean", 0), ("clean", 1), ("clean", 2), ("raw", 0), ("raw", 2)}
        store = DatasetStore(root)
        for name, n in (("raw", 1), ("raw", 3), ("clean", 3)):
            assert store.verify(name, n)
        assert store.vacuum(retention_hours=0).files.height == 0
