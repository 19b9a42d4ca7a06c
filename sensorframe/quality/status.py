"""
The status ladder: how every check's per-sensor numbers grade a sensor.

:class:`StatusThresholds` holds one ladder per check; :func:`rate_exprs` turns the
counts of the sensor table into the shares the ladders read, :func:`grade_exprs` gives
each check's grade and :func:`status_expr` the worst of them, all as Polars expressions
over the table (one row per sensor), so thousands of sensors are graded in one
``with_columns``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from sensorframe._enums import OrderedStrEnum
from sensorframe.errors import ConfigError

__all__ = [
    "GRADED_CHECKS",
    "Ladder",
    "QualityStatus",
    "StatusThresholds",
    "grade_exprs",
    "is_number",
    "rate_exprs",
    "status_expr",
]


class QualityStatus(OrderedStrEnum):
    """
    Overall grade of a sensor, ordered by severity: EXCELLENT < GOOD < ... < CRITICAL.

    The values are the lowercase names, so a status compares equal to ``"good"``, while
    ``<``, ``>`` and ``max`` compare severity (not alphabetical order). The uppercase
    names of earlier releases still look a status up: ``QualityStatus("GOOD")``.

    Examples
    --------
    >>> S = sf.quality.QualityStatus
    >>> S.GOOD < S.POOR, S.CRITICAL == "critical", max(S.FAIR, S.GOOD), S.POOR.rank
    (True, True, <QualityStatus.FAIR: 'fair'>, 3)
    """

    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    CRITICAL = "critical"

    @property
    def severity(self) -> int:
        """Deprecated: the :attr:`rank` (0 for EXCELLENT up to 4 for CRITICAL)."""
        warnings.warn(
            "QualityStatus.severity is deprecated: use QualityStatus.rank",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.rank


def is_number(value: object) -> bool:
    """Tell whether ``value`` is an int or float that is not a bool and not NaN."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


Ladder = tuple[float | None, float | None, float | None, float | None]
"""Thresholds for GOOD, FAIR, POOR and CRITICAL; ``None``: the check never reaches it."""
CountLadder = tuple[int | None, int | None, int | None, int | None]
DurationLadder = tuple[timedelta | None, timedelta | None, timedelta | None, timedelta | None]

_DAY = timedelta(days=1)

# ladder field -> (what a threshold is, checked by); the field is also the table column
_PERCENT = "percents in [0, 100]"
_COUNT = "counts (integers >= 0)"
_DURATION = "durations (timedelta >= 0)"
_KINDS = {
    _PERCENT: lambda t: is_number(t) and 0 <= t <= 100,
    _COUNT: lambda t: isinstance(t, int) and not isinstance(t, bool) and t >= 0,
    _DURATION: lambda t: isinstance(t, timedelta) and t >= timedelta(0),
}
_LADDERS = {
    "missing_pct": _PERCENT,
    "outlier_pct": _PERCENT,
    "flat_pct": _PERCENT,
    "gap_time_pct": _PERCENT,
    "largest_gap": _DURATION,
    "duplicate_pct": _PERCENT,
    "out_of_order_pct": _PERCENT,
    "range_fail_pct": _PERCENT,
    "range_suspect_pct": _PERCENT,
    "spike_pct": _PERCENT,
    "interpolated_pct": _PERCENT,
    "level_shifts": _COUNT,
}
_FLAGS = {"stuck": "stuck", "drift": "drift_flag"}  # one-grade rules: field -> bool column

GRADED_CHECKS = {
    "missing": ("missing_pct",),
    "outlier": ("outlier_pct",),
    "flatline": ("flat_pct", "stuck"),
    "gap": ("gap_time_pct", "largest_gap"),
    "duplicate": ("duplicate_pct",),
    "out_of_order": ("out_of_order_pct",),
    "range": ("range_fail_pct", "range_suspect_pct"),
    "spike": ("spike_pct",),
    "interpolated": ("interpolated_pct",),
    "level_shift": ("level_shifts",),
    "drift": ("drift",),
}
"""Each graded check and the :class:`StatusThresholds` fields that grade it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusThresholds:
    """
    The status ladder: at which share, count or duration each check lowers the grade.

    A ladder holds four thresholds, for GOOD, FAIR, POOR and CRITICAL: a sensor whose
    number is above (strictly) the k-th threshold is graded at least that level;
    ``None`` means the check never reaches that level, ``(None,) * 4`` turns it off. A
    threshold of 0 means "any". The status is the worst grade any check reaches; an
    all-missing sensor is always CRITICAL. Each ladder is named after the column of
    :attr:`QualityReport.table` it reads; shares are percents of the non-missing
    readings except ``missing_pct``, ``duplicate_pct`` and ``out_of_order_pct`` (of
    all rows) and ``gap_time_pct`` (of the sensor's time span).

    Why these defaults (a grade is what the data is good for: EXCELLENT clean, GOOD
    usable as is, FAIR usable after masking the flagged rows, POOR needs a look before
    use, CRITICAL not usable):

    * Missing readings and outliers keep the ladders of the system sensorframe replaces
      (5/10/20/50% and 5/10/15/30%).
    * Flat-lines (1/5/15/30%, the outlier ladder with a GOOD rung at 1%): a few short
      runs are normal (quantized or saturated sensors), a quarter of the readings stuck
      is not; a sensor flat for 59% of its readings is CRITICAL. A resting value (night
      zeros) belongs in ``QualityConfig.flatline_ignore``, per sensor if need be.
    * ``stuck`` (CRITICAL): one flat-line lasting longer than the sensor's ``max_stuck``
      means the sensor is dead or disconnected for that long, whatever its share.
    * Gaps: lost time is lost data, but contiguous, so it cannot be interpolated:
      ``gap_time_pct`` 1/5/10/25%. ``largest_gap`` 1 h / 1 day / 7 days / never: a
      multi-day outage breaks daily and weekly windows, but a single gap never makes the
      rest of the record unusable (the share does that). The durations are absolute;
      set a slower sensor's own ladder (daily or monthly data: ``(None,) * 4``).
    * Duplicates (any/1/5%) and out-of-order timestamps (any/5%): faults of the data
      pipeline, not the sensor, and sorting or deduplicating fixes them, so they never
      reach POOR; any one of them still costs EXCELLENT.
    * Gross range failures (physically impossible readings: FAIR for any, 1/5% for
      POOR/CRITICAL); suspects (plausible but unusual, 1/5/20%). Only sensors with
      configured bounds have any.
    * Spikes (0.5/2/5%): single-reading faults, easily masked; the rungs sit above the
      false-alarm rate of the noise-based spike test on clean data.
    * Interpolated readings (5/10/20/50%): a gap filled with a straight line is a missing
      stretch in disguise, so the missing ladder applies.
    * Level shifts (any: FAIR, more than 2: POOR): a step inside a series (sensor swap,
      recalibration, relocation) puts two regimes into one record.
    * A trend is not a fault: ``drift`` (the within-series drift ratio above
      ``QualityConfig.drift_threshold``, which a smooth trend triggers as well as a step)
      grades nothing by default; set it to a status to grade it as before (POOR).

    Parameters
    ----------
    missing_pct, outlier_pct, flat_pct, gap_time_pct, duplicate_pct
        Percent ladders, each threshold None or in [0, 100].
    out_of_order_pct, range_fail_pct, range_suspect_pct, spike_pct, interpolated_pct
        Percent ladders, as above.
    largest_gap
        Ladder of durations (``timedelta``) for the longest gap.
    level_shifts
        Ladder of counts for the level shifts found in the series.
    stuck
        Grade of a sensor with a flat-line longer than its ``max_stuck``; None: no grade.
    drift
        Grade of a sensor whose drift ratio is above the threshold; None: no grade.

    Raises
    ------
    ConfigError
        If a ladder does not have four thresholds of its kind, non-decreasing, or a
        grade is not a QualityStatus.

    Examples
    --------
    >>> from sensorframe.quality.status import StatusThresholds
    >>> t = StatusThresholds(largest_gap=(None, None, None, None))
    >>> t.missing_pct, t.flat_pct, t.stuck
    ((5.0, 10.0, 20.0, 50.0), (1.0, 5.0, 15.0, 30.0), <QualityStatus.CRITICAL: 'critical'>)
    """

    missing_pct: Ladder = (5.0, 10.0, 20.0, 50.0)
    outlier_pct: Ladder = (5.0, 10.0, 15.0, 30.0)
    flat_pct: Ladder = (1.0, 5.0, 15.0, 30.0)
    stuck: QualityStatus | None = QualityStatus.CRITICAL
    gap_time_pct: Ladder = (1.0, 5.0, 10.0, 25.0)
    largest_gap: DurationLadder = (timedelta(hours=1), _DAY, 7 * _DAY, None)
    duplicate_pct: Ladder = (0.0, 1.0, 5.0, None)
    out_of_order_pct: Ladder = (0.0, 5.0, None, None)
    range_fail_pct: Ladder = (None, 0.0, 1.0, 5.0)
    range_suspect_pct: Ladder = (1.0, 5.0, 20.0, None)
    spike_pct: Ladder = (0.5, 2.0, 5.0, None)
    interpolated_pct: Ladder = (5.0, 10.0, 20.0, 50.0)
    level_shifts: CountLadder = (None, 0, 2, None)
    drift: QualityStatus | None = None

    def __post_init__(self) -> None:
        for name, kind in _LADDERS.items():
            ladder = getattr(self, name)
            if not isinstance(ladder, tuple | list) or len(ladder) != 4:
                msg = f"`{name}` must be 4 thresholds (GOOD, FAIR, POOR, CRITICAL), got {ladder!r}"
                raise ConfigError(msg)
            for t in ladder:
                if t is not None and not _KINDS[kind](t):
                    msg = f"`{name}` thresholds must be None or {kind}, got {t!r}"
                    raise ConfigError(msg)
            given = [t for t in ladder if t is not None]
            if given != sorted(given):
                msg = f"`{name}` thresholds must not decrease, got {ladder!r}"
                raise ConfigError(msg)
            cast = float if kind == _PERCENT else (lambda t: t)
            object.__setattr__(self, name, tuple(None if t is None else cast(t) for t in ladder))
        for name in _FLAGS:
            grade = getattr(self, name)
            if grade is None:
                continue
            try:
                object.__setattr__(self, name, QualityStatus(grade))
            except ValueError as exc:
                msg = f"`{name}` must be a QualityStatus or None, got {grade!r}"
                raise ConfigError(msg) from exc


def rate_exprs() -> list[pl.Expr]:
    """
    Compute the shares the ladders read from the counts of the sensor table.

    ``missing_pct``, ``duplicate_pct``, ``out_of_order_pct``: percent of ``rows``;
    ``outlier_pct``, ``flat_pct``, ``range_fail_pct``, ``range_suspect_pct``,
    ``spike_pct``, ``interpolated_pct``: percent of the non-missing readings
    (``rows - missing_count``), 0 for a sensor without any.

    Examples
    --------
    >>> from sensorframe.quality.status import rate_exprs
    >>> counts = ["outlier_count", "flat_points", "duplicate_timestamps", "out_of_order"]
    >>> counts += ["range_failures", "range_suspects", "spike_count", "interpolated_points"]
    >>> t = pl.DataFrame({"rows": [10, 4], "missing_count": [2, 4]} | {c: [1, 0] for c in counts})
    >>> t.select(rate_exprs()).select("missing_pct", "outlier_pct", "duplicate_pct")
    shape: (2, 3)
    ┌─────────────┬─────────────┬───────────────┐
    │ missing_pct ┆ outlier_pct ┆ duplicate_pct │
    │ ---         ┆ ---         ┆ ---           │
    │ f64         ┆ f64         ┆ f64           │
    ╞═════════════╪═════════════╪═══════════════╡
    │ 20.0        ┆ 12.5        ┆ 10.0          │
    │ 100.0       ┆ 0.0         ┆ 0.0           │
    └─────────────┴─────────────┴───────────────┘
    """
    rows = pl.col("rows")
    valid = rows - pl.col("missing_count")

    # Times the reciprocal, not a division: Polars divides by a column that holds one
    # value throughout (a scalar column) as a multiplication by its reciprocal, and by
    # any other column truly, so `count / rows` of a sensor would change in the last bit
    # with the other sensors of the table (a batch of sensors against the whole fleet).
    def of_rows(col: str) -> pl.Expr:
        return pl.when(rows > 0).then(100.0 * pl.col(col) * (1.0 / rows)).otherwise(0.0)

    def of_valid(col: str) -> pl.Expr:
        return pl.when(valid > 0).then(100.0 * pl.col(col) * (1.0 / valid)).otherwise(0.0)

    return [
        of_rows("missing_count").alias("missing_pct"),
        of_valid("outlier_count").alias("outlier_pct"),
        of_valid("flat_points").alias("flat_pct"),
        of_rows("duplicate_timestamps").alias("duplicate_pct"),
        of_rows("out_of_order").alias("out_of_order_pct"),
        of_valid("range_failures").alias("range_fail_pct"),
        of_valid("range_suspects").alias("range_suspect_pct"),
        of_valid("spike_count").alias("spike_pct"),
        of_valid("interpolated_points").alias("interpolated_pct"),
    ]


def _rung(name: str, ladder: tuple[float | int | timedelta | None, ...]) -> pl.Expr:
    """Rank (0-4) the ladder ``name`` gives: the highest rung whose threshold is passed."""
    rungs = [(k + 1, t) for k, t in enumerate(ladder) if t is not None]
    grade = pl.lit(0, pl.Int8)
    for rank, t in rungs:  # four rungs at most
        grade = pl.when(pl.col(name) > t).then(pl.lit(rank, pl.Int8)).otherwise(grade)
    return grade


def _flag(column: str, grade: QualityStatus | None) -> pl.Expr:
    if grade is None:
        return pl.lit(0, pl.Int8)
    return (
        pl.when(pl.col(column).fill_null(value=False))
        .then(pl.lit(grade.rank, pl.Int8))
        .otherwise(0)
    )


def grade_exprs(thresholds: StatusThresholds) -> dict[str, pl.Expr]:
    """
    Each graded check's rank (Int8, 0 EXCELLENT .. 4 CRITICAL), named after the check.

    A check graded by several fields (:data:`GRADED_CHECKS`) takes the worst of them.
    The expressions read the table columns named after the ladders, plus ``stuck`` and
    ``drift_flag`` (booleans) and ``rows`` and ``missing_count`` (an all-missing sensor
    is CRITICAL on ``missing``). A null number grades nothing (e.g. no gap).

    Examples
    --------
    >>> from sensorframe.quality.status import StatusThresholds, grade_exprs
    >>> t = pl.DataFrame({"flat_pct": [0.5, 59.0], "stuck": [False, False]})
    >>> t.select(grade_exprs(StatusThresholds())["flatline"])["flatline"].to_list()
    [0, 4]
    """
    rules = {name: _flag(column, getattr(thresholds, name)) for name, column in _FLAGS.items()}
    rules |= {name: _rung(name, getattr(thresholds, name)).fill_null(0) for name in _LADDERS}
    all_missing = pl.col("missing_count") == pl.col("rows")
    rules["missing_pct"] = (
        pl.when(all_missing)
        .then(pl.lit(QualityStatus.CRITICAL.rank, pl.Int8))
        .otherwise(rules["missing_pct"])
    )
    return {
        check: pl.max_horizontal(rules[f] for f in graded_by).alias(check)
        for check, graded_by in GRADED_CHECKS.items()
    }


def status_expr(grades: Iterable[pl.Expr]) -> pl.Expr:
    """
    Take the worst of the ranks ``grades`` (of :func:`grade_exprs`) as an Enum ``status``.

    Examples
    --------
    >>> from sensorframe.quality.status import status_expr
    >>> t = pl.DataFrame({"a": [0, 1], "b": [3, 0]}, schema={"a": pl.Int8, "b": pl.Int8})
    >>> t.select(status_expr([pl.col("a"), pl.col("b")]))["status"].to_list()
    ['poor', 'good']
    """
    names = {s.rank: s.value for s in QualityStatus}
    return (
        pl.max_horizontal(grades)
        .replace_strict(names, return_dtype=QualityStatus.dtype())
        .alias("status")
    )
