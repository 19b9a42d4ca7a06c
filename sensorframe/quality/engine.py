"""
The query behind :func:`assess_quality` and :func:`flag_quality`, for all sensors at once.

The public checks in :mod:`sensorframe.quality.checks` are per-series expressions meant
for ``.over("sensor_id")``. A window expression costs a group-by and a scatter for
each check, so the report's query computes the same definitions on the frame sorted by
(sensor, time) with whole-column operations instead: shifts masked at sensor
boundaries (``rle_id`` numbers the sensors), one ``group_by`` for the per-sensor
statistics joined back, and one ``group_by`` for the table. The tests check both paths
against the same NumPy reference.
"""

from __future__ import annotations

import math
from datetime import timedelta

import polars as pl

from sensorframe.frame import SENSOR, TIME, VALUE
from sensorframe.quality.checks import _MAD_NORMAL, out_of_order
from sensorframe.quality.config import QualityConfig

__all__ = ["CHECKS", "FLAGS", "flagged_rows", "sensor_table"]

CHECKS = ("missing", "outlier", "flatline", "gap", "duplicate")
"""The row checks, in the order of the ``flag_<check>`` columns."""
FLAGS = [f"flag_{c}" for c in CHECKS]

OOO = "__sf_out_of_order"
GID = "__sf_gid"
STEP = "__sf_step_us"
FINITE = "__sf_finite"
LINKED = "__sf_linked"
FLAT_LEN = "__sf_flat_len"
FLAT_NEW = "__sf_flat_new"
DIFF = "__sf_diff"
HALF = "__sf_half"
_STATS = (
    "__sf_center",
    "__sf_scale",
    "__sf_usual",
    "__sf_median_step",
    "__sf_n_valid",
    "__sf_diff_median",
)


def _sorted_with_input_order(lf: pl.LazyFrame, *, check_sorted: bool) -> pl.LazyFrame:
    """
    Sort by (sensor, time), stable, after counting steps back in input order.

    With ``check_sorted`` one cheap eager pass first tests whether the input is
    already sorted (it reads the source once more, but saves the sort).
    """
    s, t = pl.col(SENSOR), pl.col(TIME)
    in_order = (s > s.shift(1)) | ((s == s.shift(1)) & (t >= t.shift(1)))
    if check_sorted and lf.select(in_order.fill_null(value=True).all()).collect().item():
        # already sorted (common for telemetry): no step goes back, nothing to sort
        return lf.with_columns(pl.lit(value=False).alias(OOO))
    return lf.with_columns(out_of_order(TIME).over(SENSOR).alias(OOO)).sort(
        SENSOR, TIME, maintain_order=True
    )


def flagged_rows(lf: pl.LazyFrame, cfg: QualityConfig, *, check_sorted: bool) -> pl.LazyFrame:
    """
    Sort the canonical rows and add the flag columns plus the helper columns.

    The helpers (``__sf_*``) feed :func:`sensor_table`; ``flag_quality`` drops them.
    """
    x, g, step = pl.col(VALUE), pl.col(GID), pl.col(STEP)
    finite = pl.col(FINITE)
    new_sensor = (g != g.shift(1)).fill_null(value=True)
    ok = finite
    for v in cfg.flatline_ignore:
        ok = ok & ((x - v).abs() >= cfg.flatline_tolerance).fill_null(value=False)
    close = ((x - x.shift(1)).abs() < cfg.flatline_tolerance).fill_null(value=False)
    last_gid = pl.when(finite).then(g).shift(1).forward_fill()
    valid_before = finite.cast(pl.Int64).cum_sum() - finite.cast(pl.Int64)
    stage1 = (
        _sorted_with_input_order(lf, check_sorted=check_sorted)
        .with_columns(
            pl.col(SENSOR).rle_id().set_sorted().alias(GID),
            x.is_finite().fill_null(value=False).alias(FINITE),
        )
        .with_columns(
            pl.when(~new_sensor).then(pl.col(TIME).diff().dt.total_microseconds()).alias(STEP),
            (~new_sensor & ok & ok.shift(1).fill_null(value=False) & close).alias(LINKED),
            pl.when(finite & (last_gid == g)).then(x - x.shift(1).forward_fill()).alias(DIFF),
            # ordinal of each finite reading within its sensor (0-based)
            (valid_before - pl.when(new_sensor).then(valid_before).forward_fill()).alias(HALF),
        )
    )
    if cfg.outlier_method == "zscore":
        center, scale = x.mean(), x.std(ddof=0)
    else:
        center, scale = x.median(), (x - x.median()).abs().median()
    positive = step.filter(step > 0).median()
    usual = (
        pl.lit(cfg.expected_interval / timedelta(microseconds=1))
        if cfg.expected_interval is not None
        else positive
    )
    stats = stage1.group_by(GID).agg(
        center.alias(_STATS[0]),
        scale.alias(_STATS[1]),
        usual.cast(pl.Float64).alias(_STATS[2]),
        positive.alias(_STATS[3]),
        finite.sum().alias(_STATS[4]),
        pl.col(DIFF).median().alias(_STATS[5]),
    )
    center_c, scale_c = pl.col(_STATS[0]), pl.col(_STATS[1])
    deviation = (x - center_c).abs()
    if cfg.outlier_method == "zscore":
        outlier = deviation / scale_c > cfg.outlier_z
    else:
        outlier = _MAD_NORMAL * deviation / scale_c > cfg.mad_threshold
    idx = pl.int_range(pl.len(), dtype=pl.Int64)
    linked = pl.col(LINKED)
    run_start = pl.when(~linked).then(idx).forward_fill()
    run_end = pl.when(~linked.shift(-1).fill_null(value=False)).then(idx).backward_fill()
    flat = pl.col(FLAT_LEN) >= cfg.flatline_min_length
    return (
        stage1.join(stats, on=GID, how="left", maintain_order="left")
        .with_columns(
            (~finite).alias("flag_missing"),
            ((scale_c > 0) & outlier).fill_null(value=False).alias("flag_outlier"),
            pl.when(ok).then(run_end - run_start + 1).otherwise(0).alias(FLAT_LEN),
            (step > cfg.gap_factor * pl.col(_STATS[2])).fill_null(value=False).alias("flag_gap"),
            (step == 0).fill_null(value=False).alias("flag_duplicate"),
            # absolute deviation of each first difference from the sensor's median one
            (pl.col(DIFF) - pl.col(_STATS[5])).abs().alias(DIFF),
            pl.when(finite)
            .then(pl.when(pl.col(HALF) < pl.col(_STATS[4]) // 2).then(1).otherwise(2))
            .alias(HALF),
        )
        .with_columns(flat.alias("flag_flatline"), (flat & ~linked).alias(FLAT_NEW))
        .with_columns(pl.any_horizontal(FLAGS).alias("flag_any"))
        .drop(FINITE, LINKED, *(c for c in _STATS if c != _STATS[3]))
    )


def sensor_table(flagged: pl.LazyFrame) -> pl.LazyFrame:
    """Aggregate the flagged rows into one row of numbers per sensor (no status/text)."""
    x, step = pl.col(VALUE), pl.col(STEP)
    first, second = x.filter(pl.col(HALF) == 1), x.filter(pl.col(HALF) == 2)
    n_first = (pl.col(HALF) == 1).sum()
    shift = (second.mean() - first.mean()).abs()
    first_std = first.std(ddof=0)
    drift = (
        pl.when(n_first < 2)
        .then(pl.lit(None, dtype=pl.Float64))
        .when(first_std > 0)
        .then(shift / first_std)
        .when(shift > 0)
        .then(pl.lit(math.inf))
        .otherwise(pl.lit(0.0))
    )
    counts = {
        "missing_count": "flag_missing",
        "outlier_count": "flag_outlier",
        "flat_points": "flag_flatline",
        "gap_count": "flag_gap",
        "duplicate_timestamps": "flag_duplicate",
        "flat_runs": FLAT_NEW,
        "out_of_order": OOO,
    }
    return flagged.group_by(GID).agg(
        pl.col(SENSOR).first(),
        pl.len().cast(pl.Int64).alias("rows"),
        *(pl.col(flag).sum().cast(pl.Int64).alias(name) for name, flag in counts.items()),
        longest_flat_run=pl.col(FLAT_LEN).filter("flag_flatline").max().fill_null(0).cast(pl.Int64),
        largest_gap=step.filter("flag_gap").max().cast(pl.Duration("us")),
        median_step=pl.col(_STATS[3]).first().cast(pl.Int64).cast(pl.Duration("us")),
        noise_std=pl.col(DIFF).median() / (_MAD_NORMAL * math.sqrt(2)),
        drift_ratio=drift,
        pass_rate=1.0 - pl.col("flag_any").mean(),
    )
