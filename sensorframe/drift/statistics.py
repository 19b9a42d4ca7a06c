"""
Batched two-sample statistics for many sensors at once.

Each sensor's finite readings are kept sorted and concatenated (:class:`Samples`).
Sensors are processed in batches of padded 2-D rows (``+inf`` padding). Pooled ranks
come from merging a sorted reference row with a sorted current row: a stable sort of
the two concatenated runs, which NumPy's timsort does in linear time, on complex
numbers whose real part is the reading and whose imaginary part marks the sample
(0 reference, 1 current). Ties, KS and Mann-Whitney then need only cumulative sums
along the rows. The p-values use SciPy distribution functions on whole arrays.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from sensorframe._multiple_testing import adjust_pvalues
from sensorframe.drift._ranks import deviation_rows, distance_sums
from sensorframe.drift.config import KSMethod

__all__ = [
    "QUANTILES",
    "MergeStats",
    "Samples",
    "benjamini_hochberg",
    "bin_metrics",
    "ks_pvalue",
    "merge_stats",
    "mw_pvalue",
    "quantiles_sorted",
    "searchsorted_rows",
    "variance_inflation",
]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles whose shifts are reported (q05, q25, q50, q75, q95)."""

_EXACT_KS_CELLS = 10_000
_MERGE_CELLS = 1 << 18
"""Readings per merge batch at most: its temporaries then stay in cache (about 30%
faster per reading than batches of millions)."""


@dataclass(frozen=True, slots=True)
class Samples:
    """Finite readings of many sensors: sensor ``i`` is ``values[starts[i]:][:lengths[i]]``."""

    values: np.ndarray
    """Float64 readings, each sensor's run contiguous."""
    lengths: np.ndarray
    """Int64 number of readings per sensor."""
    starts: np.ndarray
    """Int64 start of each sensor's run in ``values``."""

    @classmethod
    def concatenated(cls, values: np.ndarray, lengths: np.ndarray) -> Samples:
        """Build samples whose runs follow each other in sensor order."""
        lengths = np.asarray(lengths, dtype=np.int64)
        return cls(np.asarray(values, dtype=np.float64), lengths, np.cumsum(lengths) - lengths)

    @classmethod
    def from_unsorted(cls, values: np.ndarray, lengths: np.ndarray, *, batch_cells: int) -> Samples:
        """Concatenated samples with every sensor's run sorted (batched 2-D sorts)."""
        out = cls.concatenated(np.array(values, dtype=np.float64), lengths)

        def sort_batch(rows: np.ndarray) -> None:
            lens = out.lengths[rows]
            width = int(lens.max(initial=0))
            if width == 0:
                return
            first = int(out.starts[rows[0]])
            if np.all(lens == width) and np.all(
                out.starts[rows] == first + width * np.arange(len(rows))
            ):
                out.values[first : first + width * len(rows)].reshape(-1, width).sort(axis=1)
                return  # equal runs that follow each other: sorted in place
            pad = out.padded(rows, width)
            pad.sort(axis=1)
            mask = np.arange(width)[None, :] < out.lengths[rows][:, None]
            out.values[_sources(out.starts, out.lengths, rows)] = pad[mask]

        _run_batches(sort_batch, out.lengths, batch_cells)
        return out

    def take(self, positions: np.ndarray) -> Samples:
        """Select the sensors at ``positions`` (``-1``: a sensor with no readings)."""
        pos = np.asarray(positions, dtype=np.int64)
        absent = pos < 0
        safe = np.where(absent, 0, pos)
        lengths = np.where(absent, 0, self.lengths[safe] if len(self.lengths) else 0)
        starts = np.where(absent, 0, self.starts[safe] if len(self.starts) else 0)
        return Samples(self.values, lengths.astype(np.int64), starts.astype(np.int64))

    def concatenate(self) -> np.ndarray:
        """All readings in sensor order, as one array."""
        if np.array_equal(self.starts, np.cumsum(self.lengths) - self.lengths):
            return self.values[: int(self.lengths.sum())]
        return self.values[_sources(self.starts, self.lengths, np.arange(len(self.lengths)))]

    def first_last(self) -> tuple[np.ndarray, np.ndarray]:
        """First and last reading of each run (the extremes once sorted); NaN when empty."""
        empty = self.lengths == 0
        if self.values.size == 0:
            nan = np.full(len(self.lengths), np.nan)
            return nan, nan.copy()
        lo = self.values[np.where(empty, 0, self.starts)]
        hi = self.values[np.where(empty, 0, self.starts + self.lengths - 1)]
        return np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)

    def padded(self, rows: np.ndarray, width: int, *, copy: bool = True) -> np.ndarray:
        """
        Rows ``rows`` as a ``(len(rows), width)`` array padded with ``+inf``.

        With ``copy=False`` the result may be a read-only view of ``values``.
        """
        return _pad(self.values, self.starts, self.lengths, rows, width, copy=copy)


def _pad(
    values: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    rows: np.ndarray,
    width: int,
    *,
    copy: bool = True,
) -> np.ndarray:
    lens = lengths[rows]
    total = int(lens.sum())
    b = len(rows)
    first = starts[rows]
    if b and np.all(first[1:] == first[:-1] + lens[:-1]):
        # runs that follow each other (the usual case): one slice, no index arrays
        start = int(first[0])
        segment = values[start : start + total]
        if np.all(lens == width):
            block = segment.reshape(b, width)
            return block.copy() if copy else block
        out = np.full((b, max(width, 1)), np.inf)
        out[np.arange(out.shape[1])[None, :] < lens[:, None]] = segment
        return out
    src = _sources(starts, lengths, rows)
    out = np.full((b, max(width, 1)), np.inf)
    out[np.arange(out.shape[1])[None, :] < lens[:, None]] = values[src]
    return out


def _sources(starts: np.ndarray, lengths: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions in ``values`` of the readings of ``rows``, row after row."""
    lens = lengths[rows]
    total = int(lens.sum())
    return np.repeat(starts[rows] - (np.cumsum(lens) - lens), lens) + np.arange(total)


def batches(sizes: np.ndarray, budget: int) -> Iterator[np.ndarray]:
    """
    Split sensor indices into batches of similar size with about ``budget`` cells each.

    Sensors are grouped by the power of two above their size, so padding wastes at most
    half of a batch; each group is cut into runs of ``budget // 2**class`` sensors.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    if sizes.size == 0:
        return
    klass = np.ceil(np.log2(np.maximum(sizes, 1))).astype(np.int64)
    per_batch = np.maximum(budget // (2**klass), 1)
    order = np.lexsort((sizes, klass))
    k_sorted = klass[order]
    start_of_class = np.searchsorted(k_sorted, k_sorted, side="left")
    chunk = (np.arange(len(order)) - start_of_class) // per_batch[order]
    key = k_sorted * (len(order) + 1) + chunk
    cuts = np.flatnonzero(np.diff(key)) + 1
    yield from np.split(order, cuts)


def _run_batches(fn: Callable[[np.ndarray], None], sizes: np.ndarray, budget: int) -> None:
    work = list(batches(sizes, budget))
    threads = min(len(work), os.cpu_count() or 1, 4)
    if threads <= 1:
        for rows in work:
            fn(rows)
        return
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(fn, work):
            pass


def quantiles_sorted(sorted_rows: np.ndarray, lengths: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """
    Quantiles of padded sorted rows, exactly as ``np.quantile(..., method="linear")``.

    Rows of length 0 give NaN.
    """
    n = lengths.astype(np.float64)[:, None]
    q = np.asarray(probs, dtype=np.float64)[None, :]
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    gamma = virtual - prev
    last = np.maximum(lengths - 1, 0)[:, None]
    lo = np.clip(prev.astype(np.int64), 0, last)
    hi = np.clip(prev.astype(np.int64) + 1, 0, last)
    a = np.take_along_axis(sorted_rows, lo, axis=1)
    b = np.take_along_axis(sorted_rows, hi, axis=1)
    with np.errstate(invalid="ignore"):
        diff = b - a
        out = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    out[lengths == 0] = np.nan
    return out


def searchsorted_rows(
    sorted_rows: np.ndarray, queries: np.ndarray, *, side: str = "right"
) -> np.ndarray:
    """Row-wise ``np.searchsorted`` for padded sorted rows, by a vectorized bisection."""
    width = sorted_rows.shape[1]
    flat = sorted_rows.reshape(-1)
    base = (np.arange(len(sorted_rows)) * width)[:, None]
    lo = np.zeros(queries.shape, dtype=np.int64)
    hi = np.full(queries.shape, width, dtype=np.int64)
    for _ in range(math.ceil(math.log2(width + 1)) + 1):
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        v = flat[base + np.minimum(mid, width - 1)]  # flat indices: no take_along_axis setup
        right = ((v <= queries) if side == "right" else (v < queries)) & active
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
    return lo


@dataclass(frozen=True, slots=True)
class MergeStats:
    """
    Per-sensor results of merging reference and current samples (NaN where not computed).

    ``wasserstein``, ``cvm_u``, ``ad_a2kn``, ``cur_dev_mean`` and ``cur_dev_ss`` are
    NaN unless ``merge_stats`` was called with ``distances=True``;
    :mod:`sensorframe.drift.distances` and :mod:`sensorframe.drift.location_scale` turn
    them into statistics and p-values.
    """

    ks_d: np.ndarray
    rank_sum_ref: np.ndarray
    tie_term: np.ndarray
    cur_le_edges: np.ndarray
    cur_quantiles: np.ndarray
    cur_constant: np.ndarray
    wasserstein: np.ndarray
    """``W1 = sum over the pooled distinct values z_j of |F_R(z_j) - F_C(z_j)| (z_j+1 - z_j)``."""
    cvm_u: np.ndarray
    """Cramér-von Mises ``U = n sum (r_i - i)^2 + m sum (s_j - j)^2`` (pooled midranks)."""
    ad_a2kn: np.ndarray
    """Anderson-Darling ``A2akN`` of Scholz and Stephens (midrank), before standardizing."""
    cur_dev_mean: np.ndarray
    """Mean of ``|x - median|`` over the current readings (Brown-Forsythe)."""
    cur_dev_ss: np.ndarray
    """Sum of squares of ``|x - median|`` about that mean."""


def merge_stats(
    ref: Samples,
    cur: Samples,
    edges: np.ndarray,
    rows: np.ndarray,
    *,
    batch_cells: int,
    cur_sorted: bool = False,
    distances: bool = False,
) -> MergeStats:
    """
    KS distance, rank sum, tie term, bin counts, quantiles of ``cur`` (and distances).

    Parameters
    ----------
    ref, cur
        Samples; sensor ``i`` of ``ref`` is compared with sensor ``i`` of ``cur``.
        ``ref`` is sorted; ``cur`` is sorted here, batch by batch, unless
        ``cur_sorted``.
    edges
        ``(sensors, k)`` interior bin edges (finite for the sensors in ``rows``).
    rows
        Sensors to compute (both samples non-empty); other entries are NaN.
    batch_cells
        Batch size in readings (at most ``_MERGE_CELLS``).
    cur_sorted
        Whether ``cur`` is already sorted.
    distances
        Also compute the Wasserstein distance and the Cramér-von Mises and
        Anderson-Darling sums from the same merge (a few more passes over the tie
        groups), and the current's deviation moments about its median.
    """
    n_sensors = len(ref.lengths)
    ks_d = np.full(n_sensors, np.nan)
    rank_sum = np.full(n_sensors, np.nan)
    tie = np.full(n_sensors, np.nan)
    w1 = np.full(n_sensors, np.nan)
    cvm_u = np.full(n_sensors, np.nan)
    ad = np.full(n_sensors, np.nan)
    dev_mean = np.full(n_sensors, np.nan)
    dev_ss = np.full(n_sensors, np.nan)
    cur_le = np.zeros(edges.shape, dtype=np.int64)
    cur_q = np.full((n_sensors, len(QUANTILES)), np.nan)
    cur_constant = np.zeros(n_sensors, dtype=bool)
    probs = np.asarray(QUANTILES)

    def one_batch(sub: np.ndarray) -> None:
        idx = rows[sub]
        n = ref.lengths[idx]
        m = cur.lengths[idx]
        c_rows = cur.padded(idx, int(m.max()))
        if not cur_sorted:
            c_rows.sort(axis=1)
        cur_le[idx] = searchsorted_rows(c_rows, edges[idx], side="right")
        cur_q[idx] = quantiles_sorted(c_rows, m, probs)
        cur_constant[idx] = c_rows[:, 0] == c_rows[np.arange(len(idx)), m - 1]
        r_rows = ref.padded(idx, int(n.max()), copy=False)
        out = _merge_batch(r_rows, c_rows, n, m, distances=distances)
        ks_d[idx], rank_sum[idx], tie[idx] = out[:3]
        if distances:
            w1[idx], cvm_u[idx], ad[idx] = out[3:]
            median = cur_q[idx, QUANTILES.index(0.5)]
            dev_mean[idx], dev_ss[idx] = deviation_rows(c_rows, m, median)

    sizes = ref.lengths[rows] + cur.lengths[rows]
    _run_batches(one_batch, sizes, min(batch_cells, _MERGE_CELLS))
    return MergeStats(
        ks_d, rank_sum, tie, cur_le, cur_q, cur_constant, w1, cvm_u, ad, dev_mean, dev_ss
    )


def _merge_batch(
    r_rows: np.ndarray, c_rows: np.ndarray, n: np.ndarray, m: np.ndarray, *, distances: bool
) -> tuple[np.ndarray, ...]:
    """
    Statistics of padded sorted rows (n, m >= 1) from their tie groups.

    KS D, reference rank sum and tie term; with ``distances`` also W1, CvM U and AD
    A2akN. Tie group g of a row (one distinct pooled value z_g) has ``t_g`` readings,
    ``b_g`` of them current, ``prev`` pooled readings below it, ``cr``/``cc``
    reference/current readings up to and including it.
    """
    b, wr = r_rows.shape
    wc = c_rows.shape[1]
    width = wr + wc + 1  # one more +inf column: every row ends with a padding group
    merged = np.empty((b, width), dtype=np.complex128)
    merged.real[:, :wr] = r_rows
    merged.imag[:, :wr] = 0.0
    merged.real[:, wr:-1] = c_rows
    merged.real[:, -1] = np.inf
    merged.imag[:, wr:] = 1.0
    merged.sort(axis=1, kind="stable")  # linear: two sorted runs are merged
    v = merged.real
    end = np.empty((b, width), dtype=bool)
    np.not_equal(v[:, :-1], v[:, 1:], out=end[:, :-1])
    end[:, -1] = True
    cum_cur = np.cumsum(merged.imag, axis=1).ravel()  # exact: counts far below 2**53
    ends = np.flatnonzero(end)  # last position of every tie group, row by row
    del end
    value = merged.ravel()[ends].real if distances else None  # v.ravel() would copy
    del merged, v
    row = ends // width
    col = ends - row * width
    cc = cum_cur[ends]
    new_row = np.empty(len(ends), dtype=bool)
    new_row[0] = True
    new_row[1:] = row[1:] != row[:-1]
    prev_col = np.empty_like(col)
    prev_col[0] = -1
    prev_col[1:] = col[:-1]
    prev_col[new_row] = -1
    prev_cc = np.empty_like(cc)
    prev_cc[0] = 0.0
    prev_cc[1:] = cc[:-1]
    prev_cc[new_row] = 0.0
    keep = col < (n + m)[row]  # drop the padding group
    row, col, cc, prev_col, prev_cc = row[keep], col[keep], cc[keep], prev_col[keep], prev_cc[keep]
    starts = np.searchsorted(row, np.arange(b))
    nf = n.astype(np.float64)
    mf = m.astype(np.float64)
    cr = (col + 1) - cc
    d = np.maximum.reduceat(np.abs(cr / nf[row] - cc / mf[row]), starts)
    t = (col - prev_col).astype(np.float64)
    avg_rank = (prev_col + col + 1) / 2.0 + 1.0
    rank_cur = np.add.reduceat((cc - prev_cc) * avg_rank, starts)
    tie = np.add.reduceat(t * t * t - t, starts)
    total = nf + mf
    basic = (d, total * (total + 1) / 2 - rank_cur, tie)
    if not distances:
        return basic
    assert value is not None
    value = value[keep]
    return (*basic, *distance_sums(row, starts, value, t, cr, cc, prev_cc, avg_rank, nf, mf))


def mw_pvalue(
    rank_sum_ref: np.ndarray,
    tie_term: np.ndarray,
    n: np.ndarray,
    m: np.ndarray,
    *,
    n_eff: np.ndarray | None = None,
    m_eff: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Mann-Whitney U of the reference and its two-sided asymptotic p-value.

    As ``scipy.stats.mannwhitneyu(R, C, method="asymptotic")``: tie and continuity
    corrected. With effective sizes ``n_eff, m_eff`` the variance of U is multiplied
    by :func:`variance_inflation`.
    """
    n1 = n.astype(np.float64)
    n2 = m.astype(np.float64)
    u1 = rank_sum_ref - n1 * (n1 + 1) / 2
    u = np.maximum(u1, n1 * n2 - u1)
    big_n = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        var = n1 * n2 / 12 * ((big_n + 1) - tie_term / (big_n * (big_n - 1)))
        if n_eff is not None and m_eff is not None:
            var = var * variance_inflation(n1, n2, n_eff, m_eff)
        z = (u - n1 * n2 / 2 - 0.5) / np.sqrt(var)
    p = np.clip(special.ndtr(-z) * 2, 0.0, 1.0)
    return u1, p


def _ks_asymp_one(n: int, m: int, d: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(stats.kstwo.sf(d, np.round(n * m / (n + m))))


def _ks_exact_one(n: int, m: int, d: float) -> float:
    g = math.gcd(n, m)
    if (n // g) >= np.iinfo(np.int32).max / (m // g):
        return _ks_asymp_one(n, m, d)
    from scipy.stats._stats_py import _attempt_exact_2kssamp

    ok, _, prob = _attempt_exact_2kssamp(n, m, g, d, "two-sided")
    if not ok:  # scipy switches to asymp here too (with a warning)
        return _ks_asymp_one(n, m, d)
    return float(np.clip(prob, 0.0, 1.0))


def _ks_limit(d: np.ndarray, en: np.ndarray) -> np.ndarray:
    """Kolmogorov limit with Stephens' correction at (possibly fractional) ``en``."""
    sq = np.sqrt(en)
    return np.asarray(stats.kstwobign.sf((sq + 0.12 + 0.11 / sq) * d))


def ks_pvalue(
    d: np.ndarray,
    n: np.ndarray,
    m: np.ndarray,
    *,
    method: KSMethod,
    n_eff: np.ndarray | None = None,
    m_eff: np.ndarray | None = None,
) -> np.ndarray:
    """
    Two-sided KS p-values for many sensors.

    ``"exact"`` and ``"asymp"`` reproduce ``scipy.stats.ks_2samp``; ``"auto"`` is exact
    when ``n*m <= 10_000`` and otherwise ``kstwobign.sf((sqrt(en) + 0.12 +
    0.11/sqrt(en)) * D)`` with ``en = n*m/(n+m)`` (Stephens). With effective sizes,
    sensors whose ``n_eff < n`` or ``m_eff < m`` get that limit at
    ``en = n_eff*m_eff/(n_eff+m_eff)``; the others keep ``method``.
    """
    d = np.asarray(d, dtype=np.float64)
    nf = n.astype(np.float64)
    mf = m.astype(np.float64)
    out = np.full(d.shape, np.nan)
    ok = np.isfinite(d) & (n > 0) & (m > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        en = nf * mf / (nf + mf)
    reduced = np.zeros(d.shape, dtype=bool)
    if n_eff is not None and m_eff is not None:
        ne = np.asarray(n_eff, dtype=np.float64)
        me = np.asarray(m_eff, dtype=np.float64)
        reduced = ok & ((ne < nf) | (me < mf))
        out[reduced] = _ks_limit(
            d[reduced], ne[reduced] * me[reduced] / (ne[reduced] + me[reduced])
        )
        ok = ok & ~reduced
    if method == "asymp":
        with np.errstate(divide="ignore", invalid="ignore"):  # en < 0.5 (n = m = 1)
            out[ok] = stats.kstwo.sf(d[ok], np.round(en[ok]))
        return np.clip(out, 0.0, 1.0)
    exact = ok if method == "exact" else ok & (n * m <= _EXACT_KS_CELLS)
    limit = ok & ~exact
    out[limit] = _ks_limit(d[limit], en[limit])
    cache: dict[tuple[int, int, float], float] = {}
    for i in np.flatnonzero(exact):  # small samples, or exact requested explicitly
        key = (int(n[i]), int(m[i]), float(d[i]))
        if key not in cache:
            cache[key] = _ks_exact_one(*key)
        out[i] = cache[key]
    return np.clip(out, 0.0, 1.0)


def variance_inflation(
    n: np.ndarray, m: np.ndarray, n_eff: np.ndarray, m_eff: np.ndarray
) -> np.ndarray:
    """
    ``(1/n_eff + 1/m_eff) / (1/n + 1/m)``: how much dependence inflates a two-sample variance.

    1 for independent readings; NaN where a size is 0.

    Examples
    --------
    >>> from sensorframe.drift.statistics import variance_inflation
    >>> n = np.array([100.0])
    >>> variance_inflation(n, n, np.array([10.0]), n).tolist()
    [5.5]
    """
    nf = np.asarray(n, dtype=np.float64)
    mf = np.asarray(m, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (
            1 / np.asarray(n_eff, dtype=np.float64) + 1 / np.asarray(m_eff, dtype=np.float64)
        ) / (1 / nf + 1 / mf)
    return np.where((nf > 0) & (mf > 0), np.maximum(out, 1.0), np.nan)


def bin_metrics(
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
    *,
    epsilon: float,
    n_eff: np.ndarray | None = None,
    m_eff: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """
    PSI, its p-value, chi-square contingency, and Jensen-Shannon on bin counts.

    Bins empty in both samples are dropped (they carry no information, and
    ``chi2_contingency`` rejects zero expected counts); ``bins`` is what remains.
    With effective sizes ``n_eff, m_eff``, ``chi2_pvalue`` and ``psi_pvalue`` are
    those of the statistics divided by :func:`variance_inflation`; the
    ``*_pvalue_raw`` entries are always the independent-readings ones.
    """
    r = ref_counts.astype(np.float64)
    c = cur_counts.astype(np.float64)
    n = r.sum(axis=1, keepdims=True)
    m = c.sum(axis=1, keepdims=True)
    used = (r + c) > 0
    bins = used.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pr = r / n
        pc = c / m
        cr = np.maximum(pr, epsilon)
        cc = np.maximum(pc, epsilon)
        psi = np.where(used, (cc - cr) * np.log(cc / cr), 0.0).sum(axis=1)
        total = n + m
        exp_r = n * (r + c) / total
        exp_c = m * (r + c) / total
        terms = np.where(used, (r - exp_r) ** 2 / exp_r + (c - exp_c) ** 2 / exp_c, 0.0)
        dof = np.maximum(bins - 1, 0)
        chi2 = np.where(dof > 0, terms.sum(axis=1), 0.0)
        df = np.maximum(dof, 1)
        chi2_p = np.where(dof > 0, stats.chi2.sf(chi2, df), 1.0)
        scale = (1 / n + 1 / m)[:, 0]
        psi_p = np.where(dof > 0, stats.chi2.sf(psi / scale, df), 1.0)
        infl = np.ones(len(r))
        if n_eff is not None and m_eff is not None:
            infl = np.nan_to_num(variance_inflation(n[:, 0], m[:, 0], n_eff, m_eff), nan=1.0)
        chi2_pe = np.where(dof > 0, stats.chi2.sf(chi2 / infl, df), 1.0)
        psi_pe = np.where(dof > 0, stats.chi2.sf(psi / (scale * infl), df), 1.0)
        mid = (pr + pc) / 2
        js = (special.rel_entr(pr, mid).sum(axis=1) + special.rel_entr(pc, mid).sum(axis=1)) / 2
        js = np.maximum(js / np.log(2.0), 0.0)
    return {
        "psi": psi,
        "psi_pvalue": psi_pe,
        "psi_pvalue_raw": psi_p,
        "chi2_statistic": chi2,
        "chi2_pvalue": chi2_pe,
        "chi2_pvalue_raw": chi2_p,
        "chi2_dof": dof,
        "js_divergence": js,
        "js_distance": np.sqrt(js),
        "bins": bins,
    }


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """
    Benjamini-Hochberg adjusted p-values; NaN entries stay NaN and are not counted.

    The library's one implementation, :func:`sensorframe._multiple_testing.adjust_pvalues`.

    Examples
    --------
    >>> from sensorframe.drift.statistics import benjamini_hochberg
    >>> benjamini_hochberg(np.array([0.01, 0.04, np.nan, 0.03])).round(3).tolist()
    [0.03, 0.04, nan, 0.04]
    """
    return adjust_pvalues(pvalues, method="bh")
