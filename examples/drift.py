"""Drift of many sensors at once, with a fitted detector that keeps its reference profile."""

import tempfile
from datetime import timedelta
from pathlib import Path

import polars as pl

import sensorframe as sf

data = sf.datasets.synthetic(n_sensors=6, n_points=2_000, seed=4, faults=["level_shift"])
middle = data.frame["timestamp"].min() + timedelta(minutes=1_000)  # type: ignore[operator]
reference = data.frame.filter(pl.col("timestamp") < middle)
current = data.frame.filter(pl.col("timestamp") >= middle)

report = sf.detect_drift(reference, current, sf.DriftConfig())
# p-values count each sensor's effective readings (its autocorrelation): n_eff_current
columns = ["sensor_id", "severity", "drift_detected", "n_eff_current", "change"]
with pl.Config(fmt_str_lengths=60, tbl_width_chars=120):
    print(report.table.select(columns))
print(report["S000"].statistical_tests["ks_test"], report["S000"].recommendations)

detector = sf.DriftDetector().fit(reference)
path = Path(tempfile.mkdtemp()) / "reference.parquet"
detector.save(path)
again = sf.DriftDetector.load(path).detect(current)
assert again.table["drift_detected"].to_list() == report.table["drift_detected"].to_list()
