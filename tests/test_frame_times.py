"""Reading times at the edge: formats never guessed, local zones, DST, pandas indexes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import polars as pl
import pytest

import sensorframe as sf


def _frame(times: list[object], **schema: pl.DataType) -> pl.DataFrame:
    n = len(times)
    return pl.DataFrame(
        {"sensor_id": ["a"] * n, "timestamp": times, "value": [float(i) for i in range(n)]},
        schema_overrides=schema,
    )


def _times(frame: pl.LazyFrame) -> list[datetime]:
    return frame.collect()["timestamp"].to_list()


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# 1. Ambiguous textual dates are never guessed -----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1/2/2022 0:00",  # Polars alone reads this as 1 February
        "1/13/2022 0:00",
        "2022/01/02 00:00",  # Polars alone infers %Y/%m/%d
        "02.01.2022",
        "Jan 2 2022",
        "20220102T000000",
    ],
)
def test_text_other_than_iso_needs_a_time_format(text: str) -> None:
    with pytest.raises(sf.SensorSchemaError) as info:
        sf.scan(_frame([text]))
    message = str(info.value)
    assert "time column 'timestamp'" in message
    assert repr(text) in message
    assert "time_format=" in message
    assert "'%m/%d/%Y %H:%M'" in message


def test_us_dates_with_a_time_format_are_read_month_first() -> None:
    frame = _frame(["1/2/2022 0:00", "1/13/2022 13:05", "12/31/2022 23:59"])
    got = _times(sf.scan(frame, time_format="%m/%d/%Y %H:%M"))
    assert got == [_utc(2022, 1, 2), _utc(2022, 1, 13, 13, 5), _utc(2022, 12, 31, 23, 59)]


def test_us_dates_from_a_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "site.csv"
    path.write_text("sensor_id,timestamp,value\na,1/2/2022 0:00,1\na,2/1/2022 0:00,2\n")
    with pytest.raises(sf.SensorSchemaError, match=r"site\.csv: time column 'timestamp'"):
        sf.scan(path)
    got = _times(sf.scan(path, time_format="%m/%d/%Y %H:%M"))
    assert got == [_utc(2022, 1, 2), _utc(2022, 2, 1)]


def test_a_value_that_does_not_match_the_format_names_its_row() -> None:
    frame = _frame(["1/2/2022 0:00", "2/3/2022 0:00", "13/1/2022 0:00"])
    with pytest.raises(
        sf.SensorSchemaError,
        match=r"do not match time_format='%m/%d/%Y %H:%M', first at row 2: '13/1/2022 0:00'",
    ):
        sf.scan(frame, time_format="%m/%d/%Y %H:%M")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-01-02", _utc(2022, 1, 2)),
        ("2022-01-02T03:04", _utc(2022, 1, 2, 3, 4)),
        ("2022-01-02 03:04:05", _utc(2022, 1, 2, 3, 4, 5)),
        ("2022-01-02T03:04:05.123456", _utc(2022, 1, 2, 3, 4, 5, 123456)),
        ("2022-01-02T03:04:05.5", _utc(2022, 1, 2, 3, 4, 5, 500000)),
        ("2022-01-02T03:04:05Z", _utc(2022, 1, 2, 3, 4, 5)),
        ("2022-01-02T03:04:05+02:00", _utc(2022, 1, 2, 1, 4, 5)),
        ("2022-01-02 03:04-0530", _utc(2022, 1, 2, 8, 34)),
        ("2022-01-02T03:04+01", _utc(2022, 1, 2, 2, 4)),
        ("2022-01-02T00:30:00.25-01:00", _utc(2022, 1, 2, 1, 30, 0, 250000)),
    ],
)
def test_iso_8601_is_read_without_a_format(text: str, expected: datetime) -> None:
    assert _times(sf.scan(_frame([text]))) == [expected]


def test_iso_rows_of_different_shapes_mix_in_one_column() -> None:
    # Polars' own inference takes the first value's format and fails the others.
    frame = _frame(["2022-01-02", "2022-01-02T03:04:05+02:00", "2022-01-02 06:00"])
    got = _times(sf.scan(frame))
    assert got == [_utc(2022, 1, 2), _utc(2022, 1, 2, 1, 4, 5), _utc(2022, 1, 2, 6)]


@pytest.mark.parametrize(
    "text", ["2022-13-01", "2022-02-30", "2022-01-01T24:30", "2022-01-01T00:00+25:00"]
)
def test_impossible_iso_values_are_refused(text: str) -> None:
    with pytest.raises(sf.SensorSchemaError, match=re.escape(f"first at row 0: {text!r}")):
        sf.scan(_frame([text]))


def test_bad_options_are_typed() -> None:
    frame = _frame(["2022-01-02"])
    with pytest.raises(sf.InvalidTypeError, match="time_format"):
        sf.scan(frame, time_format=5)  # type: ignore[arg-type]
    with pytest.raises(sf.InvalidParameterError, match="time_format"):
        sf.scan(frame, time_format="")
    with pytest.raises(sf.InvalidParameterError, match="unknown time zone 'Mars/Olympus'"):
        sf.scan(frame, timezone="Mars/Olympus")
    with pytest.raises(sf.InvalidTypeError, match="timezone"):
        sf.scan(frame, timezone=1)  # type: ignore[arg-type]
    with pytest.raises(sf.InvalidParameterError, match="ambiguous"):
        sf.scan(frame, ambiguous="first")  # type: ignore[arg-type]


# 2. Naive local times ------------------------------------------------------------------


def _hourly_wall_clock(start: datetime, hours: int) -> list[datetime]:
    return [start + timedelta(hours=h) for h in range(hours)]


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Berlin", datetime(2022, 3, 27)),
        ("Europe/Berlin", datetime(2022, 10, 30)),
        ("America/New_York", datetime(2022, 3, 13)),
        ("America/New_York", datetime(2022, 11, 6)),
        ("Australia/Lord_Howe", datetime(2022, 4, 3)),  # a 30-minute change
    ],
)
def test_local_times_match_zoneinfo_value_by_value(zone: str, day: datetime) -> None:
    # Every 10 minutes across the change day, minus the times the change makes
    # non-existent or repeated (those are tested below).
    tz = ZoneInfo(zone)
    wall = [day + timedelta(minutes=10 * i) for i in range(6 * 24)]

    def regular(t: datetime) -> bool:
        early, late = t.replace(tzinfo=tz, fold=0), t.replace(tzinfo=tz, fold=1)
        exists = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == t
        return exists and early.utcoffset() == late.utcoffset()

    kept = [t for t in wall if regular(t)]
    assert len(kept) < len(wall)  # the day really has a change
    expected = [t.replace(tzinfo=tz).astimezone(UTC) for t in kept]
    assert _times(sf.scan(_frame(kept), timezone=zone)) == expected
    text = [t.isoformat(sep=" ") for t in kept]
    assert _times(sf.scan(_frame(text), timezone=zone)) == expected
    pandas = pd.DatetimeIndex(kept).tz_localize(zone).tz_convert("UTC")
    assert expected == list(pandas.to_pydatetime())


def test_the_missing_spring_hour_raises_naming_the_first_value() -> None:
    wall = _hourly_wall_clock(datetime(2022, 3, 27, 0, 30), 4)  # 00:30 .. 03:30
    with pytest.raises(
        sf.SensorSchemaError,
        match=r"1 local time\(s\) that do not exist in Europe/Berlin.*row 2: 2022-03-27 02:30",
    ):
        sf.scan(_frame(wall), timezone="Europe/Berlin")
    with pytest.raises(sf.SensorSchemaError, match="row 2: '2022-03-27T02:30'"):
        sf.scan(_frame([t.isoformat(timespec="minutes") for t in wall]), timezone="Europe/Berlin")


def test_the_repeated_autumn_hour_raises_unless_a_rule_is_chosen() -> None:
    # A logger on local time writes 02:00 .. 02:50 twice; without offsets nobody can
    # tell the two apart, so the default refuses.
    wall = [datetime(2022, 10, 30, 1, 50), datetime(2022, 10, 30, 2, 0), datetime(2022, 10, 30, 3)]
    with pytest.raises(
        sf.SensorSchemaError, match=r"occur twice in Europe/Berlin.*row 1: 2022-10-30 02:00:00"
    ):
        sf.scan(_frame(wall), timezone="Europe/Berlin")
    tz = ZoneInfo("Europe/Berlin")
    for ambiguous, fold in (("earliest", 0), ("latest", 1)):
        got = _times(sf.scan(_frame(wall), timezone="Europe/Berlin", ambiguous=ambiguous))
        assert got == [t.replace(tzinfo=tz, fold=fold).astimezone(UTC) for t in wall]
    assert _times(sf.scan(_frame(wall), timezone="Europe/Berlin", ambiguous="earliest"))[1] == (
        _utc(2022, 10, 30, 0)
    )


def test_offsets_in_text_win_over_the_zone_and_settle_the_repeated_hour() -> None:
    text = ["2022-10-30T02:30+02:00", "2022-10-30T02:30+01:00", "2022-10-30T02:30"]
    got = _times(sf.scan(_frame(text[:2]), timezone="Europe/Berlin"))
    assert got == [_utc(2022, 10, 30, 0, 30), _utc(2022, 10, 30, 1, 30)]
    with pytest.raises(sf.SensorSchemaError, match="row 2: '2022-10-30T02:30'"):
        sf.scan(_frame(text), timezone="Europe/Berlin")


def test_aware_datetimes_are_converted_whatever_the_timezone_option() -> None:
    aware = _frame([datetime(2022, 7, 1, 12)]).with_columns(
        pl.col("timestamp").dt.replace_time_zone("Asia/Tokyo")
    )
    assert _times(sf.scan(aware, timezone="Europe/Berlin")) == [_utc(2022, 7, 1, 3)]


def test_dates_and_formatted_text_are_localised_too() -> None:
    dates = _frame([datetime(2022, 7, 1)]).with_columns(pl.col("timestamp").cast(pl.Date))
    assert _times(sf.scan(dates, timezone="America/New_York")) == [_utc(2022, 7, 1, 4)]
    us = _frame(["7/1/2022 12:00"])
    got = sf.scan(us, time_format="%m/%d/%Y %H:%M", timezone="America/New_York")
    assert _times(got) == [_utc(2022, 7, 1, 16)]
    with_offset = _frame(["7/1/2022 12:00 +0000"])
    got = sf.scan(with_offset, time_format="%m/%d/%Y %H:%M %z", timezone="America/New_York")
    assert _times(got) == [_utc(2022, 7, 1, 12)]


def test_timezone_utc_is_the_default() -> None:
    frame = _frame([datetime(2022, 7, 1, 12)])
    assert _times(sf.scan(frame, timezone="UTC")) == _times(sf.scan(frame))


def test_melt_wide_takes_the_same_options() -> None:
    wide = pl.DataFrame({"t": ["7/1/2022 12:00"], "P-1": [1.0]})
    got = sf.melt_wide(wide, time="t", time_format="%m/%d/%Y %H:%M", timezone="Europe/Berlin")
    assert _times(got) == [_utc(2022, 7, 1, 10)]


# 3. pandas DatetimeIndex ----------------------------------------------------------------


def test_a_pandas_datetime_index_is_the_time_column() -> None:
    index = pd.date_range("2022-07-01", periods=3, freq="h", name="when")
    pdf = pd.DataFrame({"sensor_id": ["a"] * 3, "value": [1.0, 2.0, 3.0]}, index=index)
    expected = [_utc(2022, 7, 1, h) for h in range(3)]
    assert _times(sf.scan(pdf)) == expected
    local = [t - timedelta(hours=2) for t in expected]
    assert _times(sf.scan(pdf, timezone="Europe/Berlin")) == local
    aware = pdf.tz_localize("Asia/Tokyo")
    assert _times(sf.scan(aware)) == [t - timedelta(hours=9) for t in expected]


def test_a_pandas_multi_index_gives_its_named_levels() -> None:
    pdf = pd.DataFrame(
        {
            "sensor_id": ["a", "b"],
            "timestamp": pd.to_datetime(["2022-07-01", "2022-07-02"]),
            "value": [1.0, 2.0],
        }
    ).set_index(["sensor_id", "timestamp"])
    got = sf.scan(pdf).collect()
    assert got["sensor_id"].to_list() == ["a", "b"]
    assert got["timestamp"].to_list() == [_utc(2022, 7, 1), _utc(2022, 7, 2)]


def test_a_pandas_index_is_not_used_when_a_time_column_exists() -> None:
    pdf = pd.DataFrame(
        {"sensor_id": ["a"], "timestamp": pd.to_datetime(["2022-07-01"]), "value": [1.0]},
        index=pd.DatetimeIndex(["1999-01-01"]),
    )
    assert sf.scan(pdf).collect().columns == ["sensor_id", "timestamp", "value"]
    assert _times(sf.scan(pdf)) == [_utc(2022, 7, 1)]


def test_a_pandas_frame_without_any_time_says_what_exists() -> None:
    pdf = pd.DataFrame({"sensor_id": ["a"], "value": [1.0]})
    with pytest.raises(sf.SensorSchemaError, match=r"missing column\(s\) \['timestamp'\]"):
        sf.scan(pdf)


@pytest.mark.parametrize(
    ("zone", "start", "step"),
    [
        ("Europe/Berlin", _utc(2022, 10, 29, 23), timedelta(minutes=10)),
        ("Europe/Berlin", _utc(2022, 10, 29, 23), timedelta(hours=1)),
        ("America/New_York", _utc(2022, 11, 6, 4), timedelta(minutes=15)),
        ("Australia/Lord_Howe", _utc(2022, 4, 2, 14), timedelta(minutes=10)),
    ],
)
def test_infer_reads_a_logger_on_local_time_back_to_the_true_instants(
    zone: str, start: datetime, step: timedelta
) -> None:
    # Two sensors, interleaved, log across the autumn change on wall-clock time.
    truth = [start + i * step for i in range(int(timedelta(hours=4) / step))]
    wall = [t.astimezone(ZoneInfo(zone)).replace(tzinfo=None) for t in truth]
    assert len(set(wall)) < len(wall)  # the wall clock really repeats
    frame = pl.DataFrame(
        {
            "sensor_id": [s for _ in wall for s in ("a", "b")],
            "timestamp": [t for t in wall for _ in "ab"],
            "value": [float(i) for i in range(2 * len(wall))],
        }
    )
    got = sf.scan(frame, timezone=zone, ambiguous="infer").collect()
    for sensor in "ab":
        times = got.filter(pl.col("sensor_id") == sensor)["timestamp"].to_list()
        assert times == truth
    text = frame.with_columns(pl.col("timestamp").dt.to_string("%Y-%m-%d %H:%M"))
    from_text = sf.scan(text, timezone=zone, ambiguous="infer").collect()
    assert from_text["timestamp"].to_list() == got["timestamp"].to_list()
    pandas = pd.DatetimeIndex(wall).tz_localize(zone, ambiguous="infer").tz_convert("UTC")
    assert list(pandas.to_pydatetime()) == truth
