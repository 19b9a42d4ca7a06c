"""Shared test setup: a fixed hypothesis profile and strategies for sensor frames."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "fast",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("SENSORFRAME_HYPOTHESIS_PROFILE", "fast"))

T0 = datetime(2026, 1, 1, tzinfo=UTC)

finite_values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
"""Finite readings."""
readings = st.one_of(st.none(), finite_values)
"""Readings that may be missing (None)."""
tied_readings = st.one_of(st.none(), st.sampled_from([0.0, 1.0, 1.5, -2.0, 3.25]))
"""Readings drawn from a handful of values, so ties and flat runs are common."""


@st.composite
def sensor_frames(
    draw: st.DrawFn,
    *,
    max_rows: int = 60,
    sensors: str = "abc",
    values: st.SearchStrategy[float | None] | None = None,
    shuffle: bool = True,
    regular: bool = False,
) -> pl.DataFrame:
    """
    A canonical sensor frame: up to `max_rows` rows spread over `sensors`.

    Timestamps increase per sensor (steps of 1-120 s, or exactly 60 s when `regular`),
    so every (sensor, timestamp) is unique; rows are shuffled unless `shuffle=False`.
    """
    n = draw(st.integers(0, max_rows))
    ids = draw(st.lists(st.sampled_from(sensors), min_size=n, max_size=n))
    vals = draw(st.lists(values if values is not None else readings, min_size=n, max_size=n))
    steps = [60] * n if regular else draw(st.lists(st.integers(1, 120), min_size=n, max_size=n))
    clock: dict[str, datetime] = {}
    times = []
    for sid, step in zip(ids, steps, strict=True):
        clock[sid] = clock.get(sid, T0) + timedelta(seconds=step)
        times.append(clock[sid])
    frame = pl.DataFrame(
        {"sensor_id": ids, "timestamp": times, "value": vals},
        schema={
            "sensor_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "value": pl.Float64,
        },
    )
    if not shuffle:
        return frame.sort("sensor_id", "timestamp", maintain_order=True)
    return frame.sample(fraction=1.0, shuffle=True, seed=draw(st.integers(0, 2**16)))
