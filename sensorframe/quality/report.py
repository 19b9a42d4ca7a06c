"""Per-row quality flags, the per-sensor quality report and its incident log (events)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from sensorframe._batches import Batches, stream, wants_batches
from sensorframe._report import SensorReport, counts
from sensorframe._utils import checked_config
from sensorframe.errors import InvalidParameterError
from sensorframe.frame import CANONICAL_SCHEMA, SENSOR, TIME, VALUE, scan
from sensorframe.quality.config import QualityConfig
from sensorframe.quality.engine import CHECKS, FLAGS, FLAT_NEW, GID, STEP, flag_rows, sensor_table
from sensorframe.quality.status import QualityStatus, grade_exprs, rate_exprs, status_expr
from sensorframe.quality.text import issue_exprs, recommendation_exprs

__all__ = ["CHECKS", "QualityReport", "SensorQuality", "assess_quality", "flag_quality"]

_EVENT_SCHEMA = pl.Schema(
    [
        (SENSOR, pl.String()),
        ("check", pl.String()),
        ("start", pl.Datetime("us", "UTC")),
        ("end", pl.Datetime("us", "UTC")),
        ("duration", pl.Duration("us")),
        ("rows", pl.Int64()),
        ("value", pl.Float64()),
    ]
)
POS = "__sf_pos"
SIZE = "__sf_shift_size"


def flag_quality(
    frame: Any,
    config: QualityConfig | None = None,
    *,
    batch_rows: int | None = None,
    memory_limit: str | int | None = None,
) -> pl.LazyFrame:
    """
    Flag every row: the input sorted by sensor and time, plus one flag per check.

    Columns added: ``flag_missing``, ``flag_outlier``, ``flag_flatline``, ``flag_gap``
    (the first reading after a gap), ``flag_duplicate`` (a repeat of an earlier
    timestamp) and ``flag_any``. Flags are never null. Filter or mask rows with them,
    e.g. ``.filter(~pl.col("flag_any"))``.

    Parameters
    ----------
    frame
        Anything :func:`sensorframe.scan` accepts.
    config
        Thresholds; the defaults of :class:`QualityConfig` if omitted.
    batch_rows, memory_limit
        Flag a batch of whole sensors at a time (see :mod:`sensorframe._batches`), so
        ``.sink_parquet(...)`` holds one batch in memory; by default a file larger
        than the default budget is batched. The rows and flags are the same.

    Returns
    -------
    LazyFrame
        The canonical columns, any extra input columns, then the flags. Nothing runs
        until it is collected; then the whole input is read and flagged at once (or
        a batch at a time).

    Examples
    --------
    >>> from datetime import datetime
    >>> df = pl.DataFrame(
    ...     {
    ...         "sensor_id": ["a"] * 5,
    ...         "timestamp": [datetime(2026, 1, 1, 0, m) for m in (0, 1, 1, 2, 9)],
    ...         "value": [1.0, None, 2.0, 2.5, 1.5],
    ...     }
    ... )
    >>> out = sf.quality.flag_quality(df).collect()
    >>> out.select("value", "flag_missing", "flag_gap", "flag_duplicate", "flag_any")
    shape: (5, 5)
    ┌───────┬──────────────┬──────────┬────────────────┬──────────┐
    │ value ┆ flag_missing ┆ flag_gap ┆ flag_duplicate ┆ flag_any │
    │ ---   ┆ ---          ┆ ---      ┆ ---            ┆ ---      │
    │ f64   ┆ bool         ┆ bool     ┆ bool           ┆ bool     │
    ╞═══════╪══════════════╪══════════╪════════════════╪══════════╡
    │ 1.0   ┆ false        ┆ false    ┆ false          ┆ false    │
    │ null  ┆ true         ┆ false    ┆ false          ┆ true     │
    │ 2.0   ┆ false        ┆ false    ┆ true           ┆ true     │
    │ 2.5   ┆ false        ┆ false    ┆ false          ┆ false    │
    │ 1.5   ┆ false        ┆ true     ┆ false          ┆ true     │
    └───────┴──────────────┴──────────┴────────────────┴──────────┘
    """
    lf = scan(frame)
    cfg = checked_config(config, QualityConfig)
    schema = lf.collect_schema()
    columns = [*schema.names(), *FLAGS, "flag_any", "qartod"]

    def flag(rows: pl.DataFrame) -> pl.DataFrame:
        return flag_rows(rows.lazy(), cfg, table=False)[0].select(columns)

    out_schema = flag(pl.DataFrame(schema=schema)).schema
    if wants_batches(frame, batch_rows=batch_rows, memory_limit=memory_limit):
        budget = {"batch_rows": batch_rows, "memory_limit": memory_limit}
        return stream(_Flagged(lf, flag, budget), out_schema)
    # deferred until collect; the eager engine skips the sort when the rows are sorted
    return lf.map_batches(flag, schema=out_schema)


_EMPTY = pl.DataFrame(schema=CANONICAL_SCHEMA)


def _in_input_order(lf: pl.LazyFrame, budget: dict[str, Any]) -> Batches:
    """
    Batches of whole sensors, each in the input's row order.

    Sorted batches would hide the steps back in time that ``out_of_order`` counts;
    the engine sorts each batch as it sorts the whole input in memory.
    """
    return Batches(lf, label="quality", input_order=True, **budget)


@dataclass(frozen=True, slots=True)
class _Flagged:
    """The flagged batches of a source, read anew on each iteration (each ``collect``)."""

    lf: pl.LazyFrame
    flag: Callable[[pl.DataFrame], pl.DataFrame]
    budget: dict[str, Any]

    def __iter__(self) -> Iterator[pl.DataFrame]:
        return (self.flag(batch) for batch in _in_input_order(self.lf, self.budget))


def _event_numbers(table: pl.LazyFrame, events: pl.DataFrame) -> pl.LazyFrame:
    """Join each sensor's largest level shift (the signed ``value``, and its start)."""
    shifts = pl.col("check") == "level_shift"
    by_size = pl.col("value").filter(shifts).abs().arg_max()
    numbers = events.group_by(SENSOR).agg(
        largest_shift=pl.col("value").filter(shifts).get(by_size),
        largest_shift_at=pl.col("start").filter(shifts).get(by_size),
    )
    return table.join(numbers.lazy(), on=SENSOR, how="left")


def _table(
    flagged: pl.DataFrame, stats: pl.DataFrame, events: pl.DataFrame, cfg: QualityConfig
) -> pl.LazyFrame:
    # each grade under a private name: "out_of_order" is also a count of the table
    grades = {
        f"__sf_grade_{c}": e.alias(f"__sf_grade_{c}") for c, e in grade_exprs(cfg.status).items()
    }
    worst = pl.max_horizontal(pl.col(grade) for grade in grades)
    graded_by = pl.concat_list(
        pl.when((pl.col(grade) == worst) & (worst > 0)).then(
            pl.lit(grade.removeprefix("__sf_grade_"))
        )
        for grade in grades
    ).list.drop_nulls()
    table = (
        _event_numbers(sensor_table(flagged, stats), events)
        .with_columns(
            *rate_exprs(),
            drift_flag=(pl.col("drift_ratio") > cfg.drift_threshold).fill_null(value=False),
        )
        .with_columns(*grades.values())
        .with_columns(status_expr(pl.col(grade) for grade in grades), graded_by=graded_by)
        .with_columns(
            issues=pl.concat_list(issue_exprs(cfg)).list.drop_nulls(),
            recommendations=pl.concat_list(recommendation_exprs(cfg)).list.drop_nulls(),
        )
    )
    return table.select(f.name for f in fields(SensorQuality)).sort(SENSOR)


def _shift_sizes(flagged: pl.DataFrame) -> pl.DataFrame:
    """
    Size each level shift: the change of the mean reading across it.

    The shifts and the sensor starts cut the rows into segments; a shift's size is the
    mean of the segment it starts minus the mean of the one before. One pass of
    ``np.add.reduceat`` over the readings gives every segment's sum and count.
    """
    shifts = flagged.get_column("flag_level_shift").to_numpy()
    if not shifts.any():
        return pl.DataFrame(schema={POS: pl.UInt32, SIZE: pl.Float64})
    gid = flagged.get_column(GID).to_numpy()
    new_sensor = np.diff(gid, prepend=gid[:1] - 1) != 0
    bounds = np.flatnonzero(shifts | new_sensor)
    x = flagged.get_column(VALUE).to_numpy()
    ok = np.isfinite(x)
    with np.errstate(invalid="ignore", divide="ignore"):  # an all-missing segment: NaN
        means = np.add.reduceat(np.where(ok, x, 0.0), bounds) / np.add.reduceat(ok, bounds)
    at = np.flatnonzero(~new_sensor[bounds])  # a sensor's first segment starts no shift
    return pl.DataFrame(
        {POS: bounds[at].astype(np.uint32), SIZE: means[at] - means[at - 1]},
        schema={POS: pl.UInt32, SIZE: pl.Float64},
    )


def _runs(flags: pl.LazyFrame, check: str, sizes: pl.DataFrame) -> pl.LazyFrame:
    """
    One event per run of consecutive rows of one sensor carrying ``flag_<check>``.

    A flat-line event also carries its stuck ``value``; two touching flat-lines are
    two events. A level-shift event is the row of the step, ``value`` its size
    (:func:`_shift_sizes`).
    """
    new = (pl.col(POS).diff() != 1) | (pl.col(GID) != pl.col(GID).shift(1))
    if check == "flatline":
        new = new | pl.col(FLAT_NEW)
    rows = flags.filter(f"flag_{check}")
    value: pl.Expr = pl.lit(None, pl.Float64)
    if check == "flatline":
        value = pl.col(VALUE).first()
    elif check == "level_shift":
        rows = rows.join(sizes.lazy(), on=POS, how="left")
        value = pl.col(SIZE).first()
    return (
        rows.with_columns(new.fill_null(value=True).cum_sum().alias("__sf_run"))
        .group_by("__sf_run")
        .agg(
            pl.col(SENSOR).first(),
            pl.lit(check).alias("check"),
            pl.col(TIME).first().alias("start"),
            pl.col(TIME).last().alias("end"),
            pl.len().cast(pl.Int64).alias("rows"),
            value.alias("value"),
        )
        .drop("__sf_run")
    )


def _gaps(flags: pl.LazyFrame) -> pl.LazyFrame:
    """One event per gap: from the last reading before it to the first after, no rows."""
    return flags.filter("flag_gap").select(
        SENSOR,
        pl.lit("gap").alias("check"),
        (pl.col(TIME) - pl.duration(microseconds=pl.col(STEP))).alias("start"),
        pl.col(TIME).alias("end"),
        pl.lit(0, pl.Int64).alias("rows"),
        pl.lit(None, pl.Float64).alias("value"),
    )


def _events(flagged: pl.DataFrame) -> pl.LazyFrame:
    checks = [check for check in CHECKS if f"flag_{check}" in flagged.columns]
    base = flagged.lazy().select(GID, SENSOR, TIME, VALUE, STEP, FLAT_NEW, *FLAGS)
    base = base.with_row_index(POS)
    sizes = _shift_sizes(flagged)
    parts = [  # one query per check, not a loop over sensors or rows
        _gaps(base) if check == "gap" else _runs(base, check, sizes) for check in checks
    ]
    return (
        pl.concat(parts)
        .with_columns(duration=pl.col("end") - pl.col("start"))
        .sort(SENSOR, "start", "check", "end", "rows", "value")  # ties: a total order
        .select(_EVENT_SCHEMA.names())
        .cast(_EVENT_SCHEMA)
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class SensorQuality:
    """
    The quality record of one sensor: one row of :attr:`QualityReport.table`.

    Percentages are in percent (0-100): ``missing_pct``, ``duplicate_pct`` and
    ``out_of_order_pct`` of all rows, ``gap_time_pct`` of the sensor's time span, the
    other ``*_pct`` of the non-missing readings. ``pass_rate`` is the fraction of rows
    that pass every row check. ``graded_by`` names the checks that set ``status`` (empty
    for EXCELLENT); ``largest_shift`` is the signed size of the largest level shift and
    ``largest_shift_at`` when it happened. The exact definitions are in
    ``docs/definitions.md`` ("Quality").
    """

    sensor_id: str
    status: QualityStatus
    graded_by: tuple[str, ...]
    rows: int
    missing_count: int
    missing_pct: float
    outlier_count: int
    outlier_pct: float
    flat_points: int
    flat_pct: float
    flat_runs: int
    longest_flat_run: int
    longest_flat_duration: timedelta | None
    longest_flat_value: float | None
    longest_flat_start: datetime | None
    stuck: bool
    gap_count: int
    gap_time_pct: float | None
    largest_gap: timedelta | None
    median_step: timedelta | None
    expected_interval: timedelta | None
    duplicate_timestamps: int
    duplicate_pct: float
    out_of_order: int
    out_of_order_pct: float
    range_failures: int
    range_fail_pct: float
    range_suspects: int
    range_suspect_pct: float
    spike_count: int
    spike_pct: float
    interpolated_points: int
    interpolated_pct: float
    level_shifts: int
    largest_shift: float | None
    largest_shift_at: datetime | None
    trend_per_day: float | None
    trend_pvalue: float | None
    noise_std: float | None
    drift_ratio: float | None
    drift_flag: bool
    pass_rate: float
    issues: tuple[str, ...]
    recommendations: tuple[str, ...]

    def __repr__(self) -> str:
        n = len(self.issues)
        return (
            f"SensorQuality({self.sensor_id!r}, {self.status}, {self.rows} rows, "
            f"{n} issue{'' if n == 1 else 's'})"
        )


class QualityReport(SensorReport[SensorQuality]):
    """
    Result of :func:`assess_quality`: a table with one row per sensor, and events.

    ``report["S000"]`` is one sensor's :class:`SensorQuality` (``UnknownSensorError``
    for a sensor not assessed), ``iter(report)`` yields them in table order and
    ``len(report)`` counts the sensors.

    Attributes
    ----------
    table : pl.DataFrame
        One row per sensor, sorted by ``sensor_id``; the columns are the fields of
        :class:`SensorQuality`, ``status`` as a Polars ``Enum`` in order of severity
        (``QualityStatus.dtype()``), so sorting by it puts the worst sensors last.
    events : pl.DataFrame
        One row per fault episode: ``sensor_id``, ``check``, ``start``, ``end``
        (inclusive), ``duration`` (``end - start``), ``rows`` and ``value``. A run of
        consecutive rows of one sensor carrying a flag is one episode; a gap spans
        the missing interval (``start`` the last reading before it, ``end`` the first
        after, ``rows`` 0); ``value`` is the stuck value of a flat-line and the size
        of a level shift, null for the other checks.
    config : QualityConfig
        The thresholds used.

    Examples
    --------
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=500, seed=5)
    >>> report = sf.quality.assess_quality(data.frame)
    >>> report
    QualityReport(2 sensors: 1 excellent, 1 fair)
    >>> report["S000"].status, report["S000"].graded_by, report["S000"].missing_count
    (<QualityStatus.FAIR: 'fair'>, ('gap',), 8)
    >>> [item.status.value for item in report], len(report)
    (['fair', 'excellent'], 2)
    >>> report["S001"]
    SensorQuality('S001', excellent, 500 rows, 1 issue)
    >>> report["S001"].issues[0]  # its drift is a slow trend: information, not a fault
    'trend: -0.35 per hour (p < 0.0001); information, not graded'
    """

    _kind = "quality report"

    def __init__(self, table: pl.DataFrame, events: pl.DataFrame, config: QualityConfig) -> None:
        self.table = table
        self.events = events
        self.config = config

    @classmethod
    def concat(cls, reports: Sequence[QualityReport]) -> QualityReport:
        """
        Combine the reports of disjoint sets of sensors (batches, Spark partitions).

        Quality is graded sensor by sensor, so the result is the report of one run
        over all of them. Reports rebuilt from their tables,
        ``QualityReport(table, events, config)``, combine too.

        Raises
        ------
        InvalidParameterError
            For no report, or a sensor in more than one report.

        Examples
        --------
        >>> frame = sf.datasets.synthetic(n_sensors=3, n_points=500, seed=5, faults=()).frame
        >>> parts = [sf.assess_quality(p) for p in frame.partition_by("sensor_id")]
        >>> sf.quality.QualityReport.concat(parts).table.equals(sf.assess_quality(frame).table)
        True
        """
        if not reports:
            msg = "`reports` is empty: nothing to combine"
            raise InvalidParameterError(msg)
        table = pl.concat([r.table for r in reports], how="vertical_relaxed").sort(
            SENSOR, maintain_order=True
        )
        repeated = table.filter(pl.col(SENSOR).is_duplicated())[SENSOR].unique().sort()
        if repeated.len():
            msg = f"sensor(s) {repeated.to_list()[:5]} appear in more than one report"
            raise InvalidParameterError(msg)
        events = pl.concat([r.events for r in reports], how="vertical_relaxed")
        return cls(table, events.sort(SENSOR, maintain_order=True), reports[0].config)

    @property
    def statuses(self) -> dict[str, QualityStatus]:
        """Each sensor's status."""
        pairs = self.table.select(SENSOR, "status").iter_rows()
        return {sid: QualityStatus(status) for sid, status in pairs}

    def _item(self, row: dict[str, Any]) -> SensorQuality:
        row["status"] = QualityStatus(row["status"])
        row["graded_by"] = tuple(row["graded_by"])
        row["issues"] = tuple(row["issues"])
        row["recommendations"] = tuple(row["recommendations"])
        return SensorQuality(**row)

    def _summary(self) -> str:
        return counts(self.table["status"])


def assess_quality(
    frame: Any,
    config: QualityConfig | None = None,
    *,
    batch_rows: int | None = None,
    memory_limit: str | int | None = None,
) -> QualityReport:
    """
    Assess the quality of every sensor in one lazy query.

    Runs the row checks of :func:`flag_quality` and the per-sensor statistics (noise,
    within-series drift, out-of-order input) and grades each sensor on the status
    ladder of ``config.status``: the status is the worst grade any check reaches.

    Parameters
    ----------
    frame
        Anything :func:`sensorframe.scan` accepts. Need not be sorted.
    config
        Thresholds; the defaults of :class:`QualityConfig` if omitted.
    batch_rows, memory_limit
        Assess a batch of whole sensors at a time (see :mod:`sensorframe._batches`);
        by default a file larger than the default budget is batched. The report is
        the same (:meth:`QualityReport.concat`).

    Returns
    -------
    QualityReport
        ``.table`` (one row per sensor), ``.events`` and ``.config``. An empty input
        gives an empty report.

    Examples
    --------
    >>> values = [1.0, 2.0, None, 2.0, 1.0]
    >>> df = pl.DataFrame(
    ...     {"sensor_id": "a", "timestamp": pl.datetime_range(
    ...         pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 1, 0, 4), "1m", eager=True
    ...     ), "value": values}
    ... )
    >>> report = sf.quality.assess_quality(df)
    >>> report.table.select("sensor_id", "rows", "missing_count", "missing_pct", "status")
    shape: (1, 5)
    ┌───────────┬──────┬───────────────┬─────────────┬────────┐
    │ sensor_id ┆ rows ┆ missing_count ┆ missing_pct ┆ status │
    │ ---       ┆ ---  ┆ ---           ┆ ---         ┆ ---    │
    │ str       ┆ i64  ┆ i64           ┆ f64         ┆ enum   │
    ╞═══════════╪══════╪═══════════════╪═════════════╪════════╡
    │ a         ┆ 5    ┆ 1             ┆ 20.0        ┆ fair   │
    └───────────┴──────┴───────────────┴─────────────┴────────┘
    >>> report["a"].issues[0]
    'missing: 1 of 5 readings (20.0%); grade thresholds 5.0/10.0/20.0/50.0%'
    """
    cfg = checked_config(config, QualityConfig)
    if wants_batches(frame, batch_rows=batch_rows, memory_limit=memory_limit):
        budget = {"batch_rows": batch_rows, "memory_limit": memory_limit}
        parts = [assess_quality(b, cfg) for b in _in_input_order(scan(frame), budget)]
        return QualityReport.concat(parts) if parts else assess_quality(_EMPTY, cfg)
    # The flagged rows are materialized once: the table and the events both read them.
    flagged, stats = flag_rows(scan(frame), cfg, table=True)
    # The in-memory engine uses the rows' sort by sensor (GID) in these group-bys: half
    # the CPU time of the streaming engine, which stays the default for the rest.
    events = _events(flagged).collect(engine="in-memory")
    table = _table(flagged, stats, events, cfg).collect(engine="in-memory")
    return QualityReport(table, events, cfg)
