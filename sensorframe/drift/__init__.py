"""
Drift detection for many sensors at once: KS, Mann-Whitney, chi-square, PSI, JS, more.

See :func:`detect_drift` for one-off comparisons and :class:`DriftDetector` to fit a
reference profile once and compare many current windows against it.
"""

from __future__ import annotations

from sensorframe.drift.combine import combine_reports
from sensorframe.drift.config import DriftConfig, DriftSeverity
from sensorframe.drift.detector import DriftDetector, detect_drift
from sensorframe.drift.report import DriftReport, SensorDrift
from sensorframe.drift.timeline import drift_timeline

__all__ = [
    "DriftConfig",
    "DriftDetector",
    "DriftReport",
    "DriftSeverity",
    "SensorDrift",
    "combine_reports",
    "detect_drift",
    "drift_timeline",
]
