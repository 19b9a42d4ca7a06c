"""
Row kernels of ``merge_stats``: distances and Brown-Forsythe's deviation moments.

Distances come from the tie groups of merged sorted samples (formulas in
:mod:`sensorframe.drift.distances`); the deviation moments are those of
:mod:`sensorframe.drift.location_scale`.
"""

from __future__ import annotations

import numpy as np

from sensorframe._exact import segment_sums

__all__ = ["deviation_rows", "distance_sums"]

_CHUNK_GROUPS = 1 << 16


def distance_sums(
    row: np.ndarray,
    starts: np.ndarray,
    value: np.ndarray,
    t: np.ndarray,
    cr: np.ndarray,
    cc: np.ndarray,
    prev_cc: np.ndarray,
    midrank: np.ndarray,
    nf: np.ndarray,
    mf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    W1, CvM U and AD A2akN of a batch of rows from their pooled tie groups.

    One entry per tie group g (a distinct pooled value, row by row): ``row``,
    ``value`` z_g, size ``t``, cumulative reference ``cr`` and current ``cc``
    counts through the group, ``prev_cc`` before it, ``midrank`` (1-based average
    pooled rank); ``starts`` is each row's first group, ``nf, mf`` the row sizes.
    The rows are taken in chunks of about ``_CHUNK_GROUPS`` groups, whose dozens of
    temporaries then stay in cache (three times faster than one pass over a batch).
    """
    out = np.empty((3, len(starts)))
    ends = np.append(starts[1:], len(value))
    first = 0
    while first < len(starts):
        last = int(np.searchsorted(ends, starts[first] + _CHUNK_GROUPS, side="right"))
        last = max(last, first + 1)
        lo, hi = int(starts[first]), int(ends[last - 1])
        out[:, first:last] = _chunk_sums(
            starts[first:last] - lo,
            value[lo:hi],
            t[lo:hi],
            cr[lo:hi],
            cc[lo:hi],
            prev_cc[lo:hi],
            midrank[lo:hi],
            nf[first:last],
            mf[first:last],
            row[lo:hi] - first,
        )
        first = last
    return out[0], out[1], out[2]


def _chunk_sums(
    starts: np.ndarray,
    value: np.ndarray,
    t: np.ndarray,
    cr: np.ndarray,
    cc: np.ndarray,
    prev_cc: np.ndarray,
    midrank: np.ndarray,
    nf: np.ndarray,
    mf: np.ndarray,
    row: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if np.all(nf == nf[0]) and np.all(mf == mf[0]):  # the usual batch: one size pair
        n_g: np.ndarray | float = float(nf[0])
        m_g: np.ndarray | float = float(mf[0])
    else:
        n_g, m_g = nf[row], mf[row]
    big_n = n_g + m_g
    b_cur = cc.astype(np.float64)
    cr_f = cr.astype(np.float64)
    # W1: |F_R - F_C| on [z_g, z_g+1); the last group of a row has nothing after it
    gap = np.empty(len(value))
    np.subtract(value[1:], value[:-1], out=gap[:-1])
    gap[starts[1:] - 1] = 0.0
    gap[-1] = 0.0
    diff = cr_f / n_g
    diff -= b_cur / m_g
    np.abs(diff, out=diff)
    diff *= gap
    w1 = np.add.reduceat(diff, starts)
    # CvM: the a_g reference readings of group g have indices cr_prev + 1 .. cr_prev + a_g
    # and the midrank; sum_{k=1..a} (c - k)^2 = a (c - (a + 1)/2)^2 + a (a^2 - 1)/12
    cc_prev = prev_cc.astype(np.float64)
    b_g = b_cur - cc_prev
    a_g = t - b_g
    cr_prev = cr_f - a_g
    u_terms = _squares(midrank - cr_prev, a_g) * n_g
    u_terms += _squares(midrank - cc_prev, b_g) * m_g
    u = np.add.reduceat(u_terms, starts)
    # AD midrank: B_j = readings below z_j + l_j/2, M_1j = reference readings below + a_j/2
    bj = midrank - 0.5
    num = cr_prev + a_g / 2
    num *= big_n
    num -= bj * n_g
    num *= num
    num *= t
    den = big_n - bj
    den *= bj
    den -= (big_n / 4) * t
    den *= big_n
    with np.errstate(divide="ignore", invalid="ignore"):
        num /= den
    total = nf + mf
    a2 = np.add.reduceat(num, starts) * (1 / nf + 1 / mf) * (total - 1) / total
    return w1, u, a2


def _squares(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``sum_{k=1..a} (c - k)^2 = a (c - (a + 1)/2)^2 + a (a^2 - 1)/12``, in place on c."""
    c -= (a + 1) / 2
    c *= c
    c += (a * a - 1) / 12
    c *= a
    return c


def deviation_rows(
    rows: np.ndarray, lengths: np.ndarray, center: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """
    Mean of ``z = |x - center|`` per padded row and the sum of squares of ``z`` about it.

    Two passes, as ``scipy.stats.levene``; entries past a row's length are ignored.
    NaN for an empty row. The sums run over each row's own readings
    (:func:`sensorframe._exact.segment_sums`), not over the padded width, which
    depends on the other sensors in the batch.
    """
    inside = np.arange(rows.shape[1])[None, :] < lengths[:, None]
    z = np.abs(rows[inside] - np.repeat(center, lengths))  # row after row
    with np.errstate(divide="ignore", invalid="ignore"):
        zbar = segment_sums(z, lengths) / lengths
    z -= np.repeat(zbar, lengths)
    return zbar, segment_sums(z * z, lengths)
