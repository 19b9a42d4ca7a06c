"""
Effective sample sizes of autocorrelated readings, for drift p-values.

Readings a minute apart are not independent: a two-sample test that counts each as a
new observation sees "significant" differences between two stretches of ordinary
weather. The tests here keep their statistics and refer them to the null distribution
of ``n_eff`` independent readings instead of ``n``.

Estimators (lag 1, and an AR(2) fit as an AR(1)-equivalent autocorrelation)
----------------------------------------------------------------------------
The detector uses :func:`lag1_autocorrelation` (``r_1``). :func:`equivalent_autocorrelation`
also reads lag 2 and corrects slower decay (the AR(2) figures below); it is not the
detector's estimator yet.

Per sensor, from the finite readings **in time order** (missing readings dropped, so
the readings either side of a gap count as neighbours):

- ``r_k = sum_t (x_t - xbar)(x_{t+k} - xbar) / sum_t (x_t - xbar)^2``, k = 1, 2 (the
  usual biased ACF estimator; :func:`lag1_autocorrelation` is ``r_1``);
- Yule-Walker AR(2): ``phi2 = (r_2 - r_1^2) / (1 - r_1^2)``, ``phi1 = r_1 (1 - phi2)``,
  and the variance inflation of the mean ``tau = (1 - phi1 r_1 - phi2 r_2) / (1 -
  phi1 - phi2)^2``, expressed as ``rho = (tau - 1) / (tau + 1)``
  (:func:`equivalent_autocorrelation`); when ``phi2`` is below its noise level
  ``2 / sqrt(n)`` (an AR(1)-like series) ``rho = r_1``, so ``tau = (1 + r_1)/(1 - r_1)``;
- ``n_eff = n (1 - rho) / (1 + rho) = n / tau`` (:func:`effective_size`), the size at
  which the mean of independent readings has the variance of the series' mean;
- a ``rho`` below its noise level under independence, ``2 / sqrt(n)``, counts as 0,
  as does a negative one (negative autocorrelation would enlarge ``n``), so
  independent readings keep ``n_eff = n`` (and today's power) for about 98% of
  sensors; ``rho`` is capped at ``1 - 1e-6`` and ``n_eff`` kept in ``[min(n, 2), n]``.

Measured (400 pairs, n = m = 2,000, alpha = 0.05, false alarms with raw -> effective
p-values): AR(1) phi = 0.9: KS 0.78 -> 0.005, Mann-Whitney 0.68 -> 0.04, CvM and AD
0.78-0.84 -> 0.03, Welch 0.71 -> 0.045, Brown-Forsythe 0.50 -> 0.005, chi-square and
PSI 0.77 -> 0; AR(2) (0.5, 0.4; lag-1 0.83, slower decay) the same with lag 1 alone
gave Mann-Whitney 0.20, Welch 0.21, CvM 0.16, with the AR(2) fit 0.04, 0.04, 0.03;
i.i.d.: every rate unchanged (0.03-0.055). A random walk (steps 0.05) plus unit noise
stays at 0.93-0.96: not stationary, its lag-1 and lag-2 correlations (0.37) see the
noise, not the wandering level; no short-memory correction can fix that.

Each test's p-value then uses the variance inflation
``(1/n_eff + 1/m_eff) / (1/n + 1/m)``
(``sensorframe.drift.statistics.variance_inflation``): KS and
Mann-Whitney through ``n_eff, m_eff`` (``sensorframe.drift.statistics.ks_pvalue``,
``mw_pvalue``), chi-square and PSI on bins (``bin_metrics``), Cramér-von Mises and
Anderson-Darling (``sensorframe.drift.distances.cvm_pvalue``, ``ad_pvalue``), Welch's
t and Brown-Forsythe (``sensorframe.drift.location_scale``).

Assumptions: each window is stationary with short memory, its autocorrelation
described by an AR(2) (decaying at least as fast as the fit's). The inflation of the
mean is the largest of the statistics': ranks, bin indicators and the empirical CDF of
a Gaussian AR(1) have smaller lag correlations (``(2/pi) arcsin(rho)`` at the median,
``(6/pi) arcsin(rho/2)`` for ranks), so rank and distribution tests are conservative.
Slower decay (long memory, a random walk plus noise, a daily cycle not removed) is
under-corrected: two lags do not see it, and the false-alarm rate rises above alpha.
Trends and cycles inside the window are not stationarity either: remove them first
(the detector's seasonal reference).
"""

from __future__ import annotations

import numpy as np

from sensorframe._exact import segment_sums
from sensorframe.drift.statistics import Samples, batches
from sensorframe.errors import InvalidParameterError

__all__ = ["effective_size", "equivalent_autocorrelation", "lag1_autocorrelation"]

RHO_MAX = 1 - 1e-6
"""Largest autocorrelation used (a random walk's estimate is close to 1)."""


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
    >>> from sensorframe.drift.statistics import Samples
    >>> from sensorframe.drift.autocorrelation import lag1_autocorrelation
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 1.0, 5.0, 1.0])
    >>> lag1_autocorrelation(Samples.concatenated(x, np.array([5, 1, 3]))).round(3).tolist()
    [0.4, nan, -0.667]
    """
    return _autocorrelations(samples, batch_cells, lags=1)[:, 0]


def equivalent_autocorrelation(samples: Samples, *, batch_cells: int = 2_000_000) -> np.ndarray:
    """
    AR(1)-equivalent autocorrelation of every sensor's time-ordered readings.

    The ``rho`` for which ``(1 + rho) / (1 - rho)`` is the variance inflation of the
    mean under an AR(2) fit (Yule-Walker, from the lag-1 and lag-2 autocorrelations);
    the lag-1 autocorrelation itself when the fit's second coefficient is below its
    noise level ``2 / sqrt(n)`` (an AR(1)-like series) or the lag-1 one is. Pass it to
    :func:`effective_size`.

    Parameters
    ----------
    samples
        Each sensor's finite readings **in time order**.
    batch_cells
        Memory knob: readings processed per pass.

    Returns
    -------
    ndarray
        One value per sensor in [-1, 1], NaN where undefined (fewer than 2 readings,
        constant readings).

    Examples
    --------
    >>> from sensorframe.drift.statistics import Samples
    >>> from sensorframe.drift.autocorrelation import equivalent_autocorrelation
    >>> rng = np.random.default_rng(0)
    >>> e = rng.normal(size=3000)
    >>> ar1 = np.zeros(3000)
    >>> for t in range(1, 3000):
    ...     ar1[t] = 0.8 * ar1[t - 1] + e[t]
    >>> s = Samples.concatenated(np.concatenate([e, ar1]), np.array([3000, 3000]))
    >>> equivalent_autocorrelation(s).round(2).tolist()
    [-0.0, 0.8]
    """
    acf = _autocorrelations(samples, batch_cells, lags=2)
    r1, r2 = acf[:, 0], acf[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        noise = 2 / np.sqrt(samples.lengths.astype(np.float64))
        phi2 = (r2 - r1 * r1) / (1 - r1 * r1)
        phi1 = r1 * (1 - phi2)
        # long-run / marginal variance of an AR(2): (1 - phi1 r1 - phi2 r2) / (1 - phi1 - phi2)^2
        tau = (1 - phi1 * r1 - phi2 * r2) / (1 - phi1 - phi2) ** 2
        rho2 = np.where((phi1 + phi2 < 1) & (tau > 0), (tau - 1) / (tau + 1), RHO_MAX)
    ar2 = (r1 >= noise) & (phi2 >= noise) & np.isfinite(phi2)
    return np.where(ar2, np.maximum(rho2, r1), r1)


def _autocorrelations(samples: Samples, batch_cells: int, *, lags: int) -> np.ndarray:
    """Autocorrelations at lags 1 .. ``lags``, ``(sensors, lags)`` (NaN where undefined)."""
    lengths = samples.lengths
    out = np.full((len(lengths), lags), np.nan)
    rows = np.flatnonzero(lengths >= 2)
    # small batches: the few passes over each stay in cache
    for sub in batches(lengths[rows], min(batch_cells, 1 << 18)):
        idx = rows[sub]
        lens = lengths[idx]
        out[idx] = _lags(samples.padded(idx, int(lens.max()), copy=False), lens, lags)
    return out


def _lags(rows: np.ndarray, lens: np.ndarray, lags: int) -> np.ndarray:
    """
    Autocorrelations at lags 1 .. ``lags`` of padded rows (padding past each length).

    Every sum runs over a row's own readings (:func:`sensorframe._exact.segment_sums`),
    not over the padded width, which depends on the other sensors in the batch.
    """
    inside = np.arange(rows.shape[1])[None, :] < lens[:, None]
    x = rows[inside]  # row after row
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = x - np.repeat(segment_sums(x, lens) / lens, lens)
    ss = segment_sums(dev * dev, lens)
    position = np.arange(x.size) - np.repeat(np.cumsum(lens) - lens, lens)
    out = np.empty((len(lens), lags))
    for lag in range(1, lags + 1):
        products = np.zeros(x.size)
        products[lag:] = dev[lag:] * dev[:-lag]
        products[position < lag] = 0.0  # no reading `lag` before it in its own row
        cross = segment_sums(products, lens)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.clip(cross / ss, -1.0, 1.0)
        out[:, lag - 1] = np.where((lens > lag) & (ss > 0), rho, np.nan)
    return out


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
