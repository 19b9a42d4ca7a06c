"""
sensorframe on Spark: quality, features, drift and pipeline runs on Spark DataFrames.

Install with ``pip install 'sensorframe[spark]'``. Each function buckets the rows by a
stable hash of ``sensor_id`` and runs the local library on every bucket of whole
sensors on a worker (``groupBy(bucket).applyInArrow`` on Spark >= 4,
``applyInPandas`` on Spark 3.5, or as ``engine=`` says), so results equal the local
library's; cross-sensor steps (Benjamini-Hochberg for drift) run on the driver.
Delta tables are read and committed through deltalake and the
:class:`~sensorframe.DatasetStore` (:func:`read_delta`, :func:`run_pipeline`), so a
Spark job and a local job see the same versions and lineage.

* :func:`flag_quality`, :func:`features`: Spark DataFrames of rows, as the local
  :func:`sensorframe.flag_quality` and :func:`sensorframe.engineer_features`.
* :func:`quality`, :func:`drift`: a :class:`~sensorframe.QualityReport` and a
  :class:`~sensorframe.DriftReport` on the driver.
* :func:`run_pipeline`: every step of a pipeline run (quality, normalize, features,
  drift) on the workers, one commit per dataset and the run records from the driver,
  as :meth:`sensorframe.Pipeline.run` writes them; :func:`read_delta` and
  :func:`read_dataset` read a version's files as deltalake lists them.
* :func:`local_session`: a SparkSession whose workers run this Python.

Examples
--------
>>> import sensorframe.spark as sfs
>>> spark = sfs.local_session()  # doctest: +SKIP
>>> df = spark.read.parquet("readings.parquet")  # doctest: +SKIP
>>> sfs.quality(df)  # doctest: +SKIP
QualityReport(1000 sensors: 990 excellent, 10 poor)
"""

from __future__ import annotations

import warnings
from typing import Any

from sensorframe.pipeline import PipelineRun
from sensorframe.spark._buckets import Engine
from sensorframe.spark.delta import read_dataset, read_delta
from sensorframe.spark.drift import drift
from sensorframe.spark.features import features
from sensorframe.spark.pipeline import run_pipeline
from sensorframe.spark.quality import flag_quality, quality
from sensorframe.spark.session import local_session

__all__ = [
    "Engine",
    "drift",
    "features",
    "flag_quality",
    "local_session",
    "quality",
    "read_dataset",
    "read_delta",
    "run_pipeline",
]


def __getattr__(name: str) -> Any:
    # `SparkRun` (what run_pipeline returned before it wrote run records) is a PipelineRun now
    if name == "SparkRun":
        msg = "`sensorframe.spark.SparkRun` is deprecated: run_pipeline returns a PipelineRun"
        warnings.warn(msg, DeprecationWarning, stacklevel=2)
        return PipelineRun
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
