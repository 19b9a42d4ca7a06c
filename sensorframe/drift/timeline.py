"""
Drift over time: every sensor's current readings cut into chunks, each compared with the reference.

:func:`drift_timeline` fits a :class:`~sensorframe.drift.DriftDetector` on the
reference and scores each chunk of a frame (a day, an hour, or a number of readings)
against it, as NannyML scores its chunks: one row per sensor and chunk with every
statistic of the drift report, the severity and the alarm. :func:`detect_timeline`
does the same with a detector fitted before (``DriftDetector.detect_timeline``).

Chunks
------
``every`` is a duration in the project's one grammar (``"1d"``, ``"6h"``,
``"90min"``, a ``timedelta``) or a number of readings:

* A duration cuts time into windows ``[chunk_start, chunk_end)`` of that length,
  aligned on the epoch as ``group_by_dynamic`` aligns them (``"1d"`` starts at
  midnight UTC, ``"7d"`` on Thursdays like 1970-01-01). Every window from the frame's
  first reading to its last is a chunk, an empty one included (its sensors are
  ``"all_missing"``), so a day without data shows as a gap.
* An integer ``N`` cuts each sensor's rows, in time order, into runs of ``N`` rows
  (the last may be shorter); ``chunk_start`` and ``chunk_end`` are then the first and
  last reading's time of that sensor's chunk.

Each chunk is one :meth:`DriftDetector.detect` call over all sensors at once, so the
Benjamini-Hochberg correction runs across the sensors **within a chunk** (as if each
chunk were checked on its own, on its day), and each row equals
``detect_drift(reference, chunk)``. A chunk loop is cheap: a call costs a merge of
each sensor's reference with the chunk's readings, which a single call over every
(sensor, chunk) pair would cost too; the number of chunks is bounded by
:data:`MAX_CHUNKS`.

Reference chunks
----------------
A chunk whose time span meets the reference's (the first and last reference reading
of any sensor) holds reference readings: scored against a reference that contains
them it looks more alike than it is (NannyML issue 426). With ``leave_out=True`` (the
default) such a chunk is scored against the reference **without the readings in the
chunk's span** (of the chunk's sensor, for row chunks), refitted once per such chunk;
``in_reference`` marks these rows. ``leave_out=False`` scores every chunk against the
whole reference. A fitted detector keeps no reference times, so
:func:`detect_timeline` scores every chunk against the whole profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

import numpy as np
import polars as pl

from sensorframe._order import in_order, sort_frame
from sensorframe._times import parse_duration_us
from sensorframe._utils import checked_config
from sensorframe.drift.config import DriftConfig
from sensorframe.drift.detector import DriftDetector
from sensorframe.errors import ConfigError, InvalidTypeError
from sensorframe.frame import SENSOR, TIME, VALUE, scan

__all__ = ["MAX_CHUNKS", "Every", "detect_timeline", "drift_timeline"]

Every: TypeAlias = str | timedelta | int
"""A chunk length: a duration (``"1d"``, ``timedelta``) or a number of readings."""
MAX_CHUNKS = 10_000
"""Most chunks a timeline may have (each is one detection over all sensors)."""
_MAX_ROWS = 10**9
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_TYPE = pl.Datetime("us", "UTC")
Window: TypeAlias = tuple[datetime, datetime] | None
_LEADING = ("chunk", "chunk_start", "chunk_end", SENSOR, "rows", "in_reference")


def _chunk_length(every: object) -> tuple[int, bool]:
    """Return ``(length, by_rows)``: microseconds of a duration, or a row count."""
    if isinstance(every, bool):
        msg = f"`every` must be a duration or a number of readings, got {every!r}"
        raise InvalidTypeError(msg)
    if isinstance(every, int):
        if not 1 <= every <= _MAX_ROWS:
            msg = f"`every` as a number of readings must be 1 to {_MAX_ROWS:_}, got {every}"
            raise ConfigError(msg)
        return every, True
    if not isinstance(every, str | timedelta):
        msg = (
            "`every` must be a duration ('1d', timedelta) or a number of readings, "
            f"got {type(every).__name__}"
        )
        raise InvalidTypeError(msg)
    return parse_duration_us(every, name="every"), False


def _too_many(count: int, every: Every) -> None:
    if count > MAX_CHUNKS:
        msg = (
            f"`every`={every!r} cuts the frame into {count:_} chunks, more than "
            f"{MAX_CHUNKS:_}: use longer chunks or a shorter frame"
        )
        raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class _Chunks:
    """A frame cut into chunks: which rows each chunk holds, and its window."""

    frame: pl.DataFrame
    order: np.ndarray
    """Row positions grouped by chunk, each chunk in the frame's order."""
    sizes: np.ndarray
    """Rows per chunk: chunk ``k`` is ``order[offsets[k]:][:sizes[k]]``."""
    offsets: np.ndarray
    starts: np.ndarray | None
    """Duration chunks: each window's start, microseconds since the epoch; else None."""
    length: int

    def rows(self, chunk: int) -> pl.DataFrame:
        """Return the rows of one chunk."""
        offset = int(self.offsets[chunk])
        return self.frame[self.order[offset : offset + int(self.sizes[chunk])]]

    def window(self, chunk: int) -> tuple[datetime, datetime] | None:
        """``[chunk_start, chunk_end)`` of a duration chunk (None for row chunks)."""
        if self.starts is None:
            return None
        start = _EPOCH + timedelta(microseconds=int(self.starts[chunk]))
        return start, start + timedelta(microseconds=self.length)


def _chunks(df: pl.DataFrame, every: Every) -> _Chunks:
    """Cut the rows into chunks numbered from 0 in time order (see the module docstring)."""
    length, by_rows = _chunk_length(every)
    if by_rows:
        lengths = in_order(df)
        if lengths is None:
            df = sort_frame(df)
            lengths = in_order(df)
            assert lengths is not None
        sensor_start = np.repeat(np.cumsum(lengths) - lengths, lengths)
        chunk = pl.Series((np.arange(df.height, dtype=np.int64) - sensor_start) // length)
    else:
        chunk = df.get_column(TIME).dt.epoch("us") // length
    first, last = (chunk.min(), chunk.max()) if len(chunk) else (0, -1)
    assert isinstance(first, int)
    assert isinstance(last, int)
    count = last - first + 1
    _too_many(count, every)
    # 16-bit keys (MAX_CHUNKS fits), which NumPy's stable sort sorts by radix
    key = (chunk - first).cast(pl.UInt16).to_numpy()
    starts = None if by_rows else (np.arange(count, dtype=np.int64) + first) * length
    order = np.argsort(key, kind="stable")
    sizes = np.bincount(key, minlength=count)
    return _Chunks(df, order, sizes, np.cumsum(sizes) - sizes, starts, length)


def _left_out(reference: pl.DataFrame, chunk: pl.DataFrame, window: Window) -> pl.DataFrame:
    """Drop the reference readings in a chunk's span (per sensor for row chunks)."""
    if window is not None:
        return reference.filter(~pl.col(TIME).is_between(*window, closed="left"))
    spans = chunk.select(SENSOR, "chunk_start", "chunk_end")
    inside = pl.col(TIME).is_between(pl.col("chunk_start"), pl.col("chunk_end"), closed="both")
    return (
        reference.join(spans, on=SENSOR, how="left", maintain_order="left")
        .filter(~inside.fill_null(value=False))
        .drop("chunk_start", "chunk_end")
    )


def _read(frame: Any, columns: list[str]) -> pl.DataFrame:
    """Read a frame once, only the columns detection needs."""
    lf = scan(frame)
    if columns[-1] not in lf.collect_schema():
        return lf.collect()  # detect names the missing target column
    return lf.select(columns).collect()


def _timeline(
    detector: DriftDetector, frame: Any, every: Every, reference: pl.DataFrame | None
) -> pl.DataFrame:
    columns = [SENSOR, TIME, VALUE, *([detector.target_] if detector.target_ else [])]
    chunks = _chunks(_read(frame, columns), every)
    span = None
    if reference is not None and reference.height:
        span = reference.select(pl.col(TIME).min().alias("first"), pl.col(TIME).max()).row(0)
    empty: pl.DataFrame | None = None
    tables = []
    for chunk in range(len(chunks.sizes)):
        part = chunks.rows(chunk)
        window = chunks.window(chunk)
        own = part.group_by(SENSOR).agg(
            rows=pl.len().cast(pl.Int64),
            chunk_start=pl.col(TIME).min(),
            chunk_end=pl.col(TIME).max(),
        )
        if window is not None:
            lo, hi = window[0], window[1] - timedelta(microseconds=1)
        else:
            lo, hi = own.select(pl.col("chunk_start").min(), pl.col("chunk_end").max()).row(0)
        overlaps = span is not None and lo <= span[1] and hi >= span[0]
        if overlaps:
            assert reference is not None
            loo = _left_out(reference, own, window)
            table = DriftDetector(detector.config_).fit(loo).detect(part).table
        elif part.height:
            table = detector.detect(part).table
        else:  # an empty window: the same table every time
            empty = detector.detect(part).table if empty is None else empty
            table = empty
        tables.append(_with_chunk(table, own, chunk, window, in_reference=overlaps))
    if not tables:  # no readings, no chunks: the columns all the same
        own = pl.DataFrame(
            schema={
                SENSOR: pl.String,
                "rows": pl.Int64,
                "chunk_start": _TIME_TYPE,
                "chunk_end": _TIME_TYPE,
            }
        )
        table = detector.detect(chunks.frame).table
        tables = [_with_chunk(table, own, 0, None, in_reference=False).clear()]
    return pl.concat(tables, how="vertical_relaxed").sort(SENSOR, "chunk")


def _with_chunk(
    table: pl.DataFrame, own: pl.DataFrame, chunk: int, window: Window, *, in_reference: bool
) -> pl.DataFrame:
    """Put a chunk's columns in front of its detection table."""
    if window is None:
        out = table.join(own, on=SENSOR, how="left", maintain_order="left")
    else:
        out = table.join(own.select(SENSOR, "rows"), on=SENSOR, how="left", maintain_order="left")
        out = out.with_columns(
            chunk_start=pl.lit(window[0], _TIME_TYPE), chunk_end=pl.lit(window[1], _TIME_TYPE)
        )
    out = out.with_columns(
        chunk=pl.lit(chunk, pl.Int64),
        rows=pl.col("rows").fill_null(0),
        chunk_start=pl.col("chunk_start").cast(_TIME_TYPE),
        chunk_end=pl.col("chunk_end").cast(_TIME_TYPE),
        in_reference=pl.lit(in_reference),
    )
    return out.select(*_LEADING, pl.exclude(_LEADING))


def drift_timeline(
    reference: Any,
    frame: Any,
    *,
    every: Every = "1d",
    config: DriftConfig | None = None,
    leave_out: bool = True,
) -> pl.DataFrame:
    """
    Drift of every sensor, chunk by chunk: one row per sensor and chunk.

    Fits a :class:`DriftDetector` on `reference` and compares each chunk of `frame`
    with it, all sensors at once (see :mod:`sensorframe.drift.timeline` for the
    chunks and the multiple-testing correction within a chunk). Chunks that overlap
    the reference's time span are scored against the reference without their own
    readings (``in_reference`` true), unless ``leave_out=False``.

    Parameters
    ----------
    reference, frame
        Anything :func:`sensorframe.scan` accepts; `frame` may be or contain the
        reference.
    every
        Chunk length: a duration (``"1d"``, ``"6h"``, ``timedelta``) for windows
        aligned like ``group_by_dynamic``, or an integer number of readings per sensor.
    config
        Thresholds and tests; ``DriftConfig()`` when ``None``.
    leave_out
        Score chunks that overlap the reference against the reference without the
        chunk's readings (True), or against the whole reference (False).

    Returns
    -------
    pl.DataFrame
        ``chunk`` (from 0, in time order), ``chunk_start``, ``chunk_end``,
        ``sensor_id``, ``rows`` (the sensor's rows in the chunk), ``in_reference``,
        then every column of :attr:`DriftReport.table`; sorted by sensor, then chunk.

    Raises
    ------
    ConfigError
        If `every` is not a duration longer than zero or a row count of 1 to 10**9,
        or cuts the frame into more than :data:`MAX_CHUNKS` chunks.
    InvalidTypeError
        If `every`, `config` or `leave_out` has the wrong type.

    Examples
    --------
    >>> from datetime import datetime
    >>> rng = np.random.default_rng(3)
    >>> t = pl.datetime_range(datetime(2026, 1, 1), datetime(2026, 1, 5), "10m", eager=True)[:-1]
    >>> values = rng.normal(size=t.len()) + 3.0 * (t.dt.day() == 4).to_numpy()
    >>> frame = sf.scan(values, timestamps=t, sensor_id="P-1")
    >>> ref = frame.filter(pl.col("timestamp").dt.day() <= 2)
    >>> out = sf.drift_timeline(ref, frame, every="1d")
    >>> out.select("chunk_start", "rows", "in_reference", "n_ref", "drift_detected")
    shape: (4, 5)
    ┌─────────────────────────┬──────┬──────────────┬───────┬────────────────┐
    │ chunk_start             ┆ rows ┆ in_reference ┆ n_ref ┆ drift_detected │
    │ ---                     ┆ ---  ┆ ---          ┆ ---   ┆ ---            │
    │ datetime[μs, UTC]       ┆ i64  ┆ bool         ┆ i64   ┆ bool           │
    ╞═════════════════════════╪══════╪══════════════╪═══════╪════════════════╡
    │ 2026-01-01 00:00:00 UTC ┆ 144  ┆ true         ┆ 144   ┆ false          │
    │ 2026-01-02 00:00:00 UTC ┆ 144  ┆ true         ┆ 144   ┆ false          │
    │ 2026-01-03 00:00:00 UTC ┆ 144  ┆ false        ┆ 288   ┆ false          │
    │ 2026-01-04 00:00:00 UTC ┆ 144  ┆ false        ┆ 288   ┆ true           │
    └─────────────────────────┴──────┴──────────────┴───────┴────────────────┘

    Days 1 and 2 are the reference: each is scored against the other (``n_ref`` 144).
    """
    if not isinstance(leave_out, bool):
        msg = f"`leave_out` must be True or False, got {type(leave_out).__name__}"
        raise InvalidTypeError(msg)
    config = checked_config(config, DriftConfig)
    _chunk_length(every)
    ref = _read(reference, [SENSOR, TIME, VALUE])
    detector = DriftDetector(config).fit(ref)
    return _timeline(detector, frame, every, ref if leave_out else None)


def detect_timeline(detector: DriftDetector, frame: Any, *, every: Every = "1d") -> pl.DataFrame:
    """
    Drift of every sensor chunk by chunk, against a fitted detector's reference.

    As :func:`drift_timeline`, but with a detector fitted before; it keeps no
    reference times, so every chunk is scored against the whole reference
    (``in_reference`` is false). What ``DriftDetector.detect_timeline`` runs.

    Parameters
    ----------
    detector
        A fitted :class:`DriftDetector`.
    frame
        Anything :func:`sensorframe.scan` accepts.
    every
        Chunk length: a duration or a number of readings per sensor.

    Returns
    -------
    pl.DataFrame
        As :func:`drift_timeline`.

    Raises
    ------
    NotFittedError
        If `detector` is not fitted.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> rng = np.random.default_rng(4)
    >>> t = pl.datetime_range(datetime(2026, 1, 1), datetime(2026, 1, 3), "10m", eager=True)[:-1]
    >>> ref = sf.scan(rng.normal(size=288), timestamps=t, sensor_id="P-1")
    >>> det = sf.drift.DriftDetector().fit(ref)
    >>> later = t + timedelta(days=2)
    >>> cur = sf.scan(rng.normal(size=288) + 3.0, timestamps=later, sensor_id="P-1")
    >>> det.detect_timeline(cur, every=144).select("chunk", "rows", "severity")
    shape: (2, 3)
    ┌───────┬──────┬──────────┐
    │ chunk ┆ rows ┆ severity │
    │ ---   ┆ ---  ┆ ---      │
    │ i64   ┆ i64  ┆ enum     │
    ╞═══════╪══════╪══════════╡
    │ 0     ┆ 144  ┆ critical │
    │ 1     ┆ 144  ┆ critical │
    └───────┴──────┴──────────┘
    """
    if not isinstance(detector, DriftDetector):
        msg = f"`detector` must be a DriftDetector, got {type(detector).__name__}"
        raise InvalidTypeError(msg)
    detector._check()
    _chunk_length(every)
    return _timeline(detector, frame, every, None)
