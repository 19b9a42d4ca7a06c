"""
The fleet overview's plots: grades per check, the worst sensors' heat map, drift, timeline.

Every plot reads small per-sensor tables (one row per sensor or per sensor and chunk)
and draws at most :data:`MAX_ROWS` labelled sensors, so a fleet of 10,000 sensors
gives figures of the same size as a fleet of 50: the fleet-wide views aggregate
(sensors per grade, drifted sensors per chunk), the heat maps show the worst sensors.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sensorframe.drift.config import DriftSeverity
from sensorframe.frame import SENSOR
from sensorframe.reporting.figure import (
    NOT_ASSESSED,
    SEVERITY_COLORS,
    STATUS_COLORS,
    new_figure,
    svg,
)

__all__ = ["MAX_ROWS", "check_bars", "drift_bars", "grade_heatmap", "timeline_plot", "wall_clock"]

MAX_ROWS = 40
"""Most sensors a heat map or bar chart labels (the worst ones)."""


def wall_clock(times: pl.Series, timezone: str) -> np.ndarray:
    """Convert times to naive ``datetime64[us]`` wall-clock times in `timezone`."""
    local = times.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    return local.to_numpy()


def _legend(ax: object, colors: dict[str, str], title: str) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, edgecolor="#999999", label=name) for name, c in colors.items()]
    ax.legend(  # type: ignore[attr-defined]
        handles=handles, title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )


def _status_colors() -> dict[str, str]:
    return {s.value: c for s, c in STATUS_COLORS.items()}


def check_bars(grades: pl.DataFrame, checks: list[str]) -> str:
    """
    Stacked bars: for each check, how many sensors it grades at each level.

    `grades` has one row per sensor and one Int8 rank column (0-4) per check.
    """
    ranks = grades.select(checks).to_numpy()
    with new_figure(7.5, 0.32 * len(checks) + 1.0) as fig:
        ax = fig.add_subplot()
        left = np.zeros(len(checks))
        for status, color in STATUS_COLORS.items():
            n = (ranks == status.rank).sum(axis=0)
            ax.barh(checks, n, left=left, color=color, edgecolor="white", linewidth=0.5)
            left += n
        ax.invert_yaxis()
        ax.set_xlim(0, max(grades.height, 1))
        ax.set_xlabel("sensors")
        ax.grid(axis="y", visible=False)
        ax.set_title("Grade each check gives, across the fleet", loc="left")
        _legend(ax, _status_colors(), "grade")
        return svg(fig)


def grade_heatmap(grades: pl.DataFrame, checks: list[str]) -> str:
    """
    Heat map of the grade each check gives each sensor, one row per sensor, top first.

    `grades` is already in display order (worst first) and at most :data:`MAX_ROWS`.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    ranks = grades.select(checks).to_numpy().astype(float)
    names = grades[SENSOR].to_list()
    cmap = ListedColormap(list(STATUS_COLORS.values()))
    norm = BoundaryNorm(np.arange(-0.5, 5.0), cmap.N)
    with new_figure(7.5, 0.2 * len(names) + 1.6) as fig:
        ax = fig.add_subplot()
        ax.pcolormesh(ranks, cmap=cmap, norm=norm, edgecolors="white", linewidth=0.5)
        ax.set_xticks(np.arange(len(checks)) + 0.5, checks, rotation=35, ha="left")
        ax.set_yticks(np.arange(len(names)) + 0.5, names)
        ax.xaxis.tick_top()
        ax.set_xlim(0, len(checks))
        ax.set_ylim(len(names), 0)
        ax.tick_params(length=0)
        ax.grid(visible=False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        _legend(ax, _status_colors(), "grade")
        return svg(fig)


def drift_bars(table: pl.DataFrame) -> str:
    """
    Horizontal bars of the drift score of the sensors of `table`, in its order.

    `table` has ``sensor_id``, ``drift_score`` and ``severity`` (null: not assessed),
    at most :data:`MAX_ROWS` rows.
    """
    names = table[SENSOR].to_list()
    scores = table["drift_score"].fill_null(0.0).to_numpy()
    colors = [
        NOT_ASSESSED if s is None else SEVERITY_COLORS[DriftSeverity(s)]
        for s in table["severity"].cast(pl.String).to_list()
    ]
    with new_figure(7.5, 0.2 * len(names) + 1.2) as fig:
        ax = fig.add_subplot()
        ax.barh(names, scores, color=colors, edgecolor="#666666", linewidth=0.4)
        ax.invert_yaxis()
        ax.set_xlabel("drift score (largest effect size against its threshold)")
        ax.grid(axis="y", visible=False)
        legend = {s.value: c for s, c in SEVERITY_COLORS.items()} | {"not assessed": NOT_ASSESSED}
        _legend(ax, legend, "severity")
        return svg(fig)


def timeline_plot(timeline: pl.DataFrame, sensors: list[str], *, timezone: str) -> str:
    """
    Drift over time: drifted sensors per chunk (fleet), then severity per chunk of `sensors`.

    `timeline` is a :func:`sensorframe.drift_timeline` result.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    chunks = (
        timeline.group_by("chunk")
        .agg(
            pl.col("chunk_start").first(),
            pl.col("chunk_end").first(),
            pl.col("drift_detected").fill_null(value=False).sum().alias("drifted"),
        )
        .sort("chunk")
    )
    starts = wall_clock(chunks["chunk_start"], timezone)
    ends = wall_clock(chunks["chunk_end"], timezone)
    ranks = {s.value: s.rank for s in DriftSeverity}
    cells = (
        timeline.filter(pl.col(SENSOR).is_in(sensors))
        .select(
            SENSOR,
            "chunk",
            pl.col("severity")
            .cast(pl.String)
            .replace_strict(ranks, default=-1, return_dtype=pl.Int8),
        )
        .pivot("chunk", index=SENSOR, values="severity", sort_columns=True)
    )
    order = {s: i for i, s in enumerate(sensors)}
    cells = cells.sort(pl.col(SENSOR).replace_strict(order, return_dtype=pl.Int64))
    columns = [str(c) for c in chunks["chunk"].to_list()]
    grid = cells.select(pl.col(c) if c in cells.columns else pl.lit(None) for c in columns)
    matrix = grid.to_numpy().astype(float)
    matrix[np.isnan(matrix)] = -1
    cmap = ListedColormap([NOT_ASSESSED, *SEVERITY_COLORS.values()])
    norm = BoundaryNorm(np.arange(-1.5, 5.0), cmap.N)
    edges = np.append(starts, ends[-1:]) if len(starts) else starts
    with new_figure(7.5, 0.2 * len(sensors) + 2.6) as fig:
        top, bottom = fig.subplots(
            2, 1, sharex=True, height_ratios=[1.2, max(len(sensors), 1) * 0.2 + 0.2]
        )
        top.bar(starts, chunks["drifted"].to_numpy(), width=ends - starts, align="edge",
                color=SEVERITY_COLORS[DriftSeverity.HIGH])  # fmt: skip
        top.set_ylabel("sensors\ndrifted")
        top.set_title("Drift per chunk", loc="left")
        if cells.height:
            bottom.pcolormesh(edges, np.arange(cells.height + 1), matrix, cmap=cmap, norm=norm,
                              edgecolors="white", linewidth=0.3)  # fmt: skip
            bottom.set_yticks(np.arange(cells.height) + 0.5, cells[SENSOR].to_list())
            bottom.set_ylim(cells.height, 0)
        bottom.grid(visible=False)
        bottom.set_xlabel(f"chunk start ({timezone})")
        legend = {"not assessed": NOT_ASSESSED} | {s.value: c for s, c in SEVERITY_COLORS.items()}
        _legend(bottom, legend, "severity")
        return svg(fig)
