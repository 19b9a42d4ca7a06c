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
print(report.table.select("sensor_id", "severity", "drift_detected", "psi", "ks_pvalue"))
print(report["S000"].statistical_tests["ks_test"]["p_value"], report["S000"].severity)

detector = sf.DriftDetector().fit(reference)
path = Path(tempfile.mkdtemp()) / "reference.parquet"
detector.save(path)
again = sf.DriftDetector.load(path).detect(current)
assert again.table["drift_detected"].to_list() == report.table["drift_detected"].to_list()
