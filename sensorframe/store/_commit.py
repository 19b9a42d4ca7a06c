"""
Committing a frame as a new version: hashing, writing files, the optimistic commit loop.

Public behaviour is documented on :meth:`~sensorframe.store.DatasetStore.commit`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Literal

import polars as pl
from deltalake import DeltaTable, write_deltalake
from deltalake.transaction import AddAction, create_table_with_add_actions

from sensorframe.errors import (
    CommitConflictError,
    InvalidParameterError,
    InvalidTypeError,
    SensorFrameError,
    SensorSchemaError,
    VersioningError,
)
from sensorframe.frame import SENSOR, scan
from sensorframe.prepare import canonical_hash
from sensorframe.store._catalog import CATALOG_RETRIES, table_appeared
from sensorframe.store._core import StoreCore
from sensorframe.store._model import (
    TABLE_CONFIG,
    DatasetVersion,
    chained_hash,
    check_properties,
    check_text,
    commit_properties,
    new_commit_id,
    storable,
)
from sensorframe.store._parquet import (
    commit_files,
    delta_schema,
    fits,
    polars_can_write,
    write_files,
)
from sensorframe.store._stream import Staged, batches_of, stage
from sensorframe.store._timing import attempts, now
from sensorframe.store._translate import is_delta_error, lost_race, write_failure

__all__ = ["ParentRef", "commit", "write"]

ParentRef = DatasetVersion | tuple[str, int]


def commit(
    core: StoreCore,
    dataset: str,
    frame: Any,
    *,
    description: str,
    tags: Iterable[str],
    parents: Iterable[ParentRef],
    mode: Literal["overwrite", "append"],
    properties: Mapping[str, str] | None,
    batch_rows: int | None = None,
    memory_limit: str | int | None = None,
) -> DatasetVersion:
    """Write a new version of a dataset as one Delta commit (retried on lost races)."""
    uri = core.uri(dataset)
    if mode not in ("overwrite", "append"):
        msg = f"`mode` must be 'overwrite' or 'append', got {mode!r}"
        raise InvalidParameterError(msg)
    if not isinstance(description, str):
        msg = f"`description` must be a string, got {type(description).__name__}"
        raise InvalidTypeError(msg)
    meta = DatasetVersion(
        dataset=dataset,
        version=-1,
        data_hash="",
        rows=0,
        tags=_check_tags(tags),
        description=description,
        parents=_check_parents(core, parents),
        operation=mode,
        properties=check_properties(properties),
    )
    batches = batches_of(frame, batch_rows=batch_rows, memory_limit=memory_limit)
    staged = None if batches is None else stage(uri, core.storage_options, batches)
    if isinstance(staged, Staged):
        written: Future[list[AddAction]] = Future()
        written.set_result(staged.actions)
        return _land(core, meta, staged, staged.empty, written)
    batch = storable(scan(frame).collect()) if staged is None else staged
    # The data files are written in a thread while the main one hashes (see write);
    # the table is read again after hashing, to keep the window for races short.
    with ThreadPoolExecutor(max_workers=1) as pool:
        dt = core.latest_table(dataset)
        polars_files = polars_can_write(uri, batch) if dt is None else fits(dt, batch)
        files = pool.submit(write_files, batch, uri, core.storage_options) if polars_files else None
        content = Staged(
            actions=[],
            empty=batch.head(0),
            data_hash=canonical_hash(batch),
            rows=batch.height,
            bytes=int(batch.estimated_size()),
            sensors=frozenset(batch.get_column(SENSOR).unique().to_list()),
        )
        return _land(core, meta, content, batch, files)


def _land(
    core: StoreCore,
    meta: DatasetVersion,
    content: Staged,
    batch: pl.DataFrame,
    files: Future[list[AddAction]] | None,
) -> DatasetVersion:
    """
    Commit the content as the next version, re-reading and retrying after lost races.

    ``batch`` holds the rows for the in-memory path (``files`` written from it, or
    none); for staged content it has none and ``files`` are the staged ones.
    """
    dataset, mode = meta.dataset, meta.operation
    uri = core.uri(dataset)
    last_error: Exception | None = None
    for attempt in attempts(core.max_commit_retries + 1, backoff=0.02):
        dt = core.latest_table(dataset)
        if dt is None and attempt == 0:
            core.append_event("datasets", pl.DataFrame({"dataset": [dataset], "at": [now()]}))
        read_version = -1 if dt is None else int(dt.version())
        previous = None
        if mode == "append" and dt is not None:
            _check_append_schema(dataset, dt, batch)
            previous = core.previous(dataset, read_version)
        version = replace(
            meta,
            version=read_version + 1,
            data_hash=content.data_hash
            if previous is None
            else chained_hash(previous.data_hash, content.data_hash),
            rows=content.rows + (0 if previous is None else previous.rows),
            bytes=content.bytes + (0 if previous is None else previous.bytes),
            sensors=tuple(
                sorted(content.sensors.union(() if previous is None else previous.sensors))
            ),
            created_at=now(),
            batch_hash=content.data_hash,
            batch_rows=content.rows,
        )
        try:
            done = write(core, uri, dt, batch, version, mode, files)
        except SensorFrameError:
            raise
        except Exception as exc:
            if (dt is not None and lost_race(exc)) or (
                dt is None and is_delta_error(exc) and table_appeared(uri, core.storage_options)
            ):
                last_error = exc  # another writer won this version, or created the table
                continue
            raise write_failure(exc, f"could not commit to dataset {dataset!r}") from exc
        return replace(version, version=done)
    msg = (
        f"could not commit to dataset {dataset!r}: concurrent writers won "
        f"{core.max_commit_retries + 1} times in a row"
    )
    raise CommitConflictError(msg) from last_error


def write(
    core: StoreCore,
    uri: str,
    dt: DeltaTable | None,
    batch: pl.DataFrame,
    version: DatasetVersion,
    mode: str,
    files: Future[list[AddAction]] | None = None,
) -> int:
    """
    Commit ``batch`` (or the data ``files`` written from it) as ``version``.

    Returns the Delta version it landed at: the one whose commit file carries this
    call's commit id. ``files`` (written by Polars) create a new table
    (``create_table_with_add_actions``) or are committed to the existing one in the
    batch's schema (``batch`` may then have no rows: staged batches); without them,
    ``write_deltalake`` writes the rows (types Polars does not write, and schema
    changes of in-memory commits, which may need a protocol upgrade, e.g. for
    ``timestamp_ntz``). deltalake's errors reach the caller, which retries lost
    races and translates the rest.
    """
    commit_id = new_commit_id()
    after = -1 if dt is None else int(dt.version())  # write_deltalake moves the handle
    # a lost creation race must fail, not slide to version 1 (see the package doc)
    props = commit_properties(
        version, retries=CATALOG_RETRIES if dt is not None else 0, commit_id=commit_id
    )
    schema = delta_schema(batch)
    if files is not None and (dt is None or mode == "overwrite" or dt.schema() == schema):
        try:
            actions = files.result()
        except OSError as exc:
            msg = f"could not write the data files of {version.dataset!r}: {exc}"
            raise VersioningError(msg) from exc
        if dt is None:
            create_table_with_add_actions(
                uri,
                schema,
                actions,
                mode="error",
                configuration=TABLE_CONFIG,
                storage_options=core.storage_options,
                commit_properties=props,
            )
        else:
            commit_files(dt, actions, mode=mode, props=props, schema=schema)
    elif dt is None:
        write_deltalake(
            uri,
            batch,
            mode="error",
            configuration=TABLE_CONFIG,
            storage_options=core.storage_options,
            commit_properties=props,
        )
    else:
        write_deltalake(
            dt,
            batch,
            mode="overwrite" if mode == "overwrite" else "append",
            schema_mode="overwrite" if mode == "overwrite" else None,
            commit_properties=props,
        )
    return core.landed(version.dataset, after, commit_id)


def _check_append_schema(dataset: str, dt: DeltaTable, batch: pl.DataFrame) -> None:
    """Raise unless the rows have the table's schema (from the log, no data read)."""
    table = dt.schema()
    if table != delta_schema(batch):
        have = {f.name: str(f.type) for f in table.fields}
        new = {f.name: str(f.type) for f in delta_schema(batch).fields}
        msg = (
            f"cannot append to {dataset!r}: its schema is {have}, the new rows have "
            f"{new}; commit with mode='overwrite' to change the schema"
        )
        raise SensorSchemaError(msg)


def _check_tags(tags: Iterable[str]) -> tuple[str, ...]:
    if isinstance(tags, str):
        items: tuple[object, ...] = (tags,)
    elif isinstance(tags, Iterable):
        items = tuple(tags)
    else:
        msg = f"`tags` must be a string or an iterable of strings, got {tags!r}"
        raise InvalidTypeError(msg)
    return tuple(dict.fromkeys(check_text(tag, "each of `tags`") for tag in items))


def _check_parents(core: StoreCore, parents: Iterable[ParentRef]) -> tuple[tuple[str, int], ...]:
    if not isinstance(parents, Iterable) or isinstance(parents, str | DatasetVersion):
        msg = (
            "`parents` must be an iterable of versions or (dataset, version) pairs, "
            f"got {parents!r}"
        )
        raise InvalidTypeError(msg)
    refs: list[tuple[str, int]] = []
    for parent in parents:
        if isinstance(parent, DatasetVersion):
            ref = (parent.dataset, parent.version)
        elif (
            isinstance(parent, tuple)
            and len(parent) == 2
            and isinstance(parent[0], str)
            and isinstance(parent[1], int)
            and not isinstance(parent[1], bool)
        ):
            ref = (parent[0], parent[1])
        else:
            msg = f"a parent must be a DatasetVersion or a (dataset, version) pair, got {parent!r}"
            raise InvalidParameterError(msg)
        core.version(*ref)  # raises if it does not exist
        refs.append(ref)
    return tuple(dict.fromkeys(refs))
