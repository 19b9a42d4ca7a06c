"""
A plain NumPy reference of the quality checks, one sensor at a time.

Used by the tests (every count of ``assess_quality`` must match it) and by
``benchmarks/bench_quality.py`` (the per-sensor loop baseline). Written from
docs/definitions.md without looking at the Polars code paths.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from sensorframe.quality import QualityConfig


def reference_sensor(t: np.ndarray, x: np.ndarray, cfg: QualityConfig) -> dict[str, Any]:
    """Checks of one sensor; `t` int64 microseconds and `x` float (NaN = missing), input order."""
    n = len(t)
    out_of_order = int(np.sum(t[1:] < t[:-1]))
    order = np.argsort(t, kind="stable")
    t, x = t[order], x[order]
    miss = ~np.isfinite(x)
    fin = x[~miss]

    outlier = np.zeros(n, dtype=bool)
    if fin.size:
        if cfg.outlier_method == "zscore":
            sd = fin.std()
            if sd > 0:
                outlier[~miss] = np.abs(fin - fin.mean()) / sd > cfg.outlier_z
        else:
            dev = np.abs(fin - np.median(fin))
            mad = np.median(dev)
            if mad > 0:
                outlier[~miss] = 0.6745 * dev / mad > cfg.mad_threshold

    ok = ~miss
    for v in cfg.flatline_ignore:
        ok &= ~(np.abs(np.where(miss, np.inf, x) - v) < cfg.flatline_tolerance)
    linked = np.zeros(n, dtype=bool)
    if n > 1:
        with np.errstate(invalid="ignore"):
            close = np.abs(np.diff(x)) < cfg.flatline_tolerance
        linked[1:] = ok[1:] & ok[:-1] & close
    starts = np.flatnonzero(~linked)
    lengths = np.diff(np.append(starts, n))
    run_len = np.repeat(lengths, lengths)
    flat = ok & (run_len >= cfg.flatline_min_length)
    flat_starts = starts[(lengths >= cfg.flatline_min_length) & ok[starts]]

    step = np.diff(t)
    gaps = np.zeros(n, dtype=bool)
    positive = step[step > 0]
    if cfg.expected_interval is not None:
        usual = cfg.expected_interval.total_seconds() * 1e6
    else:
        usual = float(np.median(positive)) if positive.size else math.nan
    if n > 1 and not math.isnan(usual):
        gaps[1:] = step > cfg.gap_factor * usual
    dup = np.zeros(n, dtype=bool)
    dup[1:] = step == 0

    d = np.diff(fin)
    noise = float(np.median(np.abs(d - np.median(d))) / (0.6745 * math.sqrt(2))) if d.size else None
    half = fin.size // 2
    drift: float | None = None
    if half >= 2:
        first, second = fin[:half], fin[half:]
        sd, delta = first.std(), abs(second.mean() - first.mean())
        drift = delta / sd if sd > 0 else (math.inf if delta > 0 else 0.0)

    flags = miss | outlier | flat | gaps | dup
    return {
        "rows": n,
        "missing_count": int(miss.sum()),
        "outlier_count": int(outlier.sum()),
        "flat_points": int(flat.sum()),
        "flat_runs": len(flat_starts),
        "longest_flat_run": int(run_len[flat].max()) if flat.any() else 0,
        "gap_count": int(gaps.sum()),
        "largest_gap_us": int(step[gaps[1:]].max()) if gaps.any() else None,
        "duplicate_timestamps": int(dup.sum()),
        "out_of_order": out_of_order,
        "noise_std": noise,
        "drift_ratio": drift,
        "pass_rate": 1.0 - float(flags.mean()),
        "flags": {
            "missing": miss,
            "outlier": outlier,
            "flatline": flat,
            "gap": gaps,
            "duplicate": dup,
        },
        "order": order,
    }


def reference_frame(frame: pl.DataFrame, cfg: QualityConfig) -> dict[str, dict[str, Any]]:
    """Run :func:`reference_sensor` for each sensor of a canonical frame (input order kept)."""
    parts = frame.partition_by("sensor_id", maintain_order=True, as_dict=True)
    result = {}
    for (sid,), part in sorted(parts.items()):  # the per-sensor loop this reference stands for
        t = part["timestamp"].dt.epoch("us").to_numpy()
        x = part["value"].fill_null(np.nan).to_numpy()
        result[str(sid)] = reference_sensor(t, x, cfg)
    return result
