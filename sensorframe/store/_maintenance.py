"""Vacuum and record tables of the dataset store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
from deltalake import DeltaTable

from sensorframe.errors import (
    DatasetNotFoundError,
    InvalidParameterError,
    InvalidTypeError,
)
from sensorframe.store._catalog import open_table
from sensorframe.store._model import (
    CATALOG,
    RESERVED_RECORDS,
    DatasetVersion,
    VacuumReport,
    check_name,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

    from deltalake.transaction import AddAction

__all__ = ["PIPELINE_RECORDS", "MaintenanceMixin"]

PIPELINE_RECORDS = frozenset({"runs", "drift_reference"})
"""Record tables of :class:`sensorframe.Pipeline`, written only by ``_append_reserved_records``."""

_TS = pl.Datetime("us", "UTC")
VACUUM_SCHEMA = pl.Schema(
    {"dataset": pl.String(), "version": pl.Int64(), "path": pl.String(), "at": _TS}
)


class MaintenanceMixin:
    """Vacuum and record-table methods of :class:`DatasetStore`."""

    root: str
    storage_options: dict[str, str] | None
    max_commit_retries: int

    if TYPE_CHECKING:

        def _history(self, dataset: str) -> list[DatasetVersion]: ...
        def _events(self, name: str) -> pl.DataFrame | None: ...
        def _append_event(self, name: str, rows: pl.DataFrame) -> int: ...
        def _open(self, dataset: str, version: int | None = None) -> DeltaTable | None: ...
        def _latest(self, dataset: str) -> DeltaTable | None: ...
        def _uri(self, dataset: str) -> str: ...
        def _catalog_uri(self, name: str) -> str: ...
        def _vacuumed(self, dataset: str) -> pl.DataFrame: ...
        def _write(
            self,
            uri: str,
            dt: DeltaTable | None,
            batch: pl.DataFrame,
            version: DatasetVersion,
            mode: str,
            files: Future[list[AddAction]] | None = None,
        ) -> int: ...
        def datasets(self) -> list[str]: ...
        def tags(self, dataset: str | None = None) -> pl.DataFrame: ...
        def version(self, dataset: str, n: int) -> DatasetVersion: ...
        def resolve(self, dataset: str, *, version: int | None = None) -> int: ...
        def read(self, dataset: str, *, version: int | None = None) -> pl.LazyFrame: ...

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
        This one always keeps the latest version, every tagged and every
        model-linked version (and ``keep``), and reports the versions it made
        unreadable; reading them afterwards raises ``VersionNotFoundError``.

        Parameters
        ----------
        dataset
            One dataset, or None for all of them.
        retention_hours
            Only files removed from the table at least this long ago are deleted.
        keep
            More version numbers to keep (only with a single ``dataset``).
        orphans
            Also delete files in a dataset's folder that no version references, once
            they are `retention_hours` old by their modification time: the files of a
            writer that died before its commit. Keep the retention longer than any
            write takes, since a younger file may belong to a commit in progress.
        dry_run
            Report what would be deleted without deleting it.

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
        if keep and dataset is None:
            msg = "`keep` needs a single `dataset`"
            raise InvalidParameterError(msg)
        names = [dataset] if dataset is not None else self.datasets()
        tags = self.tags()
        links = self._events("model_links")
        files: list[dict[str, Any]] = []
        lost: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        for name in names:
            history = self._history(name)
            dt = self._open(name)
            if dt is None or not history:
                continue
            reasons: dict[int, str] = {history[-1].version: "latest"}
            reasons |= dict.fromkeys(_versions_of(links, name), "model")
            reasons |= dict.fromkeys(_versions_of(tags, name), "tag")
            reasons |= {int(n): "keep" for n in keep}

            # delta-rs lists files it already deleted again (tombstones stay in the
            # log), so the store remembers what it removed.
            gone = self._vacuumed(name)
            listed = self._vacuum_files(
                dt, sorted(reasons), retention_hours, dry=True, full=orphans
            )
            doomed = set(listed) - set(gone.get_column("path").drop_nulls().to_list())
            already = set(gone.get_column("version").drop_nulls().to_list())
            broken = [
                v.version
                for v in history
                if v.version not in reasons
                and v.version not in already
                and doomed & self._files(name, v.version)
            ]
            if not dry_run and doomed:
                self._vacuum_files(dt, sorted(reasons), retention_hours, dry=False, full=orphans)
                events = pl.DataFrame(
                    {
                        "dataset": name,
                        "version": [*broken, *([None] * len(doomed))],
                        "path": [*([None] * len(broken)), *sorted(doomed)],
                        "at": _now(),
                    },
                    schema=VACUUM_SCHEMA,
                )
                self._append_event("vacuums", events)
            files += [{"dataset": name, "path": p} for p in sorted(doomed)]
            lost += [{"dataset": name, "version": n} for n in broken]
            kept += [
                {"dataset": name, "version": n, "reason": r} for n, r in sorted(reasons.items())
            ]
        base = VacuumReport()
        return VacuumReport(
            files=pl.DataFrame(files, schema=base.files.schema),
            lost_versions=pl.DataFrame(lost, schema=base.lost_versions.schema),
            kept_versions=pl.DataFrame(kept, schema=base.kept_versions.schema),
            dry_run=dry_run,
        )

    @staticmethod
    def _vacuum_files(
        dt: DeltaTable, keep: list[int], retention_hours: float, *, dry: bool, full: bool
    ) -> list[str]:
        return list(
            dt.vacuum(
                retention_hours=int(retention_hours),
                dry_run=dry,
                enforce_retention_duration=False,
                keep_versions=keep,
                full=full,
            )
        )

    def _files(self, dataset: str, version: int) -> set[str]:
        dt = self._open(dataset, version)
        if dt is None:  # pragma: no cover
            return set()
        actions = pl.DataFrame(dt.get_add_actions(flatten=True))
        return set(actions.get_column("path").to_list()) if actions.height else set()

    # ------------------------------------------------------------------ records
    def append_records(self, name: str, records: pl.DataFrame | pl.LazyFrame) -> int:
        """
        Append rows to the record table ``<root>/_sensorframe/<name>``, creating it.

        Record tables are append-only Delta tables for logs and other events:
        concurrent appends never conflict, new columns are merged into the schema.

        Parameters
        ----------
        name
            Table name (same rules as dataset names). The store's own tables
            (``tags``, ``model_links``, ``datasets``, ``vacuums``) and the
            pipeline's (``runs``, ``drift_reference``) are reserved: rows with
            another schema there would break every later pipeline run.
        records
            A ``pl.DataFrame`` or ``pl.LazyFrame``.

        Returns
        -------
        int
            The Delta version of the append.

        Raises
        ------
        InvalidParameterError
            For an invalid or reserved name.
        InvalidTypeError
            If ``records`` is not a Polars frame.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> store.append_records("labels", pl.DataFrame({"run": [1], "status": ["ok"]}))
        0
        >>> store.records("labels").collect().rows()
        [(1, 'ok')]
        """
        check_name(name, "record table")
        reserved = RESERVED_RECORDS | PIPELINE_RECORDS
        if name in reserved:
            msg = f"record table {name!r} is reserved; reserved: {sorted(reserved)}"
            raise InvalidParameterError(msg)
        return self._append_event(name, _record_frame(records))

    def _append_reserved_records(self, name: str, records: pl.DataFrame | pl.LazyFrame) -> int:
        """Append to one of the pipeline's own record tables (:data:`PIPELINE_RECORDS`)."""
        if name not in PIPELINE_RECORDS:
            msg = f"{name!r} is not a pipeline table; those are {sorted(PIPELINE_RECORDS)}"
            raise InvalidParameterError(msg)
        return self._append_event(name, _record_frame(records))

    def records(self, name: str) -> pl.LazyFrame:
        """
        Read a record table (also ``tags``, ``model_links``: the raw event logs).

        Raises
        ------
        DatasetNotFoundError
            If nothing was ever appended to it (no empty frame: its schema is unknown).

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> store.records("runs")
        Traceback (most recent call last):
        ...
        sensorframe.errors.DatasetNotFoundError: no record table 'runs' in ...
        """
        check_name(name, "record table")
        dt = open_table(self._catalog_uri(name), self.storage_options)
        if dt is None:
            msg = f"no record table {name!r} in {self.root}/{CATALOG}"
            raise DatasetNotFoundError(msg)
        return pl.scan_delta(dt, storage_options=self.storage_options)


def _record_frame(records: object) -> pl.DataFrame:
    if isinstance(records, pl.LazyFrame):
        return records.collect()
    if not isinstance(records, pl.DataFrame):
        msg = f"`records` must be a polars DataFrame or LazyFrame, got {type(records).__name__}"
        raise InvalidTypeError(msg)
    return records


def _now() -> datetime:
    return datetime.now(UTC)


def _versions_of(events: pl.DataFrame | None, dataset: str) -> list[int]:
    if events is None or events.height == 0:
        return []
    return events.filter(pl.col("dataset") == dataset).get_column("version").unique().to_list()
