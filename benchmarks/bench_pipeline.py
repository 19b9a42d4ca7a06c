"""
End-to-end pipeline: one vectorized run for all sensors vs the same steps sensor by sensor.

The baseline is the original design's loop: for each sensor, select its rows and run
quality, normalization (fit on its train split), features and drift on that sensor
alone, then version the results. The loop is timed on ``--loop-sensors`` sensors and
scaled linearly to all sensors (it is linear in the number of sensors: each iteration
does the same work); the printed figure says so.

    python benchmarks/bench_pipeline.py                  # 1,000 sensors x 10,000 points
    python benchmarks/bench_pipeline.py --quick          # 100 x 2,000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import timedelta

import polars as pl

import sensorframe as sf


def loop_one_sensor(
    frame: pl.DataFrame, reference: pl.DataFrame, sensor: str, store: sf.DatasetStore
) -> None:
    cfg = sf.PipelineConfig()
    one = frame.filter(pl.col("sensor_id") == sensor)
    sf.assess_quality(one, cfg.quality)
    train = sf.split(one, cfg.ratios).train
    normalized = sf.Normalizer(cfg.normalize).fit(train).transform(one)
    feats = sf.engineer_features(normalized, cfg.features).collect()
    sf.detect_drift(reference.filter(pl.col("sensor_id") == sensor), one, cfg.drift)
    raw = store.commit(f"raw_{sensor}", one)
    store.commit(f"processed_{sensor}", feats, parents=[raw])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--loop-sensors", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points, args.loop_sensors = 100, 2_000, 10

    data = sf.datasets.synthetic(
        n_sensors=args.sensors, n_points=args.points, seed=0, freq="1m", shift_at=0.75
    )
    frame = data.frame
    start = frame["timestamp"].min()
    half = start + timedelta(minutes=args.points // 2)  # type: ignore[operator]
    first, later = frame.filter(pl.col("timestamp") < half), frame
    print(
        f"{frame.height:,} rows, {args.sensors} sensors x {args.points} points, "
        f"polars {pl.__version__}, sensorframe {sf.__version__}"
    )

    with tempfile.TemporaryDirectory() as root:
        pipe = sf.Pipeline(sf.DatasetStore(root), sf.PipelineConfig(window=None))
        pipe.run(first, progress=False)  # stores the drift reference (and warms up)
        t0 = time.perf_counter()
        run = pipe.run(later, progress=False)
        ours = time.perf_counter() - t0
    print(f"\npipeline.run (second run, drift against the stored reference): {ours:8.2f} s")
    for step, seconds in run.timings.items():
        print(f"  {step:10} {seconds:8.2f} s")
    print(f"  peak RSS so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")

    sensors = frame["sensor_id"].unique().sort().to_list()[: args.loop_sensors]
    with tempfile.TemporaryDirectory() as root:
        store = sf.DatasetStore(root)
        loop_one_sensor(later, first, sensors[0], store)  # warm-up
        t0 = time.perf_counter()
        for sensor in sensors:
            loop_one_sensor(later, first, sensor, store)
        per_sensor = (time.perf_counter() - t0) / len(sensors)
    loop = per_sensor * args.sensors
    print(
        f"\nsensor-by-sensor loop: {per_sensor * 1e3:8.1f} ms per sensor, "
        f"{loop:8.1f} s for {args.sensors} (extrapolated from {len(sensors)})"
    )
    print(f"ratio loop / pipeline: {loop / ours:6.1f}x")


if __name__ == "__main__":
    main()
