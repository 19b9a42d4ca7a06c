"""
A small self-contained HTML page of an exploration: cost against relevance per family.

The plot is hand-written inline SVG (no script, no dependency): one point per family,
its compute time per million rows on a log scale across, ``-log10`` of its smallest
adjusted p-value up (the dashed line is the FDR level), then the families table.
"""

from __future__ import annotations

import html
import math

import polars as pl

from sensorframe.explore.exploration import Exploration

__all__ = ["exploration_html"]

_W, _H, _PAD = 640, 400, 56
_P_FLOOR = 1e-16
"""Smallest p-value plotted: float64 p-values below it are rounding noise."""


def exploration_html(result: Exploration, *, title: str = "sensorframe explore") -> str:
    """
    Render `result` as a self-contained HTML page with an SVG scatter of its families.

    Without a target the vertical axis is empty (every family at 0).

    Examples
    --------
    >>> from sensorframe.explore import explore_features
    >>> from sensorframe.explore.report import exploration_html
    >>> data = sf.datasets.synthetic(n_sensors=1, n_points=400, seed=1).frame
    >>> page = exploration_html(explore_features(data, sf.FeatureConfig(lags=[1])))
    >>> page.startswith("<!DOCTYPE html>"), "<svg" in page
    (True, True)
    """
    fams = result.families
    cost = [max(float(c), 1e-9) for c in fams["seconds_per_million_rows"].to_list()]
    if "p_value_adjusted" in fams.columns:
        ps = fams["p_value_adjusted"].to_list()
        up = [-math.log10(max(p, _P_FLOOR)) if p is not None else 0.0 for p in ps]
    else:
        up = [0.0] * fams.height
    low, high = math.log10(min(cost)), math.log10(max(cost))
    low, high = (low - 0.5, high + 0.5) if high - low < 1e-9 else (low, high)
    top = max([*up, -math.log10(result.fdr)]) * 1.1 or 1.0

    def sx(c: float) -> float:
        return _PAD + (math.log10(c) - low) / (high - low) * (_W - 2 * _PAD)

    def sy(v: float) -> float:
        return _H - _PAD - v / top * (_H - 2 * _PAD)

    selected = fams["selected"].to_list()
    marks = []
    for name, c, v, chosen in zip(fams["family"].to_list(), cost, up, selected, strict=True):
        fill = "#1f77b4" if chosen else "#aaaaaa"
        x, y = sx(c), sy(v)
        marks.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}"><title>{html.escape(name)}: '
            f"{c:.3g} s per million rows, -log10 p {v:.2f}</title></circle>"
            f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" font-size="11">{html.escape(name)}</text>'
        )
    fdr_y = sy(-math.log10(result.fdr))
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'font-family="sans-serif">'
        f'<rect width="{_W}" height="{_H}" fill="white"/>'
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="black"/>'
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" stroke="black"/>'
        f'<line x1="{_PAD}" y1="{fdr_y:.1f}" x2="{_W - _PAD}" y2="{fdr_y:.1f}" stroke="#d62728" '
        f'stroke-dasharray="4 3"/>'
        f'<text x="{_W / 2:.0f}" y="{_H - 16}" text-anchor="middle" font-size="12">'
        f"seconds per million rows (log scale, {min(cost):.3g} to {max(cost):.3g})</text>"
        f'<text x="16" y="{_H / 2:.0f}" font-size="12" transform="rotate(-90 16 {_H / 2:.0f})" '
        f'text-anchor="middle">-log10 smallest adjusted p-value</text>' + "".join(marks) + "</svg>"
    )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(repr(result))}</p>{svg}"
        f"<h2>Families</h2>{_table(fams)}</body></html>\n"
    )


def _table(frame: pl.DataFrame) -> str:
    def cell(v: object) -> str:
        return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in frame.iter_rows()
    )
    return f"<table border='1' cellspacing='0' cellpadding='3'><tr>{head}</tr>{rows}</table>"
