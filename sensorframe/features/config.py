"""
Configuration of :func:`sensorframe.features.engineer_features`.

:class:`FeatureConfig` holds every option, validated once when it is built, and
:func:`feature_names` lists the feature columns a config produces, in output order.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeAlias, get_args

from sensorframe.errors import ConfigError, InvalidParameterError

__all__ = [
    "MAX_DURATION",
    "MAX_ROWS",
    "MAX_SPECTRAL_WINDOW",
    "MAX_TOP_K",
    "FeatureConfig",
    "RollingStat",
    "check_count",
    "check_spectral",
    "feature_names",
    "parse_duration_us",
]

RollingStat: TypeAlias = Literal["mean", "std", "min", "max", "median", "range"]
ROLLING_STATS: tuple[RollingStat, ...] = get_args(RollingStat)

_DURATION = re.compile(r"^(?:\d+(?:ns|us|ms|s|m|h|d|w))+$")
_PART = re.compile(r"(\d+)(ns|us|ms|s|m|h|d|w)")
_US_PER_UNIT = {
    "us": 1,
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
    "w": 604_800_000_000,
}
MAX_ROWS = 1_000_000_000
"""Largest row count of a window, lag, difference, span or step (more than any sensor holds)."""
MAX_DURATION = timedelta(days=36_525)
"""Longest duration window (100 years): longer ones would overflow the time arithmetic."""
MAX_SPECTRAL_WINDOW = 4096
"""Most rows per spectral window (the FFT work per row grows with it)."""
MAX_TOP_K = 64
"""Most dominant frequency bins reported (each adds two columns)."""
CALENDAR_NAMES = ("hour", "day_of_week", "day_of_month", "month", "is_weekend")
CYCLICAL_NAMES = (
    "hour_sin",
    "hour_cos",
    "day_of_week_sin",
    "day_of_week_cos",
    "month_sin",
    "month_cos",
)


def parse_duration_us(text: str) -> int:
    """
    Length of a fixed duration string such as ``"1h30m"`` in microseconds.

    Units are ``ns``, ``us``, ``ms``, ``s``, ``m`` (minutes), ``h``, ``d`` and ``w``;
    calendar units (months, years) are rejected because their length varies.

    Raises
    ------
    ConfigError
        If the text is not such a duration, is zero or is longer than
        :data:`MAX_DURATION` (100 years).

    Examples
    --------
    >>> from sensorframe.features.config import parse_duration_us
    >>> parse_duration_us("1h30m")
    5400000000
    """
    if not isinstance(text, str) or not _DURATION.match(text):
        msg = (
            f"a window must be a positive row count or a duration like '30m', '1h', "
            f"'1d12h' (units ns, us, ms, s, m, h, d, w), got {text!r}"
        )
        raise ConfigError(msg)
    total_ns = 0
    for number, unit in _PART.findall(text):
        total_ns += int(number) * (1 if unit == "ns" else 1_000 * _US_PER_UNIT[unit])
    if total_ns <= 0:
        msg = f"a duration window must be longer than zero, got {text!r}"
        raise ConfigError(msg)
    if total_ns > MAX_DURATION // timedelta(microseconds=1) * 1_000:
        msg = f"a duration window must be at most {MAX_DURATION.days}d (100 years), got {text!r}"
        raise ConfigError(msg)
    return -(-total_ns // 1_000)  # ceil to whole microseconds


def check_count(
    name: str, value: object, *, low: int = 1, error: type[Exception] = InvalidParameterError
) -> None:
    """
    Raise `error` unless `value` is an int from `low` to :data:`MAX_ROWS`.

    Examples
    --------
    >>> from sensorframe.features.config import check_count
    >>> check_count("lag", 0)
    Traceback (most recent call last):
    ...
    sensorframe.errors.InvalidParameterError: `lag` must be an int from 1 to 1_000_000_000, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_ROWS:
        msg = f"`{name}` must be an int from {low} to {MAX_ROWS:_}, got {value!r}"
        raise error(msg)


def check_span(name: str, value: object, *, error: type[Exception] = InvalidParameterError) -> None:
    """Raise `error` unless `value` is a number from 1 to :data:`MAX_ROWS` (an EWM span)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 1 <= value <= MAX_ROWS  # also refuses NaN
    ):
        msg = f"`{name}` must be a number from 1 to {MAX_ROWS:_}, got {value!r}"
        raise error(msg)


def check_spectral(
    window: object,
    top_k: object,
    step: object,
    *,
    prefix: str = "",
    error: type[Exception] = InvalidParameterError,
) -> None:
    """
    Validate a spectral window, top-K and step against their documented bounds.

    `window` is 4 to :data:`MAX_SPECTRAL_WINDOW` rows, `top_k` 1 to :data:`MAX_TOP_K`
    and at most the ``window // 2`` frequency bins, `step` 1 to :data:`MAX_ROWS`.
    Messages name the parameters `prefix` + ``window`` ...

    Examples
    --------
    >>> from sensorframe.features.config import check_spectral
    >>> check_spectral(65536, 3, 1)
    Traceback (most recent call last):
    ...
    sensorframe.errors.InvalidParameterError: `window` must be an int from 4 to 4096, got 65536
    """
    check_count(f"{prefix}step", step, error=error)
    for name, value, high in (
        (f"{prefix}window", window, MAX_SPECTRAL_WINDOW),
        (f"{prefix}top_k", top_k, MAX_TOP_K),
    ):
        low = 4 if name.endswith("window") else 1
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            msg = f"`{name}` must be an int from {low} to {high}, got {value!r}"
            raise error(msg)
    assert isinstance(window, int)
    assert isinstance(top_k, int)
    if window // 2 < top_k:
        msg = (
            f"`{prefix}top_k`={top_k} exceeds the {window // 2} frequency bins of a window "
            f"of {window} rows"
        )
        raise error(msg)


def _check_windows(name: str, windows: tuple[int | str, ...], *, durations: bool) -> None:
    for w in windows:
        if isinstance(w, str) and durations:
            parse_duration_us(w)
        elif isinstance(w, bool) or not isinstance(w, int) or not 2 <= w <= MAX_ROWS:
            allowed = f"a row count from 2 to {MAX_ROWS:_}" + (
                " or a duration string" if durations else ""
            )
            msg = f"every entry of `{name}` must be {allowed}, got {w!r}"
            raise ConfigError(msg)
    if len(set(windows)) != len(windows):
        msg = f"`{name}` has duplicate entries: {list(windows)}"
        raise ConfigError(msg)


def _check_periods(name: str, periods: tuple[int, ...]) -> None:
    for k in periods:
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_ROWS:
            msg = f"every entry of `{name}` must be an int from 1 to {MAX_ROWS:_}, got {k!r}"
            raise ConfigError(msg)
    if len(set(periods)) != len(periods):
        msg = f"`{name}` has duplicate entries: {list(periods)}"
        raise ConfigError(msg)


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureConfig:
    """
    Which features :func:`~sensorframe.features.engineer_features` computes.

    Every feature uses trailing windows (readings at or before the row only) and is
    null where the history it needs is absent; nothing is zero-filled. Sequences may be
    given as lists; they are stored as tuples so the config stays hashable.

    Parameters
    ----------
    rolling_windows
        Window lengths for ``rolling_{w}_{stat}``: row counts (>= 2) or fixed durations
        such as ``"1h"`` (windows ``(t - w, t]``, which suit irregular sampling).
        Every row count, period, span and step of this config is at most
        :data:`MAX_ROWS` (10**9), a duration at most :data:`MAX_DURATION` (100 years).
    rolling_stats
        Statistics of each rolling window: ``mean``, ``std`` (ddof=1), ``min``, ``max``,
        ``median`` and ``range`` (max - min).
    lags
        Periods k for ``lag_{k}``, the reading k rows back.
    diffs
        Periods k for ``diff_{k}`` = x_t - x_{t-k}.
    pct_change, rate_of_change, acceleration
        Whether to compute ``pct_change``, ``rate_of_change`` (per second) and
        ``acceleration`` (per second squared).
    ewm_span
        Span of ``ewm_mean`` and ``ewm_std`` (adjust=False); None turns them off.
    expanding
        Whether to compute ``expanding_mean`` and ``expanding_std``.
    volatility_windows
        Row counts for ``volatility_{w}``, the rolling std of ``pct_change``.
    spectral
        Whether to compute the trailing-window spectral features.
    spectral_window
        Rows per spectral window, W (4 to :data:`MAX_SPECTRAL_WINDOW` = 4096, and
        >= 2 * `spectral_top_k`).
    spectral_top_k
        Number of dominant frequency bins reported (1 to :data:`MAX_TOP_K` = 64).
    spectral_step
        Compute the spectrum every k-th row of a sensor and carry it forward.
    calendar
        Whether to add ``hour``, ``day_of_week`` (Monday = 0), ``day_of_month``,
        ``month`` and ``is_weekend``.
    cyclical
        Whether to add sin/cos encodings of hour, day of week and month.
    timezone
        IANA time zone of the calendar features.
    min_periods
        Fewest non-null readings a rolling or volatility window needs; None means the
        whole window (and for a duration window, history spanning the whole duration).

    Raises
    ------
    ConfigError
        If a field is out of range.

    Examples
    --------
    >>> cfg = sf.features.FeatureConfig(rolling_windows=[6, "1h"], spectral=False)
    >>> cfg.rolling_windows
    (6, '1h')
    >>> len(sf.features.feature_names(sf.features.FeatureConfig())) >= 40
    True
    """

    rolling_windows: tuple[int | str, ...] = (3, 6, 12, 24)
    rolling_stats: tuple[RollingStat, ...] = ROLLING_STATS
    lags: tuple[int, ...] = (1, 2, 3, 6, 12)
    diffs: tuple[int, ...] = (1, 2)
    pct_change: bool = True
    rate_of_change: bool = True
    acceleration: bool = True
    ewm_span: float | None = 12
    expanding: bool = True
    volatility_windows: tuple[int, ...] = (6, 12, 24)
    spectral: bool = True
    spectral_window: int = 64
    spectral_top_k: int = 3
    spectral_step: int = 1
    calendar: bool = True
    cyclical: bool = True
    timezone: str = "UTC"
    min_periods: int | None = None

    def __post_init__(self) -> None:
        for name in ("rolling_windows", "rolling_stats", "lags", "diffs", "volatility_windows"):
            value = getattr(self, name)
            if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
                msg = f"`{name}` must be a sequence, got {value!r}"
                raise ConfigError(msg)
            object.__setattr__(self, name, tuple(value))
        _check_windows("rolling_windows", self.rolling_windows, durations=True)
        _check_windows("volatility_windows", self.volatility_windows, durations=False)
        _check_periods("lags", self.lags)
        _check_periods("diffs", self.diffs)
        bad = [s for s in self.rolling_stats if s not in ROLLING_STATS]
        if bad:
            msg = f"unknown `rolling_stats` {bad}; choose from {list(ROLLING_STATS)}"
            raise ConfigError(msg)
        if len(set(self.rolling_stats)) != len(self.rolling_stats):
            msg = f"`rolling_stats` has duplicate entries: {list(self.rolling_stats)}"
            raise ConfigError(msg)
        for name in (
            "pct_change",
            "rate_of_change",
            "acceleration",
            "expanding",
            "spectral",
            "calendar",
            "cyclical",
        ):
            if not isinstance(getattr(self, name), bool):
                msg = f"`{name}` must be True or False, got {getattr(self, name)!r}"
                raise ConfigError(msg)
        if self.ewm_span is not None:
            check_span("ewm_span", self.ewm_span, error=ConfigError)
        self._check_spectral()
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            msg = f"`timezone` must be an IANA time zone, got {self.timezone!r}"
            raise ConfigError(msg) from exc
        if self.min_periods is not None:
            check_count("min_periods", self.min_periods, error=ConfigError)

    def _check_spectral(self) -> None:
        check_spectral(
            self.spectral_window,
            self.spectral_top_k,
            self.spectral_step,
            prefix="spectral_",
            error=ConfigError,
        )


def spectral_names(top_k: int) -> list[str]:
    """Names of the spectral features for `top_k` bins, in output order."""
    names = [n for i in range(1, top_k + 1) for n in (f"fft_freq_{i}", f"fft_amp_{i}")]
    return [*names, "spectral_energy", "spectral_entropy"]


def feature_names(config: FeatureConfig | None = None) -> list[str]:
    """
    List the feature columns a config produces, in the order ``engineer_features`` emits.

    The key columns (``sensor_id``, ``timestamp``, ``value``) are not included.

    Parameters
    ----------
    config
        The feature config; the default :class:`FeatureConfig` when None.

    Returns
    -------
    list of str
        Feature names.

    Examples
    --------
    >>> cfg = sf.features.FeatureConfig(
    ...     rolling_windows=[3], rolling_stats=["mean"], lags=[1], diffs=[], pct_change=False,
    ...     rate_of_change=False, acceleration=False, ewm_span=None, expanding=False,
    ...     volatility_windows=[], spectral=False, calendar=False, cyclical=False,
    ... )
    >>> sf.features.feature_names(cfg)
    ['rolling_3_mean', 'lag_1']
    """
    cfg = config if config is not None else FeatureConfig()
    names = [f"rolling_{w}_{s}" for w in cfg.rolling_windows for s in cfg.rolling_stats]
    names += [f"lag_{k}" for k in cfg.lags]
    names += [f"diff_{k}" for k in cfg.diffs]
    for flag in ("pct_change", "rate_of_change", "acceleration"):
        if getattr(cfg, flag):
            names.append(flag)
    if cfg.ewm_span is not None:
        names += ["ewm_mean", "ewm_std"]
    if cfg.expanding:
        names += ["expanding_mean", "expanding_std"]
    names += [f"volatility_{w}" for w in cfg.volatility_windows]
    if cfg.spectral:
        names += spectral_names(cfg.spectral_top_k)
    if cfg.calendar:
        names += list(CALENDAR_NAMES)
    if cfg.cyclical:
        names += list(CYCLICAL_NAMES)
    return names
