"""
The same job on Spark (local[2]) and on the local library: 16 features and quality.

The job: the 16-column feature set of ``bench_features.py`` (rolling mean/std/min/max
over 6, 12, 24 rows, lags 1-3, diff 1) written as Parquet, and the quality report,
on ``--sensors x --points`` rows read from one Parquet file. Spark runs
``sensorframe.spark.features(...).write.parquet`` and ``sensorframe.spark.quality``;
the local run ``engineer_features(...).sink_parquet`` and ``assess_quality``. Each is
timed once after a warm-up on a small slice (Spark's session start is not counted);
the script checks that both give identical features and quality tables, prints the
times and the ratio Spark / local, and removes what it wrote.

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
    try:
        make_data(folder, args.sensors, args.points)
        source = str(folder / "sorted.parquet")  # out-of-order input is graded locally
        cfg = config()
        spark = sfs.local_session("local[2]", conf={"spark.driver.memory": "8g"})
        df = spark.read.parquet(source)
        sfs.quality(df.limit(10_000))  # warm-up: workers start, imports load

        reports: dict[str, sf.QualityReport] = {}

        def spark_job() -> None:
            sfs.features(df, cfg).write.mode("overwrite").parquet(str(folder / "spark_out"))
            reports["spark"] = sfs.quality(df)

        def local_job() -> None:
            sf.engineer_features(source, cfg).sink_parquet(folder / "local.parquet")
            reports["local"] = sf.assess_quality(source)

        t_spark, t_local = timed(spark_job), timed(local_job)
        rows = args.sensors * args.points
        print(
            f"rows {rows:,}, sensors {args.sensors:,}, polars {pl.__version__}, "
            f"Spark {spark.version} local[2]; features (16) + quality"
        )
        print(f"{'job':24} {'Spark s':>9} {'local s':>9} {'Spark/local':>12}")
        print(f"{'features + quality':24} {t_spark:9.1f} {t_local:9.1f} {t_spark / t_local:11.2f}x")
        local = pl.read_parquet(folder / "local.parquet")
        spark_rows = pl.read_parquet(folder / "spark_out" / "*.parquet").to_arrow()
        got = polars_frame(spark_rows, local.schema)
        assert_frame_equal(
            got.sort(KEYS, maintain_order=True),
            local.sort(KEYS, maintain_order=True),
            check_exact=True,
        )
        assert_frame_equal(reports["spark"].table, reports["local"].table, check_exact=True)
        print("identical results: features and quality table")
        spark.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
