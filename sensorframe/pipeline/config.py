"""Pipeline settings: which steps run, and with which configs."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeAlias, get_args

import polars as pl

from sensorframe._batches import rows_per_batch
from sensorframe._columns import CANONICAL_SCHEMA
from sensorframe._typing import NormalizeMethod
from sensorframe.drift import DriftConfig
from sensorframe.errors import ConfigError, InvalidTypeError
from sensorframe.features import FeatureConfig
from sensorframe.frame import TIME
from sensorframe.quality import QualityConfig

__all__ = [
    "MAX_WINDOW",
    "STEPS",
    "PipelineConfig",
    "Step",
    "check_hours_back",
    "check_window",
    "cutoff",
]

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


def check_hours_back(hours_back: object) -> timedelta | None:
    """
    Return ``hours_back`` as a timedelta (``None`` stays ``None``), or raise.

    A number of hours (or a timedelta), positive and at most :data:`MAX_WINDOW`.

    Examples
    --------
    >>> from sensorframe.pipeline.config import check_hours_back
    >>> check_hours_back(1.5)
    datetime.timedelta(seconds=5400)
    >>> check_hours_back(0)
    Traceback (most recent call last):
    ...
    sensorframe.errors.ConfigError: `hours_back` must be positive and at most 876000 hours ...
    """
    if hours_back is None:
        return None
    if isinstance(hours_back, bool) or not isinstance(hours_back, int | float | timedelta):
        msg = (
            "`hours_back` must be a number of hours, a timedelta or None, "
            f"got {type(hours_back).__name__}"
        )
        raise InvalidTypeError(msg)
    limit = MAX_WINDOW.days * 24
    if isinstance(hours_back, timedelta):
        span: timedelta | None = hours_back
    else:  # NaN, inf and huge numbers would not make a timedelta
        inside = math.isfinite(hours_back) and abs(hours_back) <= limit
        span = timedelta(hours=hours_back) if inside else None
    if span is None or not timedelta(0) < span <= MAX_WINDOW:
        msg = (
            f"`hours_back` must be positive and at most {limit} hours "
            f"(None for every reading), got {hours_back!r}"
        )
        raise ConfigError(msg)
    return span


def cutoff(
    window: timedelta | None,
    hours_back: float | timedelta | None,
    *,
    now: datetime,
    newest: datetime | None = None,
) -> pl.Expr | None:
    """
    Return the filter that keeps the readings of the window, or ``None`` for all data.

    ``window`` counts back from the newest reading of the selection (the frame the
    filter is applied to, or ``newest`` when given: a batch of sensors does not hold
    the newest reading of them all), ``hours_back`` from ``now``; a reading exactly at
    the start of the window is left out.

    Examples
    --------
    >>> from sensorframe.pipeline.config import cutoff
    >>> now = datetime(2026, 1, 2, tzinfo=UTC)
    >>> times = pl.datetime_range(now - timedelta(days=3), now, "1d", eager=True)
    >>> df = pl.DataFrame({"timestamp": times})
    >>> df.filter(cutoff(None, 36, now=now))["timestamp"].dt.day().to_list()
    [1, 2]
    >>> last_30h = cutoff(timedelta(hours=30), None, now=now, newest=now)
    >>> df.filter(last_30h)["timestamp"].dt.day().to_list()
    [1, 2]
    >>> cutoff(None, None, now=now) is None
    True
    """
    check_window(window)
    span = check_hours_back(hours_back)
    if window is not None and span is not None:
        msg = (
            "pass either `window` (counted back from the newest reading) or `hours_back` "
            f"(counted back from now), not both; got window={window}, hours_back={hours_back!r}"
        )
        raise ConfigError(msg)
    if window is not None:
        start = (
            pl.col(TIME).max() if newest is None else pl.lit(newest, dtype=CANONICAL_SCHEMA[TIME])
        )
        return pl.col(TIME) > start - window
    if span is not None:
        return pl.col(TIME) > now - span
    return None


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
        Only readings newer than ``newest reading - window`` are used; by default
        (``None``) every reading is. The newest reading is that of the selected
        sensors in the source.
    hours_back
        Only readings newer than ``now - hours_back`` are used (a number of hours, or
        a timedelta), as the original design's ``hours_back``; give ``window`` or
        ``hours_back``, not both. A run reports the rows either left out
        (:attr:`PipelineRun.rows_left_out`).
    min_readings
        A sensor with fewer finite readings in the window fails with a clear error.
    quality, features, drift
        Configs of the quality, feature and drift steps.
    raw_dataset, processed_dataset
        Names of the datasets a run commits to the store.
    batch_rows, memory_limit
        Bounded memory: a run processes the source in batches of whole sensors of at
        most ``batch_rows`` rows, or of as many as fit in ``memory_limit`` (``"4GB"``,
        ``"512MB"`` or bytes); see :meth:`Pipeline.run`. By default a source read lazily
        (a file, a folder, a Delta table, a LazyFrame) is batched when it has more
        rows than the default budget (derived from the machine's memory); a
        ``pl.DataFrame`` only when one of these is given.
    abandon_after
        A run started on another host (whose process cannot be checked from here) and
        not finished is taken as abandoned once its last record is this old; set it
        above the longest run. Runs of this host are checked by their process.
    report
        Write the run's HTML report (see :func:`sensorframe.report`) into the store, at
        ``<root>/_sensorframe/reports/<run_id>.html``, linked from the run's finish
        records (column ``report``) and :attr:`PipelineRun.report_path`. Needs
        matplotlib (``pip install 'sensorframe[report]'``).

    Examples
    --------
    >>> cfg = sf.PipelineConfig(steps=("quality", "version"), hours_back=168)
    >>> cfg.normalize, cfg.window
    ('zscore', None)
    """

    steps: tuple[Step, ...] = STEPS
    normalize: NormalizeMethod = "zscore"
    ratios: tuple[float, float, float] = (0.7, 0.15, 0.15)
    window: timedelta | None = None
    hours_back: float | timedelta | None = None
    min_readings: int = 10
    quality: QualityConfig = field(default_factory=QualityConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig.default)
    drift: DriftConfig = field(default_factory=DriftConfig)
    raw_dataset: str = "raw"
    processed_dataset: str = "processed"
    batch_rows: int | None = None
    memory_limit: str | int | None = None
    abandon_after: timedelta = timedelta(hours=6)
    report: bool = False

    def __post_init__(self) -> None:
        _check_types(self)
        unknown = [s for s in self.steps if s not in STEPS]
        if unknown:
            msg = f"unknown step(s) {unknown}; choose from {STEPS}"
            raise ConfigError(msg)
        cutoff(self.window, self.hours_back, now=datetime.now(UTC))
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
        if self.batch_rows is not None or self.memory_limit is not None:
            rows_per_batch(batch_rows=self.batch_rows, memory_limit=self.memory_limit)

    def to_json(self) -> str:
        """
        Return the settings as JSON, as stored with every run record.

        Durations are in seconds, ``hours_back`` too (given in hours or as a timedelta).

        Examples
        --------
        >>> json.loads(sf.PipelineConfig(hours_back=2).to_json())["hours_back"]
        7200.0
        """
        plain = _plain(self)
        plain["hours_back"] = _plain(check_hours_back(self.hours_back))
        return json.dumps(plain, sort_keys=True, default=str)


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
    """Raise :class:`InvalidTypeError` for a field of the wrong type (windows aside)."""
    for name, kind in _FIELD_TYPES.items():
        value = getattr(cfg, name)
        if not isinstance(value, kind) or isinstance(value, bool):
            msg = f"`{name}` of PipelineConfig has the wrong type: {type(value).__name__}"
            raise InvalidTypeError(msg)
    if not isinstance(cfg.report, bool):
        msg = f"`report` of PipelineConfig must be True or False, got {cfg.report!r}"
        raise InvalidTypeError(msg)
    if not all(isinstance(step, str) for step in cfg.steps):
        msg = f"`steps` must be step names, got {cfg.steps!r}"
        raise InvalidTypeError(msg)


def _plain(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return {k: _plain(v) for k, v in asdict(obj).items()}
    if isinstance(obj, tuple | list):
        return [_plain(v) for v in obj]
    if isinstance(obj, pl.DataFrame):  # QualityConfig.per_sensor: one object per sensor
        return [_plain(row) for row in obj.to_dicts()]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, timedelta):
        return obj.total_seconds()
    return obj
