"""
Autocorrelation-aware p-values: calibrated on AR(1) series, today's power on i.i.d. data.

Each check is one detection over many sensors at once, so the issue's sizes run by
default (1,000 AR(1) pairs of n = m = 2,000: a few seconds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import signal

from sensorframe.drift import DriftConfig, DriftDetector, detect_drift
from sensorframe.drift.compare import DETECTION_PVALUES
from tests.drift.helpers import wide

ALPHA = 0.05


def ar1(rng: np.random.Generator, sensors: int, points: int, phi: float) -> np.ndarray:
    """Stationary AR(1) rows with unit variance (the first reading drawn stationary)."""
    noise = rng.normal(size=(sensors, points)) * np.sqrt(1 - phi**2)
    start = rng.normal(size=sensors)
    x, _ = signal.lfilter([1.0], [1.0, -phi], noise, axis=1, zi=phi * start[:, None])
    return x


def _ar1_tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(16)
    ref, cur = (wide(ar1(rng, 1000, 2000, 0.9)) for _ in range(2))
    config = DriftConfig(correction="none")  # per pair, so the rate is the false-alarm rate
    auto = detect_drift(ref, cur, config).table
    raw = detect_drift(ref, cur, DriftConfig(correction="none", effective_n=None)).table
    return auto, raw


def test_ar1_false_alarm_rate_is_at_most_alpha_plus_one_percent() -> None:
    auto, raw = _ar1_tables()
    assert auto["status"].unique().to_list() == ["ok"]
    assert auto["drift_detected"].mean() <= ALPHA + 0.01  # type: ignore[operator]
    # the raw p-values see 2,000 independent readings and flag most healthy pairs
    assert raw["drift_detected"].mean() > 0.5  # type: ignore[operator]
    # the effective sizes are near n (1 - phi) / (1 + phi) = 105
    assert 80 < auto["n_eff_reference"].median() < 130  # type: ignore[operator]
    for column in DETECTION_PVALUES:  # each test on its own: no test carries the others
        assert (auto[column] < ALPHA).mean() <= ALPHA + 0.01, column


def test_iid_power_at_a_fifth_of_a_standard_deviation_is_unchanged() -> None:
    rng = np.random.default_rng(17)
    ref = wide(rng.normal(size=(100, 5000)))
    cur = wide(rng.normal(0.2, 1, size=(100, 5000)))
    det = DriftDetector().fit(ref)
    power = det.detect(cur).table["drift_detected"].mean()
    raw = DriftDetector(DriftConfig(effective_n=None)).fit(ref).detect(cur)
    assert power == raw.table["drift_detected"].mean() == 1.0
    healthy = det.detect(wide(rng.normal(size=(100, 5000)))).table
    assert healthy["drift_detected"].sum() <= 2
    # independent readings keep (nearly) all their readings
    assert healthy["n_eff_current"].min() > 0.8 * 5000  # type: ignore[operator]


def test_raw_pvalues_sit_beside_the_effective_ones() -> None:
    rng = np.random.default_rng(18)
    ref, cur = wide(ar1(rng, 3, 500, 0.8)), wide(ar1(rng, 3, 500, 0.8))
    auto = detect_drift(ref, cur).table
    off = detect_drift(ref, cur, DriftConfig(effective_n=None)).table
    for stat, pvalue in (("ks_statistic", "ks_pvalue"), ("welch_statistic", "welch_pvalue")):
        assert auto[stat].equals(off[stat])
        assert auto[f"{pvalue}_raw"].equals(off[pvalue])
        assert (auto[pvalue] >= auto[f"{pvalue}_raw"]).all()  # fewer readings: weaker
    assert off["n_eff_reference"].to_list() == [500.0] * 3


def test_a_profile_without_autocorrelation_counts_its_reference_as_independent(
    tmp_path: Path,
) -> None:
    """Profiles saved by sensorframe 0.1 have no autocorrelation: raw reference sizes."""
    rng = np.random.default_rng(19)
    ref, cur = wide(ar1(rng, 2, 400, 0.9)), wide(ar1(rng, 2, 400, 0.9))
    det = DriftDetector().fit(ref)
    old = det.profile_.drop("autocorrelation")
    path = tmp_path / "old.parquet"
    det.save(path)
    pl.read_parquet(path).drop("autocorrelation").write_parquet(path)
    for again in (DriftDetector.from_profile(old), DriftDetector.load(path)):
        table = again.detect(cur).table
        assert table["n_eff_reference"].to_list() == [400.0, 400.0]
        assert (table["n_eff_current"] < 100).all()
    assert det.detect(cur).table["n_eff_reference"].max() < 100  # type: ignore[operator]


@pytest.mark.parametrize("phi", [0.5, 0.95])
def test_effective_sizes_follow_the_autocorrelation(phi: float) -> None:
    rng = np.random.default_rng(20)
    table = detect_drift(wide(ar1(rng, 50, 4000, phi)), wide(ar1(rng, 50, 4000, phi))).table
    want = 4000 * (1 - phi) / (1 + phi)
    assert table["n_eff_reference"].median() == pytest.approx(want, rel=0.15)
