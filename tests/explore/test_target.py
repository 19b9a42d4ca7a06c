"""make_target against a plain per-row NumPy definition, on hypothesis frames."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensorframe.errors import InvalidParameterError, InvalidTypeError
from sensorframe.explore import make_target
from sensorframe.explore.target import horizon_text
from tests.conftest import sensor_frames, tied_readings


def _reference(
    frame: pl.DataFrame, horizon: int | str, kind: str, threshold: float | None
) -> list[object]:
    """Targets row by row, per sensor in time order, straight from the definition."""
    out: list[object] = []
    ordered = frame.sort("sensor_id", "timestamp", maintain_order=True)
    h_us = None if isinstance(horizon, int) else {"90s": 90_000_000, "5m": 300_000_000}[horizon]
    for sid in ordered["sensor_id"].unique(maintain_order=True):
        part = ordered.filter(pl.col("sensor_id") == sid)
        x = part["value"].to_numpy().astype(np.float64)  # null -> nan
        t = part["timestamp"].dt.epoch("us").to_numpy()
        n = len(x)
        for i in range(n):
            if h_us is None:
                assert isinstance(horizon, int)
                if i + horizon >= n:
                    out.append(None)
                    continue
                span = x[i + 1 : i + horizon + 1]
            else:
                if t[i] + h_us > t[-1]:
                    out.append(None)
                    continue
                span = x[(t > t[i]) & (t <= t[i] + h_us)]
            present = span[~np.isnan(span)]
            if kind == "value":
                v = span[-1] if len(span) else math.nan
                out.append(None if math.isnan(v) else float(v))
            elif not len(present):
                out.append(None)
            elif kind == "mean":
                out.append(float(np.mean(present)))
            elif kind == "max":
                out.append(float(np.max(present)))
            else:
                assert threshold is not None
                out.append(bool(np.max(present) > threshold))
    return out


@given(
    frame=sensor_frames(max_rows=40, values=tied_readings),
    horizon=st.sampled_from([1, 2, 5, "90s", "5m"]),
    kind=st.sampled_from(["value", "mean", "max", "event"]),
)
def test_matches_the_definition(frame: pl.DataFrame, horizon: int | str, kind: str) -> None:
    threshold = 1.0 if kind == "event" else None
    got = make_target(frame, horizon=horizon, kind=kind, threshold=threshold).collect()  # type: ignore[arg-type]
    assert got.columns == ["sensor_id", "timestamp", "target", "target_end"]
    want = _reference(frame, horizon, kind, threshold)
    values = got["target"].to_list()
    assert len(values) == len(want)
    for a, b in zip(values, want, strict=True):
        if isinstance(b, float):
            assert a is not None
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
        else:
            assert a == b
    # the span starts after the row: no trailing window at t can contain it
    ends = got.drop_nulls("target_end")
    assert (ends["target_end"] > ends["timestamp"]).all()


def test_rows_and_duration_spans() -> None:
    frame = pl.DataFrame(
        {
            "sensor_id": ["a"] * 3 + ["b"],
            "timestamp": [f"2026-01-01T00:0{m}" for m in (0, 1, 3, 0)],
            "value": [1.0, 2.0, 3.0, 9.0],
        }
    )
    rows = make_target(frame, horizon=1).collect()
    assert rows["target"].to_list() == [2.0, 3.0, None, None]  # b: one point, nothing ahead
    assert rows["target_end"].dt.minute().to_list() == [1, 3, None, None]
    timed = make_target(frame, horizon=timedelta(minutes=2), kind="max").collect()
    assert timed["target"].to_list() == [2.0, 3.0, None, None]
    assert timed["target_end"].dt.minute().to_list() == [2, 3, 5, 2]


def test_bad_parameters_are_typed_errors() -> None:
    frame = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
    with pytest.raises(InvalidParameterError, match="kind"):
        make_target(frame, horizon=1, kind="median")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="threshold"):
        make_target(frame, horizon=1, kind="event")
    with pytest.raises(InvalidParameterError, match="threshold"):
        make_target(frame, horizon=1, threshold=2.0)
    with pytest.raises(InvalidParameterError, match="horizon"):
        make_target(frame, horizon=0)
    with pytest.raises(InvalidTypeError, match="horizon"):
        make_target(frame, horizon=1.5)  # type: ignore[arg-type]
    assert horizon_text(1) == "1 row"
