"""
Committing a source larger than memory: batches of whole sensors, one Delta commit.

Each batch is cast to its storable types, digested per sensor
(:func:`~sensorframe.prepare.sensor_digests`) and written as Parquet files that no
version references yet; the commit that adds them all comes last (``_commit``), so a
failure on the way leaves no version (the files stay invisible, as those of a killed
writer). Public behaviour is documented on :meth:`~sensorframe.store.DatasetStore.commit`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
from deltalake.transaction import AddAction

from sensorframe._batches import Batches, wants_batches
from sensorframe.errors import InvalidParameterError, SensorSchemaError
from sensorframe.frame import SENSOR, scan
from sensorframe.prepare import (
    DIGEST_SCHEMA,
    canonical_types,
    combine_digests,
    sensor_digests,
)
from sensorframe.store._model import storable
from sensorframe.store._parquet import polars_can_write, write_files

__all__ = ["Staged", "batches_of", "stage"]


@dataclass(frozen=True, slots=True)
class Staged:
    """Data files written for one commit, and what the version records about them."""

    actions: list[AddAction]
    empty: pl.DataFrame
    """No rows, the columns and storable types of every batch."""
    data_hash: str
    rows: int
    bytes: int
    sensors: frozenset[str]


def batches_of(
    frame: Any, *, batch_rows: int | None, memory_limit: str | int | None
) -> Iterator[pl.DataFrame] | None:
    """
    Return the batches to commit one at a time, or None to commit ``frame`` in memory.

    An iterable of frames (not itself a frame, a path or an Arrow stream) is taken as
    batches of whole sensors, each validated as :func:`sensorframe.scan` does; any
    other source is cut by :class:`sensorframe._batches.Batches` when
    :func:`~sensorframe._batches.wants_batches` says so.
    """
    if _is_batches(frame):
        return (scan(batch).collect() for batch in frame)
    if not wants_batches(frame, batch_rows=batch_rows, memory_limit=memory_limit):
        return None
    return _read(frame, batch_rows=batch_rows, memory_limit=memory_limit)


def _is_batches(frame: Any) -> bool:
    single = (pl.DataFrame, pl.LazyFrame, str, bytes, os.PathLike)
    return (
        isinstance(frame, Iterable)
        and not isinstance(frame, single)
        and not hasattr(frame, "__arrow_c_stream__")
        and not hasattr(frame, "to_batches")  # pyarrow tables and datasets
    )


def _read(
    frame: Any, *, batch_rows: int | None, memory_limit: str | int | None
) -> Iterator[pl.DataFrame]:
    with Batches(frame, batch_rows=batch_rows, memory_limit=memory_limit) as batches:
        if not batches.rows:  # no batches, but the columns of an empty version
            yield scan(frame).head(0).collect()
        yield from batches


def stage(
    table_uri: str, storage_options: dict[str, str] | None, batches: Iterator[pl.DataFrame]
) -> Staged | pl.DataFrame:
    """
    Write the batches as data files; return them staged for one commit.

    Returns the rows as one frame instead (for the in-memory path) when there are
    none, or when the Polars writer does not handle their types or location
    (nested columns, other object stores): then every batch is held in memory.

    Raises
    ------
    SensorSchemaError
        If a batch's columns or types differ from the first batch's.
    InvalidParameterError
        If a sensor's rows are split between batches.
    """
    held: list[pl.DataFrame] = []
    for batch in batches:
        held.append(storable(batch))
        if held[-1].height:
            break
    if not held or not held[-1].height or not polars_can_write(table_uri, held[-1]):
        rest = [storable(batch) for batch in batches]
        frames = held + rest
        if not frames:
            msg = "no batches to commit: give at least one frame (it may have no rows)"
            raise InvalidParameterError(msg)
        return pl.concat(frames)
    empty = held[-1].head(0)
    actions: list[AddAction] = []
    digests: list[pl.DataFrame] = [DIGEST_SCHEMA.to_frame()]
    rows = size = 0
    for number, batch in enumerate(_chain(held[-1], batches), start=len(held) - 1):
        if batch.schema != empty.schema:
            msg = (
                f"batch {number} has the columns {dict(batch.schema)}, the first batch "
                f"{dict(empty.schema)}: every batch must have the same columns and types"
            )
            raise SensorSchemaError(msg)
        if not batch.height:
            continue
        digests.append(sensor_digests(batch))
        actions += write_files(batch, table_uri, storage_options)
        rows += batch.height
        size += int(batch.estimated_size())
    digest = pl.concat(digests)
    return Staged(
        actions=actions,
        empty=empty,
        data_hash=combine_digests(canonical_types(empty), digest),
        rows=rows,
        bytes=size,
        sensors=frozenset(digest.get_column(SENSOR).to_list()),
    )


def _chain(first: pl.DataFrame, batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    yield first
    for batch in batches:
        yield storable(batch)
