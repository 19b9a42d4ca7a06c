"""The Polars data-file writer behind commits to existing datasets (store/_parquet.py)."""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from deltalake import CommitProperties, DeltaTable, write_deltalake
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from sensorframe.errors import SensorSchemaError, VersioningError
from sensorframe.frame import scan
from sensorframe.prepare import content_hash
from sensorframe.store import DatasetStore, _parquet
from sensorframe.store._model import COMMIT_ID, chained_hash, storable
from tests.conftest import sensor_frames

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLARS_FILE = re.compile(r"part-\d{5}-[0-9a-f-]{36}-c000\.snappy\.parquet")


def frame(n: int = 6, offset: float = 0.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": ["a", "b"] * (n // 2),
            "timestamp": [T0 + timedelta(minutes=i // 2) for i in range(n)],
            "value": [float(i) + offset for i in range(n)],
        }
    )


def mixed(n: int, seed: int = 0) -> pl.DataFrame:
    """A sensor frame with extra columns of every type the writer handles, with nulls."""
    rng = np.random.default_rng(seed)
    nulls = rng.random(n) < 0.2
    micros = rng.integers(-(10**15), 10**15, n)

    def holes(values: Any) -> list[Any]:
        return [None if null else v for v, null in zip(list(values), nulls, strict=True)]

    base = frame(2 * ((n + 1) // 2)).head(n)
    return base.with_columns(
        pl.Series("i8", holes(rng.integers(-128, 128, n)), dtype=pl.Int8),
        pl.Series("i32", holes(rng.integers(-(2**31), 2**31, n)), dtype=pl.Int32),
        pl.Series("i64", holes(rng.integers(-(2**62), 2**62, n)), dtype=pl.Int64),
        pl.Series("u32", holes(rng.integers(0, 2**32, n)), dtype=pl.UInt32),
        pl.Series("f32", holes(rng.normal(size=n)), dtype=pl.Float32),
        pl.Series("f64", holes(rng.normal(size=n) * 1e6), dtype=pl.Float64),
        pl.Series("flag", holes(rng.random(n) < 0.5), dtype=pl.Boolean),
        pl.Series("label", holes(f"s{k}é" for k in rng.integers(0, 50, n)), dtype=pl.String),
        pl.Series(
            "day",
            holes(date(2000, 1, 1) + timedelta(days=int(d)) for d in micros // 10**10),
            dtype=pl.Date,
        ),
        pl.Series("naive", holes(micros), dtype=pl.Int64).cast(pl.Datetime("us")),
        pl.Series("utc_ms", holes(micros // 1000), dtype=pl.Int64).cast(pl.Datetime("ms", "UTC")),
        pl.Series("kind", holes(rng.choice(["x", "y"], n)), dtype=pl.Categorical),
    )


def adds(store: DatasetStore, dataset: str, version: int | None = None) -> pl.DataFrame:
    dt = DeltaTable(
        f"{store.root}/{dataset}", version=version, storage_options=store.storage_options
    )
    return pl.DataFrame(dt.get_add_actions(flatten=True))


def uses_polars_files(store: DatasetStore, dataset: str, version: int) -> bool:
    """
    Whether the commit went through create_write_transaction.

    delta-rs' own writer records ``operationMetrics`` in the commit, that call does not.
    """
    dt = DeltaTable(f"{store.root}/{dataset}", storage_options=store.storage_options)
    commit = next(c for c in dt.history() if c["version"] == version)
    written = all(POLARS_FILE.fullmatch(p) for p in adds(store, dataset, version)["path"])
    return written and "operationMetrics" not in commit


# ---------------------------------------------------------------------- through the store


def test_commits_write_polars_files(store: DatasetStore) -> None:
    v0 = store.commit("raw", frame(), tags=["first"])
    assert uses_polars_files(store, "raw", 0)  # creation too: create_table_with_add_actions
    v1 = store.commit("raw", frame(offset=0.5), description="second")
    v2 = store.commit("raw", frame(2, offset=9.0), mode="append", tags=["third"])
    assert (v0.version, v1.version, v2.version) == (0, 1, 2)
    assert uses_polars_files(store, "raw", 1)
    assert uses_polars_files(store, "raw", 2)
    assert adds(store, "raw", 2).height == 2  # the append added one file
    dt = DeltaTable(f"{store.root}/raw", storage_options=store.storage_options)
    history = {c["version"]: c for c in dt.history()}
    assert COMMIT_ID in history[1]
    assert history[2]["sensorframe.hash"] == v2.data_hash
    assert store.versions("raw")["description"].to_list() == ["", "second", ""]

    assert_frame_equal(store.read("raw", version=1).collect(), frame(offset=0.5))
    assert_frame_equal(
        store.read("raw").collect(),
        pl.concat([frame(offset=0.5), frame(2, offset=9.0)]),
        check_row_order=False,
    )
    assert_frame_equal(store.read("raw", tag="first").collect(), frame())
    assert store.resolve("raw", tag="third") == 2
    assert store.read("raw", as_known_at=v1.created_at).collect().height == 6
    for v in (v0, v1, v2):
        assert store.verify("raw", v.version)
    for v in (v0, v1):  # overwrites: the content hash (an append chains, see test_versions_hash)
        assert content_hash(store.read("raw", version=v.version)) == v.data_hash


def test_a_frame_is_split_into_files(store: DatasetStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parquet, "MAX_FILE_ROWS", 7)
    df = mixed(50, seed=1)
    store.commit("big", df)
    v1 = store.commit("big", df.reverse())
    files = adds(store, "big", 1)
    assert files.height == math.ceil(50 / 7)
    assert files["num_records"].to_list() == [7] * 7 + [1]
    assert uses_polars_files(store, "big", 1)
    if store.is_local:  # the files are Polars' own
        for path in files["path"]:
            meta = pq.read_metadata(f"{store.root}/big/{path}")
            assert meta.created_by.startswith("Polars"), meta.created_by
    # the files hold the rows in their order
    assert_frame_equal(store.read("big").collect(), storable(df.reverse()))
    assert store.verify("big", v1.version)


def test_files_are_split_by_size_too(tmp_path: Any) -> None:
    df = pl.DataFrame({"x": np.arange(1000, dtype=np.float64)})  # 8,000 bytes
    write_deltalake(str(tmp_path), df)
    actions = _parquet.write_files(df, str(tmp_path), None, max_bytes=2000)
    assert [int(json_rows(a.stats)) for a in actions] == [250] * 4
    assert len({a.path for a in actions}) == 4
    assert all(a.size > 0 and a.data_change and a.partition_values == {} for a in actions)


def json_rows(stats: str) -> int:
    return int(re.search(r'"numRecords":(\d+)', stats).group(1))  # type: ignore[union-attr]


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, 40),
    seed=st.integers(0, 2**16),
    rows_per_file=st.integers(1, 16),
)
def test_round_trip_equals_deltalakes_writer(
    tmp_path: Any, n: int, seed: int, rows_per_file: int
) -> None:
    store = DatasetStore(tmp_path / uuid.uuid4().hex)
    df = mixed(n, seed)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_parquet, "MAX_FILE_ROWS", rows_per_file)
        v0 = store.commit("mixed", df)  # write_deltalake (creation)
        v1 = store.commit("mixed", df)  # Polars files
        v2 = store.commit("mixed", df.head(3), mode="append")
    assert uses_polars_files(store, "mixed", 1)
    by_deltalake = store.read("mixed", version=0).collect()
    by_polars = store.read("mixed", version=1).collect()
    assert_frame_equal(by_polars, by_deltalake, check_exact=True)
    assert_frame_equal(by_polars, storable(df), check_exact=True)
    assert_frame_equal(
        store.read("mixed").collect(),
        pl.concat([by_deltalake, by_deltalake.head(3)]),
        check_exact=True,
        check_row_order=False,
    )
    assert v1.data_hash == v0.data_hash == content_hash(by_polars)
    assert store.verify("mixed", 2)
    assert v2.data_hash == chained_hash(v1.data_hash, content_hash(by_polars.head(3)))


def test_statistics_match_a_reference(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parquet, "MAX_FILE_ROWS", 9)
    df = storable(mixed(40, seed=3)).with_columns(
        # NaN and infinities hide the extremes from a reader: no min/max for them
        pl.Series("f_nan", [math.nan] + [1.0] * 39),
        pl.Series("f_inf", [1.0] * 20 + [-math.inf] + [2.0] * 19),
        pl.Series("long", ["x" * 70] * 3 + ["y"] * 37),
        pl.Series("nothing", [None] * 40, dtype=pl.Float64),
    )
    store = DatasetStore(tmp_path)
    store.commit("t", df)
    store.commit("t", df)
    files = adds(store, "t", 1)
    assert files.height == 5
    for k, row in enumerate(files.iter_rows(named=True)):
        part = pl.read_parquet(f"{tmp_path}/t/{row['path']}")
        assert_frame_equal(part, df.slice(9 * k, 9), check_dtypes=False)
        assert row["num_records"] == part.height
        for name in df.columns:
            values = part[name]
            assert row[f"null_count.{name}"] == values.null_count(), name
            low, high = row.get(f"min.{name}"), row.get(f"max.{name}")
            expected = reference_min_max(values)
            assert (low, high) == expected, name


def reference_min_max(values: pl.Series) -> tuple[Any, Any]:
    """Min and max as Delta stats hold them; (None, None) where none are written."""
    present = values.drop_nulls()
    dtype = values.dtype
    if present.len() == 0 or dtype == pl.Boolean:
        return None, None
    if dtype.is_float():
        array = present.to_numpy().astype(np.float64)
        if not np.isfinite(array).all():
            return None, None
        return float(array.min()), float(array.max())
    if dtype == pl.String:
        items = present.to_list()
        return (min(items), max(items)) if max(map(len, items)) <= 64 else (None, None)
    if isinstance(dtype, pl.Datetime):
        # stored truncated to milliseconds, like delta-rs does
        ms = present.dt.truncate("1ms")
        low, high = ms.min(), ms.max()
        return low, high
    return present.min(), present.max()


def test_filters_read_the_right_rows(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parquet, "MAX_FILE_ROWS", 5)
    sub_ms = [datetime(2026, 1, 1, 0, 0, 0, 999 * k + 7) for k in range(30)]
    df = mixed(30, seed=5).with_columns(
        pl.Series("fine", sub_ms, dtype=pl.Datetime("us")),
        pl.Series("fine_utc", sub_ms, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC"),
    )
    store = DatasetStore(tmp_path)
    store.commit("t", df)
    store.commit("t", df)
    assert uses_polars_files(store, "t", 1)
    table = store.read("t").collect()
    uri = f"{tmp_path}/t"
    for name in ["value", "i8", "i64", "f32", "label", "day", "naive", "utc_ms", "fine"]:
        for pivot in table[name].drop_nulls().sort().gather_every(3):
            for expr in (pl.col(name) > pivot, pl.col(name) <= pivot, pl.col(name) == pivot):
                got = pl.scan_delta(uri).filter(expr).collect()
                assert_frame_equal(got, table.filter(expr), check_row_order=False)
    for pivot in sub_ms[::4]:
        expr = pl.col("fine_utc") >= pivot.replace(tzinfo=UTC)
        got = pl.scan_delta(uri).filter(expr).collect()
        assert got.height == table.filter(expr).height


def test_a_schema_change_on_overwrite_goes_through_deltalake(store: DatasetStore) -> None:
    store.commit("raw", frame())
    # a new Float64 column and a first naive datetime (needs the timestampNtz feature)
    wider = frame().with_columns(
        score=pl.col("value") * 2, local=pl.col("timestamp").dt.replace_time_zone(None)
    )
    v1 = store.commit("raw", wider)
    assert not uses_polars_files(store, "raw", 1)
    assert_frame_equal(store.read("raw").collect(), wider)
    assert store.read("raw", version=0).collect_schema().names() == [
        "sensor_id",
        "timestamp",
        "value",
    ]
    assert store.verify("raw", v1.version)
    store.commit("raw", wider.with_columns(score=pl.lit(0.5)))  # same schema again: Polars
    assert uses_polars_files(store, "raw", 2)
    assert store.read("raw").collect()["score"].to_list() == [0.5] * 6


def test_an_append_with_another_schema_still_raises(store: DatasetStore) -> None:
    store.commit("raw", frame())
    with pytest.raises(SensorSchemaError, match="schema"):
        store.commit("raw", frame().with_columns(extra=pl.lit(1)), mode="append")
    store.commit("more", frame().with_columns(extra=pl.lit(1)))
    with pytest.raises(SensorSchemaError, match="schema"):
        store.commit("more", frame().with_columns(extra=pl.lit("1")), mode="append")
    assert store.versions("more").height == 1
    assert store.versions("raw").height == 1


def test_other_types_fall_back_to_deltalake(tmp_path: Any) -> None:
    store = DatasetStore(tmp_path)
    df = frame().with_columns(tags=pl.concat_list("sensor_id", "sensor_id"))
    store.commit("listy", df)
    v1 = store.commit("listy", df)
    assert not uses_polars_files(store, "listy", 1)
    assert_frame_equal(store.read("listy").collect(), df)
    assert store.verify("listy", v1.version)


def test_a_failed_file_write_is_a_versioning_error(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DatasetStore(tmp_path)
    store.commit("raw", frame())

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("object-store error: bucket on fire")

    monkeypatch.setattr("sensorframe.store._commit.write_files", broken)
    with pytest.raises(VersioningError, match=r"data files of 'raw'.*bucket on fire") as info:
        store.commit("raw", frame(offset=1.0))
    assert isinstance(info.value.__cause__, OSError)
    assert store.versions("raw").height == 1


def test_which_frames_and_places_polars_writes() -> None:
    df = frame()
    assert _parquet.polars_can_write("/tmp/lake/raw", df)
    assert _parquet.polars_can_write("file:///tmp/lake/raw", df)
    assert _parquet.polars_can_write("s3://bucket/lake/raw", df)
    assert not _parquet.polars_can_write("gs://bucket/lake/raw", df)  # not tested: deltalake
    assert not _parquet.polars_can_write("/tmp/lake/raw", df.head(0))
    assert not _parquet.polars_can_write(
        "/tmp/lake/raw", df.with_columns(d=pl.lit(1.5).cast(pl.Decimal(4, 2)))
    )
    assert not _parquet.polars_can_write(
        "/tmp/lake/raw", df.with_columns(pl.col("timestamp").dt.cast_time_unit("ns"))
    )


def test_uncommitted_files_are_invisible(store: DatasetStore) -> None:
    v0 = store.commit("raw", frame())
    # a writer killed between writing its files and committing them leaves these
    _parquet.write_files(storable(frame(offset=1.0)), store._core.uri("raw"), store.storage_options)
    assert_frame_equal(store.read("raw").collect(), frame())
    assert store.verify("raw", v0.version)


def test_the_landed_version_is_found_by_this_calls_commit_id(tmp_path: Any) -> None:
    store = DatasetStore(str(tmp_path))
    store.commit("raw", frame())
    uri = f"{store.root}/raw"
    df = pl.read_delta(uri)
    write_deltalake(uri, df, mode="append")  # another writer (say vacuum) came first
    ours = {COMMIT_ID: "abc"}
    write_deltalake(
        uri, df, mode="append", commit_properties=CommitProperties(custom_metadata=ours)
    )
    write_deltalake(uri, df, mode="append")  # and one came after
    assert store._core.landed("raw", 0, "abc") == 2
    with pytest.raises(VersioningError, match="cannot find the commit"):
        store._core.landed("raw", 0, "not there")
    # every commit of the store carries its own id, read from the commit file
    v = store.commit("raw", frame(), mode="append")
    history = {c["version"]: c for c in DeltaTable(uri).history()}
    assert v.version == 4
    assert len({history[n][COMMIT_ID] for n in (0, 4)}) == 2


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(df=sensor_frames(max_rows=20).filter(lambda f: f.height > 0))
def test_sensor_frames_round_trip(store: DatasetStore, df: pl.DataFrame) -> None:
    name = f"s{uuid.uuid4().hex[:8]}"
    store.commit(name, df.head(1))
    v1 = store.commit(name, df)
    assert uses_polars_files(store, name, 1)
    assert_frame_equal(store.read(name).collect(), df, check_exact=True)
    assert v1.data_hash == content_hash(df)


def test_the_recorded_hash_is_the_content_hash_of_the_input(tmp_path: Any) -> None:
    # not canonical: text times, integer sensors, NaN and inf readings, odd extra types
    df = pl.DataFrame(
        {
            "sensor_id": [2, 1, 2, 1],
            "timestamp": ["2026-01-01T00:00:00", "2026-01-01", "2026-01-02", "2026-01-03"],
            "value": [1.0, math.nan, math.inf, None],
            "count": pl.Series([1, 2, 3, 4], dtype=pl.UInt16),
            "at": pl.Series([1000, 2000, 3000, 4000], dtype=pl.Int64).cast(pl.Datetime("ns")),
            "kind": pl.Series(["x", "y", "x", "y"], dtype=pl.Categorical),
        }
    )
    store = DatasetStore(tmp_path)
    v0 = store.commit("raw", df)
    v1 = store.commit("raw", df)
    # what commit hashed before it skipped content_hash's own scan of the batch
    expected = content_hash(storable(scan(df).collect()))
    assert v0.data_hash == v1.data_hash == v1.batch_hash == expected == content_hash(df)
    assert content_hash(store.read("raw")) == expected
    assert store.verify("raw", 1)
