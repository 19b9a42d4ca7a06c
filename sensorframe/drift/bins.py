"""
Bin edges from reference quantiles that survive point masses (zeros at night, quantized readings).

Plain quantile edges collapse onto a value that fills a large share of the reference:
with half the readings 0, the deciles 0.1 .. 0.4 are all 0 and the median is
interpolated between 0 and the smallest positive reading, leaving a bin that holds
almost nothing in the reference; a handful of current readings there make PSI
explode through its ``epsilon`` clip. :func:`reference_edges` builds the edges, for
each sensor with ``n`` sorted reference readings and ``n_bins`` bins, as:

1. the quantile edges ``q_j``, ``j = 1 .. n_bins - 1`` (linear, as ``np.quantile``);
2. every **point mass**: a reading repeated at least ``max(2, n / n_bins)`` times
   (found among the readings at the quantile positions ``j/n_bins``, ``j = 0 ..
   n_bins``), gets a bin of its own: edges at the value ``v`` and just below it, at
   the previous distinct reference reading (``nextafter(v, -inf)`` for the minimum),
   so that ``(below, v]`` holds ``v`` alone in the reference;
3. duplicates are removed; an edge that is not a point mass's is dropped when a bin
   next to it holds fewer than ``n / (2 n_bins)`` reference readings (merging it into
   its neighbour), or when the next edge is closer than the resolution
   ``(q95 - q05) / (4 n_bins)`` (a run of such edges keeps its last one). The second
   rule is for readings quantized with jitter, which repeat no value exactly: a
   pyranometer's night readings at ``0.3518 .. 0.3523`` W/m² put two edges 1e-4 apart
   on one quantization level, so a sign flip of the night offset alone made PSI 1.87
   (Direct Normal, RMIS weather data, first half against second). Continuous readings
   are untouched: normal deciles are at least 0.25 sd apart, the resolution 0.08 sd;
4. at most ``n_bins - 1`` edges are kept, point masses' first, then those between the
   heaviest bins; the row is padded by repeating its last edge (zero-width bins,
   empty in both windows, which ``bin_metrics`` drops).

Bins are ``(e_{k-1}, e_k]`` (count readings ``<=`` each edge), outer edges ±inf, for
the reference and the current window alike (:func:`bin_counts`). For continuous
readings nothing changes: the edges are the ``n_bins - 1`` quantiles.
"""

from __future__ import annotations

import numpy as np

from sensorframe.drift.statistics import quantiles_sorted, searchsorted_rows
from sensorframe.errors import InvalidParameterError

__all__ = ["bin_counts", "reference_edges"]


def reference_edges(sorted_rows: np.ndarray, lengths: np.ndarray, n_bins: int) -> np.ndarray:
    """
    Interior bin edges of a batch of sorted reference rows (see the module docstring).

    Parameters
    ----------
    sorted_rows
        ``(sensors, width)`` sorted readings padded with ``+inf``
        (``Samples.padded``).
    lengths
        Readings per row, each at least 1.
    n_bins
        Number of bins (2 or more).

    Returns
    -------
    ndarray
        ``(sensors, n_bins - 1)`` non-decreasing finite edges.

    Raises
    ------
    InvalidParameterError
        If `n_bins` is below 2 or a row is empty.

    Examples
    --------
    >>> from sensorframe.drift.bins import reference_edges
    >>> x = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]])
    >>> reference_edges(x, np.array([10]), 4).tolist()
    [[-5e-324, 0.0, 2.75]]
    >>> reference_edges(np.arange(8.0)[None, :], np.array([8]), 4).tolist()
    [[1.75, 3.5, 5.25]]
    """
    if n_bins < 2:
        msg = f"`n_bins` must be at least 2, got {n_bins}"
        raise InvalidParameterError(msg)
    lens = np.asarray(lengths, dtype=np.int64)
    if np.any(lens < 1):
        msg = "every reference row needs at least one reading"
        raise InvalidParameterError(msg)
    b = len(lens)
    k = n_bins - 1
    nf = lens.astype(np.float64)[:, None]
    quant = quantiles_sorted(sorted_rows, lens, np.arange(1, n_bins) / n_bins)
    # point masses, looked for at the readings around every quantile position
    virtual = (nf - 1) * (np.arange(n_bins + 1) / n_bins)[None, :]
    pos = np.concatenate([np.floor(virtual), np.ceil(virtual)], axis=1).astype(np.int64)
    cand = np.take_along_axis(sorted_rows, np.minimum(pos, lens[:, None] - 1), axis=1)
    below = searchsorted_rows(sorted_rows, cand, side="left")
    count = searchsorted_rows(sorted_rows, cand, side="right") - below
    heavy = (count >= 2) & (count * n_bins >= nf)
    prev = np.take_along_axis(sorted_rows, np.maximum(below - 1, 0), axis=1)
    lower = np.where(below > 0, prev, np.nextafter(cand, -np.inf))
    values = np.concatenate(
        [quant, np.where(heavy, cand, np.inf), np.where(heavy, lower, np.inf)], axis=1
    )
    protect = np.concatenate([np.zeros((b, k), dtype=bool), heavy, heavy], axis=1)
    values, protect = _unique(values, protect)
    le = searchsorted_rows(sorted_rows, values, side="right")
    left, right = _neighbour_counts(le, lens, values)
    small = np.minimum(left, right) * 2 * n_bins < nf
    # a cluster of edges closer than the resolution keeps its last edge
    spread = np.diff(quantiles_sorted(sorted_rows, lens, np.array([0.05, 0.95])), axis=1)
    with np.errstate(invalid="ignore"):  # inf - inf past the last edge
        gap = np.concatenate([values[:, 1:] - values[:, :-1], np.full((b, 1), np.inf)], axis=1)
    close = gap * (4 * n_bins) < spread
    values, protect = _unique(np.where(~protect & (small | close), np.inf, values), protect)
    # keep at most k edges: point masses first, then the edges between the largest bins
    le = searchsorted_rows(sorted_rows, values, side="right")
    left, right = _neighbour_counts(le, lens, values)
    score = np.where(np.isfinite(values), protect * (2.0 * nf) + left + right, -1.0)
    keep = np.argsort(-score, axis=1, kind="stable")[:, :k]
    kept = np.sort(np.take_along_axis(values, keep, axis=1), axis=1)
    if kept.shape[1] < k:
        kept = np.concatenate([kept, np.full((b, k - kept.shape[1]), np.inf)], axis=1)
    finite = np.isfinite(kept)
    n_kept = finite.sum(axis=1)
    last = np.take_along_axis(kept, np.maximum(n_kept - 1, 0)[:, None], axis=1)
    out = np.where(finite, kept, last)
    return np.where((n_kept > 0)[:, None], out, quant)


def _unique(values: np.ndarray, protect: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row, drop repeated values (``+inf`` marks a dropped one) keeping protection."""
    order = np.lexsort((~protect, values), axis=1)
    v = np.take_along_axis(values, order, axis=1)
    p = np.take_along_axis(protect, order, axis=1)
    repeat = np.zeros(v.shape, dtype=bool)
    repeat[:, 1:] = v[:, 1:] == v[:, :-1]
    v = np.where(repeat, np.inf, v)
    order = np.argsort(v, axis=1, kind="stable")
    return np.take_along_axis(v, order, axis=1), np.take_along_axis(p & ~repeat, order, axis=1)


def _neighbour_counts(
    le: np.ndarray, lengths: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Count the reference readings in the bins left and right of each finite edge."""
    total = lengths[:, None]
    le = np.where(np.isfinite(values), le, total)
    prev = np.concatenate([np.zeros((len(le), 1), dtype=le.dtype), le[:, :-1]], axis=1)
    nxt = np.concatenate([le[:, 1:], total], axis=1)
    return le - prev, nxt - le


def bin_counts(le_edges: np.ndarray, n: np.ndarray) -> np.ndarray:
    """
    Count the readings per bin from those ``<=`` each edge, ``(sensors, n_bins)``.

    Examples
    --------
    >>> from sensorframe.drift.bins import bin_counts
    >>> bin_counts(np.array([[2, 5, 5]]), np.array([9])).tolist()
    [[2, 3, 0, 4]]
    """
    le = np.asarray(le_edges, dtype=np.int64)
    total = np.asarray(n, dtype=np.int64)[:, None]
    return np.diff(np.concatenate([np.zeros_like(total), le, total], axis=1), axis=1)
