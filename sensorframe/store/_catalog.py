"""Low-level Delta helpers: open tables, append events, wrap deltalake errors."""

from __future__ import annotations

import time
from typing import Any

import polars as pl
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from sensorframe.errors import CommitConflictError
from sensorframe.store._model import TABLE_CONFIG, storable

__all__ = ["append_rows", "open_table", "read_table", "table_appeared"]

CATALOG_RETRIES = 100
"""delta-rs retries of a blind append (they never conflict, they only move to a new version)."""


def open_table(
    uri: str, storage_options: dict[str, str] | None, version: int | None = None
) -> DeltaTable | None:
    """Return the Delta table at ``uri`` (at ``version``), or None if there is none."""
    try:
        return DeltaTable(uri, version=version, storage_options=storage_options)
    except TableNotFoundError:
        return None


def table_appeared(uri: str, storage_options: dict[str, str] | None) -> bool:
    """
    Tell whether another writer created the table at ``uri`` (after our create failed).

    Two writers creating one table race: both see no table, both write version 0, one
    loses with a ``DeltaError`` ("table already exists" or a failed commit). The
    winner's first commit can become visible a moment after the loser's error, so look
    a few times over about a quarter of a second before calling the error real.
    """
    for wait in (0.0, 0.01, 0.05, 0.2):
        time.sleep(wait)
        if open_table(uri, storage_options) is not None:
            return True
    return False


def read_table(uri: str, storage_options: dict[str, str] | None) -> pl.DataFrame | None:
    """Read a whole (small) catalog table, or None if it does not exist."""
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
    Creating a table is a race: the loser of ``mode="error"`` appends instead.
    """
    data = storable(rows)
    props = CommitProperties(custom_metadata=metadata, max_commit_retries=CATALOG_RETRIES)
    for _ in range(3):
        dt = open_table(uri, storage_options)
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
        except DeltaError as exc:  # CommitFailedError included
            if dt is None and table_appeared(uri, storage_options):
                continue  # lost the race to create it: append instead
            if isinstance(exc, CommitFailedError):
                msg = f"could not append to {uri} after {CATALOG_RETRIES} retries: {exc}"
                raise CommitConflictError(msg) from exc
            raise
    msg = f"could not create or append to {uri}"  # pragma: no cover - needs 3 lost races
    raise CommitConflictError(msg)  # pragma: no cover
