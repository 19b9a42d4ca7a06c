"""
Issue and recommendation texts of the quality report, as Polars string expressions.

Each text is one expression over the sensor table (null where the sensor does not have
that issue), so every sensor's texts come out of one ``with_columns``. The texts state
the evidence (value, duration, start, share) and echo the thresholds behind it; a trend
is information and never a reason to recalibrate.
"""

from __future__ import annotations

import polars as pl
from polars import col as c

from sensorframe.quality.config import QualityConfig
from sensorframe.quality.status import Ladder

__all__ = ["human_duration", "issue_exprs", "recommendation_exprs"]

_UNITS = (("day", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def _ladder(ladder: Ladder) -> str:
    return "/".join("-" if t is None else f"{float(t)}" for t in ladder)


def _when(
    condition: pl.Expr, template: str, *args: pl.Expr, more: pl.Expr | None = None
) -> pl.Expr:
    """Return the text where ``condition`` holds; ``more`` (dropped where null) ends it."""
    text = pl.format(template, *args)
    if more is not None:
        text = pl.concat_str(text, more, ignore_nulls=True)
    return pl.when(condition).then(text)


def _unit(n: pl.Expr, unit: str) -> pl.Expr:
    """``"1 day"``, ``"3 days"``, ``"8 h"``: plural only for days."""
    if unit != "day":
        return pl.format(f"{{}} {unit}", n)
    return pl.format("{} {}", n, pl.when(n == 1).then(pl.lit("day")).otherwise(pl.lit("days")))


def human_duration(duration: pl.Expr) -> pl.Expr:
    """
    Render a Duration as its two largest units: ``"352 days"``, ``"1 day 8 h"``, ``"5 min"``.

    Below a second: milliseconds to three significant figures (``"250.0 ms"``); the
    remainder below the second unit is dropped (``1 day 8 h 5 min`` is ``"1 day 8 h"``).

    Examples
    --------
    >>> from datetime import timedelta
    >>> from sensorframe.quality.text import human_duration
    >>> d = pl.Series([timedelta(days=1, hours=8, minutes=5), timedelta(days=352),
    ...                timedelta(minutes=5), timedelta(seconds=0.25), None])
    >>> pl.select(human_duration(pl.lit(d))).to_series().to_list()
    ['1 day 8 h', '352 days', '5 min', '250.0 ms', None]
    """
    us = duration.dt.total_microseconds()
    seconds = us // 1_000_000
    text = (
        pl.when(seconds >= 1)
        .then(_unit(seconds, "s"))
        .otherwise(pl.format("{} ms", (us / 1e3).round_sig_figs(3)))
    )
    for k, (unit, size) in reversed(list(enumerate(_UNITS[:-1]))):
        next_unit, next_size = _UNITS[k + 1]
        whole = seconds // size
        rest = (seconds % size) // next_size
        both = pl.format("{} {}", _unit(whole, unit), _unit(rest, next_unit))
        text = (
            pl.when(seconds >= size)
            .then(pl.when(rest == 0).then(_unit(whole, unit)).otherwise(both))
            .otherwise(text)
        )
    return text


def _since(start: pl.Expr, duration: pl.Expr) -> pl.Expr:
    """Format the start as a date, or to the minute for a stretch shorter than a day."""
    day = duration >= pl.duration(days=1)
    return (
        pl.when(day)
        .then(start.dt.strftime("%Y-%m-%d"))
        .otherwise(start.dt.strftime("%Y-%m-%d %H:%M"))
    )


def _number(x: pl.Expr) -> pl.Expr:
    return x.round_sig_figs(4)


def _signed(x: pl.Expr, digits: int = 4) -> pl.Expr:
    sign = pl.when(x > 0).then(pl.lit("+")).otherwise(pl.lit(""))
    return pl.format("{}{}", sign, x.round_sig_figs(digits))


def _trend() -> tuple[pl.Expr, pl.Expr]:
    """
    Whether to mention the trend, and its text: per hour, day or year by record length.

    Two significant figures. Mentioned when ``trend_pvalue < 0.01`` and the change over
    the record (slope times ``rows * expected_interval``) is larger than the noise level
    ``noise_std``: a trend smaller than the noise is not worth a line.
    """
    days = c("rows") * c("expected_interval").dt.total_microseconds() / 86_400e6
    slope = c("trend_per_day")
    show = (c("trend_pvalue") < 0.01) & ((slope * days).abs() > c("noise_std").fill_null(0.0))
    text = (
        pl.when(days >= 365)
        .then(pl.format("{} per year", _signed(slope * 365.25, 2)))
        .when(days >= 1)
        .then(pl.format("{} per day", _signed(slope, 2)))
        .otherwise(pl.format("{} per hour", _signed(slope / 24, 2)))
    )
    return show.fill_null(value=False), text


def issue_exprs(cfg: QualityConfig) -> list[pl.Expr]:
    """One String expression per issue, null where the sensor does not have it."""
    ladders = cfg.status
    all_missing = c("missing_count") == c("rows")
    if cfg.outlier_method == "zscore":
        rule = f"|z| > {cfg.outlier_z} (population std)"
    elif cfg.outlier_method == "mad":
        rule = f"modified z = 0.6745*|x - median|/MAD > {cfg.mad_threshold}"
    else:
        window = cfg.outlier_window
        span = (
            f"{window} readings"
            if isinstance(window, int)
            else pl.select(human_duration(pl.lit(window))).item()
        )
        rule = (
            f"|x - rolling median| > {cfg.mad_threshold} x the local scale "
            f"(Hampel, over {span}{', centred' if cfg.outlier_center else ', trailing'})"
        )
    flat_for = human_duration(c("longest_flat_duration"))
    since = _since(c("longest_flat_start"), c("longest_flat_duration"))
    show_trend, trend = _trend()
    drift = (
        []
        if ladders.drift is None
        else [
            _when(
                c("drift_flag"),
                "drift: the second-half mean is {} first-half standard deviations from "
                f"the first-half mean (threshold {cfg.drift_threshold})",
                c("drift_ratio").round(2),
            )
        ]
    )
    return [
        _when(all_missing, "missing: all {} readings are missing", c("rows")),
        _when(
            c("stuck"),
            "stuck: flat at {} for {} since {}: the sensor may be {}",
            _number(c("longest_flat_value")),
            flat_for,
            since,
            # a dead sensor reads 0, a frozen one repeats its last reading
            pl.when(c("longest_flat_value") == 0).then(pl.lit("dead")).otherwise(pl.lit("frozen")),
        ),
        _when(
            ~all_missing & (c("missing_count") > 0),
            "missing: {} of {} readings ({}%); grade thresholds "
            f"{_ladder(ladders.missing_pct)}%",
            c("missing_count"),
            c("rows"),
            c("missing_pct").round(2),
        ),
        _when(
            c("outlier_count") > 0,
            f"outliers: {{}} reading(s) ({{}}% of non-missing) with {rule}; "
            f"grade thresholds {_ladder(ladders.outlier_pct)}%",
            c("outlier_count"),
            c("outlier_pct").round(2),
        ),
        _when(
            c("flat_points") > 0,
            "flat-line: {} readings ({}% of non-missing) in {} run(s) (steps below "
            f"{cfg.flatline_tolerance} for >= {cfg.flatline_min_length} readings), the "
            "longest {} readings",
            c("flat_points"),
            c("flat_pct").round(2),
            c("flat_runs"),
            c("longest_flat_run"),
            more=pl.format(
                " at {} for {} since {}", _number(c("longest_flat_value")), flat_for, since
            ),
        ),
        _when(
            c("gap_count") > 0,
            f"gaps: {{}} step(s) longer than {cfg.gap_factor} x the expected interval "
            "({}), largest {}",
            c("gap_count"),
            human_duration(c("expected_interval")),
            human_duration(c("largest_gap")),
            more=pl.format(" ({}% of the expected time lost)", c("gap_time_pct").round(2)),
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
            c("range_failures") > 0,
            "range: {} reading(s) ({}%) outside the valid range (QARTOD fail)",
            c("range_failures"),
            c("range_fail_pct").round(2),
        ),
        _when(
            c("range_suspects") > 0,
            "range: {} reading(s) ({}%) in the suspect range (QARTOD suspect)",
            c("range_suspects"),
            c("range_suspect_pct").round(2),
        ),
        _when(
            c("spike_count") > 0,
            "spikes: {} reading(s) ({}% of non-missing) jump away from both neighbours",
            c("spike_count"),
            c("spike_pct").round(2),
        ),
        _when(
            c("interpolated_points") > 0,
            "interpolated: {} reading(s) ({}% of non-missing) lie on straight lines between "
            "other readings, as gap-filled data does",
            c("interpolated_points"),
            c("interpolated_pct").round(2),
        ),
        _when(
            c("level_shifts") > 0,
            "level shift: {} step(s) in level, the largest {} at {}",
            c("level_shifts"),
            _signed(c("largest_shift")),
            c("largest_shift_at").dt.strftime("%Y-%m-%d %H:%M"),
        ),
        _when(show_trend, "trend: {} ({}); information, not graded", trend, _pvalue()),
        *drift,
    ]


def _pvalue() -> pl.Expr:
    p = c("trend_pvalue")
    return pl.when(p < 1e-4).then(pl.lit("p < 0.0001")).otherwise(pl.format("p = {}", p.round(4)))


def recommendation_exprs(cfg: QualityConfig) -> list[pl.Expr]:
    """One String expression per recommendation, null where it does not apply."""
    all_missing = c("missing_count") == c("rows")
    ignore = (
        f" (already ignoring {list(cfg.flatline_ignore)})"
        if cfg.flatline_ignore
        else " or, if it rests at a value, add that to flatline_ignore (per sensor if need be)"
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
            c("stuck"),
            "check whether the sensor is dead or disconnected: it read {} for {} from {}; "
            "drop that stretch (flag_flatline marks it), or, if the sensor rests at that value "
            "(night zeros), add it to this sensor's flatline_ignore",
            _number(c("longest_flat_value")),
            human_duration(c("longest_flat_duration")),
            _since(c("longest_flat_start"), c("longest_flat_duration")),
        ),
        _when(
            ~c("stuck").fill_null(value=False) & (c("flat_points") > 0),
            "check for a stuck sensor around the {} flat-line run(s); mask them with "
            f"flag_flatline{ignore}",
            c("flat_runs"),
        ),
        _when(
            c("gap_count") > 0,
            "check the data link around the {} gap(s) (largest {}); resample or mark them "
            "before windowed features",
            c("gap_count"),
            human_duration(c("largest_gap")),
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
            c("range_failures") > 0,
            "mask the {} reading(s) outside the valid range (flag_range, qartod == 4); "
            "if they are many, check the sensor's range settings and wiring",
            c("range_failures"),
        ),
        _when(
            c("spike_count") > 0,
            "mask the {} spike(s) (flag_spike) before windowed features",
            c("spike_count"),
        ),
        _when(
            c("interpolated_points") > 0,
            "treat the {} interpolated readings as missing (flag_interpolated): they were "
            "filled in, not measured",
            c("interpolated_points"),
        ),
        _when(
            c("level_shifts") > 0,
            "find out what changed at {} (sensor swap, recalibration, relocation); treat the "
            "data before and after as separate regimes or correct the offset",
            c("largest_shift_at").dt.strftime("%Y-%m-%d %H:%M"),
        ),
    ]
