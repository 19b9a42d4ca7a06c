"""
The quality checks on real labelled PV data that nobody on this project wrote.

The files are pvanalytics 0.2.2's labelled test data (tests/data/pvanalytics/README.md
says which columns are labels). They are read with sensorframe's own ``melt_wide`` /
``scan`` (so real files must load), and every check is scored row by row against the
labels: recall (labelled rows flagged) and false-positive rate (unlabelled rows
flagged). The floors sit just under the measured values, which the comments give.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

import sensorframe as sf
from sensorframe.quality import QualityConfig, contextual, limits, shape
from tests.quality._scoring import row_rates

DATA = Path(__file__).resolve().parents[1] / "data" / "pvanalytics"


def _load(name: str, label: str) -> pl.DataFrame:
    """A one-sensor file read by melt_wide, with its label column as booleans."""
    frame = sf.melt_wide(DATA / name, time="timestamp", sensors=["value_normalized"]).collect()
    labels = pl.read_csv(DATA / name, columns=[label], infer_schema_length=0)[label]
    return frame.with_columns(label=labels.str.to_lowercase() == "true")


def _daily() -> pl.DataFrame:
    """pvlib_data_shift.csv (dates as month/day/year, label 1 on the shift day) via scan."""
    raw = pl.read_csv(DATA / "pvlib_data_shift.csv")
    readings = raw.select("timestamp", "value", sensor_id=pl.lit("pvlib_daily"))
    frame = sf.scan(readings, time_format="%m/%d/%Y").collect()
    return frame.with_columns(label=raw["label"] == 1)


def test_the_files_load() -> None:
    for name, rows, empty in (
        ("ac_power_inv_2173_interpolated_data.csv", 3_000, 0),
        ("ac_power_inv_2173_stale_data.csv", 3_000, 1_149),
        ("ac_power_inv_7539_outliers.csv", 500, 0),
    ):
        frame = sf.melt_wide(DATA / name, time="timestamp", sensors=["value_normalized"])
        got = frame.collect()
        assert got.height == rows
        assert got["value"].null_count() == empty  # empty fields are missing readings
        assert got["timestamp"].is_sorted()
        assert got["timestamp"].dtype == pl.Datetime("us", "UTC")
    daily = _daily()
    assert daily.height == 2_190
    assert daily.filter("label")["timestamp"].dt.date().to_list() == [date(2015, 10, 28)]


def test_melt_wide_reads_a_sensor_column_named_value() -> None:
    long = sf.melt_wide(
        DATA / "pvlib_data_shift.csv", time="timestamp", sensors=["value"], time_format="%m/%d/%Y"
    ).collect()
    assert long.height == 2_190


def test_point_outliers_of_inverter_7539() -> None:
    frame = _load("ac_power_inv_7539_outliers.csv", "outlier").with_columns(
        spike=limits.spike("value"),
        hampel=contextual.hampel_outlier("value", window=25),
        zscore=sf.quality.zscore_outlier("value"),
        mad=sf.quality.mad_outlier("value"),
    )
    spike = row_rates(frame, "spike", "label")
    hampel = row_rates(frame, "hampel", "label")
    zscore = row_rates(frame, "zscore", "label")
    mad = row_rates(frame, "mad", "label")
    print(f"\nspike {spike}\nhampel {hampel}\nzscore {zscore}\nmad {mad}")
    assert spike.positives == 6
    # measured: spike 6/6 at one false flag (0.2%; a jump away from both neighbours: the
    # last reading before a real step, 1.0 -> 0.001 when the inverter trips, is no spike)
    assert spike.recall == 1.0
    assert spike.false_positives <= 1
    # measured: hampel (25 rows) 2/6 at 1 false (0.2%): 25 readings are 6 h of this
    # 15-min file, most of a PV day, so the window's spread is the daily curve's and
    # even the noon drop to -0.5 lies inside it (the false flag is the file's last
    # reading, its window cut short); the global tests find 1/6 and 0/6
    assert hampel.recall >= 1 / 3
    assert hampel.fp_rate <= 0.005
    assert zscore.recall < 0.2
    assert mad.recall == 0.0


def test_stale_stretches_of_inverter_2173() -> None:
    frame = _load("ac_power_inv_2173_stale_data.csv", "stale_data_mask").with_columns(
        flat=sf.quality.flatline("value"),
        flat_not_zero=sf.quality.flatline("value", ignore=[0.0]),
    )
    everything = row_rates(frame, "flat", "label")
    not_zero = row_rates(frame, "flat_not_zero", "label")
    print(f"\nflatline {everything}\nflatline ignoring 0.0 {not_zero}")
    # measured: 245/245 found either way; the night zeros are 1,001 false flags (36%)
    # unless 0.0 is ignored, then none
    assert everything.recall == 1.0
    assert everything.fp_rate > 0.3
    assert not_zero.recall == 1.0
    assert not_zero.false_positives == 0


def test_interpolated_stretches_of_inverter_2173() -> None:
    frame = _load("ac_power_inv_2173_interpolated_data.csv", "interpolated_data_mask")
    frame = frame.with_columns(
        interpolated=shape.interpolated("value"),
        # labelled stretches interpolated flat (0.0 to 0.0 over a night) are flat-lines,
        # not the sloped lines this check looks for: they count neither way
        flat_label=pl.col("label")
        & (pl.col("value").max() == pl.col("value").min()).over(pl.col("label").rle_id()),
    )
    sloped = row_rates(frame, "interpolated", "label", ignore="flat_label")
    every = row_rates(frame, "interpolated", "label")
    print(f"\ninterpolated (sloped labels) {sloped}\ninterpolated (every label) {every}")
    # measured: 1,185/1,185 sloped rows, 1,185/1,254 of all labelled rows (94.5%), no
    # false flag
    assert sloped.positives == 1_185
    assert sloped.recall == 1.0
    assert every.recall >= 0.94
    assert sloped.false_positives == 0


def test_data_shift_of_the_pvlib_daily_series() -> None:
    frame = _daily().with_columns(
        default=shape.level_shift("value"),
        tuned=shape.level_shift("value", window=60, threshold=4.0),
    )
    tuned = row_rates(frame, "tuned", "label")
    default = row_rates(frame, "default", "label")
    print(f"\nlevel shift (60 days, 4) {tuned}\nlevel shift (defaults 24, 6) {default}")
    # measured: the tuned test flags exactly the labelled day (2015-10-28, ~27,000 ->
    # ~3,800 a day); with the defaults (24 rows, threshold 6) it is missed, as at every
    # window from 7 to 60 days: the day-to-day weather noise of daily PV sets the scale
    assert tuned.recall == 1.0
    assert tuned.false_positives == 0
    assert default.recall == 0.0


def _flags(frame: pl.DataFrame, config: QualityConfig) -> pl.DataFrame:
    """flag_quality's flags of a labelled frame, with its label column."""
    flags = sf.quality.flag_quality(frame.drop("label"), config).collect()
    return flags.with_columns(frame["label"])


def test_flag_quality_on_the_real_files() -> None:
    outliers = _load("ac_power_inv_7539_outliers.csv", "outlier")
    spike = row_rates(_flags(outliers, QualityConfig()), "flag_spike", "label")
    hampel = row_rates(
        _flags(outliers, QualityConfig(outlier_method="hampel")), "flag_outlier", "label"
    )
    no_zero = QualityConfig(flatline_ignore=(0.0,))
    stale = _load("ac_power_inv_2173_stale_data.csv", "stale_data_mask")
    flat = row_rates(_flags(stale, no_zero), "flag_flatline", "label")
    lines = _load("ac_power_inv_2173_interpolated_data.csv", "interpolated_data_mask")
    sloped = _flags(lines, no_zero).with_columns(
        flat_label=pl.col("label")
        & (pl.col("value").max() == pl.col("value").min()).over(pl.col("label").rle_id())
    )
    interpolated = row_rates(sloped, "flag_interpolated", "label", ignore="flat_label")
    tuned = QualityConfig(level_shift_window=60, level_shift_threshold=4.0)
    shift = row_rates(_flags(_daily(), tuned), "flag_level_shift", "label")
    print(f"\n{spike=}\n{hampel=}\n{flat=}\n{interpolated=}\n{shift=}")
    # measured: the engine's spike 6/6 at 1 false (0.2%; the same as the public spike),
    # Hampel 2/6 at 1 false, the stale stretches
    # 245/245 at 0, the sloped interpolated rows 1,185/1,185 at 0, the data shift 1/1
    assert spike.recall == 1.0
    assert spike.fp_rate <= 0.005
    assert hampel.recall >= 1 / 3
    assert hampel.fp_rate <= 0.005
    assert (flat.recall, flat.false_positives) == (1.0, 0)
    assert (interpolated.recall, interpolated.false_positives) == (1.0, 0)
    assert (shift.recall, shift.false_positives) == (1.0, 0)
