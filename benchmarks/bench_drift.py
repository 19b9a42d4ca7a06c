"""
Drift detection: sensorframe vs a per-sensor scipy loop, same data, same run.

Every case runs in a fresh subprocess (so peak memory, from ``resource.getrusage``
``ru_maxrss``, is its own, data included): the data are generated, the case runs once
as a warm-up, then the best of ``--repeat`` runs (2 for the slow loop) is reported, as
wall time and as CPU time of the process (steadier on a shared machine).

Cases
-----
scipy loop      per sensor: ``ks_2samp`` + ``mannwhitneyu`` + a NumPy PSI on 10 reference
                quantile bins; it gets the readings already split per sensor as NumPy
                arrays (the split is not timed, which favours the baseline)
detect_drift    ``sf.drift.detect_drift(reference, current)`` from two long Polars frames
detector.detect a fitted ``DriftDetector`` (fit not timed) on the current frame

Usage: ``python benchmarks/bench_drift.py [--sensors 1000 --points 10000] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import polars as pl
from _timing import best_wall_cpu


def make_frames(sensors: int, points: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    total = sensors * points
    ids = pl.select(
        sensor_id=pl.format("S{}", (pl.int_range(total) // points).cast(pl.String).str.zfill(5)),
        timestamp=pl.datetime(2026, 1, 1, time_zone="UTC")
        + pl.duration(minutes=pl.int_range(total) % points),
    )
    shift = np.repeat(np.where(np.arange(sensors) % 10 == 0, 0.3, 0.0), points)
    ref = ids.with_columns(value=pl.Series(rng.normal(size=total).round(3)))
    cur = ids.with_columns(value=pl.Series((rng.normal(size=total) + shift).round(3)))
    return ref, cur


def baseline_loop(ref_arrays: list[np.ndarray], cur_arrays: list[np.ndarray]) -> None:
    import scipy.stats as ss

    for r, c in zip(ref_arrays, cur_arrays, strict=True):
        ss.ks_2samp(r, c)
        ss.mannwhitneyu(r, c, method="asymptotic")
        edges = np.quantile(r, np.linspace(0, 1, 11)[1:-1])
        pr = np.bincount(np.searchsorted(edges, r, "right"), minlength=10) / len(r)
        pc = np.bincount(np.searchsorted(edges, c, "right"), minlength=10) / len(c)
        pr, pc = np.clip(pr, 1e-4, None), np.clip(pc, 1e-4, None)
        float(np.sum((pc - pr) * np.log(pc / pr)))


def run_case(case: str, sensors: int, points: int, repeat: int) -> dict[str, float]:
    import sensorframe.drift as drift

    ref, cur = make_frames(sensors, points)
    fn: Callable[[], object]
    if case == "scipy loop":
        ra = [p["value"].to_numpy() for p in ref.partition_by("sensor_id", maintain_order=True)]
        ca = [p["value"].to_numpy() for p in cur.partition_by("sensor_id", maintain_order=True)]
        del ref, cur

        def fn() -> None:
            baseline_loop(ra, ca)

    elif case == "detect_drift":

        def fn() -> object:
            return drift.detect_drift(ref, cur)

    else:
        det = drift.DriftDetector().fit(ref)
        del ref

        def fn() -> object:
            return det.detect(cur)

    wall, cpu = best_wall_cpu(fn, repeat=repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    return {"seconds": wall, "cpu_seconds": cpu, "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--points", type=int, default=10_000, help="per window and sensor")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 sensors x 2,000 points")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points = 100, 2000
    if args.case:
        print(json.dumps(run_case(args.case, args.sensors, args.points, args.repeat)))
        return
    cases = ["scipy loop", "detect_drift", "detector.detect"]
    results = {}
    for case in cases:
        repeat = min(args.repeat, 2) if case == "scipy loop" else args.repeat
        cmd = [sys.executable, __file__, "--case", case, "--sensors", str(args.sensors)]
        cmd += ["--points", str(args.points), "--repeat", str(repeat)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results[case] = json.loads(out.strip().splitlines()[-1])
    rows = args.sensors * args.points
    print(
        f"drift: {args.sensors} sensors x ({args.points} ref + {args.points} cur) = "
        f"{2 * rows:,} readings, polars {pl.__version__}"
    )
    base = results["scipy loop"]["seconds"]
    base_cpu = results["scipy loop"]["cpu_seconds"]
    print(
        f"{'case':16} {'wall s':>7} {'cpu s':>7} {'peak MiB':>9} {'speed-up wall':>14} {'cpu':>6}"
    )
    for case in cases:
        res = results[case]
        print(
            f"{case:16} {res['seconds']:7.2f} {res['cpu_seconds']:7.2f} {res['peak_mib']:9.0f} "
            f"{base / res['seconds']:13.1f}x {base_cpu / res['cpu_seconds']:5.1f}x"
        )


if __name__ == "__main__":
    main()
