"""Recall and false positives of the quality checks on synthetic telemetry with labelled faults."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.quality import QualityConfig, assess_quality

FAULT_CHECK = {
    "spike": "outlier",
    "flatline": "flatline",
    "gap": "gap",
    "missing": "missing",
    "duplicate": "duplicate",
}
STEP = timedelta(minutes=1)
# (recall floor, most false-positive events allowed) per fault type; see the scores below
FLOORS = {
    "spike": (1.0, 0),
    "flatline": (1.0, 0),
    "gap": (1.0, 0),
    "missing": (1.0, 0),
    "duplicate": (1.0, 0),
}


def score(labels: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Per fault type: labels found by an event of the matching check, and stray events."""
    labelled = labels.filter(pl.col("fault").is_in(list(FAULT_CHECK))).with_columns(
        check=pl.col("fault").replace_strict(FAULT_CHECK), label=pl.int_range(pl.len())
    )
    found = events.with_columns(event=pl.int_range(pl.len())).join(
        labelled, on=["sensor_id", "check"], suffix="_label"
    )
    # an event matches a label when they overlap, allowing one step (a gap is flagged on
    # the first reading after the hole)
    found = found.filter(
        (pl.col("start") <= pl.col("end_label") + STEP)
        & (pl.col("end") >= pl.col("start_label") - STEP)
    )
    recall = labelled.group_by("fault").agg(
        labels=pl.len(), found=pl.col("label").is_in(found["label"].implode()).sum()
    )
    stray = (
        events.with_columns(event=pl.int_range(pl.len()))
        .filter(~pl.col("event").is_in(found["event"].implode()))
        .group_by("check")
        .agg(false_positives=pl.len())
    )
    return (
        recall.with_columns(
            check=pl.col("fault").replace_strict(FAULT_CHECK),
            recall=pl.col("found") / pl.col("labels"),
        )
        .join(stray, on="check", how="left")
        .with_columns(pl.col("false_positives").fill_null(0))
        .sort("fault")
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_injected_faults_are_found(seed: int) -> None:
    data = sf.datasets.synthetic(
        n_sensors=12,
        n_points=2_000,
        seed=seed,
        faults=list(FAULT_CHECK),
        fault_fraction=0.5,
    )
    report = assess_quality(data.frame, QualityConfig())
    table = score(data.labels, report.events)
    print(f"\nseed {seed}\n{table}")  # shown with -s: recall and false positives per fault
    assert sorted(table["fault"]) == sorted(FAULT_CHECK)
    for row in table.iter_rows(named=True):
        floor, max_fp = FLOORS[row["fault"]]
        assert row["recall"] >= floor, row
        assert row["false_positives"] <= max_fp, row


def test_level_shift_flags_drift() -> None:
    data = sf.datasets.synthetic(
        n_sensors=20, n_points=2_000, seed=4, faults=["level_shift"], shift_size=4.0
    )
    table = assess_quality(data.frame).table
    shifted = set(data.labels["sensor_id"])
    flagged = set(table.filter("drift_flag")["sensor_id"])
    recall = len(flagged & shifted) / len(shifted)
    false_positives = len(flagged - shifted)
    print(f"\ndrift recall {recall:.2f}, false positives {false_positives} of {20 - len(shifted)}")
    assert recall >= 0.9
    assert false_positives <= 3
