"""store.read(as_known_at=...): the data as committed at a time; `as_of` is deprecated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from sensorframe.errors import InvalidTypeError, VersionNotFoundError
from sensorframe.prepare import content_hash
from sensorframe.store import DatasetStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def readings(values: list[float]) -> pl.DataFrame:
    n = len(values)
    return pl.DataFrame(
        {
            "sensor_id": ["p1"] * n,
            "timestamp": [T0 + timedelta(hours=i) for i in range(n)],
            "value": values,
        }
    )


def test_reads_what_was_known_before_and_after_a_correction(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "lake")
    first = store.commit("raw", readings([1.0, 2.0]), description="first pull")
    more = store.commit(
        "raw", readings([3.0]).with_columns(pl.col("timestamp") + timedelta(hours=2)), mode="append"
    )
    fixed = store.commit("raw", readings([1.0, 20.0, 3.0]), description="correction")
    between = first.created_at + (more.created_at - first.created_at) / 2

    def known(at: datetime) -> list[float]:
        return store.read("raw", as_known_at=at).collect().sort("timestamp")["value"].to_list()

    assert known(first.created_at) == [1.0, 2.0]
    assert known(between) == [1.0, 2.0]
    assert known(more.created_at) == [1.0, 2.0, 3.0]
    assert known(fixed.created_at) == [1.0, 20.0, 3.0]
    assert known(fixed.created_at + timedelta(days=1)) == [1.0, 20.0, 3.0]
    assert known(more.created_at.replace(tzinfo=None)) == [1.0, 2.0, 3.0]  # naive is UTC
    assert store.resolve("raw", as_known_at=between) == first.version
    assert content_hash(store.read("raw", as_known_at=more.created_at)) == content_hash(
        readings([1.0, 2.0, 3.0])
    )
    with pytest.raises(VersionNotFoundError, match="no version at or before"):
        store.read("raw", as_known_at=first.created_at - timedelta(microseconds=1))
    with pytest.raises(InvalidTypeError, match="as_known_at"):
        store.read("raw", as_known_at="2026-01-01")  # type: ignore[arg-type]


def test_as_of_still_works_with_a_deprecation_warning(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "lake")
    first = store.commit("raw", readings([1.0]))
    store.commit("raw", readings([5.0]))
    with pytest.warns(
        DeprecationWarning, match=r"`read\(as_of=...\)` is deprecated: use `as_known_at`"
    ):
        old = store.read("raw", as_of=first.created_at)
    assert old.collect()["value"].to_list() == [1.0]
    with pytest.warns(DeprecationWarning, match=r"`resolve\(as_of=...\)`"):
        assert store.resolve("raw", as_of=first.created_at) == 0
    with pytest.raises(InvalidTypeError, match="both `as_of` and `as_known_at`"):
        store.read("raw", as_of=first.created_at, as_known_at=first.created_at)
