"""
One sensor's plots: its series with flagged readings and episodes, and its distributions.

The series is drawn from :func:`~sensorframe.reporting.sampling.downsample` (first, last,
min and max per pixel-wide bucket, so spikes stay visible). Readings flagged by a
point check are marked on it; episodes (flat-lines, missing stretches, gaps,
interpolated stretches) are bars in one lane per check below it, so overlapping
episodes of different checks stay apart; a level shift is a vertical line.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from sensorframe.frame import TIME, VALUE
from sensorframe.reporting.figure import CHECK_COLORS, new_figure, svg
from sensorframe.reporting.fleet import wall_clock

__all__ = ["POINT_CHECKS", "distribution_plot", "series_plot"]

POINT_CHECKS = ("outlier", "spike", "range", "duplicate", "out_of_order")
"""Checks whose flagged readings are marked on the series (the others are episodes)."""
_MAX_EPISODES = 300
"""Longest episodes drawn per check (the table lists them all)."""
_REFERENCE = "#deebf7"
_LINE = "#08519c"


def series_plot(
    points: pl.DataFrame,
    flagged: pl.DataFrame,
    events: pl.DataFrame,
    *,
    reference_span: tuple[datetime, datetime] | None,
    timezone: str,
    unit: str | None,
) -> str:
    """
    Draw the series of one sensor with its flags, as SVG.

    Parameters
    ----------
    points
        ``timestamp``, ``value``: the downsampled readings.
    flagged
        ``timestamp``, ``value``, ``check``: readings flagged by a point check.
    events
        ``check``, ``start``, ``end``: the sensor's quality episodes.
    reference_span
        First and last reference reading, shaded; None without a reference.
    timezone
        Zone of the time axis.
    unit
        Unit of the values, for the axis label.
    """
    from matplotlib.dates import AutoDateLocator

    lanes = [c for c in CHECK_COLORS if c not in POINT_CHECKS and c in set(events["check"])]
    lanes = [c for c in lanes if c != "level_shift"]
    # Fixed margins (constrained layout would measure every label twice more): room on
    # the left for tick labels of up to 7 characters (matplotlib switches to an offset
    # or scientific notation beyond) and for the episode lanes' names, on the right for
    # the legend, on top for an offset ("1e6"); the axes are as wide for every sensor.
    left = 1.1 if lanes else 0.85
    with new_figure(9.0, 3.0 + 0.22 * len(lanes), margins=(left, 2.3, 0.6, 0.3)) as fig:
        ratios = [4.0, 0.3 + 0.25 * len(lanes)] if lanes else [1.0]
        axes = fig.subplots(
            len(ratios), 1, sharex=True, height_ratios=ratios, squeeze=False,
            gridspec_kw={"hspace": 0.15},
        )  # fmt: skip
        ax = axes[0, 0]
        if reference_span is not None:
            lo, hi = wall_clock(pl.Series(reference_span, dtype=points[TIME].dtype), timezone)
            ax.axvspan(lo, hi, color=_REFERENCE, label="reference period", zorder=0)
        ax.plot(wall_clock(points[TIME], timezone), points[VALUE].to_numpy(), color=_LINE,
                linewidth=0.7, label="reading (min/max per pixel)")  # fmt: skip
        for check in POINT_CHECKS:
            rows = flagged.filter(pl.col("check") == check)
            if rows.height:
                ax.scatter(wall_clock(rows[TIME], timezone), rows[VALUE].to_numpy(), s=9,
                           color=CHECK_COLORS[check], label=f"{check} ({rows.height:,})",
                           zorder=3, linewidths=0)  # fmt: skip
        shifts = events.filter(pl.col("check") == "level_shift")
        for i, at in enumerate(wall_clock(shifts["start"], timezone)):
            ax.axvline(at, color=CHECK_COLORS["level_shift"], linestyle="--", linewidth=1.0,
                       label="level shift" if i == 0 else None)  # fmt: skip
        ax.set_ylabel(f"value ({unit})" if unit else "value")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        if lanes:
            _episodes(axes[1, 0], events, lanes, timezone)
        axes[-1, 0].set_xlabel(f"time ({timezone})")
        # at most 7 dates: their labels fit the axes side by side
        axes[-1, 0].xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=7))
        return svg(fig)


def _episodes(ax: object, events: pl.DataFrame, lanes: list[str], timezone: str) -> None:
    """One lane per check: a bar per episode, at least a thousandth of the axis wide."""
    span = events.select(pl.col("end").max() - pl.col("start").min()).item()
    shortest = np.timedelta64(int(span.total_seconds() * 1e6 / 1000) + 1, "us")
    for lane, check in enumerate(lanes):
        rows = (
            events.filter(pl.col("check") == check)
            .sort(pl.col("end") - pl.col("start"), descending=True)
            .head(_MAX_EPISODES)
        )
        starts = wall_clock(rows["start"], timezone)
        widths = np.maximum(wall_clock(rows["end"], timezone) - starts, shortest)
        ax.broken_barh(  # type: ignore[attr-defined]
            list(zip(starts, widths, strict=True)), (lane + 0.15, 0.7), color=CHECK_COLORS[check]
        )
    ax.set_yticks(np.arange(len(lanes)) + 0.5, lanes)  # type: ignore[attr-defined]
    ax.set_ylim(len(lanes), 0)  # type: ignore[attr-defined]
    ax.grid(axis="y", visible=False)  # type: ignore[attr-defined]
    ax.set_ylabel("episodes")  # type: ignore[attr-defined]


def distribution_plot(reference: np.ndarray, current: np.ndarray, *, unit: str | None) -> str:
    """
    Draw reference and current histograms on the same bins (density), as SVG.

    The bins span the 0.5-99.5% quantiles of both samples together, so a few extreme
    readings do not squash the rest; readings beyond them count in the outer bins.
    """
    pooled = np.concatenate([reference, current])
    lo, hi = np.quantile(pooled, [0.005, 0.995]) if pooled.size else (0.0, 1.0)
    lo, hi = (lo - 0.5, hi + 0.5) if hi <= lo else (lo, hi)
    edges = np.linspace(lo, hi, 41)
    # fixed margins: the legend is inside the axes, the tick labels are short numbers
    with new_figure(5.0, 2.8, margins=(0.75, 0.15, 0.5, 0.15)) as fig:
        ax = fig.add_subplot()
        for sample, name, color, filled in (
            (reference, "reference", "#969696", True),
            (current, "current", _LINE, False),
        ):
            if sample.size:
                ax.hist(
                    np.clip(sample, lo, hi),
                    bins=edges.tolist(),
                    density=True,
                    histtype="stepfilled" if filled else "step",
                    color=color,
                    alpha=0.6 if filled else 1.0,
                    linewidth=1.4,
                    label=f"{name} (n={sample.size:,})",
                )
        ax.set_xlabel(f"value ({unit})" if unit else "value")
        ax.set_ylabel("density")
        ax.legend(loc="upper right")
        return svg(fig)
