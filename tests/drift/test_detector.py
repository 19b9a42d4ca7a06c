"""DriftDetector, detect_drift and the report: usage, statuses, persistence, targets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe.drift import (
    DriftConfig,
    DriftDetector,
    DriftReport,
    DriftSeverity,
    detect_drift,
)
from sensorframe.errors import (
    ConfigError,
    InvalidTypeError,
    NotFittedError,
    SensorSchemaError,
    UnknownSensorError,
)
from tests.conftest import sensor_frames, tied_readings
from tests.drift.helpers import frame, wide

rng = np.random.default_rng(11)


def test_fresh_standard_normal_is_none_or_low() -> None:
    for seed in range(5):
        g = np.random.default_rng(seed)
        ref = frame({"P-1": g.normal(size=1000)})
        cur = frame({"P-1": g.normal(size=1000)})
        rec = detect_drift(ref, cur)["P-1"]
        assert rec.status == "ok"
        assert rec.severity in (DriftSeverity.NONE, DriftSeverity.LOW)


def test_mean_two_is_detected() -> None:
    ref = frame({"P-1": rng.normal(size=1000)})
    cur = frame({"P-1": rng.normal(2, 1, size=1000)})
    report = detect_drift(ref, cur)
    rec = report["P-1"]
    assert rec.drift_detected is True
    assert rec.severity is not None
    assert rec.severity >= DriftSeverity.MODERATE
    assert rec.drift_types == ["covariate_shift"]
    assert rec.recommendations
    assert rec.statistical_tests["ks_test"]["p_value"] < 1e-10
    assert rec.metrics["mean_shift"] == pytest.approx(2, abs=0.2)
    assert report.drifted == ["P-1"]
    assert "P-1" in report
    assert len(report) == 1


def test_unknown_sensor_raises() -> None:
    report = detect_drift(frame({"a": [1.0, 2.0]}), frame({"a": [1.0, 3.0]}))
    with pytest.raises(UnknownSensorError, match="'zz'"):
        report["zz"]


def test_statuses_are_explicit() -> None:
    ref = frame(
        {
            "ok": rng.normal(size=50),
            "few": rng.normal(size=5),
            "flat": [3.0] * 50,
            "gone": rng.normal(size=50),
            "nan": [None] * 10,
        }
    )
    cur = frame(
        {
            "ok": rng.normal(size=50),
            "few": rng.normal(size=50),
            "flat": [3.0] * 25 + [4.0] * 25,
            "nan": [1.0] * 30,
            "new": rng.normal(size=30),
        }
    )
    table = detect_drift(ref, cur).table
    status = dict(zip(table["sensor_id"], table["status"], strict=True))
    assert status == {
        "ok": "ok",
        "few": "insufficient_data",
        "flat": "constant",
        "gone": "all_missing",
        "nan": "all_missing",
        "new": "no_reference",
    }
    bad = table.filter(pl.col("status").is_in(["insufficient_data", "all_missing", "no_reference"]))
    assert bad["drift_detected"].null_count() == bad.height
    assert bad["severity"].null_count() == bad.height
    assert all(len(r) > 0 for r in bad["recommendations"])
    flat = table.filter(sensor_id="flat").row(0, named=True)
    assert flat["drift_detected"] is True
    assert flat["mean_shift"] == float("inf")
    assert flat["severity"] == "critical"


def test_constant_and_unchanged_is_no_drift() -> None:
    row = detect_drift(frame({"a": [2.0] * 40}), frame({"a": [2.0] * 30})).table.row(0, named=True)
    assert row["status"] == "constant"
    assert row["drift_detected"] is False
    assert row["severity"] == "none"
    assert row["mean_shift"] == 0.0


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="n_bins"):
        DriftConfig(n_bins=1)
    with pytest.raises(ConfigError, match="alpha"):
        DriftConfig(alpha=1.5)
    with pytest.raises(ConfigError, match="ks_method"):
        DriftConfig(ks_method="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="correction"):
        DriftConfig(correction="bonferroni")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="non-decreasing"):
        DriftConfig(psi_thresholds=(0.3, 0.2, 0.1, 0.5))
    with pytest.raises(ConfigError, match="min_readings"):
        DriftConfig(min_readings=True)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="effective_n"):
        DriftConfig(effective_n="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="fault_missing_rate"):
        DriftConfig(fault_missing_rate=1.0)
    with pytest.raises(InvalidTypeError, match="season"):
        DriftConfig(season=24)  # type: ignore[arg-type]


def test_detector_contract_and_batching_invariance() -> None:
    values = rng.normal(size=(12, 300)).round(1)
    shifted = rng.normal(size=(12, 300)).round(1) + np.linspace(0, 1, 12)[:, None]
    ref, cur = wide(values), wide(shifted)
    det = DriftDetector()
    with pytest.raises(NotFittedError):
        det.detect(cur)
    with pytest.raises(NotFittedError):
        _ = det.profile_
    assert det.fit(ref) is det
    assert det.config is None
    small = DriftDetector(DriftConfig(batch_cells=500)).fit(ref.lazy()).detect(cur.lazy())
    big = det.detect(cur)
    assert small.table.drop("drift_types", "recommendations").equals(
        big.table.drop("drift_types", "recommendations")
    )
    assert det.sensors_.to_list() == sorted(set(ref["sensor_id"]))
    # detect_drift is fit + detect
    assert detect_drift(ref, cur).table.equals(big.table)


def test_profile_roundtrip_save_load(tmp_path: Path) -> None:
    ref = wide(rng.normal(size=(4, 200)))
    cur = wide(rng.normal(0.5, 1, size=(4, 150)))
    config = DriftConfig(n_bins=7, alpha=0.01)
    det = DriftDetector(config).fit(ref)
    profile = det.profile_
    assert profile.height == 4
    assert profile["values"].list.len().to_list() == [200] * 4
    assert profile["bin_edges"].list.len().to_list() == [6] * 4
    want = det.detect(cur).table
    again = DriftDetector.from_profile(profile, config).detect(cur).table
    assert again.equals(want)
    path = tmp_path / "profile.parquet"
    det.save(path)
    loaded = DriftDetector.load(path)
    assert loaded.config_ == config
    assert loaded.detect(cur).table.equals(want)
    with pytest.raises(ConfigError, match="n_bins"):
        DriftDetector.from_profile(profile, DriftConfig(n_bins=10))


def test_detector_saved_with_min_samples_loads_without_warning(tmp_path: Path) -> None:
    """A file written before the rename stores ``min_samples``: nothing for a user to fix."""
    config = DriftConfig(n_bins=5, min_readings=7)
    path = tmp_path / "old.parquet"
    DriftDetector(config).fit(wide(rng.normal(size=(2, 50)))).save(path)
    key = "sensorframe.drift.config"
    stored = json.loads(pl.read_parquet_metadata(path)[key])
    stored["min_samples"] = stored.pop("min_readings")
    pl.read_parquet(path).write_parquet(path, metadata={key: json.dumps(stored)})
    assert DriftDetector.load(path).config_ == config


def test_target_prior_and_concept_drift() -> None:
    g = np.random.default_rng(5)
    n = 2000
    x_ref, x_cur = g.normal(size=n), g.normal(size=n)
    ref = frame(
        {"same": x_ref, "prior": x_ref, "concept": x_ref},
        target={
            "same": x_ref + g.normal(size=n),
            "prior": g.normal(size=n),
            "concept": x_ref + 0.5 * g.normal(size=n),
        },
    )
    cur = frame(
        {"same": x_cur, "prior": x_cur, "concept": x_cur},
        target={
            "same": x_cur + g.normal(size=n),
            "prior": g.normal(3, 1, size=n),
            "concept": -x_cur + 0.5 * g.normal(size=n),
        },
    )
    report = detect_drift(ref, cur, target="y")
    assert report["same"].drift_types == []
    assert report["prior"].drift_types == ["prior_shift"]
    assert "concept_drift" in report["concept"].drift_types
    assert "covariate_shift" not in report["concept"].drift_types
    assert report["concept"].statistical_tests["correlation_fisher_z"]["p_value"] < 1e-10
    r_ref = np.corrcoef(x_ref, ref.filter(sensor_id="concept")["y"])[0, 1]
    assert report["concept"].metrics["correlation_ref"] == pytest.approx(r_ref, rel=1e-9)
    # the profile keeps the target, and detect checks the column
    det = DriftDetector().fit(ref, target="y")
    again = DriftDetector.from_profile(det.profile_).detect(cur)
    assert again.table.equals(report.table)
    with pytest.raises(SensorSchemaError, match="'y'"):
        det.detect(cur.drop("y"))


def test_report_record_shape() -> None:
    report = detect_drift(frame({"a": rng.normal(size=100)}), frame({"a": rng.normal(size=80)}))
    assert isinstance(report, DriftReport)
    rec = report["a"]
    assert set(rec.statistical_tests) == {
        "ks_test",
        "mann_whitney",
        "chi_square",
        "psi_test",
        "cramer_von_mises",
        "anderson_darling",
        "welch_t",
        "brown_forsythe",
    }
    assert set(rec.metrics["quantile_shifts"]) == {"q05", "q25", "q50", "q75", "q95"}
    assert report.config == DriftConfig()
    for col in ("severity", "drift_detected", "drift_types", "recommendations", "status"):
        assert col in report.table.columns
    assert report.table.schema["drift_types"] == pl.List(pl.String)


def test_accepts_scan_inputs() -> None:
    t = pl.datetime_range(
        pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 2), "1m", eager=True, time_zone="UTC"
    )[:100]
    ref = sf.scan(rng.normal(size=100), timestamps=t, sensor_id="x")
    cur = sf.scan(rng.normal(size=100), timestamps=t, sensor_id="x").collect().to_arrow()
    assert detect_drift(ref, cur).table["status"].to_list() == ["ok"]


@given(ref=sensor_frames(values=tied_readings), cur=sensor_frames())
def test_shuffled_rows_match_grouped_rows(ref: pl.DataFrame, cur: pl.DataFrame) -> None:
    """Row order does not matter (hash grouping vs the run-length fast path)."""
    config = DriftConfig(min_readings=2)
    shuffled = detect_drift(ref, cur, config).table
    grouped = detect_drift(ref.sort("sensor_id"), cur.sort("sensor_id"), config).table
    assert_frame_equal(shuffled, grouped, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def test_empty_current_window() -> None:
    ref = frame({"a": rng.normal(size=30)})
    table = detect_drift(ref, frame({})).table
    assert table["status"].to_list() == ["all_missing"]
    assert table["n_cur"].to_list() == [0]
    assert table["missing_rate_change"].to_list() == [None]


def test_target_with_missing_values() -> None:
    x = rng.normal(size=200)
    y = [None if i % 7 == 0 else float(v) for i, v in enumerate(x + rng.normal(size=200))]
    ref = frame({"a": x}, target={"a": y})
    cur = frame({"a": x[::-1]}, target={"a": y[::-1]})
    row = detect_drift(ref, cur, target="y").table.row(0, named=True)
    keep = [i for i, v in enumerate(y) if v is not None]
    r = np.corrcoef(x[keep], np.array([y[i] for i in keep], dtype=float))[0, 1]
    assert row["correlation_ref"] == pytest.approx(r, rel=1e-9)
    assert row["correlation_cur"] == pytest.approx(r, rel=1e-9)
    assert row["drift_types"] == []


def test_flat_or_mostly_missing_current_windows_are_sensor_faults() -> None:
    ref = frame({"flat": rng.normal(size=200), "gappy": rng.normal(size=200)})
    cur = frame({"flat": [3.25] * 150, "gappy": [*rng.normal(size=40), *[None] * 110]})
    table = detect_drift(ref, cur).table
    rows = {r["sensor_id"]: r for r in table.iter_rows(named=True)}
    for sid in ("flat", "gappy"):
        assert rows[sid]["status"] == "sensor_fault"
        assert rows[sid]["severity"] is None
        assert rows[sid]["drift_detected"] is None
        assert rows[sid]["drift_types"] == []
        assert rows[sid]["ks_statistic"] is not None  # the statistics are still shown
    assert rows["flat"]["change"] == "flat at 3.25 since 2026-01-01"
    assert rows["gappy"]["change"] == "73% of readings missing since 2026-01-01"
    assert rows["gappy"]["recommendations"] == [
        "sensor fault, not drift: check the sensor and its data feed: "
        "73% of readings missing since 2026-01-01"
    ]
    # a flat current window at a constant reference's value is no fault
    same = detect_drift(frame({"c": [1.0] * 50}), frame({"c": [1.0] * 50})).table
    assert same["status"].to_list() == ["constant"]


def test_words_say_what_changed_and_retraining_waits_for_high() -> None:
    g = np.random.default_rng(26)
    ref = frame({"m": g.normal(size=3000), "s": g.normal(size=3000), "big": g.normal(size=3000)})
    cur = frame(
        {
            "m": g.normal(0.2, 1, size=3000),
            "s": g.normal(0, 1.4, size=3000),
            "big": g.normal(-2.5, 1, size=3000),
        }
    )
    report = detect_drift(ref, cur)
    assert report["m"].change is not None
    assert re.match(r"mean \+0\.[12]\d* sd since 2026-01-01$", report["m"].change)
    assert report["m"].change.endswith(" since 2026-01-01")
    assert report["s"].change is not None
    assert "spread x1.4" in report["s"].change
    assert report["big"].change is not None
    assert report["big"].change.startswith("mean -2.5")
    for sid in ("m", "s", "big"):
        rec = report[sid]
        assert rec.drift_detected
        assert rec.severity is not None
        text = " ".join(rec.recommendations)
        assert (("retrain" in text) or ("retraining" in text)) == (
            rec.severity >= DriftSeverity.HIGH
        ), (sid, rec.severity, text)
        assert rec.change is not None
        assert rec.change in text
    assert detect_drift(ref, ref).table["change"].null_count() >= 2  # nothing to say
