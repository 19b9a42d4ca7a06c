"""
Drift on real sensor series (pvanalytics' weather, irradiance and module temperature).

Consecutive days or weeks of ordinary weather are not drift: with the raw p-values
(readings a few minutes apart counted as independent) nearly every sensor is flagged;
with the effective sizes none is. Files: tests/data/pvanalytics-drift/README.md.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from sensorframe.drift import DriftConfig, DriftSeverity, detect_drift

DATA = Path(__file__).parents[1] / "data" / "pvanalytics-drift"
RAW = DriftConfig(effective_n=None)


def _long(name: str, time_format: str) -> pl.DataFrame:
    wide = pl.read_csv(DATA / name)
    first = wide.columns[0]
    times = pl.col(first).str.strptime(pl.Datetime("us"), time_format)
    return (
        wide.with_columns(times.dt.replace_time_zone("UTC").alias("timestamp"))
        .drop(first)
        .unpivot(index="timestamp", variable_name="sensor_id", value_name="value")
        .select("sensor_id", "timestamp", pl.col("value").cast(pl.Float64))
    )


def _days(frame: pl.DataFrame, first: int, last: int) -> pl.DataFrame:
    start = frame["timestamp"].min().replace(hour=0, minute=0)  # type: ignore[union-attr]
    t = pl.col("timestamp")
    return frame.filter(t >= start + timedelta(days=first - 1), t < start + timedelta(days=last))


def test_weather_station_days_1_2_against_3_4_flag_nothing() -> None:
    weather = _long("rmis_weather_data.csv", "%m/%d/%Y %H:%M")
    ref, cur = _days(weather, 1, 2), _days(weather, 3, 4)
    table = detect_drift(ref, cur).table
    assert table.height == 12
    assert table["status"].unique().to_list() == ["ok"]
    assert table["drift_detected"].sum() <= 1
    assert detect_drift(ref, cur, RAW).table["drift_detected"].sum() == 12  # the count
    dni = table.filter(sensor_id="Direct Normal").row(0, named=True)
    assert DriftSeverity(dni["severity"]) < DriftSeverity.HIGH  # night readings: own bins
    assert dni["psi"] < 0.25


def test_irradiance_days_3_4_are_mostly_missing_a_sensor_fault() -> None:
    irradiance = _long("irradiance_RMIS_NREL.csv", "%m/%d/%Y %H:%M").filter(
        pl.col("sensor_id").str.starts_with("irradiance")
    )
    ref = _days(irradiance, 1, 2)
    table = detect_drift(ref, _days(irradiance, 3, 4)).table
    assert table["status"].to_list() == ["sensor_fault"] * 5
    assert table["change"].str.contains("% of readings missing since 2019-02-03").all()
    later = detect_drift(ref, _days(irradiance, 4, 5)).table  # the data came back
    assert later["status"].unique().to_list() == ["ok"]
    assert later["drift_detected"].sum() <= 1


@pytest.mark.parametrize("year", [2015, 2016, 2018])
def test_module_temperature_march_week_1_against_week_2_is_weather(year: int) -> None:
    temps = pl.read_csv(DATA / "system_4_module_temperature_march.csv", try_parse_dates=True)
    temps = temps.select(
        pl.lit("module_temp_1").alias("sensor_id"),
        pl.col("timestamp").dt.convert_time_zone("UTC"),
        pl.col("module_temp_1").cast(pl.Float64).alias("value"),
    )
    start = datetime(year, 3, 1, tzinfo=UTC)
    t = pl.col("timestamp")
    ref = temps.filter(t >= start, t < start + timedelta(days=7))
    cur = temps.filter(t >= start + timedelta(days=7), t < start + timedelta(days=14))
    row = detect_drift(ref, cur).table.row(0, named=True)
    assert row["status"] == "ok"
    assert row["drift_detected"] is False
    assert not any("retrain" in text for text in row["recommendations"])
    assert row["n_eff_reference"] < 100  # of 672 readings
