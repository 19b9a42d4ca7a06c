"""
Feature exploration: what each feature family costs and earns on the user's own data.

:func:`make_target` builds a leak-free target from each sensor's readings ahead;
:func:`explore_features` measures every family of a :class:`~sensorframe.FeatureConfig`
(time and peak memory per million rows), how complete and redundant each feature is
and, with a target, how relevant (a univariate test per feature, adjusted across
features for the false discovery rate), and suggests the features worth computing.
"""

from __future__ import annotations

from sensorframe.explore.exploration import Exploration, explore_features
from sensorframe.explore.target import make_target

__all__ = ["Exploration", "explore_features", "make_target"]
