"""
Quality assessment: per-row flags, per-sensor reports, fault events and status grades.

* :func:`assess_quality` runs every check on every sensor in one lazy query and returns
  a :class:`QualityReport` (``.table``, ``report["P-1"]``, ``.events``).
* :func:`flag_quality` returns the rows with one boolean flag column per check.
* The checks themselves are public expressions (:func:`zscore_outlier`,
  :func:`flatline`, :func:`noise_level` ...) for use in a user's own ``with_columns``,
  ``over("sensor_id")`` or ``group_by().agg``.

The exact definitions are in ``docs/definitions.md`` ("Quality"); thresholds live in
:class:`QualityConfig` and are echoed in the report's issue texts.
"""

from __future__ import annotations

from sensorframe.quality import checks
from sensorframe.quality.checks import *  # noqa: F403  (the checks: checks.__all__)
from sensorframe.quality.config import QualityConfig, QualityStatus, StatusThresholds
from sensorframe.quality.contextual import hampel_outlier
from sensorframe.quality.limits import gross_range, spike
from sensorframe.quality.report import (
    CHECKS,
    QualityReport,
    SensorQuality,
    assess_quality,
    flag_quality,
)
from sensorframe.quality.shape import interpolated, level_shift, trend

__all__ = [
    "CHECKS",
    "QualityConfig",
    "QualityReport",
    "QualityStatus",
    "SensorQuality",
    "StatusThresholds",
    "assess_quality",
    "flag_quality",
]
__all__ += checks.__all__
# limits.rate_of_change stays in its module: sf.features.rate_of_change has the name
__all__ += ["gross_range", "hampel_outlier", "interpolated", "level_shift", "spike", "trend"]
