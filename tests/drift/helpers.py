"""Frames for the drift tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def frame(
    data: Mapping[str, Sequence[float | None] | np.ndarray],
    *,
    target: Mapping[str, Sequence[float | None] | np.ndarray] | None = None,
) -> pl.DataFrame:
    """A canonical long frame with one entry per sensor (and an optional target column)."""
    schema = {"sensor_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "value": pl.Float64}
    if target is not None:
        schema["y"] = pl.Float64
    parts = []
    for sid, values in data.items():
        vals = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
        n = len(vals)
        cols: dict[str, object] = {
            "sensor_id": [sid] * n,
            "timestamp": [T0 + timedelta(minutes=i) for i in range(n)],
            "value": pl.Series(list(vals), dtype=pl.Float64, strict=False),
        }
        if target is not None:
            cols["y"] = pl.Series(list(target[sid]), dtype=pl.Float64, strict=False)
        parts.append(pl.DataFrame(cols).cast(schema))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).cast(schema)


def wide(values: np.ndarray, prefix: str = "S") -> pl.DataFrame:
    """A long frame from a (sensors, points) array, fast (for the larger tests)."""
    s, n = values.shape
    ids = np.repeat(np.array([f"{prefix}{i:04d}" for i in range(s)]), n)
    base = np.datetime64("2026-01-01T00:00:00", "us")
    times = base + np.tile(np.arange(n), s) * np.timedelta64(60, "s")
    return pl.DataFrame(
        {"sensor_id": ids, "timestamp": times, "value": values.ravel()}
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))
