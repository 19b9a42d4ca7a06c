"""
Dataset store: sensorframe's DatasetStore vs plain deltalake / Polars, same data, same run.

The data are ``sf.datasets.synthetic(sensors, points, faults=())`` (10 M rows by
default). Each operation runs once as a warm-up, then the best of ``--repeat`` runs
is reported with its throughput (in-memory Arrow size of the frame / time).

Cases (ours vs baseline)
------------------------
commit          ``store.commit(name, frame)`` (validate with ``scan``, content hash,
                one Delta commit with metadata) vs ``write_deltalake(uri, frame,
                mode="overwrite")``
read latest     ``store.read(name).collect()`` vs ``pl.read_delta(uri)``
time travel     ``store.read(name, version=0).collect()`` (two newer versions exist)
                vs ``pl.read_delta(uri, version=0)``
verify          ``store.verify(name, 0)`` (read + re-hash + compare) vs
                ``pl.read_delta(uri, version=0)`` (reading alone)

Usage: ``python benchmarks/bench_store.py [--sensors 1000 --points 10000] [--quick]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
from deltalake import write_deltalake

import sensorframe as sf
from sensorframe.store import DatasetStore


def best_of(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 sensors x 1000 points")
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points, args.repeat = 100, 1000, 2

    frame = sf.datasets.synthetic(args.sensors, args.points, faults=()).frame
    frame = sf.scan(frame).collect()
    mb = frame.estimated_size() / 1e6
    print(
        f"data: {args.sensors} sensors x {args.points} points = {frame.height:,} rows, "
        f"{mb:,.0f} MB in memory; best of {args.repeat} after a warm-up"
    )
    work = Path(tempfile.mkdtemp(prefix="bench_store_"))
    try:
        store = DatasetStore(work / "lake")
        plain = str(work / "plain")
        counter = iter(range(1_000_000))

        def ours_commit() -> None:
            store.commit(f"c{next(counter)}", frame)

        def base_commit() -> None:
            write_deltalake(f"{plain}_{next(counter)}", frame, mode="overwrite")

        rows: list[tuple[str, float, float]] = [
            ("commit", best_of(ours_commit, args.repeat), best_of(base_commit, args.repeat))
        ]
        # One dataset with three versions for the reads.
        for i in range(3):
            store.commit("readings", frame.with_columns(pl.col("value") + i))
            write_deltalake(plain, frame.with_columns(pl.col("value") + i), mode="overwrite")
        rows.append(
            (
                "read latest",
                best_of(lambda: store.read("readings").collect(), args.repeat),
                best_of(lambda: pl.read_delta(plain), args.repeat),
            )
        )
        rows.append(
            (
                "time travel",
                best_of(lambda: store.read("readings", version=0).collect(), args.repeat),
                best_of(lambda: pl.read_delta(plain, version=0), args.repeat),
            )
        )
        assert store.verify("readings", 0)
        rows.append(
            (
                "verify",
                best_of(lambda: store.verify("readings", 0), args.repeat),
                best_of(lambda: pl.read_delta(plain, version=0), args.repeat),
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    header = ("operation", "ours s", "MB/s", "baseline s", "MB/s", "ratio")
    print("{:<12} {:>8} {:>8} {:>11} {:>8} {:>7}".format(*header))
    for name, ours, base in rows:
        print(
            f"{name:<12} {ours:8.3f} {mb / ours:8.0f} {base:11.3f} {mb / base:8.0f} "
            f"{ours / base:6.2f}x"
        )
    print("ratio = ours / baseline time (lower is better; > 1 is the cost of the metadata)")


if __name__ == "__main__":
    main()
