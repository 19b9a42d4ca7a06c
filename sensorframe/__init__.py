"""
sensorframe: trustworthy, versioned, model-ready sensor telemetry.

Quality checks, training-data preparation, feature engineering and drift detection for
many sensors at once, as Polars expressions over one long frame, with every dataset
version a Delta Lake commit.

Examples
--------
>>> import sensorframe as sf
>>> data = sf.datasets.synthetic(n_sensors=2, n_points=500, seed=1)
>>> sf.scan(data.frame).collect().height > 0
True
"""

from importlib import metadata as _metadata

from sensorframe import datasets, errors
from sensorframe.errors import (
    CommitConflictError,
    ConfigError,
    DatasetNotFoundError,
    EmptyFrameError,
    IntegrityError,
    InvalidParameterError,
    NotFittedError,
    PipelineError,
    SensorFrameError,
    SensorFrameWarning,
    SensorSchemaError,
    SourceError,
    TagNotFoundError,
    UnknownFeatureError,
    UnknownSensorError,
    UnstableWarning,
    VersioningError,
    VersionNotFoundError,
    ZeroScaleWarning,
)
from sensorframe.frame import Columns, melt_wide, scan
from sensorframe.prepare import content_hash

try:
    __version__ = _metadata.version("sensorframe")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    # data model
    "Columns",
    "melt_wide",
    "scan",
    # preparation
    "content_hash",
    # modules
    "datasets",
    "errors",
    # errors and warnings
    "CommitConflictError",
    "ConfigError",
    "DatasetNotFoundError",
    "EmptyFrameError",
    "IntegrityError",
    "InvalidParameterError",
    "NotFittedError",
    "PipelineError",
    "SensorFrameError",
    "SensorFrameWarning",
    "SensorSchemaError",
    "SourceError",
    "TagNotFoundError",
    "UnknownFeatureError",
    "UnknownSensorError",
    "UnstableWarning",
    "VersionNotFoundError",
    "VersioningError",
    "ZeroScaleWarning",
    "__version__",
]
