"""
Pipeline.run at scale: peak memory and time per row, in memory and in batches of sensors.

Synthetic readings are written straight to a Parquet folder (the whole data set is
never in memory): in chunks of sensors (a source in sensor order, read by row ranges),
or, for the "daily files" case, one file per day of every sensor (how daily appends
land: the run first groups it by one streaming partition pass). Each case runs
``Pipeline.run`` (the 16-column feature set unless stated) in its own subprocess, which
reports its wall time; the parent reads the child's peak RSS
(``resource.getrusage(RUSAGE_CHILDREN)``). The table gives rows, peak RSS, time and
time per row relative to the 10 M-row run in memory of the same feature set.
Everything written (data, stores) is deleted at the end.

    python benchmarks/bench_scale.py                 # 10 M and 30 M, both feature sets
    python benchmarks/bench_scale.py --cases 100M    # 10,000 sensors x 10,000 points
    python benchmarks/bench_scale.py --cases "100M daily files"
    python benchmarks/bench_scale.py --quick         # 200 k rows, a smoke test
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

CHUNK_SENSORS = 500
DAY = 1_440  # readings per sensor and day (one a minute)
# name: (sensors, points, in memory, feature set, files by "sensor" chunk or by "day")
CASES = {
    "10M memory": (1_000, 10_000, True, "16", "sensor"),
    "10M batches": (1_000, 10_000, False, "16", "sensor"),
    "30M batches": (3_000, 10_000, False, "16", "sensor"),
    "10M default memory": (1_000, 10_000, True, "default", "sensor"),
    "30M default config": (3_000, 10_000, False, "default", "sensor"),
    "100M": (10_000, 10_000, False, "16", "sensor"),
    "100M daily files": (10_000, 10_000, False, "16", "day"),
}


def write_data(folder: Path, sensors: int, points: int, layout: str) -> None:
    """Write ``sensors`` x ``points`` readings, by chunks of sensors or by day."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    start = np.datetime64("2026-01-01T00:00:00", "us")
    phases = rng.uniform(0, 2 * np.pi, size=(sensors, 1))
    step = CHUNK_SENSORS if layout == "sensor" else DAY
    for first in range(0, sensors if layout == "sensor" else points, step):
        rows = range(first, min(first + step, sensors)) if layout == "sensor" else range(sensors)
        cols = range(points) if layout == "sensor" else range(first, min(first + step, points))
        n, m = len(rows), len(cols)
        t = np.asarray(cols)
        values = np.sin(t / DAY * 2 * np.pi + phases[rows.start : rows.stop])
        values += rng.normal(0, 0.1, size=(n, m))
        times = start + t * np.timedelta64(60, "s")
        pl.DataFrame(
            {
                "sensor_id": np.repeat([f"S{i:05d}" for i in rows], m),
                "timestamp": pl.Series(np.tile(times, n)).dt.replace_time_zone("UTC"),
                "value": values.ravel(),
            }
        ).write_parquet(folder / f"part-{first:06d}.parquet")


def child(spec: str) -> None:
    """Run one case (``spec`` is JSON) and print its wall time as JSON."""
    import sensorframe as sf

    args = json.loads(spec)
    features = (
        sf.FeatureConfig(
            rolling_windows=[6, 12, 24],
            rolling_stats=["mean", "std", "min", "max"],
            lags=[1, 2, 3],
            diffs=[1],
        )
        if args["features"] == "16"
        else sf.FeatureConfig.default()
    )
    source = pl.read_parquet(args["data"]) if args["memory"] else args["data"]
    pipe = sf.Pipeline(sf.DatasetStore(args["store"]), sf.PipelineConfig(features=features))
    t0 = time.perf_counter()
    run = pipe.run(source, progress=False)
    wall = time.perf_counter() - t0
    print(json.dumps({"wall": wall, "batches": run.batches, "ok": run.succeeded}))


def measure(name: str, data: Path, work: Path, *, memory: bool, features: str) -> dict[str, float]:
    """Run one case in a fresh subprocess; return its wall time, batches and peak RSS."""
    store = work / f"store-{name.replace(' ', '_')}"
    spec = {"data": str(data), "store": str(store), "memory": memory, "features": features}
    out = subprocess.run(
        [sys.executable, __file__, "--measure", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    shutil.rmtree(store, ignore_errors=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measured(spec: str) -> None:
    """Run the case in a child (this process's only one) and print its result and peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", spec], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["peak_gb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument(
        "--cases",
        nargs="*",
        default=[c for c in CASES if not c.startswith("100M")],
        choices=list(CASES),
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--measure")
    args = parser.parse_args()
    if args.child or args.measure:
        child(args.child) if args.child else measured(args.measure)
        return
    print(f"polars {pl.__version__}")
    head = f"{'case':22} {'rows':>12} {'batches':>8} {'peak RSS':>9} {'time':>8}"
    print(f"{head} {'per row vs 10M mem':>19}")
    baselines: dict[str, float] = {}  # time per row in memory, by feature set
    work = Path(tempfile.mkdtemp(prefix="bench_scale_", dir="/tmp"))
    try:
        for name in args.cases:
            sensors, points, memory, features, layout = CASES[name]
            if args.quick:
                sensors, points = sensors // 50, points // 10
            data = work / f"data-{sensors}x{points}-{layout}"
            if not data.exists():
                write_data(data, sensors, points, layout)
            r = measure(name, data, work, memory=memory, features=features)
            rows = sensors * points
            per_row = r["wall"] / rows
            if memory:
                baselines.setdefault(features, per_row)
            baseline = baselines.get(features)
            ratio = f"{per_row / baseline:.2f}x" if baseline else "n/a"
            print(
                f"{name:22} {rows:>12,} {r['batches']:>8} {r['peak_gb']:>7.2f}GB "
                f"{r['wall']:>7.1f}s {ratio:>19}",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
