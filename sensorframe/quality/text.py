"""Issue and recommendation texts of the quality report, as Polars string expressions."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from sensorframe.quality.config import Ladder, QualityConfig

__all__ = ["issue_exprs", "recommendation_exprs"]


def _ladder(ladder: Ladder) -> str:
    return "/".join("-" if t is None else f"{float(t)}" for t in ladder)


def _duration(td: timedelta) -> str:
    return pl.select(pl.lit(td).dt.to_string("polars")).item()


def _when(condition: pl.Expr, template: str, *args: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(pl.format(template, *args))


def issue_exprs(cfg: QualityConfig) -> list[pl.Expr]:
    """One String expression per issue, null where the sensor does not have it."""
    c = pl.col
    all_missing = c("missing_count") == c("rows")
    if cfg.outlier_method == "zscore":
        rule = f"|z| > {cfg.outlier_z} (population std)"
    else:
        rule = f"modified z = 0.6745*|x - median|/MAD > {cfg.mad_threshold}"
    if cfg.expected_interval is not None:
        usual = pl.lit(f"the expected interval ({_duration(cfg.expected_interval)})")
    else:
        usual = pl.format("the median step ({})", c("median_step").dt.to_string("polars"))
    return [
        _when(all_missing, "missing: all {} readings are missing", c("rows")),
        _when(
            ~all_missing & (c("missing_count") > 0),
            "missing: {} of {} readings ({}%); grade thresholds "
            f"{_ladder(cfg.status.missing_pct)}%",
            c("missing_count"),
            c("rows"),
            c("missing_pct").round(2),
        ),
        _when(
            c("outlier_count") > 0,
            f"outliers: {{}} readings ({{}}% of non-missing) with {rule}; "
            f"grade thresholds {_ladder(cfg.status.outlier_pct)}%",
            c("outlier_count"),
            c("outlier_pct").round(2),
        ),
        _when(
            c("flat_points") > 0,
            "flat-line: {} readings ({}% of non-missing) in {} run(s), longest {}, "
            f"changing by less than {cfg.flatline_tolerance} for >= "
            f"{cfg.flatline_min_length} readings",
            c("flat_points"),
            c("flat_pct").round(2),
            c("flat_runs"),
            c("longest_flat_run"),
        ),
        _when(
            c("gap_count") > 0,
            f"gaps: {{}} step(s) longer than {cfg.gap_factor} x {{}}, largest {{}}",
            c("gap_count"),
            usual,
            c("largest_gap").dt.to_string("polars"),
        ),
        _when(
            c("duplicate_timestamps") > 0,
            "duplicates: {} reading(s) repeat an earlier timestamp",
            c("duplicate_timestamps"),
        ),
        _when(
            c("out_of_order") > 0,
            "out of order: {} reading(s) earlier than the one before them in the input",
            c("out_of_order"),
        ),
        _when(
            c("drift_flag"),
            "drift: the second-half mean is {} first-half standard deviations from the "
            f"first-half mean (threshold {cfg.drift_threshold})",
            c("drift_ratio").round(2),
        ),
    ]


def recommendation_exprs(cfg: QualityConfig) -> list[pl.Expr]:
    """One String expression per recommendation, null where it does not apply."""
    c = pl.col
    all_missing = c("missing_count") == c("rows")
    ignore = (
        f" (already ignoring {list(cfg.flatline_ignore)})"
        if cfg.flatline_ignore
        else " or, if it rests at a value, add that to flatline_ignore"
    )
    return [
        _when(
            all_missing,
            "check the sensor and its data link: none of its {} readings has a value",
            c("rows"),
        ),
        _when(
            ~all_missing & (c("missing_count") > 0),
            "fill or drop the {} missing readings (flag_missing marks them)",
            c("missing_count"),
        ),
        _when(
            c("outlier_count") > 0,
            "inspect the {} outliers; mask them with flag_outlier or clip before training",
            c("outlier_count"),
        ),
        _when(
            c("flat_points") > 0,
            "check for a stuck sensor around the {} flat-line run(s); mask them with "
            f"flag_flatline{ignore}",
            c("flat_runs"),
        ),
        _when(
            c("gap_count") > 0,
            "check the data link around the {} gap(s) (largest {}); resample or mark them "
            "before windowed features",
            c("gap_count"),
            c("largest_gap").dt.to_string("polars"),
        ),
        _when(
            c("duplicate_timestamps") > 0,
            "deduplicate the {} repeated timestamp(s), e.g. keep the last reading of each",
            c("duplicate_timestamps"),
        ),
        _when(
            c("out_of_order") > 0,
            "sort by timestamp before use: the input has {} reading(s) out of order",
            c("out_of_order"),
        ),
        _when(
            c("drift_flag"),
            "recalibrate the sensor or retrain on recent data: its level moved by {} "
            "first-half standard deviations",
            c("drift_ratio").round(2),
        ),
    ]
