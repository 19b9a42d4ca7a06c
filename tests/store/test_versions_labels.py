"""Version labels and landed versions cannot be shifted by commits that land in between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from deltalake import DeltaTable

from sensorframe.prepare import content_hash
from sensorframe.store import DatasetStore, _commit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def frame(i: int) -> pl.DataFrame:
    """One row, unique to ``i``."""
    return pl.DataFrame(
        {"sensor_id": [f"s{i}"], "timestamp": [T0 + timedelta(minutes=i)], "value": [float(i)]}
    )


def test_a_commit_landing_while_versions_are_read_shifts_no_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = DatasetStore(tmp_path)
    for i in range(3):
        reader.commit("raw", frame(i), mode="append", description=f"#{i}", tags=[f"t{i}"])
    writer = DatasetStore(tmp_path)
    real = DeltaTable.update_incremental
    landed: list[int] = []
    busy: list[bool] = []

    def then_another_commit(self: DeltaTable) -> None:
        real(self)
        if not landed and not busy:  # right after the reader caught up, another commit
            busy.append(True)
            mine = writer.commit("raw", frame(3), mode="append", description="late")
            landed.append(mine.version)
            busy.clear()

    monkeypatch.setattr(DeltaTable, "update_incremental", then_another_commit)
    rows = reader.versions("raw").select("version", "description").rows()
    assert landed == [3]
    expected = [(0, "#0"), (1, "#1"), (2, "#2"), (3, "late")]
    assert rows in (expected[:3], expected)  # deltalake's history() gave ((1, "#0"), ...)
    for n in range(3):
        landed.clear()  # and again before each of these
        assert reader.version("raw", n).description == f"#{n}"
        assert reader.resolve("raw", tag=f"t{n}") == n
        assert content_hash(reader.read("raw", tag=f"t{n}")) == content_hash(
            pl.concat([frame(k) for k in range(n + 1)])
        )
        assert reader.verify("raw", n)
    listing = reader.versions("raw").select("version", "description").rows()
    assert listing == [*expected[:3], *((n, "late") for n in range(3, len(listing)))]
    assert len(listing) == 7


def test_commit_returns_the_version_holding_its_rows_after_vacuum_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DatasetStore(tmp_path)
    store.commit("raw", frame(0))
    store.commit("raw", frame(1))  # removes version 0's file: vacuum has work
    real = _commit.commit_files

    def vacuum_first(dt: DeltaTable, actions: Any, **kwargs: Any) -> None:
        # VACUUM START / END take versions 2 and 3, without the sensorframe transaction
        DeltaTable(str(tmp_path / "raw")).vacuum(
            retention_hours=0, enforce_retention_duration=False, dry_run=False
        )
        real(dt, actions, **kwargs)

    monkeypatch.setattr(_commit, "commit_files", vacuum_first)
    v = store.commit("raw", frame(2), mode="append", description="mine")
    assert v.version == 4
    assert store.version("raw", 4) == v
    assert store.versions("raw")["version"].to_list() == [0, 1, 4]
    assert store.verify("raw", 4)
    assert content_hash(store.read("raw", version=4)) == content_hash(
        pl.concat([frame(1), frame(2)])
    )
