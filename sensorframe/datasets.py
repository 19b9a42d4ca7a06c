"""
Sample data: synthetic telemetry with labelled faults, and the NASA Telemanom layout.

:func:`synthetic` makes realistic multi-sensor telemetry (a daily cycle, a trend, noise,
different levels and scales per sensor) and injects faults whose positions it returns
as labels, so tests and demos can score what the quality and drift checks find.
:func:`load_telemanom` reads the public SMAP/MSL anomaly benchmark from a folder.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, NamedTuple, TypeAlias, get_args

import numpy as np
import polars as pl

from sensorframe._times import parse_duration_us
from sensorframe.errors import ConfigError, InvalidTypeError, SourceError
from sensorframe.frame import SENSOR, TIME, VALUE

__all__ = [
    "DEFAULT_FAULTS",
    "FAULTS",
    "MAX_READINGS",
    "VALID_RANGE",
    "Fault",
    "LabelledData",
    "load_telemanom",
    "synthetic",
]

Fault: TypeAlias = Literal[
    "spike",
    "flatline",
    "gap",
    "missing",
    "duplicate",
    "level_shift",
    "range",
    "interpolated",
    "dead",
]
FAULTS: tuple[Fault, ...] = get_args(Fault)
"""Every fault kind :func:`synthetic` can inject."""
DEFAULT_FAULTS: tuple[Fault, ...] = FAULTS[:6]
"""The kinds :func:`synthetic` injects by default (those of the first release)."""
VALID_RANGE = (-1_000.0, 1_000.0)
"""Physical limits of every synthetic sensor: clean readings stay inside, ``range`` faults
lie outside (a gross-range check with these bounds separates them)."""
_NEW_SLOT = 60
"""Fewest rows a fault's stretch needs when a ``range``, ``interpolated`` or ``dead``
fault is asked for (their stretches never overlap the next fault's)."""
_START = datetime(2026, 1, 1, tzinfo=UTC)
MAX_READINGS = 10**9
"""Most readings :func:`synthetic` generates (n_sensors x n_points): ~30 GB of frame."""
_LABEL_SCHEMA = pl.Schema(
    [
        (SENSOR, pl.String()),
        ("fault", pl.String()),
        ("start", pl.Datetime("us", "UTC")),
        ("end", pl.Datetime("us", "UTC")),
        ("rows", pl.Int64()),
    ]
)


class LabelledData(NamedTuple):
    """Readings in the canonical long form, and one row per labelled fault or anomaly."""

    frame: pl.DataFrame
    """``sensor_id``, ``timestamp``, ``value`` (plus ``split`` for Telemanom)."""
    labels: pl.DataFrame
    """``sensor_id``, ``fault``, ``start``, ``end`` (inclusive) and ``rows`` affected."""


def synthetic(
    n_sensors: int = 10,
    n_points: int = 1_000,
    *,
    freq: str | timedelta = "1m",
    start: datetime = _START,
    seed: int = 0,
    faults: Sequence[Fault] = DEFAULT_FAULTS,
    fault_fraction: float = 0.5,
    shift_at: float = 0.5,
    shift_size: float = 3.0,
) -> LabelledData:
    """
    Generate telemetry for many sensors with injected, labelled faults.

    Each sensor has its own level, scale, daily cycle, trend and noise. A fraction of
    the sensors (``fault_fraction``) gets faults: each requested kind but ``level_shift``
    lands in its own stretch (slot) of the first ``shift_at`` part of the series, in the
    order of ``faults``, so faults do not overlap.

    ============ ================================================================
    fault        what is injected
    ============ ================================================================
    spike        3 single readings 10 standard deviations away from the mean
    flatline     15-40 readings stuck at one value
    gap          15-40 readings removed (a hole in the timestamps)
    missing      5-20 consecutive readings set to NaN
    duplicate    3 readings repeated with the same timestamp
    level_shift  the level moves by ``shift_size`` standard deviations from
                 ``shift_at`` (a fraction of the series) to the end
    range        5-20 consecutive readings beyond :data:`VALID_RANGE` (all on one
                 side, 1.1 to 2 times the limit)
    interpolated 15-40 readings replaced by the straight line between the readings
                 before and after (a gap filled by linear interpolation)
    dead         the sensor reads exactly 0.0 for its whole slot but 20 rows (with
                 every kind asked for, ``n_points * shift_at * 0.9 / 8 - 20`` rows:
                 days at a 15-minute ``freq`` and 4,000 points)
    ============ ================================================================

    The default kinds (:data:`DEFAULT_FAULTS`) are those of the first release, and the
    same arguments give the same data as in that release.

    Parameters
    ----------
    n_sensors, n_points
        Number of sensors and readings per sensor (before gaps and duplicates); at
        most :data:`MAX_READINGS` (10**9) readings in all.
    freq
        Sampling interval: a ``timedelta`` or text in the duration grammar of
        :func:`~sensorframe.features.config.parse_duration_us` (``"10s"``, ``"1m"``,
        ``"90min"``, ``"1h30m"``, ``"1.5h"``).
    start
        Time of the first reading (naive means UTC).
    seed
        Seed of the random generator: the same arguments give the same data.
    faults
        Fault kinds to inject (any of :data:`FAULTS`); empty for clean data.
    fault_fraction
        Fraction of sensors that get faults (the first ones: ``S000``, ``S001`` ...).
    shift_at, shift_size
        Where the level shift starts (fraction of the series) and its size in units
        of the sensor's standard deviation.

    Returns
    -------
    LabelledData
        ``frame`` sorted by sensor and time, and ``labels``.

    Examples
    --------
    >>> data = sf.datasets.synthetic(n_sensors=3, n_points=500, seed=7)
    >>> data.frame.columns
    ['sensor_id', 'timestamp', 'value']
    >>> sorted(set(data.labels["fault"])) == sorted(sf.datasets.DEFAULT_FAULTS)
    True
    >>> dead = sf.datasets.synthetic(n_sensors=1, n_points=1_000, faults=["dead"], fault_fraction=1)
    >>> dead.labels.select("fault", "rows")
    shape: (1, 2)
    ┌───────┬──────┐
    │ fault ┆ rows │
    │ ---   ┆ ---  │
    │ str   ┆ i64  │
    ╞═══════╪══════╡
    │ dead  ┆ 440  │
    └───────┴──────┘
    """
    _check_synthetic(n_sensors, n_points, seed=seed, faults=faults)
    for name, number in (
        ("fault_fraction", fault_fraction),
        ("shift_at", shift_at),
        ("shift_size", shift_size),
    ):
        if isinstance(number, bool) or not isinstance(number, int | float):
            msg = f"`{name}` must be a number, got {type(number).__name__}"
            raise InvalidTypeError(msg)
    if not math.isfinite(shift_size):
        msg = f"`shift_size` must be finite, got {shift_size!r}"
        raise ConfigError(msg)
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        msg = f"unknown fault kind(s) {unknown}; choose from {FAULTS}"
        raise ConfigError(msg)
    if faults and n_points < 400:
        msg = f"injecting faults needs n_points >= 400, got {n_points}"
        raise ConfigError(msg)
    if not 0 < shift_at < 1 or not 0 <= fault_fraction <= 1:
        msg = "`shift_at` must be in (0, 1) and `fault_fraction` in [0, 1]"
        raise ConfigError(msg)
    slot_kinds = [f for f in faults if f != "level_shift"]
    slot = int(n_points * shift_at * 0.9) // max(len(slot_kinds), 1)
    if slot < _NEW_SLOT and set(slot_kinds) - set(DEFAULT_FAULTS):
        msg = (
            f"injecting {len(slot_kinds)} fault kinds with range, interpolated or dead "
            f"needs n_points * shift_at * 0.9 >= {_NEW_SLOT} rows per kind, got {slot}"
        )
        raise ConfigError(msg)
    step = _parse_freq(freq)
    _check_times(start, step, n_points)
    rng = np.random.default_rng(seed)
    values = _clean_signals(rng, n_sensors, n_points, step)
    std = values.std(axis=1)
    keep = np.ones_like(values, dtype=bool)
    duplicated: list[tuple[int, int]] = []
    labels: list[tuple[int, str, int, int]] = []  # sensor, fault, first row, last row

    n_faulty = round(n_sensors * fault_fraction) if faults else 0
    for s in range(n_faulty):
        for k, kind in enumerate(slot_kinds):
            lo = int(n_points * 0.05) + k * slot
            labels.extend(_inject(rng, kind, s, lo, slot, values, std, keep, duplicated))
        if "level_shift" in faults:
            first = int(n_points * shift_at)
            values[s, first:] += shift_size * std[s]
            labels.append((s, "level_shift", first, n_points - 1))

    return _assemble(values, keep, duplicated, labels, start=start, step=step)


def _inject(
    rng: np.random.Generator,
    kind: str,
    s: int,
    lo: int,
    slot: int,
    values: np.ndarray,
    std: np.ndarray,
    keep: np.ndarray,
    duplicated: list[tuple[int, int]],
) -> list[tuple[int, str, int, int]]:
    """Inject one fault of `kind` into row `s`, in the `slot` columns from `lo`; return labels."""
    hi = lo + (10 if kind == "dead" else slot - 45)
    first = int(rng.integers(lo, max(hi, lo + 1)))
    if kind == "spike":
        rows = np.sort(rng.choice(np.arange(first, first + 40), size=3, replace=False))
        signs = rng.choice([-1.0, 1.0], size=3)
        values[s, rows] = values[s].mean() + signs * 10.0 * std[s]
        return [(s, kind, int(r), int(r)) for r in rows]
    if kind == "flatline":
        n = int(rng.integers(15, 41))
        values[s, first : first + n] = values[s, first]
    elif kind == "gap":
        n = int(rng.integers(15, 41))
        keep[s, first : first + n] = False
    elif kind == "missing":
        n = int(rng.integers(5, 21))
        values[s, first : first + n] = np.nan
    elif kind == "range":
        n = int(rng.integers(5, 21))
        limit = VALID_RANGE[1] if rng.random() < 0.5 else VALID_RANGE[0]
        values[s, first : first + n] = limit * rng.uniform(1.1, 2.0, size=n)
    elif kind == "interpolated":
        n = int(rng.integers(15, 41))
        before, after = values[s, first - 1], values[s, first + n]
        values[s, first : first + n] = np.linspace(before, after, n + 2)[1:-1]
    elif kind == "dead":
        n = lo + slot - 10 - first
        values[s, first : first + n] = 0.0
    else:  # duplicate
        rows = first + np.array([0, 7, 19])
        duplicated.extend((s, int(r)) for r in rows)
        return [(s, kind, int(r), int(r)) for r in rows]
    return [(s, kind, first, first + n - 1)]


def _clean_signals(
    rng: np.random.Generator, n_sensors: int, n_points: int, step: timedelta
) -> np.ndarray:
    seconds = np.arange(n_points) * step.total_seconds()
    level = rng.uniform(-50, 150, size=(n_sensors, 1))
    scale = 10 ** rng.uniform(-1, 2, size=(n_sensors, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n_sensors, 1))
    trend = rng.normal(0, 0.5, size=(n_sensors, 1)) * scale
    daily = (
        np.sin(2 * np.pi * seconds / 86_400 + phase) * scale * rng.uniform(0.5, 2, (n_sensors, 1))
    )
    noise = (
        rng.normal(0, 1, size=(n_sensors, n_points)) * scale * rng.uniform(0.1, 0.3, (n_sensors, 1))
    )
    return level + daily + trend * np.linspace(0, 1, n_points) + noise


def _assemble(
    values: np.ndarray,
    keep: np.ndarray,
    duplicated: list[tuple[int, int]],
    labels: list[tuple[int, str, int, int]],
    *,
    start: datetime,
    step: timedelta,
) -> LabelledData:
    n_sensors = values.shape[0]
    width = len(str(n_sensors - 1))
    ids = np.array([f"S{i:0{max(width, 3)}d}" for i in range(n_sensors)])
    origin = np.datetime64(_as_utc(start).replace(tzinfo=None), "us")
    step_us = np.timedelta64(int(step / timedelta(microseconds=1)), "us")
    sensor_idx, row_idx = np.nonzero(keep)
    if duplicated:
        dup = np.array(duplicated)
        sensor_idx = np.concatenate([sensor_idx, dup[:, 0]])
        row_idx = np.concatenate([row_idx, dup[:, 1]])
    order = np.lexsort((row_idx, sensor_idx))
    sensor_idx, row_idx = sensor_idx[order], row_idx[order]
    frame = pl.DataFrame(
        {
            SENSOR: ids[sensor_idx],
            TIME: origin + row_idx * step_us,
            VALUE: values[sensor_idx, row_idx],
        }
    ).with_columns(
        pl.col(TIME).dt.replace_time_zone("UTC"),
        pl.col(VALUE).fill_nan(None),
    )
    lab = np.array([(s, a, b) for s, _, a, b in labels], dtype=np.int64).reshape(-1, 3)
    label_frame = pl.DataFrame(
        {
            SENSOR: ids[lab[:, 0]],
            "fault": [kind for _, kind, _, _ in labels],
            "start": origin + lab[:, 1] * step_us,
            "end": origin + lab[:, 2] * step_us,
            "rows": lab[:, 2] - lab[:, 1] + 1,
        },
        schema_overrides={"fault": pl.String, SENSOR: pl.String},
    ).with_columns(pl.col("start", "end").dt.replace_time_zone("UTC"))
    return LabelledData(frame, label_frame.cast(_LABEL_SCHEMA))


def load_telemanom(
    root: str | Path,
    *,
    channels: Sequence[str] | None = None,
    freq: str | timedelta = "1m",
    start: datetime = _START,
) -> LabelledData:
    r"""
    Read the NASA SMAP/MSL anomaly benchmark (Telemanom layout) into the long form.

    The layout is ``train/<channel>.npy``, ``test/<channel>.npy`` and
    ``labeled_anomalies.csv`` (columns ``chan_id``, ``spacecraft``,
    ``anomaly_sequences``, ``class``, ``num_values``). The value is the first column of
    each array (the telemetry; the others are command flags). The arrays carry no
    times, so readings get ``start + i * freq``, the test part following the train
    part; a ``split`` column says which part a row comes from. Anomaly sequences index
    the test array and become labels with fault ``"anomaly"``.

    Parameters
    ----------
    root
        Folder holding ``train/``, ``test/`` and ``labeled_anomalies.csv``.
    channels
        Channel ids to read; by default all in ``test/``.
    freq, start
        Sampling interval (as in :func:`synthetic`) and start time given to the readings.

    Raises
    ------
    SourceError
        If the folder does not have the layout, or a channel is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for part in ("train", "test"):
    ...     (root / part).mkdir()
    ...     np.save(root / part / "P-1.npy", np.ones((5, 3)))
    >>> _ = (root / "labeled_anomalies.csv").write_text(
    ...     'chan_id,spacecraft,anomaly_sequences,class,num_values\n'
    ...     'P-1,SMAP,"[[1, 2]]",[point],5\n'
    ... )
    >>> data = sf.datasets.load_telemanom(root)
    >>> data.frame.height, data.labels["rows"].to_list()
    (10, [2])
    """
    if not isinstance(root, str | os.PathLike):
        msg = f"`root` must be a folder path, got {type(root).__name__}"
        raise InvalidTypeError(msg)
    base = Path(root)
    csv = base / "labeled_anomalies.csv"
    if not (base / "test").is_dir() or not csv.is_file():
        msg = f"{base} is not in the Telemanom layout (needs test/ and labeled_anomalies.csv)"
        raise SourceError(msg)
    names = (
        list(channels)
        if channels is not None
        else sorted(p.stem for p in (base / "test").glob("*.npy"))
    )
    step_us = np.timedelta64(int(_parse_freq(freq) / timedelta(microseconds=1)), "us")
    _check_times(start, timedelta(0), 1)
    origin = np.datetime64(_as_utc(start).replace(tzinfo=None), "us")
    parts: list[pl.DataFrame] = []
    offsets: dict[str, int] = {}
    for name in names:  # one file per channel: I/O bound, not a hot path
        train = _load_channel(base / "train" / f"{name}.npy", required=False)
        test = _load_channel(base / "test" / f"{name}.npy", required=True)
        offsets[name] = len(train)
        values = np.concatenate([train, test])
        parts.append(
            pl.DataFrame(
                {
                    SENSOR: pl.repeat(name, len(values), dtype=pl.String, eager=True),
                    TIME: origin + np.arange(len(values)) * step_us,
                    VALUE: values,
                    "split": np.repeat(["train", "test"], [len(train), len(test)]),
                }
            )
        )
    frame = (
        pl.concat(parts)
        if parts
        else pl.DataFrame(schema={SENSOR: pl.String, TIME: pl.Datetime("us"), VALUE: pl.Float64})
    )
    frame = frame.with_columns(
        pl.col(TIME).dt.replace_time_zone("UTC"), pl.col(VALUE).fill_nan(None)
    )
    table = pl.read_csv(csv).filter(pl.col("chan_id").is_in(names))
    rows = [
        (chan, offsets[chan] + a, offsets[chan] + b)
        for chan, seqs in zip(table["chan_id"], table["anomaly_sequences"], strict=True)
        for a, b in json.loads(seqs)
    ]
    lab = np.array([(a, b) for _, a, b in rows], dtype=np.int64).reshape(-1, 2)
    labels = pl.DataFrame(
        {
            SENSOR: pl.Series([c for c, _, _ in rows], dtype=pl.String),
            "fault": pl.repeat("anomaly", len(rows), dtype=pl.String, eager=True),
            "start": origin + lab[:, 0] * step_us,
            "end": origin + lab[:, 1] * step_us,
            "rows": lab[:, 1] - lab[:, 0] + 1,
        }
    ).with_columns(pl.col("start", "end").dt.replace_time_zone("UTC"))
    return LabelledData(frame, labels)


def _load_channel(path: Path, *, required: bool) -> np.ndarray:
    if not path.is_file():
        if required:
            msg = f"channel file not found: {path}"
            raise SourceError(msg)
        return np.empty(0)
    array = np.load(path)
    return np.asarray(array[:, 0] if array.ndim == 2 else array, dtype=np.float64)


def _check_synthetic(n_sensors: int, n_points: int, *, seed: int, faults: object) -> None:
    for name, count in (("n_sensors", n_sensors), ("n_points", n_points), ("seed", seed)):
        if isinstance(count, bool) or not isinstance(count, int):
            msg = f"`{name}` must be an int, got {type(count).__name__}"
            raise InvalidTypeError(msg)
    if n_sensors < 1 or n_points < 1:
        msg = f"need n_sensors >= 1 and n_points >= 1, got {n_sensors} and {n_points}"
        raise ConfigError(msg)
    if n_sensors * n_points > MAX_READINGS:
        msg = (
            f"n_sensors x n_points = {n_sensors * n_points:_} readings is more than "
            f"{MAX_READINGS:_}"
        )
        raise ConfigError(msg)
    if seed < 0:
        msg = f"`seed` must be >= 0, got {seed}"
        raise ConfigError(msg)
    if isinstance(faults, str) or not isinstance(faults, Sequence):
        msg = f"`faults` must be a sequence of fault kinds, got {type(faults).__name__}"
        raise InvalidTypeError(msg)


def _check_times(start: object, step: timedelta, n_points: int) -> None:
    """Refuse a start that is no datetime, or readings that would end after 9999."""
    if not isinstance(start, datetime):
        msg = f"`start` must be a datetime, got {type(start).__name__}"
        raise InvalidTypeError(msg)
    try:
        # 2 * n_points: gaps and duplicates never move a reading past twice the series
        _as_utc(start) + step * (2 * n_points)
    except OverflowError as exc:
        msg = f"readings from {start.isoformat()} every {step} would run past the year 9999"
        raise ConfigError(msg) from exc


def _parse_freq(freq: str | timedelta) -> timedelta:
    """Read ``freq`` in the one duration grammar; too long a step runs past the year 9999."""
    micros = parse_duration_us(freq, name="freq", limit=None)
    try:
        return timedelta(microseconds=micros)
    except OverflowError as exc:
        msg = f"`freq` {freq!r} is too long: readings would run past the year 9999"
        raise ConfigError(msg) from exc


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
