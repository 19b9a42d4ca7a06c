"""The original ``DataDriftDetector``, its ``DriftConfig`` and report, over the library's drift."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import sensorframe as sf
from sensorframe._utils import checked_config
from sensorframe.compat._common import sensor_frame
from sensorframe.drift import DriftSeverity, SensorDrift
from sensorframe.errors import ConfigError, UnknownSensorError

__all__ = ["DataDriftDetector", "DriftConfig", "DriftReport", "DriftSeverity", "drift_record"]


_MODERATE = 1
"""Index of the MODERATE rung in sensorframe's four-rung ladders (LOW, MODERATE, HIGH, CRITICAL)."""


def _ladder(default: tuple[float, ...], threshold: float, name: str) -> tuple[float, ...]:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not threshold > 0:
        msg = f"`{name}` must be a positive number, got {threshold!r}"
        raise ConfigError(msg)
    factor = threshold / default[_MODERATE]
    return tuple(rung * factor for rung in default)


@dataclass(frozen=True, kw_only=True, slots=True)
class DriftConfig:
    """
    The original drift settings; :meth:`to_sensorframe` gives the library's config.

    sensorframe grades each metric on a ladder of four rungs (LOW, MODERATE, HIGH,
    CRITICAL, see :class:`sensorframe.DriftConfig`). Each threshold here sets the
    MODERATE rung of its metric's ladder, and the other rungs keep the library's
    proportions: ``psi_threshold=0.2`` gives PSI rungs 0.1 / 0.2 / 0.5 / 2.0. The
    defaults are the library's.

    Parameters
    ----------
    psi_threshold
        Population stability index (in excess of its no-drift expectation).
    jensen_shannon_threshold
        Jensen-Shannon divergence, in bits (``report.metrics["js_divergence"]``).
    mean_shift_threshold
        Mean shift in reference standard deviations.
    significance_level
        ``alpha`` of the tests behind ``drift_detected``.
    n_bins
        Bins (at reference quantiles) of PSI, Jensen-Shannon and chi-square.

    Examples
    --------
    >>> from sensorframe.compat import DriftConfig
    >>> DriftConfig(psi_threshold=0.2).to_sensorframe().psi_thresholds
    (0.1, 0.2, 0.5, 2.0)
    """

    psi_threshold: float = 0.1
    jensen_shannon_threshold: float = 0.02
    mean_shift_threshold: float = 0.5
    significance_level: float = 0.05
    n_bins: int = 10

    def __post_init__(self) -> None:
        self.to_sensorframe()  # validates every field, naming it, as a ConfigError

    def to_sensorframe(self) -> sf.DriftConfig:
        """Return the equivalent :class:`sensorframe.DriftConfig`."""
        base = sf.DriftConfig()
        return sf.DriftConfig(
            alpha=self.significance_level,
            n_bins=self.n_bins,
            psi_thresholds=_ladder(base.psi_thresholds, self.psi_threshold, "psi_threshold"),  # type: ignore[arg-type]
            js_thresholds=_ladder(  # type: ignore[arg-type]
                base.js_thresholds, self.jensen_shannon_threshold, "jensen_shannon_threshold"
            ),
            mean_shift_thresholds=_ladder(  # type: ignore[arg-type]
                base.mean_shift_thresholds, self.mean_shift_threshold, "mean_shift_threshold"
            ),
        )


@dataclass(frozen=True, kw_only=True, slots=True, repr=False)
class DriftReport(SensorDrift):
    """
    The original drift report of one sensor: sensorframe's record and ``details``.

    Its fields are those of :class:`sensorframe.drift.SensorDrift`, which
    ``details`` is whole. ``severity`` comes from effect sizes on the ladders of
    :class:`DriftConfig`, and ``drift_detected`` also needs the tests to be
    significant. The original took the severity from the mean of ``1 - p`` over its
    tests, which flags nearly every sensor once samples are large; this one does
    not. ``severity`` and ``drift_detected`` are None when ``status`` says the
    sensor could not be assessed (too few, constant or all-missing readings), never
    a silent "no drift".

    Examples
    --------
    >>> from sensorframe.compat import DataDriftDetector
    >>> rng = np.random.default_rng(0)
    >>> det = DataDriftDetector().fit_reference(rng.normal(size=500), sensor_id="S")
    >>> report = det.detect_drift(rng.normal(3, 1, size=500), sensor_id="S")
    >>> report.severity.value, report.drift_detected, report.metrics["mean_shift"] > 2
    ('critical', True, True)
    """

    details: SensorDrift | None = None


def drift_record(report: Any, sensor_id: str) -> DriftReport:
    """Return the compat report of `sensor_id` in a :class:`sensorframe.DriftReport`."""
    rec = report[sensor_id]
    return DriftReport(**{f.name: getattr(rec, f.name) for f in fields(rec)}, details=rec)


class DataDriftDetector:
    """
    The original drift detector: a reference per sensor, then reports on new data.

    Parameters
    ----------
    config
        The thresholds; :class:`DriftConfig` defaults when None.

    Examples
    --------
    >>> from sensorframe.compat import DataDriftDetector
    >>> rng = np.random.default_rng(1)
    >>> det = DataDriftDetector()
    >>> _ = det.fit_reference(rng.normal(size=1000), sensor_id="S")
    >>> det.detect_drift(rng.normal(size=1000), sensor_id="S").severity.value
    'none'
    """

    def __init__(self, config: DriftConfig | None = None) -> None:
        self.config = checked_config(config, DriftConfig, name="sensorframe.compat.DriftConfig")
        self.references: dict[str, sf.DriftDetector] = {}

    def fit_reference(
        self, data: Any, sensor_id: str = "sensor", timestamps: Any = None
    ) -> DataDriftDetector:
        """
        Keep `data` as the reference distribution of `sensor_id` (replacing an older one).

        Returns
        -------
        DataDriftDetector
            ``self``.
        """
        frame = sensor_frame(data, timestamps, sensor_id)
        self.references[sensor_id] = sf.DriftDetector(self.config.to_sensorframe()).fit(frame)
        return self

    def detect_drift(
        self, current_data: Any, sensor_id: str = "sensor", current_timestamps: Any = None
    ) -> DriftReport:
        """
        Compare `current_data` with the reference of `sensor_id`.

        Raises
        ------
        UnknownSensorError
            If no reference was fitted for `sensor_id`.
        """
        if sensor_id not in self.references:
            msg = (
                f"no reference for sensor {sensor_id!r}: call fit_reference first; "
                f"known: {sorted(self.references)}"
            )
            raise UnknownSensorError(msg)
        frame = sensor_frame(current_data, current_timestamps, sensor_id)
        return drift_record(self.references[sensor_id].detect(frame), sensor_id)
