"""
The catalog tables: append-only event logs, appended to and read whole.

The catalog tables under ``<root>/_sensorframe/`` (tags, model links, dataset names,
vacuum logs, record tables) are append-only Delta tables written by
:func:`append_rows` and read whole by :func:`read_table`. Both are safe under
concurrency: the first write creates the table with ``max_commit_retries=0`` (two
creators would otherwise both "succeed", the loser sliding to version 1 with a second
``metaData`` action that makes every concurrent append fail, see the package
docstring); the loser, and an append that lost to a metadata change (a schema merge),
re-read the table and append again. A damaged table (garbage or truncated log file,
deleted or rewritten data file) is an :class:`~sensorframe.errors.IntegrityError`
naming it, never a raw deltalake or Polars error, nor a pyo3 ``PanicException``.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from deltalake import CommitProperties, write_deltalake

from sensorframe.errors import CommitConflictError, SensorFrameError
from sensorframe.store._model import TABLE_CONFIG, storable
from sensorframe.store._timing import attempts, eventually
from sensorframe.store._translate import (
    damaged_as_integrity_error,
    is_delta_error,
    lost_race,
    open_table,
    write_failure,
)

__all__ = ["CATALOG_RETRIES", "append_rows", "read_table", "table_appeared"]

CATALOG_RETRIES = 100
"""delta-rs retries of a blind append (they never conflict, they only move to a new version)."""
APPEND_ATTEMPTS = 20
"""Re-reads of a catalog table after a lost creation race or a conflicting schema merge."""


def table_appeared(uri: str, storage_options: dict[str, str] | None) -> bool:
    """
    Tell whether another writer created the table at ``uri`` (after our create failed).

    Two writers creating one table race: both see no table, both write version 0, one
    loses with a ``DeltaError`` ("table already exists" or a failed commit). The
    winner's first commit can become visible a moment after the loser's error, so look
    a few times over about a quarter of a second before calling the error real.
    """
    return eventually(
        lambda: open_table(uri, storage_options) is not None, waits=(0.0, 0.01, 0.05, 0.2)
    )


def read_table(uri: str, storage_options: dict[str, str] | None) -> pl.DataFrame | None:
    """Read a whole (small) catalog table, or None if it does not exist."""
    with damaged_as_integrity_error(_describe(uri)):
        dt = open_table(uri, storage_options)
        if dt is None:
            return None
        return pl.scan_delta(dt, storage_options=storage_options).collect()


def append_rows(
    uri: str,
    rows: pl.DataFrame,
    storage_options: dict[str, str] | None,
    *,
    metadata: dict[str, Any] | None = None,
) -> int:
    """
    Append rows to a Delta table, creating it first if needed; return the new version.

    Blind appends never conflict in Delta: delta-rs re-tries them on the next version.
    Creating a table is a race: it commits with no retries, and the loser appends
    instead. A schema merge (a new column) is a metadata change, which makes a
    concurrent append fail instead of moving on: that one re-reads and tries again.
    """
    data = storable(rows)
    last: Exception | None = None
    for _ in attempts(APPEND_ATTEMPTS, backoff=0.01):
        with damaged_as_integrity_error(_describe(uri)):
            dt = open_table(uri, storage_options)
        retries = CATALOG_RETRIES if dt is not None else 0
        props = CommitProperties(custom_metadata=metadata, max_commit_retries=retries)
        try:
            if dt is None:
                write_deltalake(
                    uri,
                    data,
                    mode="error",
                    configuration=TABLE_CONFIG,
                    storage_options=storage_options,
                    commit_properties=props,
                )
                return 0
            write_deltalake(dt, data, mode="append", schema_mode="merge", commit_properties=props)
            return int(dt.version())
        except SensorFrameError:
            raise
        except Exception as exc:
            if lost_race(exc) or (
                dt is None and is_delta_error(exc) and table_appeared(uri, storage_options)
            ):
                last = exc  # lost the race to create it, or to a concurrent schema change
                continue
            raise write_failure(exc, f"could not append to {_describe(uri)}") from exc
    msg = f"could not append to {_describe(uri)}: {APPEND_ATTEMPTS} attempts lost to other writers"
    raise CommitConflictError(msg) from last


def _describe(uri: str) -> str:
    """Name a catalog table by its last path segment, and say where it is."""
    return f"catalog table {uri.rstrip('/').rsplit('/', 1)[-1]!r} ({uri})"
