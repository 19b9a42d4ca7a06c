"""
A plain NumPy reference of the quality checks, one sensor at a time.

Used by the tests (every count of ``assess_quality`` must match it) and by
``benchmarks/bench_quality.py`` (the per-sensor loop baseline). Written from
docs/definitions.md without looking at the Polars code paths.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl

from sensorframe.quality import QualityConfig

PER_SENSOR = (
    "valid_min",
    "valid_max",
    "suspect_min",
    "suspect_max",
    "outlier_z",
    "mad_threshold",
    "expected_interval",
    "max_stuck",
    "flatline_ignore",
)


def settings_of(cfg: QualityConfig, sensor: str) -> dict[str, Any]:
    """The config's per-sensor fields for `sensor`: its `per_sensor` row where not null."""
    out = {name: getattr(cfg, name) for name in PER_SENSOR}
    if cfg.per_sensor is not None:
        for row in cfg.per_sensor.filter(pl.col("sensor_id") == sensor).iter_rows(named=True):
            out.update({k: v for k, v in row.items() if k != "sensor_id" and v is not None})
    return out


def reference_sensor(
    t: np.ndarray, x: np.ndarray, cfg: QualityConfig, own: dict[str, Any] | None = None
) -> dict[str, Any]:
    """
    Checks of one sensor; `t` int64 microseconds and `x` float (NaN = missing), input order.

    `own` holds the sensor's per-sensor fields (:func:`settings_of`); the config's
    values if omitted.
    """
    s = own if own is not None else settings_of(cfg, "")
    n = len(t)
    back = np.zeros(n, dtype=bool)
    back[1:] = t[1:] < t[:-1]
    out_of_order = int(back.sum())
    order = np.argsort(t, kind="stable")
    t, x, back = t[order], x[order], back[order]
    miss = ~np.isfinite(x)
    fin = x[~miss]

    outlier = np.zeros(n, dtype=bool)
    if fin.size:
        if cfg.outlier_method == "zscore":
            sd = fin.std()
            if sd > 0:
                outlier[~miss] = np.abs(fin - fin.mean()) / sd > s["outlier_z"]
        else:
            dev = np.abs(fin - np.median(fin))
            mad = np.median(dev)
            if mad > 0:
                outlier[~miss] = 0.6745 * dev / mad > s["mad_threshold"]

    ok = ~miss
    for v in s["flatline_ignore"]:
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
    flat_ends = flat_starts + lengths[(lengths >= cfg.flatline_min_length) & ok[starts]] - 1
    run_us = t[flat_ends] - t[flat_starts]
    max_stuck_us = s["max_stuck"] // timedelta(microseconds=1)
    stuck_rows = np.zeros(n, dtype=bool)
    for a, b, us in zip(flat_starts, flat_ends, run_us, strict=True):
        stuck_rows[a : b + 1] = us > max_stuck_us
    longest = int(np.argmax(run_us)) if run_us.size else None

    step = np.diff(t)
    gaps = np.zeros(n, dtype=bool)
    positive = step[step > 0]
    median_step = float(np.median(positive)) if positive.size else math.nan
    if s["expected_interval"] is not None:
        usual = s["expected_interval"] / timedelta(microseconds=1)
    else:
        usual = median_step
    if n > 1 and not math.isnan(usual):
        gaps[1:] = step > cfg.gap_factor * usual
    dup = np.zeros(n, dtype=bool)
    dup[1:] = step == 0
    lost = float(np.sum(step[gaps[1:]] - usual)) if gaps.any() else 0.0
    time_span = float(t[-1] - t[0]) if n else 0.0

    # QARTOD gross range: 9 missing, 4 outside the valid range, 3 outside the suspect one
    code = np.full(n, 2 if all(s[b] is None for b in _BOUNDS) else 1, dtype=np.int8)
    xs = np.where(miss, 0.0, x)
    for lo, hi, value in (("suspect_min", "suspect_max", 3), ("valid_min", "valid_max", 4)):
        outside = np.zeros(n, dtype=bool)
        if s[lo] is not None:
            outside |= xs < s[lo]
        if s[hi] is not None:
            outside |= xs > s[hi]
        code[outside] = value
    code[miss] = 9
    in_range = (code == 3) | (code == 4)

    d = np.diff(fin)
    noise = float(np.median(np.abs(d - np.median(d))) / (0.6745 * math.sqrt(2))) if d.size else None
    half = fin.size // 2
    drift: float | None = None
    if half >= 2:
        first, second = fin[:half], fin[half:]
        sd, delta = first.std(), abs(second.mean() - first.mean())
        drift = delta / sd if sd > 0 else (math.inf if delta > 0 else 0.0)

    flags = miss | outlier | flat | gaps | dup | back | in_range
    suspect = outlier | flat | gaps | dup | back | (code == 3)
    qartod = np.where(
        (code == 4) | stuck_rows, 4, np.where(suspect, 3, np.where(miss, 9, 1))
    ).astype(np.int8)
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
        "range_failures": int((code == 4).sum()),
        "range_suspects": int((code == 3).sum()),
        "gap_time_pct": 100.0 * lost / time_span if time_span > 0 else 0.0,
        "longest_flat_us": None if longest is None else int(run_us[longest]),
        "longest_flat_value": None if longest is None else float(x[flat_starts[longest]]),
        "longest_flat_start_us": None if longest is None else int(t[flat_starts[longest]]),
        "stuck": bool(stuck_rows.any()),
        "expected_interval_us": None if math.isnan(usual) else int(usual),
        "flags": {
            "missing": miss,
            "outlier": outlier,
            "flatline": flat,
            "gap": gaps,
            "duplicate": dup,
            "out_of_order": back,
            "range": in_range,
        },
        "qartod": qartod,
        "order": order,
    }


_BOUNDS = ("valid_min", "valid_max", "suspect_min", "suspect_max")


def reference_frame(frame: pl.DataFrame, cfg: QualityConfig) -> dict[str, dict[str, Any]]:
    """Run :func:`reference_sensor` for each sensor of a canonical frame (input order kept)."""
    parts = frame.partition_by("sensor_id", maintain_order=True, as_dict=True)
    result = {}
    for (sid,), part in sorted(parts.items()):  # the per-sensor loop this reference stands for
        t = part["timestamp"].dt.epoch("us").to_numpy()
        x = part["value"].fill_null(np.nan).to_numpy()
        result[str(sid)] = reference_sensor(t, x, cfg, settings_of(cfg, str(sid)))
    return result
