from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from deltalake import write_deltalake
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe.frame import CANONICAL_SCHEMA
from tests.conftest import sensor_frames

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def canonical() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": ["a", "a", "b", "b"],
            "timestamp": [T0, T0 + timedelta(minutes=1), T0, T0 + timedelta(minutes=1)],
            "value": [1.0, None, 3.5, -2.0],
        },
        schema=CANONICAL_SCHEMA,
    )


def _inputs(canonical: pl.DataFrame, tmp_path: Path) -> dict[str, object]:
    arrow = canonical.to_arrow()
    canonical.write_parquet(tmp_path / "r.parquet")
    canonical.write_csv(tmp_path / "r.csv")
    (tmp_path / "parts").mkdir()
    canonical.head(2).write_parquet(tmp_path / "parts" / "0.parquet")
    canonical.tail(2).write_parquet(tmp_path / "parts" / "1.parquet")
    write_deltalake(str(tmp_path / "delta"), arrow)
    return {
        "polars": canonical,
        "lazy": canonical.lazy(),
        "arrow_table": arrow,
        "arrow_reader": pa.RecordBatchReader.from_batches(arrow.schema, arrow.to_batches(2)),
        "arrow_dataset": pads.dataset(arrow),
        "pandas": canonical.to_pandas(),
        "parquet_path": tmp_path / "r.parquet",
        "parquet_str": str(tmp_path / "r.parquet"),
        "parquet_folder": tmp_path / "parts",
        "csv": tmp_path / "r.csv",
        "delta": tmp_path / "delta",
    }


INPUT_KINDS = [
    "polars",
    "lazy",
    "arrow_table",
    "arrow_reader",
    "arrow_dataset",
    "pandas",
    "parquet_path",
    "parquet_str",
    "parquet_folder",
    "csv",
    "delta",
]


@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_every_input_kind_gives_the_same_canonical_frame(
    kind: str, canonical: pl.DataFrame, tmp_path: Path
) -> None:
    got = sf.scan(_inputs(canonical, tmp_path)[kind])
    assert isinstance(got, pl.LazyFrame)
    assert got.collect_schema() == CANONICAL_SCHEMA
    assert_frame_equal(got.collect().sort("sensor_id", "timestamp"), canonical)


def test_arrow_c_stream_object(canonical: pl.DataFrame) -> None:
    class Stream:
        def __init__(self, table: pa.Table) -> None:
            self._table = table

        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            return self._table.__arrow_c_stream__(requested_schema)

    assert_frame_equal(sf.scan(Stream(canonical.to_arrow())).collect(), canonical)


def test_numpy_array_for_one_sensor() -> None:
    times = np.array(["2026-03-01T00:00", "2026-03-01T00:01"], dtype="datetime64[us]")
    got = sf.scan(np.array([1, 2], dtype=np.int32), timestamps=times, sensor_id="P-1").collect()
    assert got["sensor_id"].to_list() == ["P-1", "P-1"]
    assert got["value"].to_list() == [1.0, 2.0]
    assert got.schema == CANONICAL_SCHEMA


def test_numpy_array_needs_times_and_id() -> None:
    with pytest.raises(sf.SensorSchemaError, match="timestamps"):
        sf.scan(np.zeros(3))
    with pytest.raises(sf.SensorSchemaError, match="3 entries"):
        sf.scan(np.zeros(2), timestamps=[T0] * 3, sensor_id="x")
    with pytest.raises(sf.SensorSchemaError, match="1-D"):
        sf.scan(np.zeros((2, 2)), timestamps=[T0] * 2, sensor_id="x")


def test_column_mapping_and_extras_are_kept() -> None:
    df = pl.DataFrame({"dev": [7], "ts": [datetime(2026, 1, 1)], "r": [1], "label": ["x"]})
    got = sf.scan(df, columns=sf.Columns(sensor="dev", time="ts", value="r")).collect()
    assert got.columns == ["sensor_id", "timestamp", "value", "label"]
    assert got["sensor_id"].to_list() == ["7"]


def test_timezones_are_converted_to_utc() -> None:
    local = datetime(2026, 1, 1, 12, 0)
    df = pl.DataFrame({"sensor_id": ["a", "b"], "timestamp": [local, local], "value": [1, 2]})
    berlin = df.with_columns(pl.col("timestamp").dt.replace_time_zone("Europe/Berlin"))
    naive = sf.scan(df).collect()["timestamp"][0]
    converted = sf.scan(berlin).collect()["timestamp"][0]
    assert naive == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert converted == datetime(2026, 1, 1, 11, tzinfo=UTC)
    text = pl.DataFrame(
        {"sensor_id": ["a"], "timestamp": ["2026-01-01T12:00:00+02:00"], "value": [1]}
    )
    assert sf.scan(text).collect()["timestamp"][0] == datetime(2026, 1, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("unit", ["ns", "ms"])
def test_time_units_and_dates_are_widened(unit: str) -> None:
    df = pl.DataFrame(
        {"sensor_id": ["a"], "timestamp": [datetime(2026, 1, 1)], "value": [np.float32(1.5)]},
        schema={"sensor_id": pl.String, "timestamp": pl.Datetime(unit), "value": pl.Float32},
    )
    assert sf.scan(df).collect_schema() == CANONICAL_SCHEMA
    dates = df.with_columns(pl.col("timestamp").cast(pl.Date))
    assert sf.scan(dates).collect()["timestamp"][0] == datetime(2026, 1, 1, tzinfo=UTC)


def test_nan_and_inf_become_null() -> None:
    df = pl.DataFrame(
        {
            "sensor_id": ["a"] * 4,
            "timestamp": [T0 + timedelta(seconds=i) for i in range(4)],
            "value": [float("nan"), float("inf"), -float("inf"), 1.0],
        }
    )
    assert sf.scan(df).collect()["value"].to_list() == [None, None, None, 1.0]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"value": ["x"]}, "that are not numbers, first at row 0: 'x'"),
        ({"value": [True]}, "value column 'value' must be numeric"),
        ({"timestamp": ["yesterday"]}, "not timestamps, first at row 0: 'yesterday'"),
        ({"timestamp": [1_700_000_000]}, "epoch"),
        ({"sensor_id": [None]}, "null id"),
        ({"sensor_id": [""]}, "empty id"),
        ({"sensor_id": [1.5]}, "strings or integers"),
    ],
)
def test_bad_input_raises_typed_errors_naming_the_column(
    change: dict[str, list[object]], match: str
) -> None:
    base: dict[str, list[object]] = {"sensor_id": ["a"], "timestamp": [T0], "value": [1.0]}
    with pytest.raises(sf.SensorSchemaError, match=match):
        sf.scan(pl.DataFrame({**base, **change}, strict=False))


def test_missing_column_lists_what_exists() -> None:
    df = pl.DataFrame({"sensor_id": ["a"], "time": [T0], "value": [1.0]})
    with pytest.raises(sf.SensorSchemaError, match=r"missing column\(s\) \['timestamp'\]"):
        sf.scan(df)


def test_bad_sources() -> None:
    with pytest.raises(sf.SourceError, match="no such file"):
        sf.scan("does/not/exist.parquet")
    with pytest.raises(sf.SourceError, match="cannot read"):
        sf.scan(object())
    with pytest.raises(sf.SourceError, match="format"):
        sf.scan(Path(__file__))


def test_require_rows() -> None:
    with pytest.raises(sf.EmptyFrameError, match="fitting needs data"):
        sf.frame.require_rows(pl.DataFrame(), "fitting")


def test_melt_wide() -> None:
    wide = pl.DataFrame({"t": [T0, T0 + timedelta(hours=1)], "P-1": [1, 2], "P-2": [3.0, None]})
    got = sf.melt_wide(wide, time="t").collect().sort("sensor_id", "timestamp")
    assert got["sensor_id"].to_list() == ["P-1", "P-1", "P-2", "P-2"]
    assert got["value"].to_list() == [1.0, 2.0, 3.0, None]
    only = sf.melt_wide(wide, time="t", sensors=["P-2"]).collect()
    assert set(only["sensor_id"]) == {"P-2"}
    with pytest.raises(sf.SensorSchemaError, match="numeric"):
        sf.melt_wide(wide.with_columns(pl.lit("x").alias("bad")), time="t")
    with pytest.raises(sf.SensorSchemaError, match="time column"):
        sf.melt_wide(wide, time="nope")


@pytest.mark.parametrize("names", [["value"], ["sensor_id", "value"], ["timestamp", "P-1"]])
def test_melt_wide_reads_sensors_named_like_key_columns(names: list[str], tmp_path: Path) -> None:
    wide = pl.DataFrame({"t": ["2026-01-01", "2026-01-02"], **{n: [1.5, 2.5] for n in names}})
    wide.write_csv(tmp_path / "wide.csv")
    for source in (wide, tmp_path / "wide.csv"):
        got = sf.melt_wide(source, time="t").collect().sort("sensor_id", "timestamp")
        assert got["sensor_id"].to_list() == [n for n in sorted(names) for _ in range(2)]
        assert got["value"].to_list() == [1.5, 2.5] * len(names)


@given(frame=sensor_frames())
def test_scan_is_idempotent_on_canonical_frames(frame: pl.DataFrame) -> None:
    once = sf.scan(frame).collect()
    assert_frame_equal(once, frame)
    assert_frame_equal(sf.scan(once).collect(), frame)
    assert_frame_equal(sf.scan(frame.to_arrow()).collect(), frame)


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)),
)


@given(
    rows=st.lists(st.tuples(junk, junk, junk), min_size=1, max_size=8),
    names=st.permutations(["sensor_id", "timestamp", "value"]),
)
def test_malformed_input_raises_only_sensorframe_errors(
    rows: list[tuple[object, object, object]], names: list[str]
) -> None:
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    try:
        df = pl.DataFrame(columns, strict=False)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        return  # polars itself refuses to build the frame: not our input
    try:
        out = sf.scan(df).collect()
    except sf.SensorFrameError:
        return
    assert out.schema == CANONICAL_SCHEMA
    assert out.height == len(rows)


def test_pandas_with_datetime_index_columns() -> None:
    pdf = pd.DataFrame(
        {"sensor_id": ["a", "a"], "timestamp": pd.date_range("2026-01-01", periods=2, freq="h")}
    )
    pdf["value"] = [1, 2]
    got = sf.scan(pdf).collect()
    assert got["timestamp"].to_list() == [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 1, tzinfo=UTC),
    ]


def test_melt_wide_names_unknown_sensors_and_the_columns_there_are() -> None:
    wide = pl.DataFrame({"t": [T0], "P-1": [1.0], "P-2": [2.0]})
    with pytest.raises(sf.SensorSchemaError, match=r"\['P-9'\]; available: \['P-1', 'P-2'\]"):
        sf.melt_wide(wide, time="t", sensors=["P-1", "P-9"])
