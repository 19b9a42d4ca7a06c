"""
Benchmark: ``assess_quality`` on many sensors vs a per-sensor NumPy loop.

The baseline computes the same checks (missing, outliers, flat-lines, gaps, duplicates,
out-of-order, noise, drift, pass rate) with the plain NumPy reference used by the tests
(``tests/test_quality_reference.py``), one sensor at a time, starting from the same frame:
``partition_by("sensor_id")``, then NumPy on each sensor's arrays, as a user would write
it. (It builds no events, status or texts, which ``assess_quality`` does.) Run it on a
quiet machine: ``uptime`` load well below the core count. Besides wall time it prints
the process CPU time (all threads): the loop uses one core, Polars all of them, so on
a busy machine the wall-time ratio drops while the CPU-time ratio stays put.

    .venv/bin/python benchmarks/bench_quality.py            # 1,000 sensors x 10,000 points
    .venv/bin/python benchmarks/bench_quality.py --quick    # 50 x 2,000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sensorframe.quality as quality
from sensorframe import datasets
from tests.test_quality_reference import reference_frame


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall time and process CPU time (all threads) of one call."""
    start = (time.perf_counter(), time.process_time())
    fn()
    return time.perf_counter() - start[0], time.process_time() - start[1]


def best_of(fn: Callable[[], object], *, repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time of `repeat` calls after a warm-up call."""
    fn()
    runs = [timed(fn) for _ in range(repeat)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="50 sensors x 2,000 points")
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points, args.repeat = 50, 2_000, 2
    data = datasets.synthetic(n_sensors=args.sensors, n_points=args.points, seed=0)
    frame = data.frame
    cfg = quality.QualityConfig()

    def ours() -> object:
        return quality.assess_quality(frame, cfg)

    def flags() -> object:
        return quality.flag_quality(frame, cfg).collect()

    def loop() -> object:
        return reference_frame(frame, cfg)

    print(f"rows={frame.height:,} sensors={args.sensors:,} polars={pl.__version__}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    t_loop, c_loop = best_of(loop, repeat=args.repeat)
    print(
        f"{'case':30} {'ours ms':>9} {'base ms':>9} {'speed-up':>9}"
        f" {'ours cpu':>9} {'base cpu':>9} {'cpu ratio':>9}"
    )
    for name, fn in (("assess_quality vs NumPy loop", ours), ("flag_quality vs NumPy loop", flags)):
        t_ours, c_ours = best_of(fn, repeat=args.repeat)
        print(
            f"{name:30} {t_ours * 1e3:9.1f} {t_loop * 1e3:9.1f} {t_loop / t_ours:8.2f}x"
            f" {c_ours * 1e3:9.1f} {c_loop * 1e3:9.1f} {c_loop / c_ours:8.2f}x"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
