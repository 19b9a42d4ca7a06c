"""The status ladder: every rung of every check is reachable and moves the grade."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensorframe.errors import ConfigError
from sensorframe.quality.status import (
    _LADDERS,
    GRADED_CHECKS,
    QualityStatus,
    StatusThresholds,
    grade_exprs,
    rate_exprs,
    status_expr,
)

S = QualityStatus
DAY = timedelta(days=1)

CLEAN: dict[str, Any] = {
    "rows": 1000,
    "missing_count": 0,
    "stuck": False,
    "drift_flag": False,
    "largest_gap": None,
    "level_shifts": 0,
} | {name: 0.0 for name, kind in _LADDERS.items() if kind.startswith("percents")}
"""A clean sensor's table row: every number the ladder reads, at its best."""


def grade(row: dict[str, Any], thresholds: StatusThresholds | None = None) -> dict[str, S]:
    """Each check's grade and the status of one table row."""
    table = pl.DataFrame([CLEAN | row], schema_overrides={"largest_gap": pl.Duration("us")})
    grades = grade_exprs(thresholds or StatusThresholds())
    out = table.select(*grades.values(), status_expr(grades.values())).row(0, named=True)
    return {k: S(v) if k == "status" else list(S)[v] for k, v in out.items()}


def test_a_clean_sensor_is_excellent() -> None:
    assert set(grade({}).values()) == {S.EXCELLENT}


def _above(t: object) -> object:
    if isinstance(t, timedelta):
        return t + timedelta(microseconds=1)
    if isinstance(t, int):
        return t + 1
    return float(t) + 1e-9  # type: ignore[arg-type]


LADDER_CASES = [
    (name, check)
    for check, graded_by in GRADED_CHECKS.items()
    for name in graded_by
    if name in _LADDERS
]


@pytest.mark.parametrize(("name", "check"), LADDER_CASES)
def test_every_rung_of_every_ladder_is_reachable_and_strict(name: str, check: str) -> None:
    ladder = (1, 2, 3, 4) if name == "level_shifts" else (1.0, 2.0, 3.0, 4.0)
    if name == "largest_gap":
        ladder = tuple(k * DAY for k in range(1, 5))  # type: ignore[assignment]
    thresholds = StatusThresholds(**{name: ladder})
    for rank, t in enumerate(ladder):
        at, above = grade({name: t}, thresholds), grade({name: _above(t)}, thresholds)
        assert at[check] == list(S)[rank]  # strict: exactly at a threshold stays below it
        assert above[check] == above["status"] == list(S)[rank + 1]
    off = StatusThresholds(**{name: (None,) * 4})
    assert grade({name: _above(ladder[-1])}, off)["status"] is S.EXCELLENT


def test_a_null_number_grades_nothing() -> None:
    assert grade({"gap_time_pct": None, "largest_gap": None})["gap"] is S.EXCELLENT


@pytest.mark.parametrize(
    ("row", "check", "want"),
    [
        ({"missing_pct": 12.0, "missing_count": 120}, "missing", S.FAIR),
        ({"missing_count": 1000, "missing_pct": 100.0}, "missing", S.CRITICAL),
        ({"outlier_pct": 6.0}, "outlier", S.GOOD),
        ({"flat_pct": 59.0}, "flatline", S.CRITICAL),  # the issue's dead year was GOOD
        ({"flat_pct": 2.0}, "flatline", S.GOOD),
        ({"stuck": True, "flat_pct": 0.5}, "flatline", S.CRITICAL),  # whatever the share
        ({"gap_time_pct": 12.0, "largest_gap": DAY + 8 * timedelta(hours=1)}, "gap", S.POOR),
        ({"largest_gap": 2 * timedelta(hours=1)}, "gap", S.GOOD),
        ({"largest_gap": 8 * DAY}, "gap", S.POOR),
        ({"duplicate_pct": 0.1}, "duplicate", S.GOOD),
        ({"duplicate_pct": 50.0}, "duplicate", S.POOR),  # fixable: never CRITICAL
        ({"out_of_order_pct": 0.1}, "out_of_order", S.GOOD),
        ({"range_fail_pct": 0.1}, "range", S.FAIR),  # any impossible reading
        ({"range_fail_pct": 6.0}, "range", S.CRITICAL),
        ({"range_suspect_pct": 2.0}, "range", S.GOOD),
        ({"spike_pct": 1.0}, "spike", S.GOOD),
        ({"interpolated_pct": 25.0}, "interpolated", S.POOR),
        ({"level_shifts": 1}, "level_shift", S.FAIR),
        ({"level_shifts": 3}, "level_shift", S.POOR),
    ],
)
def test_each_check_moves_the_grade_by_default(row: dict[str, Any], check: str, want: S) -> None:
    got = grade(row)
    assert got[check] is want
    assert got["status"] is want
    others = {k: v for k, v in got.items() if k not in {check, "status"}}
    assert set(others.values()) == {S.EXCELLENT}


def test_a_trend_is_not_a_fault_unless_asked() -> None:
    assert grade({"drift_flag": True})["status"] is S.EXCELLENT
    assert grade({"drift_flag": True}, StatusThresholds(drift="POOR"))["drift"] is S.POOR  # type: ignore[arg-type]
    assert grade({"stuck": True}, StatusThresholds(stuck=None))["status"] is S.EXCELLENT


def test_the_issue_examples() -> None:
    # module temperature exactly 0.0 for 352 of 365 days: stuck and 59%+ flat
    dead = grade({"flat_pct": 96.0, "stuck": True})
    assert dead["status"] is S.CRITICAL
    # water flow: 7 gaps, the largest 1 day 8 h, 12% of the expected time lost
    flow = grade({"gap_time_pct": 12.0, "largest_gap": DAY + timedelta(hours=8)})
    assert flow["status"] > S.EXCELLENT
    # one short outage of 20 minutes in a week of minute data (0.2% lost)
    assert (
        grade({"gap_time_pct": 0.2, "largest_gap": timedelta(minutes=20)})["status"] is S.EXCELLENT
    )


rank = st.integers(0, 4)


@given(st.lists(st.lists(rank, min_size=3, max_size=3), min_size=0, max_size=20))
def test_status_is_the_worst_grade(ranks: list[list[int]]) -> None:
    table = pl.DataFrame(ranks, schema=dict.fromkeys("abc", pl.Int8), orient="row")
    got = table.select(status_expr(pl.col(c) for c in "abc"))["status"].to_list()
    assert got == [list(S)[max(r)].value for r in ranks]


counts = st.integers(0, 50)


@given(st.lists(st.tuples(counts, counts, counts), max_size=20))
def test_rates_match_their_formula(rows: list[tuple[int, int, int]]) -> None:
    n = np.array([r[0] + r[1] for r in rows], dtype=float)  # rows >= missing
    missing = np.array([r[1] for r in rows], dtype=float)
    hits = np.array([min(r[2], r[0]) for r in rows], dtype=float)  # at most the valid rows
    names = ["outlier_count", "flat_points", "duplicate_timestamps", "out_of_order"]
    names += ["range_failures", "range_suspects", "spike_count", "interpolated_points"]
    table = pl.DataFrame(
        {"rows": n.astype(int), "missing_count": missing.astype(int)}
        | {c: hits.astype(int) for c in names}
    )
    got = table.select(rate_exprs())
    valid = n - missing
    with np.errstate(invalid="ignore", divide="ignore"):
        of_rows = np.where(n > 0, 100 * hits / n, 0.0)
        of_valid = np.where(valid > 0, 100 * hits / valid, 0.0)
        missing_pct = np.where(n > 0, 100 * missing / n, 0.0)
    np.testing.assert_allclose(got["missing_pct"].to_numpy(), missing_pct)
    for col in ("duplicate_pct", "out_of_order_pct"):
        np.testing.assert_allclose(got[col].to_numpy(), of_rows)
    for col in ("outlier_pct", "flat_pct", "spike_pct", "interpolated_pct"):
        np.testing.assert_allclose(got[col].to_numpy(), of_valid)
    assert got.columns[-2:] == ["spike_pct", "interpolated_pct"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"missing_pct": (5.0, 10.0, 20.0)},
        {"missing_pct": (50.0, 10.0, 20.0, 60.0)},
        {"outlier_pct": (5.0, 10.0, 150.0, None)},
        {"flat_pct": (1.0, float("nan"), None, None)},
        {"flat_pct": "lax"},
        {"largest_gap": (1.0, None, None, None)},
        {"largest_gap": (-DAY, None, None, None)},
        {"level_shifts": (0.5, None, None, None)},
        {"level_shifts": (True, None, None, None)},
        {"drift": "BAD"},
        {"stuck": 3},
    ],
)
def test_thresholds_reject_bad_ladders(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        StatusThresholds(**kwargs)  # type: ignore[arg-type]


def test_thresholds_coerce() -> None:
    t = StatusThresholds(flat_pct=[1, 2, 3, None], stuck="POOR", drift="fair")  # type: ignore[arg-type]
    assert t.flat_pct == (1.0, 2.0, 3.0, None)
    assert t.stuck is S.POOR
    assert t.drift is S.FAIR
