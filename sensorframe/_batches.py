"""
Batches of whole sensors: how sensorframe runs on sources larger than memory.

A source is read as consecutive ranges of its sensor ids (sorted), each batch holding
every reading of its sensors and no more rows than the budget (a sensor larger than the
budget is a batch of its own: a sensor's rows are never split). Every per-sensor step
gives the same result on a batch as on the whole source, and concatenating the batches'
outputs gives the in-memory path's (sensor, time) order, so batched results are equal
bit for bit; cross-sensor steps (Benjamini-Hochberg, the content hash) combine the
batches' parts at the end.

Reading a batch: an eager DataFrame is filtered in memory. A source already in sensor
order (each sensor's rows together, the sensors in id order: what sensorframe writes)
is read a row range per batch, which Parquet scans push down to the files and row
groups holding it. Any other source (LazyFrame, Parquet, CSV, Delta) is first written
once, by a streaming partition pass, into a temporary folder of one Parquet partition
per batch, so each batch afterwards reads only its own rows; the folder is removed when
the iteration ends (or fails). The counting pass that plans the batches also tells
which of the two a source is.

The budget: ``batch_rows`` rows, or ``memory_limit`` bytes at :data:`BYTES_PER_ROW`,
or by default a quarter of the machine's memory, at most :data:`DEFAULT_LIMIT`.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import polars as pl
from polars.io.plugins import register_io_source

from sensorframe._order import in_order, sort_frame
from sensorframe._progress import Progress
from sensorframe.errors import ConfigError, InvalidTypeError
from sensorframe.frame import SENSOR, scan

__all__ = ["BYTES_PER_ROW", "DEFAULT_LIMIT", "Batches", "rows_per_batch", "stream", "wants_batches"]

BYTES_PER_ROW = 2_400
"""
Peak memory per input row that a batch is budgeted at.

Measured peaks of ``Pipeline.run`` in batches of the default budget (4 GiB), with the
process itself and the reports it gathers: about 1,600 bytes per input row for the
16-column feature set and 2,200 for the default config (60 features); 2,400 keeps the
default config's 30 M-row run under 4 GB.
"""

DEFAULT_LIMIT = 4 * 1024**3
"""Largest default budget (4 GiB); the default is a quarter of the memory below that."""

_BATCH = "__sf_batch"
_ROW = "__sf_input_row"
_UNITS = {"": 1, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)


def rows_per_batch(*, batch_rows: int | None = None, memory_limit: str | int | None = None) -> int:
    """
    Return the rows per batch: ``batch_rows``, else from ``memory_limit``, else the default.

    Parameters
    ----------
    batch_rows
        Rows per batch (>= 1).
    memory_limit
        Bytes, or text such as ``"4GB"``, ``"512MiB"``, ``"1.5 gb"`` (units of 1024).

    Raises
    ------
    ConfigError
        For both given, a number below 1, or text that is not a memory size.

    Examples
    --------
    >>> from sensorframe._batches import rows_per_batch
    >>> rows_per_batch(batch_rows=500), rows_per_batch(memory_limit="2MB")
    (500, 873)
    >>> rows_per_batch(memory_limit="lots")
    Traceback (most recent call last):
    ...
    sensorframe.errors.ConfigError: `memory_limit` must be bytes or a size like '4GB' ...got 'lots'
    """
    if batch_rows is not None and memory_limit is not None:
        msg = "give `batch_rows` or `memory_limit`, not both"
        raise ConfigError(msg)
    if batch_rows is not None:
        if isinstance(batch_rows, bool) or not isinstance(batch_rows, int | np.integer):
            msg = f"`batch_rows` must be an integer, got {type(batch_rows).__name__}"
            raise InvalidTypeError(msg)
        if batch_rows < 1:
            msg = f"`batch_rows` must be >= 1, got {batch_rows}"
            raise ConfigError(msg)
        return int(batch_rows)
    limit = _default_limit() if memory_limit is None else _bytes(memory_limit)
    return max(1, limit // BYTES_PER_ROW)


def wants_batches(
    source: Any, *, batch_rows: int | None = None, memory_limit: str | int | None = None
) -> bool:
    """
    Whether ``source`` should be processed in batches.

    True when a budget is given, or when a file or folder (Parquet, CSV, Delta) holds
    more rows than the default budget (counted from Parquet metadata where it can be).
    DataFrames and LazyFrames are batched only when asked: counting a LazyFrame's rows
    would compute its query twice.

    Examples
    --------
    >>> from sensorframe._batches import wants_batches
    >>> df = sf.datasets.synthetic(n_sensors=2, n_points=400).frame
    >>> wants_batches(df), wants_batches(df, batch_rows=100), wants_batches(df.lazy())
    (False, True, False)
    """
    if batch_rows is not None or memory_limit is not None:
        rows_per_batch(batch_rows=batch_rows, memory_limit=memory_limit)  # validate
        return True
    if not isinstance(source, str | os.PathLike):
        return False
    rows = scan(source, validate=False).select(pl.len()).collect().item()
    return bool(rows > rows_per_batch())


class Batches:
    """
    Iterate a source in batches of whole sensors, in sensor-id order.

    Parameters
    ----------
    source
        Anything :func:`sensorframe.scan` accepts.
    batch_rows, memory_limit
        The budget (see :func:`rows_per_batch`).
    sensors
        Only these sensors (ids not in the source are ignored).
    progress
        Report rows and sensors done, rate and ETA (a line on a terminal, log lines
        otherwise); default: on when standard error is a terminal.
    label
        What the run is doing, for the progress reports.
    input_order
        Keep each batch's rows in the source's order instead of sorting them by
        (sensor, time): for steps that read the input order (quality's
        ``out_of_order`` counts the steps back in time).

    Attributes
    ----------
    sensors
        Every selected sensor id, sorted.
    rows
        Their rows.
    plan
        The sensor ids of each batch.

    Examples
    --------
    >>> from sensorframe._batches import Batches
    >>> df = sf.datasets.synthetic(n_sensors=5, n_points=400).frame
    >>> with Batches(df.lazy(), batch_rows=900) as batches:
    ...     [b["sensor_id"].unique(maintain_order=True).to_list() for b in batches]
    [['S000', 'S001'], ['S002', 'S003'], ['S004']]
    """

    def __init__(
        self,
        source: Any,
        *,
        batch_rows: int | None = None,
        memory_limit: str | int | None = None,
        sensors: Sequence[str] | None = None,
        progress: bool | None = None,
        label: str = "",
        input_order: bool = False,
    ) -> None:
        self._input_order = input_order
        budget = rows_per_batch(batch_rows=batch_rows, memory_limit=memory_limit)
        self._eager = source if isinstance(source, pl.DataFrame) else None
        lf = scan(source)
        if sensors is not None:
            if isinstance(sensors, str):
                msg = f"`sensors` must be a sequence of sensor ids, got the string {sensors!r}"
                raise InvalidTypeError(msg)
            lf = lf.filter(pl.col(SENSOR).is_in(list(sensors)))
        self._lf = lf
        counts = (
            lf.with_row_index(_ROW)
            .group_by(SENSOR)
            .agg(pl.len(), pl.col(_ROW).min().alias("first"), pl.col(_ROW).max().alias("last"))
            .sort(SENSOR)
            .collect(engine="streaming")
        )
        self.sensors: list[str] = counts[SENSOR].to_list()
        self.rows = int(counts["len"].sum())
        lengths = counts["len"].to_numpy()
        self.plan = _pack(self.sensors, lengths, budget)
        self._ranges = _row_ranges(counts, self.plan) if _in_sensor_order(counts) else None
        self._folder: Path | None = None
        show = progress if progress is not None else sys.stderr.isatty()
        self._progress = (
            Progress(rows=self.rows, sensors=len(self.sensors), label=label) if show else None
        )

    def __len__(self) -> int:
        return len(self.plan)

    def __iter__(self) -> Iterator[pl.DataFrame]:
        try:
            for number, ids in enumerate(self.plan):
                batch = self._read(number, ids)
                yield batch
                if self._progress is not None:
                    self._progress.advance(rows=batch.height, sensors=len(ids))
        finally:
            if self._progress is not None:
                self._progress.finish()
            self.close()

    def __enter__(self) -> Batches:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary partitions, if any were written."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _read(self, number: int, ids: list[str]) -> pl.DataFrame:
        if len(self.plan) == 1:
            rows = self._lf.collect()
        elif self._eager is not None:
            rows = self._lf.filter(pl.col(SENSOR).is_in(ids)).collect()
        elif self._ranges is not None:
            rows = self._lf.slice(*self._ranges[number]).collect()
        else:
            # the input row number restores input order (a partition may be several files)
            part = pl.read_parquet(self._partitions() / f"{_BATCH}={number}")
            rows = part.sort(_ROW).drop(_ROW)
        if self._input_order or in_order(rows) is not None:
            return rows
        return sort_frame(rows)

    def _partitions(self) -> Path:
        """Write the source once, one Parquet partition per batch (the first time only)."""
        if self._folder is None:
            folder = Path(tempfile.mkdtemp(prefix="sensorframe-batches-"))
            self._folder = folder
            # also removed when the Batches is garbage-collected or Python exits
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
            # A join, not `replace_strict`: Polars' streaming engine runs the join, but
            # falls back to memory for `replace_strict` (7.6 GB for 100 M rows, not 0.5).
            batch_of = pl.LazyFrame(
                {
                    SENSOR: [s for ids in self.plan for s in ids],
                    _BATCH: [n for n, ids in enumerate(self.plan) for _ in ids],
                },
                schema={SENSOR: self._lf.collect_schema()[SENSOR], _BATCH: pl.UInt32},
            )
            numbered = self._lf.with_row_index(_ROW).join(batch_of, on=SENSOR)
            numbered.sink_parquet(pl.PartitionBy(folder, key=_BATCH, include_key=False), mkdir=True)
        return self._folder


def stream(batches: Iterable[pl.DataFrame], schema: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    """
    Return a LazyFrame that pulls ``batches`` one at a time when it is collected or sunk.

    ``sink_parquet`` of it holds one batch at a time; it can be collected once (the
    batches are an iterator).

    Examples
    --------
    >>> from sensorframe._batches import stream
    >>> parts = (pl.DataFrame({"x": [i, i + 1]}) for i in (0, 10))
    >>> stream(parts, {"x": pl.Int64()}).filter(pl.col("x") > 0).collect()["x"].to_list()
    [1, 10, 11]
    """
    names = list(schema)

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        left = n_rows
        for batch in batches:
            part = batch.select(names)
            if predicate is not None:
                part = part.filter(predicate)
            if with_columns is not None:
                part = part.select(with_columns)
            if left is not None:
                part = part.head(left)
                left -= part.height
            yield part
            if left is not None and left <= 0:
                return

    return register_io_source(io_source=source, schema=pl.Schema(schema))


def _pack(sensors: list[str], lengths: np.ndarray, budget: int) -> list[list[str]]:
    """Greedy: consecutive sensors into batches of at most ``budget`` rows (or one sensor)."""
    plan: list[list[str]] = []
    rows = budget  # the first sensor opens a batch
    for sensor, n in zip(sensors, lengths.tolist(), strict=True):
        if rows + n > budget:
            plan.append([])
            rows = 0
        plan[-1].append(sensor)
        rows += n
    return plan


def _in_sensor_order(counts: pl.DataFrame) -> bool:
    """Whether each sensor's rows are consecutive, the sensors in id order (``counts`` sorted)."""
    first, last = counts["first"].to_numpy(), counts["last"].to_numpy()
    together = bool(np.all(last - first + 1 == counts["len"].to_numpy()))
    return together and bool(np.all(first[1:] == last[:-1] + 1))


def _row_ranges(counts: pl.DataFrame, plan: list[list[str]]) -> list[tuple[int, int]]:
    """Return the (offset, rows) of each batch of a source in sensor order."""
    sizes = np.cumsum([0, *(len(ids) for ids in plan)])
    first, lengths = counts["first"].to_numpy(), counts["len"].to_numpy()
    return [(int(first[a]), int(lengths[a:b].sum())) for a, b in pairwise(sizes)]


def _bytes(limit: str | int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, str | int):
        msg = f"`memory_limit` must be bytes or a size like '4GB', got {type(limit).__name__}"
        raise InvalidTypeError(msg)
    if isinstance(limit, int):
        size = limit
    else:
        match = _MEMORY.match(limit)
        if match is None:
            msg = f"`memory_limit` must be bytes or a size like '4GB' or '512MB', got {limit!r}"
            raise ConfigError(msg)
        number, unit = match.groups()
        size = int(float(number) * _UNITS[unit.lower().replace("i", "")])
    if size < BYTES_PER_ROW:
        msg = f"`memory_limit` must be at least {BYTES_PER_ROW} bytes (one row), got {limit!r}"
        raise ConfigError(msg)
    return size


def _default_limit() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return DEFAULT_LIMIT
    return int(min(DEFAULT_LIMIT, total // 4))
