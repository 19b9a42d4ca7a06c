"""
Benchmark: ``assess_quality`` on many sensors vs per-sensor NumPy loops.

Every baseline runs the same plain NumPy reference the tests use
(``tests/test_quality_reference.py``: missing, outliers, flat-lines, gaps, duplicates,
out-of-order, noise, drift, pass rate) one sensor at a time; they differ only in how
each sensor's rows are found, from the same data:

* ``partitioned``: ``partition_by("sensor_id")`` first (Polars), then NumPy per
  sensor. The most favourable loop: every sensor's arrays are ready and small enough
  to stay in cache. Few users write this.
* ``pandas groupby``: ``for sensor, rows in df.groupby("sensor_id")`` on a pandas frame
  (converted before timing), the loop a pandas user writes.
* ``select per sensor``: ``frame.filter(sensor_id == s)`` for each sensor, as the
  original design (and many scripts) select a sensor's rows. Each selection scans the
  whole frame, so it is timed on ``--select-sensors`` sensors and scaled linearly.

The loops build no events, status or texts, which ``assess_quality`` does. Run it on a
quiet machine (``uptime`` load well below the core count). Besides wall time it prints
process CPU time (all threads): the loops use one core, Polars all of them.

    .venv/bin/python benchmarks/bench_quality.py            # 1,000 sensors x 10,000 points
    .venv/bin/python benchmarks/bench_quality.py --quick    # 50 x 2,000
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import best_wall_cpu

import sensorframe.quality as quality
from sensorframe import datasets
from tests.test_quality_reference import reference_frame, reference_sensor


def loops(frame: pl.DataFrame, cfg: quality.QualityConfig, select_sensors: int) -> dict:
    """The baseline loops (name -> (callable, scale factor of its timing))."""
    import numpy as np

    # pandas gets the times as int64 microseconds, converted before timing (the cheapest
    # form for NumPy: tz-aware timestamps would come out as Python objects)
    pdf = frame.with_columns(pl.col("timestamp").dt.epoch("us")).to_pandas()
    sensors = frame.get_column("sensor_id").unique().sort().to_list()
    some = sensors[:select_sensors]

    def partitioned() -> object:
        return reference_frame(frame, cfg)

    def pandas_groupby() -> object:
        out = {}
        for (sid,), rows in pdf.groupby(["sensor_id"], sort=True):
            t = rows["timestamp"].to_numpy()
            x = rows["value"].to_numpy(dtype=np.float64, na_value=np.nan)
            out[sid] = reference_sensor(t, x, cfg)
        return out

    def select_per_sensor() -> object:
        out = {}
        for sid in some:
            rows = frame.filter(pl.col("sensor_id") == sid)
            t = rows["timestamp"].dt.epoch("us").to_numpy()
            x = rows["value"].fill_null(np.nan).to_numpy()
            out[sid] = reference_sensor(t, x, cfg)
        return out

    return {
        "partitioned": (partitioned, 1.0),
        "pandas groupby": (pandas_groupby, 1.0),
        "select per sensor": (select_per_sensor, len(sensors) / len(some)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--select-sensors", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="50 sensors x 2,000 points")
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points, args.repeat, args.select_sensors = 50, 2_000, 2, 10
    data = datasets.synthetic(n_sensors=args.sensors, n_points=args.points, seed=0)
    frame = data.frame
    cfg = quality.QualityConfig()
    print(f"rows={frame.height:,} sensors={args.sensors:,} polars={pl.__version__}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    ours = {
        "assess_quality": lambda: quality.assess_quality(frame, cfg),
        "flag_quality": lambda: quality.flag_quality(frame, cfg).collect(),
    }
    ours_times = {name: best_wall_cpu(fn, repeat=args.repeat) for name, fn in ours.items()}
    print(
        f"{'case':44} {'ours ms':>8} {'loop ms':>9} {'speed-up':>9}"
        f" {'ours cpu':>9} {'loop cpu':>9} {'cpu ratio':>9}"
    )
    for base, (fn, scale) in loops(frame, cfg, args.select_sensors).items():
        repeat = args.repeat if scale == 1.0 else 1
        t_loop, c_loop = (v * scale for v in best_wall_cpu(fn, repeat=repeat))
        for name, (t_ours, c_ours) in ours_times.items():
            print(
                f"{name + ' vs ' + base + ('*' if scale != 1.0 else ''):44}"
                f" {t_ours * 1e3:8.1f} {t_loop * 1e3:9.1f} {t_loop / t_ours:8.2f}x"
                f" {c_ours * 1e3:9.1f} {c_loop * 1e3:9.1f} {c_loop / c_ours:8.2f}x"
            )
    print(f"* timed on {args.select_sensors} sensors, scaled linearly to all")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
