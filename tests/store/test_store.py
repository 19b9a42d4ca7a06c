"""DatasetStore on a local folder and on a loopback S3 server (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError
from hypothesis import HealthCheck, given, settings

from sensorframe.errors import (
    CommitConflictError,
    DatasetNotFoundError,
    InvalidParameterError,
    SensorSchemaError,
    TagNotFoundError,
    VersioningError,
    VersionNotFoundError,
)
from sensorframe.prepare import content_hash
from sensorframe.store import DatasetStore, DatasetVersion, Verification, _maintenance
from sensorframe.store._model import chained_hash
from tests.conftest import sensor_frames
from tests.store.conftest import tamper

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def frame(sensors: str = "ab", n: int = 4, offset: float = 0.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": [s for s in sensors for _ in range(n)],
            "timestamp": [T0 + timedelta(minutes=i) for _ in sensors for i in range(n)],
            "value": [float(i) + offset for _ in sensors for i in range(n)],
        }
    )


# ---------------------------------------------------------------------- commit / read


def test_commit_records_metadata_in_the_delta_commit(store: DatasetStore) -> None:
    df = frame("ba", offset=0.5)
    v = store.commit("raw", df, description="first pull", tags=["raw", "raw"])
    assert v == DatasetVersion(
        dataset="raw",
        version=0,
        data_hash=content_hash(df),
        rows=8,
        bytes=v.bytes,
        sensors=("a", "b"),
        created_at=v.created_at,
        tags=("raw",),
        description="first pull",
        library_version=v.library_version,
        batch_hash=content_hash(df),
        batch_rows=8,
    )
    assert v.bytes > 0
    assert v.created_at.tzinfo is not None
    # The metadata is in the Delta commit itself, under sensorframe.* keys.
    commit = DeltaTable(f"{store.root}/raw", storage_options=store.storage_options).history()[0]
    assert commit["sensorframe.hash"] == v.data_hash
    assert json.loads(commit["sensorframe.sensors"]) == ["a", "b"]
    assert store.version("raw", 0) == v
    assert store.latest("raw") == v
    assert content_hash(store.read("raw")) == v.data_hash


def test_table_keeps_its_history_configuration(store: DatasetStore) -> None:
    store.commit("raw", frame())
    config = DeltaTable(f"{store.root}/raw", storage_options=store.storage_options)
    configuration = config.metadata().configuration
    assert configuration["delta.enableExpiredLogCleanup"] == "false"
    assert configuration["delta.logRetentionDuration"] == "interval 36500 days"


def test_time_travel_by_version_datetime_and_tag(store: DatasetStore) -> None:
    v0 = store.commit("raw", frame(offset=0.0), tags=["stable"])
    v1 = store.commit("raw", frame(offset=1.0))
    v2 = store.commit("raw", frame("c", offset=2.0), mode="append")
    assert [v.version for v in (v0, v1, v2)] == [0, 1, 2]
    # An append's hash chains the previous version's with the appended rows'.
    assert v2.data_hash == chained_hash(v1.data_hash, content_hash(frame("c", offset=2.0)))
    assert v2.batch_hash == content_hash(frame("c", offset=2.0))
    assert (v2.rows, v2.batch_rows, v2.sensors) == (12, 4, ("a", "b", "c"))
    contents = {0: frame(offset=0.0), 1: frame(offset=1.0)}
    contents[2] = pl.concat([contents[1], frame("c", offset=2.0)])
    for v in (v0, v1, v2):
        expected = content_hash(contents[v.version])
        assert content_hash(store.read("raw", version=v.version)) == expected
        assert content_hash(store.read("raw", as_known_at=v.created_at)) == expected
        assert store.verify("raw", v.version)
        later = v.created_at + timedelta(microseconds=1)
        assert store.resolve("raw", as_known_at=later) == v.version
    naive = v1.created_at.replace(tzinfo=None)
    assert store.resolve("raw", as_known_at=naive) == 1
    assert content_hash(store.read("raw", tag="stable")) == v0.data_hash
    assert content_hash(store.read("raw")) == content_hash(contents[2])
    with pytest.raises(VersionNotFoundError, match="no version at or before"):
        store.read("raw", as_known_at=v0.created_at - timedelta(seconds=1))
    # Moving a tag: the newest assignment wins.
    store.tag("raw", 2, "stable")
    assert content_hash(store.read("raw", tag="stable")) == content_hash(contents[2])
    assert store.tags("raw").select("tag", "version").rows() == [("stable", 2)]


def test_exactly_one_selector(store: DatasetStore) -> None:
    v = store.commit("raw", frame(), tags=["t"])
    with pytest.raises(InvalidParameterError, match="at most one"):
        store.read("raw", version=0, tag="t")
    with pytest.raises(InvalidParameterError, match="at most one"):
        store.read("raw", version=0, as_known_at=v.created_at)


def test_missing_things_raise_typed_errors_listing_what_exists(store: DatasetStore) -> None:
    store.commit("raw", frame(), tags=["stable"])
    store.commit("raw", frame(offset=1.0))
    with pytest.raises(DatasetNotFoundError, match=r"no dataset 'nope'.*\['raw'\]"):
        store.read("nope")
    with pytest.raises(VersionNotFoundError, match=r"no version 7; versions: \[0, 1\]"):
        store.read("raw", version=7)
    with pytest.raises(VersionNotFoundError):
        store.version("raw", 7)
    with pytest.raises(TagNotFoundError, match=r"no tag 'gold'; tags: \['stable'\]"):
        store.read("raw", tag="gold")
    with pytest.raises(KeyError):  # the errors are KeyErrors too
        store.versions("nope")
    with pytest.raises(VersionNotFoundError):
        store.tag("raw", 9, "x")
    with pytest.raises(VersionNotFoundError):
        store.commit("clean", frame(), parents=[("raw", 9)])
    with pytest.raises(DatasetNotFoundError):
        store.commit("clean", frame(), parents=[("other", 0)])
    assert store.datasets() == ["raw"]


@pytest.mark.parametrize(
    "name", ["", "../escape", "a/b", "_sensorframe", "_x", ".hidden", "a..b", "x" * 129, "a b"]
)
def test_invalid_dataset_names(tmp_path: object, name: str) -> None:
    store = DatasetStore(str(tmp_path))
    with pytest.raises(InvalidParameterError, match="invalid dataset name"):
        store.commit(name, frame())
    with pytest.raises(InvalidParameterError):
        store.read(name)


def test_invalid_arguments(tmp_path: object) -> None:
    store = DatasetStore(str(tmp_path))
    with pytest.raises(TypeError):
        store.commit(3, frame())  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="mode"):
        store.commit("raw", frame(), mode="merge")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="tags"):
        store.commit("raw", frame(), tags=[""])
    with pytest.raises(InvalidParameterError, match="parent"):
        store.commit("raw", frame(), parents=["raw"])  # type: ignore[list-item]
    with pytest.raises(InvalidParameterError):
        DatasetStore("")
    with pytest.raises(InvalidParameterError):
        DatasetStore(str(tmp_path), max_commit_retries=-1)
    v = store.commit("raw", frame())
    with pytest.raises(TypeError):
        store.read("raw", version="0")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="model_id"):
        store.link_model("raw", v.version, model_id="", model_version="1")
    with pytest.raises(InvalidParameterError, match="tag"):
        store.tag("raw", 0, " ")


def test_extra_columns_and_types_round_trip(tmp_path: object) -> None:
    store = DatasetStore(str(tmp_path))
    df = frame().with_columns(
        rolling_3_mean=pl.col("value") * 2,
        site=pl.lit("north").cast(pl.Categorical),
        count=pl.lit(7, pl.UInt32),
        flag=pl.col("value") > 1,
    )
    v = store.commit("features", df)
    back = store.read("features").collect()
    assert back.columns == df.columns
    assert back.schema["site"] == pl.String
    assert back.schema["count"] == pl.Int64
    assert content_hash(back) == v.data_hash


def test_append_must_keep_the_schema_and_overwrite_may_change_it(store: DatasetStore) -> None:
    store.commit("raw", frame())
    with pytest.raises(SensorSchemaError, match="mode='overwrite'"):
        store.commit("raw", frame().with_columns(extra=pl.lit(1.0)), mode="append")
    v = store.commit("raw", frame().with_columns(extra=pl.lit(1.0)))
    assert store.read("raw").collect_schema().names() == [
        "sensor_id",
        "timestamp",
        "value",
        "extra",
    ]
    assert content_hash(store.read("raw", version=0)) == content_hash(frame())
    assert content_hash(store.read("raw", version=1)) == v.data_hash
    with pytest.raises(SensorSchemaError):
        store.commit("raw", pl.DataFrame({"x": [1]}))


def test_first_commit_can_be_an_append(store: DatasetStore) -> None:
    v = store.commit("raw", frame(), mode="append")
    assert (v.version, v.operation, v.data_hash) == (0, "append", content_hash(frame()))


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(df=sensor_frames(max_rows=20))
def test_any_sensor_frame_round_trips_with_its_hash(
    tmp_path_factory: pytest.TempPathFactory, df: pl.DataFrame
) -> None:
    store = DatasetStore(str(tmp_path_factory.mktemp("lake")))
    v = store.commit("raw", df)
    assert v.rows == df.height
    assert content_hash(store.read("raw", version=v.version)) == v.data_hash == content_hash(df)
    assert store.verify("raw", v.version)


# ---------------------------------------------------------------------- lineage / models


def test_lineage_of_a_three_step_chain(store: DatasetStore) -> None:
    raw = store.commit("raw", frame())
    other = store.commit("weather", frame("w"))
    clean = store.commit("clean", frame(), parents=[raw])
    feats = store.commit("features", frame(), parents=[clean, ("weather", other.version)])
    model_input = store.commit("train", frame(), parents=[feats, raw])
    lineage = store.lineage("train", model_input.version)
    assert lineage.rows() == [
        ("train", 0, "features", 0, 1),
        ("train", 0, "raw", 0, 1),
        ("features", 0, "clean", 0, 2),
        ("features", 0, "weather", 0, 2),
        ("clean", 0, "raw", 0, 3),
    ]
    assert store.lineage("raw", 0).height == 0
    graph = store.lineage_graph("train", 0)
    assert graph[("train", 0)] == (("features", 0), ("raw", 0))
    assert graph[("raw", 0)] == ()
    assert store.version("clean", 0).parents == (("raw", 0),)
    versions = store.versions("features")
    assert versions["parents"].to_list() == [
        [{"dataset": "clean", "version": 0}, {"dataset": "weather", "version": 0}]
    ]


def test_model_links_both_ways(store: DatasetStore) -> None:
    store.commit("train", frame())
    store.commit("train", frame(offset=1.0))
    store.link_model("train", 0, model_id="telemanom_P-1", model_version="1.0")
    store.link_model("train", 1, model_id="telemanom_P-1", model_version="1.1")
    store.link_model("train", 1, model_id="isoforest", model_version="3")
    store.link_model("train", 1, model_id="isoforest", model_version="3")  # idempotent
    assert store.models("train", 1).select("model_id", "model_version").rows() == [
        ("isoforest", "3"),
        ("telemanom_P-1", "1.1"),
    ]
    assert store.models("train", 0)["model_version"].to_list() == ["1.0"]
    by_model = store.model_datasets("telemanom_P-1")
    assert by_model.select("dataset", "version", "model_version").rows() == [
        ("train", 0, "1.0"),
        ("train", 1, "1.1"),
    ]
    assert store.model_datasets("telemanom_P-1", "1.1")["version"].to_list() == [1]
    assert store.model_datasets("unknown").height == 0
    with pytest.raises(VersionNotFoundError):
        store.link_model("train", 5, model_id="m", model_version="1")


# ---------------------------------------------------------------------- integrity


def test_verify_catches_a_tampered_data_file(store: DatasetStore) -> None:
    store.commit("raw", frame())
    store.commit("raw", frame("c"), mode="append")
    assert store.verify("raw", 0)
    assert store.verify("raw", 1).ok
    tamper(store, "raw", 0)
    result = store.verify("raw", 0)
    assert isinstance(result, Verification)
    assert not result
    assert result.expected == store.version("raw", 0).data_hash
    assert result.actual != result.expected
    assert not store.verify("raw")  # the latest version shares the tampered file


def test_verify_reports_an_unreadable_file(tmp_path: object) -> None:
    store = DatasetStore(str(tmp_path))
    store.commit("raw", frame())
    dt = DeltaTable(f"{store.root}/raw")
    path = pl.DataFrame(dt.get_add_actions(flatten=True))["path"][0]
    with open(f"{store.root}/raw/{path}", "wb") as fh:
        fh.write(b"not parquet")
    result = store.verify("raw", 0)
    assert not result.ok
    assert result.actual is None
    assert result.error


def test_restore_makes_an_old_version_the_latest(store: DatasetStore) -> None:
    v0 = store.commit("raw", frame())
    store.commit("raw", frame(offset=5.0))
    restored = store.restore("raw", 0)
    assert restored.version == 2
    assert restored.operation == "restore"
    assert restored.parents == (("raw", 0),)
    assert restored.data_hash == v0.data_hash
    assert content_hash(store.read("raw")) == v0.data_hash
    assert store.verify("raw", 2)
    assert store.latest("raw") == restored
    # Restoring the current version still makes a new, identical version.
    again = store.restore("raw", 2)
    assert (again.version, again.data_hash) == (3, v0.data_hash)
    assert content_hash(store.read("raw", version=3)) == v0.data_hash


def test_vacuum_keeps_tagged_and_model_linked_versions(store: DatasetStore) -> None:
    hashes = [store.commit("raw", frame(offset=float(i))).data_hash for i in range(5)]
    store.tag("raw", 1, "baseline")
    store.link_model("raw", 3, model_id="m", model_version="1")
    preview = store.vacuum("raw", retention_hours=0, dry_run=True)
    assert preview.dry_run
    assert preview.lost_versions["version"].to_list() == [0, 2]
    assert content_hash(store.read("raw", version=0)) == hashes[0]  # nothing deleted yet
    report = store.vacuum(retention_hours=0)
    assert report.lost_versions.rows() == [("raw", 0), ("raw", 2)]
    assert report.files.height == 2
    assert dict(report.kept_versions.select("version", "reason").rows()) == {
        1: "tag",
        3: "model",
        4: "latest",
    }
    for n in (1, 3, 4):
        assert content_hash(store.read("raw", version=n)) == hashes[n]
    with pytest.raises(VersionNotFoundError, match="vacuum"):
        store.read("raw", version=0)
    # vacuum commits are not dataset versions; a second vacuum finds nothing new.
    assert store.versions("raw")["version"].to_list() == [0, 1, 2, 3, 4]
    assert store.vacuum("raw", retention_hours=0).files.height == 0
    with pytest.raises(InvalidParameterError):
        store.vacuum(keep=[1])


def test_vacuum_orphans_deletes_files_no_version_references(
    store: DatasetStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer killed before its commit leaves a Parquet file that no version lists."""
    monkeypatch.setattr(_maintenance, "ORPHAN_MIN_HOURS", 0)  # no hour-old file here
    v0 = store.commit("raw", frame())
    orphan = "part-00000-killed-writer.parquet"
    path, options = f"{store.root}/raw/{orphan}", store.storage_options
    frame(offset=9.0).write_parquet(path, storage_options=options)
    assert pl.read_parquet(path, storage_options=options).height == 8
    assert store.vacuum("raw", retention_hours=0, dry_run=True).files.height == 0
    young = store.vacuum("raw", retention_hours=1, orphans=True, dry_run=True)
    assert young.files.height == 0  # may still belong to a commit in progress
    report = store.vacuum("raw", retention_hours=0, orphans=True)
    assert report.files["path"].to_list() == [orphan]
    assert report.lost_versions.height == 0
    with pytest.raises(FileNotFoundError):
        pl.read_parquet(path, storage_options=options)
    assert store.verify("raw", 0)
    assert content_hash(store.read("raw")) == v0.data_hash


# ---------------------------------------------------------------------- records


def test_append_records_and_records(store: DatasetStore) -> None:
    with pytest.raises(DatasetNotFoundError, match="no record table 'audits'"):
        store.records("audits")
    assert store.append_records("audits", pl.DataFrame({"run": [1], "ok": [True]})) == 0
    assert store.append_records("audits", pl.LazyFrame({"run": [2], "ok": [False]})) == 1
    # New columns are merged into the table's schema.
    assert store.append_records("audits", pl.DataFrame({"run": [3], "ok": [True], "n": [5]})) == 2
    runs = store.records("audits").sort("run").collect()
    assert runs.rows() == [(1, True, None), (2, False, None), (3, True, 5)]
    with pytest.raises(InvalidParameterError, match="reserved"):
        store.append_records("tags", pl.DataFrame({"x": [1]}))
    with pytest.raises(InvalidParameterError):
        store.append_records("../x", pl.DataFrame({"x": [1]}))
    with pytest.raises(TypeError):
        store.append_records("audits", {"run": [4]})  # type: ignore[arg-type]
    store.commit("raw", frame(), tags=["a"])
    store.tag("raw", 0, "b")
    assert store.records("tags").collect()["tag"].to_list() == ["b"]  # the raw event log
    assert store.datasets() == ["raw"]  # catalog tables are not datasets


def test_tags_across_datasets(store: DatasetStore) -> None:
    store.commit("raw", frame(), tags=["stable"])
    store.commit("clean", frame(), tags=["stable", "v1"])
    store.tag("raw", 0, "gold")
    assert store.tags().select("dataset", "tag", "version").rows() == [
        ("clean", "stable", 0),
        ("clean", "v1", 0),
        ("raw", "gold", 0),
        ("raw", "stable", 0),
    ]


def test_commit_conflicts_are_wrapped(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    store = DatasetStore(str(tmp_path), max_commit_retries=1)
    store.commit("raw", frame())

    def lose(*args: object, **kwargs: object) -> None:
        raise CommitFailedError("Concurrent transaction failed.")

    # commits to an existing table go through create_write_transaction (Polars files)
    monkeypatch.setattr("sensorframe.store._commit.write_deltalake", lose)
    monkeypatch.setattr(DeltaTable, "create_write_transaction", lose)
    with pytest.raises(CommitConflictError, match="concurrent writers") as info:
        store.commit("raw", frame(), mode="append")
    assert isinstance(info.value.__cause__, CommitFailedError)
    assert store.versions("raw").height == 1


def test_store_repr_and_root(tmp_path: object) -> None:
    store = DatasetStore(f"file://{tmp_path}")
    assert store.is_local
    assert repr(store) == f"DatasetStore({str(tmp_path)!r})"
    assert store.datasets() == []
    s3 = DatasetStore("s3://bucket/prefix/")
    assert (s3.root, s3.is_local) == ("s3://bucket/prefix", False)


def test_other_delta_errors_are_wrapped(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    store = DatasetStore(str(tmp_path))
    store.commit("raw", frame())

    def broken(*args: object, **kwargs: object) -> None:
        raise DeltaError("Generic error: disk on fire")

    monkeypatch.setattr("sensorframe.store._commit.write_deltalake", broken)
    monkeypatch.setattr(DeltaTable, "create_write_transaction", broken)
    with pytest.raises(VersioningError, match="disk on fire") as info:
        store.commit("raw", frame())
    assert isinstance(info.value.__cause__, DeltaError)


def test_empty_frames_are_versions_too(tmp_path: object) -> None:
    store = DatasetStore(str(tmp_path))
    empty = frame().clear()
    v0 = store.commit("raw", empty)
    v1 = store.commit("raw", empty, mode="append")
    assert (v0.rows, v1.rows, v1.sensors) == (0, 0, ())
    assert content_hash(store.read("raw")) == v0.data_hash == content_hash(empty)
    assert v1.data_hash == chained_hash(v0.data_hash, content_hash(empty))
    assert store.verify("raw", 1)
