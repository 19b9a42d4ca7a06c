"""
Size and time of the HTML report for a large fleet: ``python benchmarks/bench_report.py``.

Prints the file size for ``--sensors`` sensors (default 10,000) with quality and drift,
the worst 20 in detail, and the report's time against the time of the quality
assessment it shows (a same-run ratio), in wall-clock and in CPU seconds (the CPU
time of every thread of the process: steadier than wall-clock time on a shared
machine). Importing matplotlib (once per process) is timed on its own, before. The
file is written to a temporary folder and removed.
"""

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

import sensorframe as sf
from sensorframe.reporting import report


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Return what `fn` returns, its wall-clock seconds and its CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


parser = argparse.ArgumentParser()
parser.add_argument("--sensors", type=int, default=10_000)
parser.add_argument("--points", type=int, default=400)
args = parser.parse_args()
data = sf.datasets.synthetic(n_sensors=args.sensors, n_points=args.points, freq="1h", seed=1)
start = data.frame["timestamp"].min()
half = start + timedelta(hours=args.points // 2)
ref = data.frame.filter(pl.col("timestamp") < half)
cur = data.frame.filter(pl.col("timestamp") >= half)
quality, q_wall, q_cpu = timed(lambda: sf.assess_quality(data.frame))
drift = sf.detect_drift(ref, cur)
_, i_wall, _ = timed(lambda: __import__("matplotlib.figure"))
with tempfile.TemporaryDirectory() as folder:
    out, r_wall, r_cpu = timed(
        lambda: report(
            quality=quality,
            drift=drift,
            frame=data.frame,
            reference=ref,
            path=Path(folder) / "report.html",
        )
    )
    size = out.stat().st_size
print(f"polars {pl.__version__}; {args.sensors:,} sensors x {args.points} readings")
print(f"report size {size / 1e6:.2f} MB (target < 15 MB); matplotlib import {i_wall:.2f} s")
print(f"wall: report {r_wall:.2f} s vs assess_quality {q_wall:.2f} s: {r_wall / q_wall:.2f}x")
print(f"cpu:  report {r_cpu:.2f} s vs assess_quality {q_cpu:.2f} s: {r_cpu / q_cpu:.2f}x")
