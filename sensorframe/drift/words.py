"""
What changed, in words: the ``change`` column and the recommendations of a drift report.

``change`` names each effect that reached LOW, with its size and the current window's
first timestamp: ``"mean +0.8 sd, spread x1.4 since 2026-03-02"`` (mean in reference
standard deviations, signed; spread as the ratio of standard deviations; ``shape`` with
the PSI when only the binned distribution moved). A sensor fault says what is wrong with
the current window instead: ``"flat at 3.0 since ..."`` or ``"62% of readings missing
since ..."``.
"""

from __future__ import annotations

import polars as pl

from sensorframe.drift.config import DriftConfig, DriftSeverity

__all__ = ["change_text", "recommendations"]

MEAN_DELTA = "__sf_mean_delta"
"""Temporary table column: the signed mean change in reference standard deviations."""
MEAN_LEVEL = "__sf_mean_level"
SPREAD_LEVEL = "__sf_spread_level"
CUR_FLAT_AT = "__sf_flat_at"
CUR_MISSING = "__sf_cur_missing"
SINCE = "__sf_since"
TEMPORARY = (MEAN_DELTA, MEAN_LEVEL, SPREAD_LEVEL, CUR_FLAT_AT, CUR_MISSING, SINCE)
"""Columns the detector adds for the words and drops afterwards."""


def _number(expr: pl.Expr, digits: int) -> pl.Expr:
    return expr.round(digits).cast(pl.String)


def _since() -> pl.Expr:
    at = pl.col(SINCE)
    midnight = at.dt.truncate("1d") == at
    text = pl.when(midnight).then(at.dt.strftime("%Y-%m-%d"))
    return pl.concat_str(pl.lit(" since "), text.otherwise(at.dt.strftime("%Y-%m-%d %H:%M")))


def change_text() -> pl.Expr:
    """Build the ``change`` column (null where nothing reached LOW on a healthy sensor)."""
    delta = pl.col(MEAN_DELTA)
    sign = pl.when(delta >= 0).then(pl.lit("+")).otherwise(pl.lit(""))
    mean = pl.concat_str(pl.lit("mean "), sign, _number(delta, 2), pl.lit(" sd"))
    spread = pl.concat_str(pl.lit("spread x"), _number(pl.col("std_ratio"), 2))
    shape = pl.concat_str(pl.lit("shape (PSI "), _number(pl.col("psi"), 3), pl.lit(")"))
    moved = pl.col(MEAN_LEVEL) >= 1
    widened = pl.col(SPREAD_LEVEL) >= 1
    parts = pl.concat_list(
        pl.when(moved).then(mean),
        pl.when(widened).then(spread),
        pl.when(~moved & ~widened).then(shape),
    ).list.drop_nulls()
    drifted = pl.concat_str(parts.list.join(", "), _since())
    flat = pl.concat_str(pl.lit("flat at "), _number(pl.col(CUR_FLAT_AT), 6), _since())
    missing = pl.concat_str(
        _number(pl.col(CUR_MISSING) * 100, 0).str.replace(r"\.0$", ""),
        pl.lit("% of readings missing"),
        _since(),
    )
    fault = pl.col("status") == "sensor_fault"
    return (
        pl.when(fault & pl.col(CUR_FLAT_AT).is_not_null())
        .then(flat)
        .when(fault)
        .then(missing)
        .when(pl.col("severity") > DriftSeverity.NONE.value)
        .then(drifted)
        .alias("change")
    )


def recommendations(config: DriftConfig) -> pl.Expr:
    """
    Build the recommendations from status, severity and drift type (one text a rule).

    Retraining is only advised from HIGH on: an effect below MODERATE is watched.
    """
    status = pl.col("status")
    sev = pl.col("severity")
    S = DriftSeverity
    det = pl.col("drift_detected").fill_null(value=False)
    types = pl.col("drift_types")
    change = pl.col("change")

    def said(text: str) -> pl.Expr:
        return pl.concat_str(pl.lit(f"{text}: "), change)

    rules = [
        (
            status == "insufficient_data",
            pl.lit(f"collect at least {config.min_readings} finite readings in both windows"),
        ),
        (status == "all_missing", pl.lit("no finite readings in one window: check the data feed")),
        (status == "no_reference", pl.lit("sensor has no reference profile: refit the detector")),
        (status == "constant", pl.lit("reference readings are constant: check the sensor")),
        (
            status == "sensor_fault",
            said("sensor fault, not drift: check the sensor and its data feed"),
        ),
        (det & (sev == S.CRITICAL), said("retrain or recalibrate, the distribution changed a lot")),
        (det & (sev == S.HIGH), said("investigate the sensor and plan retraining")),
        (det & (sev == S.MODERATE), said("investigate the sensor")),
        (det & (sev == S.LOW), said("monitor closely, small but significant drift")),
        (
            types.list.contains("concept_drift"),
            pl.lit("the value-target relation changed: retrain"),
        ),
        (
            (pl.col("missing_rate_change") > 0.05) & (status != "sensor_fault"),
            pl.lit("missing-value rate rose: check the data feed"),
        ),
    ]
    return (
        pl.concat_list(pl.when(cond.fill_null(value=False)).then(text) for cond, text in rules)
        .list.drop_nulls()
        .alias("recommendations")
    )
