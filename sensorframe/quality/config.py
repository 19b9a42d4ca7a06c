"""
Configuration of the quality checks.

The status ladder (:class:`StatusThresholds`) and :class:`QualityStatus` live in
:mod:`sensorframe.quality.status`; they are importable from here too, as before.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import get_args

import polars as pl

from sensorframe._times import parse_duration_us
from sensorframe._typing import OutlierMethod
from sensorframe.errors import ConfigError, InvalidParameterError
from sensorframe.frame import SENSOR
from sensorframe.quality.per_sensor import MAX_INTERVAL, PER_SENSOR, checked_per_sensor
from sensorframe.quality.status import Ladder, QualityStatus, StatusThresholds, is_number

__all__ = ["Ladder", "QualityConfig", "QualityStatus", "StatusThresholds"]

RUNNABLE = (
    "missing",
    "outlier",
    "flatline",
    "gap",
    "duplicate",
    "out_of_order",
    "range",
    "spike",
    "interpolated",
    "level_shift",
    "trend",
)
"""What ``QualityConfig.checks`` may name: the row checks, then the trend."""

_MAX_LENGTH = 10**9
"""Longest flat-line length a config may ask for (more readings than any sensor holds)."""


def _positive(name: str, value: object, *, allow_zero: bool = False) -> None:
    if not is_number(value) or not math.isfinite(value):  # type: ignore[arg-type]
        msg = f"`{name}` must be a finite number, got {value!r}"
        raise ConfigError(msg)
    if value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        msg = f"`{name}` must be {'>= 0' if allow_zero else '> 0'}, got {value!r}"
        raise ConfigError(msg)


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class QualityConfig:
    """
    Every threshold of the quality checks; echoed in reports.

    Fields marked *per sensor* can also be set for single sensors with ``per_sensor``.

    Parameters
    ----------
    outlier_method : {'zscore', 'mad', 'hampel'}
        ``"zscore"``: ``|x - mean| / std > outlier_z`` (population std);
        ``"mad"``: ``0.6745 * |x - median| / MAD > mad_threshold``;
        ``"hampel"``: contextual, ``|x - m| > mad_threshold * max(1.4826 * (q3 - q1) / 2,
        floor)`` with ``m``, ``q1``, ``q3`` the rolling median and quartiles over
        ``outlier_window`` (:func:`~sensorframe.quality.hampel_outlier`).
    outlier_z
        Z-score threshold of the ``"zscore"`` method (per sensor).
    mad_threshold
        Threshold of the ``"mad"`` and ``"hampel"`` methods (per sensor).
    outlier_window
        Window of the ``"hampel"`` method: a number of rows (>= 3) or a duration
        (``"2h"``, a ``timedelta``) over the timestamps.
    outlier_center
        Centre the ``"hampel"`` window on the reading (else it trails).
    flatline_tolerance
        Consecutive readings closer than this are linked into a flat stretch.
    flatline_min_length
        Fewest readings in a flat-line, 2 to 10**9.
    flatline_ignore
        Values that never count as flat, e.g. ``(0.0,)`` for a sensor resting at zero
        (per sensor: a list per sensor, which replaces this one for that sensor).
    max_stuck
        A flat-line lasting longer than this (last minus first reading) means the
        sensor is stuck: its rows fail (``qartod`` 4) and ``stuck`` is true (per
        sensor; default 1 day, at most 36,525 days).
    gap_factor
        A step longer than this many usual steps is a gap.
    expected_interval
        The sampling interval, up to 36,525 days (100 years); by default each
        sensor's median positive step (per sensor).
    valid_min, valid_max
        Readings below / above fail the range check (QARTOD gross range "fail span";
        per sensor; None: no bound).
    suspect_min, suspect_max
        Readings inside the valid range but below / above are suspect (per sensor;
        None: no bound). Bounds must satisfy valid_min <= suspect_min <= suspect_max
        <= valid_max where given, for every sensor.
    spike_threshold
        Absolute spike limit for ``|x_t - (x_{t-1} + x_{t+1}) / 2|`` (per sensor); None:
        ``spike_noise_factor`` times the local noise (:func:`~sensorframe.quality.spike`).
    spike_noise_factor
        Multiple of the local noise a spike must exceed without a threshold.
    spike_window
        Rows of the centred window of the local noise (>= 3). The defaults (4 and 25)
        are :func:`~sensorframe.quality.spike`'s: on pvanalytics' labelled inverter
        file they find 6 of 6 spikes at one false flag (0.2%), on
        ``datasets.synthetic(faults=FAULTS)`` 93-100% at about 1e-4 of the rows; a
        9-row window lets two spikes 3 readings apart hide each other.
    interpolation_min_length
        Fewest inner readings of a straight line flagged as interpolated (>= 1).
    interpolation_tolerance
        Relative tolerance for equal steps on such a line.
    level_shift_window
        Rows in each of the four blocks of the level-shift statistic (>= 2).
    level_shift_threshold
        Multiple of the series' typical step statistic a level shift must exceed.
    checks
        The checks to run, from :data:`~sensorframe.quality.CHECKS` plus ``"trend"``
        (all by default). A check left out is not computed: its flag is false and
        its counts 0 (its trend numbers null), so it neither costs time nor grades.
        ``missing`` always runs.
    drift_threshold
        A within-series drift ratio above this flags drift.
    status
        The status ladder.
    per_sensor
        A frame with a ``sensor_id`` column and any of the per-sensor fields
        (``valid_min``, ``valid_max``, ``suspect_min``, ``suspect_max``, ``outlier_z``,
        ``mad_threshold``, ``spike_threshold``, ``expected_interval`` and ``max_stuck``
        as durations,
        ``flatline_ignore`` as a list of numbers): a non-null cell overrides the field
        for that sensor. Sensors not in the input are ignored.

    Raises
    ------
    ConfigError
        If a field is out of range or of the wrong kind, or ``per_sensor`` has an
        unknown column, a repeated or null sensor id, or a bad value (named with its
        sensor).

    Examples
    --------
    >>> cfg = sf.quality.QualityConfig(outlier_method="mad", flatline_ignore=[0.0])
    >>> cfg.flatline_ignore
    (0.0,)
    >>> sf.quality.QualityConfig(gap_factor=-1)
    Traceback (most recent call last):
    ...
    sensorframe.errors.ConfigError: `gap_factor` must be > 0, got -1
    >>> pv = pl.DataFrame({"sensor_id": ["irradiance"], "flatline_ignore": [[0.0]]})
    >>> sf.quality.QualityConfig(valid_min=-5.0, per_sensor=pv).per_sensor.shape
    (1, 2)
    """

    outlier_method: OutlierMethod = "zscore"
    outlier_z: float = 3.0
    mad_threshold: float = 3.5
    flatline_tolerance: float = 1e-6
    flatline_min_length: int = 5
    flatline_ignore: tuple[float, ...] = ()
    max_stuck: timedelta = timedelta(days=1)
    gap_factor: float = 3.0
    expected_interval: timedelta | None = None
    valid_min: float | None = None
    valid_max: float | None = None
    suspect_min: float | None = None
    suspect_max: float | None = None
    outlier_window: int | timedelta = 25
    outlier_center: bool = True
    spike_threshold: float | None = None
    spike_noise_factor: float = 5.0
    spike_window: int = 25
    interpolation_min_length: int = 3
    interpolation_tolerance: float = 1e-6
    level_shift_window: int = 24
    level_shift_threshold: float = 6.0
    checks: tuple[str, ...] = RUNNABLE
    drift_threshold: float = 2.0
    status: StatusThresholds = field(default_factory=StatusThresholds)
    per_sensor: pl.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.outlier_method not in get_args(OutlierMethod):
            msg = (
                f"`outlier_method` must be one of {get_args(OutlierMethod)}, "
                f"got {self.outlier_method!r}"
            )
            raise ConfigError(msg)
        for name in (
            "outlier_z",
            "mad_threshold",
            "flatline_tolerance",
            "gap_factor",
            "spike_noise_factor",
            "interpolation_tolerance",
            "level_shift_threshold",
        ):
            _positive(name, getattr(self, name))
        if self.spike_threshold is not None:
            _positive("spike_threshold", self.spike_threshold)
        for name, least in (
            ("spike_window", 3),
            ("interpolation_min_length", 1),
            ("level_shift_window", 2),
        ):
            _integer(name, getattr(self, name), least)
        object.__setattr__(self, "outlier_window", _window(self.outlier_window))
        if not isinstance(self.outlier_center, bool):
            msg = f"`outlier_center` must be a bool, got {self.outlier_center!r}"
            raise ConfigError(msg)
        checks = self.checks
        if isinstance(checks, str) or not isinstance(checks, tuple | list):
            msg = f"`checks` must be a sequence of check names, got {checks!r}"
            raise ConfigError(msg)
        unknown = [c for c in checks if c not in RUNNABLE]
        if unknown:
            msg = f"`checks` has unknown check(s) {unknown}; choose from {RUNNABLE}"
            raise ConfigError(msg)
        object.__setattr__(
            self, "checks", tuple(c for c in RUNNABLE if c in checks or c == "missing")
        )
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
        bad = [v for v in values if not is_number(v) or not math.isfinite(v)]
        if bad:
            msg = f"`flatline_ignore` must hold finite numbers, got {bad!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "flatline_ignore", tuple(float(v) for v in values))
        _duration("expected_interval", self.expected_interval, optional=True)
        _duration("max_stuck", self.max_stuck, optional=False)
        for name in _BOUNDS:
            value = getattr(self, name)
            if value is not None and (not is_number(value) or not math.isfinite(value)):
                msg = f"`{name}` must be a finite number or None, got {value!r}"
                raise ConfigError(msg)
        if not isinstance(self.status, StatusThresholds):
            msg = f"`status` must be a StatusThresholds, got {self.status!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "per_sensor", checked_per_sensor(self.per_sensor))
        _check_bound_order(self)

    def defaults(self) -> dict[str, object]:
        """Return the config's value of every per-sensor field (what a null cell keeps)."""
        return {name: getattr(self, name) for name in PER_SENSOR}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QualityConfig):
            return NotImplemented
        mine, theirs = self.per_sensor, other.per_sensor
        same_frames = (mine is None and theirs is None) or (
            mine is not None and theirs is not None and mine.equals(theirs)
        )
        return same_frames and all(
            getattr(self, f.name) == getattr(other, f.name)
            for f in fields(self)
            if f.name != "per_sensor"
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in fields(self) if f.name != "per_sensor"))


_BOUNDS = ("valid_min", "suspect_min", "suspect_max", "valid_max")
"""The range bounds, in the order they must keep."""


def _integer(name: str, value: object, least: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= _MAX_LENGTH:
        msg = f"`{name}` must be an integer from {least} to {_MAX_LENGTH:_}, got {value!r}"
        raise ConfigError(msg)


def _window(value: object) -> int | timedelta:
    """Check an ``outlier_window``: rows (an int >= 3) or a duration (text, timedelta)."""
    if isinstance(value, int) and not isinstance(value, bool):
        _integer("outlier_window", value, 3)
        return value
    if not isinstance(value, str | timedelta):
        msg = f"`outlier_window` must be rows (an int) or a duration, got {value!r}"
        raise ConfigError(msg)
    try:
        return timedelta(microseconds=parse_duration_us(value, name="outlier_window"))
    except InvalidParameterError as exc:
        raise ConfigError(str(exc)) from exc


def _duration(name: str, value: object, *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, timedelta) or not timedelta(0) < value <= MAX_INTERVAL:
        msg = (
            f"`{name}` must be a positive timedelta of at most "
            f"{MAX_INTERVAL.days} days{', or None' if optional else ''}, got {value!r}"
        )
        raise ConfigError(msg)


def _check_bound_order(cfg: QualityConfig) -> None:
    """Refuse range bounds out of order, for the defaults and every per-sensor row."""
    frame = cfg.per_sensor if cfg.per_sensor is not None else pl.DataFrame({SENSOR: [None]})
    frame = frame.cast({SENSOR: pl.String})
    bounds = {
        name: pl.coalesce(
            *([pl.col(name)] if name in frame.columns else []),
            pl.lit(getattr(cfg, name), dtype=pl.Float64),
        ).alias(name)
        for name in _BOUNDS
    }
    for lower, upper in itertools.combinations(_BOUNDS, 2):
        bad = frame.filter((bounds[lower] > bounds[upper]).fill_null(value=False))
        if bad.height:
            sid, low, high = bad.select(SENSOR, bounds[lower], bounds[upper]).row(0)
            where = "" if sid is None else f" for sensor {sid!r}"
            msg = f"`{lower}` must be <= `{upper}`{where}, got {low!r} > {high!r}"
            raise ConfigError(msg)
