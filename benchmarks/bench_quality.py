"""
Benchmark: ``assess_quality`` on many sensors vs a per-sensor NumPy loop.

The baseline computes the same checks (missing, outliers, flat-lines, gaps, duplicates,
out-of-order, noise, drift, pass rate) with the plain NumPy reference used by the tests
(``tests/test_quality_reference.py``), one sensor at a time, starting from the same frame.

    .venv/bin/python benchmarks/bench_quality.py            # 1,000 sensors x 10,000 points
    .venv/bin/python benchmarks/bench_quality.py --quick    # 50 x 2,000
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sensorframe.quality as quality
from sensorframe import datasets
from tests.test_quality_reference import reference_frame


def best_of(fn: Callable[[], object], *, repeat: int) -> float:
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
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
    t_loop = best_of(loop, repeat=1 if not args.quick else args.repeat)
    print(f"{'case':40} {'ours ms':>10} {'base ms':>10} {'ours/base':>10} {'speed-up':>9}")
    for name, fn in (("assess_quality vs NumPy loop", ours), ("flag_quality vs NumPy loop", flags)):
        t_ours = best_of(fn, repeat=args.repeat)
        print(
            f"{name:40} {t_ours * 1e3:10.1f} {t_loop * 1e3:10.1f} "
            f"{t_ours / t_loop:10.3f} {t_loop / t_ours:8.1f}x"
        )


if __name__ == "__main__":
    main()
