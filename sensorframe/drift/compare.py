"""The statistics table of one column: every test, effect size and severity level per sensor."""

from __future__ import annotations

import numpy as np

from sensorframe.drift.autocorrelation import effective_size
from sensorframe.drift.bins import bin_counts
from sensorframe.drift.config import DriftConfig
from sensorframe.drift.distances import ad_pvalue, cvm_pvalue, hellinger
from sensorframe.drift.location_scale import (
    brown_forsythe_from_moments,
    welch_from_moments,
)
from sensorframe.drift.profile import Side
from sensorframe.drift.report import QUANTILE_SHIFTS
from sensorframe.drift.statistics import (
    bin_metrics,
    ks_pvalue,
    merge_stats,
    mw_pvalue,
)

__all__ = [
    "ASSESSED",
    "COMPARED",
    "DETECTION_PVALUES",
    "bonferroni_min",
    "compare",
    "level",
    "scaled",
    "status",
]

DETECTION_PVALUES = (
    "ks_pvalue",
    "mw_pvalue",
    "chi2_pvalue",
    "cvm_pvalue",
    "ad_pvalue",
    "welch_pvalue",
    "brown_forsythe_pvalue",
)
"""The tests behind ``drift_pvalue`` (PSI's p-value duplicates chi-square's bins)."""

COMPARED = ("ok", "constant", "sensor_fault")
"""Statuses whose statistics are computed."""
ASSESSED = ("ok", "constant")
"""Statuses that get a severity and a drift verdict (a sensor fault is not a drift)."""


def level(values: np.ndarray, ladder: tuple[float, ...]) -> np.ndarray:
    """Return the rung (0 NONE .. 4 CRITICAL) each value reaches on a ladder; NaN is NONE."""
    x = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=np.inf)
    return np.searchsorted(np.asarray(ladder), x, side="right")


def scaled(diff: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``diff / scale``, where a zero scale gives 0 for no difference, else ±inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = diff / scale
    zero = scale == 0
    return np.where(zero & (diff == 0), 0.0, np.where(zero, np.sign(diff) * np.inf, out))


def status(ref: Side, cur: Side, config: DriftConfig) -> np.ndarray:
    """
    Each sensor's status (see the Drift section of docs/definitions.md).

    ``"sensor_fault"``: the current window is flat while the reference varies, or at
    least ``fault_missing_rate`` of its rows are missing while fewer of the
    reference's are.
    """
    lo, hi = ref.samples.first_last()
    out = np.full(len(ref.n), "ok", dtype=object)
    ref_flat = lo == hi
    out[ref_flat] = "constant"
    if cur.span is not None:
        out[(cur.span == 0) & ~ref_flat] = "sensor_fault"
    low = (ref.n < config.min_readings) | (cur.n < config.min_readings)
    out[low] = "insufficient_data"
    rate = config.fault_missing_rate
    ref_rate = ref.n_missing / np.maximum(ref.n_rows, 1)
    cur_rate = cur.n_missing / np.maximum(cur.n_rows, 1)
    out[(cur_rate >= rate) & (ref_rate < rate)] = "sensor_fault"
    out[(ref.n == 0) | (cur.n == 0)] = "all_missing"
    return out


def compare(ref: Side, cur: Side, rows: np.ndarray, config: DriftConfig) -> dict[str, np.ndarray]:
    """All two-sample statistics and effect sizes of one column; NaN outside ``rows``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _compare(ref, cur, rows, config)


def _compare(ref: Side, cur: Side, rows: np.ndarray, config: DriftConfig) -> dict[str, np.ndarray]:
    assert ref.edges is not None
    assert ref.le_edges is not None
    assert ref.quantiles is not None
    assert ref.deviations is not None
    n, m = ref.n, cur.n
    ms = merge_stats(
        ref.samples, cur.samples, ref.edges, rows, batch_cells=config.batch_cells, distances=True
    )
    n_eff, m_eff = _effective_sizes(ref, cur, config)
    u1, mw_raw = mw_pvalue(ms.rank_sum_ref, ms.tie_term, n, m)
    ks_raw = ks_pvalue(ms.ks_d, n, m, method=config.ks_method)
    ref_counts = bin_counts(ref.le_edges, n)
    cur_counts = bin_counts(ms.cur_le_edges, m)
    bins = bin_metrics(ref_counts, cur_counts, epsilon=config.epsilon, n_eff=n_eff, m_eff=m_eff)
    cvm_t, cvm_raw = cvm_pvalue(ms.cvm_u, n, m)
    ad, ad_raw = ad_pvalue(ms.ad_a2kn, n, m)
    var_r, var_c = ref.std**2, cur.std**2
    welch_t, welch_raw = welch_from_moments(ref.mean, var_r, n, cur.mean, var_c, m)
    zbar_c, ss_c = ms.cur_dev_mean, ms.cur_dev_ss
    zbar_r, ss_r = ref.deviations
    bf_w, bf_raw = brown_forsythe_from_moments(zbar_r, ss_r, n, zbar_c, ss_c, m)
    out: dict[str, np.ndarray] = {
        "ks_statistic": ms.ks_d,
        "ks_pvalue": ks_pvalue(ms.ks_d, n, m, method=config.ks_method, n_eff=n_eff, m_eff=m_eff),
        "ks_pvalue_raw": ks_raw,
        "mw_statistic": u1,
        "mw_pvalue": mw_pvalue(ms.rank_sum_ref, ms.tie_term, n, m, n_eff=n_eff, m_eff=m_eff)[1],
        "mw_pvalue_raw": mw_raw,
        **{k: v for k, v in bins.items() if k not in ("bins", "chi2_dof")},
        "cvm_statistic": cvm_t,
        "cvm_pvalue": cvm_pvalue(ms.cvm_u, n, m, n_eff=n_eff, m_eff=m_eff)[1],
        "cvm_pvalue_raw": cvm_raw,
        "ad_statistic": ad,
        "ad_pvalue": ad_pvalue(ms.ad_a2kn, n, m, n_eff=n_eff, m_eff=m_eff)[1],
        "ad_pvalue_raw": ad_raw,
        "welch_statistic": welch_t,
        "welch_pvalue": welch_raw,
        "welch_pvalue_raw": welch_raw,
        "brown_forsythe_statistic": bf_w,
        "brown_forsythe_pvalue": brown_forsythe_from_moments(
            zbar_r, ss_r, n, zbar_c, ss_c, m, n_eff=n_eff, m_eff=m_eff
        )[1],
        "brown_forsythe_pvalue_raw": bf_raw,
        "hellinger": hellinger(ref_counts, cur_counts),
        "n_eff_reference": n.astype(np.float64) if n_eff is None else n_eff,
        "n_eff_current": m.astype(np.float64) if m_eff is None else m_eff,
    }
    if n_eff is not None and m_eff is not None:
        out["welch_pvalue"] = welch_from_moments(ref.mean, var_r, n_eff, cur.mean, var_c, m_eff)[1]
    std_r = ref.std.copy()
    lo, hi = ref.samples.first_last()
    std_r[lo == hi] = 0.0
    std_c = cur.std.copy()
    std_c[ms.cur_constant] = 0.0
    out["wasserstein"] = ms.wasserstein
    out["wasserstein_std"] = scaled(ms.wasserstein, std_r)
    out["mean_difference"] = scaled(cur.mean - ref.mean, std_r)
    out["mean_shift"] = np.abs(out["mean_difference"])
    out["std_ratio"] = np.where(std_r == 0, np.where(std_c == 0, 1.0, np.inf), std_c / std_r)
    for j, name in enumerate(QUANTILE_SHIFTS.values()):
        out[name] = scaled(ms.cur_quantiles[:, j] - ref.quantiles[:, j], std_r)
    # PSI and JS minus their expectation under no drift, so small windows do not cry wolf
    noise = np.maximum(bins["bins"] - 1, 0) * (1 / np.maximum(n, 1) + 1 / np.maximum(m, 1))
    effects = {
        "psi": (bins["psi"] - noise, config.psi_thresholds),
        "js": (bins["js_divergence"] - noise / (8 * np.log(2)), config.js_thresholds),
        "mean_shift": (out["mean_shift"], config.mean_shift_thresholds),
        "log_std_ratio": (np.abs(np.log(out["std_ratio"])), config.log_std_ratio_thresholds),
    }
    sizes = {
        k: np.nan_to_num(np.maximum(v, 0), nan=0.0, posinf=np.inf) for k, (v, _) in effects.items()
    }
    levels = {k: level(sizes[k], ladder) for k, (_, ladder) in effects.items()}
    # drift_score: the largest effect in units of its HIGH threshold
    score = np.maximum.reduce([sizes[k] / ladder[2] for k, (_, ladder) in effects.items()])
    out["drift_pvalue"] = bonferroni_min(np.column_stack([out[c] for c in DETECTION_PVALUES]))
    mask = np.zeros(len(n), dtype=bool)
    mask[rows] = True
    for key in out:
        out[key] = np.where(mask, out[key], np.nan)
    out["level"] = np.where(mask, np.maximum.reduce(list(levels.values())), 0)
    out["mean_level"] = np.where(mask, levels["mean_shift"], 0)
    out["spread_level"] = np.where(mask, levels["log_std_ratio"], 0)
    out["drift_score"] = np.where(mask, score, np.nan)
    return out


def _effective_sizes(
    ref: Side, cur: Side, config: DriftConfig
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if config.effective_n is None:
        return None, None
    assert ref.rho is not None
    assert cur.rho is not None
    return effective_size(ref.n, ref.rho), effective_size(cur.n, cur.rho)


def bonferroni_min(pvalues: np.ndarray) -> np.ndarray:
    """
    ``min(1, k * min_i p_i)`` over each row's ``k`` defined p-values (NaN if none).

    The smallest Holm-adjusted p-value of the row, so one p-value per sensor, valid
    whatever the dependence between the tests, goes into the correction across
    sensors.

    Examples
    --------
    >>> from sensorframe.drift.compare import bonferroni_min
    >>> bonferroni_min(np.array([[0.01, 0.5, np.nan], [np.nan, np.nan, np.nan]])).tolist()
    [0.02, nan]
    """
    defined = ~np.isnan(pvalues)
    k = defined.sum(axis=1)
    smallest = np.where(defined, pvalues, np.inf).min(axis=1)
    return np.where(k > 0, np.minimum(np.maximum(k, 1) * smallest, 1.0), np.nan)
