"""
Adjusted p-values across many tests: Benjamini-Hochberg and Benjamini-Yekutieli.

One implementation for the whole library (drift's correction across sensors, the
relevance tests of feature exploration across features).
"""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

import numpy as np

from sensorframe.errors import InvalidParameterError

__all__ = ["Adjustment", "adjust_pvalues"]

Adjustment: TypeAlias = Literal["bh", "by"]


def adjust_pvalues(pvalues: np.ndarray, *, method: Adjustment = "bh") -> np.ndarray:
    """
    Return p-values adjusted for the false discovery rate; NaN stays NaN, uncounted.

    With the k non-NaN p-values sorted, ``p_(1) <= ... <= p_(k)``, the adjusted value of
    ``p_(i)`` is ``min(1, min_{j >= i} c * k * p_(j) / j)`` with ``c = 1`` for
    Benjamini-Hochberg (``"bh"``, valid for independent or positively dependent tests)
    and ``c = 1 + 1/2 + ... + 1/k`` for Benjamini-Yekutieli (``"by"``, valid under any
    dependence), as ``scipy.stats.false_discovery_control``. Rejecting the tests whose
    adjusted p-value is below q keeps the expected share of false discoveries <= q.

    Parameters
    ----------
    pvalues
        p-values, any shape; NaN marks a test not made.
    method
        ``"bh"`` or ``"by"``.

    Returns
    -------
    ndarray
        Adjusted p-values, float64, the shape of `pvalues`.

    Raises
    ------
    InvalidParameterError
        If `method` is neither ``"bh"`` nor ``"by"``.

    Examples
    --------
    >>> from sensorframe._multiple_testing import adjust_pvalues
    >>> adjust_pvalues(np.array([0.01, 0.04, np.nan, 0.03])).round(3).tolist()
    [0.03, 0.04, nan, 0.04]
    >>> adjust_pvalues(np.array([0.01, 0.04, np.nan, 0.03]), method="by").round(3).tolist()
    [0.055, 0.073, nan, 0.073]
    """
    if method not in get_args(Adjustment):
        msg = f"`method` must be one of {get_args(Adjustment)}, got {method!r}"
        raise InvalidParameterError(msg)
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    flat = p.ravel()
    ok = np.flatnonzero(~np.isnan(flat))
    k = len(ok)
    if k == 0:
        return out
    ranks = np.arange(1, k + 1)
    c = float(np.sum(1.0 / ranks)) if method == "by" else 1.0
    order = ok[np.argsort(flat[ok], kind="stable")]
    scaled = flat[order] * c * k / ranks
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    result = out.ravel()
    result[order] = adjusted
    return result.reshape(p.shape)
