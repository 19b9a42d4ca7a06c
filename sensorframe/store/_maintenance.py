"""Vacuum and record tables of the dataset store."""

from __future__ import annotations

import math
import numbers
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError

from sensorframe.errors import (
    CommitConflictError,
    DatasetNotFoundError,
    InvalidParameterError,
    InvalidTypeError,
    SensorSchemaError,
    VersioningError,
    VersionNotFoundError,
)
from sensorframe.store._model import (
    CATALOG,
    RESERVED_RECORDS,
    DatasetVersion,
    VacuumReport,
    check_name,
)

__all__ = ["MAX_RETENTION_HOURS", "ORPHAN_MIN_HOURS", "PIPELINE_RECORDS", "MaintenanceMixin"]

ORPHAN_MIN_HOURS = 1
"""Files no version references are deleted only once this old (hours, by modification
time), whatever ``retention_hours`` says: a younger one may belong to a commit in
progress, whose files are written before its commit."""
MAX_RETENTION_HOURS = 24 * 365 * 1000
"""Largest ``retention_hours`` (a thousand years; more would overflow delta-rs' clock)."""
VACUUM_ATTEMPTS = 10
"""Plans of one dataset's vacuum before concurrent changes make it a CommitConflictError."""

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

    if TYPE_CHECKING:

        def _history(self, dataset: str) -> list[DatasetVersion]: ...
        def _events(self, name: str) -> pl.DataFrame | None: ...
        def _append_event(self, name: str, rows: pl.DataFrame) -> int: ...
        def _open(self, dataset: str, version: int | None = None) -> DeltaTable | None: ...
        def _vacuumed(self, dataset: str) -> pl.DataFrame: ...
        def datasets(self) -> list[str]: ...
        def tags(self, dataset: str | None = None) -> pl.DataFrame: ...

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
            delta-rs counts in whole hours, so a fraction is rounded up (0.9 keeps
            files removed in the last hour): never more is deleted than asked.
        keep
            More version numbers to keep (only with a single ``dataset``).
        orphans
            Also delete files in a dataset's folder that no version references: the
            files of a writer that died before its commit. Their age is their
            modification time, and they are deleted only once both
            ``retention_hours`` and :data:`ORPHAN_MIN_HOURS` (1 hour) old, whatever
            the retention: a younger one may belong to a commit in progress (files
            written, commit not yet made).
        dry_run
            Report what would be deleted without deleting it.

        Returns
        -------
        VacuumReport
            The files deleted, the versions made unreadable and the versions kept.

        Raises
        ------
        InvalidParameterError
            For a negative, NaN or infinite ``retention_hours``, a negative version in
            ``keep``, or ``keep`` without a ``dataset``.
        InvalidTypeError
            For a ``retention_hours`` that is not a number, a ``keep`` that is not a
            sequence of ints, or non-boolean flags.
        VersionNotFoundError
            If a version in ``keep`` does not exist.
        CommitConflictError
            If concurrent writers kept changing the dataset for
            :data:`VACUUM_ATTEMPTS` attempts.

        Notes
        -----
        What must be kept (the latest version, tags, model links) is read again
        right before files are deleted, and the deletion is planned again if it
        changed or the table got a new commit meanwhile: a tag or commit made while
        vacuum lists files is honoured. A tag or link that lands after that last
        read, while files are being deleted, cannot protect its version; ``tag`` and
        ``link_model`` check the vacuum log after writing and raise
        ``VersionNotFoundError`` if the version was removed meanwhile. The gap left
        is a tag or link written and checked entirely while the files are being
        deleted, before vacuum records what it removed.
        Concurrent vacuums are safe: a lost commit race is planned again (files
        another vacuum already deleted are skipped).

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
        hours = _retention_hours(retention_hours)
        extra = _keep_versions(keep)
        for flag, value in (("orphans", orphans), ("dry_run", dry_run)):
            if not isinstance(value, bool):
                msg = f"`{flag}` must be True or False, got {value!r}"
                raise InvalidTypeError(msg)
        if extra and dataset is None:
            msg = "`keep` needs a single `dataset`"
            raise InvalidParameterError(msg)
        names = [check_name(dataset)] if dataset is not None else self.datasets()
        files: list[dict[str, Any]] = []
        lost: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        for name in names:
            doomed, broken, reasons = self._vacuum_dataset(
                name, hours, extra, orphans=orphans, dry_run=dry_run
            )
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

    def _vacuum_dataset(
        self, name: str, hours: int, extra: list[int], *, orphans: bool, dry_run: bool
    ) -> tuple[set[str], list[int], dict[int, str]]:
        """Plan and (unless ``dry_run``) run one dataset's vacuum: files, lost, kept."""
        last: Exception | None = None
        for attempt in range(VACUUM_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0.0, 0.02 * attempt))
            dt = self._open(name)
            history = self._history(name)
            if dt is None or not history:
                return set(), [], {}
            reasons = self._kept(name, history, extra)
            gone = self._vacuumed(name)
            # delta-rs lists files it already deleted again (tombstones stay in the
            # log), so the store remembers what it removed.
            listed = self._vacuum_files(dt, sorted(reasons), hours, orphans=orphans, dry=True)
            doomed = listed - set(gone.get_column("path").drop_nulls().to_list())
            if not dry_run and doomed:
                # Right before deleting, read again what must be kept: a tag, link or
                # commit made since the plan would otherwise not be protected.
                if self._kept(name, history, extra) != reasons or _moved(self._open(name), dt):
                    continue
                try:
                    self._vacuum_files(dt, sorted(reasons), hours, orphans=orphans, dry=False)
                except CommitFailedError as exc:  # another vacuum or writer won: plan again
                    last = exc
                    continue
                except DeltaError as exc:
                    msg = f"could not vacuum dataset {name!r}: {exc}"
                    raise VersioningError(msg) from exc
            already = set(gone.get_column("version").drop_nulls().to_list())
            broken = [
                v.version
                for v in history
                if v.version not in reasons
                and v.version not in already
                and doomed & self._version_paths(name, v.version)
            ]
            if not dry_run and doomed:
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
            return doomed, broken, reasons
        msg = (
            f"could not vacuum dataset {name!r}: concurrent writers changed it "
            f"{VACUUM_ATTEMPTS} times in a row"
        )
        raise CommitConflictError(msg) from last

    def _kept(self, name: str, history: list[DatasetVersion], extra: list[int]) -> dict[int, str]:
        """Versions whose files must stay, and why (the latest, tags, model links, keep)."""
        numbers = {v.version for v in history}
        missing = [n for n in extra if n not in numbers]
        if missing:
            msg = f"dataset {name!r} has no version {missing[0]} (in `keep`)"
            raise VersionNotFoundError(msg)
        reasons: dict[int, str] = {history[-1].version: "latest"}
        reasons |= dict.fromkeys(_versions_of(self._events("model_links"), name), "model")
        reasons |= dict.fromkeys(_versions_of(self.tags(name), name), "tag")
        reasons |= dict.fromkeys(extra, "keep")
        return reasons

    @staticmethod
    def _vacuum_files(
        dt: DeltaTable, keep: list[int], hours: int, *, orphans: bool, dry: bool
    ) -> set[str]:
        """
        Run delta-rs' vacuum: removed files in "lite" mode, then orphans in "full" mode.

        The "full" pass deletes any unreferenced file at least its retention old by
        modification time, so it runs with at least :data:`ORPHAN_MIN_HOURS`.
        """
        passes = [(hours, False)] + ([(max(hours, ORPHAN_MIN_HOURS), True)] if orphans else [])
        return {
            path
            for retention, full in passes
            for path in dt.vacuum(
                retention_hours=retention,
                dry_run=dry,
                enforce_retention_duration=False,
                keep_versions=keep,
                full=full,
            )
        }

    def _version_paths(self, dataset: str, version: int) -> set[str]:
        """Paths (relative to the table, as vacuum lists them) of a version's data files."""
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

        The table is read when this is called (record tables are small event logs),
        so a damaged one raises here, not later at ``collect``.

        Raises
        ------
        DatasetNotFoundError
            If nothing was ever appended to it (no empty frame: its schema is unknown).
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
        check_name(name, "record table")
        table = self._events(name)
        if table is None:
            msg = f"no record table {name!r} in {self.root}/{CATALOG}"
            raise DatasetNotFoundError(msg)
        return table.lazy()


def _record_frame(records: object) -> pl.DataFrame:
    if isinstance(records, pl.LazyFrame):
        records = records.collect()
    if not isinstance(records, pl.DataFrame):
        msg = f"`records` must be a polars DataFrame or LazyFrame, got {type(records).__name__}"
        raise InvalidTypeError(msg)
    if records.width == 0:
        msg = "`records` has no columns; a record table needs at least one"
        raise SensorSchemaError(msg)
    return records


def _retention_hours(value: object) -> int:
    """Check a retention in hours; round it up to delta-rs' whole hours."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"`retention_hours` must be a number of hours, got {type(value).__name__}"
        raise InvalidTypeError(msg)
    hours = float(value)
    if not math.isfinite(hours) or not 0 <= hours <= MAX_RETENTION_HOURS:
        msg = f"`retention_hours` must be between 0 and {MAX_RETENTION_HOURS}, got {value!r}"
        raise InvalidParameterError(msg)
    return math.ceil(hours)


def _keep_versions(keep: object) -> list[int]:
    """Check ``keep``: a sequence of version numbers."""
    if isinstance(keep, str | bytes) or not isinstance(keep, Sequence | set | frozenset):
        msg = f"`keep` must be a sequence of version numbers, got {type(keep).__name__}"
        raise InvalidTypeError(msg)
    for n in keep:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            msg = f"`keep` must hold version numbers (ints), got {n!r}"
            raise InvalidTypeError(msg)
        if n < 0:
            msg = f"`keep` must hold version numbers >= 0, got {n}"
            raise InvalidParameterError(msg)
    return sorted({int(n) for n in keep})


def _moved(current: DeltaTable | None, planned: DeltaTable) -> bool:
    """Tell whether the table got a commit since ``planned`` was read."""
    return current is None or current.version() != planned.version()


def _now() -> datetime:
    return datetime.now(UTC)


def _versions_of(events: pl.DataFrame | None, dataset: str) -> list[int]:
    if events is None or events.height == 0:
        return []
    return events.filter(pl.col("dataset") == dataset).get_column("version").unique().to_list()
