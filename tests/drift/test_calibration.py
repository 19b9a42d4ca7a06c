"""
Calibration: false alarms on healthy sensors, power on small shifts, the severity ladder.

The full-size check of the issue (1,000 sensors x 5,000 readings each side, a fitted
detector and two current windows) runs under ``-m slow``: every detection now also
merges for the distances and estimates autocorrelations, and the default suite checks
the same claims at 200 sensors here and in tests/drift/test_effective_n.py (false
alarms of 1,000 AR(1) pairs, power at n = 5,000).
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


@pytest.mark.slow
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


def test_a_ten_percent_change_of_scale_is_found_at_n_5000() -> None:
    """Brown-Forsythe and the spread rung LOW = 0.05 (ln 1.1 = 0.095 was below 0.1)."""
    rng = np.random.default_rng(24)
    det = DriftDetector().fit(wide(rng.normal(size=(200, 5000))))
    table = det.detect(wide(rng.normal(0, 1.1, size=(200, 5000)))).table
    assert table["drift_detected"].mean() >= 0.9  # type: ignore[operator]
    assert (table["brown_forsythe_pvalue"] < 1e-4).mean() >= 0.9  # type: ignore[operator]
    assert table["change"].str.starts_with("spread x1.").all()


def test_half_zeros_with_the_same_rest_is_no_drift() -> None:
    """Zero-inflated readings (night): the zeros get a bin of their own."""
    rng = np.random.default_rng(25)

    def night_and_day(sensors: int, points: int) -> np.ndarray:
        day = rng.gamma(2.0, 200.0, size=(sensors, points))
        return np.where(rng.random((sensors, points)) < 0.5, 0.0, day)

    ref, cur = wide(night_and_day(200, 2000)), wide(night_and_day(200, 2000))
    table = detect_drift(ref, cur).table
    assert table["drift_detected"].sum() <= 2
    assert (table["psi"] < 0.05).all()
    assert (table["js_divergence"] < 0.01).all()
    assert (table["chi2_pvalue"] < 0.05).mean() <= 0.1  # type: ignore[operator]
