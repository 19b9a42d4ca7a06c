"""Welch's t and Brown-Forsythe against scipy, with ties, constants and tiny samples."""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.stats as ss
from hypothesis import given

from sensorframe.drift.location_scale import (
    brown_forsythe,
    brown_forsythe_from_moments,
    deviation_moments,
    medians,
    moments,
    welch,
    welch_from_moments,
)
from sensorframe.drift.statistics import merge_stats
from tests.drift.test_distances import _samples, pairs


def _same(got: float, want: float, *, abs_tol: float = 1e-12) -> None:
    if math.isnan(want):
        assert math.isnan(got), (got, want)
    elif math.isinf(want):
        assert got == want
    else:
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=abs_tol), (got, want)


@given(data=pairs)
def test_welch_and_brown_forsythe_match_scipy(
    data: list[tuple[list[float | None], list[float | None]]],
) -> None:
    ref, cur, arrays = _samples(data)
    t, p = welch(ref, cur)
    w, pw = brown_forsythe(ref, cur, batch_cells=16)
    for i, (r, c) in enumerate(arrays):
        if len(r) == 0 or len(c) == 0:
            assert np.isnan([t[i], p[i], w[i], pw[i]]).all()
            continue
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            tt = ss.ttest_ind(r, c, equal_var=False)
            lev = ss.levene(r, c, center="median")
        # a mean difference that is rounding noise gives |t| ~ 1e-13 either way
        _same(t[i], float(tt.statistic), abs_tol=1e-9)
        _same(p[i], float(tt.pvalue), abs_tol=1e-9)
        _same(w[i], float(lev.statistic), abs_tol=1e-9)
        _same(pw[i], float(lev.pvalue), abs_tol=1e-9)


@given(data=pairs)
def test_merge_gives_the_current_deviation_moments(
    data: list[tuple[list[float | None], list[float | None]]],
) -> None:
    ref, cur, arrays = _samples(data)
    rows = np.flatnonzero((ref.lengths > 0) & (cur.lengths > 0))
    edges = np.zeros((len(arrays), 0))
    ms = merge_stats(ref, cur, edges, rows, batch_cells=16, distances=True)
    medians_c = np.array([np.median(c) if len(c) else np.nan for _, c in arrays])
    zbar, ss_ = deviation_moments(cur, medians_c, batch_cells=16)
    for i in rows:
        z = np.abs(arrays[i][1] - medians_c[i])
        _same(ms.cur_dev_mean[i], float(z.mean()), abs_tol=1e-9)
        _same(ms.cur_dev_ss[i], float(np.sum((z - z.mean()) ** 2)), abs_tol=1e-9)
        _same(zbar[i], float(z.mean()), abs_tol=1e-9)
        _same(ss_[i], float(np.sum((z - z.mean()) ** 2)), abs_tol=1e-9)


def test_effective_sizes_weaken_only_the_pvalues() -> None:
    rng = np.random.default_rng(3)
    r, c = rng.normal(size=800), rng.normal(0.15, 1.2, size=600)
    ref, cur, _ = _samples([(list(r), list(c))])
    mr, vr = moments(ref)
    mc, vc = moments(cur)
    n, m = ref.lengths, cur.lengths
    t, _ = welch_from_moments(mr, vr, n, mc, vc, m)
    t_eff, p_eff = welch_from_moments(mr, vr, n / 8, mc, vc, m / 8)
    _same(t_eff[0], t[0] / math.sqrt(8))
    df = (vr / 100 + vc / 75) ** 2 / ((vr / 100) ** 2 / 99 + (vc / 75) ** 2 / 74)
    _same(p_eff[0], float(2 * ss.t.sf(abs(t_eff[0]), df[0])))
    zr, sr = deviation_moments(ref, medians(ref))
    zc, sc = deviation_moments(cur, np.array([np.median(c)]))
    w, pw = brown_forsythe_from_moments(zr, sr, n, zc, sc, m)
    w_same, pw_same = brown_forsythe_from_moments(zr, sr, n, zc, sc, m, n_eff=n, m_eff=m)
    np.testing.assert_allclose([w_same[0], pw_same[0]], [w[0], pw[0]], rtol=1e-12)
    w_eff, pw_eff = brown_forsythe_from_moments(zr, sr, n, zc, sc, m, n_eff=n / 8, m_eff=m / 8)
    assert w_eff[0] == w[0]
    _same(pw_eff[0], float(ss.f.sf(w[0] / 8, 1, 1400 / 8 - 2)))
    assert pw_eff[0] > pw[0]


def test_brown_forsythe_finds_a_ten_percent_change_of_spread() -> None:
    """The issue's power floor: spread x1.1 at n = 5,000 (i.i.d.) found >= 90% of the time."""
    rng = np.random.default_rng(11)
    sensors, n = 60, 5000
    r = rng.normal(size=(sensors, n))
    c = rng.normal(size=(sensors, n)) * 1.1
    ref, cur, _ = _samples([(list(a), list(b)) for a, b in zip(r, c, strict=True)])
    _, p = brown_forsythe(ref, cur)
    assert np.mean(p < 0.05) >= 0.9
