"""Plain NumPy / pandas reference implementations of every feature, one sensor at a time."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl

from sensorframe.features import FeatureConfig, feature_names
from sensorframe.features.config import parse_duration_us


def _window_stat(vals: list[float], stat: str, need: int) -> float | None:
    present = [v for v in vals if not math.isnan(v)]
    if len(present) < need:
        return None
    arr = np.array(present)
    if stat == "std":
        return float(np.std(arr, ddof=1)) if arr.size >= 2 else None
    if stat == "mean":
        return float(np.mean(arr))
    if stat == "min":
        return float(arr.min())
    if stat == "max":
        return float(arr.max())
    if stat == "median":
        return float(np.median(arr))
    return float(arr.max() - arr.min())


def rolling_count(x: np.ndarray, w: int, stat: str, min_periods: int | None) -> list[float | None]:
    out: list[float | None] = []
    for i in range(len(x)):
        if min_periods is None:
            out.append(None if i < w - 1 else _window_stat(list(x[i - w + 1 : i + 1]), stat, w))
        else:
            vals = list(x[max(0, i - w + 1) : i + 1])
            out.append(_window_stat(vals, stat, min(min_periods, w)))
    return out


def rolling_duration(
    x: np.ndarray, t_us: np.ndarray, window: str, stat: str, min_periods: int | None
) -> list[float | None]:
    d = parse_duration_us(window)
    out: list[float | None] = []
    for i in range(len(x)):
        if min_periods is None and t_us[i] - t_us[0] < d:
            out.append(None)
            continue
        inside = [x[j] for j in range(len(x)) if t_us[i] - d < t_us[j] <= t_us[i]]
        out.append(_window_stat(inside, stat, min_periods or 1))
    return out


def _nan(v: float | None) -> float:
    return math.nan if v is None else v


def lag(x: np.ndarray, k: int) -> list[float | None]:
    return [None if i < k or math.isnan(x[i - k]) else float(x[i - k]) for i in range(len(x))]


def diff(x: np.ndarray, k: int) -> list[float | None]:
    out: list[float | None] = []
    for i in range(len(x)):
        v = math.nan if i < k else x[i] - x[i - k]
        out.append(None if math.isnan(v) else float(v))
    return out


def pct_change(x: np.ndarray) -> list[float | None]:
    out: list[float | None] = []
    for i in range(len(x)):
        if i == 0 or math.isnan(x[i]) or math.isnan(x[i - 1]) or abs(x[i - 1]) < 1e-10:
            out.append(None)
        else:
            out.append(float((x[i] - x[i - 1]) / abs(x[i - 1])))
    return out


def _per_second(v: np.ndarray, t_s: np.ndarray) -> list[float | None]:
    """Change of `v` since the previous row divided by the seconds between them."""
    out: list[float | None] = []
    for i in range(len(v)):
        dt = t_s[i] - t_s[i - 1] if i else 0.0
        d = (v[i] - v[i - 1]) / dt if i and dt != 0 else math.nan
        out.append(None if math.isnan(d) else float(d))
    return out


def rate(x: np.ndarray, t_s: np.ndarray) -> list[float | None]:
    return _per_second(x, t_s)


def accel(x: np.ndarray, t_s: np.ndarray) -> list[float | None]:
    return _per_second(np.array([_nan(v) for v in rate(x, t_s)]), t_s)


def expanding(x: np.ndarray, stat: str) -> list[float | None]:
    out: list[float | None] = []
    for i in range(len(x)):
        seen = x[: i + 1][~np.isnan(x[: i + 1])]
        if stat == "mean":
            out.append(float(seen.mean()) if seen.size else None)
        else:
            out.append(float(seen.std(ddof=1)) if seen.size >= 2 else None)
    return out


def ewm(x: np.ndarray, span: float, stat: str) -> list[float | None]:
    e = pd.Series(x).ewm(span=span, adjust=False, ignore_na=True)
    res = (e.mean() if stat == "mean" else e.std()).to_numpy()
    return [None if math.isnan(v) else float(v) for v in res]


def spectral_rows(x: np.ndarray, w: int, top_k: int, step: int) -> dict[str, list[float | None]]:
    """Per row, spectra from ``np.fft.fft`` (full, not rfft) of the trailing window."""
    names = [n for i in range(1, top_k + 1) for n in (f"fft_freq_{i}", f"fft_amp_{i}")]
    names += ["spectral_energy", "spectral_entropy"]
    out: dict[str, list[float | None]] = {n: [] for n in names}
    bins = w // 2
    for i in range(len(x)):
        src = i - (i - (w - 1)) % step if i >= w - 1 else i
        win = x[src - w + 1 : src + 1] if i >= w - 1 else np.array([math.nan])
        if np.isnan(win).any():
            for n in names:
                out[n].append(None)
            continue
        centred = win - win.mean()
        spec = np.fft.fft(centred)[1 : bins + 1]
        p = np.abs(spec) ** 2
        flat = win.max() == win.min()
        key = np.round(p / (p.max() if p.max() > 0 else 1.0) * 1e9)
        order = sorted(range(bins), key=lambda k: (-key[k], k))
        for r in range(top_k):
            k = order[r]
            scale = 1.0 / w if (w % 2 == 0 and k == bins - 1) else 2.0 / w
            out[f"fft_freq_{r + 1}"].append(None if flat else (k + 1) / w)
            out[f"fft_amp_{r + 1}"].append(0.0 if flat else float(np.abs(spec[k]) * scale))
        out["spectral_energy"].append(0.0 if flat else float(p.sum() / w))
        if flat or bins == 1:
            out["spectral_entropy"].append(0.0)
        else:
            q = p / p.sum()
            q = q[q > 0]
            out["spectral_entropy"].append(float(-(q * np.log(q)).sum() / np.log(bins)))
    return out


def calendar_rows(times: list[datetime], tz: str) -> dict[str, list[float]]:
    local = [t.astimezone(ZoneInfo(tz)) for t in times]
    hour = [t.hour for t in local]
    dow = [t.weekday() for t in local]
    month = [t.month for t in local]
    two_pi = 2 * math.pi
    return {
        "hour": hour,
        "day_of_week": dow,
        "day_of_month": [t.day for t in local],
        "month": month,
        "is_weekend": [d >= 5 for d in dow],
        "hour_sin": [math.sin(two_pi * h / 24) for h in hour],
        "hour_cos": [math.cos(two_pi * h / 24) for h in hour],
        "day_of_week_sin": [math.sin(two_pi * d / 7) for d in dow],
        "day_of_week_cos": [math.cos(two_pi * d / 7) for d in dow],
        "month_sin": [math.sin(two_pi * (m - 1) / 12) for m in month],
        "month_cos": [math.cos(two_pi * (m - 1) / 12) for m in month],
    }


def reference_features(frame: pl.DataFrame, cfg: FeatureConfig) -> pl.DataFrame:
    """All features of `cfg`, sensor by sensor, as a frame in (sensor, time) order."""
    data = frame.sort("sensor_id", "timestamp", maintain_order=True)
    columns: dict[str, list[object]] = {n: [] for n in feature_names(cfg)}
    for (_sid,), part in data.group_by("sensor_id", maintain_order=True):
        x = part["value"].to_numpy(allow_copy=True).astype(float)
        t_us = part["timestamp"].dt.epoch("us").to_numpy()
        t_s = t_us / 1e6
        feats: dict[str, list[object]] = {}
        for w in cfg.rolling_windows:
            for s in cfg.rolling_stats:
                if isinstance(w, str):
                    vals = rolling_duration(x, t_us, w, s, cfg.min_samples)
                else:
                    vals = rolling_count(x, w, s, cfg.min_samples)
                feats[f"rolling_{w}_{s}"] = list(vals)
        for k in cfg.lags:
            feats[f"lag_{k}"] = list(lag(x, k))
        for k in cfg.diffs:
            feats[f"diff_{k}"] = list(diff(x, k))
        pct = pct_change(x)
        feats["pct_change"] = list(pct)
        feats["rate_of_change"] = list(rate(x, t_s))
        feats["acceleration"] = list(accel(x, t_s))
        if cfg.ewm_span is not None:
            feats["ewm_mean"] = list(ewm(x, cfg.ewm_span, "mean"))
            feats["ewm_std"] = list(ewm(x, cfg.ewm_span, "std"))
        feats["expanding_mean"] = list(expanding(x, "mean"))
        feats["expanding_std"] = list(expanding(x, "std"))
        pct_arr = np.array([_nan(v) for v in pct])
        for w in cfg.volatility_windows:
            feats[f"volatility_{w}"] = list(rolling_count(pct_arr, w, "std", cfg.min_samples))
        if cfg.spectral:
            spec = spectral_rows(x, cfg.spectral_window, cfg.spectral_top_k, cfg.spectral_step)
            feats.update({k: list(v) for k, v in spec.items()})
        cal = calendar_rows(part["timestamp"].to_list(), cfg.timezone)
        feats.update({k: list(v) for k, v in cal.items()})
        for name in columns:
            columns[name].extend(feats[name])
    out = data.select("sensor_id", "timestamp", "value")
    return out.with_columns(
        pl.Series(
            name, vals, dtype=pl.Boolean if name == "is_weekend" else pl.Float64, strict=False
        )
        for name, vals in columns.items()
    )


def assert_features_close(
    got: pl.DataFrame, want: pl.DataFrame, names: list[str], *, rtol: float = 1e-7
) -> None:
    """Same null pattern, values within `rtol` (absolute floor scaled to the readings)."""
    assert got.select("sensor_id", "timestamp").equals(want.select("sensor_id", "timestamp"))
    scale = float(want["value"].abs().max() or 1.0) + 1.0
    for name in names:
        g = got[name].cast(pl.Float64)
        w = want[name].cast(pl.Float64)
        mismatch = (g.is_null() != w.is_null()).arg_true().to_list()
        assert not mismatch, f"{name}: null pattern differs at rows {mismatch[:5]}"
        gv = g.to_numpy()
        wv = w.to_numpy()
        atol = rtol * scale * (scale if name.endswith(("std", "energy")) else 1.0)
        if name.startswith("volatility") or name in (
            "pct_change",
            "acceleration",
            "rate_of_change",
        ):
            atol = rtol * float(np.nanmax(np.abs(wv), initial=1.0))
        np.testing.assert_allclose(gv, wv, rtol=rtol, atol=atol, equal_nan=True, err_msg=name)
