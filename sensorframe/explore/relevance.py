"""
Rank statistics of many features at once: relevance to a target, and redundancy.

Within-sensor rank scores, a relevance test per feature that accounts for the
dependence between a sensor's rows, and pairwise correlations for redundancy.

Everything is batched 2-D NumPy over (rows, features), with NaN for a missing value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from sensorframe.frame import SENSOR

__all__ = ["BLOCKS", "rank_correlations", "relevance_test", "time_blocks", "within_sensor_scores"]

BLOCKS = 20
"""Stretches of time the relevance test cuts the rows into (its degrees of freedom + 1)."""


def within_sensor_scores(frame: pl.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """
    Centred rank scores of `columns` within each sensor, shape (rows, columns).

    Per sensor and column: ``u = rank / (k + 1)`` (average ranks of the k non-missing
    values, so each sensor's scores lie in (0, 1) whatever its length or level), minus
    the sensor's mean of `u`. Missing values (null or NaN) are NaN. Pearson correlation
    of these scores, pooled over sensors, is the within-sensor Spearman correlation:
    differences between sensors' levels do not count.

    Examples
    --------
    >>> from sensorframe.explore.relevance import within_sensor_scores
    >>> df = pl.DataFrame({"sensor_id": ["a", "a", "a", "b"], "x": [1.0, 5.0, None, 9.0]})
    >>> within_sensor_scores(df, ["x"]).ravel().round(3).tolist()
    [-0.167, 0.167, nan, 0.0]
    """
    exprs = []
    for c in columns:
        x = pl.col(c).cast(pl.Float64).fill_nan(None)
        u = x.rank("average").over(SENSOR) / (x.count().over(SENSOR) + 1)
        exprs.append((u - u.mean().over(SENSOR)).alias(c))
    if not columns:
        return np.empty((frame.height, 0))
    scores = frame.select(exprs).to_numpy(order="c").astype(np.float64, copy=False)
    return scores


def time_blocks(times: np.ndarray, count: int = BLOCKS) -> np.ndarray:
    """
    Return the stretch of time each row falls in, of `count` equal stretches.

    `times` are integers (e.g. microseconds); the stretches cut ``[min, max]`` of all
    rows, whatever their sensor. All rows at one time are block 0.

    Examples
    --------
    >>> from sensorframe.explore.relevance import time_blocks
    >>> time_blocks(np.array([0, 5, 10, 19, 20]), count=2).tolist()
    [0, 0, 1, 1, 1]
    """
    t = np.asarray(times, dtype=np.int64)
    if not len(t):
        return np.zeros(0, dtype=np.int64)
    low, span = int(t.min()), int(t.max()) - int(t.min())
    if span == 0:
        return np.zeros(len(t), dtype=np.int64)
    return np.minimum((t - low).astype(np.float64) * count / span, count - 1).astype(np.int64)


def relevance_test(
    x: np.ndarray, y: np.ndarray, blocks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Test each feature column of `x` against `y`: correlation, effective n and p-value.

    `x` (rows, features) and `y` (rows,) are within-sensor scores
    (:func:`within_sensor_scores`), `blocks` the stretch of time of each row
    (:func:`time_blocks`). For feature j, over the N_j rows where it is present:

    * ``r_j = sum(x_j y) / sqrt(sum(x_j^2) sum(y^2))``, the pooled within-sensor rank
      correlation;
    * the test: a one-sample t-test that the per-block sums ``S_b = sum_{i in b} x_ij
      y_i`` have mean 0 (batch means), with ``B_j - 1`` degrees of freedom for the B_j
      blocks holding the feature; the variance of the block sums gets twice the
      covariance of neighbouring blocks added when positive (what lingers past a
      block's end, a Newey-West term of one lag). Under no association every ``S_b`` has mean 0; its
      spread across blocks measures the variance of ``sum(x y)`` whatever the
      dependence inside a block: autocorrelation along a sensor (a rolling mean and a
      mean over the next hour move slowly, so neighbouring rows repeat each other) and
      between sensors at one time (a shared daily cycle). A naive test treating the N
      rows as independent finds such features "significant" at every turn;
    * ``effective_n``: the rows the test is worth, ``N_j * var_iid / var_blocks`` with
      ``var_iid = sum(x_j^2) sum(y^2) / N_j`` the variance of ``sum(x y)`` if the rows
      were independent, clipped to ``[B_j, N_j]``.

    The blocks must be long next to the memory of the features and target: stretches
    of time, so the blocks are nearly independent. A feature or target without
    variation, or in fewer than 3 blocks, gets NaN.

    Returns
    -------
    tuple of ndarray
        ``r``, ``effective_n`` and ``p_value``, one entry per feature.

    Examples
    --------
    >>> from sensorframe.explore.relevance import relevance_test
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=400)
    >>> x = np.column_stack([y + rng.normal(size=400), rng.normal(size=400)])
    >>> r, n_eff, p = relevance_test(x, y, np.arange(400) // 20)
    >>> bool(p[0] < 1e-6), bool(p[1] > 0.01)
    (True, True)
    """
    present = ~np.isnan(x)
    x0 = np.where(present, x, 0.0)
    n = present.sum(axis=0).astype(np.float64)
    sxx = np.einsum("ij,ij->j", x0, x0)
    syy = present.T.astype(np.float64) @ (y * y)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (x0.T @ y) / np.sqrt(sxx * syy)
    codes = np.unique(np.asarray(blocks), return_inverse=True)[1].ravel()
    count = int(codes.max()) + 1 if len(codes) else 0
    onehot = np.zeros((len(codes), count))
    onehot[np.arange(len(codes)), codes] = 1.0
    sums = onehot.T @ (x0 * y[:, None])  # (blocks, features)
    used = (onehot.T @ present.astype(np.float64)) > 0
    b = used.sum(axis=0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sums.sum(axis=0) / b
        dev = np.where(used, sums - mean, 0.0)
        var = (dev * dev).sum(axis=0) / (b - 1)
        # neighbouring blocks share what lingers past a block's end: add their covariance
        near = (dev[1:] * dev[:-1]).sum(axis=0) / (b - 1)
        var = var + 2 * np.maximum(near, 0.0)
        t = mean / np.sqrt(var / b)
        n_eff = np.clip(n * (sxx * syy / n) / (b * var), b, n)
    ok = (sxx > 0) & (syy > 0) & (b >= 3) & np.isfinite(r) & (var > 0)
    p = np.where(ok, 2 * stats.t.sf(np.abs(t), np.maximum(b - 1, 1)), np.nan)
    return np.where(ok, np.clip(r, -1.0, 1.0), np.nan), np.where(ok, n_eff, np.nan), p


def rank_correlations(x: np.ndarray) -> np.ndarray:
    """
    Pairwise correlations of the score columns of `x`, over rows where both are present.

    ``c_ij = sum(x_i x_j) / sqrt(sum(x_i^2) sum(x_j^2))``, each sum over the rows where
    both columns are present (the scores are centred per column and sensor over all
    the column's rows, not again per pair). NaN where a column has no variation there.

    Examples
    --------
    >>> from sensorframe.explore.relevance import rank_correlations
    >>> x = np.array([[-1.0, -2.0, 1.0], [0.0, 0.0, np.nan], [1.0, 2.0, -1.0]])
    >>> rank_correlations(x).round(2).tolist()
    [[1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]]
    """
    present = ~np.isnan(x)
    x0 = np.where(present, x, 0.0)
    m = present.astype(np.float64)
    cross = x0.T @ x0
    squares = (x0 * x0).T @ m  # [i, j]: sum of x_i^2 where j is present too
    with np.errstate(divide="ignore", invalid="ignore"):
        c = cross / np.sqrt(squares * squares.T)
    return np.clip(c, -1.0, 1.0)
