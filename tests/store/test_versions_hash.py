"""The version hash: overwrites hash their rows, appends chain, verify proves any version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake

from sensorframe.errors import SensorSchemaError
from sensorframe.prepare import content_hash
from sensorframe.store import DatasetStore, DatasetVersion
from sensorframe.store._model import APP_ID, chained_hash, encode_metadata

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def frame(sensor: str = "a", n: int = 3, offset: float = 0.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": [sensor] * n,
            "timestamp": [T0 + timedelta(minutes=i) for i in range(n)],
            "value": [float(i) + offset for i in range(n)],
        }
    )


def data_files(store: DatasetStore, dataset: str, version: int) -> list[str]:
    dt = DeltaTable(f"{store.root}/{dataset}", version=version)
    return [p.removeprefix("file://") for p in dt.file_uris()]


def test_an_append_reads_no_earlier_data(tmp_path: object) -> None:
    # The first version's only data file becomes garbage: an append that re-read the
    # table would fail; one that costs only its own rows does not.
    store = DatasetStore(str(tmp_path))
    v0 = store.commit("raw", frame("a"))
    (path,) = data_files(store, "raw", 0)
    with open(path, "wb") as fh:
        fh.write(b"not parquet")
    v1 = store.commit("raw", frame("b"), mode="append")
    assert v1.data_hash == chained_hash(v0.data_hash, content_hash(frame("b")))
    assert (v1.rows, v1.batch_rows, v1.sensors, v1.bytes) == (
        6,
        3,
        ("a", "b"),
        v0.bytes + frame("b").estimated_size(),
    )
    assert store.version("raw", 1) == v1
    broken = store.verify("raw", 1)
    assert not broken
    assert broken.error


def test_verify_proves_every_version_of_a_mixed_history(store: DatasetStore) -> None:
    store.commit("raw", frame("a"))
    store.commit("raw", frame("b"), mode="append")
    store.commit("raw", frame("c"), mode="append")
    store.restore("raw", 1)
    store.commit("raw", frame("d"), mode="append")
    store.restore("raw", 4)  # the latest: a commit that changes no files
    store.commit("raw", frame("e", offset=1.0))  # overwrite
    store.commit("raw", frame("f"), mode="append")
    contents = {
        0: ["a"],
        1: ["a", "b"],
        2: ["a", "b", "c"],
        3: ["a", "b"],
        4: ["a", "b", "d"],
        5: ["a", "b", "d"],
    }
    versions = store.versions("raw")
    assert versions["version"].to_list() == list(range(8))
    assert versions["operation"].to_list() == [
        "overwrite",
        "append",
        "append",
        "restore",
        "append",
        "restore",
        "overwrite",
        "append",
    ]
    for n in range(8):
        assert store.verify("raw", n), n
    for n, sensors in contents.items():
        expected = pl.concat([frame(s) for s in sensors])
        assert content_hash(store.read("raw", version=n)) == content_hash(expected)
        assert store.version("raw", n).rows == expected.height
    # an overwrite's hash is its rows' content hash
    assert store.version("raw", 6).data_hash == content_hash(frame("e", offset=1.0))
    assert store.version("raw", 3).data_hash == store.version("raw", 1).data_hash


def test_verify_catches_a_tampered_appended_file(tmp_path: object) -> None:
    store = DatasetStore(str(tmp_path))
    store.commit("raw", frame("a"))
    store.commit("raw", frame("b"), mode="append")
    store.commit("raw", frame("c"), mode="append")
    (added,) = set(data_files(store, "raw", 1)) - set(data_files(store, "raw", 0))
    pl.read_parquet(added).with_columns(pl.col("value") + 1.0).write_parquet(added)
    assert [store.verify("raw", n).ok for n in range(3)] == [True, False, False]
    result = store.verify("raw", 2)
    assert result.actual != result.expected
    assert result.error is None


def test_a_data_change_by_another_writer_is_not_proven(tmp_path: object) -> None:
    store = DatasetStore(str(tmp_path))
    store.commit("raw", frame("a"))
    write_deltalake(f"{store.root}/raw", frame("x"), mode="append")  # not sensorframe
    v = store.commit("raw", frame("b"), mode="append")
    assert v.version == 2
    result = store.verify("raw", 2)
    assert not result
    assert "changed data files without sensorframe" in (result.error or "")
    assert store.verify("raw", 0)


def test_versions_of_the_first_hash_definition_still_verify_and_chain(tmp_path: object) -> None:
    # format 1: every version's hash was the content hash of the whole table
    store = DatasetStore(str(tmp_path))
    store.commit("raw", frame("a"))
    whole = pl.concat([frame("a"), frame("b")])
    old = DatasetVersion(
        dataset="raw",
        version=1,
        data_hash=content_hash(whole),
        rows=6,
        sensors=("a", "b"),
        operation="append",
        batch_hash=content_hash(frame("b")),
        batch_rows=3,
    )
    metadata = encode_metadata(old) | {"sensorframe.format": "1"}
    write_deltalake(
        f"{store.root}/raw",
        frame("b"),
        mode="append",
        commit_properties=CommitProperties(
            custom_metadata=metadata, app_transactions=[Transaction(app_id=APP_ID, version=1)]
        ),
    )
    assert store.verify("raw", 1)
    v2 = store.commit("raw", frame("c"), mode="append")
    assert v2.data_hash == chained_hash(content_hash(whole), content_hash(frame("c")))
    assert store.verify("raw", 2)


# ---------------------------------------------------------------------- extra column types

EXTRAS = {
    "paris": pl.Series([datetime(2026, 1, 1, 10), datetime(2026, 3, 29, 3)]).dt.replace_time_zone(
        "Europe/Paris"
    ),
    "uint8": pl.Series([1, 255], dtype=pl.UInt8),
    "uint32": pl.Series([1, 2**32 - 1], dtype=pl.UInt32),
    "uint64": pl.Series([1, 2**63 - 1], dtype=pl.UInt64),
    "categorical": pl.Series(["x", "y"], dtype=pl.Categorical),
    "enum": pl.Series(["x", "y"], dtype=pl.Enum(["y", "x"])),
    "ms": pl.Series([1, 2_001], dtype=pl.Int64).cast(pl.Datetime("ms")),
    "ns_whole_us": pl.Series([1_000, 7_000], dtype=pl.Int64).cast(pl.Datetime("ns", "Asia/Tokyo")),
    "decimal": pl.Series([Decimal("1.25"), None], dtype=pl.Decimal(10, 2)),
}


@pytest.mark.parametrize("name", sorted(EXTRAS))
def test_extra_columns_hash_as_the_store_keeps_them(tmp_path: object, name: str) -> None:
    df = frame(n=2).with_columns(EXTRAS[name].alias(name))
    store = DatasetStore(str(tmp_path))
    v0 = store.commit("raw", df)  # created by deltalake's writer
    v1 = store.commit("raw", df)  # Polars files where it can
    assert content_hash(df) == v0.data_hash == v1.data_hash
    assert content_hash(store.read("raw", version=0)) == v0.data_hash
    assert store.verify("raw", 0)
    assert store.verify("raw", 1)


REFUSED = {
    "uint64_above_int64": pl.Series([1, 2**63 + 5], dtype=pl.UInt64),
    "ns_below_us": pl.Series([1_000, 1_001], dtype=pl.Int64).cast(pl.Datetime("ns")),
    "int128": pl.Series([1, 2], dtype=pl.Int128),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_extra_columns_that_would_change_are_refused(tmp_path: object, name: str) -> None:
    df = frame(n=2).with_columns(REFUSED[name].alias(name))
    store = DatasetStore(str(tmp_path))
    with pytest.raises(SensorSchemaError, match=f"column {name!r}"):
        store.commit("raw", df)
    assert store.datasets() == []


def test_content_hash_still_tells_apart_what_is_stored_apart() -> None:
    base = frame(n=2)
    ns = pl.Series([1_000, 1_001], dtype=pl.Int64).cast(pl.Datetime("ns"))
    us = pl.Series([1, 1], dtype=pl.Int64).cast(pl.Datetime("us"))
    assert content_hash(base.with_columns(t=ns)) != content_hash(base.with_columns(t=us))
    big = pl.Series([1, 2**63 + 5], dtype=pl.UInt64)
    assert content_hash(base.with_columns(u=big)) != content_hash(base.with_columns(u=big - 1))
    utc = EXTRAS["paris"].dt.convert_time_zone("UTC")
    assert content_hash(base.with_columns(t=utc)) == content_hash(
        base.with_columns(t=EXTRAS["paris"])
    )


def test_tied_rows_that_differ_only_in_a_nested_column_hash_in_any_order() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    df = pl.DataFrame(
        {
            "sensor_id": ["a", "a", "a"],
            "timestamp": [t, t, t],
            "value": [1.0, 1.0, 1.0],
            "extra": [[0], [1], [-0.0]],
            "info": [{"k": 2}, {"k": 1}, {"k": 1}],
        }
    )
    digest = content_hash(df)
    for order in ([2, 1, 0], [1, 0, 2], [0, 2, 1]):
        assert content_hash(df[order]) == digest
    assert content_hash(df.with_columns(extra=pl.Series([[0], [1], [2.0]]))) != digest
