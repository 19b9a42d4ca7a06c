"""
Benchmark feature exploration against computing the features once.

``explore_features`` (default config, with a ``make_target`` target: the mean over the
next hour) against ``engineer_features`` alone on the same in-memory frame, same run,
best of N after a warm-up. The goal is a ratio under 10x at 1,000 sensors x 10,000
points: above a million rows exploration samples whole sensors (and says so), so its
cost stays bounded while the full computation grows with the data.

Usage: ``python benchmarks/bench_explore.py [--sensors 1000 --points 10000] [--quick]``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _timing import best_wall_cpu
from bench_features import make_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs after one warm-up")
    parser.add_argument("--quick", action="store_true", help="100 sensors x 2,000 points")
    args = parser.parse_args()
    sensors, points = (100, 2_000) if args.quick else (args.sensors, args.points)

    import polars as pl

    import sensorframe as sf

    rows = sensors * points
    print(f"polars {pl.__version__}, {sensors:,} sensors x {points:,} points = {rows:,} rows")
    with tempfile.TemporaryDirectory() as tmp:
        make_data(Path(tmp), sensors, points)
        frame = pl.read_parquet(Path(tmp) / "shuffled.parquet")
    target = sf.make_target(frame, horizon="1h", kind="mean").collect()
    result: list[sf.Exploration] = []

    def explore() -> None:
        result[:] = [sf.explore_features(frame, target=target)]

    def engineer() -> None:
        sf.engineer_features(frame).collect()

    t_explore, c_explore = best_wall_cpu(explore, repeat=args.repeat)
    t_engineer, c_engineer = best_wall_cpu(engineer, repeat=args.repeat)
    print(result[0])
    print(f"best of {args.repeat} after a warm-up; wall s, cpu s, ratio explore / engineer")
    print(f"{'explore_features (default, target)':40} {t_explore:8.2f} {c_explore:8.2f}")
    print(f"{'engineer_features (default) alone':40} {t_engineer:8.2f} {c_engineer:8.2f}")
    print(
        f"{'explore / engineer':40} {t_explore / t_engineer:7.2f}x {c_explore / c_engineer:7.2f}x"
        "  (goal: < 10x)"
    )


if __name__ == "__main__":
    main()
