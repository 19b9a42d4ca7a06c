"""
Versioned datasets on Delta Lake: commits with metadata, time travel, tags, lineage.

Layout under the store's root (a folder or an object-store URI)::

    <dataset>/                  one Delta table per dataset; each commit is a version
    _sensorframe/datasets       events: dataset names registered at creation
    _sensorframe/tags           events: dataset, tag, version, at (newest wins)
    _sensorframe/model_links    events: dataset, version, model_id, model_version, at
    _sensorframe/vacuums        events: versions made unreadable and files deleted
    _sensorframe/<name>         record tables written with ``append_records`` (runs ...)

A version's metadata (hash, rows, bytes, sensors, description, tags, parents, time,
library version, user properties as ``sensorframe.property.<key>``) is the custom
metadata (``sensorframe.*`` keys) of the very Delta commit that wrote its data. The
hash of an overwrite is the content hash of its rows; of an append, the SHA-256 of the
previous version's hash and the appended rows' hash (so an append never reads earlier
data); of a restore, the restored version's (see ``DatasetVersion.data_hash``).

Layout of the code: :class:`DatasetStore` (``_store.py``) documents every public
method and delegates it to plain functions (``_commit``, ``_refs``, ``_integrity``,
``_maintenance``) over one ``StoreCore`` (``_core.py``: root, storage options, cached
table handles and log readers, the commit-by-commit log reading). ``_timing.py`` is
the one clock and the one retry loop; ``_translate.py`` the one place where
deltalake's exceptions become sensorframe errors.

Lessons from deltalake 1.6 that this package relies on (keep them when changing it):

* Tables are created with ``delta.logRetentionDuration = "interval 36500 days"`` and
  ``delta.enableExpiredLogCleanup = "false"`` (exact keys; a misspelled key is a
  ``DeltaError``), else old commits and their metadata vanish at a checkpoint.
  ``cleanup_metadata()`` is never called.
* ``DeltaTable.history()`` reads the newest commit records from storage but numbers
  them down from the handle's own version: a commit landing between
  ``update_incremental()`` and ``history()`` shifts every label by one. The store never
  uses it: each version is read from its own commit file,
  ``_delta_log/<20-digit version>.json``, through ``deltalake.fs.DeltaStorageHandler``
  (the same storage options, local or object store), up to the handle's version.
* Which version a commit landed at is not ``read version + 1`` (vacuum's
  ``VACUUM START/END`` commits, and other Delta writers, take numbers without the
  sensorframe app transaction) nor the handle's version after the write (a later
  commit may be loaded too): each commit carries a unique ``sensorframe.commit_id``
  and the writer finds the commit file holding it.
* A damaged log (a truncated, garbage or missing commit file, a corrupt checkpoint)
  makes deltalake raise a bare ``DeltaError`` when the table is loaded; the store
  reads the commit files itself to name the damaged version in an ``IntegrityError``.
* A blind append is silently moved to the next free version when another writer won
  (even with ``max_commit_retries=1``; ``0`` makes every commit fail). Each commit
  therefore carries a ``Transaction(app_id="sensorframe", version=n)``: a concurrent
  winner with the same app id makes delta-rs raise ``CommitFailedError``, and the
  store re-reads and retries (optimistic concurrency, exact hashes for appends).
* Creating a table is different: two concurrent ``write_deltalake(mode="error")``
  calls usually BOTH succeed, the loser's commit sliding to version 1 with metadata
  written for version 0 (the app transaction does not catch it). Creation therefore
  commits with ``max_commit_retries=0`` (which, unlike for appends, works): the
  loser gets ``CommitFailedError``, or a plain ``DeltaError`` ("A table already
  exists") if it looked later, waits for the winner's table to appear and retries
  as an append. (Found by ``tests/store/test_concurrency.py``, 1 run in ~20.) The
  catalog tables under ``_sensorframe/`` are created the same way: a loser that slid
  to version 1 wrote a second ``metaData`` action, after which concurrent appends fail
  with "Metadata changed since last commit" (first ``tag()`` calls raced 3 in 60).
* ``DeltaTable.restore`` refuses the current version; vacuum writes its own
  ``VACUUM START/END`` commits (so versions are not contiguous) and lists the files
  it already deleted again on every call (the store logs what it removed).
* Commits to an existing table write their Parquet files with Polars (5x faster than
  delta-rs' writer on wide frames) and commit them with
  ``DeltaTable.create_write_transaction`` (``_parquet.py``). That call takes any
  ``AddAction`` on trust (a missing file or wrong stats are committed as given), does
  not move the handle to the new version nor return it (the store finds it by its commit
  id, ``StoreCore.landed``), commits an empty list of actions (a restore of the
  latest version changes no files), keeps the app transaction and custom metadata, and
  on overwrite can change the schema (a new ``metaData`` keeping the configuration) but
  does not upgrade the protocol (a first ``timestamp_ntz`` column is a ``DeltaError``):
  schema changes, new tables and types beyond numbers, strings, booleans, dates and
  microsecond datetimes still go through ``write_deltalake``. The file statistics mirror
  delta-rs' (timestamps truncated to milliseconds, which Polars' ``scan_delta`` widens
  back); min/max are left out where NaN or infinities would mislead pruning. Polars
  takes deltalake's storage options as they are (same object_store keys, unknown ones
  ignored).
* Files of a writer killed before its commit stay in the table folder, invisible;
  ``vacuum`` in its default ("lite") mode never deletes them, only ``full=True`` does
  (``DatasetStore.vacuum(orphans=True)``), judging their age by modification time. A
  younger unreferenced file may belong to a commit in progress, so that pass always
  keeps files younger than ``ORPHAN_MIN_HOURS`` (1 h), whatever ``retention_hours`` says.
  delta-rs takes ``retention_hours`` as whole hours: the store rounds up (0.9 -> 1),
  never down. What vacuum must keep (latest, tagged, model-linked versions) is re-read
  right before it deletes, so a tag placed meanwhile is honoured.
* delta-rs panics on Categorical columns, wraps UInt32 into Int32, stores instants in
  UTC and microseconds, and cannot store Duration or Int128; frames are cast to the
  types ``content_hash`` hashes in (``canonical_type``) before hashing and writing,
  and what a cast would change (UInt64 above Int64, sub-microsecond times) is refused.
* A rewritten data file makes Polars panic (the size in the log no longer matches):
  ``PanicException`` is a ``BaseException``. ``read`` returns a lazy scan wrapped in
  a Polars IO source that turns any failure at collect time into ``IntegrityError``
  (a Python exception raised in an IO source reaches the caller unchanged);
  ``verify`` reports it.
* S3 needs no locking provider and no ``AWS_S3_ALLOW_UNSAFE_RENAME``: deltalake 1.x
  commits with conditional PUTs (moto supports them).
* Some deltalake calls (``DeltaTable.history``) hold the GIL while waiting on HTTP,
  so an S3 server running in a thread of the same process deadlocks them; the test
  server runs in its own process. Processes are spawned: fork after deltalake was
  used panics.
"""

from __future__ import annotations

from sensorframe.store._model import DatasetVersion, VacuumReport, Verification
from sensorframe.store._store import DatasetStore

__all__ = ["DatasetStore", "DatasetVersion", "VacuumReport", "Verification"]
