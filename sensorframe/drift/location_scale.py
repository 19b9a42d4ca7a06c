"""
Welch's t (a change of level) and Brown-Forsythe (a change of spread), all sensors at once.

Both work from per-sensor moments, so a caller that already has them (the detector's
profile keeps the reference's mean, std and quantiles; ``merge_stats`` gives the
current median) pays only one pass over the readings for Brown-Forsythe:

- Welch: ``t = (xbar_R - xbar_C) / sqrt(s_R^2/n + s_C^2/m)`` (ddof 1), two-sided
  p-value from Student's t with the Welch-Satterthwaite
  ``df = (s_R^2/n + s_C^2/m)^2 / ((s_R^2/n)^2/(n - 1) + (s_C^2/m)^2/(m - 1))``, as
  ``scipy.stats.ttest_ind(R, C, equal_var=False)`` (df 1 when both variances are 0).
- Brown-Forsythe: Levene's test on ``z = |x - median|`` of each window,
  ``W = (N - 2) (n m / N) (zbar_R - zbar_C)^2 / (SS_R + SS_C)``, ``SS`` the sums of
  squared deviations of ``z`` from ``zbar``, p-value ``F(1, N - 2).sf(W)``, as
  ``scipy.stats.levene(R, C, center="median")``.

Effective sizes (:mod:`sensorframe.drift.autocorrelation`): pass ``n_eff, m_eff`` as the
sizes. Welch then uses them in the standard error and the degrees of freedom (the
variances still come from all readings); Brown-Forsythe divides ``W`` by the variance
inflation ``(1/n_eff + 1/m_eff) / (1/n + 1/m)`` (``W`` is the square of a pooled
t-statistic on ``z``) with ``N_eff - 2`` denominator degrees of freedom. The
autocorrelation of ``z`` is below that of the readings for Gaussian series, so using
the readings' effective sizes is conservative.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sensorframe.drift._ranks import deviation_rows
from sensorframe.drift.statistics import (
    Samples,
    batches,
    quantiles_sorted,
    variance_inflation,
)

__all__ = [
    "brown_forsythe",
    "brown_forsythe_from_moments",
    "deviation_moments",
    "medians",
    "moments",
    "welch",
    "welch_from_moments",
]


def _sums(samples: Samples, x: np.ndarray) -> np.ndarray:
    """Per-sensor sums of ``x`` (laid out as ``samples.concatenate()``); 0 when empty."""
    lens = samples.lengths
    out = np.zeros(len(lens))
    full = lens > 0
    if x.size:
        starts = np.cumsum(lens) - lens
        out[full] = np.add.reduceat(x, starts[full])
    return out


def moments(samples: Samples) -> tuple[np.ndarray, np.ndarray]:
    """
    Mean and variance (ddof 1) of every sensor's readings, two-pass.

    NaN mean for no readings, NaN variance for fewer than 2.

    Examples
    --------
    >>> from sensorframe.drift.statistics import Samples
    >>> from sensorframe.drift.location_scale import moments
    >>> samples = Samples.concatenated(np.array([1.0, 2.0, 6.0, 4.0]), np.array([3, 1]))
    >>> mean, var = moments(samples)
    >>> mean.tolist(), var.tolist()
    ([3.0, 4.0], [7.0, nan])
    """
    x = samples.concatenate()
    lens = samples.lengths
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(lens > 0, _sums(samples, x) / lens, np.nan)
        dev = x - np.repeat(mean, lens)
        var = np.where(lens > 1, _sums(samples, dev * dev) / (lens - 1), np.nan)
    return mean, var


def welch_from_moments(
    mean_r: np.ndarray,
    var_r: np.ndarray,
    n: np.ndarray,
    mean_c: np.ndarray,
    var_c: np.ndarray,
    m: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Welch's t and its two-sided p-value from moments; ``n, m`` may be effective sizes.

    Examples
    --------
    >>> from sensorframe.drift.location_scale import welch_from_moments
    >>> one = np.array([1.0])
    >>> t, p = welch_from_moments(0 * one, one, 50 * one, 0.5 * one, one, 50 * one)
    >>> round(float(t[0]), 3), round(float(p[0]), 4)
    (-2.5, 0.0141)
    """
    nf = np.asarray(n, dtype=np.float64)
    mf = np.asarray(m, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        vn1 = var_r / nf
        vn2 = var_c / mf
        df = (vn1 + vn2) ** 2 / (vn1**2 / (nf - 1) + vn2**2 / (mf - 1))
        df = np.where(np.isnan(df) & np.isfinite(vn1 + vn2), 1.0, df)
        t = (mean_r - mean_c) / np.sqrt(vn1 + vn2)
        p = 2 * stats.t.sf(np.abs(t), df)
    return t, np.where(np.isnan(t), np.nan, np.clip(p, 0.0, 1.0))


def welch(ref: Samples, cur: Samples) -> tuple[np.ndarray, np.ndarray]:
    """
    Welch's t-test of every sensor's reference against its current readings.

    As ``scipy.stats.ttest_ind(R, C, equal_var=False)``: ``t`` and two-sided p-value;
    NaN where a side has fewer than 2 readings or both are constant and equal.

    Examples
    --------
    >>> from sensorframe.drift.statistics import Samples
    >>> from sensorframe.drift.location_scale import welch
    >>> ref = Samples.concatenated(np.array([1.0, 2.0, 3.0, 4.0]), np.array([4]))
    >>> cur = Samples.concatenated(np.array([3.0, 4.0, 5.0, 6.0]), np.array([4]))
    >>> t, p = welch(ref, cur)
    >>> round(float(t[0]), 4), round(float(p[0]), 4)
    (-2.1909, 0.071)
    """
    mean_r, var_r = moments(ref)
    mean_c, var_c = moments(cur)
    return welch_from_moments(mean_r, var_r, ref.lengths, mean_c, var_c, cur.lengths)


def deviation_moments(
    samples: Samples, center: np.ndarray, *, batch_cells: int = 2_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """
    Mean of ``z = |x - center|`` per sensor and the sum of squares of ``z`` about it.

    Readings may be in any order. NaN where a sensor has no readings. ``merge_stats``
    gives the current window's (``cur_dev_mean``, ``cur_dev_ss``) with ``distances``.
    """
    zbar = np.full(len(samples.lengths), np.nan)
    ss = np.full(len(samples.lengths), np.nan)
    rows = np.flatnonzero(samples.lengths > 0)
    for sub in batches(samples.lengths[rows], batch_cells):
        idx = rows[sub]
        lens = samples.lengths[idx]
        padded = samples.padded(idx, int(lens.max()), copy=False)
        zbar[idx], ss[idx] = deviation_rows(padded, lens, np.asarray(center)[idx])
    return zbar, ss


def brown_forsythe_from_moments(
    zbar_r: np.ndarray,
    ss_r: np.ndarray,
    n: np.ndarray,
    zbar_c: np.ndarray,
    ss_c: np.ndarray,
    m: np.ndarray,
    *,
    n_eff: np.ndarray | None = None,
    m_eff: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Brown-Forsythe ``W`` and p-value from :func:`deviation_moments` of both windows.

    With ``n_eff, m_eff`` the p-value is that of ``W / inflation`` on
    ``(1, n_eff + m_eff - 2)`` degrees of freedom; ``W`` is always the raw one.
    """
    nf = np.asarray(n, dtype=np.float64)
    mf = np.asarray(m, dtype=np.float64)
    big_n = nf + mf
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = zbar_r - zbar_c
        w = (big_n - 2) * (nf * mf / big_n) * diff * diff / (ss_r + ss_c)
        w = np.where(big_n > 2, w, np.nan)
        if n_eff is None or m_eff is None:
            w_test, df2 = w, big_n - 2
        else:
            w_test = w / variance_inflation(nf, mf, n_eff, m_eff)
            df2 = np.asarray(n_eff, dtype=np.float64) + np.asarray(m_eff, dtype=np.float64) - 2
        p = stats.f.sf(w_test, 1, df2)
    return w, np.where(np.isnan(w), np.nan, p)


def medians(samples: Samples, *, batch_cells: int = 2_000_000) -> np.ndarray:
    """Median of every sensor's sorted readings (as ``np.median``); NaN when empty."""
    out = np.full(len(samples.lengths), np.nan)
    rows = np.flatnonzero(samples.lengths > 0)
    for sub in batches(samples.lengths[rows], batch_cells):
        idx = rows[sub]
        lens = samples.lengths[idx]
        padded = samples.padded(idx, int(lens.max()), copy=False)
        out[idx] = quantiles_sorted(padded, lens, np.array([0.5]))[:, 0]
    return out


def brown_forsythe(
    ref: Samples, cur: Samples, *, batch_cells: int = 2_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """
    Brown-Forsythe test of a change of spread, every sensor at once.

    As ``scipy.stats.levene(R, C, center="median")``; ``ref`` sorted, ``cur`` in any
    order.

    Examples
    --------
    >>> from sensorframe.drift.statistics import Samples
    >>> from sensorframe.drift.location_scale import brown_forsythe
    >>> ref = Samples.concatenated(np.array([-1.0, 0.0, 0.5, 1.0]), np.array([4]))
    >>> cur = Samples.concatenated(np.array([-3.0, 0.0, 1.0, 3.0]), np.array([4]))
    >>> w, p = brown_forsythe(ref, cur)
    >>> round(float(w[0]), 4), round(float(p[0]), 4)
    (2.042, 0.2029)
    """
    zr, ssr = deviation_moments(ref, medians(ref, batch_cells=batch_cells))
    cur_sorted = Samples.from_unsorted(cur.concatenate(), cur.lengths, batch_cells=batch_cells)
    zc, ssc = deviation_moments(cur, medians(cur_sorted, batch_cells=batch_cells))
    return brown_forsythe_from_moments(zr, ssr, ref.lengths, zc, ssc, cur.lengths)
