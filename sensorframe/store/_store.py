"""The dataset store: every dataset a Delta table, every version a Delta commit."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError
from deltalake.fs import DeltaStorageHandler
from deltalake.transaction import AddAction
from polars.io.plugins import register_io_source

from sensorframe._utils import preview
from sensorframe.errors import (
    CommitConflictError,
    DatasetNotFoundError,
    IntegrityError,
    InvalidParameterError,
    InvalidTypeError,
    SensorSchemaError,
    VersioningError,
    VersionNotFoundError,
)
from sensorframe.frame import SENSOR, scan
from sensorframe.prepare._hash import canonical_hash
from sensorframe.store._catalog import (
    CATALOG_RETRIES,
    append_rows,
    open_table,
    read_table,
    table_appeared,
)
from sensorframe.store._integrity import IntegrityMixin, first_line
from sensorframe.store._maintenance import MaintenanceMixin
from sensorframe.store._model import (
    CATALOG,
    TABLE_CONFIG,
    DatasetVersion,
    chained_hash,
    check_name,
    check_properties,
    check_text,
    commit_properties,
    storable,
    to_utc,
    versions_frame,
)
from sensorframe.store._parquet import commit_files, delta_schema, fits, write_files
from sensorframe.store._refs import RefsMixin

__all__ = ["DatasetStore"]

ParentRef = DatasetVersion | tuple[str, int]


class DatasetStore(IntegrityMixin, RefsMixin, MaintenanceMixin):
    """
    Versioned sensor datasets on Delta Lake, with tags, lineage and model links.

    Each dataset is a Delta table under ``root``; each :meth:`commit` is one Delta
    commit whose custom metadata (keys ``sensorframe.*``) holds the version's content
    hash, size, sensors, description, tags, parents and time, so data and metadata
    cannot disagree after a crash. Tags, model links and pipeline records live in
    append-only Delta tables under ``<root>/_sensorframe/``; their current state is
    derived when read, so concurrent writers never conflict on them.

    Parameters
    ----------
    root
        A local folder (created on first write) or an object-store URI such as
        ``s3://bucket/prefix``.
    storage_options
        Passed to deltalake and Polars for URIs (``AWS_ENDPOINT_URL``,
        ``AWS_ALLOW_HTTP``, ``AWS_ACCESS_KEY_ID`` ...).
    max_commit_retries
        How often a commit is re-tried after losing a race to a concurrent writer
        before :class:`~sensorframe.errors.CommitConflictError` is raised.

    Notes
    -----
    Concurrency: two sensorframe commits on one dataset are serialized optimistically.
    Each commit carries a Delta application transaction (``txn``) for the app id
    ``"sensorframe"``, so delta-rs refuses a commit if another sensorframe commit
    landed since it read the table, instead of silently moving it to the next
    version. The store then re-reads the table and tries again. That keeps the
    recorded hash of an append (chained on the previous version's) exact. Commits
    by other Delta writers do not take part in this and are not listed as versions.
    Every version is read from its own commit file, ``_delta_log/<version>.json``,
    so a listing can never mislabel a version while others commit. Use one store
    object per thread (or process); it caches open table handles.

    Writing: new versions of existing datasets get Parquet files written by Polars
    (while the hash is computed), committed with ``create_write_transaction``.

    Examples
    --------
    >>> import tempfile
    >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["a", "a"], "timestamp": ["2026-01-01", "2026-01-02"], "value": [1, 2]}
    ... )
    >>> v0 = store.commit("raw", df, description="first pull", tags=["stable"])
    >>> v1 = store.commit("raw", df.with_columns(value=pl.col("value") * 10))
    >>> store.read("raw", tag="stable").collect()["value"].to_list()
    [1.0, 2.0]
    >>> store.verify("raw", 1).ok
    True
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        storage_options: dict[str, str] | None = None,
        max_commit_retries: int = 50,
    ) -> None:
        if not isinstance(root, str | os.PathLike):
            msg = f"`root` must be a folder or an object-store URI, got {type(root).__name__}"
            raise InvalidTypeError(msg)
        text = os.fspath(root)
        if not isinstance(text, str) or not text:
            msg = f"`root` must be a folder or an object-store URI, got {text!r}"
            raise InvalidParameterError(msg)
        if storage_options is not None and not (
            isinstance(storage_options, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in storage_options.items())
        ):
            msg = f"`storage_options` must be a dict of strings, got {storage_options!r}"
            raise InvalidTypeError(msg)
        if not isinstance(max_commit_retries, int) or isinstance(max_commit_retries, bool):
            msg = f"`max_commit_retries` must be an int >= 0, got {max_commit_retries!r}"
            raise InvalidTypeError(msg)
        if max_commit_retries < 0:
            msg = f"`max_commit_retries` must be an int >= 0, got {max_commit_retries!r}"
            raise InvalidParameterError(msg)
        self.is_local = "://" not in text or text.startswith("file://")
        if self.is_local:
            try:
                text = str(Path(text.removeprefix("file://")).expanduser().resolve())
            except (RuntimeError, OSError) as exc:  # "~user" of no such user ...
                msg = f"`root` {text!r} is not a usable folder: {exc}"
                raise InvalidParameterError(msg) from exc
            if Path(text).exists() and not Path(text).is_dir():
                msg = f"`root` must be a folder or an object-store URI; {text} is a file"
                raise InvalidParameterError(msg)
        self.root = text.rstrip("/")
        self.storage_options = dict(storage_options) if storage_options else None
        self.max_commit_retries = max_commit_retries
        self._handles: dict[str, DeltaTable] = {}
        self._logs: dict[str, DeltaStorageHandler] = {}

    def __repr__(self) -> str:
        return f"DatasetStore({self.root!r})"

    # ------------------------------------------------------------------ paths
    def _uri(self, dataset: str) -> str:
        return f"{self.root}/{check_name(dataset)}"

    def _catalog_uri(self, name: str) -> str:
        return f"{self.root}/{CATALOG}/{name}"

    def _open(self, dataset: str, version: int | None = None) -> DeltaTable | None:
        try:
            return open_table(self._uri(dataset), self.storage_options, version)
        except (DeltaError, OSError) as exc:
            raise self._damage(dataset, exc) from exc

    def _latest(self, dataset: str) -> DeltaTable | None:
        """Return the table at its newest version, reusing (and catching up) a handle."""
        dt = self._handles.get(dataset)
        if dt is not None:
            try:
                dt.update_incremental()  # reads only the commits added since
            except DeltaError:
                self._handles.pop(dataset, None)
            else:
                return dt
        dt = self._open(dataset)
        if dt is not None:
            self._handles[dataset] = dt
        return dt

    def _events(self, name: str) -> pl.DataFrame | None:
        return read_table(self._catalog_uri(name), self.storage_options)

    def _append_event(self, name: str, rows: pl.DataFrame) -> int:
        return append_rows(self._catalog_uri(name), rows, self.storage_options)

    # ------------------------------------------------------------------ commit
    def commit(
        self,
        dataset: str,
        frame: Any,
        *,
        description: str = "",
        tags: Iterable[str] = (),
        parents: Iterable[ParentRef] = (),
        mode: Literal["overwrite", "append"] = "overwrite",
        properties: Mapping[str, str] | None = None,
    ) -> DatasetVersion:
        """
        Write a new version of a dataset as one Delta commit.

        Parameters
        ----------
        dataset
            Dataset name: letters, digits, ``.``, ``_``, ``-``; not starting with ``_``.
        frame
            Anything :func:`sensorframe.scan` accepts; extra columns (features ...)
            are kept.
        description
            Free text stored with the version.
        tags
            Tags to put on this version (moved here if they were on another one).
        parents
            The versions this one was derived from: :class:`DatasetVersion` objects or
            ``(dataset, version)`` pairs. They must exist.
        mode
            ``"overwrite"`` replaces the content (the schema may change);
            ``"append"`` adds rows (the schema must match).
        properties
            User key/value strings (a run id ...) stored in the same Delta commit, as
            ``sensorframe.property.<key>``; returned as ``DatasetVersion.properties``
            and listed by :meth:`versions`.

        Returns
        -------
        DatasetVersion
            The version holding this call's rows (found by a commit id in its commit
            file). ``batch_hash`` is :func:`sensorframe.content_hash` of the rows
            written. ``data_hash`` is, for an overwrite (and a dataset's first
            version), that same hash, which is the content hash of the whole table;
            for an append, ``sha256("sensorframe.append:<previous data_hash>:<batch_hash>")``
            (:func:`~sensorframe.store._model.chained_hash`), so an append costs time
            and memory in proportion to its rows only (no earlier data is read; the
            schema is checked against the table's schema in the log).
            :meth:`verify` proves either kind.

        Raises
        ------
        InvalidParameterError
            For a bad dataset name, mode or tag.
        VersionNotFoundError, DatasetNotFoundError
            If a parent does not exist.
        SensorSchemaError
            If the frame is not a sensor frame, or an append changes the schema.
        CommitConflictError
            If concurrent writers kept winning for ``max_commit_retries`` attempts.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> raw = store.commit("raw", df, properties={"run_id": "r-7"})
        >>> raw.properties
        (('run_id', 'r-7'),)
        >>> more = store.commit("raw", df.with_columns(sensor_id=pl.lit("b")), mode="append")
        >>> (more.version, more.rows, more.sensors)
        (1, 2, ('a', 'b'))
        >>> store.commit("clean", df, parents=[more]).parents
        (('raw', 1),)
        """
        uri = self._uri(dataset)
        if mode not in ("overwrite", "append"):
            msg = f"`mode` must be 'overwrite' or 'append', got {mode!r}"
            raise InvalidParameterError(msg)
        if not isinstance(description, str):
            msg = f"`description` must be a string, got {type(description).__name__}"
            raise InvalidTypeError(msg)
        tag_list = self._check_tags(tags)
        user_properties = check_properties(properties)
        refs = self._check_parents(parents)
        batch = storable(scan(frame).collect())
        batch_sensors = set(batch.get_column(SENSOR).unique().to_list())
        # The data files are written in a thread while the main one hashes (see _write);
        # the table is read again after hashing, to keep the window for races short.
        with ThreadPoolExecutor(max_workers=1) as pool:
            dt = self._latest(dataset)
            files = (
                pool.submit(write_files, batch, uri, self.storage_options)
                if dt is not None and fits(dt, batch)
                else None
            )
            batch_hash = canonical_hash(batch)
            last_error: Exception | None = None
            for attempt in range(self.max_commit_retries + 1):
                if attempt:
                    time.sleep(random.uniform(0.0, 0.02 * min(attempt, 10)))
                dt = self._latest(dataset)
                if dt is None and attempt == 0:
                    self._append_event(
                        "datasets", pl.DataFrame({"dataset": [dataset], "at": [_now()]})
                    )
                read_version = -1 if dt is None else int(dt.version())
                previous = None
                if mode == "append" and dt is not None:
                    self._check_append_schema(dataset, dt, batch)
                    previous = self._previous(dataset, read_version)
                version = DatasetVersion(
                    dataset=dataset,
                    version=read_version + 1,
                    data_hash=batch_hash
                    if previous is None
                    else chained_hash(previous.data_hash, batch_hash),
                    rows=batch.height + (0 if previous is None else previous.rows),
                    bytes=int(batch.estimated_size()) + (0 if previous is None else previous.bytes),
                    sensors=tuple(
                        sorted(batch_sensors.union(() if previous is None else previous.sensors))
                    ),
                    created_at=_now(),
                    tags=tag_list,
                    description=description,
                    parents=refs,
                    operation=mode,
                    batch_hash=batch_hash,
                    batch_rows=batch.height,
                    properties=user_properties,
                )
                try:
                    done = self._write(uri, dt, batch, version, mode, files)
                except DeltaError as exc:  # CommitFailedError included
                    if (dt is not None and isinstance(exc, CommitFailedError)) or (
                        dt is None and table_appeared(uri, self.storage_options)
                    ):
                        last_error = exc  # another writer won this version, or created the table
                        continue
                    msg = f"could not commit to dataset {dataset!r}: {exc}"
                    raise VersioningError(msg) from exc
                return replace(version, version=done)
        msg = (
            f"could not commit to dataset {dataset!r}: concurrent writers won "
            f"{self.max_commit_retries + 1} times in a row"
        )
        raise CommitConflictError(msg) from last_error

    def _write(
        self,
        uri: str,
        dt: DeltaTable | None,
        batch: pl.DataFrame,
        version: DatasetVersion,
        mode: str,
        files: Future[list[AddAction]] | None = None,
    ) -> int:
        """
        Commit ``batch`` as ``version``; return the Delta version it landed at.

        ``files`` (written by Polars) are committed if the table's schema is the
        batch's; new tables and schema changes (which may need a protocol upgrade, e.g.
        for ``timestamp_ntz``) go through ``write_deltalake``. The landed version is
        the one whose commit file carries this call's commit id.
        """
        commit_id = uuid.uuid4().hex
        after = -1 if dt is None else int(dt.version())  # write_deltalake moves the handle
        # a lost creation race must fail, not slide to version 1 (see the package doc)
        props = commit_properties(
            version, retries=CATALOG_RETRIES if dt is not None else 0, commit_id=commit_id
        )
        try:
            if dt is None:
                write_deltalake(
                    uri,
                    batch,
                    mode="error",
                    configuration=TABLE_CONFIG,
                    storage_options=self.storage_options,
                    commit_properties=props,
                )
            elif files is not None and fits(dt, batch):
                try:
                    actions = files.result()
                except OSError as exc:
                    msg = f"could not write the data files of {version.dataset!r}: {exc}"
                    raise VersioningError(msg) from exc
                commit_files(dt, actions, mode=mode, props=props)
            else:
                write_deltalake(
                    dt,
                    batch,
                    mode="overwrite" if mode == "overwrite" else "append",
                    schema_mode="overwrite" if mode == "overwrite" else None,
                    commit_properties=props,
                )
        except SchemaMismatchError as exc:
            msg = f"cannot append to {version.dataset!r}: {exc}"
            raise SensorSchemaError(msg) from exc
        return self._landed(version.dataset, after, commit_id)

    def _check_append_schema(self, dataset: str, dt: DeltaTable, batch: pl.DataFrame) -> None:
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

    def _check_tags(self, tags: Iterable[str]) -> tuple[str, ...]:
        if isinstance(tags, str):
            items: tuple[object, ...] = (tags,)
        elif isinstance(tags, Iterable):
            items = tuple(tags)
        else:
            msg = f"`tags` must be a string or an iterable of strings, got {tags!r}"
            raise InvalidTypeError(msg)
        return tuple(dict.fromkeys(check_text(tag, "each of `tags`") for tag in items))

    def _check_parents(self, parents: Iterable[ParentRef]) -> tuple[tuple[str, int], ...]:
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
                msg = (
                    "a parent must be a DatasetVersion or a (dataset, version) pair, "
                    f"got {parent!r}"
                )
                raise InvalidParameterError(msg)
            self.version(*ref)  # raises if it does not exist
            refs.append(ref)
        return tuple(dict.fromkeys(refs))

    # ------------------------------------------------------------------ metadata
    def _newest(self, dataset: str) -> int:
        """Return the newest Delta version of a dataset (raise if there is no such dataset)."""
        dt = self._latest(dataset)
        if dt is None:
            msg = f"no dataset {dataset!r} in {self.root}; datasets: {preview(self.datasets())}"
            raise DatasetNotFoundError(msg)
        return int(dt.version())

    def _history(self, dataset: str) -> list[DatasetVersion]:
        """Every sensorframe version, oldest first, each read from its own commit file."""
        found = (self._recorded(dataset, n) for n in range(self._newest(dataset) + 1))
        return [v for v in found if v is not None]

    def versions(self, dataset: str) -> pl.DataFrame:
        """
        List the versions of a dataset, oldest first, with their metadata.

        Returns
        -------
        DataFrame
            One row per version: dataset, version, created_at, operation, rows,
            bytes, n_sensors, sensors, data_hash, batch_rows, batch_hash, tags
            (given at commit time), description, parents, library_version,
            properties (``key``/``value`` structs).

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("raw", df, description="first")
        >>> store.versions("raw").select("version", "rows", "description").rows()
        [(0, 1, 'first')]
        """
        return versions_frame(self._history(dataset))

    def version(self, dataset: str, n: int) -> DatasetVersion:
        """
        Return the metadata of one version.

        Raises
        ------
        DatasetNotFoundError, VersionNotFoundError
            Listing what exists.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> v = store.commit("raw", df, description="first")
        >>> store.version("raw", 0).description
        'first'
        >>> store.version("raw", 5)
        Traceback (most recent call last):
        ...
        sensorframe.errors.VersionNotFoundError: dataset 'raw' has no version 5; versions: [0]
        """
        _check_version(n)
        found = self._recorded(dataset, n) if 0 <= n <= self._newest(dataset) else None
        if found is not None:
            return found
        numbers = [v.version for v in self._history(dataset)]
        msg = f"dataset {dataset!r} has no version {n!r}; versions: {preview(numbers)}"
        raise VersionNotFoundError(msg)

    def latest(self, dataset: str) -> DatasetVersion:
        """
        Return the newest version of a dataset.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> store.commit("raw", df) == store.latest("raw")
        True
        """
        found = self._previous(dataset, self._newest(dataset))
        if found is None:
            msg = f"dataset {dataset!r} has no sensorframe versions yet"
            raise VersionNotFoundError(msg)
        return found

    def datasets(self) -> list[str]:
        """
        Names of the datasets in the store, sorted.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("raw", df)
        >>> store.datasets()
        ['raw']
        """
        names: set[str] = set()
        events = self._events("datasets")
        if events is not None:
            names.update(events.get_column("dataset").to_list())
        if self.is_local and Path(self.root).is_dir():
            names.update(
                p.name
                for p in Path(self.root).iterdir()
                if not p.name.startswith("_") and (p / "_delta_log").is_dir()
            )
        return sorted(
            n
            for n in names
            if DeltaTable.is_deltatable(f"{self.root}/{n}", storage_options=self.storage_options)
        )

    # ------------------------------------------------------------------ reading
    def read(
        self,
        dataset: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        tag: str | None = None,
    ) -> pl.LazyFrame:
        """
        Read a dataset at its latest version, or at a version, a time or a tag.

        Parameters
        ----------
        dataset
            Dataset name.
        version
            Version number.
        as_of
            The version current at that time: the last one whose recorded
            ``created_at`` is at or before it (naive datetimes are UTC). Resolved from
            the commit metadata, not from file modification times.
        tag
            A tag name (see :meth:`tag`).

        Returns
        -------
        LazyFrame
            The stored rows (canonical columns first, then any extra columns).
            Projections, filters and ``head`` reach the Delta scan. A data file that
            cannot be read (rewritten, truncated, garbage: Polars may panic on it)
            raises :class:`~sensorframe.errors.IntegrityError` when the frame is
            collected; changed values that still parse are caught by :meth:`verify`.

        Raises
        ------
        InvalidParameterError
            If more than one of ``version``, ``as_of``, ``tag`` is given.
        DatasetNotFoundError, VersionNotFoundError, TagNotFoundError
            Listing what exists; ``as_of`` before the first version is a
            ``VersionNotFoundError``; so is a version whose files were vacuumed.

        Examples
        --------
        >>> import tempfile
        >>> from datetime import UTC, datetime
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> v0 = store.commit("raw", df)
        >>> _ = store.commit("raw", df, mode="append")
        >>> store.read("raw").collect().height, store.read("raw", version=0).collect().height
        (2, 1)
        >>> store.read("raw", as_of=v0.created_at).collect().height
        1
        """
        n = self.resolve(dataset, version=version, as_of=as_of, tag=tag)
        try:
            scan = pl.scan_delta(
                self._uri(dataset), version=n, storage_options=self.storage_options
            )
            schema = scan.collect_schema()
        except (DeltaError, OSError, pl.exceptions.PolarsError) as exc:
            raise self._damage(dataset, exc) from exc

        def source(
            with_columns: list[str] | None,
            predicate: pl.Expr | None,
            n_rows: int | None,
            batch_size: int | None,
        ) -> Iterator[pl.DataFrame]:
            query = scan if with_columns is None else scan.select(with_columns)
            query = query if predicate is None else query.filter(predicate)
            query = query if n_rows is None else query.head(n_rows)
            try:
                rows = query.collect()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # pyo3's PanicException is a BaseException
                msg = (
                    f"cannot read version {n} of dataset {dataset!r}: a data file is damaged "
                    f"or was changed ({type(exc).__name__}: {first_line(exc)}); "
                    "store.verify() reports which versions are intact"
                )
                raise IntegrityError(msg) from None
            yield rows

        return register_io_source(source, schema=schema)

    def resolve(
        self,
        dataset: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        tag: str | None = None,
    ) -> int:
        """
        Turn a version, time or tag (or nothing: the latest) into a version number.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("raw", df, tags=["v1"])
        >>> store.resolve("raw", tag="v1")
        0
        """
        given = sum(x is not None for x in (version, as_of, tag))
        if given > 1:
            msg = "give at most one of `version`, `as_of` and `tag`"
            raise InvalidParameterError(msg)
        if as_of is not None:
            if not isinstance(as_of, datetime):
                msg = (
                    f"`as_of` must be a datetime, got {as_of!r}; for a string use "
                    "datetime.fromisoformat(...)"
                )
                raise InvalidTypeError(msg)
            when = to_utc(as_of)
            history = self._history(dataset)
            before = [v.version for v in history if v.created_at <= when]
            if not before:
                first = f"; the first is version {history[0].version} at {history[0].created_at}"
                msg = f"dataset {dataset!r} has no version at or before {when}" + (
                    first if history else ""
                )
                raise VersionNotFoundError(msg)
            n = before[-1]
        elif tag is not None:
            if not isinstance(tag, str):
                msg = f"`tag` must be a string, got {tag!r}"
                raise InvalidTypeError(msg)
            n = self.version(dataset, self._tag_version(dataset, tag)).version
        elif version is not None:
            n = self.version(dataset, version).version
        else:
            n = self.latest(dataset).version
        if n in self._vacuumed(dataset).get_column("version").to_list():
            msg = f"version {n} of dataset {dataset!r} was removed by vacuum"
            raise VersionNotFoundError(msg)
        return n

    def _vacuumed(self, dataset: str) -> pl.DataFrame:
        """Versions (``version``) and files (``path``) that vacuum removed."""
        events = self._events("vacuums")
        if events is None:
            return pl.DataFrame(schema={"version": pl.Int64, "path": pl.String})
        return events.filter(pl.col("dataset") == dataset).select("version", "path")


def _now() -> datetime:
    return datetime.now(UTC)


def _check_version(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        msg = f"`version` must be an int, got {n!r}"
        raise InvalidTypeError(msg)
