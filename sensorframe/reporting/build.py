"""
:func:`report`: quality, drift and a drift timeline as one self-contained HTML file.

The page has a fleet overview (status and severity counts, the grade each check gives
across the fleet, the worst sensors' heat map, drift scores, the drift timeline and
a table of every sensor, worst first) and one section per selected sensor (the worst
``worst``, plus ``sensors=``): its series with flags, reference against current
distribution with the statistics, and the issues and recommendations in words.

Only the selected sensors' readings are read from ``frame`` and ``reference`` (one
filtered scan each), so the cost of the per-sensor part does not grow with the fleet.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np
import polars as pl

from sensorframe.drift.report import DriftReport
from sensorframe.errors import InvalidParameterError, InvalidTypeError, UnknownSensorError
from sensorframe.frame import SENSOR, TIME, VALUE, scan
from sensorframe.quality.report import QualityReport, flag_quality
from sensorframe.quality.status import grade_exprs
from sensorframe.reporting import fleet
from sensorframe.reporting.html import badge, bullets, cards, escape_expr, table
from sensorframe.reporting.sampling import downsample
from sensorframe.reporting.sensor import POINT_CHECKS, distribution_plot, series_plot
from sensorframe.reporting.template import page

if TYPE_CHECKING:
    from sensorframe.pipeline.result import PipelineRun

__all__ = ["report", "run_report"]

_BUCKETS = 1000
"""Buckets of the downsampled series: about the plot's width in pixels."""
_MAX_POINTS = 2000
"""Most flagged readings of one check marked on a series (thinned like the series)."""
_EPISODES_SHOWN = 12


def report(
    *,
    quality: QualityReport | None = None,
    drift: DriftReport | None = None,
    timeline: pl.DataFrame | None = None,
    frame: Any = None,
    reference: Any = None,
    sensors: Sequence[str] | None = None,
    worst: int = 20,
    path: str | Path = "report.html",
    title: str = "sensorframe report",
    timezone: str = "UTC",
    units: str | Mapping[str, str] | None = None,
) -> Path:
    """
    Write quality and drift results as one self-contained HTML file.

    The file fetches nothing (styles, scripts and figures are inline; the figures are
    SVG drawn with matplotlib, the optional extra ``sensorframe[report]``), so it opens
    from disk, offline, and can be mailed or archived.

    Parameters
    ----------
    quality
        A :func:`sensorframe.assess_quality` report: status counts, the grade of every
        check, the worst sensors, issues and recommendations.
    drift
        A :func:`sensorframe.detect_drift` report: severity per sensor and the tests.
    timeline
        A :func:`sensorframe.drift_timeline` result: drift per sensor and chunk.
    frame
        The readings (anything :func:`sensorframe.scan` accepts), for the selected
        sensors' series and their current distribution (the readings outside the
        reference's time span, so a `frame` that contains the reference works).
    reference
        The drift reference readings, for the reference distribution.
    sensors
        Sensors to show in detail besides the worst ones.
    worst
        How many of the worst sensors (quality status, then drift severity and score)
        get a section of their own.
    path
        The file to write (its folder must exist).
    title
        The page's title.
    timezone
        Zone of every time shown (axes and tables), e.g. ``"Europe/Berlin"``.
    units
        Unit of the values, for the axes: one for all sensors, or per sensor id.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InvalidParameterError
        If nothing to report is given, `worst` is negative or the folder of `path`
        does not exist.
    InvalidTypeError
        If an argument has the wrong type.
    UnknownSensorError
        If a sensor of `sensors` is in none of the inputs.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sensorframe.reporting import report
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=400, seed=1)
    >>> q = sf.assess_quality(data.frame)
    >>> out = report(quality=q, frame=data.frame, path=Path(tempfile.mkdtemp()) / "r.html")
    >>> text = out.read_text()
    >>> "Fleet overview" in text, "S000" in text, "<script src" in text
    (True, True, False)
    """
    _check(quality, drift, timeline, worst, path)
    ranking = _ranking(quality, drift, timeline, frame)
    known = set(ranking[SENSOR].to_list())
    requested = [sensors] if isinstance(sensors, str) else list(sensors or [])
    unknown = [s for s in requested if s not in known]
    if unknown:
        msg = f"sensors not in the report's inputs: {unknown}"
        raise UnknownSensorError(msg)
    selected = list(dict.fromkeys([*ranking[SENSOR].head(worst).to_list(), *requested]))
    anchors = {sensor: f"sensor-{i}" for i, sensor in enumerate(selected)}
    overview = _overview(quality, drift, timeline, ranking, anchors, timezone)
    details = _details(quality, drift, frame, reference, selected, anchors, timezone, units)
    nav = [("overview", "Fleet overview"), ("all-sensors", "All sensors")]
    nav += [(anchors[s], s) for s in selected[:12]]
    n = len(known)
    meta = (
        f"{n:,} sensor{'' if n == 1 else 's'}; written "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M')} UTC; times shown in {timezone}"
    )
    out = Path(path)
    out.write_text(page(title=title, meta=meta, nav=nav, body=overview + details), "utf-8")
    return out


def run_report(run: PipelineRun, path: str | Path, **options: Any) -> Path:
    """
    Write the report of a pipeline run: its quality and drift reports.

    `options` are those of :func:`report` (``frame``, ``reference``, ``worst``, ...);
    the title names the run.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sensorframe.reporting import run_report
    >>> store = sf.DatasetStore(tempfile.mkdtemp())
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=48, freq="1h", faults=())
    >>> pipe = sf.Pipeline(store, sf.PipelineConfig(steps=("quality",)))
    >>> run = pipe.run(data.frame, progress=False)
    >>> run_report(run, Path(tempfile.mkdtemp()) / "run.html").name
    'run.html'
    """
    options.setdefault("title", f"sensorframe run {run.run_id}")
    return report(quality=run.quality, drift=run.drift, path=path, **options)


def _check(quality: object, drift: object, timeline: object, worst: object, path: object) -> None:
    for name, value, kind in (
        ("quality", quality, QualityReport),
        ("drift", drift, DriftReport),
        ("timeline", timeline, pl.DataFrame),
    ):
        if value is not None and not isinstance(value, kind):
            msg = f"`{name}` must be a {kind.__name__} or None, got {type(value).__name__}"
            raise InvalidTypeError(msg)
    if not isinstance(worst, int) or isinstance(worst, bool):
        msg = f"`worst` must be an int, got {type(worst).__name__}"
        raise InvalidTypeError(msg)
    if worst < 0:
        msg = f"`worst` must be 0 or more, got {worst}"
        raise InvalidParameterError(msg)
    if not isinstance(path, str | Path):
        msg = f"`path` must be a str or Path, got {type(path).__name__}"
        raise InvalidTypeError(msg)
    if not Path(path).parent.is_dir():
        msg = f"cannot write the report to {str(path)!r}: its folder does not exist"
        raise InvalidParameterError(msg)


def _ranking(
    quality: QualityReport | None,
    drift: DriftReport | None,
    timeline: pl.DataFrame | None,
    frame: Any,
) -> pl.DataFrame:
    """Every sensor with its headline results, worst first."""
    parts = []
    if quality is not None:
        parts.append(
            quality.table.select(
                SENSOR, "status", "graded_by", pl.col("issues").list.first().alias("main issue")
            )
        )
    if drift is not None:
        parts.append(drift.table.select(SENSOR, "severity", "drift_score", "change"))
    elif timeline is not None:
        parts.append(
            timeline.group_by(SENSOR).agg(pl.col("severity").max(), pl.col("drift_score").max())
        )
    if not parts and frame is not None:
        parts.append(scan(frame).select(pl.col(SENSOR).unique()).collect())
    if not parts:
        msg = "nothing to report: give quality=, drift=, timeline= or frame="
        raise InvalidParameterError(msg)
    table = parts[0]
    for part in parts[1:]:
        table = table.join(part, on=SENSOR, how="full", coalesce=True)
    keys = [c for c in ("status", "severity", "drift_score") if c in table.columns]
    return table.sort([*keys, SENSOR], descending=[*[True] * len(keys), False], nulls_last=True)


def _section(title: str, anchor: str, content: str) -> str:
    return f'<h3 id="{anchor}">{html.escape(title)}</h3>{content}'


def _overview(
    quality: QualityReport | None,
    drift: DriftReport | None,
    timeline: pl.DataFrame | None,
    ranking: pl.DataFrame,
    anchors: dict[str, str],
    timezone: str,
) -> str:
    parts = ['<section id="overview"><h2>Fleet overview</h2>']
    if quality is not None:
        parts.append(cards(_counts(quality.table["status"]), title="Sensors per quality status"))
    if drift is not None:
        parts.append(cards(_counts(drift.table["severity"]), title="Sensors per drift severity"))
    if quality is not None:
        parts.append(_checks(quality, ranking))
    if drift is not None:
        shown = ranking.filter(pl.col("severity").is_not_null()).head(fleet.MAX_ROWS)
        note = f"The {shown.height} sensors with the highest drift, of {drift.table.height:,}."
        plot = fleet.drift_bars(shown.select(SENSOR, "drift_score", "severity"))
        parts.append(_section("Drift severity", "drift", f'<p class="note">{note}</p>{plot}'))
    if timeline is not None:
        parts.append(_section("Drift timeline", "timeline", _timeline(timeline, timezone)))
    parts.append(_all_sensors(ranking, anchors))
    return "".join(parts) + "</section>"


def _counts(grades: pl.Series) -> dict[str, int]:
    """How many sensors have each grade, every grade of the Enum listed; None last."""
    dtype = grades.dtype
    names = list(dtype.categories) if isinstance(dtype, pl.Enum) else []
    counts = dict.fromkeys(reversed(names), 0)
    for value, n in grades.cast(pl.String).value_counts().iter_rows():
        counts[value] = n
    return counts


def _checks(quality: QualityReport, ranking: pl.DataFrame) -> str:
    grades = quality.table.select(SENSOR, *grade_exprs(quality.config.status).values())
    checks = [c for c in grades.columns[1:] if grades[c].max()]
    quiet = [c for c in grades.columns[1:] if c not in checks]
    note = f"Checks that grade every sensor excellent: {', '.join(quiet)}." if quiet else ""
    if not checks:
        return _section("Checks", "checks", f'<p class="note">{html.escape(note)}</p>')
    order = ranking.select(SENSOR).join(grades, on=SENSOR, how="inner", maintain_order="left")
    worst = order.head(fleet.MAX_ROWS)
    text = (
        f"The {worst.height} worst sensors of {grades.height:,}, worst first; each cell is "
        "the grade that check gives the sensor (the status is the worst of them). "
    )
    body = (
        fleet.check_bars(grades, checks)
        + f'<p class="note">{html.escape(text + note)}</p>'
        + fleet.grade_heatmap(worst, checks)
    )
    return _section("Checks", "checks", body)


def _timeline(timeline: pl.DataFrame, timezone: str) -> str:
    ranks = {"none": 0, "low": 1, "moderate": 2, "high": 3, "critical": 4}
    top = (
        timeline.group_by(SENSOR)
        .agg(
            pl.col("severity").cast(pl.String).replace_strict(ranks, default=-1).max().alias("r"),
            pl.col("drift_detected").fill_null(value=False).sum().alias("n"),
        )
        .sort("r", "n", SENSOR, descending=[True, True, False])
        .head(fleet.MAX_ROWS)
    )
    n = timeline[SENSOR].n_unique()
    note = f"Every sensor drifted per chunk; below, the {top.height} most drifted of {n:,}."
    plot = fleet.timeline_plot(timeline, top[SENSOR].to_list(), timezone=timezone)
    return f'<p class="note">{note}</p>{plot}'


def _all_sensors(ranking: pl.DataFrame, anchors: dict[str, str]) -> str:
    """
    Render the table of every sensor, worst first: one query, no loop per sensor.

    The sensors with a section link to it; the grades are badges.
    """
    escaped = escape_expr(pl.col(SENSOR))
    links = pl.DataFrame(
        {SENSOR: list(anchors), "__sf_anchor": list(anchors.values())},
        schema={SENSOR: ranking.schema[SENSOR], "__sf_anchor": pl.String},
    )
    anchor = pl.col("__sf_anchor")
    link = pl.format('<a href="#{}">{}</a>', anchor, escaped)
    columns: list[pl.Expr] = [
        pl.when(anchor.is_null()).then(escaped).otherwise(link).alias("sensor")
    ]
    for name, dtype in ranking.schema.items():
        if name == SENSOR:
            continue
        column = pl.col(name)
        if name in ("status", "severity"):
            badges = {g: badge(g) for g in ranking[name].cast(pl.String).drop_nulls().unique()}
            grade = column.cast(pl.String).replace_strict(badges, return_dtype=pl.String)
            columns.append(grade.fill_null(badge(None)))
        elif dtype == pl.List(pl.String):
            columns.append(escape_expr(column.list.join(", ")))
        elif dtype.is_float():
            columns.append(column.round_sig_figs(4).cast(pl.String))
        else:
            columns.append(escape_expr(column.cast(pl.String)))
    shown = ranking.join(links, on=SENSOR, how="left", maintain_order="left").select(columns)
    numeric = [name for name, dtype in ranking.schema.items() if dtype.is_numeric()]
    grid = table(
        shown.with_columns(pl.col(c).fill_null("") for c in shown.columns),
        html_columns=shown.columns,
        numeric_columns=numeric,
        table_id="sensor-table",
    )
    return (
        '<h3 id="all-sensors">All sensors, worst first</h3>'
        '<input id="filter" type="search" placeholder="Filter sensors (id, status, issue)">'
        f'<div class="scroll">{grid}</div>'
    )


def _rows(source: Any, selected: list[str]) -> pl.DataFrame:
    lf = scan(source).filter(pl.col(SENSOR).is_in(selected))
    return lf.sort(SENSOR, TIME, maintain_order=True).collect()


def _details(
    quality: QualityReport | None,
    drift: DriftReport | None,
    frame: Any,
    reference: Any,
    selected: list[str],
    anchors: dict[str, str],
    timezone: str,
    units: str | Mapping[str, str] | None,
) -> str:
    if not selected:
        return ""
    current = None if frame is None else _rows(frame, selected)
    ref = None if reference is None else _rows(reference, selected)
    points = None if current is None else downsample(current, buckets=_BUCKETS)
    flagged = None
    if current is not None and quality is not None:
        flagged = _flagged(flag_quality(current, quality.config).collect())
    events = None if quality is None else quality.events.filter(pl.col(SENSOR).is_in(selected))
    by_sensor = [_split(frame, selected) for frame in (points, flagged, current, ref, events)]
    parts = ['<section id="sensors"><h2>Sensors in detail</h2>']
    for sensor in selected:
        unit = units.get(sensor) if isinstance(units, Mapping) else units
        rows = _Rows(*(split[sensor] for split in by_sensor))
        parts.append(_sensor(sensor, anchors[sensor], quality, drift, rows, timezone, unit))
    return "".join(parts) + "</section>"


class _Rows(NamedTuple):
    """One sensor's rows of each frame of a section (None: that frame was not given)."""

    points: pl.DataFrame | None
    flagged: pl.DataFrame | None
    current: pl.DataFrame | None
    ref: pl.DataFrame | None
    events: pl.DataFrame | None


def _split(frame: pl.DataFrame | None, sensors: list[str]) -> dict[str, pl.DataFrame | None]:
    """Return the rows of each sensor of `sensors` (empty if none), by one partition."""
    if frame is None:
        return dict.fromkeys(sensors)
    parts = {key[0]: rows for key, rows in frame.partition_by(SENSOR, as_dict=True).items()}
    return {sensor: parts.get(sensor, frame.clear()) for sensor in sensors}


def _flagged(flags: pl.DataFrame) -> pl.DataFrame:
    """Gather the readings flagged by a point check: sensor, time, value, check."""
    parts = []
    for check in POINT_CHECKS:
        column = f"flag_{check}"
        if column not in flags.columns:
            continue
        rows = flags.filter(pl.col(column) & pl.col(VALUE).is_not_null())
        for sensor_rows in rows.partition_by(SENSOR):
            if sensor_rows.height > _MAX_POINTS:
                sensor_rows = downsample(sensor_rows, buckets=_MAX_POINTS // 4)
            parts.append(sensor_rows.select(SENSOR, TIME, VALUE, pl.lit(check).alias("check")))
    if not parts:
        schema: dict[str, pl.DataType] = {
            SENSOR: pl.String(),
            TIME: pl.Datetime("us", "UTC"),
            VALUE: pl.Float64(),
        }
        return pl.DataFrame(schema=schema | {"check": pl.String()})
    return pl.concat(parts)


def _sensor(
    sensor: str,
    anchor: str,
    quality: QualityReport | None,
    drift: DriftReport | None,
    rows: _Rows,
    timezone: str,
    unit: str | None,
) -> str:
    points, flagged, current, ref, events = rows
    q = quality[sensor] if quality is not None and sensor in quality else None
    d = drift[sensor] if drift is not None and sensor in drift else None
    head = (
        f'<article class="sensor" id="{anchor}"><h3>{html.escape(sensor)} '
        f"{badge(q.status.value) if q else ''} "
        f"{badge(d.severity.value if d and d.severity else None) if d else ''}</h3>"
    )
    parts = [head]
    if q is not None:
        parts.append(
            f'<p class="note">{q.rows:,} readings, {q.missing_pct:.1f}% missing, '
            f"{100 * q.pass_rate:.1f}% pass every check; graded by "
            f"{html.escape(', '.join(q.graded_by) or 'nothing')}</p>"
        )
    if events is None:
        events = pl.DataFrame(schema={"check": pl.String, "start": pl.Datetime("us", "UTC")})
    if points is not None and points.height:
        span: tuple[datetime, datetime] | None = None
        if ref is not None and ref.height:
            span = cast("tuple[datetime, datetime]", (ref[TIME].min(), ref[TIME].max()))
        flags = flagged if flagged is not None else _flagged(pl.DataFrame())
        plot = series_plot(
            points,
            flags,
            events.select("check", "start", "end") if "end" in events.columns else events,
            reference_span=span,
            timezone=timezone,
            unit=unit,
        )
        parts.append(f'<div class="plot">{plot}</div>')
    parts.append(_drift_block(d, current, ref, unit))
    words = [*(q.issues if q else ()), *([f"drift: {d.change}"] if d and d.change else [])]
    advice = [*(q.recommendations if q else ()), *(d.recommendations if d else ())]
    parts.append('<div class="row"><div><h4>Issues</h4>')
    parts.append(bullets(words, empty="No issue found."))
    parts.append("</div><div><h4>Recommendations</h4>")
    parts.append(bullets(advice, empty="Nothing to do.") + "</div></div>")
    if quality is not None and events.height:
        shown = events.sort("start").head(_EPISODES_SHOWN).drop(SENSOR)
        parts.append(
            f'<h4>Episodes</h4><p class="note">{events.height:,} in all'
            f"{', the first ' + str(shown.height) if shown.height < events.height else ''}.</p>"
            + table(shown, timezone=timezone)
        )
    return "".join(parts) + "</article>"


def _drift_block(
    d: Any, current: pl.DataFrame | None, ref: pl.DataFrame | None, unit: str | None
) -> str:
    """Show reference against current: histograms, their statistics, the drift tests."""
    left = ""
    if ref is not None and current is not None:
        lo, hi = ref[TIME].min(), ref[TIME].max()
        outside = current.filter((pl.col(TIME) < lo) | (pl.col(TIME) > hi)) if lo else current
        r = ref[VALUE].drop_nulls().to_numpy()
        c = outside[VALUE].drop_nulls().to_numpy()
        left = distribution_plot(r, c, unit=unit) + table(_describe(r, c))
    right = ""
    if d is not None:
        right = (
            table(_tests(d))
            if d.severity is not None
            else (f'<p class="note">Drift not assessed: {html.escape(d.status)}.</p>')
        )
    if not left and not right:
        return ""
    columns = "".join(f"<div>{part}</div>" for part in (left, right) if part)
    return f'<h4>Reference against current</h4><div class="row">{columns}</div>'


def _describe(reference: np.ndarray, current: np.ndarray) -> pl.DataFrame:
    def stats(x: np.ndarray) -> list[float | None]:
        if not x.size:
            return [0.0, *[None] * 5]
        q = np.quantile(x, [0.05, 0.5, 0.95])
        return [float(x.size), float(x.mean()), float(x.std()), *map(float, q)]

    return pl.DataFrame(
        {
            "statistic": ["readings", "mean", "std", "5%", "median", "95%"],
            "reference": stats(reference),
            "current": stats(current),
        }
    )


def _fmt(value: float | None, spec: str = ".3g") -> str:
    return "n/a" if value is None else format(value, spec)


def _tests(d: Any) -> pl.DataFrame:
    m, t = d.metrics, d.statistical_tests
    psi, ks = t["psi_test"], t["ks_test"]
    sizes = f"{m['n_ref']:,} / {m['n_cur']:,}"
    effective = f"{_fmt(m['n_eff_reference'], '.0f')} / {_fmt(m['n_eff_current'], '.0f')}"
    rows = [
        ("severity", str(d.severity.value)),
        ("drift detected", "yes" if d.drift_detected else "no"),
        ("drift score", _fmt(d.drift_score)),
        ("PSI (p-value)", f"{_fmt(m['psi'])} ({_fmt(psi['p_value'], '.2g')})"),
        ("KS D (p-value)", f"{_fmt(ks['statistic'])} ({_fmt(ks['p_value'], '.2g')})"),
        ("Jensen-Shannon distance", _fmt(m["js_distance"])),
        ("mean shift (reference sd)", _fmt(m["mean_shift"])),
        ("std ratio", _fmt(m["std_ratio"])),
        ("readings (effective)", f"{sizes} ({effective})"),
    ]
    return pl.DataFrame(rows, schema=["drift", "value"], orient="row")
