"""Drift configuration: thresholds, tests and the severity ladder."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeAlias, TypeGuard, get_args

from sensorframe._deprecation import renamed_fields
from sensorframe._enums import OrderedStrEnum
from sensorframe._times import parse_duration_us
from sensorframe._utils import check_positive, check_probability
from sensorframe.errors import ConfigError

__all__ = [
    "Correction",
    "DriftConfig",
    "DriftSeverity",
    "EffectiveN",
    "KSMethod",
    "Season",
    "season_us",
]

KSMethod: TypeAlias = Literal["auto", "exact", "asymp"]
Correction: TypeAlias = Literal["bh", "none"]
EffectiveN: TypeAlias = Literal["auto"]
Season: TypeAlias = str | timedelta


class DriftSeverity(OrderedStrEnum):
    """
    How large a drift is, from its effect size: NONE < LOW < MODERATE < HIGH < CRITICAL.

    The values are the lowercase names, as in ``severity.value in ["none", "low"]``;
    ``<``, ``>`` and ``max`` compare severity. The uppercase names still look a level
    up (``DriftSeverity("HIGH")``). In sensorframe 0.1 this was an ``IntEnum``: comparing with
    an int (``severity >= 2``) and ``DriftSeverity(2)`` still work with a
    ``DeprecationWarning`` and mean the :attr:`rank`; use members or their values
    instead. A level no longer *equals* its int: ``DriftSeverity.HIGH == 3`` is False
    (a string cannot hash like an int).

    Examples
    --------
    >>> S = sf.drift.DriftSeverity
    >>> S.HIGH > S.LOW, S.HIGH.value, S.HIGH.rank, S("MODERATE")
    (True, 'high', 3, <DriftSeverity.MODERATE: 'moderate'>)
    """

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    CRITICAL = "critical"

    @classmethod
    def _missing_(cls, value: object) -> DriftSeverity | None:
        if _is_rank(value):
            _warn_rank(stacklevel=5)  # user, EnumType.__call__, Enum.__new__, _missing_
            return list(cls)[value] if 0 <= value < len(cls) else None
        return super()._missing_(value)

    @classmethod
    def _rank_of(cls, other: object) -> int | None:
        if _is_rank(other):
            _warn_rank(stacklevel=4)  # user, the comparison, _rank_of
            return other
        return super()._rank_of(other)


def _is_rank(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _warn_rank(*, stacklevel: int) -> None:
    msg = (
        "DriftSeverity is no longer an IntEnum: compare with a DriftSeverity or its "
        "value ('moderate'), or use .rank for the int"
    )
    warnings.warn(msg, DeprecationWarning, stacklevel=stacklevel)


Ladder: TypeAlias = tuple[float, float, float, float]
_MAX_SEASON = timedelta(days=366)
"""Longest season: a year of hourly buckets per sensor."""


def season_us(season: Season | None) -> int | None:
    """Return the season in microseconds, or None (the config has checked it)."""
    return None if season is None else parse_duration_us(season, name="season", limit=_MAX_SEASON)


_INT_RANGES = {"n_bins": (2, 1_000), "min_readings": (1, 10**9), "batch_cells": (1, 10**12)}
"""Allowed ranges of the integer fields (bins cost memory per sensor; the rest fit in int64)."""


@renamed_fields(min_samples="min_readings")
@dataclass(frozen=True, kw_only=True, slots=True)
class DriftConfig:
    """
    Settings of drift detection; every threshold is echoed in the report.

    Parameters
    ----------
    n_bins
        Number of bins, with edges at reference quantiles (outer edges ±inf), for PSI,
        Jensen-Shannon and the chi-square test: 2 to 1,000.
    epsilon
        Bin proportions below this are clipped to it in PSI (as polars-ds does).
    alpha
        Significance level for ``drift_detected``, after the multiple-testing correction.
    correction
        ``"bh"``: Benjamini-Hochberg across the sensors of one call; ``"none"`` or
        ``None``: raw p-values.
    ks_method
        KS p-value: ``"exact"`` and ``"asymp"`` reproduce ``scipy.stats.ks_2samp``;
        ``"auto"`` is exact when ``n*m <= 10_000`` and otherwise the Kolmogorov limit
        with Stephens' correction (vectorized).
    psi_thresholds, js_thresholds, mean_shift_thresholds, log_std_ratio_thresholds
        The severity ladder: the value at which each metric reaches LOW, MODERATE,
        HIGH and CRITICAL. PSI and JS are compared after subtracting their expected
        value under no drift, ``(bins - 1)(1/n + 1/m)`` (JS: that over ``8 ln 2``), so
        small windows do not cry wolf. ``js_thresholds`` are in bits; mean shift is in
        reference standard deviations.
    correlation_thresholds
        With a target: the ladder for the change in value-target correlation
        (concept drift).
    effective_n
        ``"auto"`` (the default): every p-value uses effective sample sizes estimated
        from each window's lag-1 autocorrelation (readings in time order), since
        readings a minute apart are not independent; the raw p-values stay beside them
        (``*_pvalue_raw``). ``None``: the raw p-values decide.
    season
        ``"1d"``, ``"7d"``, any duration text or ``timedelta``, or ``None`` (the
        default): remove the reference's mean profile over the season (buckets of one
        hour, or of ``season / 24`` for a season shorter than a day; time of the UTC
        clock modulo the season) from both windows before testing, so a daily cycle is
        not drift.
    fault_missing_rate
        A current window with at least this share of its rows missing (and a
        reference with less) is a sensor fault, not a drift (status
        ``"sensor_fault"``), as is a flat current window of a sensor whose reference
        varies.
    min_readings
        Finite readings needed in each window (1 to 10**9); fewer gives status
        ``"insufficient_data"``. Called ``min_samples`` in 0.1 (still accepted, with
        a ``DeprecationWarning``: Polars' ``min_samples`` is a rolling window's minimum).
    batch_cells
        Memory knob: sensors are processed in batches of about this many readings
        (1 to 10**12).

    Raises
    ------
    ConfigError
        If a field is out of range.

    Notes
    -----
    The severity is the highest level any metric reaches on its ladder (default
    thresholds for LOW / MODERATE / HIGH / CRITICAL):

    ====================  ===============================  ==========================
    metric                ladder                           why
    ====================  ===============================  ==========================
    PSI (excess)          0.05 / 0.1 / 0.25 / 1.0          the usual 0.1 / 0.25 bands
    JS divergence, bits   0.01 / 0.02 / 0.05 / 0.2         ~ PSI / 5.5 for small shifts
    mean shift, std_R     0.1 / 0.5 / 1.0 / 2.0            Cohen-like effect sizes
    abs(log std ratio)    0.05 / 0.25 / 0.5 / 1.0          ratio 1.05 / 1.3 / 1.6 / 2.7
    ====================  ===============================  ==========================

    The spread rung LOW was 0.1 (ratio 1.1) in sensorframe 0.1: a 10% change of
    scale, ``ln 1.1 = 0.095``, then stayed NONE about two times in three at n = 5,000
    and so was never detected, however significant the Brown-Forsythe test. At 0.05
    the estimate of a 10% change (standard error about ``sqrt(1/n)`` = 0.014) is LOW
    or more in nearly every trial, and detection still needs the tests' p-value.

    Calibration on ``sf.datasets.synthetic(n_sensors=50, n_points=4000, faults=())``,
    reference = even rows, current = odd rows moved by ``k`` reference standard
    deviations: k = 0 gives NONE everywhere and no detection; 0.1 mostly NONE or LOW
    (2/3 detected); 0.2 LOW to HIGH (all detected); 0.5 mostly HIGH; 1 and more
    CRITICAL. Scaling the current window by 1.1 gives LOW, by 1.5 HIGH, by 3
    CRITICAL.
    (Synthetic signals are sine-like, so PSI reacts faster than for normal data: a
    0.2 sd shift of a normal sample is LOW. This calibration uses
    ``effective_n=None``: interleaved rows of one series are not two independent
    windows.) ``drift_detected`` needs severity LOW or more and ``min(1, k * min p)``
    over the ``k`` defined p-values of KS, Mann-Whitney, chi-square, Cramér-von Mises,
    Anderson-Darling, Welch and Brown-Forsythe below ``alpha`` after the correction.

    Examples
    --------
    >>> sf.drift.DriftConfig(n_bins=20).alpha
    0.05
    >>> sf.drift.DriftConfig(n_bins=1)
    Traceback (most recent call last):
    ...
    sensorframe.errors.ConfigError: `n_bins` must be an integer >= 2, got 1
    """

    n_bins: int = 10
    epsilon: float = 1e-4
    alpha: float = 0.05
    correction: Correction | None = "bh"
    ks_method: KSMethod = "auto"
    psi_thresholds: Ladder = (0.05, 0.1, 0.25, 1.0)
    js_thresholds: Ladder = (0.01, 0.02, 0.05, 0.2)
    mean_shift_thresholds: Ladder = (0.1, 0.5, 1.0, 2.0)
    log_std_ratio_thresholds: Ladder = (0.05, 0.25, 0.5, 1.0)
    correlation_thresholds: Ladder = (0.05, 0.1, 0.2, 0.4)
    effective_n: EffectiveN | None = "auto"
    season: Season | None = None
    fault_missing_rate: float = 0.5
    min_readings: int = 20
    batch_cells: int = 2_000_000

    def __post_init__(self) -> None:
        for name, (low, high) in _INT_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                msg = f"`{name}` must be an integer >= {low}, got {value!r}"
                raise ConfigError(msg)
            if value > high:
                msg = f"`{name}` must be at most {high:_}, got {value!r}"
                raise ConfigError(msg)
        check_probability("epsilon", self.epsilon)
        check_probability("alpha", self.alpha)
        check_probability("fault_missing_rate", self.fault_missing_rate)
        if self.effective_n is not None and self.effective_n not in get_args(EffectiveN):
            msg = f"`effective_n` must be 'auto' or None, got {self.effective_n!r}"
            raise ConfigError(msg)
        if self.season is not None:
            season_us(self.season)
        if self.correction is not None and self.correction not in get_args(Correction):
            msg = f"`correction` must be one of {get_args(Correction)}, got {self.correction!r}"
            raise ConfigError(msg)
        if self.ks_method not in get_args(KSMethod):
            msg = f"`ks_method` must be one of {get_args(KSMethod)}, got {self.ks_method!r}"
            raise ConfigError(msg)
        for name in (
            "psi_thresholds",
            "js_thresholds",
            "mean_shift_thresholds",
            "log_std_ratio_thresholds",
            "correlation_thresholds",
        ):
            ladder = getattr(self, name)
            if not isinstance(ladder, tuple) or len(ladder) != 4:
                msg = f"`{name}` must be a tuple of 4 numbers (LOW..CRITICAL), got {ladder!r}"
                raise ConfigError(msg)
            for value in ladder:
                check_positive(name, value)
            if list(ladder) != sorted(ladder):
                msg = f"`{name}` must be non-decreasing, got {ladder!r}"
                raise ConfigError(msg)
