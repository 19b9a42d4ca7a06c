"""
Integrity: a version's data proven against its recorded hash; restore.

Public behaviour is documented on :class:`~sensorframe.store.DatasetStore`.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from sensorframe.errors import (
    CommitConflictError,
    DatasetNotFoundError,
    IntegrityError,
    InvalidTypeError,
    VersioningError,
    VersionNotFoundError,
)
from sensorframe.prepare import HASH_SCHEME, content_hash
from sensorframe.store._catalog import CATALOG_RETRIES
from sensorframe.store._core import StoreCore
from sensorframe.store._model import (
    DatasetVersion,
    Verification,
    chained_hash,
    commit_properties,
    hash_format,
    hash_scheme,
    new_commit_id,
)
from sensorframe.store._parquet import commit_files
from sensorframe.store._refs import resolve
from sensorframe.store._timing import attempts, now
from sensorframe.store._translate import (
    DELTA_FAILURES,
    first_line,
    is_delta_error,
    lost_race,
    write_failure,
)

__all__ = ["restore", "verify"]


def verify(core: StoreCore, dataset: str, version: int | None) -> Verification:
    """Re-hash a version's data and compare it with the hash recorded at commit."""
    try:
        n = resolve(core, dataset, version=version)
        recorded = core.version(dataset, n)
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
        actual: str | None = _prove(core, dataset, recorded)
        error = None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        # A corrupt file can make polars panic: pyo3's PanicException is a
        # BaseException, not an Exception. Reported, not raised.
        actual, error = None, f"{type(exc).__name__}: {exc}"
    return Verification(
        dataset=dataset,
        version=n,
        ok=actual == recorded.data_hash,
        expected=recorded.data_hash,
        actual=actual,
        error=error,
    )


def _prove(core: StoreCore, dataset: str, v: DatasetVersion) -> str:
    """Recompute a version's ``data_hash`` from the stored data (see ``verify``)."""
    appended: list[str] = []  # hashes of the rows each append added, newest first
    while True:
        entry = core.log_entry(dataset, v.version)
        _check_scheme(dataset, v.version, entry.info)
        if hash_format(entry.info) >= 2 and v.operation == "append":
            previous = core.previous(dataset, v.version - 1)
            if previous is not None:
                _check_no_data_change(core, dataset, previous.version + 1, v.version)
                if entry.removed:
                    msg = f"version {v.version} of {dataset!r} is an append but removes files"
                    raise IntegrityError(msg)
                appended.append(_files_hash(core, dataset, v.version, entry.added))
                v = previous
                continue
        if hash_format(entry.info) >= 2 and v.operation == "restore" and v.parents:
            target = core.version(*v.parents[0])
            if core.files(dataset, v.version) != core.files(dataset, target.version):
                msg = (
                    f"version {v.version} of {dataset!r} restores version "
                    f"{target.version} but does not hold its files"
                )
                raise IntegrityError(msg)
            v = target
            continue
        proof = content_hash(core.scan(dataset, v.version).collect())
        break
    for batch in reversed(appended):
        proof = chained_hash(proof, batch)
    return proof


def _check_scheme(dataset: str, version: int, info: dict[str, object]) -> None:
    """Raise if a commit's hashes were made with a content-hash scheme this one cannot redo."""
    scheme = hash_scheme(info)
    if scheme != HASH_SCHEME:
        msg = (
            f"version {version} of {dataset!r} was hashed with content-hash scheme {scheme} "
            f"(this sensorframe computes scheme {HASH_SCHEME}, from per-sensor digests), so "
            "it cannot be re-proven; its data is not known to be damaged. Commit it again "
            f"(store.commit({dataset!r}, store.read({dataset!r}, version={version}))) for "
            "a version that verifies"
        )
        raise VersioningError(msg)


def _files_hash(core: StoreCore, dataset: str, n: int, paths: tuple[str, ...]) -> str:
    """Content hash of the rows in the given data files of version ``n``."""
    schema = core.scan(dataset, n).collect_schema()
    if not paths:
        return content_hash(pl.DataFrame(schema=schema))
    uri = core.uri(dataset).removeprefix("file://")
    files = pl.scan_parquet(
        [f"{uri}/{path}" for path in paths], storage_options=core.storage_options
    )
    return content_hash(files.select(pl.col(name).cast(t) for name, t in schema.items()))


def _check_no_data_change(core: StoreCore, dataset: str, start: int, stop: int) -> None:
    """Raise if a commit in ``start .. stop - 1`` (not sensorframe's) changed data."""
    for k in range(start, stop):
        between = core.log_entry(dataset, k)
        if between.added or between.removed:
            msg = (
                f"version {k} of {dataset!r} changed data files without sensorframe, "
                f"so version {stop} cannot be proven"
            )
            raise IntegrityError(msg)


def restore(core: StoreCore, dataset: str, version: int, *, description: str) -> DatasetVersion:
    """Make an old version's content the latest again, as a new commit."""
    if not isinstance(description, str):
        msg = f"`description` must be a string, got {type(description).__name__}"
        raise InvalidTypeError(msg)
    n = resolve(core, dataset, version=version)
    old = core.version(dataset, n)
    last_error: Exception | None = None
    for _ in attempts(core.max_commit_retries + 1, backoff=0.02):
        dt = core.latest_table(dataset)
        if dt is None:  # pragma: no cover - resolve() found it a moment ago
            msg = f"dataset {dataset!r} disappeared"
            raise DatasetNotFoundError(msg)
        current = int(dt.version())
        new = replace(
            old,
            version=current + 1,
            created_at=now(),
            tags=(),
            description=description or f"restore of version {n}",
            parents=((dataset, n),),
            operation="restore",
            batch_hash=old.data_hash,
            batch_rows=old.rows,
            properties=(),
        )
        commit_id = new_commit_id()
        props = commit_properties(new, retries=CATALOG_RETRIES, commit_id=commit_id)
        try:
            if current == n:  # delta-rs cannot restore the current version
                commit_files(dt, [], mode="append", props=props)
            else:
                dt.restore(n, commit_properties=props)
        except DELTA_FAILURES as exc:
            if lost_race(exc):
                last_error = exc
                continue
            what = f"cannot restore version {n} of {dataset!r}"
            if not is_delta_error(exc):  # the store could not be reached
                raise write_failure(exc, what) from exc
            msg = f"{what}: {first_line(exc)}"
            raise VersionNotFoundError(msg) from exc
        return replace(new, version=core.landed(dataset, current, commit_id))
    msg = f"could not restore {dataset!r}: concurrent writers kept winning"
    raise CommitConflictError(msg) from last_error
