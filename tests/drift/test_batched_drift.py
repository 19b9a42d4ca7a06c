"""Drift in batches of whole sensors equals drift over every sensor at once."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe.drift import DriftConfig, DriftDetector, DriftReport
from sensorframe.drift.combine import combine_reports
from sensorframe.errors import ConfigError, InvalidParameterError


def _windows(seed: int, n_sensors: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    t = pl.datetime_range(
        pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 1, 3, 19), "1m", eager=True, time_zone="UTC"
    )
    ref, cur = [], []
    for i in range(n_sensors):
        shift = rng.choice([0.0, 0.0, 0.4, 3.0])
        values = np.round(rng.normal(size=200), 1)  # ties
        values[rng.random(200) < 0.05] = np.nan
        ref.append(pl.DataFrame({"sensor_id": f"S{i:02d}", "timestamp": t[:200], "value": values}))
        later = np.round(rng.normal(shift, 1, size=200), 1)
        cur.append(pl.DataFrame({"sensor_id": f"S{i:02d}", "timestamp": t[:200], "value": later}))
    return pl.concat(ref), pl.concat(cur)


@given(
    seed=st.integers(0, 2**16),
    n_sensors=st.integers(1, 7),
    batch_rows=st.integers(1, 900),
    drop=st.booleans(),
)
def test_batched_detect_equals_the_whole(
    seed: int, n_sensors: int, batch_rows: int, drop: bool
) -> None:
    ref, cur = _windows(seed, n_sensors)
    if drop:  # a reference sensor without current readings, and a new sensor
        cur = cur.filter(pl.col("sensor_id") != "S00").vstack(
            ref.head(50).with_columns(sensor_id=pl.lit("NEW"))
        )
    whole = sf.drift.detect_drift(ref, cur)
    batched = sf.drift.detect_drift(ref, cur, batch_rows=batch_rows)
    assert_frame_equal(batched.table, whole.table, check_exact=True)
    fitted = DriftDetector().fit(ref, batch_rows=batch_rows)
    assert_frame_equal(fitted.profile_, DriftDetector().fit(ref).profile_, check_exact=True)


def test_the_adjustment_ranks_every_sensor_together() -> None:
    """Per-batch BH would pass a sensor that BH over the fleet does not (and vice versa)."""
    ref, cur = _windows(5, 6)
    parts = []
    for ids in (["S00", "S01", "S02"], ["S03", "S04", "S05"]):
        keep = pl.col("sensor_id").is_in(ids)
        parts.append(sf.drift.detect_drift(ref.filter(keep), cur.filter(keep)))
    whole = sf.drift.detect_drift(ref, cur)
    combined = combine_reports(parts)
    assert_frame_equal(combined.table, whole.table, check_exact=True)
    per_batch = pl.concat([p.table for p in parts])["drift_pvalue_adjusted"]
    assert not per_batch.equals(whole.table["drift_pvalue_adjusted"])


def test_a_report_rebuilt_from_its_table_combines() -> None:
    ref, cur = _windows(1, 4)
    report = sf.drift.detect_drift(ref, cur)
    rebuilt = DriftReport(table=report.table, config=report.config)
    assert_frame_equal(combine_reports([rebuilt]).table, report.table, check_exact=True)


def test_combine_errors() -> None:
    ref, cur = _windows(2, 2)
    report = sf.drift.detect_drift(ref, cur)
    with pytest.raises(InvalidParameterError, match="more than one report"):
        combine_reports([report, report])
    with pytest.raises(InvalidParameterError, match="empty"):
        combine_reports([])
    other = sf.drift.detect_drift(ref, cur, DriftConfig(alpha=0.01))
    with pytest.raises(ConfigError, match="different configs"):
        combine_reports([report, other])
