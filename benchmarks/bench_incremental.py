"""
Incremental pipeline runs: an increment of 1% more rows against a full run over all data.

1,000 sensors x 10,000 points are processed once (``run_incremental`` on an empty store,
a first run), then an increment of 1% more rows per sensor (100 points) is processed
incrementally; the baseline is one plain ``Pipeline.run`` over all 10.1 M rows, what a
job without incremental runs does every time. Each run is a fresh subprocess, so its
peak memory (``resource.getrusage``, the child's maximum RSS) is its own; the import of
sensorframe alone is measured too. A second increment of twice the rows, after the
first, shows how time and memory follow the increment. Everything is written under a
temporary folder and removed at the end.

    python benchmarks/bench_incremental.py            # 1,000 sensors x 10,000 points
    python benchmarks/bench_incremental.py --quick    # 100 x 2,000
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

FEATURES = {"ewm_span": None, "expanding": False}
"""Changes to FeatureConfig.default(): the families the saved trailing rows make exact."""


def child(task: str, root: Path, args: argparse.Namespace) -> None:
    """Run one task in this process and print its seconds and peak RSS as JSON."""
    import polars as pl

    import sensorframe as sf
    from sensorframe.pipeline.incremental import run_incremental

    cfg = sf.PipelineConfig(features=sf.FeatureConfig.default(**FEATURES))
    seconds = 0.0
    if task == "prepare":
        inc = args.points * args.percent // 100
        frame = sf.datasets.synthetic(
            n_sensors=args.sensors, n_points=args.points + 3 * inc, seed=0, freq="1m"
        ).frame
        minute = (pl.col("timestamp") - frame["timestamp"].min()).dt.total_minutes()
        parts = {
            "history": minute < args.points,
            "increment": minute.is_between(args.points, args.points + inc, closed="left"),
            "double": minute >= args.points + inc,  # the next 2 x inc minutes
            "all": minute < args.points + inc,  # what the increment run has seen
        }
        for name, keep in parts.items():
            frame.filter(keep).write_parquet(root / f"{name}.parquet")
    elif task == "import":
        pass
    elif task == "full":
        pipe = sf.Pipeline(sf.DatasetStore(root / "full"), cfg)
        t0 = time.perf_counter()
        pipe.run(root / "all.parquet", progress=False)
        seconds = time.perf_counter() - t0
    else:  # first, increment, double: incremental runs on one store
        pipe = sf.Pipeline(sf.DatasetStore(root / "incremental"), cfg)
        source = {"first": "history", "increment": "increment", "double": "double"}[task]
        t0 = time.perf_counter()
        run = run_incremental(pipe, root / f"{source}.parquet", progress=False)
        seconds = time.perf_counter() - t0
        assert run.versions, f"{task}: nothing committed"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak}))


def run_child(task: str, root: Path, argv: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", task, "--root", str(root), *argv],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--percent", type=int, default=1, help="increment, %% of the points")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points = 100, 2_000
    if args.child:
        child(args.child, args.root, args)
        return
    argv = ["--sensors", str(args.sensors), "--points", str(args.points)]
    argv += ["--percent", str(args.percent)]
    root = Path(tempfile.mkdtemp(prefix="bench_incremental_"))
    try:
        run_child("prepare", root, argv)
        results = {task: run_child(task, root, argv) for task in ("import", "first")}
        results["increment"] = run_child("increment", root, argv)
        results["double"] = run_child("double", root, argv)
        results["full"] = run_child("full", root, argv)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = args.sensors * args.points
    extra = args.sensors * (args.points * args.percent // 100)
    print(
        f"{args.sensors} sensors x {args.points} points ({rows:,} rows), increment "
        f"{extra:,} rows ({args.percent}%), then {2 * extra:,}; default features without "
        "EWM and expanding"
    )
    base = results["import"]["peak_mb"]
    full = results["full"]
    print(f"{'run':34} {'seconds':>9} {'peak MB':>9} {'MB over import':>15}")
    labels = {
        "import": "import sensorframe",
        "first": "first incremental run (history)",
        "increment": f"incremental, +{extra:,} rows",
        "double": f"incremental, +{2 * extra:,} rows",
        "full": "full Pipeline.run over all rows",
    }
    for task, label in labels.items():
        r = results[task]
        print(f"{label:34} {r['seconds']:9.2f} {r['peak_mb']:9.0f} {r['peak_mb'] - base:15.0f}")
    inc = results["increment"]
    print(f"incremental / full time:   {inc['seconds'] / full['seconds']:.3f}x (target <= 0.05)")
    print(
        "incremental / full memory over import: "
        f"{(inc['peak_mb'] - base) / (full['peak_mb'] - base):.3f}x; "
        f"2x increment / 1x increment: "
        f"{(results['double']['peak_mb'] - base) / (inc['peak_mb'] - base):.2f}x"
    )


if __name__ == "__main__":
    main()
