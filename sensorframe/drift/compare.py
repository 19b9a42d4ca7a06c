"""The statistics table of one column: every test, effect size and severity level per sensor."""

from __future__ import annotations

import numpy as np

from sensorframe.drift.config import DriftConfig
from sensorframe.drift.profile import Side
from sensorframe.drift.report import QUANTILE_SHIFTS
from sensorframe.drift.statistics import bin_metrics, ks_pvalue, merge_stats, mw_pvalue

__all__ = ["ASSESSED", "COMPARED", "compare", "level", "scaled", "status"]

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
    n, m = ref.n, cur.n
    ms = merge_stats(ref.samples, cur.samples, ref.edges, rows, batch_cells=config.batch_cells)
    u1, mw_p = mw_pvalue(ms.rank_sum_ref, ms.tie_term, n, m)
    ks_p = ks_pvalue(ms.ks_d, n, m, method=config.ks_method)
    ref_counts = np.diff(np.column_stack([np.zeros_like(n), ref.le_edges, n]), axis=1)
    cur_counts = np.diff(np.column_stack([np.zeros_like(m), ms.cur_le_edges, m]), axis=1)
    bins = bin_metrics(ref_counts, cur_counts, epsilon=config.epsilon)
    out: dict[str, np.ndarray] = {
        "ks_statistic": ms.ks_d,
        "ks_pvalue": ks_p,
        "mw_statistic": u1,
        "mw_pvalue": mw_p,
        **{k: v for k, v in bins.items() if k not in ("bins", "chi2_dof")},
    }
    std_r = ref.std.copy()
    lo, hi = ref.samples.first_last()
    std_r[lo == hi] = 0.0
    std_c = cur.std.copy()
    std_c[ms.cur_constant] = 0.0
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
    pvals = np.column_stack([ks_p, mw_p, bins["chi2_pvalue"]])
    p_any = np.where(np.isnan(pvals), np.inf, pvals).min(axis=1)
    out["drift_pvalue"] = np.where(np.isinf(p_any), np.nan, np.minimum(3 * p_any, 1.0))
    mask = np.zeros(len(n), dtype=bool)
    mask[rows] = True
    for key in out:
        out[key] = np.where(mask, out[key], np.nan)
    out["level"] = np.where(mask, np.maximum.reduce(list(levels.values())), 0)
    out["mean_level"] = np.where(mask, levels["mean_shift"], 0)
    out["spread_level"] = np.where(mask, levels["log_std_ratio"], 0)
    out["drift_score"] = np.where(mask, score, np.nan)
    return out
