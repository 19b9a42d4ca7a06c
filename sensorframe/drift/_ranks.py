"""
Distances from the tie groups of merged sorted samples (used by ``merge_stats``).

The formulas are in :mod:`sensorframe.drift.distances`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["distance_sums"]


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
    """
    n_g, m_g = nf[row], mf[row]
    big_n = n_g + m_g
    b_cur = cc.astype(np.float64)
    cr_f = cr.astype(np.float64)
    # W1: |F_R - F_C| on [z_g, z_g+1); the last group of a row has nothing after it
    gap = np.zeros(len(value))
    gap[:-1] = value[1:] - value[:-1]
    last = np.append(starts[1:] - 1, len(value) - 1)
    gap[last] = 0.0
    w1 = np.add.reduceat(np.abs(cr_f / n_g - b_cur / m_g) * gap, starts)
    # CvM: the a_g reference readings of group g have indices cr_prev + 1 .. cr_prev + a_g
    # and the midrank; sum_{k=1..a} (c - k)^2 = a (c - (a + 1)/2)^2 + a (a^2 - 1)/12
    cc_prev = prev_cc.astype(np.float64)
    b_g = b_cur - cc_prev
    a_g = t - b_g
    cr_prev = cr_f - a_g
    dev_r = midrank - cr_prev - (a_g + 1) / 2
    dev_c = midrank - cc_prev - (b_g + 1) / 2
    sq_r = a_g * dev_r * dev_r + a_g * (a_g * a_g - 1) / 12
    sq_c = b_g * dev_c * dev_c + b_g * (b_g * b_g - 1) / 12
    u = nf * np.add.reduceat(sq_r, starts) + mf * np.add.reduceat(sq_c, starts)
    # AD midrank: B_j = readings below z_j + l_j/2, M_1j = reference readings below + a_j/2
    bj = midrank - 0.5
    m1 = cr_prev + a_g / 2
    num = big_n * m1 - bj * n_g
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = t / big_n * num * num / (bj * (big_n - bj) - big_n * t / 4)
    total = nf + mf
    a2 = np.add.reduceat(inner, starts) * (1 / nf + 1 / mf) * (total - 1) / total
    return w1, u, a2
