"""
Effective sample sizes of autocorrelated readings, for drift p-values.

Readings a minute apart are not independent: a two-sample test that counts each as a
new observation sees "significant" differences between two stretches of ordinary
weather. The tests here keep their statistics and refer them to the null distribution
of ``n_eff`` independent readings instead of ``n``.

Estimator (AR(1), lag-1 autocorrelation)
----------------------------------------
Per sensor, from the finite readings **in time order** (missing readings dropped, so
the readings either side of a gap count as neighbours):

- ``rho = sum_t (x_t - xbar)(x_{t+1} - xbar) / sum_t (x_t - xbar)^2`` (the usual
  biased ACF estimator at lag 1, :func:`lag1_autocorrelation`);
- ``n_eff = n (1 - rho) / (1 + rho)`` (:func:`effective_size`), the size at which the
  mean of independent readings has the variance of the mean of an AR(1) series,
  ``Var(xbar) ~ sigma^2 / n * (1 + rho) / (1 - rho)``;
- a ``rho`` below its noise level under independence, ``2 / sqrt(n)``, counts as 0,
  as does a negative one (negative autocorrelation would enlarge ``n``), so
  independent readings keep ``n_eff = n`` (and today's power) for about 98% of
  sensors; ``rho`` is capped at ``1 - 1e-6`` and ``n_eff`` kept in ``[min(n, 2), n]``.

Each test's p-value then uses the variance inflation
``(1/n_eff + 1/m_eff) / (1/n + 1/m)``
(``sensorframe.drift.statistics.variance_inflation``): KS and
Mann-Whitney through ``n_eff, m_eff`` (``sensorframe.drift.statistics.ks_pvalue``,
``mw_pvalue``), chi-square and PSI on bins (``bin_metrics``), Cramér-von Mises and
Anderson-Darling (``sensorframe.drift.distances.cvm_pvalue``, ``ad_pvalue``), Welch's
t and Brown-Forsythe (``sensorframe.drift.location_scale``).

Assumptions: each window is stationary with short memory whose autocorrelation decays
at least as fast as an AR(1) with the same lag-1 correlation. The inflation of the mean
is the largest of the statistics': ranks, bin indicators and the empirical CDF of a
Gaussian AR(1) have smaller lag correlations (``(2/pi) arcsin(rho)`` at the median,
``(6/pi) arcsin(rho/2)`` for ranks), so rank and distribution tests are conservative.
Slower decay (an AR(2) with a positive second coefficient, a random walk plus noise,
a daily cycle not removed) is under-corrected: lag 1 does not see the long memory, and
the false-alarm rate rises above alpha. Trends and cycles inside the window are not
stationarity either: remove them first (the detector's seasonal reference).
"""

from __future__ import annotations

import numpy as np

from sensorframe.drift.statistics import Samples, batches
from sensorframe.errors import InvalidParameterError

__all__ = ["effective_size", "lag1_autocorrelation"]

RHO_MAX = 1 - 1e-6
"""Largest lag-1 autocorrelation used (a random walk's estimate is close to 1)."""


def lag1_autocorrelation(samples: Samples, *, batch_cells: int = 2_000_000) -> np.ndarray:
    """
    Lag-1 autocorrelation of every sensor's readings, taken in the order given.

    Parameters
    ----------
    samples
        Each sensor's finite readings **in time order** (not sorted by value).
    batch_cells
        Memory knob: readings processed per pass.

    Returns
    -------
    ndarray
        ``sum (x_t - xbar)(x_{t+1} - xbar) / sum (x_t - xbar)^2`` per sensor, in
        [-1, 1]; NaN for fewer than 2 readings or constant readings.

    Examples
    --------
    >>> from sensorframe.drift.statistics import Samples, batches
    >>> from sensorframe.drift.autocorrelation import lag1_autocorrelation
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 1.0, 5.0, 1.0])
    >>> lag1_autocorrelation(Samples.concatenated(x, np.array([5, 1, 3]))).round(3).tolist()
    [0.4, nan, -0.667]
    """
    lengths = samples.lengths
    out = np.full(len(lengths), np.nan)
    rows = np.flatnonzero(lengths >= 2)
    if rows.size == 0:
        return out
    for sub in batches(lengths[rows], batch_cells):
        out[rows[sub]] = _lag1(samples.take(rows[sub]))
    return out


def _lag1(s: Samples) -> np.ndarray:
    x = s.concatenate()
    lens = s.lengths
    starts = np.cumsum(lens) - lens
    mean = np.add.reduceat(x, starts) / lens
    dev = x - np.repeat(mean, lens)
    ss = np.add.reduceat(dev * dev, starts)
    prod = dev[1:] * dev[:-1]
    prod[starts[1:] - 1] = 0.0  # the pair across two sensors (every run has 2 or more)
    cross = np.add.reduceat(prod, starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = cross / ss
    return np.where(ss > 0, np.clip(rho, -1.0, 1.0), np.nan)


def effective_size(n: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """
    Effective number of independent readings, ``n (1 - rho) / (1 + rho)``.

    ``rho`` below ``2 / sqrt(n)`` (or NaN) counts as 0, so independent readings keep
    ``n``; ``rho`` is capped at ``1 - 1e-6`` and the result kept in ``[min(n, 2), n]``.

    Parameters
    ----------
    n
        Readings per sensor.
    rho
        Lag-1 autocorrelation per sensor (:func:`lag1_autocorrelation`).

    Returns
    -------
    ndarray
        Float64 effective sizes (fractional).

    Examples
    --------
    >>> from sensorframe.drift.autocorrelation import effective_size
    >>> n = np.array([2000, 2000, 2000])
    >>> effective_size(n, np.array([0.9, 0.03, np.nan])).round(2).tolist()
    [105.26, 2000.0, 2000.0]
    """
    nf = np.asarray(n, dtype=np.float64)
    r = np.asarray(rho, dtype=np.float64)
    if nf.shape != r.shape:
        msg = f"`n` and `rho` must have the same shape, got {nf.shape} and {r.shape}"
        raise InvalidParameterError(msg)
    with np.errstate(divide="ignore", invalid="ignore"):
        noise = 2 / np.sqrt(nf)
    used = np.where(np.isfinite(r) & (r >= noise), np.minimum(r, RHO_MAX), 0.0)
    eff = nf * (1 - used) / (1 + used)
    return np.clip(eff, np.minimum(nf, 2.0), nf)
