"""
The query behind :func:`assess_quality` and :func:`flag_quality`, for all sensors at once.

The public checks are per-series expressions meant for ``.over("sensor_id")``; each is
written once as a private core (see :mod:`sensorframe.quality.checks`) that takes its
neighbours and statistics as expressions. A window expression costs a group-by and a
scatter for each check, so here the cores run on the whole column of the frame sorted
by (sensor, time): neighbours are shifts masked at sensor boundaries (the run lengths
number the sensors), and one ``group_by`` gives the per-sensor statistics the flags need
(centre, scale, usual step), broadcast back to the rows with the per-sensor settings
(:class:`~sensorframe.quality.per_sensor.Settings`). The noise level is the public
aggregate expression in that same ``group_by``. The sums behind the z-score centre and
scale and the drift ratio's half means are NumPy segment reductions over each sensor's
rows (:mod:`sensorframe._exact`), and the time lost to gaps is an integer sum, so a
sensor's numbers do not depend on the other sensors in the frame (a batch of sensors
gives the whole fleet's numbers bit for bit). Sorted input (the usual case) is
never sorted again; unsorted input is sorted on one integer key
(:mod:`sensorframe._order`). The two exact medians per sensor behind the noise level are
the largest single cost. The tests check the report, the flags and the public
expressions against the same NumPy reference.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from sensorframe._exact import segment_moments
from sensorframe._order import in_order, sensor_numbers, sensor_runs, sort_frame
from sensorframe.frame import SENSOR, TIME, VALUE
from sensorframe.quality.checks import (
    _chain_bounds,
    _drift,
    _finite,
    _flat_links,
    _flat_ok,
    _gap_core,
    _mad_stats,
    _outlier_core,
    _usual,
    noise_level,
)
from sensorframe.quality.config import RUNNABLE, QualityConfig
from sensorframe.quality.contextual import hampel_outlier
from sensorframe.quality.limits import (
    FAIL,
    MISSING,
    NOT_EVALUATED,
    PASS,
    SUSPECT,
    _gross_range_core,
    _local_noise,
    _spike_jumps,
    _spike_scale,
    default_floor,
    finite,
)
from sensorframe.quality.overflow import refuse_overflow, span
from sensorframe.quality.per_sensor import Settings
from sensorframe.quality.shape import (
    TREND_DTYPE,
    _interpolated_core,
    _line_links,
    _with_level_shift,
    trend,
)

__all__ = ["CHECKS", "FLAGS", "flag_rows", "sensor_table"]

CHECKS = RUNNABLE[:-1]
"""The row checks, in the order of the ``flag_<check>`` columns."""
FLAGS = [f"flag_{c}" for c in CHECKS]

OOO = "__sf_out_of_order"
GID = "__sf_gid"
STEP = "__sf_step_us"
FINITE = "__sf_finite"
SPAN = "__sf_span"
LINKED = "__sf_linked"
FLAT_LEN = "__sf_flat_len"
FLAT_DUR = "__sf_flat_us"
FLAT_NEW = "__sf_flat_new"
RANGE = "__sf_range"
SPIKE_U = "__sf_spike_u"
LEVEL = "__sf_level_shift"
LINE = "__sf_line"
TREND = "__sf_trend"
CENTER = "__sf_center"
SCALE = "__sf_scale"
USUAL = "__sf_usual"
CHAIN = "__sf_chain"
ROWS = "__sf_rows"
T_FIRST = "__sf_t_first"
T_LAST = "__sf_t_last"
MAX_STUCK = "__sf_max_stuck_us"
_ROW_STATS = (CENTER, SCALE, USUAL)
_US = timedelta(microseconds=1)


def _in_canonical_order(df: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """
    Sort by (sensor, time) unless in that order; number the sensors (:data:`GID`).

    Steps back in input order (:data:`OOO`, per sensor, as
    :func:`sensorframe.quality.out_of_order` defines them) are counted first: all
    false for rows in order, which are not sorted again (see
    :func:`sensorframe._order.in_order`). Otherwise the rows are sorted on the packed
    (sensor, time) key (:func:`sensorframe._order.sort_frame`), about three times
    faster than on the string and timestamp columns, which are sorted instead only if
    the key could overflow or a sensor or time is null (``scan(validate=False)``).
    Returns the rows and each sensor's row count.
    """
    lengths = in_order(df)
    if lengths is None:
        df = sort_frame(df, steps_back=OOO)
        lengths = sensor_runs(df.get_column(SENSOR))[1]
    else:
        df = df.with_columns(pl.lit(value=False).alias(OOO))
    return df.with_columns(sensor_numbers(lengths, GID)), lengths


def _ok_for_flat(cfg: QualityConfig, settings: Settings) -> pl.Expr:
    """Select readings that may belong to a flat-line: finite and not an ignored value."""
    return _flat_ok(
        pl.col(VALUE),
        tolerance=cfg.flatline_tolerance,
        ignore=settings.ignored(),
        finite=pl.col(FINITE),
    )


def _near(column: pl.Expr, k: int) -> pl.Expr:
    """Shift by `k` rows (``k > 0``: from before) within each sensor; null across sensors."""
    g = pl.col(GID)
    return pl.when(g.shift(k) == g).then(column.shift(k))


def _rows(df: pl.DataFrame, cfg: QualityConfig, settings: Settings) -> pl.LazyFrame:
    """Add finiteness, step, flat links and the neighbour terms of the shape checks."""
    x = pl.col(VALUE)
    ok = _ok_for_flat(cfg, settings)
    fx = finite(x)
    extra = []
    if "spike" in cfg.checks:
        extra.append(_spike_scale(fx, _near(fx, 1), _near(fx, -1)).alias(SPIKE_U))
    if "interpolated" in cfg.checks:
        links = _line_links(fx, _near(fx, 1), _near(fx, 2), cfg.interpolation_tolerance)
        extra.append(links.alias(LINE))
    return (
        df.lazy()
        .with_columns(_finite(x).alias(FINITE))
        .with_columns(
            (pl.col(TIME) - _near(pl.col(TIME), 1)).dt.total_microseconds().alias(STEP),
            _flat_links(x, _near(x, 1), ok, ok.shift(1), tolerance=cfg.flatline_tolerance).alias(
                LINKED
            ),
            *extra,
        )
    )


def _row_stats(cfg: QualityConfig) -> list[pl.Expr]:
    """
    Per-sensor aggregates the row flags need: centre and scale of values, usual step.

    The z-score method's centre and scale are only placeholders here: sums in a
    ``group_by`` depend on the other groups, so :func:`_exact_stats` replaces them.
    """
    x, step = pl.col(VALUE), pl.col(STEP)
    none = pl.lit(None, dtype=pl.Float64)
    stats = (none, none) if cfg.outlier_method == "zscore" else _mad_stats(x)
    return [
        stats[0].cast(pl.Float64).alias(CENTER),
        stats[1].cast(pl.Float64).alias(SCALE),
        _usual(step).cast(pl.Float64).alias(USUAL),
        pl.col(TIME).min().alias(T_FIRST),
        pl.col(TIME).max().alias(T_LAST),
    ]


def _outlier(cfg: QualityConfig, settings: Settings) -> pl.Expr:
    """Flag outliers by the configured method (the rolling one per sensor)."""
    x = pl.col(VALUE)
    if cfg.outlier_method != "hampel":
        mad = cfg.outlier_method == "mad"
        threshold = settings.expr("mad_threshold" if mad else "outlier_z")
        return _outlier_core(x, pl.col(CENTER), pl.col(SCALE), threshold, mad=mad)
    return hampel_outlier(
        x,
        window=cfg.outlier_window,
        threshold=settings.expr("mad_threshold"),
        center=cfg.outlier_center,
        by=TIME,
    ).over(GID)


def _spike(cfg: QualityConfig, settings: Settings) -> pl.Expr:
    """Flag spikes: beyond the sensor's threshold, or a multiple of the local noise."""
    x = finite(pl.col(VALUE))
    limit = settings.expr("spike_threshold")
    if settings.column("spike_threshold").null_count():
        # the public spike's noise scale, floored at 1% of the sensor's range
        noise = _local_noise(pl.col(SPIKE_U), cfg.spike_window, floor=default_floor(x)).over(GID)
        limit = pl.coalesce(limit, cfg.spike_noise_factor * noise)
    return _spike_jumps(x, _near(x, 1), _near(x, -1), limit)


def _flags(
    rows: pl.LazyFrame, cfg: QualityConfig, settings: Settings, *, qartod: bool
) -> pl.LazyFrame:
    """
    Add the flag columns to rows that carry their sensor's :func:`_row_stats`, chains.

    With `qartod`, also the QARTOD code of each row (``flag_quality`` shows it; the
    report does not need it).
    """
    x, step, finite, linked = pl.col(VALUE), pl.col(STEP), pl.col(FINITE), pl.col(LINKED)
    run = cfg.checks
    flat = pl.col(FLAT_LEN) >= cfg.flatline_min_length
    stuck = flat & (pl.col(FLAT_DUR) > settings.expr("max_stuck").dt.total_microseconds())
    code = pl.col(RANGE)
    fails = [code == FAIL, stuck]
    suspects = [pl.col(f) for f in FLAGS if f not in ("flag_missing", "flag_range")]
    suspects.append(code == SUSPECT)
    code_of_row = (
        pl.when(pl.any_horizontal(fails))
        .then(pl.lit(FAIL, dtype=pl.Int8))
        .when(pl.any_horizontal(suspects))
        .then(pl.lit(SUSPECT, dtype=pl.Int8))
        .when(~finite)
        .then(pl.lit(MISSING, dtype=pl.Int8))
        .otherwise(pl.lit(PASS, dtype=pl.Int8))
    )
    names = ("valid_min", "valid_max", "suspect_min", "suspect_max")
    bounds = [settings.expr(n) for n in names]
    bounded = any(settings.overridden(n) or getattr(cfg, n) is not None for n in names)
    checks = {
        "outlier": lambda: _outlier(cfg, settings),
        "gap": lambda: _gap_core(step, pl.col(USUAL), cfg.gap_factor),
        "duplicate": lambda: step == 0,
        "out_of_order": lambda: pl.col(OOO),
        "spike": lambda: _spike(cfg, settings),
        "interpolated": lambda: _interpolated_core(pl.col(LINE), cfg.interpolation_min_length),
        "level_shift": lambda: pl.col(LEVEL),
    }
    if "level_shift" in run:  # staged: each block mean once (the public check's cores)
        rows = _with_level_shift(
            rows,
            x,
            window=cfg.level_shift_window,
            threshold=pl.lit(cfg.level_shift_threshold),
            partition_by=GID,
            name=LEVEL,
        )
    no = pl.lit(value=False)
    flat_len = pl.when(_ok_for_flat(cfg, settings)).then(pl.col(CHAIN)).otherwise(0)
    not_run = pl.lit(NOT_EVALUATED, dtype=pl.Int8)  # no bound: no range flag
    return (
        rows.with_columns(
            (~finite).alias("flag_missing"),
            *(
                (check().fill_null(value=False) if name in run else no).alias(f"flag_{name}")
                for name, check in checks.items()
            ),
            (flat_len if "flatline" in run else pl.lit(0, dtype=pl.Int64)).alias(FLAT_LEN),
            (
                _gross_range_core(x, *bounds)
                if "range" in run and bounded
                else pl.when(finite).then(not_run).otherwise(pl.lit(MISSING, dtype=pl.Int8))
            ).alias(RANGE),
        )
        .with_columns(
            flat.alias("flag_flatline"),
            (flat & ~linked).alias(FLAT_NEW),
            code.is_in([SUSPECT, FAIL]).alias("flag_range"),
        )
        .with_columns(
            pl.any_horizontal(FLAGS).alias("flag_any"),
            *([code_of_row.alias("qartod")] if qartod else []),
        )
        .drop(FINITE, LINKED, CHAIN, CENTER, SCALE, SPIKE_U, LINE, LEVEL, strict=False)
    )


def _broadcast(stats: pl.DataFrame, rows: pl.DataFrame, names: tuple[str, ...]) -> list[pl.Series]:
    """
    Repeat each sensor's statistics over its rows (sorted by sensor, ``stats`` by GID).

    ``np.repeat`` over the run lengths is about twice as fast as a gather on the
    sensor number; a column with nulls takes the gather, which keeps them null.
    """
    lengths = stats.get_column(ROWS).to_numpy()
    return [
        pl.Series(c, np.repeat(col.to_numpy(), lengths))
        if col.null_count() == 0
        else col.gather(rows.get_column(GID))
        for c in names
        for col in [stats.get_column(c)]
    ]


def _chains(rows: pl.DataFrame) -> list[pl.Series]:
    """
    Length and duration (us) of the chain of linked readings each row is in.

    A reading on its own is a chain of 1 and 0 us. Linked rows are rare (flat
    stretches), so the chain bounds (:func:`~sensorframe.quality.checks._chain_bounds`,
    the core of the public flat-line check) are found among the rows that are in a
    chain of two or more only (each such chain stays whole there), then scattered back.
    """
    n = rows.height
    linked = rows.get_column(LINKED).to_numpy()
    in_chain = linked.copy()
    in_chain[:-1] |= linked[1:]
    at = np.flatnonzero(in_chain)
    chain = np.ones(n, dtype=np.int64)
    micros = np.zeros(n, dtype=np.int64)
    if at.size:
        start, end = _chain_bounds(pl.col(LINKED))
        t = pl.col(TIME).dt.epoch("us")
        sub = rows.select(LINKED, TIME)[at].select(
            (end - start + 1).alias("n"), (t.gather(end) - t.gather(start)).alias("us")
        )
        chain[at] = sub.get_column("n").to_numpy()
        micros[at] = sub.get_column("us").to_numpy()
    return [pl.Series(CHAIN, chain), pl.Series(FLAT_DUR, micros)]


def flag_rows(
    lf: pl.LazyFrame, cfg: QualityConfig, *, table: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """
    Sort the canonical rows and add the flag and helper columns, eagerly.

    Telemetry usually arrives sorted, so the rows are sorted only if they are not in
    (sensor, time) order already (:func:`_in_canonical_order`). The per-sensor settings
    are joined onto the sensors and broadcast to the rows first. One ``group_by`` gives
    the per-sensor statistics the flags need (and, with ``table``, ``median_step``,
    ``noise_std`` and ``drift_ratio`` for :func:`sensor_table`), the sums among them
    from NumPy (:func:`_exact_stats`); they are broadcast to the rows by
    :func:`_broadcast`, not a join.

    Without ``table`` (for :func:`~sensorframe.quality.flag_quality`) the rows also
    get their ``qartod`` code. Returns the flagged rows (helpers ``__sf_*`` included)
    and the statistics, one row per sensor in sensor order (with its row count
    ``__sf_rows``).
    """
    df, lengths = _in_canonical_order(lf.collect())
    sensors = df.get_column(SENSOR).gather(np.cumsum(lengths) - lengths)
    settings = Settings.build(cfg.per_sensor, sensors, cfg.defaults())
    df = df.with_columns(settings.broadcast(lengths, df.get_column(GID)))
    rows = _rows(df, cfg, settings).collect()
    extra_stats = [noise_level(VALUE).alias("noise_std")] if table else []
    stats = (
        rows.lazy()
        .group_by(GID)
        .agg(*_row_stats(cfg), *extra_stats, pl.len().alias(ROWS), span(pl.col(VALUE)).alias(SPAN))
        .sort(GID)
        .collect()
        .with_columns(_exact_stats(rows, lengths, cfg, table=table))
    )
    refuse_overflow(
        sensors,
        stats.get_column(CENTER),
        stats.get_column(SCALE),
        spans=stats.get_column(SPAN),
        what="quality checks",
    )
    expected = settings.column("expected_interval").dt.total_microseconds().cast(pl.Float64)
    if table:
        # after the overflow check: the fit would overflow on readings it refuses
        fit = (
            rows.lazy().group_by(GID).agg(trend(VALUE, TIME).alias(TREND)).sort(GID).collect()
            if "trend" in cfg.checks
            else pl.DataFrame({TREND: pl.repeat(None, stats.height, dtype=TREND_DTYPE, eager=True)})
        )
        stats = (
            stats.with_columns(fit.get_column(TREND))
            .with_columns(
                pl.col(TREND).struct.field("slope_per_day").alias("trend_per_day"),
                pl.col(TREND).struct.field("pvalue").alias("trend_pvalue"),
            )
            .drop(TREND)
        )
    stats = stats.drop(SPAN).with_columns(
        pl.col(USUAL).cast(pl.Int64).cast(pl.Duration("us")).alias("median_step"),
        pl.coalesce(expected, pl.col(USUAL)).alias(USUAL),
        settings.column("max_stuck").dt.total_microseconds().alias(MAX_STUCK),
    )
    rows = rows.with_columns(*_broadcast(stats, rows, _ROW_STATS), *_chains(rows))
    flagged = _flags(rows.lazy(), cfg, settings, qartod=not table)
    return flagged.collect(), stats.drop(CENTER, SCALE)


def _exact_stats(
    rows: pl.DataFrame, lengths: np.ndarray, cfg: QualityConfig, *, table: bool
) -> list[pl.Series]:
    """
    Compute the per-sensor statistics that are sums, from each sensor's own rows.

    The z-score centre and scale (mean, population std of the finite readings) and,
    with `table`, the drift ratio: the first half is the first ``n // 2`` of the
    ``n`` finite readings (see :func:`~sensorframe.quality.drift_ratio`). NumPy
    segment moments (:func:`sensorframe._exact.segment_moments`) over the rows laid
    out by sensor, so a sensor's numbers do not depend on the others in the frame.
    """
    x = rows.get_column(VALUE).cast(pl.Float64).to_numpy()
    m = segment_moments(x, lengths)
    out = []
    if cfg.outlier_method == "zscore":
        out += [
            pl.Series(CENTER, m.mean, nan_to_null=True),
            pl.Series(SCALE, m.std, nan_to_null=True),
        ]
    if table:
        first = m.n // 2
        h = segment_moments(x[np.isfinite(x)], np.column_stack([first, m.n - first]).ravel())
        halves = pl.DataFrame({"a": h.mean[0::2], "b": h.mean[1::2], "s": h.std[0::2], "n": first})
        ratio = _drift(pl.col("a"), pl.col("b"), pl.col("s"), pl.col("n"))
        out.append(halves.select(ratio.alias("drift_ratio")).to_series())
    return out


def sensor_table(flagged: pl.DataFrame, stats: pl.DataFrame) -> pl.LazyFrame:
    """
    Aggregate the flagged rows into one row of numbers per sensor (no status/text).

    Flags are rare, so each count is taken over the rows that carry the flag (a
    filter on the flag's bitmap, then a small ``group_by``), not as a sum of a boolean
    column over every row: about 3 ms per count instead of 15-20 ms on 10 M rows.
    The noise level and the drift ratio come with `stats` (:func:`flag_rows`).
    """
    rows = flagged.lazy()

    def over_flagged(flag: str, *aggs: pl.Expr) -> pl.LazyFrame:
        return rows.filter(flag).group_by(GID).agg(*aggs)

    counts = {
        "missing_count": "flag_missing",
        "outlier_count": "flag_outlier",
        "flat_points": "flag_flatline",
        "gap_count": "flag_gap",
        "duplicate_timestamps": "flag_duplicate",
        "flat_runs": FLAT_NEW,
        "out_of_order": "flag_out_of_order",
        "spike_count": "flag_spike",
        "interpolated_points": "flag_interpolated",
        "level_shifts": "flag_level_shift",
        "__sf_failing": "flag_any",
    }
    longest = pl.col(FLAT_DUR).arg_max()
    parts = [over_flagged(flag, pl.len().alias(name)) for name, flag in counts.items()]
    parts += [
        over_flagged(
            "flag_flatline",
            pl.col(FLAT_LEN).max().alias("longest_flat_run"),
            pl.col(FLAT_DUR).max().cast(pl.Duration("us")).alias("longest_flat_duration"),
            pl.col(VALUE).get(longest).alias("longest_flat_value"),
            pl.col(TIME).get(longest).alias("longest_flat_start"),
        ),
        over_flagged(
            "flag_gap",
            pl.col(STEP).max().cast(pl.Duration("us")).alias("largest_gap"),
            pl.col(STEP).sum().alias("__sf_gap_steps"),
        ),
        over_flagged(
            "flag_range",
            (pl.col(RANGE) == FAIL).sum().alias("range_failures"),
            (pl.col(RANGE) == SUSPECT).sum().alias("range_suspects"),
        ),
    ]
    n = stats.get_column(ROWS)
    table = stats.lazy().with_columns(
        flagged.get_column(SENSOR).gather(n.cum_sum() - n), n.cast(pl.Int64).alias("rows")
    )
    for part in pl.collect_all(parts, engine="in-memory"):
        table = table.join(part.lazy(), on=GID, how="left", maintain_order="left")
    integers = [*counts, "longest_flat_run", "range_failures", "range_suspects"]
    numbers = table.with_columns(pl.col(integers).fill_null(0).cast(pl.Int64)).collect()
    return (
        numbers.lazy()
        .with_columns(
            *_shares(numbers),
            stuck=(
                pl.col("longest_flat_duration").dt.total_microseconds() > pl.col(MAX_STUCK)
            ).fill_null(value=False),
            expected_interval=pl.col(USUAL).cast(pl.Int64).cast(pl.Duration("us")),
        )
        .drop("__sf_failing", "__sf_gap_steps", ROWS, USUAL, T_FIRST, T_LAST, MAX_STUCK)
    )


def _shares(table: pl.DataFrame) -> list[pl.Series]:
    """
    ``pass_rate`` and ``gap_time_pct`` of the sensor table, in NumPy.

    Polars may divide a column by one it holds as a repeated scalar (sensors of equal
    span, say) as a multiplication by the reciprocal, so the last bit of a ratio would
    depend on the other sensors in the table; NumPy divides. The time lost to gaps is
    the gaps' steps (an exact integer sum) less a usual step for each gap.
    """
    rows = table.get_column("rows").to_numpy()
    failing = table.get_column("__sf_failing").to_numpy()
    span = (table.get_column(T_LAST) - table.get_column(T_FIRST)).dt.total_microseconds()
    us = span.to_numpy()
    steps = table.get_column("__sf_gap_steps").fill_null(0).to_numpy()
    lost = steps - table.get_column("gap_count").to_numpy() * table.get_column(USUAL).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        gap_pct = np.where(us > 0, 100.0 * lost / us, 0.0)
    return [pl.Series("pass_rate", 1.0 - failing / rows), pl.Series("gap_time_pct", gap_pct)]
