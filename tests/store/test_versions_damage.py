"""Damaged storage: typed IntegrityErrors naming dataset and version; verify reports."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from sensorframe.errors import IntegrityError, SensorFrameError
from sensorframe.store import DatasetStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def frame(sensor: str = "a") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": [sensor] * 3,
            "timestamp": [T0 + timedelta(minutes=i) for i in range(3)],
            "value": [1.0, 2.0, 3.0],
        }
    )


def three_versions(root: Path) -> Path:
    store = DatasetStore(root)
    store.commit("raw", frame("a"))
    store.commit("raw", frame("b"), mode="append")
    store.commit("raw", frame("c"), mode="append")
    return root / "raw" / "_delta_log"


def log(n: int) -> str:
    return f"{n:020d}.json"


def truncate(logs: Path) -> None:
    data = (logs / log(1)).read_bytes()
    (logs / log(1)).write_bytes(data[: len(data) // 3])


def garbage(logs: Path) -> None:
    (logs / log(1)).write_bytes(b"\x00\xff not json at all")


def delete(logs: Path) -> None:
    os.remove(logs / log(1))


def checkpoint(logs: Path) -> None:
    DeltaTable(str(logs.parent)).create_checkpoint()
    (target,) = logs.glob("*.checkpoint.parquet")
    target.write_bytes(b"garbage")


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (truncate, "version 1"),
    "garbage": (garbage, "version 1"),
    "deleted": (delete, "version 1"),
    "checkpoint": (checkpoint, "checkpoint of version 2"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_log_raises_typed_errors_naming_the_version(tmp_path: Path, case: str) -> None:
    damage, where = DAMAGE[case]
    damage(three_versions(tmp_path))
    store = DatasetStore(tmp_path)  # a fresh process would see the same
    calls: dict[str, Callable[[], object]] = {
        "versions": lambda: store.versions("raw"),
        "latest": lambda: store.latest("raw"),
        "version": lambda: store.version("raw", 1),
        "read": lambda: store.read("raw").collect(),
        "read old": lambda: store.read("raw", version=0).collect(),
        "commit": lambda: store.commit("raw", frame("d"), mode="append"),
        "restore": lambda: store.restore("raw", 0),
        "lineage": lambda: store.lineage("raw", 2),
    }
    for name, call in calls.items():
        with pytest.raises(IntegrityError, match=f"dataset 'raw'.*{where}") as info:
            call()
        assert isinstance(info.value, SensorFrameError), name
    for version in (None, 0, 2):
        result = store.verify("raw", version)  # reported, not raised
        assert not result.ok
        assert result.actual is None
        assert where in (result.error or "")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("rows", "abc"),
        ("rows", "[1]"),
        ("rows", "1.5"),
        ("created_at", "garbage"),
        ("created_at", "2026-01-01T00:00:00"),  # naive: not what a writer records
        ("parents", "{"),
        ("parents", '[["raw", true]]'),
        ("sensors", "5"),
        ("hash", 5),
    ],
)
def test_edited_metadata_is_an_integrity_error(tmp_path: Path, key: str, value: object) -> None:
    logs = three_versions(tmp_path)
    lines = (logs / log(1)).read_text().splitlines()
    actions = [json.loads(line) for line in lines]
    for action in actions:
        if "commitInfo" in action:
            action["commitInfo"][f"sensorframe.{key}"] = value
    (logs / log(1)).write_text("\n".join(json.dumps(a) for a in actions) + "\n")
    store = DatasetStore(tmp_path)
    match = f"dataset 'raw'.*version 1.*sensorframe.{key}"
    with pytest.raises(IntegrityError, match=match):
        store.versions("raw")
    with pytest.raises(IntegrityError, match=match):
        store.read("raw", version=1)
    assert store.version("raw", 2).rows == 9  # other versions stay readable one by one
    result = store.verify("raw", 1)
    assert not result.ok
    assert key in (result.error or "")


@pytest.mark.parametrize("how", ["garbage", "other schema", "truncated", "same size"])
def test_reading_a_rewritten_data_file_raises_a_typed_error(tmp_path: Path, how: str) -> None:
    store = DatasetStore(tmp_path)
    store.commit("raw", frame())
    (uri,) = DeltaTable(str(tmp_path / "raw")).file_uris()
    path = Path(uri.removeprefix("file://"))
    data = path.read_bytes()
    if how == "garbage":
        path.write_bytes(b"garbage" * 50)
    elif how == "other schema":
        pl.DataFrame({"sensor_id": [1, 2], "value": ["x", "y"]}).write_parquet(path)
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(data[:-8] + b"\x00" * 8)  # the footer's length and magic
    lazy = store.read("raw")  # lazy: nothing read yet
    with pytest.raises(IntegrityError, match=r"version 0 of dataset 'raw'.*verify"):
        lazy.collect()
    with pytest.raises(IntegrityError):
        lazy.select("value").filter(pl.col("value") > 1).collect()
    assert not store.verify("raw", 0)


def test_a_guarded_read_keeps_projections_and_filters(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    store.commit("raw", pl.concat([frame("a"), frame("b")]))
    got = store.read("raw").filter(pl.col("sensor_id") == "b").select("value").collect()
    assert got.to_dict(as_series=False) == {"value": [1.0, 2.0, 3.0]}
    assert store.read("raw").head(2).collect().height == 2
    assert store.read("raw").collect_schema().names() == ["sensor_id", "timestamp", "value"]
