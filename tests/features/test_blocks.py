from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from sensorframe.features._blocks import block_windows

STATS = ("mean", "std", "min", "max", "range", "median")


def _blocks(values: np.ndarray, rows: np.ndarray, windows: list[int]) -> pl.DataFrame:
    frame = pl.DataFrame({"x": values, "row": rows}).with_columns(pl.col("x").fill_nan(None))
    reqs = [(f"{s}_{w}", w, s) for w in windows for s in STATS]
    return block_windows(frame.lazy(), "x", reqs, row="row", prefix="_b").collect()


def _reference(x: np.ndarray, w: int, stat: str) -> np.ndarray:
    """Two-pass statistics in long double of every full, null-free window."""
    out = np.full(x.size, np.nan)
    if x.size < w:
        return out
    win = sliding_window_view(x.astype(np.longdouble), w)
    if stat == "mean":
        got = win.mean(axis=1)
    elif stat == "std":
        got = np.sqrt(((win - win.mean(axis=1, keepdims=True)) ** 2).sum(axis=1) / (w - 1))
    elif stat == "median":
        got = np.median(win, axis=1)
    elif stat == "min":
        got = win.min(axis=1)
    elif stat == "max":
        got = win.max(axis=1)
    else:
        got = win.max(axis=1) - win.min(axis=1)
    out[w - 1 :] = got.astype(np.float64)  # NaN wherever the window holds a NaN
    return out


@given(
    x=st.lists(st.one_of(st.just(np.nan), st.floats(-1e6, 1e6, allow_nan=False)), max_size=40).map(
        lambda v: np.array(v, dtype=float)
    ),
    windows=st.lists(st.integers(2, 11), min_size=1, max_size=3, unique=True),
)
def test_block_windows_match_two_pass_reference(x: np.ndarray, windows: list[int]) -> None:
    got = _blocks(x, np.arange(x.size), windows)
    scale = float(np.nanmax(np.abs(x), initial=1.0))
    for w in windows:
        for stat in STATS:
            want = _reference(x, w, stat)
            name = f"{stat}_{w}"
            values = got[name].fill_null(np.nan).to_numpy()
            np.testing.assert_array_equal(np.isnan(values), np.isnan(want), err_msg=name)
            np.testing.assert_allclose(values, want, rtol=1e-9, atol=1e-12 * scale, err_msg=name)
            if stat in ("min", "max", "range"):
                np.testing.assert_array_equal(values, want, err_msg=name)


@pytest.mark.parametrize("offset", [0.0, 1e4, 1e8, 1e12])
def test_std_stays_accurate_on_a_large_level(offset: float) -> None:
    """Blocks combine deviations pairwise: no E[x^2] - E[x]^2 cancellation."""
    rng = np.random.default_rng(7)
    x = offset + rng.normal(size=3_000)
    x[1_000] = 1e15  # a spike that a running sum would carry along
    got = _blocks(x, np.arange(x.size), [6, 24])
    for w in (6, 24):
        want = _reference(x, w, "std")
        values = got[f"std_{w}"].to_numpy()
        far = np.abs(np.arange(x.size) - 1_000) >= w  # windows without the spike
        rel = np.abs(values[far] - want[far]) / want[far]
        # the rounding of the readings themselves bounds any method at ~eps * level / std
        assert np.nanmax(rel) < 1e-15 * max(offset, 1.0) + 1e-13


def test_windows_depend_only_on_their_own_sensor() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=50) * 1e6, rng.normal(size=30)
    together = _blocks(np.concatenate([a, b]), np.r_[np.arange(50), np.arange(30)], [3, 12])
    alone = _blocks(b, np.arange(30), [3, 12])
    for name in alone.columns[2:]:
        assert together[name].tail(30).equals(alone[name]), name
        assert together[name][50 : 50 + 11].null_count() >= (2 if "3" in name else 11)


def test_no_requests_returns_the_frame() -> None:
    frame = pl.LazyFrame({"x": [1.0], "row": [0]})
    assert block_windows(frame, "x", [], row="row", prefix="_b") is frame
