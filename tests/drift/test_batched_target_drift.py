"""Prior shift and concept drift in batches of whole sensors equal one run over them all."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from sensorframe.drift import DriftConfig, DriftDetector, DriftReport, detect_drift
from sensorframe.drift.combine import combine_reports
from sensorframe.errors import ConfigError

TYPES = ("covariate_shift", "prior_shift", "concept_drift")


def _windows(seed: int, n_sensors: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """
    Reference and current windows with a target ``y``: per sensor, none, one or more of
    a value shift, a target shift and a flipped value-target relation; ties and nulls.
    """
    rng = np.random.default_rng(seed)
    t = pl.datetime_range(
        pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 1, 1, 59), "1m", eager=True, time_zone="UTC"
    )
    ref, cur = [], []
    for i in range(n_sensors):
        shift, prior, flip = rng.choice([0.0, 0.0, 2.0]), rng.choice([0.0, 0.0, 2.0]), rng.random()
        x = np.round(rng.normal(size=(2, 120)), 1)  # ties
        x[rng.random((2, 120)) < 0.05] = np.nan
        y = x + 0.5 * rng.normal(size=(2, 120))
        y[1] = (-1.0 if flip < 0.3 else 1.0) * y[1] + prior
        y[rng.random((2, 120)) < 0.05] = np.nan
        for out, k, dx in ((ref, 0, 0.0), (cur, 1, shift)):
            part = {"sensor_id": f"S{i:02d}", "timestamp": t, "value": x[k] + dx, "y": y[k]}
            out.append(pl.DataFrame(part))
    return pl.concat(ref), pl.concat(cur)


@given(
    seed=st.integers(0, 2**16),
    n_sensors=st.integers(1, 7),
    batch_rows=st.integers(1, 700),
    drop=st.booleans(),
)
def test_batched_target_detect_equals_the_whole(
    seed: int, n_sensors: int, batch_rows: int, drop: bool
) -> None:
    ref, cur = _windows(seed, n_sensors)
    if drop:  # a reference sensor without current readings, and a new sensor
        cur = cur.filter(pl.col("sensor_id") != "S00").vstack(
            ref.head(50).with_columns(sensor_id=pl.lit("NEW"))
        )
    detector = DriftDetector().fit(ref, target="y")
    expected = detector.detect(cur)
    got = detector.detect(cur, batch_rows=batch_rows)
    assert got.target == expected.target == "y"
    assert_frame_equal(got.table, expected.table, check_exact=True)


@given(seed=st.integers(0, 2**16), n_sensors=st.integers(1, 7), batch_rows=st.integers(1, 700))
def test_batched_target_fit_equals_the_whole(seed: int, n_sensors: int, batch_rows: int) -> None:
    ref, cur = _windows(seed, n_sensors)
    whole = DriftDetector().fit(ref, target="y")
    batched = DriftDetector().fit(ref, target="y", batch_rows=batch_rows)
    assert batched.target_ == "y"
    assert_frame_equal(batched.profile_, whole.profile_, check_exact=True)
    got = detect_drift(ref, cur, target="y", batch_rows=batch_rows)
    assert_frame_equal(got.table, whole.detect(cur).table, check_exact=True)


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg written out (NaN not counted): the independent reference."""
    out = np.full(p.shape, np.nan)
    defined = np.flatnonzero(~np.isnan(p))
    m = defined.size
    order = defined[np.argsort(p[defined], kind="stable")]
    running = 1.0
    for rank in range(m, 0, -1):
        running = min(running, p[order[rank - 1]] * m / rank)
        out[order[rank - 1]] = running
    return out


def test_each_type_is_adjusted_across_every_sensor() -> None:
    """
    Per type, detected == (BH over all sensors of its p-value < alpha) & its level >= LOW,
    and the per-batch verdicts (BH within a batch) differ from those of the whole fleet.
    """
    ref, cur = _windows(11, 12)
    config = DriftConfig()
    whole = detect_drift(ref, cur, target="y")
    t = whole.table
    assert set(t.columns) >= {"covariate_severity", "prior_severity", "concept_severity"}
    for name, pvalue, severity in (
        ("covariate_shift", "drift_pvalue", "covariate_severity"),
        ("prior_shift", "target_pvalue", "prior_severity"),
        ("concept_drift", "concept_pvalue", "concept_severity"),
    ):
        adjusted = _bh(t[pvalue].fill_null(np.nan).to_numpy())
        moved = t[severity].is_in(["none"]).not_().fill_null(value=False).to_numpy()
        expected = (np.nan_to_num(adjusted, nan=1.0) < config.alpha) & moved
        assert t["drift_types"].list.contains(name).to_list() == expected.tolist()
        assert expected.any()
    assert t["severity"].to_physical().to_list() == [
        max(row)
        for row in t.select(
            pl.col(c).to_physical()
            for c in ("covariate_severity", "prior_severity", "concept_severity")
        ).rows()
    ]
    halves = [
        [f"S{i:02d}" for i in range(6)],
        [f"S{i:02d}" for i in range(6, 12)],
    ]
    parts = []
    for ids in halves:
        keep = pl.col("sensor_id").is_in(ids)
        parts.append(detect_drift(ref.filter(keep), cur.filter(keep), target="y"))
    combined = combine_reports(parts)
    assert combined.target == "y"
    assert_frame_equal(combined.table, t, check_exact=True)
    rebuilt = [DriftReport(table=p.table, config=p.config, target="y") for p in parts]
    assert_frame_equal(combine_reports(rebuilt).table, t, check_exact=True)


def test_combine_refuses_mixed_targets() -> None:
    ref, cur = _windows(3, 4)
    keep = pl.col("sensor_id").is_in(["S00", "S01"])
    with_target = detect_drift(ref.filter(keep), cur.filter(keep), target="y")
    without = detect_drift(ref.filter(~keep), cur.filter(~keep))
    with pytest.raises(ConfigError, match="different targets"):
        combine_reports([with_target, without])
