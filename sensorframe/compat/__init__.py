"""
The original design's five classes, as thin adapters over sensorframe.

Code written against the per-sensor NumPy/DVC system sensorframe replaces runs
unchanged apart from its imports: ``DataProcessingService``, ``FeatureEngineer``,
``DVCManager``, ``DataDriftDetector`` and ``DataPipeline``, with the enums and configs
their examples use. Each adapter turns one sensor's array into a sensor frame, calls
the library and shapes the answer as the original did. Where the original was wrong
(zero-filled lags, FFT features of the whole series, a drift severity that flags every
large sample, unknown feature names giving zeros), the adapters keep sensorframe's
behaviour and their docstrings say so. These names live here only: they are not
re-exported by ``sensorframe``.

Readings without timestamps get a regular index: one reading per hour from
1970-01-01 00:00 UTC.

Examples
--------
>>> from sensorframe.compat import DataProcessingService
>>> values = np.random.default_rng(0).normal(size=200)
>>> report = DataProcessingService().assess_data_quality(values, sensor_id="S")
>>> report.status.value, report.missing_count
('excellent', 0)
"""

from sensorframe.compat._drift import DataDriftDetector, DriftConfig, DriftReport, DriftSeverity
from sensorframe.compat._dvc import DVCManager, DVCVersion
from sensorframe.compat._features import FeatureConfig, FeatureEngineer
from sensorframe.compat._pipeline import DataPipeline
from sensorframe.compat._processing import (
    DataProcessingService,
    DataQualityReport,
    DataQualityStatus,
    NormalizationMethod,
)

__all__ = [
    "DVCManager",
    "DVCVersion",
    "DataDriftDetector",
    "DataPipeline",
    "DataProcessingService",
    "DataQualityReport",
    "DataQualityStatus",
    "DriftConfig",
    "DriftReport",
    "DriftSeverity",
    "FeatureConfig",
    "FeatureEngineer",
    "NormalizationMethod",
]
