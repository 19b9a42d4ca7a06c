"""Versions hashed with the first content-hash scheme: verify says so instead of failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from deltalake import CommitProperties, Transaction, write_deltalake

from sensorframe.prepare import content_hash
from sensorframe.prepare._hash import HASH_SCHEME
from sensorframe.store import DatasetStore, DatasetVersion
from sensorframe.store._model import APP_ID, TABLE_CONFIG, encode_metadata

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SCHEME_KEY = "sensorframe.hash_scheme"


def frame(sensor: str = "a", n: int = 3) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": [sensor] * n,
            "timestamp": [T0 + timedelta(minutes=i) for i in range(n)],
            "value": [float(i) for i in range(n)],
        }
    )


def test_new_commits_record_the_scheme(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "lake")
    v = store.commit("raw", frame())
    log = (tmp_path / "lake" / "raw" / "_delta_log" / f"{0:020d}.json").read_text()
    assert f'"{SCHEME_KEY}":"{HASH_SCHEME}"' in log.replace(" ", "")
    assert v.data_hash == content_hash(frame())
    assert store.verify("raw", 0)


def test_a_version_of_the_first_scheme_is_reported_not_called_damaged(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "lake")
    old = DatasetVersion(dataset="raw", version=0, data_hash="0" * 64, rows=3, sensors=("a",))
    metadata = encode_metadata(old)
    del metadata[SCHEME_KEY]  # what sensorframe wrote before the scheme was recorded
    write_deltalake(
        f"{store.root}/raw",
        frame(),
        configuration=TABLE_CONFIG,
        commit_properties=CommitProperties(
            custom_metadata=metadata, app_transactions=[Transaction(app_id=APP_ID, version=0)]
        ),
    )
    result = store.verify("raw", 0)
    assert not result
    assert result.actual is None
    assert "hashed with content-hash scheme 1" in (result.error or "")
    assert "not known to be damaged" in (result.error or "")
    # an append on top chains on the old hash: it cannot be proven either, and says why
    store.commit("raw", frame("b"), mode="append")
    assert "scheme 1" in (store.verify("raw", 1).error or "")
    # committing the data again gives a version that verifies
    again = store.commit("raw", store.read("raw", version=0))
    assert store.verify("raw", again.version)
    assert again.data_hash == content_hash(frame())
