"""
HTML pieces of the report: badges, count cards, tables, lists, escaped throughout.

Every text that comes from data (sensor ids, issue texts, numbers) goes through
:func:`html.escape`; the figures are SVG the report drew itself.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

import polars as pl

from sensorframe.drift.config import DriftSeverity
from sensorframe.quality.status import QualityStatus
from sensorframe.quality.text import human_duration
from sensorframe.reporting.figure import NOT_ASSESSED, SEVERITY_COLORS, STATUS_COLORS

__all__ = ["badge", "bullets", "cards", "cell", "escape_expr", "table"]

_DARK = {QualityStatus.EXCELLENT, QualityStatus.CRITICAL, DriftSeverity.HIGH}
_DARK |= {DriftSeverity.CRITICAL}


def cell(value: object, *, timezone: str = "UTC") -> str:
    """
    One value as table text: floats to 4 significant digits, times in `timezone`.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> from sensorframe.reporting.html import cell
    >>> noon = datetime(2026, 1, 1, 12, tzinfo=UTC)
    >>> cell(0.123456), cell(None), cell(noon, timezone="Asia/Tokyo")
    ('0.1235', '', '2026-01-01 21:00')
    >>> cell(timedelta(hours=26)), cell("<b>")
    ('1 day 2 h', '&lt;b&gt;')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        moment = pl.Series([value]).dt.convert_time_zone(timezone).item()
        return html.escape(moment.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, timedelta):
        return html.escape(pl.select(human_duration(pl.lit(value))).item())
    if isinstance(value, list | tuple):
        return html.escape(", ".join(str(v) for v in value))
    return html.escape(str(value))


def escape_expr(text: pl.Expr) -> pl.Expr:
    """
    Escape a string column for HTML as :func:`html.escape` does, in one pass.

    Examples
    --------
    >>> from sensorframe.reporting.html import escape_expr
    >>> pl.select(escape_expr(pl.lit("<a & 'b'>"))).item()
    '&lt;a &amp; &#x27;b&#x27;&gt;'
    """
    return text.str.replace_many(list(_ESCAPES), list(_ESCAPES.values()))


_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}


def _temporal_text(schema: pl.Schema, timezone: str, *, skip: Sequence[str]) -> list[pl.Expr]:
    """
    Render the times and durations of a table as :func:`cell` does, a column at a time.

    One expression per column instead of a query per value (a naive time is UTC).
    """
    exprs = []
    for name, dtype in schema.items():
        column = pl.col(name)
        if name in skip:
            continue
        if isinstance(dtype, pl.Datetime):
            aware = column if dtype.time_zone else column.dt.replace_time_zone("UTC")
            local = aware.dt.convert_time_zone(timezone)
            exprs.append(local.dt.strftime("%Y-%m-%d %H:%M"))
        elif isinstance(dtype, pl.Duration):
            exprs.append(human_duration(column).alias(name))
    return exprs


def badge(grade: str | None) -> str:
    """Render a coloured label for a quality status or drift severity (grey when None)."""
    if grade is None:
        return f'<span class="badge" style="background:{NOT_ASSESSED}">not assessed</span>'
    color, dark = NOT_ASSESSED, False
    for enum, colors in ((QualityStatus, STATUS_COLORS), (DriftSeverity, SEVERITY_COLORS)):
        if grade in {member.value for member in enum}:
            member = enum(grade)
            color, dark = colors[member], member in _DARK  # type: ignore[index]
            break
    ink = "#fff" if dark else "#1f2328"
    return f'<span class="badge" style="background:{color};color:{ink}">{html.escape(grade)}</span>'


def cards(counts: Mapping[str, int], *, title: str) -> str:
    """One card per grade with its count and colour swatch, under a small title."""
    items = "".join(
        f'<div class="card"><div class="n">{n:,}</div><div class="label">{badge(grade)}</div></div>'
        for grade, n in counts.items()
    )
    return f'<p class="note">{html.escape(title)}</p><div class="cards">{items}</div>'


def bullets(items: Iterable[str], *, empty: str) -> str:
    """Render an escaped bullet list, or `empty` in words when there is nothing to list."""
    rows = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return f"<ul>{rows}</ul>" if rows else f'<p class="note">{html.escape(empty)}</p>'


def table(
    frame: pl.DataFrame,
    *,
    timezone: str = "UTC",
    html_columns: Sequence[str] = (),
    numeric_columns: Sequence[str] = (),
    table_id: str | None = None,
) -> str:
    r"""
    Render an HTML table of `frame`; `html_columns` hold trusted HTML (badges, links).

    The numeric columns (and `numeric_columns`, e.g. numbers already rendered as HTML)
    are aligned right.

    Examples
    --------
    >>> from sensorframe.reporting.html import table
    >>> print(table(pl.DataFrame({"a": [1.5], "b": ["<x>"]})).replace("><", ">\n<"))
    <table>
    <thead>
    <tr>
    <th>a</th>
    <th>b</th>
    </tr>
    </thead>
    <tbody>
    <tr>
    <td class="num">1.5</td>
    <td>&lt;x&gt;</td>
    </tr>
    </tbody>
    </table>
    """
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()} | set(numeric_columns)
    frame = frame.with_columns(_temporal_text(frame.schema, timezone, skip=html_columns))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.iter_rows():
        tds = []
        for name, value in zip(frame.columns, row, strict=True):
            text = (value or "") if name in html_columns else cell(value, timezone=timezone)
            tds.append(f'<td class="num">{text}</td>' if name in numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    ident = f' id="{html.escape(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
