"""
Integrity: each version read from its own commit file, damage named, data proven.

Also restore (making an old version current), whose versions verify proves too.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.fs import DeltaStorageHandler
from pyarrow.fs import FileSelector

from sensorframe.errors import (
    CommitConflictError,
    DatasetNotFoundError,
    IntegrityError,
    InvalidTypeError,
    VersioningError,
    VersionNotFoundError,
)
from sensorframe.prepare import content_hash
from sensorframe.store._catalog import CATALOG_RETRIES
from sensorframe.store._model import (
    COMMIT_ID,
    DatasetVersion,
    LogCommit,
    Verification,
    chained_hash,
    commit_properties,
    decode_metadata,
    hash_format,
    log_file,
    parse_commit,
)
from sensorframe.store._parquet import commit_files

if TYPE_CHECKING:
    from concurrent.futures import Future

    from deltalake.transaction import AddAction

__all__ = ["IntegrityMixin", "LogMixin", "first_line"]


class LogMixin:
    """Reading a dataset's Delta log commit by commit, for :class:`DatasetStore`."""

    storage_options: dict[str, str] | None
    is_local: bool
    _logs: dict[str, DeltaStorageHandler]

    if TYPE_CHECKING:

        def _uri(self, dataset: str) -> str: ...

    def _commit_file(self, dataset: str, n: int) -> LogCommit | None:
        """
        Read the commit file of version ``n`` by its number (None if there is none).

        Versions are numbered by the file they are in, never by their position in a
        listing (``DeltaTable.history()`` numbers its records down from the handle's
        version, so a commit landing in between shifts every label).
        """
        try:
            log = self._logs.get(dataset)
            if log is None:
                log = self._logs[dataset] = DeltaStorageHandler(
                    self._uri(dataset), self.storage_options
                )
            with log.open_input_file(log_file(n)) as file:
                raw = file.read()
        except FileNotFoundError:
            return None
        except (DeltaError, OSError) as exc:
            msg = f"cannot read version {n} of dataset {dataset!r}: {first_line(exc)}"
            raise VersioningError(msg) from exc
        return parse_commit(dataset, n, raw)

    def _log_entry(self, dataset: str, n: int) -> LogCommit:
        """Read the commit file of version ``n``, which must exist."""
        entry = self._commit_file(dataset, n)
        if entry is None:
            msg = f"dataset {dataset!r}: the commit file of version {n} ({log_file(n)}) is missing"
            raise IntegrityError(msg)
        return entry

    def _damage(self, dataset: str, exc: Exception) -> VersioningError:
        """
        Return the typed error for a table deltalake cannot load, naming the damage.

        Reads every commit file by its number (a missing or unparsable one raises
        :class:`IntegrityError` naming it); if they are all sound, the checkpoint is.
        """
        if isinstance(exc, OSError) and not self.is_local:
            msg = f"cannot reach dataset {dataset!r} at {self._uri(dataset)}: {first_line(exc)}"
            return VersioningError(msg)
        try:
            names = [
                Path(info.path).name
                for info in DeltaStorageHandler(
                    self._uri(dataset), self.storage_options
                ).get_file_info_selector(FileSelector("_delta_log"))
            ]
        except (DeltaError, OSError) as error:
            msg = f"cannot read the Delta log of dataset {dataset!r}: {first_line(error)}"
            return VersioningError(msg)
        commits = [
            int(name[:20]) for name in names if name[:20].isdigit() and name.endswith(".json")
        ]
        for n in range(max(commits, default=-1) + 1):
            self._log_entry(dataset, n)
        checkpoints = sorted({int(name[:20]) for name in names if ".checkpoint" in name})
        where = f"the checkpoint of version {checkpoints[-1]}" if checkpoints else "its Delta log"
        msg = f"dataset {dataset!r}: deltalake cannot load {where}: {first_line(exc)}"
        return IntegrityError(msg)

    def _landed(self, dataset: str, after: int, commit_id: str) -> int:
        """
        Return the version whose commit carries ``commit_id`` (written after ``after``).

        Neither the handle's version after a write nor ``after + 1`` is proof: other
        commits (another writer's, vacuum's) may come before or after ours.
        """
        n = after + 1
        while (entry := self._commit_file(dataset, n)) is not None:
            if entry.info.get(COMMIT_ID) == commit_id:
                return n
            n += 1
        msg = (
            f"committed to dataset {dataset!r} but cannot find the commit {commit_id} "
            f"after version {after}"
        )
        raise VersioningError(msg)

    def _recorded(self, dataset: str, n: int) -> DatasetVersion | None:
        """Decode the version in commit file ``n`` (None: another writer's commit)."""
        return decode_metadata(dataset, n, self._log_entry(dataset, n).info)

    def _previous(self, dataset: str, n: int) -> DatasetVersion | None:
        """Return the newest sensorframe version at or before Delta version ``n``."""
        for k in range(n, -1, -1):
            found = self._recorded(dataset, k)
            if found is not None:
                return found
        return None


class IntegrityMixin(LogMixin):
    """Verify and restore methods of :class:`DatasetStore`."""

    max_commit_retries: int

    if TYPE_CHECKING:

        def _latest(self, dataset: str) -> DeltaTable | None: ...
        def _write(
            self,
            uri: str,
            dt: DeltaTable | None,
            batch: pl.DataFrame,
            version: DatasetVersion,
            mode: str,
            files: Future[list[AddAction]] | None = None,
        ) -> int: ...
        def version(self, dataset: str, n: int) -> DatasetVersion: ...
        def resolve(self, dataset: str, *, version: int | None = None) -> int: ...

    def verify(self, dataset: str, version: int | None = None) -> Verification:
        """
        Re-hash a version's data and compare it with the hash recorded at commit.

        The proof follows the hash's definition (see ``DatasetVersion.data_hash``):
        an overwrite (or first version) is the content hash of the table at that
        version; an append chains the previous version's proof with the hash of the
        files this commit added (and checks that no commit in between changed data);
        a restore checks that its files are the restored version's, then proves that
        version. Versions written before that definition (``sensorframe.format`` 1)
        are the content hash of the whole table.

        Returns
        -------
        Verification
            True in a boolean context when the data is intact. Data that cannot be
            read (a corrupt or missing data file) and a damaged Delta log (a commit
            file truncated, garbage or missing, a corrupt checkpoint, edited
            metadata) are reported (``ok=False`` and ``error``), not raised;
            ``version`` is -1 when the damaged log cannot say which is the latest.

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
        try:
            n = self.resolve(dataset, version=version)
            recorded = self.version(dataset, n)
        except IntegrityError as exc:
            return Verification(
                dataset=dataset,
                version=-1 if version is None else version,
                ok=False,
                expected="",
                actual=None,
                error=f"{type(exc).__name__}: {exc}",
            )
        try:
            actual: str | None = self._prove(dataset, recorded)
            error = None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            # A corrupt file can make polars panic: pyo3's PanicException is a
            # BaseException, not an Exception.
            actual, error = None, f"{type(exc).__name__}: {exc}"
        return Verification(
            dataset=dataset,
            version=n,
            ok=actual == recorded.data_hash,
            expected=recorded.data_hash,
            actual=actual,
            error=error,
        )

    def _prove(self, dataset: str, v: DatasetVersion) -> str:
        """Recompute a version's ``data_hash`` from the stored data (see :meth:`verify`)."""
        appended: list[str] = []  # hashes of the rows each append added, newest first
        while True:
            entry = self._log_entry(dataset, v.version)
            if hash_format(entry.info) >= 2 and v.operation == "append":
                previous = self._previous(dataset, v.version - 1)
                if previous is not None:
                    self._check_no_data_change(dataset, previous.version + 1, v.version)
                    if entry.removed:
                        msg = f"version {v.version} of {dataset!r} is an append but removes files"
                        raise IntegrityError(msg)
                    appended.append(self._files_hash(dataset, v.version, entry.added))
                    v = previous
                    continue
            if hash_format(entry.info) >= 2 and v.operation == "restore" and v.parents:
                target = self.version(*v.parents[0])
                if self._files(dataset, v.version) != self._files(dataset, target.version):
                    msg = (
                        f"version {v.version} of {dataset!r} restores version "
                        f"{target.version} but does not hold its files"
                    )
                    raise IntegrityError(msg)
                v = target
                continue
            proof = content_hash(self._scan(dataset, v.version).collect())
            break
        for batch in reversed(appended):
            proof = chained_hash(proof, batch)
        return proof

    def _scan(self, dataset: str, n: int) -> pl.LazyFrame:
        return pl.scan_delta(self._uri(dataset), version=n, storage_options=self.storage_options)

    def _files(self, dataset: str, n: int) -> set[str]:
        uri = self._uri(dataset)
        return set(DeltaTable(uri, version=n, storage_options=self.storage_options).file_uris())

    def _files_hash(self, dataset: str, n: int, paths: tuple[str, ...]) -> str:
        """Content hash of the rows in the given data files of version ``n``."""
        schema = self._scan(dataset, n).collect_schema()
        if not paths:
            return content_hash(pl.DataFrame(schema=schema))
        uri = self._uri(dataset).removeprefix("file://")
        files = pl.scan_parquet(
            [f"{uri}/{path}" for path in paths], storage_options=self.storage_options
        )
        return content_hash(files.select(pl.col(name).cast(t) for name, t in schema.items()))

    def _check_no_data_change(self, dataset: str, start: int, stop: int) -> None:
        """Raise if a commit in ``start .. stop - 1`` (not sensorframe's) changed data."""
        for k in range(start, stop):
            between = self._log_entry(dataset, k)
            if between.added or between.removed:
                msg = (
                    f"version {k} of {dataset!r} changed data files without sensorframe, "
                    f"so version {stop} cannot be proven"
                )
                raise IntegrityError(msg)

    def restore(self, dataset: str, version: int, *, description: str = "") -> DatasetVersion:
        """
        Make an old version's content the latest again, as a new commit.

        The new version records the restored one as its parent, and its hash is the
        restored version's hash (Delta re-adds the old files; no data is copied).
        Restoring the latest version makes a commit that changes no files.

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
        if not isinstance(description, str):
            msg = f"`description` must be a string, got {type(description).__name__}"
            raise InvalidTypeError(msg)
        n = self.resolve(dataset, version=version)
        old = self.version(dataset, n)
        last_error: Exception | None = None
        for attempt in range(self.max_commit_retries + 1):
            if attempt:
                time.sleep(random.uniform(0.0, 0.02 * min(attempt, 10)))
            dt = self._latest(dataset)
            if dt is None:  # pragma: no cover - resolve() found it a moment ago
                msg = f"dataset {dataset!r} disappeared"
                raise DatasetNotFoundError(msg)
            current = int(dt.version())
            new = replace(
                old,
                version=current + 1,
                created_at=_now(),
                tags=(),
                description=description or f"restore of version {n}",
                parents=((dataset, n),),
                operation="restore",
                batch_hash=old.data_hash,
                batch_rows=old.rows,
                properties=(),
            )
            commit_id = uuid.uuid4().hex
            props = commit_properties(new, retries=CATALOG_RETRIES, commit_id=commit_id)
            try:
                if current == n:  # delta-rs cannot restore the current version
                    commit_files(dt, [], mode="append", props=props)
                else:
                    dt.restore(n, commit_properties=props)
            except CommitFailedError as exc:
                last_error = exc
                continue
            except DeltaError as exc:
                msg = f"cannot restore version {n} of {dataset!r}: {exc}"
                raise VersionNotFoundError(msg) from exc
            return replace(new, version=self._landed(dataset, current, commit_id))
        msg = f"could not restore {dataset!r}: concurrent writers kept winning"
        raise CommitConflictError(msg) from last_error


def _now() -> datetime:
    return datetime.now(UTC)


def first_line(exc: BaseException) -> str:
    """Return an error's message without the Rust backtrace (and colours) deltalake adds."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return text.splitlines()[0].rstrip(" ↳") if text else type(exc).__name__
