"""The original ``DataProcessingService``: quality, normalization and training data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

import sensorframe as sf
from sensorframe.compat._common import attributes, collect, sensor_frame
from sensorframe.errors import InvalidTypeError, NotFittedError
from sensorframe.quality import QualityStatus

__all__ = [
    "DataProcessingService",
    "DataQualityReport",
    "DataQualityStatus",
    "NormalizationMethod",
    "quality_record",
]


class NormalizationMethod(StrEnum):
    """
    How :class:`DataProcessingService` scales a sensor (see :class:`sensorframe.Normalizer`).

    Examples
    --------
    >>> from sensorframe.compat import NormalizationMethod
    >>> NormalizationMethod.ROBUST.value
    'robust'
    """

    ZSCORE = "zscore"
    MINMAX = "minmax"
    ROBUST = "robust"
    NONE = "none"


DataQualityStatus = QualityStatus
"""The original design's quality grade: sensorframe's own ordered enum (lowercase values)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DataQualityReport:
    """
    The original quality report of one sensor, taken from :func:`sensorframe.assess_quality`.

    ``constant_periods`` counts flat-line runs; ``noise_level`` is sensorframe's robust
    noise estimate; ``details`` is sensorframe's whole record
    (:class:`sensorframe.SensorQuality`).

    Examples
    --------
    >>> from sensorframe.compat import DataProcessingService
    >>> report = DataProcessingService().assess_data_quality([1.0, np.nan, 2.0], sensor_id="S")
    >>> report.missing_count, report.total_samples
    (1, 3)
    """

    sensor_id: str
    status: DataQualityStatus
    total_samples: int
    missing_count: int
    outlier_count: int
    constant_periods: int
    noise_level: float | None
    drift_detected: bool
    issues: list[str]
    recommendations: list[str]
    details: sf.SensorQuality


_REPORT_FIELDS = {
    **{name: name for name in ("sensor_id", "status", "missing_count", "outlier_count")},
    "total_samples": "rows",
    "constant_periods": "flat_runs",
    "noise_level": "noise_std",
    "drift_detected": "drift_flag",
}
"""Field of :class:`DataQualityReport` -> attribute of :class:`sensorframe.SensorQuality`."""


def quality_record(report: Any, sensor_id: str) -> DataQualityReport:
    """Return the compat report of `sensor_id` in a :class:`sensorframe.QualityReport`."""
    rec = report[sensor_id]
    return DataQualityReport(
        **attributes(rec, _REPORT_FIELDS),
        issues=list(rec.issues),
        recommendations=list(rec.recommendations),
        details=rec,
    )


class DataProcessingService:
    """
    The original processing service: quality reports, normalization and training splits.

    Data is one sensor's readings: a NumPy array (or list) of values with optional
    ``timestamps``, or anything :func:`sensorframe.scan` reads holding that sensor.
    Readings without timestamps get a regular index, one an hour from 1970-01-01 UTC
    (:data:`sensorframe.compat._common.INDEX_START`); NaN and inf count as missing.

    Parameters
    ----------
    cache_dir
        Where fitted normalization parameters are saved as JSON
        (``<cache_dir>/<sensor_id>_normalization.json``, :meth:`sensorframe.Normalizer.save`);
        None keeps them in memory only.
    default_normalization
        The method of :meth:`prepare_training_data` when it is not given.
    quality_config
        Thresholds of the quality report (:class:`sensorframe.QualityConfig`).

    Examples
    --------
    >>> from sensorframe.compat import DataProcessingService, NormalizationMethod
    >>> service = DataProcessingService(default_normalization=NormalizationMethod.MINMAX)
    >>> prepared = service.prepare_training_data(np.arange(11.0), sensor_id="S")
    >>> prepared["train_data"].tolist(), len(prepared["test_data"])
    ([0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0], 1)
    """

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        default_normalization: NormalizationMethod = NormalizationMethod.ZSCORE,
        quality_config: sf.QualityConfig | None = None,
    ) -> None:
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.default_normalization = NormalizationMethod(default_normalization)
        self.quality_config = quality_config
        self.normalizers: dict[str, sf.Normalizer] = {}

    def assess_data_quality(
        self, data: Any, timestamps: Any = None, sensor_id: str = "sensor"
    ) -> DataQualityReport:
        """
        Grade one sensor's readings with :func:`sensorframe.assess_quality`.

        Returns
        -------
        DataQualityReport
            Counts, status, issues and recommendations of the sensor.

        Examples
        --------
        >>> from sensorframe.compat import DataProcessingService
        >>> DataProcessingService().assess_data_quality(np.ones(3), sensor_id="S").status.value
        'excellent'
        """
        frame = sensor_frame(data, timestamps, sensor_id)
        return quality_record(sf.assess_quality(frame, self.quality_config), sensor_id)

    def prepare_training_data(
        self,
        data: Any,
        sensor_id: str = "sensor",
        split_ratio: tuple[float, float, float] = (0.7, 0.15, 0.15),
        *,
        normalize: bool = True,
        assess_quality: bool = True,
        timestamps: Any = None,
        normalization_method: NormalizationMethod | None = None,
    ) -> dict[str, Any]:
        """
        Split in time order (:func:`sensorframe.split`), then fit the scaling on train only.

        Returns
        -------
        dict
            ``train_data``, ``val_data``, ``test_data`` (float arrays in time order, NaN
            where a reading is missing) and their ``train_timestamps`` ...;
            ``norm_params`` (``method``, ``center``, ``scale``; ``none`` when
            ``normalize`` is False), ``normalizer``, ``data_hash``
            (:func:`sensorframe.content_hash` of the input), ``quality_report`` (None
            unless ``assess_quality``) and ``split_ratio``.

        Examples
        --------
        >>> from sensorframe.compat import DataProcessingService
        >>> out = DataProcessingService().prepare_training_data(np.arange(20.0), sensor_id="S")
        >>> len(out["train_data"]), out["norm_params"]["center"]
        (14, 6.5)
        """
        frame = collect(sensor_frame(data, timestamps, sensor_id))
        method = NormalizationMethod(normalization_method or self.default_normalization)
        if not normalize:
            method = NormalizationMethod.NONE
        parts = sf.split(frame, ratios=split_ratio)
        normalizer = sf.Normalizer(method.value).fit(parts.train)
        self.normalizers[sensor_id] = normalizer
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            normalizer.save(self._cache_file(sensor_id))
        center, scale = normalizer.params.select("center", "scale").row(0)
        out: dict[str, Any] = {
            "norm_params": {"method": method.value, "center": center, "scale": scale},
            "normalizer": normalizer,
            "data_hash": sf.content_hash(frame),
            "split_ratio": tuple(split_ratio),
            "quality_report": (
                quality_record(sf.assess_quality(frame, self.quality_config), sensor_id)
                if assess_quality
                else None
            ),
        }
        for name, part in zip(("train", "val", "test"), parts, strict=True):
            scaled = collect(normalizer.transform(part.lazy())).sort("timestamp")
            out[f"{name}_data"] = scaled["value"].to_numpy().astype(np.float64)
            out[f"{name}_timestamps"] = scaled["timestamp"].to_numpy()
        return out

    def load_normalizer(self, sensor_id: str) -> sf.Normalizer:
        """
        Return the normalizer last fitted for `sensor_id`, from memory or the cache directory.

        Raises
        ------
        NotFittedError
            If none was fitted here nor saved in ``cache_dir``.

        Examples
        --------
        >>> from sensorframe.compat import DataProcessingService
        >>> service = DataProcessingService()
        >>> _ = service.prepare_training_data(np.arange(10.0), sensor_id="S")
        >>> service.load_normalizer("S").method
        'zscore'
        """
        if not isinstance(sensor_id, str):
            msg = f"`sensor_id` must be a string, got {type(sensor_id).__name__}"
            raise InvalidTypeError(msg)
        if sensor_id in self.normalizers:
            return self.normalizers[sensor_id]
        if self.cache_dir is not None and self._cache_file(sensor_id).is_file():
            return sf.Normalizer.load(self._cache_file(sensor_id))
        msg = f"no normalization parameters for sensor {sensor_id!r} (cache: {self.cache_dir})"
        raise NotFittedError(msg)

    def _cache_file(self, sensor_id: str) -> Path:
        assert self.cache_dir is not None
        return self.cache_dir / f"{sensor_id}_normalization.json"
