"""
sensorframe: trustworthy, versioned, model-ready sensor telemetry.

Quality checks, training-data preparation, feature engineering and drift detection for
many sensors at once, as Polars expressions over one long frame, with every dataset
version a Delta Lake commit.

Examples
--------
>>> import sensorframe as sf
>>> data = sf.datasets.synthetic(n_sensors=2, n_points=500, seed=1)
>>> sf.assess_quality(data.frame).table.height
2

Importing it also registers the ``pl.Expr.sf`` namespace (:mod:`sensorframe._namespace`):

>>> data.frame.select(pl.col("value").sf.missing().sum()).item()
9
"""

from importlib import metadata as _metadata

# importing _namespace registers the pl.Expr.sf namespace
from sensorframe import (
    _namespace,  # noqa: F401
    datasets,
    drift,
    errors,
    explore,
    features,
    prepare,
    quality,
    reporting,
    store,
)
from sensorframe.drift import (
    DriftConfig,
    DriftDetector,
    DriftReport,
    DriftSeverity,
    SensorDrift,
    detect_drift,
)
from sensorframe.drift.timeline import drift_timeline
from sensorframe.errors import (
    CommitConflictError,
    ConfigError,
    DatasetNotFoundError,
    EmptyFrameError,
    IntegrityError,
    InvalidParameterError,
    InvalidTypeError,
    NotFittedError,
    PipelineError,
    SensorFrameError,
    SensorFrameWarning,
    SensorSchemaError,
    SourceError,
    TagNotFoundError,
    UnknownFeatureError,
    UnknownSensorError,
    VersioningError,
    VersionNotFoundError,
    ZeroScaleWarning,
)
from sensorframe.explore import Exploration, explore_features, make_target
from sensorframe.features import (
    FeatureConfig,
    FeatureState,
    engineer_features,
    feature_context,
    feature_matrix,
    feature_names,
    spectral_summary,
)
from sensorframe.frame import Columns, melt_wide, scan
from sensorframe.pipeline import BatchRun, Pipeline, PipelineConfig, PipelineRun
from sensorframe.prepare import (
    Normalizer,
    Split,
    TrainingData,
    content_hash,
    prepare_training_data,
    split,
)
from sensorframe.quality import (
    QualityConfig,
    QualityReport,
    QualityStatus,
    SensorQuality,
    StatusThresholds,
    assess_quality,
    flag_quality,
)
from sensorframe.reporting import report
from sensorframe.store import DatasetStore, DatasetVersion, VacuumReport, Verification

try:
    __version__ = _metadata.version("sensorframe")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    # data model
    "Columns",
    "melt_wide",
    "scan",
    # quality
    "QualityConfig",
    "QualityReport",
    "QualityStatus",
    "SensorQuality",
    "StatusThresholds",
    "assess_quality",
    "flag_quality",
    # preparation
    "Normalizer",
    "Split",
    "TrainingData",
    "content_hash",
    "prepare_training_data",
    "split",
    # features
    "FeatureConfig",
    "FeatureState",
    "engineer_features",
    "feature_context",
    "feature_matrix",
    "feature_names",
    "spectral_summary",
    # exploration
    "Exploration",
    "explore_features",
    "make_target",
    # drift
    "DriftConfig",
    "DriftDetector",
    "DriftReport",
    "DriftSeverity",
    "SensorDrift",
    "detect_drift",
    "drift_timeline",
    # versioning
    "DatasetStore",
    "DatasetVersion",
    "VacuumReport",
    "Verification",
    # pipelines
    "BatchRun",
    "Pipeline",
    "PipelineConfig",
    "PipelineRun",
    # reports
    "report",
    # modules
    "datasets",
    "drift",
    "errors",
    "explore",
    "features",
    "prepare",
    "quality",
    "reporting",
    "store",
    # errors and warnings
    "CommitConflictError",
    "ConfigError",
    "DatasetNotFoundError",
    "EmptyFrameError",
    "IntegrityError",
    "InvalidParameterError",
    "InvalidTypeError",
    "NotFittedError",
    "PipelineError",
    "SensorFrameError",
    "SensorFrameWarning",
    "SensorSchemaError",
    "SourceError",
    "TagNotFoundError",
    "UnknownFeatureError",
    "UnknownSensorError",
    "VersionNotFoundError",
    "VersioningError",
    "ZeroScaleWarning",
    "__version__",
]


def __getattr__(name: str) -> type:
    # removed names (``sf.UnstableWarning``) resolve to a stand-in, with a warning
    return errors._removed_name(__name__, name, stacklevel=2)
