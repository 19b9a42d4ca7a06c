"""
The store's state and its low-level operations, shared by every part of the store.

:class:`StoreCore` holds the root, the storage options and the caches (open table
handles, commit-log readers) of one :class:`~sensorframe.store.DatasetStore`, and
reads a dataset's Delta log commit by commit. The topic modules (``_commit``,
``_refs``, ``_integrity``, ``_maintenance``) are plain functions taking it.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from deltalake import DeltaTable
from deltalake.fs import DeltaStorageHandler
from pyarrow.fs import FileSelector

from sensorframe._utils import preview
from sensorframe.errors import (
    DatasetNotFoundError,
    IntegrityError,
    InvalidParameterError,
    InvalidTypeError,
    VersioningError,
    VersionNotFoundError,
)
from sensorframe.store._catalog import append_rows, read_table
from sensorframe.store._model import (
    CATALOG,
    COMMIT_ID,
    DatasetVersion,
    LogCommit,
    check_name,
    decode_metadata,
    log_file,
    parse_commit,
)
from sensorframe.store._translate import DELTA_FAILURES, first_line, open_table

__all__ = ["StoreCore", "check_version"]


class StoreCore:
    """
    Root, storage options and caches of a store, with its low-level operations.

    Internal: one per :class:`~sensorframe.store.DatasetStore` (and, like it, per
    thread). Versions are numbered by the commit file they are in
    (``_delta_log/<version>.json``), never by their position in a listing.

    Examples
    --------
    >>> import tempfile
    >>> from sensorframe.store._core import StoreCore
    >>> core = StoreCore(tempfile.mkdtemp(), storage_options=None, max_commit_retries=5)
    >>> core.uri("raw") == f"{core.root}/raw", core.datasets()
    (True, [])
    """

    def __init__(
        self,
        root: object,
        *,
        storage_options: object,
        max_commit_retries: object,
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
        self.storage_options: dict[str, str] | None = (
            dict(storage_options) if storage_options else None
        )
        self.max_commit_retries: int = max_commit_retries
        self._handles: dict[str, DeltaTable] = {}
        self._logs: dict[str, DeltaStorageHandler] = {}

    # ------------------------------------------------------------------ tables
    def uri(self, dataset: str) -> str:
        """Location of a dataset's Delta table (the name is checked)."""
        return f"{self.root}/{check_name(dataset)}"

    def catalog_uri(self, name: str) -> str:
        """Location of a catalog table (``tags``, ``model_links``, record tables ...)."""
        return f"{self.root}/{CATALOG}/{name}"

    def open(self, dataset: str, version: int | None = None) -> DeltaTable | None:
        """Open a dataset's table (at ``version``); None if there is none; damage named."""
        try:
            return open_table(self.uri(dataset), self.storage_options, version)
        except DELTA_FAILURES as exc:
            raise self.damage(dataset, exc) from exc

    def latest_table(self, dataset: str) -> DeltaTable | None:
        """Return the table at its newest version, reusing (and catching up) a handle."""
        dt = self._handles.get(dataset)
        if dt is not None:
            try:
                dt.update_incremental()  # reads only the commits added since
            except DELTA_FAILURES:
                self._handles.pop(dataset, None)
            else:
                return dt
        dt = self.open(dataset)
        if dt is not None:
            self._handles[dataset] = dt
        return dt

    def scan(self, dataset: str, n: int) -> pl.LazyFrame:
        """Scan version ``n`` of a dataset (errors surface when it is collected)."""
        return pl.scan_delta(self.uri(dataset), version=n, storage_options=self.storage_options)

    def files(self, dataset: str, n: int) -> set[str]:
        """URIs of the data files of version ``n``."""
        dt = DeltaTable(self.uri(dataset), version=n, storage_options=self.storage_options)
        return set(dt.file_uris())

    # ------------------------------------------------------------------ events
    def events(self, name: str) -> pl.DataFrame | None:
        """Read a whole catalog table (None if nothing was ever appended to it)."""
        return read_table(self.catalog_uri(name), self.storage_options)

    def append_event(self, name: str, rows: pl.DataFrame) -> int:
        """Append rows to a catalog table, creating it; return the Delta version."""
        return append_rows(self.catalog_uri(name), rows, self.storage_options)

    def vacuumed(self, dataset: str) -> pl.DataFrame:
        """Versions (``version``) and files (``path``) that vacuum removed."""
        events = self.events("vacuums")
        if events is None:
            return pl.DataFrame(schema={"version": pl.Int64, "path": pl.String})
        return events.filter(pl.col("dataset") == dataset).select("version", "path")

    # ------------------------------------------------------------------ the log
    def commit_file(self, dataset: str, n: int) -> LogCommit | None:
        """Read the commit file of version ``n`` by its number (None if there is none)."""
        try:
            log = self._logs.get(dataset)
            if log is None:
                log = self._logs[dataset] = DeltaStorageHandler(
                    self.uri(dataset), self.storage_options
                )
            with log.open_input_file(log_file(n)) as file:
                raw = file.read()
        except FileNotFoundError:
            return None
        except DELTA_FAILURES as exc:
            msg = f"cannot read version {n} of dataset {dataset!r}: {first_line(exc)}"
            raise VersioningError(msg) from exc
        return parse_commit(dataset, n, raw)

    def log_entry(self, dataset: str, n: int) -> LogCommit:
        """Read the commit file of version ``n``, which must exist."""
        entry = self.commit_file(dataset, n)
        if entry is None:
            msg = f"dataset {dataset!r}: the commit file of version {n} ({log_file(n)}) is missing"
            raise IntegrityError(msg)
        return entry

    def damage(self, dataset: str, exc: Exception) -> VersioningError:
        """
        Return the typed error for a table deltalake cannot load, naming the damage.

        Reads every commit file by its number (a missing or unparsable one raises
        :class:`IntegrityError` naming it); if they are all sound, the checkpoint is.
        """
        if isinstance(exc, OSError) and not self.is_local:
            msg = f"cannot reach dataset {dataset!r} at {self.uri(dataset)}: {first_line(exc)}"
            return VersioningError(msg)
        try:
            names = [
                Path(info.path).name
                for info in DeltaStorageHandler(
                    self.uri(dataset), self.storage_options
                ).get_file_info_selector(FileSelector("_delta_log"))
            ]
        except DELTA_FAILURES as error:
            msg = f"cannot read the Delta log of dataset {dataset!r}: {first_line(error)}"
            return VersioningError(msg)
        commits = [
            int(name[:20]) for name in names if name[:20].isdigit() and name.endswith(".json")
        ]
        for n in range(max(commits, default=-1) + 1):
            self.log_entry(dataset, n)
        checkpoints = sorted({int(name[:20]) for name in names if ".checkpoint" in name})
        where = f"the checkpoint of version {checkpoints[-1]}" if checkpoints else "its Delta log"
        msg = f"dataset {dataset!r}: deltalake cannot load {where}: {first_line(exc)}"
        return IntegrityError(msg)

    def landed(self, dataset: str, after: int, commit_id: str) -> int:
        """
        Return the version whose commit carries ``commit_id`` (written after ``after``).

        Neither the handle's version after a write nor ``after + 1`` is proof: other
        commits (another writer's, vacuum's) may come before or after ours.
        """
        n = after + 1
        while (entry := self.commit_file(dataset, n)) is not None:
            if entry.info.get(COMMIT_ID) == commit_id:
                return n
            n += 1
        msg = (
            f"committed to dataset {dataset!r} but cannot find the commit {commit_id} "
            f"after version {after}"
        )
        raise VersioningError(msg)

    # ------------------------------------------------------------------ versions
    def recorded(self, dataset: str, n: int) -> DatasetVersion | None:
        """Decode the version in commit file ``n`` (None: another writer's commit)."""
        return decode_metadata(dataset, n, self.log_entry(dataset, n).info)

    def previous(self, dataset: str, n: int) -> DatasetVersion | None:
        """Return the newest sensorframe version at or before Delta version ``n``."""
        for k in range(n, -1, -1):
            found = self.recorded(dataset, k)
            if found is not None:
                return found
        return None

    def newest(self, dataset: str) -> int:
        """Return the newest Delta version of a dataset (raise if there is no such dataset)."""
        dt = self.latest_table(dataset)
        if dt is None:
            msg = f"no dataset {dataset!r} in {self.root}; datasets: {preview(self.datasets())}"
            raise DatasetNotFoundError(msg)
        return int(dt.version())

    def history(self, dataset: str) -> list[DatasetVersion]:
        """Every sensorframe version, oldest first, each read from its own commit file."""
        found = (self.recorded(dataset, n) for n in range(self.newest(dataset) + 1))
        return [v for v in found if v is not None]

    def version(self, dataset: str, n: int) -> DatasetVersion:
        """Return the metadata of version ``n`` (raise, listing the versions, if none)."""
        check_version(n)
        found = self.recorded(dataset, n) if 0 <= n <= self.newest(dataset) else None
        if found is not None:
            return found
        numbers = [v.version for v in self.history(dataset)]
        msg = f"dataset {dataset!r} has no version {n!r}; versions: {preview(numbers)}"
        raise VersionNotFoundError(msg)

    def latest(self, dataset: str) -> DatasetVersion:
        """Return the newest sensorframe version of a dataset."""
        found = self.previous(dataset, self.newest(dataset))
        if found is None:
            msg = f"dataset {dataset!r} has no sensorframe versions yet"
            raise VersionNotFoundError(msg)
        return found

    def readable(self, dataset: str, n: int) -> int:
        """Return ``n`` if the version exists and vacuum did not remove it, else raise."""
        self.version(dataset, n)
        if n in self.vacuumed(dataset).get_column("version").to_list():
            msg = f"version {n} of dataset {dataset!r} was removed by vacuum"
            raise VersionNotFoundError(msg)
        return n

    def datasets(self) -> list[str]:
        """Names of the datasets in the store, sorted."""
        names: set[str] = set()
        events = self.events("datasets")
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


def check_version(n: object) -> None:
    """Raise unless ``n`` is a version number (an int, not a bool)."""
    if isinstance(n, bool) or not isinstance(n, int):
        msg = f"`version` must be an int, got {n!r}"
        raise InvalidTypeError(msg)
