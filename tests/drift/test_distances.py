"""Wasserstein, Cramér-von Mises, Anderson-Darling and Hellinger against scipy / numpy."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given
from hypothesis import strategies as st

from sensorframe.drift.distances import (
    ad_pvalue,
    anderson_darling,
    cramervonmises,
    cvm_pvalue,
    hellinger,
    wasserstein,
)
from sensorframe.drift.statistics import Samples, merge_stats
from tests.conftest import tied_readings

spread = st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False))
values = st.one_of(st.lists(tied_readings, max_size=30), st.lists(spread, max_size=30))
pairs = st.lists(st.tuples(values, values), min_size=1, max_size=4)


def _finite(vals: list[float | None]) -> np.ndarray:
    return np.array([v for v in vals if v is not None], dtype=np.float64)


def _samples(
    data: list[tuple[list[float | None], list[float | None]]],
) -> tuple[Samples, Samples, list[tuple[np.ndarray, np.ndarray]]]:
    arrays = [(_finite(r), _finite(c)) for r, c in data]
    lens_r = np.array([len(r) for r, _ in arrays])
    lens_c = np.array([len(c) for _, c in arrays])
    ref = Samples.from_unsorted(
        np.concatenate([r for r, _ in arrays] + [np.zeros(0)]), lens_r, batch_cells=16
    )
    cur = Samples.concatenated(np.concatenate([c for _, c in arrays] + [np.zeros(0)]), lens_c)
    return ref, cur, arrays


def _same(got: float, want: float) -> None:
    if math.isnan(want):
        assert math.isnan(got), (got, want)
    else:
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (got, want)


@given(data=pairs)
def test_distances_match_scipy(data: list[tuple[list[float | None], list[float | None]]]) -> None:
    ref, cur, arrays = _samples(data)
    w1 = wasserstein(ref, cur, batch_cells=16)
    t, p = cramervonmises(ref, cur, batch_cells=16)
    a2, pa = anderson_darling(ref, cur, batch_cells=16)
    for i, (r, c) in enumerate(arrays):
        if len(r) == 0 or len(c) == 0:
            assert np.isnan([w1[i], t[i], p[i], a2[i], pa[i]]).all()
            continue
        _same(w1[i], ss.wasserstein_distance(r, c))
        if len(r) >= 2 and len(c) >= 2:
            exact = max(len(r), len(c)) <= 10  # scipy's auto: exact up to 20
            res = ss.cramervonmises_2samp(r, c, method="exact" if exact else "asymptotic")
            _same(t[i], res.statistic)
            _same(p[i], res.pvalue)
        else:  # scipy refuses fewer than 2 readings
            assert np.isnan([t[i], p[i]]).all()
        pooled = np.concatenate([r, c])
        if len(np.unique(pooled)) < 2 or len(pooled) < 4:  # scipy raises or returns NaN
            assert np.isnan([a2[i], pa[i]]).all()
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "p-value capped / floored"
            ad = ss.anderson_ksamp([r, c], variant="midrank")
        _same(a2[i], ad.statistic)
        _same(pa[i], ad.pvalue)


def test_large_samples_use_scipys_asymptotic_cvm_and_batches_agree() -> None:
    rng = np.random.default_rng(7)
    data = [
        (list(rng.normal(size=300).round(1)), list(rng.normal(0.1, 1, size=250).round(1))),
        (list(rng.normal(size=40)), list(rng.normal(size=1000))),
    ]
    ref, cur, arrays = _samples(data)  # type: ignore[arg-type]
    t, p = cramervonmises(ref, cur, batch_cells=50)
    a2, pa = anderson_darling(ref, cur)
    for i, (r, c) in enumerate(arrays):
        res = ss.cramervonmises_2samp(r, c, method="asymptotic")
        _same(t[i], res.statistic)
        _same(p[i], res.pvalue)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ad = ss.anderson_ksamp([r, c], variant="midrank")
        _same(a2[i], ad.statistic)
        _same(pa[i], ad.pvalue)


def test_effective_sizes_equal_to_the_sizes_change_nothing_and_smaller_ones_weaken() -> None:
    rng = np.random.default_rng(8)
    r, c = rng.normal(size=(2, 500))
    c = c + 0.2
    ref, cur, _ = _samples([(list(r), list(c))])
    ms = merge_stats(ref, cur, np.zeros((1, 0)), np.array([0]), batch_cells=10**6, distances=True)
    n = np.array([500])
    for fn, stat in ((cvm_pvalue, ms.cvm_u), (ad_pvalue, ms.ad_a2kn)):
        raw = fn(stat, n, n)
        same = fn(stat, n, n, n_eff=n.astype(float), m_eff=n.astype(float))
        np.testing.assert_array_equal(raw[1], same[1])
        weak = fn(stat, n, n, n_eff=np.array([100.0]), m_eff=np.array([100.0]))
        np.testing.assert_array_equal(raw[0], weak[0])  # the statistic stays the raw one
        assert weak[1][0] > raw[1][0]
    # CvM at a fractional effective size: T / inflation against the asymptotic law at n_eff
    t, p = cvm_pvalue(ms.cvm_u, n, n, n_eff=np.array([125.0]), m_eff=np.array([125.0]))
    scaled = float(t[0]) / 4.0
    big_n, k = 250.0, 125.0**2
    et = (1 + 1 / big_n) / 6
    vt = (big_n + 1) * (4 * k * big_n - 3 * (2 * 125.0**2) - 2 * k) / (45 * big_n**2 * 4 * k)
    from scipy.stats._hypotests import _cdf_cvm_inf

    want = 1 - float(_cdf_cvm_inf(1 / 6 + (scaled - et) / math.sqrt(45 * vt)))
    assert p[0] == pytest.approx(want, rel=1e-9)


@given(
    counts=st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=6
    ).filter(lambda rows: sum(a for a, _ in rows) > 0 and sum(b for _, b in rows) > 0)
)
def test_hellinger_matches_its_formula(counts: list[tuple[int, int]]) -> None:
    r = np.array([[a for a, _ in counts]])
    c = np.array([[b for _, b in counts]])
    pr, pc = r / r.sum(), c / c.sum()
    want = math.sqrt(max(0.0, 1 - float(np.sum(np.sqrt(pr * pc)))))
    assert hellinger(r, c)[0] == pytest.approx(want, abs=1e-7)
    assert 0.0 <= hellinger(r, c)[0] <= 1.0
