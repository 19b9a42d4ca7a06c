"""Bins that survive point masses: edges, isolation of repeated readings, no drift on zeros."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensorframe.drift.bins import bin_counts, reference_edges
from sensorframe.drift.statistics import bin_metrics, searchsorted_rows
from sensorframe.errors import InvalidParameterError

mixed = st.lists(
    st.one_of(st.sampled_from([0.0, 0.0, 1.5, -2.0]), st.floats(-1e3, 1e3, allow_nan=False)),
    min_size=1,
    max_size=80,
)


def _edges(x: np.ndarray, n_bins: int) -> np.ndarray:
    return reference_edges(np.sort(x)[None, :], np.array([len(x)]), n_bins)[0]


@given(vals=mixed, n_bins=st.integers(2, 12))
def test_edges_are_finite_sorted_and_isolate_point_masses(vals: list[float], n_bins: int) -> None:
    x = np.array(vals)
    n = len(x)
    edges = _edges(x, n_bins)
    assert edges.shape == (n_bins - 1,)
    assert np.isfinite(edges).all()
    assert (np.diff(edges) >= 0).all()
    counts = bin_counts(np.searchsorted(np.sort(x), edges, "right")[None, :], np.array([n]))[0]
    assert counts.sum() == n
    assert (counts >= 0).all()
    values, reps = np.unique(x, return_counts=True)
    masses = values[(reps >= 2) & (reps * n_bins >= n + n_bins)]  # surely found (docstring)
    if 2 * len(masses) > n_bins - 1:
        return  # more point masses than the edges can isolate
    for v in masses:
        k = np.flatnonzero(edges == v)
        assert k.size, (v, edges)
        j = int(k[0])
        lower = edges[j - 1] if j > 0 else -np.inf
        inside = x[(x > lower) & (x <= v)]
        assert (inside == v).all(), (v, lower, edges)  # (lower, v] holds v alone


@pytest.mark.parametrize("seed", range(4))
def test_continuous_readings_keep_the_quantile_edges(seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=500)
    for n_bins in (2, 5, 10, 20):
        np.testing.assert_array_equal(
            _edges(x, n_bins), np.quantile(x, np.arange(1, n_bins) / n_bins)
        )


def test_fifty_percent_zeros_get_their_own_bin() -> None:
    x = np.concatenate([np.zeros(500), np.random.default_rng(0).normal(size=500)])
    edges = _edges(x, 10)
    assert 0.0 in edges
    below = edges[np.flatnonzero(edges == 0)[0] - 1]
    assert below == x[x < 0].max()  # the previous distinct reading
    counts = bin_counts(np.searchsorted(np.sort(x), edges, "right")[None, :], np.array([1000]))[0]
    assert 500 in counts.tolist()


def _no_drift(make: object, sensors: int = 200, n: int = 2000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(9)
    r = np.sort(make(rng, sensors, n), axis=1)  # type: ignore[operator]
    c = np.sort(make(rng, sensors, n), axis=1)  # type: ignore[operator]
    lens = np.full(sensors, n)
    edges = reference_edges(r, lens, 10)
    rc = bin_counts(searchsorted_rows(r, edges), lens)
    cc = bin_counts(searchsorted_rows(c, edges), lens)
    out = bin_metrics(rc, cc, epsilon=1e-4)
    noise = (out["bins"] - 1) * (2 / n)
    out["psi_excess"] = out["psi"] - noise
    out["js_excess"] = out["js_divergence"] - noise / (8 * np.log(2))
    return out


def _zeros(rng: np.random.Generator, sensors: int, n: int) -> np.ndarray:
    x = rng.lognormal(size=(sensors, n))
    x[:, : n // 2] = 0.0  # exactly half zeros (nights), identical daytime distribution
    return x


def _symmetric_zeros(rng: np.random.Generator, sensors: int, n: int) -> np.ndarray:
    x = rng.normal(size=(sensors, n))
    x[:, : 3 * n // 10] = 0.0
    return x


def _jittered_levels(rng: np.random.Generator, sensors: int, n: int) -> np.ndarray:
    """Night readings on quantization levels with sub-resolution jitter, then daylight."""
    levels = rng.choice([-1, 0, 1, 2, 3], size=(sensors, n // 2), p=[0.1, 0.3, 0.3, 0.2, 0.1])
    night = levels * 0.352 + rng.normal(0, 1e-4, size=(sensors, n // 2))
    return np.concatenate([night, rng.uniform(0, 900, size=(sensors, n // 2))], axis=1)


def _counts(rng: np.random.Generator, sensors: int, n: int) -> np.ndarray:
    return rng.poisson(3, size=(sensors, n)).astype(np.float64)  # integer readings


@pytest.mark.parametrize("make", [_zeros, _symmetric_zeros, _jittered_levels, _counts])
def test_point_masses_give_no_drift(make: object) -> None:
    out = _no_drift(make)
    assert out["psi_excess"].max() < 0.05  # below LOW everywhere
    assert out["js_excess"].max() < 0.01
    assert np.mean(out["chi2_pvalue"] < 0.05) <= 0.08
    assert np.mean(out["psi_pvalue"] < 0.05) <= 0.08


def test_jittered_levels_are_merged_into_one_bin() -> None:
    rng = np.random.default_rng(1)
    x = _jittered_levels(rng, 1, 2000)[0]
    edges = _edges(x, 10)
    night = edges[edges < 2]
    assert len(np.unique(night)) <= 1  # no edge splits a quantization level


def test_bad_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="n_bins"):
        reference_edges(np.zeros((1, 3)), np.array([3]), 1)
    with pytest.raises(InvalidParameterError, match="at least one reading"):
        reference_edges(np.zeros((1, 3)), np.array([0]), 4)
