"""The dataset store: every dataset a Delta table, every version a Delta commit."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import polars as pl

from sensorframe._deprecation import deprecate_positional, renamed_keywords
from sensorframe.store import _commit, _integrity, _maintenance, _refs
from sensorframe.store._commit import ParentRef
from sensorframe.store._core import StoreCore
from sensorframe.store._model import DatasetVersion, VacuumReport, Verification, versions_frame

__all__ = ["DatasetStore"]


class DatasetStore:
    """
    Versioned sensor datasets on Delta Lake, with tags, lineage and model links.

    Each dataset is a Delta table under ``root``; each :meth:`commit` is one Delta
    commit whose custom metadata holds the version's hash, size, sensors, description,
    tags, parents and time, so data and metadata cannot disagree after a crash. Tags,
    model links and records are append-only Delta tables under ``<root>/_sensorframe/``.

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
    Concurrent commits are serialized optimistically (see :mod:`sensorframe.store`).
    Use one store object per thread (or process): it caches table handles. The methods
    delegate to plain functions over one internal ``StoreCore``, documented here only.

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
    >>> store.verify("raw", 1).ok, store.datasets(), store.resolve("raw", tag="stable")
    (True, ['raw'], 0)
    >>> store.latest("raw") == v1, store.version("raw", 0).description
    (True, 'first pull')
    >>> store.versions("raw").select("version", "rows", "description").rows()
    [(0, 2, 'first pull'), (1, 2, '')]
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        storage_options: dict[str, str] | None = None,
        max_commit_retries: int = 50,
    ) -> None:
        self._core = StoreCore(
            root, storage_options=storage_options, max_commit_retries=max_commit_retries
        )

    def __repr__(self) -> str:
        return f"DatasetStore({self.root!r})"

    @property
    def root(self) -> str:
        """The folder (resolved) or object-store URI holding the datasets."""
        return self._core.root

    @property
    def storage_options(self) -> dict[str, str] | None:
        """The storage options passed to deltalake and Polars."""
        return self._core.storage_options

    @property
    def is_local(self) -> bool:
        """Whether the store is a local folder (not an object store)."""
        return self._core.is_local

    @property
    def max_commit_retries(self) -> int:
        """How often a commit that lost a race is retried."""
        return self._core.max_commit_retries

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
        batch_rows: int | None = None,
        memory_limit: str | int | None = None,
    ) -> DatasetVersion:
        """
        Write a new version of a dataset as one Delta commit.

        Parameters
        ----------
        dataset
            Dataset name: letters, digits, ``.``, ``_``, ``-``; not starting with ``_``.
        frame
            Anything :func:`sensorframe.scan` accepts (extra columns are kept), or an
            iterable of frames each holding whole sensors (a pipeline's batches).
        description
            Free text stored with the version.
        tags
            Tags to put on this version (moved here if they were on another one).
        parents
            The versions it derives from (:class:`DatasetVersion`, ``(dataset, version)``).
        mode
            ``"overwrite"`` replaces the content (the schema may change);
            ``"append"`` adds rows (the schema must match).
        properties
            User key/value strings (a run id ...) stored in the same Delta commit;
            returned as ``DatasetVersion.properties`` and listed by :meth:`versions`.
        batch_rows, memory_limit
            Write a large source (large lazy ones unasked) in batches of whole sensors:
            files per batch, one commit at the end; the version as from memory.

        Returns
        -------
        DatasetVersion
            The version holding this call's rows. ``batch_hash`` is
            :func:`sensorframe.content_hash` of the rows written; ``data_hash`` (see
            :attr:`DatasetVersion.data_hash`) of an append chains on the previous
            version's, so an append costs in proportion to its rows only.

        Raises
        ------
        InvalidParameterError, VersionNotFoundError, DatasetNotFoundError
            For a bad dataset name, mode or tag, or a parent that does not exist.
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
        return _commit.commit(
            self._core,
            dataset,
            frame,
            description=description,
            tags=tags,
            parents=parents,
            mode=mode,
            properties=properties,
            batch_rows=batch_rows,
            memory_limit=memory_limit,
        )

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
        """
        return versions_frame(self._core.history(dataset))

    def version(self, dataset: str, n: int) -> DatasetVersion:
        """
        Return the metadata of one version.

        Raises
        ------
        DatasetNotFoundError, VersionNotFoundError
            Listing what exists: ``dataset 'raw' has no version 5; versions: [0]``.
        """
        return self._core.version(dataset, n)

    def latest(self, dataset: str) -> DatasetVersion:
        """Return the newest version of a dataset (see the class example)."""
        return self._core.latest(dataset)

    def datasets(self) -> list[str]:
        """Return the names of the datasets in the store, sorted."""
        return self._core.datasets()

    @renamed_keywords(as_of="as_known_at")
    def read(
        self,
        dataset: str,
        *,
        version: int | None = None,
        as_known_at: datetime | None = None,
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
        as_known_at
            The data as known then: the last version whose recorded commit time
            (``created_at``) is at or before it (naive datetimes are UTC). Formerly
            ``as_of``, which still works with a ``DeprecationWarning``.
        tag
            A tag name (see :meth:`tag`).

        Returns
        -------
        LazyFrame
            The stored rows; projections, filters and ``head`` reach the Delta scan.
            A data file that cannot be read (rewritten, truncated, garbage) raises
            :class:`~sensorframe.errors.IntegrityError` at ``collect``; changed values
            that still parse are caught by :meth:`verify`.

        Raises
        ------
        InvalidParameterError
            If more than one of ``version``, ``as_known_at``, ``tag`` is given.
        DatasetNotFoundError, VersionNotFoundError, TagNotFoundError
            Listing what exists (also for ``as_known_at`` before the first version,
            and a version whose files were vacuumed).

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> v0 = store.commit("raw", df)
        >>> _ = store.commit("raw", df.with_columns(value=pl.lit(1.5)))  # a correction
        >>> store.read("raw").collect()["value"].to_list()
        [1.5]
        >>> store.read("raw", as_known_at=v0.created_at).collect()["value"].to_list()
        [1.0]
        """
        return _refs.read(self._core, dataset, version=version, as_known_at=as_known_at, tag=tag)

    @renamed_keywords(as_of="as_known_at")
    def resolve(
        self,
        dataset: str,
        *,
        version: int | None = None,
        as_known_at: datetime | None = None,
        tag: str | None = None,
    ) -> int:
        """Turn a version, time or tag (or nothing: the latest) into a number, as :meth:`read`."""
        return _refs.resolve(self._core, dataset, version=version, as_known_at=as_known_at, tag=tag)

    def verify(self, dataset: str, version: int | None = None) -> Verification:
        """
        Re-hash a version's data and compare it with the hash recorded at commit.

        The proof follows the hash's definition (``DatasetVersion.data_hash``): an
        append re-hashes only the files it added (checking that no commit in between
        changed data) and chains on its predecessor's proof; a restore checks it holds
        the restored version's files.

        Returns
        -------
        Verification
            True in a boolean context when the data is intact. Unreadable data files
            and a damaged Delta log (commit file, checkpoint, edited metadata) are
            reported (``ok=False``, ``error``), not raised; ``version`` is -1 when the
            damaged log cannot say which is the latest.

        Raises
        ------
        DatasetNotFoundError, VersionNotFoundError
            If there is no such dataset or version.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("raw", df)
        >>> _ = store.commit("raw", df.with_columns(sensor_id=pl.lit("b")), mode="append")
        >>> bool(store.verify("raw", 0)), bool(store.verify("raw", 1))
        (True, True)
        """
        return _integrity.verify(self._core, dataset, version)

    def restore(self, dataset: str, version: int, *, description: str = "") -> DatasetVersion:
        """
        Make an old version's content the latest again, as a new commit.

        The new version has the restored one as parent and its hash (Delta re-adds
        the old files; no data is copied).

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> v0 = store.commit("raw", df)
        >>> _ = store.commit("raw", df.with_columns(value=pl.lit(2.0)))
        >>> r = store.restore("raw", 0)
        >>> (r.version, r.data_hash == v0.data_hash, r.parents, bool(store.verify("raw", 2)))
        (2, True, (('raw', 0),), True)
        """
        return _integrity.restore(self._core, dataset, version, description=description)

    def tag(self, dataset: str, version: int, name: str) -> None:
        """
        Put tag ``name`` on a version (moving it if another version had it).

        The newest assignment of a tag wins, from :meth:`tag` or ``commit(tags=...)``.
        A tag protects its version from :meth:`vacuum`.

        Raises
        ------
        InvalidTypeError, InvalidParameterError
            If ``version`` is not an int, or ``name`` not a non-empty string.
        VersionNotFoundError
            If the version does not exist or was removed by vacuum (also while this
            tag was being placed).

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("raw", df, tags=["stable"])
        >>> _ = store.commit("raw", df, mode="append")
        >>> store.tag("raw", 1, "stable")
        >>> store.tags("raw").select("tag", "version").rows()
        [('stable', 1)]
        """
        _refs.tag(self._core, dataset, version, name)

    def tags(self, dataset: str | None = None) -> pl.DataFrame:
        """
        List the current tags: one row per (dataset, tag) with the version it points to.

        See Also
        --------
        tag : whose example lists the tags.
        """
        return _refs.tags(self._core, dataset)

    def lineage(self, dataset: str, version: int) -> pl.DataFrame:
        """
        Return the full ancestry of a version across datasets, one row per parent edge.

        Returns
        -------
        DataFrame
            ``dataset``, ``version`` (the child), ``parent_dataset``,
            ``parent_version`` and ``depth`` (1 for direct parents), breadth first.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> raw = store.commit("raw", df)
        >>> clean = store.commit("clean", df, parents=[raw])
        >>> feats = store.commit("features", df, parents=[clean])
        >>> store.lineage("features", 0).rows()
        [('features', 0, 'clean', 0, 1), ('clean', 0, 'raw', 0, 2)]
        >>> store.lineage_graph("clean", 0)
        {('clean', 0): (('raw', 0),), ('raw', 0): ()}
        """
        return _refs.lineage(self._core, dataset, version)

    def lineage_graph(
        self, dataset: str, version: int
    ) -> dict[tuple[str, int], tuple[tuple[str, int], ...]]:
        """
        Return the ancestry as a mapping ``(dataset, version) -> parents``.

        Parents whose dataset was deleted appear as keys with no parents.

        See Also
        --------
        lineage : the same ancestry as a table.
        """
        return _refs.lineage_graph(self._core, dataset, version)

    @deprecate_positional(allowed=3, version="0.2.0")
    def link_model(self, dataset: str, version: int, *, model_id: str, model_version: str) -> None:
        """
        Record that a model (id and version) was trained or evaluated on a version.

        A link protects its version from :meth:`vacuum`. ``model_id`` and
        ``model_version`` are keyword-only (passing them by position still works in
        this release, with a ``DeprecationWarning``).

        Raises
        ------
        InvalidTypeError, InvalidParameterError
            If ``version`` is not an int, or the model id or version not a non-empty string.
        VersionNotFoundError
            If the version does not exist or was removed by vacuum.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("train", df)
        >>> store.link_model("train", 0, model_id="telemanom_P-1", model_version="1.2")
        >>> store.models("train", 0).select("model_id", "model_version").rows()
        [('telemanom_P-1', '1.2')]
        >>> store.model_datasets("telemanom_P-1").select("dataset", "version").rows()
        [('train', 0)]
        """
        _refs.link_model(
            self._core, dataset, version, model_id=model_id, model_version=model_version
        )

    def models(self, dataset: str, version: int) -> pl.DataFrame:
        """
        List the models linked to a version: ``model_id``, ``model_version``, ``linked_at``.

        See Also
        --------
        link_model : whose example lists a version's models.
        """
        return _refs.models(self._core, dataset, version)

    def model_datasets(self, model_id: str, model_version: str | None = None) -> pl.DataFrame:
        """
        List the dataset versions linked to a model (all its versions unless one is given).

        See Also
        --------
        link_model : whose example lists a model's datasets.
        """
        return _refs.model_datasets(self._core, model_id, model_version)

    def vacuum(
        self,
        dataset: str | None = None,
        *,
        retention_hours: float = 168,
        keep: Sequence[int] = (),
        orphans: bool = False,
        dry_run: bool = False,
    ) -> VacuumReport:
        """
        Delete data files no longer needed, keeping tagged and model-linked versions.

        Delta's vacuum breaks time travel to every version whose files it deletes.
        This one keeps the latest, tagged and model-linked versions (and ``keep``),
        even those tagged while it runs, and reports the versions it made unreadable.

        Parameters
        ----------
        dataset
            One dataset, or None for all of them.
        retention_hours
            Only files removed from the table at least this long ago are deleted
            (a fraction is rounded up: delta-rs counts whole hours).
        keep
            More version numbers to keep (only with a single ``dataset``).
        orphans
            Also delete files no version references (a writer died before its commit)
            once ``retention_hours`` and at least one hour old (by modification time).
        dry_run
            Report what would be deleted without deleting it.

        Returns
        -------
        VacuumReport
            The files deleted, the versions made unreadable and the versions kept.

        Raises
        ------
        InvalidParameterError, InvalidTypeError
            For a ``retention_hours`` not a finite number >= 0, ``keep`` not a
            sequence of versions >= 0 (or without a ``dataset``), non-boolean flags.
        VersionNotFoundError
            If a version in ``keep`` does not exist.
        CommitConflictError
            If concurrent writers kept changing the dataset for 10 attempts.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> for i in range(3):
        ...     _ = store.commit("raw", df.with_columns(value=pl.lit(float(i))))
        >>> store.tag("raw", 0, "baseline")
        >>> report = store.vacuum(retention_hours=0)
        >>> report.lost_versions["version"].to_list(), report.files.height
        ([1], 1)
        """
        return _maintenance.vacuum(
            self._core,
            dataset,
            retention_hours=retention_hours,
            keep=keep,
            orphans=orphans,
            dry_run=dry_run,
        )

    def append_records(self, name: str, records: pl.DataFrame | pl.LazyFrame) -> int:
        """
        Append rows to the record table ``<root>/_sensorframe/<name>``, creating it.

        Append-only Delta tables for logs and events: concurrent appends never
        conflict, new columns are merged into the schema.

        Parameters
        ----------
        name
            Table name (rules of dataset names). The store's tables (``tags``,
            ``model_links``, ``datasets``, ``vacuums``) and the pipeline's (``runs``,
            ``drift_reference``) are reserved.
        records
            A ``pl.DataFrame`` or ``pl.LazyFrame``.

        Returns
        -------
        int
            The Delta version of the append.

        Raises
        ------
        InvalidParameterError, InvalidTypeError
            For an invalid or reserved name, or ``records`` not a Polars frame.
        SensorSchemaError
            If it has no columns, a column Delta cannot store, or a column whose
            type clashes with the table's.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> store.append_records("labels", pl.DataFrame({"run": [1], "status": ["ok"]}))
        0
        >>> store.records("labels").collect().rows()
        [(1, 'ok')]
        """
        return _maintenance.append_records(self._core, name, records)

    def append_pipeline_records(self, name: str, records: pl.DataFrame | pl.LazyFrame) -> int:
        """For the pipeline only: :meth:`append_records` to ``runs`` or ``drift_reference``."""
        return _maintenance.append_pipeline_records(self._core, name, records)

    def records(self, name: str) -> pl.LazyFrame:
        """
        Read a record table (also ``tags``, ``model_links``: the raw event logs).

        The (small) table is read at once, so a damaged one raises here.

        Raises
        ------
        DatasetNotFoundError
            If nothing was ever appended to it (its schema is unknown).
        IntegrityError
            If its Delta log or a data file is damaged.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> store.records("runs")
        Traceback (most recent call last):
        ...
        sensorframe.errors.DatasetNotFoundError: no record table 'runs' in ...
        """
        return _maintenance.records(self._core, name)
