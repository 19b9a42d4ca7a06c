"""
Dataset store: sensorframe's DatasetStore vs plain deltalake / Polars, same data, same run.

The data are ``sf.datasets.synthetic(sensors, points, faults=())`` (10 M rows by
default). Each operation runs once as a warm-up, then the best of ``--repeat`` runs
is reported with its throughput (in-memory Arrow size of the frame / time).

Cases (ours vs baseline)
------------------------
commit          ``store.commit(name, frame)`` of a new dataset (validate with ``scan``,
                content hash, Polars data files, one Delta commit with metadata) vs
                ``write_deltalake(uri, frame, mode="overwrite")``
commit 10       the same frame given as ten batches of whole sensors (an iterator, as
batches         the pipeline commits): files per batch, one commit at the end
read latest     ``store.read(name).collect()`` vs ``pl.read_delta(uri)``
time travel     ``store.read(name, version=0).collect()`` (two newer versions exist)
                vs ``pl.read_delta(uri, version=0)``
verify          ``store.verify(name, 0)`` (read + re-hash + compare) vs
                ``pl.read_delta(uri, version=0)`` (reading alone)

Writer (a new version of an existing dataset: the data files are written by Polars and
committed with ``create_write_transaction``), for the long frame above and for a wide
one like the pipeline's processed output (``--wide-rows`` rows x 63 Float64 columns:
sensor_id, timestamp, value and 60 features):

polars files    ``store.commit(name, frame)`` on an existing dataset (files by Polars)
deltalake files the same commit with the Polars writer switched off (``write_deltalake``
                writes the files: what a commit cost before)
write_deltalake plain ``write_deltalake(uri, frame, mode="overwrite")`` on an existing
                table (no hash, no metadata)

Wall and CPU seconds (best of ``--repeat`` each) are printed, and the load average:
the machine may be shared, and CPU time is the steadier measure when it is loaded.

Appends (first, in a fresh dataset): ``--appends`` commits of ``--append-rows`` new
rows each (default 1 M, or the frame's rows if fewer) with ``mode="append"``; for each
its wall and CPU seconds and the process' peak RSS during the call (Linux: the peak is
reset before each append through ``/proc/self/clear_refs``). An append costs its own
rows only (the version hash chains on the previous version's), so the last append
should be no slower than 1.5x the first however large the table has grown.

Usage: ``python benchmarks/bench_store.py [--sensors 1000 --points 10000] [--quick]
[--appends 10 --append-rows 1000000]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import numpy as np
import polars as pl
from _timing import best_wall_cpu
from deltalake import write_deltalake

import sensorframe as sf
from sensorframe.store import DatasetStore


def wide_frame(rows: int) -> pl.DataFrame:
    """``rows`` rows x 63 Float64 columns: a processed frame (readings and 60 features)."""
    sensors = max(rows // 2000, 1)
    base = sf.scan(sf.datasets.synthetic(sensors, rows // sensors, faults=()).frame).collect()
    noise = np.random.default_rng(0).normal(size=(base.height, 60))
    return base.with_columns(
        pl.Series(f"feature_{k:02d}", noise[:, k] + base["value"].to_numpy()) for k in range(60)
    )


def writer_rows(work: Path, name: str, frame: pl.DataFrame, repeat: int) -> list[str]:
    """Commit to an existing dataset: Polars files vs deltalake files vs write_deltalake."""
    store = DatasetStore(work / f"writer_{name}")
    plain = str(work / f"writer_plain_{name}")
    store.commit(name, frame)
    write_deltalake(plain, frame)
    polars_files = best_wall_cpu(lambda: store.commit(name, frame), repeat=repeat)
    with mock.patch("sensorframe.store._commit.fits", return_value=False):
        deltalake_files = best_wall_cpu(lambda: store.commit(name, frame), repeat=repeat)
    baseline = best_wall_cpu(lambda: write_deltalake(plain, frame, mode="overwrite"), repeat=repeat)
    shape = f"{frame.height:,} x {frame.width}"
    lines = []
    for label, (wall, cpu) in [
        ("polars files", polars_files),
        ("deltalake files", deltalake_files),
        ("write_deltalake", baseline),
    ]:
        lines.append(
            f"{shape:<16} {label:<16} {wall:8.3f} {cpu:8.3f} "
            f"{wall / baseline[0]:9.2f}x {cpu / baseline[1]:8.2f}x"
        )
    lines.append(
        f"{'':<16} {'polars / deltalake files':<33} "
        f"{polars_files[0] / deltalake_files[0]:9.2f}x {polars_files[1] / deltalake_files[1]:8.2f}x"
    )
    return lines


def peak_rss_mb() -> float:
    """Peak resident memory of this process since the last reset, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - not Linux


def reset_peak_rss() -> None:
    """Make the peak RSS start again from the current RSS (Linux >= 4.0)."""
    with contextlib.suppress(OSError):  # not Linux, or not allowed: peaks only grow
        Path("/proc/self/clear_refs").write_text("5")


def append_batch(i: int, rows: int) -> pl.DataFrame:
    """``rows`` new readings of 100 sensors, later in time than batch ``i - 1``'s."""
    per_sensor = max(rows // 100, 1)
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=(i + 1) * per_sensor)
    times = pl.datetime_range(
        start, start + timedelta(seconds=per_sensor - 1), "1s", eager=True, time_zone="UTC"
    )
    values = np.random.default_rng(i + 1).normal(size=per_sensor * 100)
    return pl.DataFrame(
        {
            "sensor_id": np.repeat([f"S{k:03d}" for k in range(100)], per_sensor),
            "timestamp": pl.concat([times] * 100),
            "value": values,
        }
    )


def append_rows(work: Path, appends: int, rows: int) -> list[str]:
    """Time and peak memory of each of ``appends`` appends to one growing dataset."""
    store = DatasetStore(work / "appends")
    store.commit("growing", append_batch(-1, rows))  # created first: every timed one appends
    lines = []
    figures: list[tuple[float, float]] = []
    for i in range(appends):
        batch = append_batch(i, rows)
        reset_peak_rss()
        wall, cpu = time.perf_counter(), time.process_time()
        v = store.commit("growing", batch, mode="append")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = peak_rss_mb()
        figures.append((wall, peak))
        lines.append(f"{i + 1:>6} {v.rows:>12,} {wall:8.3f} {cpu:8.3f} {peak:9.0f}")
    assert store.verify("growing")
    (first_wall, first_peak), (last_wall, last_peak) = figures[0], figures[-1]
    flat = last_wall <= 1.5 * first_wall
    lines.append(
        f"last / first append: time {last_wall / first_wall:.2f}x, peak RSS "
        f"{last_peak / first_peak:.2f}x ({'flat' if flat else 'NOT flat'}: the bound is 1.5x)"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wide-rows", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="100 sensors x 1000 points")
    parser.add_argument("--appends", type=int, default=10)
    parser.add_argument("--append-rows", type=int, default=None, help="default: 1 M")
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points, args.repeat, args.wide_rows = 100, 1000, 2, 20_000
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")

    frame = sf.datasets.synthetic(args.sensors, args.points, faults=()).frame
    frame = sf.scan(frame).collect()
    mb = frame.estimated_size() / 1e6
    print(
        f"data: {args.sensors} sensors x {args.points} points = {frame.height:,} rows, "
        f"{mb:,.0f} MB in memory; best of {args.repeat} after a warm-up"
    )

    def wall(fn: Callable[[], object]) -> float:
        return best_wall_cpu(fn, repeat=args.repeat)[0]

    append_size = args.append_rows or min(1_000_000, frame.height)
    work = Path(tempfile.mkdtemp(prefix="bench_store_"))
    try:
        appends = append_rows(work, args.appends, append_size)
        store = DatasetStore(work / "lake")
        plain = str(work / "plain")
        counter = iter(range(1_000_000))

        def ours_commit() -> None:
            store.commit(f"c{next(counter)}", frame)

        def base_commit() -> None:
            write_deltalake(f"{plain}_{next(counter)}", frame, mode="overwrite")

        rows: list[tuple[str, float, float]] = [("commit", wall(ours_commit), wall(base_commit))]
        ids = frame.get_column("sensor_id").unique().sort().to_list()
        parts = [frame.filter(pl.col("sensor_id").is_in(g)) for g in np.array_split(ids, 10)]

        def ours_batches() -> None:  # ten batches of whole sensors, one commit
            store.commit(f"c{next(counter)}", iter(parts))

        rows.append(("commit 10 batches", wall(ours_batches), wall(base_commit)))
        # One dataset with three versions for the reads.
        for i in range(3):
            store.commit("readings", frame.with_columns(pl.col("value") + i))
            write_deltalake(plain, frame.with_columns(pl.col("value") + i), mode="overwrite")
        rows.append(
            (
                "read latest",
                wall(lambda: store.read("readings").collect()),
                wall(lambda: pl.read_delta(plain)),
            )
        )
        rows.append(
            (
                "time travel",
                wall(lambda: store.read("readings", version=0).collect()),
                wall(lambda: pl.read_delta(plain, version=0)),
            )
        )
        assert store.verify("readings", 0)
        rows.append(
            (
                "verify",
                wall(lambda: store.verify("readings", 0)),
                wall(lambda: pl.read_delta(plain, version=0)),
            )
        )
        writer = writer_rows(work, "long", frame, args.repeat)
        writer += writer_rows(work, "wide", wide_frame(args.wide_rows), args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    header = ("operation", "ours s", "MB/s", "baseline s", "MB/s", "ratio")
    print("{:<17} {:>8} {:>8} {:>11} {:>8} {:>7}".format(*header))
    for name, ours, base in rows:
        print(
            f"{name:<17} {ours:8.3f} {mb / ours:8.0f} {base:11.3f} {mb / base:8.0f} "
            f"{ours / base:6.2f}x"
        )
    print("ratio = ours / baseline time (lower is better; > 1 is the cost of the metadata)")
    print("\nwriter: a commit to an existing dataset (overwrite)")
    header = ("frame", "writer", "wall s", "cpu s", "ratio wall", "ratio cpu")
    print("{:<16} {:<16} {:>8} {:>8} {:>8} {:>8}".format(*header))
    print("\n".join(writer))
    print("ratio = time / plain write_deltalake's (polars / deltalake files: the writer's gain)")
    print(f"\nappends: {args.appends} x {append_size:,} new rows to one dataset")
    print(
        "{:>6} {:>12} {:>8} {:>8} {:>9}".format(
            "append", "table rows", "wall s", "cpu s", "peak MB"
        )
    )
    print("\n".join(appends))
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
