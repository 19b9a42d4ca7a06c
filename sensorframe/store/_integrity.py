"""Integrity and restore: proving a version's data and making an old version current."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError

from sensorframe.errors import CommitConflictError, DatasetNotFoundError, VersionNotFoundError
from sensorframe.prepare import content_hash
from sensorframe.store._catalog import CATALOG_RETRIES
from sensorframe.store._model import DatasetVersion, Verification, commit_properties

if TYPE_CHECKING:
    from concurrent.futures import Future

    from deltalake.transaction import AddAction

__all__ = ["IntegrityMixin"]


class IntegrityMixin:
    """Verify and restore methods of :class:`DatasetStore`."""

    max_commit_retries: int

    if TYPE_CHECKING:

        def _latest(self, dataset: str) -> DeltaTable | None: ...
        def _uri(self, dataset: str) -> str: ...
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
        def read(self, dataset: str, *, version: int | None = None) -> pl.LazyFrame: ...

    def verify(self, dataset: str, version: int | None = None) -> Verification:
        """
        Re-hash a version's data and compare it with the hash recorded at commit.

        Returns
        -------
        Verification
            True in a boolean context when the data is intact. Data that cannot
            be read at all (a corrupt or missing file) is reported, not raised.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("raw", df)
        >>> bool(store.verify("raw", 0))
        True
        """
        n = self.resolve(dataset, version=version)
        recorded = self.version(dataset, n)
        try:
            actual: str | None = content_hash(self.read(dataset, version=n).collect())
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

    def restore(self, dataset: str, version: int, *, description: str = "") -> DatasetVersion:
        """
        Make an old version's content the latest again, as a new commit.

        The new version records the restored one as its parent, and its hash is the
        restored version's hash (Delta re-adds the old files; no data is copied).

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> v0 = store.commit("raw", df)
        >>> _ = store.commit("raw", df.with_columns(value=pl.lit(2.0)))
        >>> r = store.restore("raw", 0)
        >>> (r.version, r.data_hash == v0.data_hash, r.parents)
        (2, True, (('raw', 0),))
        """
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
            if current == n:  # delta-rs cannot restore the current version: rewrite it
                frame = self.read(dataset, version=n).collect()
                done = self._write(self._uri(dataset), dt, frame, new, "overwrite")
                return replace(new, version=done)
            try:
                dt.restore(n, commit_properties=commit_properties(new, retries=CATALOG_RETRIES))
            except CommitFailedError as exc:
                last_error = exc
                continue
            except DeltaError as exc:
                msg = f"cannot restore version {n} of {dataset!r}: {exc}"
                raise VersionNotFoundError(msg) from exc
            return replace(new, version=int(dt.version()))
        msg = f"could not restore {dataset!r}: concurrent writers kept winning"
        raise CommitConflictError(msg) from last_error


def _now() -> datetime:
    return datetime.now(UTC)
