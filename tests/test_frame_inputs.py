"""Bad values at the edge: typed errors naming file, column and row, never a panic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

import sensorframe as sf
from sensorframe.frame import CANONICAL_SCHEMA

T0 = datetime(2022, 1, 1)
N_ROWS = 3_000
BAD_ROW = 2_500


def _frame(**columns: object) -> pl.DataFrame:
    base: dict[str, object] = {
        "sensor_id": ["a", "b"],
        "timestamp": [T0, T0 + timedelta(hours=1)],
        "value": [1.0, 2.0],
    }
    return pl.DataFrame({**base, **columns})


def _csv(tmp_path: Path, *, bad_value: str | None = None, sensor: str = "P-1") -> Path:
    lines = ["sensor_id,timestamp,value,site"]
    for i in range(N_ROWS):
        value = bad_value if bad_value is not None and i == BAD_ROW else f"{i * 0.5}"
        sid = sensor if i == BAD_ROW else str(i % 7)
        site = "north" if i == BAD_ROW else str(i)
        lines.append(f"{sid},{(T0 + timedelta(minutes=i)).isoformat()},{value},{site}")
    path = tmp_path / "readings.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


# 4. The value column is read, strictly ---------------------------------------------------


def test_a_csv_whose_types_change_late_is_read_whole(tmp_path: Path) -> None:
    # Sensor ids, values and an extra column look like integers for 2,500 rows.
    got = sf.scan(_csv(tmp_path)).collect()
    assert got.height == N_ROWS
    assert got.schema == pl.Schema({**CANONICAL_SCHEMA, "site": pl.String()})
    assert got["sensor_id"][BAD_ROW] == "P-1"
    assert got["value"][BAD_ROW] == BAD_ROW * 0.5
    assert got["site"][BAD_ROW] == "north"


ENTRY_POINTS: dict[str, Callable[[object], object]] = {
    "scan": lambda src: sf.scan(src).collect(),
    "assess_quality": sf.assess_quality,
    "flag_quality": lambda src: sf.flag_quality(src).collect(),
    "content_hash": sf.content_hash,
    "split": sf.split,
    "engineer_features": lambda src: sf.engineer_features(src).collect(),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_text_in_the_value_column_of_a_csv_names_file_column_row_and_value(
    entry: str, tmp_path: Path
) -> None:
    path = _csv(tmp_path, bad_value="abc")
    with pytest.raises(sf.SensorSchemaError) as info:
        ENTRY_POINTS[entry](path)
    assert str(info.value) == (
        f"{path}: value column 'value' has 1 value(s) that are not numbers, "
        f"first at row {BAD_ROW}: 'abc'"
    )


def test_committing_a_bad_csv_raises_the_same_typed_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, bad_value="abc")
    store = sf.DatasetStore(tmp_path / "lake")
    with pytest.raises(sf.SensorSchemaError, match=f"first at row {BAD_ROW}: 'abc'"):
        store.commit("readings", path)


def test_numbers_as_text_are_parsed_and_missing_text_is_null() -> None:
    got = sf.scan(_frame(value=[" 2.5", "1e3"])).collect()["value"].to_list()
    assert got == [2.5, 1000.0]
    assert sf.scan(_frame(value=["", None])).collect()["value"].to_list() == [None, None]
    assert sf.scan(_frame(value=["nan", "-inf"])).collect()["value"].to_list() == [None, None]


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_text_values_of_parquet_and_arrow_are_never_nulled(kind: str, tmp_path: Path) -> None:
    frame = _frame(value=["1.5", "n/a"])
    source: object = frame.to_arrow()
    if kind == "parquet":
        source = tmp_path / "r.parquet"
        frame.write_parquet(source)
    with pytest.raises(sf.SensorSchemaError, match="first at row 1: 'n/a'"):
        sf.scan(source)
    good = _frame(value=["1.5", "-2"])
    assert sf.scan(good.to_arrow()).collect()["value"].to_list() == [1.5, -2.0]


# 5. Out-of-range times and every other cast: typed, never a PanicException ----------------


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_a_millisecond_time_that_overflows_microseconds_is_refused(entry: str) -> None:
    times = pl.Series([0, 2**62]).cast(pl.Datetime("ms"))
    with pytest.raises(sf.SensorSchemaError) as info:
        ENTRY_POINTS[entry](_frame(timestamp=times))
    assert "time column 'timestamp' has 1 time(s) outside 0001-01-02" in str(info.value)
    assert "first at row 1: 4611686018427387904 (ms since 1970-01-01)" in str(info.value)


@pytest.mark.parametrize(
    ("times", "found"),
    [
        (pl.Series([-(2**62), 0]).cast(pl.Datetime("ms")), "row 0: -4611686018427387904 (ms"),
        (pl.Series([0, 2**62]).cast(pl.Datetime("ms", "Europe/Berlin")), "row 1: 46"),
        (pl.Series([0, 2**62]).cast(pl.Datetime("us")), "(us since 1970-01-01)"),
        (pl.Series([0, 2**31 - 1], dtype=pl.Int32).cast(pl.Date), "2147483647 (days"),
        (pl.Series(["2022-01-01", "0000-06-01"]), "row 1: '0000-06-01'"),
    ],
)
def test_times_outside_the_supported_range_are_refused(times: pl.Series, found: str) -> None:
    with pytest.raises(sf.SensorSchemaError, match="outside") as info:
        sf.scan(_frame(timestamp=times)).collect()
    assert found in str(info.value)


def test_the_extremes_of_the_supported_range_are_read() -> None:
    times = [date(1, 1, 2), date(9999, 12, 30)]
    got = sf.scan(_frame(timestamp=times), timezone="Pacific/Kiritimati").collect()
    assert got["timestamp"].to_list() == [
        datetime(1, 1, 2, 10, 29, 20, tzinfo=UTC),  # local mean time, +10:29:20
        datetime(9999, 12, 29, 10, tzinfo=UTC),
    ]
    ns = pl.Series([-(2**63) + 1, 2**63 - 1]).cast(pl.Datetime("ns"))
    assert sf.scan(_frame(timestamp=ns)).collect()["timestamp"].dt.year().to_list() == [1677, 2262]


def test_arrow_seconds_that_overflow_are_refused_not_wrapped() -> None:
    # pl.from_arrow alone reads 2**62 s as 1970-01-01 00:00:00.
    table = pa.table(
        {
            "sensor_id": ["a", "a"],
            "timestamp": pa.array([0, 2**62], pa.timestamp("s")),
            "value": [1.0, 2.0],
        }
    )
    with pytest.raises(sf.SensorSchemaError, match=r"'timestamp'.*row 1: 4611686018427387904 s"):
        sf.scan(table)
    extra = table.set_column(1, "timestamp", pa.array([0, 60], pa.timestamp("s"))).append_column(
        "uptime", pa.array([1, 2**62], pa.duration("s"))
    )
    with pytest.raises(sf.SensorSchemaError, match=r"'uptime'.*row 1"):
        sf.scan(extra)
    got = sf.scan(extra.slice(0, 1)).collect()
    assert got["timestamp"].to_list() == [datetime(1970, 1, 1, tzinfo=UTC)]
    assert got["uptime"].to_list() == [timedelta(seconds=1)]


def test_pandas_seconds_that_overflow_are_refused() -> None:
    pdf = _frame().to_pandas()
    pdf["timestamp"] = np.array([0, 2**62], dtype="datetime64[s]")
    with pytest.raises(sf.SensorSchemaError, match="row 1: 4611686018427387904 s"):
        sf.scan(pdf)


@pytest.mark.parametrize(
    ("sensor", "expected"),
    [
        (
            pl.Series([2**63 - 1, -(2**63)], dtype=pl.Int64),
            ["9223372036854775807", "-9223372036854775808"],
        ),
        (pl.Series([2**64 - 1, 0], dtype=pl.UInt64), ["18446744073709551615", "0"]),
        (pl.Series([2**120, -(2**120)], dtype=pl.Int128), [str(2**120), str(-(2**120))]),
        (pl.Series(["x", "y"], dtype=pl.Categorical), ["x", "y"]),
        (pl.Series(["x", "y"], dtype=pl.Enum(["y", "x"])), ["x", "y"]),
    ],
)
def test_sensor_ids_of_every_accepted_type_are_exact(
    sensor: pl.Series, expected: list[str]
) -> None:
    assert sf.scan(_frame(sensor_id=sensor)).collect()["sensor_id"].to_list() == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (pl.Series([2**64 - 1, 0], dtype=pl.UInt64), [float(2**64 - 1), 0.0]),
        (pl.Series([2**126, -(2**126)], dtype=pl.Int128), [float(2**126), -float(2**126)]),
        (pl.Series([Decimal("9" * 38), Decimal(0)], dtype=pl.Decimal(38, 0)), [1e38, 0.0]),
        (pl.Series([Decimal("-0.5"), Decimal("12.25")], dtype=pl.Decimal(10, 2)), [-0.5, 12.25]),
        (pl.Series([1, 2], dtype=pl.UInt8), [1.0, 2.0]),
        (pl.Series([1.5, None], dtype=pl.Float32), [1.5, None]),
    ],
)
def test_values_of_every_numeric_type_are_widened(value: pl.Series, expected: list[float]) -> None:
    assert sf.scan(_frame(value=value)).collect()["value"].to_list() == expected


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"value": pl.Series([timedelta(1), timedelta(2)])},
            "value column 'value' must be numeric",
        ),
        ({"value": [True, False]}, "value column 'value' must be numeric"),
        ({"value": [[1.0], [2.0]]}, "value column 'value' must be numeric"),
        ({"timestamp": pl.Series([timedelta(1), timedelta(2)])}, "time column 'timestamp'"),
        ({"timestamp": pl.Series([0, 1]).cast(pl.Time)}, "time column 'timestamp'"),
        ({"sensor_id": [b"a", b"b"]}, "sensor column 'sensor_id'"),
        ({"sensor_id": [{"a": 1}, {"a": 2}]}, "sensor column 'sensor_id'"),
    ],
)
def test_unusable_key_types_are_refused(change: dict[str, object], match: str) -> None:
    with pytest.raises(sf.SensorSchemaError, match=match):
        sf.scan(_frame(**change))


@pytest.mark.parametrize(
    "extra",
    [
        pl.Series([[1], [2, 3]]),
        pl.Series([{"a": 1}, {"a": 2}]),
        pl.Series([[1, 2], [3, 4]], dtype=pl.Array(pl.Int64, 2)),
        pl.Series([object(), object()], dtype=pl.Object),
        pl.Series([2**100, 1], dtype=pl.Int128),
        pl.Series([timedelta(1), None]),
        pl.Series([None, None], dtype=pl.Null),
    ],
)
def test_extra_columns_of_any_type_are_kept_unchanged(extra: pl.Series) -> None:
    got = sf.scan(_frame(extra=extra)).collect()
    assert got.schema["extra"] == extra.dtype
    assert got["extra"].to_list() == extra.to_list()


# 6. Names reserved for internal columns ------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["__sf_key", "__sf_code", "__sf_part", "__sf_row", "__sf_anything"]
)
@pytest.mark.parametrize("entry", ["scan", "content_hash", "split"])
def test_user_columns_with_the_internal_prefix_are_refused(name: str, entry: str) -> None:
    frame = _frame(**{name: [1, 2]})
    with pytest.raises(sf.SensorSchemaError, match=f"\\['{name}'\\] start with '__sf_'"):
        ENTRY_POINTS[entry](frame)


def test_a_key_column_with_the_internal_prefix_can_be_mapped() -> None:
    frame = _frame().rename({"value": "__sf_value"})
    got = sf.scan(frame, columns=sf.Columns(value="__sf_value")).collect()
    assert got.columns == ["sensor_id", "timestamp", "value"]


@pytest.mark.parametrize("kind", ["ipc_file", "arrow_dataset"])
def test_seconds_in_ipc_files_and_arrow_datasets_are_checked_too(kind: str, tmp_path: Path) -> None:
    import pyarrow.dataset as pads
    import pyarrow.feather as feather

    def source(seconds: list[int]) -> object:
        table = pa.table(
            {
                "sensor_id": ["a", "a"],
                "timestamp": pa.array(seconds, pa.timestamp("s")),
                "value": [1.0, 2.0],
            }
        )
        if kind == "arrow_dataset":
            return pads.dataset(table)
        path = tmp_path / f"r{seconds[1]}.arrow"
        feather.write_feather(table, path)
        return path

    with pytest.raises(sf.SensorSchemaError, match="row 1: 4611686018427387904 s"):
        sf.scan(source([0, 2**62]))
    got = sf.scan(source([0, 86_400])).collect()["timestamp"].to_list()
    assert got == [datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 2, tzinfo=UTC)]


def test_every_error_about_a_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    _frame(value=[True, False]).write_parquet(path)
    with pytest.raises(
        sf.SensorSchemaError, match=f"^{path}: value column 'value' must be numeric"
    ):
        sf.scan(path)
    _frame().drop("value").write_parquet(path)
    with pytest.raises(sf.SensorSchemaError, match=rf"^{path}: missing column\(s\) \['value'\]"):
        sf.scan(path)
    _frame(sensor_id=["a", None]).write_parquet(path)
    with pytest.raises(
        sf.SensorSchemaError, match=f"^{path}: sensor column 'sensor_id' has 1 null"
    ):
        sf.scan(path)
