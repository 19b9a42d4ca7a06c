"""Pipeline settings: which steps run, and with which configs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import timedelta
from typing import Any, Literal, TypeAlias, get_args

from sensorframe._typing import NormalizeMethod
from sensorframe.drift import DriftConfig
from sensorframe.errors import ConfigError, InvalidTypeError
from sensorframe.features import FeatureConfig
from sensorframe.quality import QualityConfig

__all__ = ["MAX_WINDOW", "STEPS", "PipelineConfig", "Step", "check_window"]

Step: TypeAlias = Literal["quality", "normalize", "features", "drift", "version"]
STEPS: tuple[Step, ...] = get_args(Step)
MAX_WINDOW = timedelta(days=36_500)
"""Longest ``window``: 100 years (a longer one would overflow microsecond timestamps)."""


def check_window(window: object) -> None:
    """
    Raise unless ``window`` is ``None`` or a positive timedelta of at most :data:`MAX_WINDOW`.

    Examples
    --------
    >>> from sensorframe.pipeline.config import check_window
    >>> check_window(timedelta(days=-1))
    Traceback (most recent call last):
    ...
    sensorframe.errors.ConfigError: `window` must be positive and at most 36500 days ...
    """
    if window is None:
        return
    if not isinstance(window, timedelta):
        msg = f"`window` must be a timedelta or None, got {type(window).__name__}"
        raise InvalidTypeError(msg)
    if not timedelta(0) < window <= MAX_WINDOW:
        msg = (
            f"`window` must be positive and at most {MAX_WINDOW.days} days "
            f"(None for every reading), got {window}"
        )
        raise ConfigError(msg)


@dataclass(frozen=True, kw_only=True, slots=True)
class PipelineConfig:
    """
    What a :class:`Pipeline` run does, and with which settings.

    Parameters
    ----------
    steps
        Steps to run, in their fixed order; loading always happens.
    normalize
        Normalization method, fitted on the training split of each run.
    ratios
        Train / validation / test ratios; the normalizer sees only the train part.
    window
        Only readings newer than ``newest reading - window`` are used (``None``: all).
    min_readings
        A sensor with fewer finite readings in the window fails with a clear error.
    quality, features, drift
        Configs of the quality, feature and drift steps.
    raw_dataset, processed_dataset
        Names of the datasets a run commits to the store.
    abandon_after
        A run started on another host (whose process cannot be checked from here) and
        not finished is taken as abandoned once its last record is this old; set it
        above the longest run. Runs of this host are checked by their process.

    Examples
    --------
    >>> cfg = sf.PipelineConfig(steps=("quality", "version"), window=None)
    >>> cfg.normalize
    'zscore'
    """

    steps: tuple[Step, ...] = STEPS
    normalize: NormalizeMethod = "zscore"
    ratios: tuple[float, float, float] = (0.7, 0.15, 0.15)
    window: timedelta | None = timedelta(hours=168)
    min_readings: int = 10
    quality: QualityConfig = field(default_factory=QualityConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    drift: DriftConfig = field(default_factory=DriftConfig)
    raw_dataset: str = "raw"
    processed_dataset: str = "processed"
    abandon_after: timedelta = timedelta(hours=6)

    def __post_init__(self) -> None:
        _check_types(self)
        unknown = [s for s in self.steps if s not in STEPS]
        if unknown:
            msg = f"unknown step(s) {unknown}; choose from {STEPS}"
            raise ConfigError(msg)
        check_window(self.window)
        if self.normalize not in get_args(NormalizeMethod):
            msg = f"`normalize` must be one of {get_args(NormalizeMethod)}, got {self.normalize!r}"
            raise ConfigError(msg)
        if self.abandon_after <= timedelta(0):
            msg = f"`abandon_after` must be positive, got {self.abandon_after}"
            raise ConfigError(msg)
        if self.min_readings < 1:
            msg = f"`min_readings` must be >= 1, got {self.min_readings}"
            raise ConfigError(msg)
        if self.raw_dataset == self.processed_dataset:
            msg = "`raw_dataset` and `processed_dataset` must differ"
            raise ConfigError(msg)

    def to_json(self) -> str:
        """Return the settings as JSON, as stored with every run record."""
        return json.dumps(_plain(self), sort_keys=True, default=str)


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "steps": (tuple, list),
    "normalize": str,
    "ratios": (tuple, list),
    "min_readings": int,
    "quality": QualityConfig,
    "features": FeatureConfig,
    "drift": DriftConfig,
    "raw_dataset": str,
    "processed_dataset": str,
    "abandon_after": timedelta,
}


def _check_types(cfg: PipelineConfig) -> None:
    """Raise :class:`InvalidTypeError` for a field of the wrong type (``window`` aside)."""
    for name, kind in _FIELD_TYPES.items():
        value = getattr(cfg, name)
        if not isinstance(value, kind) or isinstance(value, bool):
            msg = f"`{name}` of PipelineConfig has the wrong type: {type(value).__name__}"
            raise InvalidTypeError(msg)
    if not all(isinstance(step, str) for step in cfg.steps):
        msg = f"`steps` must be step names, got {cfg.steps!r}"
        raise InvalidTypeError(msg)


def _plain(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return {k: _plain(v) for k, v in asdict(obj).items()}
    if isinstance(obj, tuple | list):
        return [_plain(v) for v in obj]
    if isinstance(obj, timedelta):
        return obj.total_seconds()
    return obj
