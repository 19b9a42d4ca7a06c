"""The command line on files as people have them: wide, single-sensor, US dates, local times."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from sensorframe.cli import main
from sensorframe.datasets import synthetic

DATA = Path(__file__).parents[1] / "data"
CLI = DATA / "cli"
US_WIDE = ["--wide", "--time-col", "Date", "--time-format", "%m/%d/%Y %H:%M"]


def _json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return json.loads(capsys.readouterr().out)


def test_wide_csv_with_us_dates_and_local_times(capsys: pytest.CaptureFixture[str]) -> None:
    path = CLI / "wide_us_local.csv"
    args = ["quality", str(path), *US_WIDE, "--timezone", "America/New_York", "--json"]
    assert main(args) == 0
    rows = {r["sensor_id"]: r for r in _json(capsys)}
    assert set(rows) == {"Boiler Temp", "Flow Rate"}
    assert rows["Boiler Temp"]["rows"] == 48
    # The file skips the hour that does not exist on 2026-03-08 in New York: read as local
    # time, the readings are 15 min apart in UTC throughout, so there is no gap.
    assert rows["Boiler Temp"]["gap_count"] == 0
    assert rows["Boiler Temp"]["median_step"] == "0:15:00"


def test_wide_csv_read_without_the_zone_shows_the_clock_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Read as UTC, the skipped local hour is a 75-minute step: the zone flag matters."""
    assert main(["quality", str(CLI / "wide_us_local.csv"), *US_WIDE, "--json"]) == 0
    rows = {r["sensor_id"]: r for r in _json(capsys)}
    assert rows["Boiler Temp"]["largest_gap"] == "1:15:00"


def test_us_dates_are_never_guessed(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["quality", str(CLI / "wide_us_local.csv"), "--wide", "--time-col", "Date"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--time-format" in err
    assert "time_format=" not in err


def test_single_sensor_csv(capsys: pytest.CaptureFixture[str]) -> None:
    path = CLI / "single_sensor.csv"
    args = ["quality", str(path), "--sensor", "T-7", "--time-col", "time"]
    assert main([*args, "--value-col", "temperature", "--json"]) == 0
    (row,) = _json(capsys)
    assert row["sensor_id"] == "T-7"
    assert (row["rows"], row["missing_count"]) == (40, 1)


def test_sensor_flag_filters_a_long_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "long.parquet"
    synthetic(n_sensors=3, n_points=400, seed=1).frame.write_parquet(path)
    assert main(["quality", str(path), "--sensor", "S001", "--json"]) == 0
    assert [r["sensor_id"] for r in _json(capsys)] == ["S001"]
    assert main(["quality", str(path), "--sensor", "S999"]) == 2
    assert "--sensor S999" in capsys.readouterr().err


def test_parquet_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = synthetic(n_sensors=4, n_points=400, seed=2).frame
    folder = tmp_path / "readings"
    folder.mkdir()
    for i, part in enumerate(frame.partition_by("sensor_id")):
        part.write_parquet(folder / f"part-{i}.parquet")
    assert main(["quality", str(folder), "--json"]) == 0
    assert sorted(r["sensor_id"] for r in _json(capsys)) == ["S000", "S001", "S002", "S003"]


def test_wide_and_sensor_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["quality", str(CLI / "wide_us_local.csv"), *US_WIDE, "--sensor", "x"]
    assert main(args) == 2
    assert "--wide and --sensor exclude each other" in capsys.readouterr().err


def test_drift_with_a_mapping_per_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A reference with standard names and a current file with its own names."""
    frame = synthetic(n_sensors=2, n_points=1_000, seed=1, faults=()).frame
    frame.write_parquet(tmp_path / "ref.parquet")
    current = frame.with_columns(pl.col("value") + 100).rename(
        {"sensor_id": "device", "timestamp": "ts", "value": "reading"}
    )
    current.write_csv(tmp_path / "cur.csv")
    mapped = ["--sensor-col", "device", "--time-col", "ts", "--value-col", "reading"]
    args = ["drift", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.csv"), *mapped]
    # The plain flags apply to both files unless the --reference-* flags say otherwise.
    assert main(args) == 2
    assert "device" in capsys.readouterr().err
    standard = ["--reference-sensor-col", "sensor_id", "--reference-time-col", "timestamp"]
    assert main([*args, *standard, "--reference-value-col", "value", "--json"]) == 0
    rows = _json(capsys)
    assert {r["sensor_id"] for r in rows} == {"S000", "S001"}
    assert all(r["drift_detected"] for r in rows)


def test_pvanalytics_weather_file_in_one_command(capsys: pytest.CaptureFixture[str]) -> None:
    """NREL's RMIS weather file as pvanalytics ships it: wide, US dates, a blank time header."""
    path = DATA / "pvanalytics-drift" / "rmis_weather_data.csv"
    args = ["quality", str(path), "--wide", "--time-col", "", "--time-format", "%m/%d/%Y %H:%M"]
    assert main([*args, "--timezone", "America/Denver", "--json"]) == 0
    rows = {r["sensor_id"]: r for r in _json(capsys)}
    assert len(rows) == 12
    assert "Ambient Temperature" in rows
    # Night-time irradiance rests at zero: telling the check so stops the flat-line flags.
    assert main([*args, "--flatline-ignore", "0", "--json"]) == 0
    ignored = {r["sensor_id"]: r for r in _json(capsys)}
    assert ignored["Direct Normal"]["flat_points"] <= rows["Direct Normal"]["flat_points"]


def test_compact_output_fits_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    path = DATA / "pvanalytics-drift" / "irradiance_RMIS_NREL.csv"
    args = ["quality", str(path), "--wide", "--time-col", "measured_on"]
    assert main([*args, "--time-format", "%m/%d/%Y %H:%M"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "main_issue" in out
    assert "irradiance_ghi__7981" in out
    assert main([*args, "--time-format", "%m/%d/%Y %H:%M", "--full"]) == 0
    assert "missing_pct" in capsys.readouterr().out


def test_quality_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["quality", str(CLI / "wide_us_local.csv"), *US_WIDE, "--timezone", "America/New_York"]
    per_sensor = ["--per-sensor", str(CLI / "per_sensor.csv")]
    assert main([*args, *per_sensor, "--outlier-method", "mad", "--json"]) == 0
    rows = {r["sensor_id"]: r for r in _json(capsys)}
    assert rows["Flow Rate"]["range_failures"] == 0  # every flow reading is <= 13
    assert rows["Boiler Temp"]["expected_interval"] == "0:15:00"
    assert main([*args, "--expected-interval", "5min", "--json"]) == 0
    rows = {r["sensor_id"]: r for r in _json(capsys)}
    assert rows["Boiler Temp"]["expected_interval"] == "0:05:00"
    assert main([*args, "--expected-interval", "often"]) == 2
    assert "--expected-interval" in capsys.readouterr().err


def test_per_sensor_file_errors_name_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["quality", str(CLI / "wide_us_local.csv"), *US_WIDE]
    assert main([*args, "--per-sensor", str(tmp_path / "none.csv")]) == 2
    assert "--per-sensor" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("sensor_id,expected_interval\nFlow Rate,soon\n")
    assert main([*args, "--per-sensor", str(bad)]) == 2
    assert "--per-sensor" in capsys.readouterr().err


def test_version_and_log_level(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert re.fullmatch(r"sensorframe \S+\n", capsys.readouterr().out)
    path = str(CLI / "single_sensor.csv")
    assert main(["quality", path, "--log-level", "debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err  # debug shows where an error came from
    assert main(["quality", path]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_times_in_the_single_sensor_file_are_utc_by_default() -> None:
    from sensorframe.cli import _parser
    from sensorframe.cli._inputs import read_source

    path = str(CLI / "single_sensor.csv")
    flags = ["--sensor", "T", "--time-col", "time", "--value-col", "temperature"]
    args = _parser().parse_args(["quality", path, *flags])
    first = read_source(args, path).collect()["timestamp"][0]
    assert first == datetime(2026, 5, 1, tzinfo=UTC)
    args = _parser().parse_args(["quality", path, *flags, "--timezone", "Europe/Berlin"])
    shifted = read_source(args, path).collect()["timestamp"][0]
    assert first - shifted == timedelta(hours=2)
