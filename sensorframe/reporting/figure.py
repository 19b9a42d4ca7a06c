"""
Matplotlib figures as inline SVG: the colours, the style and the conversion.

Figures are built with the object API (``matplotlib.figure.Figure``, never
``pyplot``), so no global state and no GUI backend is touched. Text stays text in
the SVG (``svg.fonttype = "none"``: smaller, selectable, drawn in the page's font),
and every ``id`` is prefixed per figure so that many SVGs can live in one page.
"""

from __future__ import annotations

import base64
import io
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sensorframe.drift.config import DriftSeverity
from sensorframe.quality.status import QualityStatus

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CHECK_COLORS",
    "NOT_ASSESSED",
    "SEVERITY_COLORS",
    "STATUS_COLORS",
    "new_figure",
    "png_data_uri",
    "require_matplotlib",
    "svg",
]

STATUS_COLORS = {
    QualityStatus.EXCELLENT: "#1a9850",
    QualityStatus.GOOD: "#91cf60",
    QualityStatus.FAIR: "#fee08b",
    QualityStatus.POOR: "#fc8d59",
    QualityStatus.CRITICAL: "#d73027",
}
"""Quality grades, green to red (ColorBrewer RdYlGn)."""
SEVERITY_COLORS = {
    DriftSeverity.NONE: "#f2f0f7",
    DriftSeverity.LOW: "#cbc9e2",
    DriftSeverity.MODERATE: "#9e9ac8",
    DriftSeverity.HIGH: "#756bb1",
    DriftSeverity.CRITICAL: "#54278f",
}
"""Drift severities, light to dark purple (ColorBrewer Purples): not the quality colours."""
NOT_ASSESSED = "#bdbdbd"
"""A sensor without a grade (not in the report, or too few readings)."""
CHECK_COLORS = {
    "missing": "#7f7f7f",
    "outlier": "#d62728",
    "flatline": "#ff7f0e",
    "gap": "#8c564b",
    "duplicate": "#e377c2",
    "out_of_order": "#bcbd22",
    "range": "#9467bd",
    "spike": "#e31a1c",
    "interpolated": "#17becf",
    "level_shift": "#2ca02c",
}
"""One colour per quality check, for flagged rows and episodes."""

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "sensorframe",
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.0,
}
_IDS = re.compile(r'\bid="([^"]+)"')
_REFS = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')
"""An id, or a reference to one: the part before the name, and the name."""
_figures = itertools.count()


def require_matplotlib() -> None:
    """Raise an ImportError that says how to install matplotlib, if it is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:  # an optional extra
        msg = "the HTML report needs matplotlib: pip install 'sensorframe[report]'"
        raise ImportError(msg) from exc


@contextmanager
def new_figure(
    width: float, height: float, *, margins: tuple[float, float, float, float] | None = None
) -> Iterator[Figure]:
    """
    Yield a blank figure of `width` x `height` inches in the report's style.

    By default matplotlib's constrained layout fits the axes around their labels and
    legends; it measures every label twice before drawing, so a figure whose labels
    are known to fit gives fixed `margins` instead (left, right, bottom, top, in
    inches), at a third of the cost.

    Examples
    --------
    >>> from sensorframe.reporting.figure import new_figure, svg
    >>> with new_figure(2, 1) as fig:
    ...     _ = fig.add_subplot().plot([0, 1], [1, 0])
    ...     print(svg(fig)[:4])
    <svg
    """
    require_matplotlib()
    import matplotlib as mpl
    from matplotlib.figure import Figure

    with mpl.rc_context(_RC):  # type: ignore[arg-type]
        if margins is None:
            yield Figure(figsize=(width, height), layout="constrained")
            return
        fig = Figure(figsize=(width, height))
        left, right, bottom, top = margins
        fig.subplots_adjust(
            left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
        )
        yield fig


def svg(fig: Figure) -> str:
    """Return the figure as an ``<svg>`` element, its ids unique in the page."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    prefix = f"f{next(_figures)}-"
    ids = set(_IDS.findall(text))

    def prefixed(ref: re.Match[str]) -> str:
        return f"{ref[1]}{prefix}{ref[2]}" if ref[2] in ids else ref[0]

    return _REFS.sub(prefixed, text)  # one pass over the text


def png_data_uri(fig: Figure, *, dpi: int = 100) -> str:
    """Return the figure as a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
