"""The original ``FeatureEngineer`` and its ``FeatureConfig``, over the library's features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import sensorframe as sf
from sensorframe._utils import checked_config
from sensorframe.compat._common import attributes, collect, sensor_frame
from sensorframe.errors import UnknownFeatureError

__all__ = ["ALIASES", "FeatureConfig", "FeatureEngineer"]

ALIASES = {"raw": "value", "ewm": "ewm_mean"}
"""The original's feature names that sensorframe spells differently (and ``fft_component_k``)."""


_SAME_NAMES = ("rolling_windows", "rolling_stats", "ewm_span", "volatility_windows", "timezone")
_LIBRARY_FIELDS = {
    **{name: name for name in _SAME_NAMES},
    "lags": "lag_periods",
    "diffs": "diff_periods",
    **dict.fromkeys(("pct_change", "rate_of_change", "acceleration"), "include_differences"),
    "expanding": "include_statistical",
    "spectral": "include_fft",
    "spectral_window": "fft_window",
    "spectral_top_k": "fft_components",
    "calendar": "include_time_features",
    "cyclical": "include_cyclical_encoding",
}
"""Field of :class:`sensorframe.FeatureConfig` -> attribute of :class:`FeatureConfig`."""


@dataclass(frozen=True, kw_only=True)
class FeatureConfig:
    """
    The original feature settings; :meth:`to_sensorframe` gives the library's config.

    Parameters
    ----------
    rolling_windows
        Row counts of the rolling windows (``rolling_{w}_{stat}``).
    rolling_stats
        Statistics of each window (mean, std, min, max, median, range).
    lag_periods, diff_periods
        Periods of ``lag_{k}`` and ``diff_{k}``.
    include_differences
        ``pct_change``, ``rate_of_change`` and ``acceleration``.
    ewm_span
        Span of ``ewm_mean`` (alias ``ewm``) and ``ewm_std``; None turns them off.
    include_statistical
        ``expanding_mean`` and ``expanding_std``.
    volatility_windows
        Windows of ``volatility_{w}``.
    include_fft, fft_window, fft_components
        Spectral features over the trailing `fft_window` readings: ``fft_freq_{k}``,
        ``fft_amp_{k}`` (alias ``fft_component_{k}``), ``spectral_energy`` and
        ``spectral_entropy`` for the `fft_components` strongest bins.
    include_time_features, include_cyclical_encoding, timezone
        Calendar features and their sin/cos encoding, in `timezone`.

    Examples
    --------
    >>> from sensorframe.compat import FeatureConfig
    >>> cfg = FeatureConfig(rolling_windows=[6], lag_periods=[1], include_fft=False)
    >>> cfg.to_sensorframe().lags
    (1,)
    """

    rolling_windows: Sequence[int] = (3, 6, 12, 24)
    rolling_stats: Sequence[str] = ("mean", "std", "min", "max", "median", "range")
    lag_periods: Sequence[int] = (1, 2, 3, 6, 12)
    diff_periods: Sequence[int] = (1, 2)
    include_differences: bool = True
    ewm_span: float | None = 12
    include_statistical: bool = True
    volatility_windows: Sequence[int] = (6, 12, 24)
    include_fft: bool = True
    fft_window: int = 64
    fft_components: int = 3
    include_time_features: bool = True
    include_cyclical_encoding: bool = True
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        self.to_sensorframe()  # validates every field, naming it, as a ConfigError

    def to_sensorframe(self) -> sf.FeatureConfig:
        """Return the equivalent :class:`sensorframe.FeatureConfig`, with every field given."""
        return sf.FeatureConfig(**attributes(self, _LIBRARY_FIELDS))


class FeatureEngineer:
    """
    The original feature engineer: one sensor's features as a dict of arrays.

    Every feature is computed by :func:`sensorframe.engineer_features`, so it differs
    from the original where the original was wrong: lags and windows without enough
    history are NaN, never zero-filled; FFT features come from the trailing
    ``fft_window`` readings of each row, not from the whole series broadcast to every
    row (which leaked the future into the past); an unknown name in
    :meth:`create_feature_matrix` raises instead of giving zeros. Readings without
    timestamps get the regular index of :mod:`sensorframe.compat` (hourly from
    1970-01-01 UTC), which is what the calendar features then describe.

    Parameters
    ----------
    config
        The feature settings; :class:`FeatureConfig` defaults when None.

    Examples
    --------
    >>> from sensorframe.compat import FeatureConfig, FeatureEngineer
    >>> cfg = FeatureConfig(rolling_windows=[3], lag_periods=[1], include_fft=False)
    >>> feats = FeatureEngineer(config=cfg).engineer_features(data=[1.0, 2.0, 4.0], sensor_id="S")
    >>> feats["raw"].tolist(), feats["lag_1"].tolist(), feats["rolling_3_mean"].round(3).tolist()
    ([1.0, 2.0, 4.0], [nan, 1.0, 2.0], [nan, nan, 2.333])
    """

    def __init__(self, config: FeatureConfig | None = None) -> None:
        self.config = checked_config(config, FeatureConfig, name="sensorframe.compat.FeatureConfig")

    def engineer_features(
        self, data: Any, timestamps: Any = None, sensor_id: str = "sensor"
    ) -> dict[str, np.ndarray]:
        """
        Compute every configured feature of one sensor.

        Returns
        -------
        dict of str to ndarray
            One float array per feature, in time order, NaN where the history is
            absent: ``raw`` (the readings), then every column of
            :func:`sensorframe.feature_names` under its sensorframe name, plus the
            original's aliases ``ewm`` and ``fft_component_{k}``.

        Examples
        --------
        >>> from sensorframe.compat import FeatureEngineer
        >>> feats = FeatureEngineer().engineer_features(np.arange(100.0), sensor_id="S")
        >>> len(feats) > 60, feats["fft_component_1"].shape
        (True, (100,))
        """
        cfg = self.config.to_sensorframe()
        frame = sensor_frame(data, timestamps, sensor_id)
        table = collect(sf.engineer_features(frame, cfg)).sort("timestamp")
        features = {"raw": table["value"].to_numpy().astype(np.float64)}
        for name in sf.feature_names(cfg):
            features[name] = table[name].cast(float).to_numpy()
        for alias, name in ALIASES.items():
            if name in features:
                features[alias] = features[name]
        for k in range(1, self.config.fft_components + 1):
            if f"fft_amp_{k}" in features:
                features[f"fft_component_{k}"] = features[f"fft_amp_{k}"]
        return features

    def create_feature_matrix(
        self, features: dict[str, np.ndarray], selected_features: Sequence[str] | None = None
    ) -> np.ndarray:
        """
        Stack the chosen features as columns of an ``(n_samples, n_features)`` matrix.

        Parameters
        ----------
        features
            The dict of :meth:`engineer_features`.
        selected_features
            Names, in column order; every feature when None.

        Raises
        ------
        UnknownFeatureError
            If a name is not among the features (the original gave a column of zeros).

        Examples
        --------
        >>> from sensorframe.compat import FeatureEngineer
        >>> eng = FeatureEngineer()
        >>> feats = eng.engineer_features(np.arange(30.0), sensor_id="S")
        >>> eng.create_feature_matrix(feats, ["raw", "lag_6"]).shape
        (30, 2)
        >>> eng.create_feature_matrix(feats, ["lag_7"])
        Traceback (most recent call last):
        ...
        sensorframe.errors.UnknownFeatureError: unknown feature(s) ['lag_7']; available: ...
        """
        names = list(features) if selected_features is None else list(selected_features)
        unknown = [n for n in names if n not in features]
        if unknown:
            msg = f"unknown feature(s) {unknown}; available: {sorted(features)}"
            raise UnknownFeatureError(msg)
        return np.column_stack([features[n] for n in names])
