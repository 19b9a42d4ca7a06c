"""
Feature engineering for many sensors at once, with trailing windows only.

Rolling, lag, difference, EWM, expanding, volatility, spectral and calendar features.

:func:`engineer_features` builds the features a :class:`FeatureConfig` opts into
(:meth:`FeatureConfig.default` is the set of 60), or those named by ``features=``, for
all sensors or those of ``sensors=``, sorting the rows by (sensor, time) itself. Each
feature is also a plain expression function for users' own queries: these run over the
rows in the frame's order, so apply ``.over("sensor_id")`` on a frame sorted by time
within each sensor.
"""

from __future__ import annotations

from sensorframe.features.calendar import calendar_features, cyclical_features
from sensorframe.features.config import FeatureConfig, RollingStat, feature_names
from sensorframe.features.engine import engineer_features
from sensorframe.features.matrix import feature_matrix
from sensorframe.features.rolling import rolling_stat
from sensorframe.features.spectral import (
    spectral_features,
    spectral_summary,
    spectral_window_features,
)
from sensorframe.features.state import (
    FeatureContext,
    FeatureState,
    continue_features,
    feature_context,
)
from sensorframe.features.temporal import (
    acceleration,
    diff,
    ewm_mean,
    ewm_std,
    expanding_mean,
    expanding_std,
    lag,
    pct_change,
    rate_of_change,
    volatility,
)

__all__ = [
    "FeatureConfig",
    "FeatureContext",
    "FeatureState",
    "RollingStat",
    "acceleration",
    "calendar_features",
    "continue_features",
    "cyclical_features",
    "diff",
    "engineer_features",
    "ewm_mean",
    "ewm_std",
    "expanding_mean",
    "expanding_std",
    "feature_context",
    "feature_matrix",
    "feature_names",
    "lag",
    "pct_change",
    "rate_of_change",
    "rolling_stat",
    "spectral_features",
    "spectral_summary",
    "spectral_window_features",
    "volatility",
]
