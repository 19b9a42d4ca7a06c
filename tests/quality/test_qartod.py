"""The ``qartod`` column of ``flag_quality``: one QARTOD code per row from every check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

import sensorframe as sf

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _codes(
    values: list[float | None], cfg: sf.QualityConfig, *, at: list[int] | None = None
) -> list[int]:
    minutes = at if at is not None else list(range(len(values)))
    frame = pl.DataFrame(
        {
            "sensor_id": "s",
            "timestamp": [T0 + timedelta(minutes=m) for m in minutes],
            "value": values,
        },
        schema_overrides={"value": pl.Float64},
    )
    out = sf.flag_quality(frame, cfg).collect()
    assert out["qartod"].dtype == pl.Int8
    return out["qartod"].to_list()


RANGE = sf.QualityConfig(valid_min=0.0, valid_max=10.0, suspect_max=8.0, checks=("range",))


def test_pass_suspect_fail_and_missing() -> None:
    assert _codes([5.0, 9.0, 11.0, -1.0, None, 8.0], RANGE) == [1, 3, 4, 4, 9, 1]


def test_a_suspect_check_outranks_missing_and_a_failing_one_outranks_both() -> None:
    # the missing reading after a gap is suspect (the gap), not 9
    cfg = sf.QualityConfig(valid_max=10.0, checks=("range", "gap"))
    assert _codes([1.0, 2.0, None, 20.0, 3.0], cfg, at=[0, 1, 10, 11, 12]) == [1, 1, 3, 4, 1]


def test_rows_of_a_stuck_flat_line_fail_a_short_one_is_suspect() -> None:
    cfg = sf.QualityConfig(max_stuck=timedelta(minutes=5), checks=("flatline",))
    short = [1.0, 2.0] + [3.0] * 5 + [4.0]  # flat for 4 minutes
    assert _codes(short, cfg) == [1, 1, 3, 3, 3, 3, 3, 1]
    long = [1.0] + [3.0] * 7 + [4.0]  # flat for 6 minutes
    assert _codes(long, cfg) == [1, 4, 4, 4, 4, 4, 4, 4, 1]


def test_without_bounds_the_range_check_is_not_evaluated_and_flags_nothing() -> None:
    frame = sf.datasets.synthetic(n_sensors=2, n_points=400, seed=2).frame
    out = sf.flag_quality(frame, sf.QualityConfig(checks=("range",))).collect()
    assert not out["flag_range"].any()
    assert set(out["qartod"].unique().to_list()) <= {1, 9}
