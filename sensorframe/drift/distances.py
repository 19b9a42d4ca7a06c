"""
Distribution distances and omnibus two-sample tests for many sensors at once.

The sums come from the one merge of each sensor's sorted reference R (n readings)
and current C (m readings) in :func:`sensorframe.drift.statistics.merge_stats`
(``distances=True``), over the pooled distinct values ``z_1 < ... < z_L`` (tie groups
of ``l_j`` readings); this module turns them into statistics and p-values:

- Wasserstein-1: ``W1 = sum_j |F_R(z_j) - F_C(z_j)| (z_{j+1} - z_j)``, as
  ``scipy.stats.wasserstein_distance(R, C)``.
- Cramér-von Mises: ``T = U / (n m N) - (4 n m - 1) / (6 N)``, ``N = n + m``,
  ``U = n sum_i (r_i - i)^2 + m sum_j (s_j - j)^2`` with ``r_i``, ``s_j`` the pooled
  midranks of the sorted R and C, as ``scipy.stats.cramervonmises_2samp``. The
  p-value is exact when ``max(n, m) <= 10`` (scipy's counting algorithm, per
  distinct ``(U, n, m)``; up to 30 ms each), otherwise scipy's asymptotic one
  (Anderson 1962: ``T`` standardized by its exact mean and variance, then the
  limiting distribution). scipy's ``method="auto"`` is exact up to 20, where one
  exact p-value costs 0.1-0.7 s; there the asymptotic p-value is within 0.02 of it
  (measured for sizes 11-20, largest 0.016 at 11 x 11, p = 0.81).
- Anderson-Darling k-sample (k = 2, midrank, Scholz and Stephens 1987):
  ``A2akN = (N - 1)/N sum_j l_j/N (N M_j - B_j n)^2 / (B_j (N - B_j) - N l_j / 4)
  (1/n + 1/m)`` with ``B_j`` the pooled readings below ``z_j`` plus ``l_j / 2`` and
  ``M_j`` the same count in R; ``ad_statistic = (A2akN - 1) / sigma_N`` and its
  p-value interpolated in Scholz and Stephens' table and capped to [0.001, 0.25],
  exactly as ``scipy.stats.anderson_ksamp([R, C], variant="midrank")``.
  ``sigma_N^2`` uses ``h = H_{N-1}`` and ``g = H2_N - 2 H_{N-1} / N - 1 / N^2``
  (``H``, ``H2``: harmonic numbers of order 1 and 2, closed form of scipy's double
  sum, by digamma and trigamma, so defined for fractional N).
- Hellinger distance on bin counts: ``sqrt(sum_b (sqrt(r_b) - sqrt(c_b))^2 / 2)`` on
  the bins' proportions, in [0, 1].

Effective sizes: :func:`cvm_pvalue` and :func:`ad_pvalue` take ``n_eff, m_eff``
(:func:`sensorframe.drift.autocorrelation.effective_size`). The statistics' random
part scales with ``1/n + 1/m``; with dependent readings it scales with
``1/n_eff + 1/m_eff`` instead, so the statistic is divided by the variance inflation
``(1/n_eff + 1/m_eff) / (1/n + 1/m)`` and referred to the asymptotic null
distribution at sizes ``n_eff, m_eff`` (AD: its standardization at ``N_eff``). Where
the effective sizes equal the sizes the raw p-value is returned unchanged.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from sensorframe.drift.statistics import Samples, merge_stats, variance_inflation

__all__ = [
    "ad_pvalue",
    "anderson_darling",
    "cramervonmises",
    "cvm_pvalue",
    "hellinger",
    "wasserstein",
]

_CVM_EXACT_MAX = 10
"""Exact p-values up to this size (scipy's ``auto`` goes to 20, at up to 0.7 s each)."""

_AD_SIG = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
_AD_CRITICAL = (
    np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    + np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
    + np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
)
"""Scholz and Stephens' Table 2 critical values for k = 2 (``b0 + b1/sqrt(1) + b2/1``)."""
_AD_FIT = np.polyfit(_AD_CRITICAL, np.log(_AD_SIG), 2)


def _merge(ref: Samples, cur: Samples, batch_cells: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.flatnonzero((ref.lengths > 0) & (cur.lengths > 0))
    edges = np.zeros((len(ref.lengths), 0))
    ms = merge_stats(ref, cur, edges, rows, batch_cells=batch_cells, distances=True)
    return rows, np.column_stack([ms.wasserstein, ms.cvm_u, ms.ad_a2kn])


def wasserstein(ref: Samples, cur: Samples, *, batch_cells: int = 2_000_000) -> np.ndarray:
    """
    Wasserstein-1 distance of every sensor's reference and current readings.

    Parameters
    ----------
    ref, cur
        Samples, each sensor's run sorted (``cur`` may be unsorted).
    batch_cells
        Batch size in readings.

    Returns
    -------
    ndarray
        One distance per sensor, in the readings' unit; NaN where a side is empty.

    Examples
    --------
    >>> from sensorframe.drift.statistics import Samples
    >>> from sensorframe.drift.distances import wasserstein
    >>> ref = Samples.concatenated(np.array([0.0, 1.0, 3.0]), np.array([3]))
    >>> cur = Samples.concatenated(np.array([5.0, 6.0]), np.array([2]))
    >>> wasserstein(ref, cur).round(6).tolist()
    [4.166667]
    """
    return _merge(ref, cur, batch_cells)[1][:, 0]


def cramervonmises(
    ref: Samples, cur: Samples, *, batch_cells: int = 2_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """
    Cramér-von Mises two-sample statistic ``T`` and p-value per sensor.

    As ``scipy.stats.cramervonmises_2samp(R, C)`` (the p-value exact up to 10
    readings a side, asymptotic above: see the module docstring); NaN where a side has
    fewer than 2 readings.

    Examples
    --------
    >>> from sensorframe.drift.statistics import Samples
    >>> from sensorframe.drift.distances import cramervonmises
    >>> ref = Samples.concatenated(np.arange(30.0), np.array([30]))
    >>> t, p = cramervonmises(ref, Samples.concatenated(np.arange(30.0) + 5, np.array([30])))
    >>> round(float(t[0]), 4), round(float(p[0]), 4)
    (0.3708, 0.0869)
    """
    _, sums = _merge(ref, cur, batch_cells)
    return cvm_pvalue(sums[:, 1], ref.lengths, cur.lengths)


def cvm_pvalue(
    u: np.ndarray,
    n: np.ndarray,
    m: np.ndarray,
    *,
    n_eff: np.ndarray | None = None,
    m_eff: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Cramér-von Mises ``T`` from ``U`` (``MergeStats.cvm_u``) and its p-value.

    Parameters
    ----------
    u
        ``U`` per sensor.
    n, m
        Reference and current sizes.
    n_eff, m_eff
        Effective sizes (fractional allowed): the p-value of ``T`` divided by the
        variance inflation, asymptotic at the effective sizes.

    Returns
    -------
    tuple of ndarray
        ``T`` (at the real sizes) and the p-value.
    """
    nf = np.asarray(n, dtype=np.float64)
    mf = np.asarray(m, dtype=np.float64)
    ok = (nf >= 2) & (mf >= 2) & np.isfinite(u)
    with np.errstate(divide="ignore", invalid="ignore"):
        big_n = nf + mf
        k = nf * mf
        t = np.where(ok, u / (k * big_n) - (4 * k - 1) / (6 * big_n), np.nan)
    p = np.full(t.shape, np.nan)
    exact = ok & (np.maximum(nf, mf) <= _CVM_EXACT_MAX)
    p[ok & ~exact] = _cvm_asymptotic(t[ok & ~exact], nf[ok & ~exact], mf[ok & ~exact])
    if exact.any():
        from scipy.stats._hypotests import _pval_cvm_2samp_exact

        cache: dict[tuple[float, int, int], float] = {}
        for i in np.flatnonzero(exact):
            key = (float(u[i]), int(nf[i]), int(mf[i]))
            if key not in cache:
                cache[key] = float(_pval_cvm_2samp_exact(*key))
            p[i] = cache[key]
    if n_eff is None or m_eff is None:
        return t, p
    infl = variance_inflation(nf, mf, n_eff, m_eff)
    reduced = ok & (infl > 1)
    ne = np.asarray(n_eff, dtype=np.float64)[reduced]
    me = np.asarray(m_eff, dtype=np.float64)[reduced]
    p[reduced] = _cvm_asymptotic(t[reduced] / infl[reduced], ne, me)
    return t, p


def _cvm_asymptotic(t: np.ndarray, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Asymptotic p-value, as scipy's (Anderson 1962, eq. 11, 14, 15)."""
    big_n = n + m
    k = n * m
    et = (1 + 1 / big_n) / 6
    vt = (big_n + 1) * (4 * k * big_n - 3 * (n**2 + m**2) - 2 * k) / (45 * big_n**2 * 4 * k)
    with np.errstate(invalid="ignore"):
        tn = 1 / 6 + (t - et) / np.sqrt(45 * vt)
    out = np.ones(t.shape)
    big = tn >= 0.003  # below, the cdf is < 1.3e-18
    out[big] = np.clip(1.0 - _cdf_cvm_inf(tn[big]), 0.0, None)
    out[np.isnan(tn)] = np.nan
    return out


def _cdf_cvm_inf(x: np.ndarray) -> np.ndarray:
    """Limiting CvM cdf (Csörgő and Faraway 1996, eq. 1.2), terms until below 1e-7."""
    total = np.zeros(x.shape)
    active = np.ones(x.shape, dtype=bool)
    k = 0
    while active.any():
        xa = x[active]
        y = 4 * k + 1
        q = y**2 / (16 * xa)
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (np.pi**1.5 * np.sqrt(xa))
        z = u * math.sqrt(y) * np.exp(-q) * special.kv(0.25, q)
        total[active] += z
        active[active] = np.abs(z) >= 1e-7
        k += 1
    return total


def anderson_darling(
    ref: Samples, cur: Samples, *, batch_cells: int = 2_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """
    Anderson-Darling k-sample statistic (midrank) and capped p-value per sensor.

    As ``scipy.stats.anderson_ksamp([R, C], variant="midrank")``; NaN where the pooled
    readings are constant or fewer than 4.

    Examples
    --------
    >>> from sensorframe.drift.statistics import Samples
    >>> from sensorframe.drift.distances import anderson_darling
    >>> ref = Samples.concatenated(np.arange(30.0), np.array([30]))
    >>> a2, p = anderson_darling(ref, Samples.concatenated(np.arange(30.0) + 5, np.array([30])))
    >>> round(float(a2[0]), 4), round(float(p[0]), 4)
    (2.1184, 0.0436)
    """
    _, sums = _merge(ref, cur, batch_cells)
    return ad_pvalue(sums[:, 2], ref.lengths, cur.lengths)


def ad_pvalue(
    a2kn: np.ndarray,
    n: np.ndarray,
    m: np.ndarray,
    *,
    n_eff: np.ndarray | None = None,
    m_eff: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Standardized Anderson-Darling statistic from ``A2akN`` and its capped p-value.

    With ``n_eff, m_eff``, ``A2akN`` is divided by the variance inflation and
    standardized at the effective sizes; the statistic returned is the raw one.
    """
    nf = np.asarray(n, dtype=np.float64)
    mf = np.asarray(m, dtype=np.float64)
    ok = (nf >= 1) & (mf >= 1) & (nf + mf >= 4) & np.isfinite(a2kn)
    a2 = np.where(ok, _ad_standardized(a2kn, nf, mf), np.nan)
    if n_eff is None or m_eff is None:
        return a2, _ad_interpolated(a2)
    infl = variance_inflation(nf, mf, n_eff, m_eff)
    reduced = ok & (infl > 1)
    ne = np.asarray(n_eff, dtype=np.float64)
    me = np.asarray(m_eff, dtype=np.float64)
    a2_eff = np.where(reduced, _ad_standardized(a2kn / infl, ne, me), a2)
    return a2, _ad_interpolated(a2_eff)


def _ad_standardized(a2kn: np.ndarray, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    big_n = n + m
    with np.errstate(divide="ignore", invalid="ignore"):
        harm = 1 / n + 1 / m
        h = special.digamma(big_n) + np.euler_gamma
        g = np.pi**2 / 6 - special.polygamma(1, big_n + 1) - 2 * h / big_n - 1 / big_n**2
        a = (4 * g - 6) + (10 - 6 * g) * harm
        b = (2 * g - 4) * 4 + 8 * h * 2 + (2 * g - 14 * h - 4) * harm - 8 * h + 4 * g - 6
        c = (6 * h + 2 * g - 2) * 4 + (4 * h - 4 * g + 6) * 2 + (2 * h - 6) * harm + 4 * h
        d = (2 * h + 6) * 4 - 4 * h * 2
        sigmasq = (a * big_n**3 + b * big_n**2 + c * big_n + d) / (
            (big_n - 1) * (big_n - 2) * (big_n - 3)
        )
        return (a2kn - 1) / np.sqrt(sigmasq)


def _ad_interpolated(a2: np.ndarray) -> np.ndarray:
    p = np.exp(np.polyval(_AD_FIT, np.nan_to_num(a2)))
    p = np.where(a2 < _AD_CRITICAL.min(), _AD_SIG.max(), p)
    p = np.where(a2 > _AD_CRITICAL.max(), _AD_SIG.min(), p)
    return np.where(np.isnan(a2), np.nan, p)


def hellinger(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    """
    Hellinger distance between the bin proportions of two ``(sensors, bins)`` counts.

    ``sqrt(sum_b (sqrt(r_b) - sqrt(c_b))^2 / 2)``: 0 for equal proportions, 1 for
    disjoint ones; NaN where a side has no readings.

    Examples
    --------
    >>> from sensorframe.drift.distances import hellinger
    >>> hellinger(np.array([[5, 5, 0], [1, 1, 2]]), np.array([[0, 0, 4], [2, 2, 4]])).tolist()
    [1.0, 0.0]
    """
    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pr = r / r.sum(axis=1, keepdims=True)
        pc = c / c.sum(axis=1, keepdims=True)
    diff = np.sqrt(pr) - np.sqrt(pc)
    return np.sqrt(np.minimum((diff * diff).sum(axis=1) / 2, 1.0))
