"""Configuration of the quality checks and the status ladder."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from typing import get_args

from sensorframe._enums import OrderedStrEnum
from sensorframe._typing import OutlierMethod
from sensorframe.errors import ConfigError

__all__ = ["QualityConfig", "QualityStatus", "StatusThresholds"]

_MAX_LENGTH = 10**9
"""Longest flat-line length a config may ask for (more readings than any sensor holds)."""
_MAX_INTERVAL = timedelta(days=36_525)
"""Longest expected sampling interval (100 years), well inside the microsecond range."""


class QualityStatus(OrderedStrEnum):
    """
    Overall grade of a sensor, ordered by severity: EXCELLENT < GOOD < ... < CRITICAL.

    The values are the lowercase names, so a status compares equal to ``"good"``, while
    ``<``, ``>`` and ``max`` compare severity (not alphabetical order). The uppercase
    names of earlier releases still look a status up: ``QualityStatus("GOOD")``.

    Examples
    --------
    >>> S = sf.quality.QualityStatus
    >>> S.GOOD < S.POOR, S.CRITICAL == "critical", max(S.FAIR, S.GOOD), S.POOR.rank
    (True, True, <QualityStatus.FAIR: 'fair'>, 3)
    """

    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    CRITICAL = "critical"

    @property
    def severity(self) -> int:
        """Deprecated: the :attr:`rank` (0 for EXCELLENT up to 4 for CRITICAL)."""
        warnings.warn(
            "QualityStatus.severity is deprecated: use QualityStatus.rank",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.rank


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _positive(name: str, value: object, *, allow_zero: bool = False) -> None:
    if not _is_number(value) or not math.isfinite(value):  # type: ignore[arg-type]
        msg = f"`{name}` must be a finite number, got {value!r}"
        raise ConfigError(msg)
    if value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        msg = f"`{name}` must be {'>= 0' if allow_zero else '> 0'}, got {value!r}"
        raise ConfigError(msg)


Ladder = tuple[float | None, float | None, float | None, float | None]


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusThresholds:
    """
    The status ladder: above which percent a check lowers a sensor's grade.

    Each ladder holds four thresholds, for GOOD, FAIR, POOR and CRITICAL: a sensor whose
    percentage is above the k-th threshold is graded at least that level; ``None`` means
    the check never reaches that level. The status is the worst grade any check reaches.

    Parameters
    ----------
    missing_pct
        Percent of all rows that are missing. An all-missing sensor is always CRITICAL.
    outlier_pct
        Percent of the non-missing readings that are outliers.
    flat_pct
        Percent of the non-missing readings inside flat-lines.
    drift
        Grade of a sensor whose within-series drift ratio exceeds the threshold.

    Raises
    ------
    ConfigError
        If a ladder does not have four entries in [0, 100], non-decreasing.

    Examples
    --------
    >>> sf.quality.StatusThresholds().missing_pct
    (5.0, 10.0, 20.0, 50.0)
    """

    missing_pct: Ladder = (5.0, 10.0, 20.0, 50.0)
    outlier_pct: Ladder = (5.0, 10.0, 15.0, 30.0)
    flat_pct: Ladder = (None, None, 50.0, None)
    drift: QualityStatus = QualityStatus.POOR

    def __post_init__(self) -> None:
        for name in ("missing_pct", "outlier_pct", "flat_pct"):
            ladder = getattr(self, name)
            if not isinstance(ladder, tuple | list) or len(ladder) != 4:
                msg = f"`{name}` must be 4 thresholds (GOOD, FAIR, POOR, CRITICAL), got {ladder!r}"
                raise ConfigError(msg)
            for t in ladder:
                if t is not None and (not _is_number(t) or not 0 <= t <= 100):
                    msg = f"`{name}` thresholds must be None or percents in [0, 100], got {t!r}"
                    raise ConfigError(msg)
            given = [t for t in ladder if t is not None]
            if given != sorted(given):
                msg = f"`{name}` thresholds must not decrease, got {ladder!r}"
                raise ConfigError(msg)
            object.__setattr__(self, name, tuple(ladder))
        try:
            object.__setattr__(self, "drift", QualityStatus(self.drift))
        except ValueError as exc:
            msg = f"`drift` must be a QualityStatus, got {self.drift!r}"
            raise ConfigError(msg) from exc


@dataclass(frozen=True, kw_only=True, slots=True)
class QualityConfig:
    """
    Every threshold of the quality checks; echoed in reports.

    Parameters
    ----------
    outlier_method : {'zscore', 'mad'}
        ``"zscore"``: ``|x - mean| / std > outlier_z`` (population std);
        ``"mad"``: ``0.6745 * |x - median| / MAD > mad_threshold``.
    outlier_z
        Z-score threshold of the ``"zscore"`` method.
    mad_threshold
        Modified z-score threshold of the ``"mad"`` method.
    flatline_tolerance
        Consecutive readings closer than this are linked into a flat stretch.
    flatline_min_length
        Fewest readings in a flat-line, 2 to 10**9.
    flatline_ignore
        Values that never count as flat, e.g. ``(0.0,)`` for a sensor resting at zero.
    gap_factor
        A step longer than this many usual steps is a gap.
    expected_interval
        The sampling interval, up to 36,525 days (100 years); by default each
        sensor's median positive step.
    drift_threshold
        A within-series drift ratio above this flags drift.
    status
        The status ladder.

    Raises
    ------
    ConfigError
        If a field is out of range or of the wrong kind.

    Examples
    --------
    >>> cfg = sf.quality.QualityConfig(outlier_method="mad", flatline_ignore=[0.0])
    >>> cfg.flatline_ignore
    (0.0,)
    >>> sf.quality.QualityConfig(gap_factor=-1)
    Traceback (most recent call last):
    ...
    sensorframe.errors.ConfigError: `gap_factor` must be > 0, got -1
    """

    outlier_method: OutlierMethod = "zscore"
    outlier_z: float = 3.0
    mad_threshold: float = 3.5
    flatline_tolerance: float = 1e-6
    flatline_min_length: int = 5
    flatline_ignore: tuple[float, ...] = ()
    gap_factor: float = 3.0
    expected_interval: timedelta | None = None
    drift_threshold: float = 2.0
    status: StatusThresholds = field(default_factory=StatusThresholds)

    def __post_init__(self) -> None:
        if self.outlier_method not in get_args(OutlierMethod):
            msg = (
                f"`outlier_method` must be one of {get_args(OutlierMethod)}, "
                f"got {self.outlier_method!r}"
            )
            raise ConfigError(msg)
        for name in ("outlier_z", "mad_threshold", "flatline_tolerance", "gap_factor"):
            _positive(name, getattr(self, name))
        _positive("drift_threshold", self.drift_threshold, allow_zero=True)
        n = self.flatline_min_length
        if not isinstance(n, int) or isinstance(n, bool) or not 2 <= n <= _MAX_LENGTH:
            msg = f"`flatline_min_length` must be an integer from 2 to {_MAX_LENGTH:_}, got {n!r}"
            raise ConfigError(msg)
        ignore = self.flatline_ignore
        if isinstance(ignore, str | bytes) or not hasattr(ignore, "__iter__"):
            msg = f"`flatline_ignore` must be a sequence of numbers, got {ignore!r}"
            raise ConfigError(msg)
        values = tuple(ignore)
        bad = [v for v in values if not _is_number(v) or not math.isfinite(v)]
        if bad:
            msg = f"`flatline_ignore` must hold finite numbers, got {bad!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "flatline_ignore", tuple(float(v) for v in values))
        interval = self.expected_interval
        if interval is not None and (
            not isinstance(interval, timedelta) or not timedelta(0) < interval <= _MAX_INTERVAL
        ):
            msg = (
                f"`expected_interval` must be a positive timedelta of at most "
                f"{_MAX_INTERVAL.days} days, or None, got {interval!r}"
            )
            raise ConfigError(msg)
        if not isinstance(self.status, StatusThresholds):
            msg = f"`status` must be a StatusThresholds, got {self.status!r}"
            raise ConfigError(msg)
