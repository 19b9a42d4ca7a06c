"""
Calibration: false alarms on healthy sensors, power on small shifts, the severity ladder.

The full-size check of the issue (1,000 sensors x 5,000 readings each side) takes about
6 s here (a fitted detector, two current windows), so it always runs.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import sensorframe as sf
from sensorframe.drift import DriftConfig, DriftDetector, DriftSeverity, detect_drift
from tests.drift.helpers import wide


def _calibrate(sensors: int, points: int, seed: int) -> tuple[int, float, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    det = DriftDetector().fit(wide(rng.normal(size=(sensors, points))))
    healthy = det.detect(wide(rng.normal(size=(sensors, points)))).table
    shifted = det.detect(wide(rng.normal(0.2, 1, size=(sensors, points)))).table
    return int(healthy["drift_detected"].sum()), float(shifted["drift_detected"].mean()), healthy


def test_calibration_small() -> None:
    false_alarms, power, healthy = _calibrate(200, 2000, seed=1)
    assert false_alarms <= 2
    assert power >= 0.95
    assert healthy["status"].unique().to_list() == ["ok"]
    assert set(healthy["severity"]) <= {"none", "low"}


def test_calibration_issue_size() -> None:
    false_alarms, power, _ = _calibrate(1000, 5000, seed=2)
    assert false_alarms <= 5
    assert power >= 0.95


def _synthetic_halves() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    data = sf.datasets.synthetic(n_sensors=20, n_points=4000, faults=(), seed=3).frame
    rows = data.with_row_index("i")
    ref = rows.filter(pl.col("i") % 2 == 0).drop("i")
    cur = rows.filter(pl.col("i") % 2 == 1).drop("i")
    stats = ref.group_by("sensor_id").agg(mu=pl.col("value").mean(), sd=pl.col("value").std())
    return ref, cur, stats


@pytest.mark.parametrize(
    ("shift", "scale", "lowest", "highest"),
    [
        (0.0, 1.0, "none", "low"),
        (0.5, 1.0, "moderate", "critical"),
        (1.0, 1.0, "critical", "critical"),
        (0.0, 1.5, "moderate", "high"),
        (0.0, 3.0, "critical", "critical"),
    ],
)
def test_ladder_on_synthetic(shift: float, scale: float, lowest: str, highest: str) -> None:
    """
    Interleaved halves of clean synthetic telemetry, the second shifted/scaled.

    Even and odd rows of one series are not two independent windows (each reading's
    neighbour is in the other half), so the effective sizes, which assume that, are
    off here: this test of the ladder uses the raw p-values.
    """
    ref, cur, stats = _synthetic_halves()
    moved = (
        cur.join(stats, on="sensor_id")
        .with_columns(
            ((pl.col("value") - pl.col("mu")) * scale + pl.col("mu") + shift * pl.col("sd")).alias(
                "value"
            )
        )
        .select("sensor_id", "timestamp", "value")
    )
    table = detect_drift(ref, moved, DriftConfig(effective_n=None)).table
    levels = [DriftSeverity(s) for s in table["severity"]]
    assert min(levels) >= lowest
    assert max(levels) <= highest
    expect_drift = shift > 0 or scale != 1.0
    assert table["drift_detected"].all() if expect_drift else not table["drift_detected"].any()
