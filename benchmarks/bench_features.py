"""
Benchmark feature engineering against pandas groupby().rolling/shift/ewm.

Every case runs in a fresh subprocess (best of N after one warm-up) that reports its
wall time and its peak resident memory (``ru_maxrss``, which sees Polars' and NumPy's
native allocations, unlike tracemalloc), plus the resident memory right after loading
the data, so both engines are charged for their own working memory only.

Cases:

* ``16 columns``: rolling mean/std/min/max over 6, 12, 24 rows, lags 1-3, diff 1, on
  shuffled input (both engines sort) and on input already sorted by (sensor, time)
  (both engines check the order in one pass and skip the sort);
* ``default``: ``FeatureConfig.default()`` (60 features). pandas has no batched trailing-window
  FFT, so its baseline computes the 52 non-spectral features, compared with ours both
  with and without the 8 spectral ones.

Usage: ``python benchmarks/bench_features.py [--sensors 1000 --points 10000] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

WINDOWS16 = (6, 12, 24)


def make_data(folder: Path, sensors: int, points: int, seed: int = 0) -> None:
    """Write ``shuffled.parquet`` (rows in random order) and ``sorted.parquet``."""
    import polars as pl

    rng = np.random.default_rng(seed)
    n = sensors * points
    t = np.arange(points)
    level = rng.normal(50, 20, size=(sensors, 1))
    scale = rng.uniform(0.5, 5, size=(sensors, 1))
    walk = np.cumsum(rng.normal(0, 0.05, size=(sensors, points)), axis=1)
    daily = np.sin(2 * np.pi * t / 1440)[None, :]
    values = (level + scale * (daily + walk + rng.normal(0, 0.3, size=(sensors, points)))).ravel()
    values[rng.random(n) < 0.01] = np.nan
    start = np.datetime64("2026-01-01T00:00:00", "us")
    times = start + (np.tile(t, sensors) * 60_000_000).astype("timedelta64[us]")
    frame = pl.DataFrame(
        {
            "sensor_id": np.repeat([f"S{i:04d}" for i in range(sensors)], points),
            "timestamp": times,
            "value": values,
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"), pl.col("value").fill_nan(None))
    # shuffled rows (as ingested data may be) make both engines sort; rows already in
    # (sensor, time) order (as read back from our own output) let both skip the sort
    frame.sample(fraction=1.0, shuffle=True, seed=seed).write_parquet(folder / "shuffled.parquet")
    frame.write_parquet(folder / "sorted.parquet")


# --------------------------------------------------------------------------- ours
def ours(path: str, case: str) -> Callable[[], object]:
    import polars as pl

    import sensorframe.features as sff

    data = pl.read_parquet(path)
    if case == "16":
        cfg = sff.FeatureConfig(
            rolling_windows=list(WINDOWS16),
            rolling_stats=["mean", "std", "min", "max"],
            lags=[1, 2, 3],
            diffs=[1],
        )
    elif case == "default":
        cfg = sff.FeatureConfig.default()
    else:
        cfg = sff.FeatureConfig.default(spectral=False)

    def run() -> object:
        out = sff.engineer_features(data, cfg).collect()
        assert out.height == data.height
        return out

    return run


# ------------------------------------------------------------------------- pandas
def pandas_case(path: str, case: str) -> Callable[[], object]:
    import pandas as pd

    data = pd.read_parquet(path)

    def sort(df: pd.DataFrame) -> pd.DataFrame:
        """Sort by (sensor, time) unless already in order (checked as ours does)."""
        sensor, ts = df["sensor_id"], df["timestamp"]
        prev_sensor, prev_ts = sensor.shift(1), ts.shift(1)
        ok = (sensor > prev_sensor) | ((sensor == prev_sensor) & (ts >= prev_ts))
        if bool(ok.iloc[1:].all()):
            return df
        return df.sort_values(["sensor_id", "timestamp"], kind="stable", ignore_index=True)

    def sixteen() -> object:
        df = sort(data)
        g = df.groupby("sensor_id", sort=False)["value"]
        out = {}
        for w in WINDOWS16:
            r = g.rolling(w)
            for stat in ("mean", "std", "min", "max"):
                out[f"rolling_{w}_{stat}"] = getattr(r, stat)().reset_index(level=0, drop=True)
        for k in (1, 2, 3):
            out[f"lag_{k}"] = g.shift(k)
        out["diff_1"] = g.diff(1)
        return pd.concat([df, pd.DataFrame(out)], axis=1)

    def default() -> object:
        df = sort(data)
        g = df.groupby("sensor_id", sort=False)["value"]
        x = df["value"]
        out: dict[str, Any] = {}
        for w in (3, 6, 12, 24):
            r = g.rolling(w)
            for stat in ("mean", "std", "min", "max", "median"):
                out[f"rolling_{w}_{stat}"] = getattr(r, stat)().reset_index(level=0, drop=True)
            out[f"rolling_{w}_range"] = out[f"rolling_{w}_max"] - out[f"rolling_{w}_min"]
        for k in (1, 2, 3, 6, 12):
            out[f"lag_{k}"] = g.shift(k)
        for k in (1, 2):
            out[f"diff_{k}"] = g.diff(k)
        prev = out["lag_1"]
        out["pct_change"] = ((x - prev) / prev.abs()).where(prev.abs() >= 1e-10)
        dt = df.groupby("sensor_id", sort=False)["timestamp"].diff().dt.total_seconds()
        dt = dt.where(dt != 0)
        out["rate_of_change"] = out["diff_1"] / dt
        out["acceleration"] = (
            out["rate_of_change"] - out["rate_of_change"].groupby(df["sensor_id"]).shift(1)
        ) / dt
        e = g.ewm(span=12, adjust=False, ignore_na=True)
        out["ewm_mean"] = e.mean().reset_index(level=0, drop=True)
        out["ewm_std"] = e.std().reset_index(level=0, drop=True)
        ex = g.expanding()
        out["expanding_mean"] = ex.mean().reset_index(level=0, drop=True)
        out["expanding_std"] = ex.std().reset_index(level=0, drop=True)
        pg = out["pct_change"].groupby(df["sensor_id"], sort=False)
        for w in (6, 12, 24):
            out[f"volatility_{w}"] = pg.rolling(w).std().reset_index(level=0, drop=True)
        ts = df["timestamp"].dt.tz_convert("UTC")
        hour, dow, month = ts.dt.hour, ts.dt.dayofweek, ts.dt.month
        out |= {
            "hour": hour,
            "day_of_week": dow,
            "day_of_month": ts.dt.day,
            "month": month,
            "is_weekend": dow >= 5,
        }
        for name, v, period in (
            ("hour", hour, 24),
            ("day_of_week", dow, 7),
            ("month", month - 1, 12),
        ):
            angle = 2 * math.pi * v / period
            out[f"{name}_sin"] = np.sin(angle)
            out[f"{name}_cos"] = np.cos(angle)
        return pd.concat([df, pd.DataFrame(out)], axis=1)

    return sixteen if case == "16" else default


# ------------------------------------------------------------------------ workers
def _rss_now_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan  # pragma: no cover


def worker(engine: str, case: str, path: str, repeat: int) -> None:
    fn = ours(path, case) if engine == "ours" else pandas_case(path, case)
    loaded = _rss_now_mb()
    times = []
    for _ in range(repeat + 1):  # the first run is the warm-up
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"time": min(times[1:]), "peak_mb": peak, "loaded_mb": loaded}))


def measure(engine: str, case: str, path: Path, repeat: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", engine, case, str(path), str(repeat)]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs after one warm-up")
    parser.add_argument("--quick", action="store_true", help="100 sensors x 2,000 points")
    parser.add_argument("--cases", help="comma-separated case numbers to run (1-4), default all")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        engine, case, path, repeat = args.worker
        worker(engine, case, path, int(repeat))
        return
    sensors, points = (100, 2_000) if args.quick else (args.sensors, args.points)
    import polars as pl

    rows = sensors * points
    print(f"polars {pl.__version__}, {sensors:,} sensors x {points:,} points = {rows:,} rows")
    print(f"best of {args.repeat} after a warm-up; each case in a fresh process; memory = peak RSS")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_data(folder, sensors, points)
        cases = [
            ("16 columns, shuffled input", "shuffled", ("ours", "16"), ("pandas", "16")),
            ("16 columns, sorted input", "sorted", ("ours", "16"), ("pandas", "16")),
            (
                "default 52 non-spectral, shuffled",
                "shuffled",
                ("ours", "nospectral"),
                ("pandas", "default"),
            ),
            (
                "default 60 vs pandas 52, shuffled",
                "shuffled",
                ("ours", "default"),
                ("pandas", "default"),
            ),
        ]
        if args.cases:
            cases = [c for i, c in enumerate(cases) if str(i + 1) in args.cases.split(",")]
        cache: dict[tuple[str, str, str], dict[str, float]] = {}
        header = (
            f"{'case':36} {'ours s':>8} {'pandas s':>9} {'speedup':>8} "
            f"{'ours MB':>9} {'pandas MB':>10} {'ours/pandas mem':>16}"
        )
        print(header)
        for name, data, a, b in cases:
            path = folder / f"{data}.parquet"
            for key in (a, b):
                if (*key, data) not in cache:
                    cache[*key, data] = measure(*key, path, args.repeat)
            ra, rb = cache[*a, data], cache[*b, data]
            wa, wb = ra["peak_mb"] - ra["loaded_mb"], rb["peak_mb"] - rb["loaded_mb"]
            print(
                f"{name:36} {ra['time']:8.2f} {rb['time']:9.2f} {rb['time'] / ra['time']:7.1f}x "
                f"{ra['peak_mb']:9.0f} {rb['peak_mb']:10.0f} {ra['peak_mb'] / rb['peak_mb']:15.2f}x"
            )
            print(
                f"{'':36} working memory above the loaded data: ours {wa:.0f}, pandas {wb:.0f} MB",
                flush=True,
            )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    main()
