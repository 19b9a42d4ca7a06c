"""
The same jobs on Spark (local[2]) and on the local library: features, quality, a pipeline.

The jobs, on ``--sensors x --points`` rows read from one Parquet file: the 16-column
feature set of ``bench_features.py`` (rolling mean/std/min/max over 6, 12, 24 rows,
lags 1-3, diff 1) written as Parquet (``sensorframe.spark.features(...).write.parquet``
vs ``engineer_features(...).sink_parquet``), the quality report
(``sensorframe.spark.quality`` vs ``assess_quality``) and a pipeline run of quality,
normalize, the same features and version (``sensorframe.spark.run_pipeline`` vs
``Pipeline.run``, each committing to its own store). A first row, ``load only``,
times what every Spark job pays before the library runs (the shuffle into buckets of
whole sensors, Arrow to the Python workers and each bucket's sort) against reading
and sorting the file locally. Each is timed once after a
warm-up on a small slice (Spark's session start is not counted); the script checks
that both give identical features, quality tables and versions (content hashes),
prints the time of each job and the ratio Spark / local, and removes what it wrote.

Usage: ``python benchmarks/bench_spark.py [--sensors 1000 --points 10000]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import polars as pl
from bench_features import WINDOWS16, make_data
from polars.testing import assert_frame_equal

import sensorframe as sf
import sensorframe.spark as sfs
from sensorframe.spark._arrow import polars_frame
from sensorframe.spark._buckets import map_buckets

KEYS = ["sensor_id", "timestamp", "value"]


def config() -> sf.FeatureConfig:
    return sf.FeatureConfig(
        rolling_windows=list(WINDOWS16),
        rolling_stats=["mean", "std", "min", "max"],
        lags=[1, 2, 3],
        diffs=[1],
    )


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--points", type=int, default=10_000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
    folder = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    spark = None
    try:
        make_data(folder, args.sensors, args.points)
        source = str(folder / "sorted.parquet")  # out-of-order input is graded locally
        cfg = config()
        steps = ("quality", "normalize", "features", "version")
        pipe_cfg = sf.PipelineConfig(steps=steps, features=cfg)
        spark = sfs.local_session("local[2]", conf={"spark.driver.memory": "8g"})
        df = spark.read.parquet(source)
        sfs.quality(df.limit(10_000))  # warm-up: workers start, imports load

        reports: dict[str, sf.QualityReport | None] = {}
        hashes: dict[str, dict[str, str]] = {}
        stores = {k: sf.DatasetStore(str(folder / f"lake_{k}")) for k in ("spark", "local")}

        def spark_load() -> None:  # the shuffle and Arrow transfer of every job, no library
            one = pl.Schema({"rows": pl.Int64})
            count = lambda rows: pl.DataFrame({"rows": [rows.height]}, schema=one)  # noqa: E731
            map_buckets(df, count, one, buckets=None, engine="auto").collect()

        jobs: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
            "load only (no-op)": (spark_load, lambda: pl.read_parquet(source).sort(KEYS).clear()),
            "features (16)": (
                lambda: sfs.features(df, cfg).write.parquet(str(folder / "spark_out")),
                lambda: sf.engineer_features(source, cfg).sink_parquet(folder / "local.parquet"),
            ),
            "quality": (
                lambda: reports.__setitem__("spark", sfs.quality(df)),
                lambda: reports.__setitem__("local", sf.assess_quality(source)),
            ),
            "pipeline": (
                lambda: hashes.__setitem__(
                    "spark",
                    {
                        k: v.data_hash
                        for k, v in sfs.run_pipeline(df, stores["spark"], pipe_cfg).versions.items()
                    },
                ),
                lambda: hashes.__setitem__(
                    "local",
                    {
                        k: v.data_hash
                        for k, v in sf.Pipeline(stores["local"], pipe_cfg)
                        .run(source, progress=False)
                        .versions.items()
                    },
                ),
            ),
        }
        times = {name: (timed(on_spark), timed(local)) for name, (on_spark, local) in jobs.items()}
        rows = args.sensors * args.points
        print(
            f"rows {rows:,}, sensors {args.sensors:,}, polars {pl.__version__}, "
            f"Spark {spark.version} local[2]"
        )
        print(f"{'job':24} {'Spark s':>9} {'local s':>9} {'Spark/local':>12}")
        for name, (t_spark, t_local) in times.items():
            print(f"{name:24} {t_spark:9.1f} {t_local:9.1f} {t_spark / t_local:11.2f}x")
        jobs_only = [t for name, t in times.items() if name != "load only (no-op)"]
        t_spark, t_local = (sum(t[i] for t in jobs_only) for i in (0, 1))
        ratio = t_spark / t_local
        print(f"{'the three jobs':24} {t_spark:9.1f} {t_local:9.1f} {ratio:11.2f}x")
        local = pl.read_parquet(folder / "local.parquet")
        spark_rows = pl.read_parquet(folder / "spark_out" / "*.parquet").to_arrow()
        got = polars_frame(spark_rows, local.schema)
        assert_frame_equal(
            got.sort(KEYS, maintain_order=True),
            local.sort(KEYS, maintain_order=True),
            check_exact=True,
        )
        quality = {k: r.table for k, r in reports.items() if r is not None}
        assert_frame_equal(quality["spark"], quality["local"], check_exact=True)
        assert hashes["spark"] == hashes["local"], hashes
        print("identical results: features, quality table, pipeline versions (content hashes)")
    finally:
        if spark is not None:
            spark.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
