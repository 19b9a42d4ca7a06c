"""
Incremental feature runs: the history a config needs, and the state that continues it.

:func:`feature_context` says how much of each sensor's history a :class:`FeatureConfig`
needs to compute the features of a new row exactly: the trailing rows (or duration)
of the windowed families, and which families need running state instead.
:class:`FeatureState` holds both per sensor, and :func:`continue_features` computes
the features of new rows only and returns the next state:

* windowed families (rolling, lags, differences, pct change, rates, volatility,
  spectral, calendar) run on the normal engine (:func:`engineer_features`) over each
  sensor's trailing rows followed by its new rows; the trailing rows' results are
  dropped. Every such feature depends on the rows of its own window only, so the new
  rows' features equal, bit for bit, those of one run over the whole history;
* EWM and expanding statistics continue from the running state
  (:mod:`sensorframe.features.recurrences`): bit for bit too, except ``ewm_std``,
  whose recurrence is written out there (relative difference below about 1e-15 for
  spans up to 100).

New rows must be newer than their sensor's last processed time: rows at or before it
(late or corrected readings) raise :class:`~sensorframe.errors.SensorSchemaError`
naming the sensors, and nothing is computed. Recompute such a sensor from scratch:
drop it from the state (:meth:`FeatureState.without`) and pass its whole history with
the new rows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

import polars as pl

from sensorframe._order import sort_frame
from sensorframe._utils import checked_config, preview
from sensorframe.errors import ConfigError, InvalidTypeError, SensorSchemaError
from sensorframe.features.config import (
    FeatureConfig,
    duration_text,
    feature_names,
    parse_duration_us,
)
from sensorframe.features.engine import engineer_features
from sensorframe.features.recurrences import RUNNING_STATE, running_families, running_features
from sensorframe.frame import SENSOR, TIME, VALUE, scan

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from sensorframe._typing import FrameInput

__all__ = ["FeatureContext", "FeatureState", "continue_features", "feature_context"]

LAST_TIME = "last_time"
ROWS = "rows"
_FORMAT = 1
"""Version of the layout :meth:`FeatureState.to_frames` writes."""
_KEYS = {SENSOR: pl.String(), TIME: pl.Datetime("us", "UTC"), VALUE: pl.Float64()}


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureContext:
    """
    The history each sensor needs for a :class:`FeatureConfig` to be exact.

    Attributes
    ----------
    history
        Rows of history before a new row that each windowed family of the config needs:
        ``rolling`` w - 1 (the longest row-count window), ``lag`` and ``diff`` k,
        ``pct_change`` and ``rate_of_change`` 1, ``acceleration`` 2, ``volatility`` w,
        ``spectral`` window - 1 (plus step - 1 with a spectral step), ``calendar`` and
        ``cyclical`` 0.
    duration
        The longest duration window (``"1h"``), or None: the rows within it before a new
        row, and the one row before those, are needed too.
    running
        Families computed from running state, not from trailing rows: ``ewm`` (mean and
        std) and ``expanding`` (mean and std).
    inexact
        Feature columns that a continued run gives equal to a full run up to rounding
        only, not bit for bit: ``ewm_std`` (its own recurrence, see
        :mod:`sensorframe.features.recurrences`), and the means and stds that the engine
        computes with Polars' running-sum window kernels, whose last bits depend on the
        rows before the window: duration windows, and with `min_samples` every
        row-count window and volatility. Relative differences seen are below 1e-14.
    """

    history: Mapping[str, int]
    duration: str | None
    running: tuple[str, ...]
    inexact: tuple[str, ...]

    @property
    def rows(self) -> int:
        """The most rows of history any windowed family needs."""
        return max(self.history.values(), default=0)


def feature_context(config: FeatureConfig | None = None) -> FeatureContext:
    """
    Return the history a config needs per sensor to continue a feature run exactly.

    Parameters
    ----------
    config
        The feature config; :meth:`FeatureConfig.default` when None.

    Returns
    -------
    FeatureContext
        Rows of history per windowed family (``.rows`` the most), the longest duration
        window, and the families that need running state.

    Raises
    ------
    InvalidTypeError
        If `config` is not a :class:`FeatureConfig`.

    Examples
    --------
    >>> from sensorframe.features.state import feature_context
    >>> ctx = feature_context(sf.FeatureConfig.default())
    >>> ctx.rows, ctx.history["spectral"], ctx.history["lag"], ctx.running
    (63, 63, 12, ('ewm', 'expanding'))
    >>> ctx.inexact
    ('ewm_std',)
    >>> feature_context(sf.FeatureConfig(rolling_windows=[6, "1h"])).duration
    '1h'
    """
    cfg = checked_config(config, FeatureConfig) if config is not None else FeatureConfig.default()
    counts = [w for w in cfg.rolling_windows if isinstance(w, int)]
    spans = [parse_duration_us(w) for w in cfg.rolling_windows if isinstance(w, str)]
    history = {
        "rolling": (max(counts, default=1) - 1) if cfg.rolling_windows else None,
        "lag": max(cfg.lags, default=None),
        "diff": max(cfg.diffs, default=None),
        "pct_change": 1 if cfg.pct_change else None,
        "rate_of_change": 1 if cfg.rate_of_change else None,
        "acceleration": 2 if cfg.acceleration else None,
        "volatility": max(cfg.volatility_windows, default=None),
        "spectral": cfg.spectral_window + cfg.spectral_step - 2 if cfg.spectral else None,
        "calendar": 0 if cfg.calendar else None,
        "cyclical": 0 if cfg.cyclical else None,
    }
    return FeatureContext(
        history=MappingProxyType({k: v for k, v in history.items() if v is not None}),
        duration=duration_text(max(spans)) if spans else None,
        running=running_families(cfg),
        inexact=tuple(n for n in feature_names(cfg) if _running_sum_kernel(n, cfg)),
    )


def _running_sum_kernel(name: str, cfg: FeatureConfig) -> bool:
    """Tell whether feature `name` comes from a recurrence or a running-sum window kernel."""
    if name == "ewm_std":
        return True
    if name.startswith("volatility_"):
        return cfg.min_samples is not None
    if not name.startswith("rolling_") or not name.endswith(("_mean", "_std")):
        return False
    window = name.removeprefix("rolling_").rsplit("_", 1)[0]
    return cfg.min_samples is not None or not window.isdecimal()


def _sensor_schema(cfg: FeatureConfig) -> dict[str, pl.DataType]:
    running = {c: t for f in running_families(cfg) for c, t in RUNNING_STATE[f].items()}
    return {SENSOR: pl.String(), LAST_TIME: _KEYS[TIME], ROWS: pl.Int64(), **running}


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class FeatureState:
    """
    Where a feature run stopped, per sensor: what :func:`continue_features` continues.

    Build it with :meth:`empty` and :func:`continue_features` (whose first run over a
    history gives that history's features and state), store it with :meth:`to_frames`
    (plain Polars frames, e.g. as Delta tables) and read it back with
    :meth:`from_frames`.

    Attributes
    ----------
    config
        The feature config the state was built for; continuing with another one is an
        error.
    sensors
        One row per sensor, sorted by id: ``sensor_id``, ``last_time`` (the last
        processed timestamp), ``rows`` (rows processed) and the running state of the
        EWM (``ewm_mean``, ``ewm_var``, ``ewm_count``) and expanding families
        (``expanding_first``, ``expanding_count``, ``expanding_sum``,
        ``expanding_sum_sq``) when the config computes them; see
        :mod:`sensorframe.features.recurrences`.
    trailing
        ``sensor_id``, ``timestamp``, ``value``: each sensor's last rows, as many as
        :func:`feature_context` asks for (for a spectral step, starting at a multiple of
        the step), in (sensor, time) order.

    Raises
    ------
    InvalidTypeError
        If `config` is not a :class:`FeatureConfig`.
    SensorSchemaError
        If a frame lacks a column or has another type.

    Examples
    --------
    >>> from sensorframe.features.state import FeatureState
    >>> state = FeatureState.empty(sf.FeatureConfig(expanding=True))
    >>> state.sensors.columns[:4]
    ['sensor_id', 'last_time', 'rows', 'expanding_first']
    >>> sorted(state.to_frames())
    ['config', 'sensors', 'trailing']
    """

    config: FeatureConfig
    sensors: pl.DataFrame
    trailing: pl.DataFrame

    def __post_init__(self) -> None:
        checked_config(self.config, FeatureConfig)
        for name, schema in (("sensors", _sensor_schema(self.config)), ("trailing", _KEYS)):
            frame = getattr(self, name)
            got = dict(frame.schema) if isinstance(frame, pl.DataFrame) else None
            if got != schema:
                msg = f"FeatureState.{name} must have the schema {schema}, got {got or frame!r}"
                raise SensorSchemaError(msg)

    @classmethod
    def empty(cls, config: FeatureConfig) -> FeatureState:
        """
        Return the state of a run that has seen no rows yet.

        Examples
        --------
        >>> FeatureState.empty(sf.FeatureConfig(lags=[1])).sensors.height
        0
        """
        checked_config(config, FeatureConfig)
        return cls(
            config=config,
            sensors=pl.DataFrame(schema=_sensor_schema(config)),
            trailing=pl.DataFrame(schema=_KEYS),
        )

    def without(self, sensors: Iterable[str]) -> FeatureState:
        """
        Return the state without these sensors, so they start from scratch.

        Examples
        --------
        >>> from sensorframe.features.state import FeatureState
        >>> state = FeatureState.empty(sf.FeatureConfig(lags=[1]))
        >>> state.without(["a"]).sensors.height
        0
        """
        drop = pl.col(SENSOR).is_in(list(sensors))
        return FeatureState(
            config=self.config,
            sensors=self.sensors.filter(~drop),
            trailing=self.trailing.filter(~drop),
        )

    def to_frames(self) -> dict[str, pl.DataFrame]:
        """
        Return the state as Polars frames: ``config`` (one row, JSON), ``sensors``, ``trailing``.

        Examples
        --------
        >>> from sensorframe.features.state import FeatureState
        >>> state = FeatureState.empty(sf.FeatureConfig(lags=[1]))
        >>> state.to_frames()["config"]["format"].to_list()
        [1]
        """
        text = json.dumps(asdict(self.config), sort_keys=True)
        config = pl.DataFrame({"format": [_FORMAT], "config": [text]})
        return {"config": config, "sensors": self.sensors, "trailing": self.trailing}

    @classmethod
    def from_frames(cls, frames: Mapping[str, pl.DataFrame]) -> FeatureState:
        """
        Rebuild a state from the frames of :meth:`to_frames`.

        Raises
        ------
        SensorSchemaError
            If a frame is missing or has other columns.
        ConfigError
            If the config row is not one this version wrote.

        Examples
        --------
        >>> from sensorframe.features.state import FeatureState
        >>> state = FeatureState.empty(sf.FeatureConfig(lags=[1]))
        >>> FeatureState.from_frames(state.to_frames()).config.lags
        (1,)
        """
        missing = [n for n in ("config", "sensors", "trailing") if n not in frames]
        if missing:
            msg = f"the FeatureState frames lack {missing}"
            raise SensorSchemaError(msg)
        row = frames["config"]
        if row.columns != ["format", "config"] or row.height != 1 or row[0, "format"] != _FORMAT:
            msg = f"the FeatureState config frame is not one of format {_FORMAT}: {row}"
            raise ConfigError(msg)
        try:
            options = json.loads(row[0, "config"])
            known = {f.name for f in fields(FeatureConfig)}
            config = FeatureConfig(**{k: v for k, v in options.items() if k in known})
        except (TypeError, ValueError) as exc:
            msg = f"the FeatureState config frame holds no FeatureConfig: {row[0, 'config']!r}"
            raise ConfigError(msg) from exc
        return cls(config=config, sensors=frames["sensors"], trailing=frames["trailing"])


def _check_config(config: FeatureConfig, state: FeatureState) -> list[str]:
    """Refuse a state built for another config; return the feature names."""
    checked_config(config, FeatureConfig)
    if not isinstance(state, FeatureState):
        msg = f"`state` must be a FeatureState, got {type(state).__name__}"
        raise InvalidTypeError(msg)
    if state.config != config:
        changed = [
            f"{f.name}: {getattr(state.config, f.name)!r} -> {getattr(config, f.name)!r}"
            for f in fields(FeatureConfig)
            if getattr(state.config, f.name) != getattr(config, f.name)
        ]
        msg = (
            f"the FeatureState was built for another FeatureConfig ({'; '.join(changed)}); "
            "recompute from FeatureState.empty(config)"
        )
        raise ConfigError(msg)
    names = feature_names(config)
    if not names:
        msg = "the FeatureConfig selects no feature (groups are opt-in since 0.2.0)"
        raise ConfigError(msg)
    return names


def _check_newer(rows: pl.DataFrame, state: FeatureState) -> None:
    """Refuse rows at or before their sensor's last processed time."""
    late = (
        rows.group_by(SENSOR)
        .agg(pl.col(TIME).min().alias("first_new"))
        .join(state.sensors.select(SENSOR, LAST_TIME), on=SENSOR)
        .filter(pl.col("first_new") <= pl.col(LAST_TIME))
        .sort(SENSOR)
    )
    if late.height:
        shown = preview(
            f"{s} (a row at {t.isoformat()}, last processed {last.isoformat()})"
            for s, t, last in late.iter_rows()
        )
        msg = (
            f"{late.height} sensor(s) have rows at or before their last processed time: "
            f"{shown}; recompute them from scratch (FeatureState.without and their whole "
            "history)"
        )
        raise SensorSchemaError(msg)


def _trailing(history: pl.DataFrame, counts: pl.DataFrame, cfg: FeatureConfig) -> pl.DataFrame:
    """
    Keep the last rows of each sensor of `history` that the next run needs.

    `history` holds every sensor's rows known to this run in (sensor, time) order (its
    trailing rows, then its new ones); `counts` each sensor's rows processed in all.
    """
    context = feature_context(cfg)
    total = pl.col(ROWS)
    need: pl.Expr = pl.lit(context.rows, dtype=pl.Int64)
    if context.duration is not None:
        span = timedelta(microseconds=parse_duration_us(context.duration))
        inside = (pl.col(TIME) > pl.col(TIME).max() - span).sum() + 1  # and the row before
        need = pl.max_horizontal(need, inside.over(SENSOR).cast(pl.Int64))
    keep = pl.min_horizontal(total, need)
    if cfg.spectral and cfg.spectral_step > 1:  # start at a multiple of the step
        keep = pl.min_horizontal(total, keep + (total - keep) % cfg.spectral_step)
    from_end = (pl.len() - pl.int_range(pl.len())).over(SENSOR)  # 1 at a sensor's last row
    return (
        history.join(counts, on=SENSOR, how="left", maintain_order="left")
        .filter(from_end <= keep)
        .select(SENSOR, TIME, VALUE)
    )


def _merge(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Take the rows of `new`, and those of `old` for sensors `new` lacks; sort by sensor."""
    kept = old.join(new.select(SENSOR).unique(), on=SENSOR, how="anti")
    return pl.concat([kept, new.select(old.columns)]).sort(SENSOR, maintain_order=True)


def continue_features(
    new: FrameInput, config: FeatureConfig, state: FeatureState
) -> tuple[pl.DataFrame, FeatureState]:
    """
    Compute the features of new rows only, continuing from a saved state.

    The result equals the new rows of one :func:`engineer_features` run over the whole
    history (every earlier row and the new ones): bit for bit, except the columns of
    ``feature_context(config).inexact`` (``ewm_std``, and the means and stds of
    duration windows or of windows with `min_samples`), equal up to rounding (relative
    differences below 1e-14 seen). Windowed features run on the engine over
    each sensor's trailing rows and its new rows; EWM and expanding statistics continue
    from the running state. Sensors the state does not know start from scratch, so
    ``continue_features(history, config, FeatureState.empty(config))`` is a full run.

    Parameters
    ----------
    new
        The new readings (anything :func:`sensorframe.scan` accepts); every row must be
        newer than its sensor's last processed time.
    config
        The feature config; it must be the state's.
    state
        The state after the previous rows (:meth:`FeatureState.empty` for none).

    Returns
    -------
    features : DataFrame
        ``sensor_id``, ``timestamp``, ``value`` and the features of `config`, one row
        per new row, sorted by (sensor, time), as :func:`engineer_features` gives them.
    state : FeatureState
        The state after the new rows (the sensors without new rows unchanged).

    Raises
    ------
    InvalidTypeError
        If `config` or `state` has the wrong type.
    ConfigError
        If `state` was built for another config, or `config` selects no feature.
    SensorSchemaError
        If a sensor has rows at or before its last processed time (late or corrected
        readings); the message names the sensors. Nothing is computed then.

    Examples
    --------
    >>> from sensorframe.features.state import FeatureState, continue_features
    >>> cfg = sf.FeatureConfig(lags=[1], expanding=True)
    >>> df = pl.DataFrame(
    ...     {
    ...         "sensor_id": ["a", "a", "a"],
    ...         "timestamp": ["2026-01-01T00:00", "2026-01-01T00:01", "2026-01-01T00:02"],
    ...         "value": [1.0, 2.0, 6.0],
    ...     }
    ... )
    >>> _, state = continue_features(df.head(2), cfg, FeatureState.empty(cfg))
    >>> feats, state = continue_features(df.tail(1), cfg, state)
    >>> feats.select("value", "lag_1", "expanding_mean").rows()
    [(6.0, 2.0, 3.0)]
    >>> state.sensors.select("sensor_id", "rows", "expanding_count").rows()
    [('a', 3, 3)]
    """
    names = _check_config(config, state)
    rows = sort_frame(scan(new).select(SENSOR, TIME, VALUE).collect())
    _check_newer(rows, state)
    running = [n for n in names if n.split("_", 1)[0] in feature_context(config).running]
    windowed = [n for n in names if n not in running]
    ids = rows.select(pl.col(SENSOR).unique())
    counts = (
        rows.group_by(SENSOR)
        .agg(pl.col(TIME).max().alias(LAST_TIME), pl.len().cast(pl.Int64).alias(ROWS))
        .join(state.sensors.select(SENSOR, ROWS), on=SENSOR, how="left", suffix="_before")
        .select(SENSOR, LAST_TIME, pl.col(ROWS) + pl.col(f"{ROWS}_before").fill_null(0))
    )
    trailing = state.trailing
    if windowed:
        history = pl.concat([state.trailing.join(ids, on=SENSOR, how="semi"), rows])
        windows = replace(config, ewm_span=None, expanding=False)
        computed = engineer_features(history, windows).collect()
        before = state.sensors.select(SENSOR, pl.col(LAST_TIME).alias("__sf_before"))
        rows = (
            computed.join(before, on=SENSOR, how="left", maintain_order="left")
            .filter(pl.col("__sf_before").is_null() | (pl.col(TIME) > pl.col("__sf_before")))
            .drop("__sf_before")
        )
        trailing = _merge(trailing, _trailing(history, counts.select(SENSOR, ROWS), config))
    carried = counts
    if running:
        values, after = running_features(rows, state.sensors, config)
        rows = rows.hstack(values)
        carried = carried.join(after, on=SENSOR, how="left")
    out = rows.select(SENSOR, TIME, VALUE, *names)
    sensors = _merge(state.sensors, carried.select(state.sensors.columns))
    return out, FeatureState(config=config, sensors=sensors, trailing=trailing)
