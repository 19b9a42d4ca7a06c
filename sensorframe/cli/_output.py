"""
What the command line prints: compact summaries, full tables, JSON, and one-line errors.

A terminal gets a summary per sensor (its status and the issue that decided it) that fits
the screen; ``--full`` prints every column and ``--json`` every column as JSON. Library
messages that name Python arguments are rewritten with the matching flags.
"""

from __future__ import annotations

import json
import re
import shutil
import sys

import polars as pl

from sensorframe._render import render
from sensorframe.frame import SENSOR

__all__ = ["drift_summary", "emit", "fail", "quality_summary"]

# Hints in library messages that name Python arguments, and the flags that do the same.
_FLAG_HINTS = (
    (re.compile(r"columns=sf\.Columns\([^)]*\)"), "--sensor-col, --time-col and --value-col"),
    (re.compile(r"\btime_format=(\S+)"), r"--time-format \1"),
    (re.compile(r"\btime_format="), "--time-format"),
    (re.compile(r"\btimezone="), "--timezone "),
    (re.compile(r"\bambiguous='(infer|earliest|latest)'"), r"--ambiguous \1"),
    (re.compile(r"`horizon`"), "--target-horizon"),
    (re.compile(r"`threshold`"), "--threshold"),
    (re.compile(r"kind='event'"), "--target-kind event"),
    (re.compile(r"kind='(value|mean|max)'"), r"--target-kind \1"),
    (re.compile(r"`outlier_z`"), "--outlier-z"),
    (re.compile(r"`outlier_method`"), "--outlier-method"),
    (re.compile(r"`expected_interval`"), "--expected-interval"),
    (re.compile(r"`flatline_ignore`"), "--flatline-ignore"),
    (re.compile(r"`per_sensor`"), "--per-sensor"),
    (re.compile(r"`alpha`"), "--alpha"),
)

# The first words of each check's issue text (quality.text), by check name.
_ISSUE_PREFIX = {
    "missing": "missing",
    "outlier": "outliers",
    "flatline": "flat-line",
    "stuck": "flat-line",
    "gap": "gaps",
    "duplicate": "duplicates",
    "out_of_order": "out of order",
    "range": "range",
    "spike": "spikes",
    "interpolated": "interpolated",
    "level_shift": "level shift",
}


def fail(message: str, *, kind: str = "error") -> None:
    """Print ``message`` as one line, with flags in place of the library's Python hints."""
    for pattern, flag in _FLAG_HINTS:
        message = pattern.sub(flag, message)
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"sensorframe: {kind}: {line}", file=sys.stderr)


def emit(table: pl.DataFrame, *, as_json: bool, vertical: bool = False) -> None:
    """
    Print a table, its rows as JSON, or (``vertical``) one block of ``column: value`` per row.

    Examples
    --------
    >>> emit(pl.DataFrame({"sensor_id": ["a"], "psi": [0.5], "issues": [["x", "y"]]}),
    ...      as_json=False, vertical=True)
    sensor_id: a
      psi: 0.5
      issues: x; y
    """
    if as_json:
        print(json.dumps(table.to_dicts(), default=str, indent=1))
    elif vertical:
        print("\n\n".join(_block(row) for row in table.to_dicts()))
    else:
        print(render(table))


def _block(row: dict[str, object]) -> str:
    first, *rest = row.items()
    lines = [f"{first[0]}: {first[1]}"]
    for name, value in rest:
        text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
        lines.append(f"  {name}: {text}")
    return "\n".join(lines)


def quality_summary(table: pl.DataFrame) -> pl.DataFrame:
    """
    One line per sensor, worst first: status, rows and the issue that set the status.

    Examples
    --------
    >>> report = sf.assess_quality(sf.datasets.synthetic(n_sensors=2, n_points=600).frame)
    >>> quality_summary(report.table).columns
    ['sensor_id', 'status', 'rows', 'main_issue']
    """
    main = [
        _main_issue(graded, issues)
        for graded, issues in zip(table["graded_by"], table["issues"], strict=True)
    ]
    order = pl.col("status").cast(pl.String).replace_strict(_STATUS_ORDER, default=9)
    return (
        table.select(SENSOR, "status", "rows")
        .with_columns(_fit(pl.Series("main_issue", main, dtype=pl.String)))
        .sort(order, SENSOR)
    )


def drift_summary(table: pl.DataFrame) -> pl.DataFrame:
    """
    One line per sensor, most severe first: severity, whether drift was detected, the change.

    Examples
    --------
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=800, faults=()).frame
    >>> report = sf.drift.detect_drift(data.head(400), data.tail(400))
    >>> drift_summary(report.table).columns
    ['sensor_id', 'severity', 'drift_detected', 'change']
    """
    change = pl.coalesce(pl.col("change"), pl.col("status").cast(pl.String))
    return (
        table.select(SENSOR, "severity", "drift_detected", change.alias("change"))
        .with_columns(pl.col("change").map_batches(_fit, return_dtype=pl.String))
        .sort(pl.col("severity").to_physical(), SENSOR, descending=[True, False], nulls_last=True)
    )


_STATUS_ORDER = {"critical": 0, "poor": 1, "fair": 2, "good": 3, "excellent": 4}


def _main_issue(graded: pl.Series, issues: pl.Series) -> str:
    texts = issues.to_list() if issues is not None else []
    for check in graded.to_list() if graded is not None else []:
        prefix = _ISSUE_PREFIX.get(check, check)
        for text in texts:
            if text.startswith(prefix):
                return str(text)
    return str(texts[0]) if texts else "-"


def _fit(texts: pl.Series) -> pl.Series:
    """Cut texts to what fits beside the other columns of a terminal line."""
    width = max(40, shutil.get_terminal_size((120, 24)).columns - 50)
    cut = (
        pl.when(texts.str.len_chars() > width)
        .then(texts.str.slice(0, width - 1) + "…")
        .otherwise(texts)
    )
    return pl.select(cut.alias(texts.name)).to_series()
