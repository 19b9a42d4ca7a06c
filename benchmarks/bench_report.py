"""
Size and time of the HTML report for a large fleet: ``python benchmarks/bench_report.py``.

Prints the file size for ``--sensors`` sensors (default 10,000) with quality and drift,
the worst 20 in detail, and the report's time against the time of the quality
assessment it shows (a same-run ratio). The file is written to a temporary folder
and removed.
"""

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import polars as pl

import sensorframe as sf
from sensorframe.reporting import report

parser = argparse.ArgumentParser()
parser.add_argument("--sensors", type=int, default=10_000)
parser.add_argument("--points", type=int, default=400)
args = parser.parse_args()
data = sf.datasets.synthetic(n_sensors=args.sensors, n_points=args.points, freq="1h", seed=1)
start = data.frame["timestamp"].min()
half = start + timedelta(hours=args.points // 2)
ref = data.frame.filter(pl.col("timestamp") < half)
cur = data.frame.filter(pl.col("timestamp") >= half)
t0 = time.perf_counter()
quality = sf.assess_quality(data.frame)
t_quality = time.perf_counter() - t0
drift = sf.detect_drift(ref, cur)
with tempfile.TemporaryDirectory() as folder:
    t0 = time.perf_counter()
    out = report(quality=quality, drift=drift, frame=data.frame, reference=ref,
                 path=Path(folder) / "report.html")  # fmt: skip
    t_report = time.perf_counter() - t0
    size = out.stat().st_size
print(f"polars {pl.__version__}; {args.sensors:,} sensors x {args.points} readings")
print(f"report size {size / 1e6:.2f} MB (target < 15 MB)")
print(f"report {t_report:.2f} s vs assess_quality {t_quality:.2f} s: {t_report / t_quality:.2f}x")
