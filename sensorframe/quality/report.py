"""Per-row quality flags, the per-sensor quality report and its incident log (events)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

import polars as pl

from sensorframe._report import SensorReport, counts
from sensorframe._utils import checked_config
from sensorframe.frame import SENSOR, TIME, scan
from sensorframe.quality.config import QualityConfig, QualityStatus
from sensorframe.quality.engine import CHECKS, FLAGS, FLAT_NEW, flag_rows, sensor_table
from sensorframe.quality.text import issue_exprs, recommendation_exprs

__all__ = ["CHECKS", "QualityReport", "SensorQuality", "assess_quality", "flag_quality"]

_EVENT_SCHEMA = pl.Schema(
    [
        (SENSOR, pl.String()),
        ("check", pl.String()),
        ("start", pl.Datetime("us", "UTC")),
        ("end", pl.Datetime("us", "UTC")),
        ("rows", pl.Int64()),
    ]
)


def flag_quality(frame: Any, config: QualityConfig | None = None) -> pl.LazyFrame:
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

    Returns
    -------
    LazyFrame
        The canonical columns, any extra input columns, then the flags. Nothing runs
        until it is collected; then the whole input is read and flagged at once.

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

    # deferred until collect; the eager engine skips the sort when the rows are sorted
    return lf.map_batches(flag, schema=flag(pl.DataFrame(schema=schema)).schema)


def _table(flagged: pl.DataFrame, stats: pl.DataFrame, cfg: QualityConfig) -> pl.LazyFrame:
    valid = pl.col("rows") - pl.col("missing_count")

    def pct_of_valid(col: str) -> pl.Expr:
        return pl.when(valid > 0).then(100.0 * pl.col(col) / valid).otherwise(0.0)

    table = (
        sensor_table(flagged, stats)
        .with_columns(
            missing_pct=100.0 * pl.col("missing_count") / pl.col("rows"),
            outlier_pct=pct_of_valid("outlier_count"),
            flat_pct=pct_of_valid("flat_points"),
            drift_flag=(pl.col("drift_ratio") > cfg.drift_threshold).fill_null(value=False),
        )
        .with_columns(status=_status(cfg))
        .with_columns(
            issues=pl.concat_list(issue_exprs(cfg)).list.drop_nulls(),
            recommendations=pl.concat_list(recommendation_exprs(cfg)).list.drop_nulls(),
        )
    )
    return table.select(f.name for f in fields(SensorQuality)).sort(SENSOR)


def _status(cfg: QualityConfig) -> pl.Expr:
    ladders = cfg.status
    grades = [
        pl.when(pl.col("missing_count") == pl.col("rows"))
        .then(QualityStatus.CRITICAL.rank)
        .otherwise(0),
        pl.when(pl.col("drift_flag")).then(ladders.drift.rank).otherwise(0),
    ]
    for col, ladder in (
        ("missing_pct", ladders.missing_pct),
        ("outlier_pct", ladders.outlier_pct),
        ("flat_pct", ladders.flat_pct),
    ):
        grades.extend(
            pl.when(pl.col(col) > t).then(k + 1).otherwise(0)
            for k, t in enumerate(ladder)
            if t is not None
        )
    names = {s.rank: s.value for s in QualityStatus}
    return pl.max_horizontal(grades).replace_strict(names, return_dtype=QualityStatus.dtype())


def _events(flagged: pl.LazyFrame) -> pl.LazyFrame:
    pos = "__sf_pos"
    base = flagged.select(SENSOR, TIME, *FLAGS, FLAT_NEW).with_row_index(pos)
    parts = []
    for check in CHECKS:  # five checks, not a loop over sensors or rows
        new = (pl.col(pos).diff() != 1) | (pl.col(SENSOR) != pl.col(SENSOR).shift(1))
        if check == "flatline":  # two flat-lines can touch: a new run starts a new event
            new = new | pl.col(FLAT_NEW)
        parts.append(
            base.filter(f"flag_{check}")
            .with_columns(new.fill_null(value=True).cum_sum().alias("__sf_run"))
            .group_by("__sf_run")
            .agg(
                pl.col(SENSOR).first(),
                pl.lit(check).alias("check"),
                pl.col(TIME).first().alias("start"),
                pl.col(TIME).last().alias("end"),
                pl.len().cast(pl.Int64).alias("rows"),
            )
            .drop("__sf_run")
        )
    return pl.concat(parts).sort(SENSOR, "start", "check").cast(_EVENT_SCHEMA)


@dataclass(frozen=True, kw_only=True, slots=True)
class SensorQuality:
    """
    The quality record of one sensor: one row of :attr:`QualityReport.table`.

    Percentages are in percent (0-100): ``missing_pct`` of all rows, ``outlier_pct``
    and ``flat_pct`` of the non-missing readings. ``pass_rate`` is the fraction of rows
    that pass every row check.
    """

    sensor_id: str
    status: QualityStatus
    rows: int
    missing_count: int
    missing_pct: float
    outlier_count: int
    outlier_pct: float
    flat_points: int
    flat_pct: float
    flat_runs: int
    longest_flat_run: int
    gap_count: int
    largest_gap: timedelta | None
    median_step: timedelta | None
    duplicate_timestamps: int
    out_of_order: int
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
        One row per run of consecutive failing rows: ``sensor_id``, ``check``,
        ``start``, ``end`` (inclusive) and ``rows``.
    config : QualityConfig
        The thresholds used.

    Examples
    --------
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=500, seed=5)
    >>> report = sf.quality.assess_quality(data.frame)
    >>> report
    QualityReport(2 sensors: 1 excellent, 1 poor)
    >>> report["S000"].status, report["S000"].missing_count
    (<QualityStatus.EXCELLENT: 'excellent'>, 8)
    >>> [item.status.value for item in report], len(report)
    (['excellent', 'poor'], 2)
    >>> report["S001"]
    SensorQuality('S001', poor, 500 rows, 1 issue)
    >>> report["S001"].issues[0][:50]
    'drift: the second-half mean is 3.09 first-half sta'
    """

    _kind = "quality report"

    def __init__(self, table: pl.DataFrame, events: pl.DataFrame, config: QualityConfig) -> None:
        self.table = table
        self.events = events
        self.config = config

    @property
    def statuses(self) -> dict[str, QualityStatus]:
        """Each sensor's status."""
        pairs = self.table.select(SENSOR, "status").iter_rows()
        return {sid: QualityStatus(status) for sid, status in pairs}

    def _item(self, row: dict[str, Any]) -> SensorQuality:
        row["status"] = QualityStatus(row["status"])
        row["issues"] = tuple(row["issues"])
        row["recommendations"] = tuple(row["recommendations"])
        return SensorQuality(**row)

    def _summary(self) -> str:
        return counts(self.table["status"])


def assess_quality(frame: Any, config: QualityConfig | None = None) -> QualityReport:
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
    # The flagged rows are materialized once: the table and the events both read them.
    flagged, stats = flag_rows(scan(frame), cfg, table=True)
    # The in-memory engine uses the rows' sort by sensor (GID) in these group-bys: half
    # the CPU time of the streaming engine, which stays the default for the rest.
    table = _table(flagged, stats, cfg).collect(engine="in-memory")
    events = _events(flagged.lazy()).collect(engine="in-memory")
    return QualityReport(table, events, cfg)
