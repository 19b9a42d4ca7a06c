"""
Configuration of :func:`sensorframe.features.engineer_features`.

:class:`FeatureConfig` holds every option, validated once when it is built, and
:func:`feature_names` lists the feature columns a config produces, in output order.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args

from sensorframe._deprecation import renamed_fields
from sensorframe._times import MAX_DURATION, duration_text, is_duration_text, parse_duration_us
from sensorframe.errors import ConfigError, InvalidParameterError, UnknownFeatureError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "FLAG_FAMILIES",
    "MAX_DURATION",
    "MAX_ROWS",
    "MAX_SPECTRAL_WINDOW",
    "MAX_TOP_K",
    "FeatureConfig",
    "RollingStat",
    "check_count",
    "check_spectral",
    "duration_text",
    "feature_names",
    "parse_duration_us",
]

RollingStat: TypeAlias = Literal["mean", "std", "min", "max", "median", "range"]
ROLLING_STATS: tuple[RollingStat, ...] = get_args(RollingStat)

MAX_ROWS = 1_000_000_000
"""Largest row count of a window, lag, difference, span or step (more than any sensor holds)."""
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


def _check_windows(
    name: str, windows: tuple[int | str | timedelta, ...], *, durations: bool
) -> tuple[int | str, ...]:
    """Validate the windows; durations given as ``timedelta`` become duration text."""
    out: list[int | str] = []
    lengths: list[object] = []
    for w in windows:
        if isinstance(w, str | timedelta) and durations:
            micros = parse_duration_us(w, name=name)
            out.append(duration_text(micros) if isinstance(w, timedelta) else w)
            lengths.append(timedelta(microseconds=micros))
            continue
        if isinstance(w, bool) or not isinstance(w, int) or not 2 <= w <= MAX_ROWS:
            allowed = f"a row count from 2 to {MAX_ROWS:_}" + (
                " or a duration string" if durations else ""
            )
            msg = f"every entry of `{name}` must be {allowed}, got {w!r}"
            raise ConfigError(msg)
        out.append(w)
        lengths.append(w)
    if len(set(lengths)) != len(lengths):
        msg = f"`{name}` has duplicate entries: {list(windows)}"
        raise ConfigError(msg)
    return tuple(out)


def _check_periods(name: str, periods: tuple[int, ...]) -> None:
    for k in periods:
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_ROWS:
            msg = f"every entry of `{name}` must be an int from 1 to {MAX_ROWS:_}, got {k!r}"
            raise ConfigError(msg)
    if len(set(periods)) != len(periods):
        msg = f"`{name}` has duplicate entries: {list(periods)}"
        raise ConfigError(msg)


@renamed_fields(min_periods="min_samples")  # the name Polars uses since 1.21
@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureConfig:
    """
    Which features :func:`~sensorframe.features.engineer_features` computes.

    Feature groups are opt-in: a group is computed only when its field asks for it, so
    ``FeatureConfig(rolling_windows=[6], rolling_stats=["mean"])`` is the one feature
    ``rolling_6_mean``. :meth:`default` is the set of 60 features that ``FeatureConfig()``
    meant before sensorframe 0.2.0, :meth:`minimal` a small one, and :meth:`from_names`
    the config that computes features named as :func:`feature_names` names them.

    Every feature uses trailing windows (readings at or before the row only) and is
    null where the history it needs is absent; nothing is zero-filled. Sequences may be
    given as lists; they are stored as tuples so the config stays hashable.

    Parameters
    ----------
    rolling_windows
        Window lengths for ``rolling_{w}_{stat}``: row counts (>= 2) or fixed durations,
        as a ``timedelta`` or text such as ``"1h"``, ``"90min"``, ``"1.5h"`` (windows
        ``(t - w, t]``, which suit irregular sampling; a ``timedelta`` is stored as its
        text, ``timedelta(minutes=90)`` as ``"1h30m"``). Every row count, period, span
        and step of this config is at most :data:`MAX_ROWS` (10**9), a duration at most
        :data:`MAX_DURATION` (100 years).
    rolling_stats
        Statistics of each rolling window: ``mean``, ``std`` (ddof=1), ``min``, ``max``,
        ``median`` and ``range`` (max - min); all six unless given.
    lags
        Periods k for ``lag_{k}``, the reading k rows back.
    diffs
        Periods k for ``diff_{k}`` = x_t - x_{t-k}.
    pct_change, rate_of_change, acceleration
        Whether to compute ``pct_change``, ``rate_of_change`` (per second) and
        ``acceleration`` (per second squared).
    ewm_span
        Span of ``ewm_mean`` and ``ewm_std`` (adjust=False); None (the default) turns
        them off.
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
    min_samples
        Fewest non-null readings a rolling or volatility window needs; None means the
        whole window (and for a duration window, history spanning the whole duration).

        .. versionchanged:: 0.2.0
            Renamed from ``min_periods``, as Polars 1.21 renamed it; the old keyword
            still works, with a ``DeprecationWarning``.

    Raises
    ------
    ConfigError
        If a field is out of range.

    Examples
    --------
    >>> sf.features.feature_names(sf.FeatureConfig(rolling_windows=[6], rolling_stats=["mean"]))
    ['rolling_6_mean']
    >>> sf.FeatureConfig(rolling_windows=[6, "1h"]).rolling_windows
    (6, '1h')
    >>> len(sf.features.feature_names(sf.FeatureConfig.default()))
    60
    """

    rolling_windows: tuple[int | str, ...] = ()
    rolling_stats: tuple[RollingStat, ...] = ROLLING_STATS
    lags: tuple[int, ...] = ()
    diffs: tuple[int, ...] = ()
    pct_change: bool = False
    rate_of_change: bool = False
    acceleration: bool = False
    ewm_span: float | None = None
    expanding: bool = False
    volatility_windows: tuple[int, ...] = ()
    spectral: bool = False
    spectral_window: int = 64
    spectral_top_k: int = 3
    spectral_step: int = 1
    calendar: bool = False
    cyclical: bool = False
    timezone: str = "UTC"
    min_samples: int | None = None

    def __post_init__(self) -> None:
        for name in ("rolling_windows", "rolling_stats", "lags", "diffs", "volatility_windows"):
            value = getattr(self, name)
            if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
                msg = f"`{name}` must be a sequence, got {value!r}"
                raise ConfigError(msg)
            object.__setattr__(self, name, tuple(value))
        windows = _check_windows("rolling_windows", self.rolling_windows, durations=True)
        object.__setattr__(self, "rolling_windows", windows)
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
        for name in FLAG_FAMILIES:
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
        if self.min_samples is not None:
            check_count("min_samples", self.min_samples, error=ConfigError)

    def _check_spectral(self) -> None:
        check_spectral(
            self.spectral_window,
            self.spectral_top_k,
            self.spectral_step,
            prefix="spectral_",
            error=ConfigError,
        )

    @classmethod
    def default(cls, **changes: Any) -> FeatureConfig:
        """
        Return the default set of 60 features (what ``FeatureConfig()`` was before 0.2.0).

        Rolling mean, std, min, max, median and range over 3, 6, 12 and 24 rows; lags
        1, 2, 3, 6 and 12; differences 1 and 2; pct change, rate of change and
        acceleration; EWM mean and std of span 12; expanding mean and std; volatility
        over 6, 12 and 24 rows; spectral features over 64 rows (top 3 bins); calendar
        and cyclical features.

        Parameters
        ----------
        **changes
            Fields to set otherwise, as in :func:`dataclasses.replace`.

        Examples
        --------
        >>> cfg = sf.FeatureConfig.default(spectral=False, timezone="Europe/Berlin")
        >>> len(sf.features.feature_names(cfg)), cfg.timezone
        (52, 'Europe/Berlin')
        """
        preset = cls(
            rolling_windows=(3, 6, 12, 24),
            lags=(1, 2, 3, 6, 12),
            diffs=(1, 2),
            pct_change=True,
            rate_of_change=True,
            acceleration=True,
            ewm_span=12,
            expanding=True,
            volatility_windows=(6, 12, 24),
            spectral=True,
            calendar=True,
            cyclical=True,
        )
        return replace(preset, **changes)

    @classmethod
    def minimal(cls, **changes: Any) -> FeatureConfig:
        """
        Return a small, fast set: rolling mean and std over 12 rows, ``lag_1``, ``diff_1``.

        Parameters
        ----------
        **changes
            Fields to set otherwise, as in :func:`dataclasses.replace`.

        Examples
        --------
        >>> sf.features.feature_names(sf.FeatureConfig.minimal())
        ['rolling_12_mean', 'rolling_12_std', 'lag_1', 'diff_1']
        """
        preset = cls(rolling_windows=(12,), rolling_stats=("mean", "std"), lags=(1,), diffs=(1,))
        return replace(preset, **changes)

    @classmethod
    def from_names(
        cls, names: Iterable[str], *, base: FeatureConfig | None = None
    ) -> FeatureConfig:
        """
        Build the config that computes the named features (and what they need).

        Names are those of :func:`feature_names` (``rolling_12_mean``, ``rolling_1h_std``,
        ``lag_3``, ``ewm_mean``, ``fft_amp_2``, ``hour_sin`` ...). A group's other features
        may be selected too (``rolling_6_std`` with ``rolling_12_mean`` also selects
        ``rolling_6_mean`` and ``rolling_12_std``); ``engineer_features(...,
        features=names)`` computes and returns the named ones only.

        Parameters
        ----------
        names
            Feature names.
        base
            Options kept from this config: EWM span (12 when it has none), spectral window
            and step, time zone and `min_samples`; its selected features are not kept.

        Returns
        -------
        FeatureConfig
            The config.

        Raises
        ------
        UnknownFeatureError
            If a name is no feature's name; the message lists close matches.

        Examples
        --------
        >>> cfg = sf.FeatureConfig.from_names(["rolling_12_mean", "lag_1"])
        >>> sf.features.feature_names(cfg)
        ['rolling_12_mean', 'lag_1']
        """
        base = base if base is not None else cls()
        windows: dict[int | str, None] = {}
        stats: dict[RollingStat, None] = {}
        groups: dict[str, dict[int, None]] = {"lags": {}, "diffs": {}, "volatility_windows": {}}
        flags: set[str] = set()
        top_k = 0
        for name in names:
            if not isinstance(name, str):
                msg = f"feature names must be str, got {name!r}"
                raise UnknownFeatureError(msg)
            rolling = _ROLLING_NAME.match(name)
            if rolling and not _is_window_text(rolling["window"]):
                rolling = None
            counted = _COUNTED_NAME.match(name)
            fft = _FFT_NAME.match(name)
            if rolling:
                w = rolling["window"]
                windows[int(w) if w.isdecimal() else w] = None
                stats[rolling["stat"]] = None  # type: ignore[index]
            elif counted:
                groups[_COUNTED_FIELDS[counted["kind"]]][int(counted["k"])] = None
            elif fft:
                flags.add("spectral")
                top_k = max(top_k, int(fft["i"]))
            elif name in _NAME_FLAGS:
                flags.add(_NAME_FLAGS[name])
            else:
                close = difflib.get_close_matches(name, _KNOWN_NAMES, n=3, cutoff=0.6)
                hint = f"; did you mean {close}?" if close else ""
                msg = (
                    f"unknown feature {name!r}{hint} (names look like rolling_12_mean, "
                    f"rolling_1h_std, lag_1, diff_2, volatility_6, ewm_mean, fft_amp_1, hour_sin)"
                )
                raise UnknownFeatureError(msg)
        return replace(
            base,
            rolling_windows=tuple(windows),
            rolling_stats=tuple(s for s in ROLLING_STATS if s in stats) or ROLLING_STATS,
            lags=tuple(groups["lags"]),
            diffs=tuple(groups["diffs"]),
            volatility_windows=tuple(groups["volatility_windows"]),
            ewm_span=(base.ewm_span or 12) if "ewm" in flags else None,
            spectral_top_k=top_k or base.spectral_top_k,
            **{flag: flag in flags for flag in FLAG_FAMILIES},  # type: ignore[arg-type]
        )


FLAG_FAMILIES = (
    "pct_change",
    "rate_of_change",
    "acceleration",
    "expanding",
    "spectral",
    "calendar",
    "cyclical",
)
"""The feature families a boolean :class:`FeatureConfig` field switches on."""
_ROLLING_NAME = re.compile(r"^rolling_(?P<window>.+)_(?P<stat>mean|std|min|max|median|range)$")
_COUNTED_NAME = re.compile(r"^(?P<kind>lag|diff|volatility)_(?P<k>[1-9]\d*)$")
_COUNTED_FIELDS = {"lag": "lags", "diff": "diffs", "volatility": "volatility_windows"}
_FFT_NAME = re.compile(r"^fft_(?:freq|amp)_(?P<i>[1-9]\d*)$")


def _is_window_text(text: str) -> bool:
    """Tell whether ``text`` is a window as feature names write it: a row count or a duration."""
    return re.fullmatch(r"[1-9]\d*", text) is not None or is_duration_text(text)


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
        The feature config; :meth:`FeatureConfig.default` when None.

    Returns
    -------
    list of str
        Feature names.

    Examples
    --------
    >>> cfg = sf.features.FeatureConfig(rolling_windows=[3], rolling_stats=["mean"], lags=[1])
    >>> sf.features.feature_names(cfg)
    ['rolling_3_mean', 'lag_1']
    """
    cfg = config if config is not None else FeatureConfig.default()
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


_NAME_FLAGS = {
    "pct_change": "pct_change",
    "rate_of_change": "rate_of_change",
    "acceleration": "acceleration",
    "ewm_mean": "ewm",
    "ewm_std": "ewm",
    "expanding_mean": "expanding",
    "expanding_std": "expanding",
    "spectral_energy": "spectral",
    "spectral_entropy": "spectral",
    **dict.fromkeys(CALENDAR_NAMES, "calendar"),
    **dict.fromkeys(CYCLICAL_NAMES, "cyclical"),
}
_KNOWN_NAMES = feature_names(FeatureConfig.default())
