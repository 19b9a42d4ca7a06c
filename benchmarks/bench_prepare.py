"""
Benchmark of sensorframe.prepare: content_hash throughput and Normalizer speed.

content_hash is timed on the readings in (sensor, time) order and shuffled, against
the first implementation (one multi-key sort with the String sensor key, then the same
hashing), and against the floor: SHA-256 of the unsorted column buffers alone.
Normalizer fit + transform is timed against a per-sensor NumPy loop.

    python benchmarks/bench_prepare.py            # 1,000 sensors x 10,000 points
    python benchmarks/bench_prepare.py --quick    # a small run
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable

import numpy as np
import polars as pl
from _timing import best_wall_cpu

import sensorframe as sf
from sensorframe.prepare import Normalizer, content_hash


def _column_bytes(series: pl.Series) -> list[bytes]:
    """A column's validity bitmap and values (text: byte lengths, then the bytes)."""
    valid = np.packbits(series.is_not_null().to_numpy()).tobytes()
    if series.dtype == pl.String:
        text = series.fill_null("")
        lengths = text.str.len_bytes().to_numpy().tobytes()
        return [valid, lengths, text.str.join("").item().encode()]
    return [valid, series.to_physical().fill_null(0).to_numpy().tobytes()]


def multikey_sort_hash(frame: pl.DataFrame) -> str:
    """The first content_hash (scheme 0): sort by every column (String key first), then hash."""
    df = sf.scan(frame).collect()
    extras = sorted(c for c in df.columns if c not in ("sensor_id", "timestamp", "value"))
    order = ["sensor_id", "timestamp", "value", *extras]
    df = df.select(order).sort(order, nulls_last=True)
    digest = hashlib.sha256()
    digest.update(repr([(c, str(df.schema[c])) for c in order]).encode())
    digest.update(df.height.to_bytes(8, "little"))
    for name in order:
        digest.update(name.encode())
        for chunk in _column_bytes(df.get_column(name).rechunk()):
            digest.update(chunk)
    return digest.hexdigest()


def unsorted_buffers_hash(frame: pl.DataFrame) -> str:
    """The floor: hash the columns as they are, no canonical order (not order-independent)."""
    digest = hashlib.sha256()
    for name in frame.columns:
        for chunk in _column_bytes(frame.get_column(name).rechunk()):
            digest.update(chunk)
    return digest.hexdigest()


def numpy_zscore_loop(frame: pl.DataFrame) -> pl.DataFrame:
    """Per-sensor loop: partition, NumPy mean / std, scale, reassemble."""
    out = []
    for part in frame.partition_by("sensor_id", maintain_order=False):
        values = part.get_column("value").to_numpy()
        finite = values[np.isfinite(values)]
        center, scale = finite.mean(), finite.std()
        out.append(part.with_columns(value=pl.Series((values - center) / (scale or 1.0))))
    return pl.concat(out)


def numpy_robust_loop(frame: pl.DataFrame) -> pl.DataFrame:
    out = []
    for part in frame.partition_by("sensor_id", maintain_order=False):
        values = part.get_column("value").to_numpy()
        q25, q50, q75 = np.percentile(values[np.isfinite(values)], [25, 50, 75])
        out.append(part.with_columns(value=pl.Series((values - q50) / ((q75 - q25) or 1.0))))
    return pl.concat(out)


def ours(method: str, frame: pl.DataFrame) -> Callable[[], object]:
    return lambda: Normalizer(method).fit(frame).transform(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50 sensors x 2,000 points")
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points = 50, 2_000
    frame = sf.datasets.synthetic(args.sensors, args.points, faults=(), seed=0).frame
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=1)
    mb = frame.estimated_size() / 1e6
    assert content_hash(frame) == content_hash(shuffled)  # the baseline hashes differently
    print(
        f"{frame.height:,} rows ({args.sensors:,} sensors x {args.points:,}), {mb:.0f} MB, "
        f"polars {pl.__version__}, best of {args.repeat}"
    )
    print(f"{'content_hash':38} {'ours s':>8} {'MB/s':>7} {'base s':>8} {'MB/s':>7} {'ratio':>7}")
    for label, data in (("in order", frame), ("shuffled", shuffled)):
        t_ours = best_wall_cpu(lambda d=data: content_hash(d), repeat=args.repeat)[0]
        for base_name, base in (
            ("vs multi-key String sort", multikey_sort_hash),
            ("vs unsorted buffers (floor)", unsorted_buffers_hash),
        ):
            t_base = best_wall_cpu(lambda d=data, b=base: b(d), repeat=args.repeat)[0]
            print(
                f"{label + ' ' + base_name:38} {t_ours:8.3f} {mb / t_ours:7.0f} "
                f"{t_base:8.3f} {mb / t_base:7.0f} {t_ours / t_base:6.2f}x"
            )
    print(f"\n{'Normalizer fit + transform':38} {'ours s':>8} {'':>7} {'numpy s':>8}")
    for method, loop in (("zscore", numpy_zscore_loop), ("robust", numpy_robust_loop)):
        t_ours = best_wall_cpu(ours(method, shuffled), repeat=args.repeat)[0]
        t_base = best_wall_cpu(lambda fn=loop: fn(shuffled), repeat=args.repeat)[0]
        print(
            f"{method + ' vs per-sensor NumPy loop':38} {t_ours:8.3f} {'':>7} "
            f"{t_base:8.3f} {'':>7} {t_ours / t_base:6.2f}x"
        )


if __name__ == "__main__":
    main()
