"""
Vacuum and record tables of the dataset store.

Public behaviour is documented on :class:`~sensorframe.store.DatasetStore`.

Vacuum and concurrent writers: what must be kept (the latest version, tags, model
links) is read again right before files are deleted, and the deletion is planned
again if it changed or the table got a new commit meanwhile, so a tag or commit made
while vacuum lists files is honoured. A tag or link that lands after that last read,
while files are being deleted, cannot protect its version; ``tag`` and ``link_model``
check the vacuum log after writing and raise ``VersionNotFoundError`` if the version
was removed meanwhile. The gap left is a tag or link written and checked entirely
while the files are being deleted, before vacuum records what it removed.
Concurrent vacuums are safe: a lost commit race is planned again (files another
vacuum already deleted are skipped).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import polars as pl
from deltalake import DeltaTable

from sensorframe.errors import (
    CommitConflictError,
    DatasetNotFoundError,
    InvalidParameterError,
    InvalidTypeError,
    SensorSchemaError,
    VersionNotFoundError,
)
from sensorframe.store._core import StoreCore
from sensorframe.store._model import (
    CATALOG,
    RESERVED_RECORDS,
    DatasetVersion,
    VacuumReport,
    check_name,
)
from sensorframe.store._refs import tags
from sensorframe.store._timing import attempts, now
from sensorframe.store._translate import DELTA_FAILURES, lost_race, write_failure

__all__ = [
    "MAX_RETENTION_HOURS",
    "ORPHAN_MIN_HOURS",
    "PIPELINE_RECORDS",
    "append_records",
    "append_pipeline_records",
    "records",
    "vacuum",
    "vacuum_files",
]

ORPHAN_MIN_HOURS = 1
"""Files no version references are deleted only once this old (hours, by modification
time), whatever ``retention_hours`` says: a younger one may belong to a commit in
progress, whose files are written before its commit."""
MAX_RETENTION_HOURS = 24 * 365 * 1000
"""Largest ``retention_hours`` (a thousand years; more would overflow delta-rs' clock)."""
VACUUM_ATTEMPTS = 10
"""Plans of one dataset's vacuum before concurrent changes make it a CommitConflictError."""

PIPELINE_RECORDS = frozenset({"runs", "drift_reference"})
"""The pipeline's record tables, written only by ``DatasetStore.append_pipeline_records``."""

_TS = pl.Datetime("us", "UTC")
VACUUM_SCHEMA = pl.Schema(
    {"dataset": pl.String(), "version": pl.Int64(), "path": pl.String(), "at": _TS}
)


def vacuum(
    core: StoreCore,
    dataset: str | None,
    *,
    retention_hours: float,
    keep: Sequence[int],
    orphans: bool,
    dry_run: bool,
) -> VacuumReport:
    """Delete data files no longer needed, keeping tagged and model-linked versions."""
    hours = _retention_hours(retention_hours)
    extra = _keep_versions(keep)
    for flag, value in (("orphans", orphans), ("dry_run", dry_run)):
        if not isinstance(value, bool):
            msg = f"`{flag}` must be True or False, got {value!r}"
            raise InvalidTypeError(msg)
    if extra and dataset is None:
        msg = "`keep` needs a single `dataset`"
        raise InvalidParameterError(msg)
    names = [check_name(dataset)] if dataset is not None else core.datasets()
    files: list[dict[str, Any]] = []
    lost: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    for name in names:
        doomed, broken, reasons = _vacuum_dataset(
            core, name, hours, extra, orphans=orphans, dry_run=dry_run
        )
        files += [{"dataset": name, "path": p} for p in sorted(doomed)]
        lost += [{"dataset": name, "version": n} for n in broken]
        kept += [{"dataset": name, "version": n, "reason": r} for n, r in sorted(reasons.items())]
    base = VacuumReport()
    return VacuumReport(
        files=pl.DataFrame(files, schema=base.files.schema),
        lost_versions=pl.DataFrame(lost, schema=base.lost_versions.schema),
        kept_versions=pl.DataFrame(kept, schema=base.kept_versions.schema),
        dry_run=dry_run,
    )


def _vacuum_dataset(
    core: StoreCore, name: str, hours: int, extra: list[int], *, orphans: bool, dry_run: bool
) -> tuple[set[str], list[int], dict[int, str]]:
    """Plan and (unless ``dry_run``) run one dataset's vacuum: files, lost, kept."""
    last: Exception | None = None
    for _ in attempts(VACUUM_ATTEMPTS, backoff=0.02):
        dt = core.open(name)
        history = core.history(name)
        if dt is None or not history:
            return set(), [], {}
        reasons = _kept(core, name, history, extra)
        gone = core.vacuumed(name)
        # delta-rs lists files it already deleted again (tombstones stay in the
        # log), so the store remembers what it removed.
        listed = vacuum_files(dt, sorted(reasons), hours, orphans=orphans, dry=True)
        doomed = listed - set(gone.get_column("path").drop_nulls().to_list())
        if not dry_run and doomed:
            # Right before deleting, read again what must be kept: a tag, link or
            # commit made since the plan would otherwise not be protected.
            if _kept(core, name, history, extra) != reasons or _moved(core.open(name), dt):
                continue
            try:
                vacuum_files(dt, sorted(reasons), hours, orphans=orphans, dry=False)
            except DELTA_FAILURES as exc:
                if lost_race(exc):  # another vacuum or writer won: plan again
                    last = exc
                    continue
                raise write_failure(exc, f"could not vacuum dataset {name!r}") from exc
        already = set(gone.get_column("version").drop_nulls().to_list())
        broken = [
            v.version
            for v in history
            if v.version not in reasons
            and v.version not in already
            and doomed & _version_paths(core, name, v.version)
        ]
        if not dry_run and doomed:
            events = pl.DataFrame(
                {
                    "dataset": name,
                    "version": [*broken, *([None] * len(doomed))],
                    "path": [*([None] * len(broken)), *sorted(doomed)],
                    "at": now(),
                },
                schema=VACUUM_SCHEMA,
            )
            core.append_event("vacuums", events)
        return doomed, broken, reasons
    msg = (
        f"could not vacuum dataset {name!r}: concurrent writers changed it "
        f"{VACUUM_ATTEMPTS} times in a row"
    )
    raise CommitConflictError(msg) from last


def _kept(
    core: StoreCore, name: str, history: list[DatasetVersion], extra: list[int]
) -> dict[int, str]:
    """Versions whose files must stay, and why (the latest, tags, model links, keep)."""
    numbers = {v.version for v in history}
    missing = [n for n in extra if n not in numbers]
    if missing:
        msg = f"dataset {name!r} has no version {missing[0]} (in `keep`)"
        raise VersionNotFoundError(msg)
    reasons: dict[int, str] = {history[-1].version: "latest"}
    reasons |= dict.fromkeys(_versions_of(core.events("model_links"), name), "model")
    reasons |= dict.fromkeys(_versions_of(tags(core, name), name), "tag")
    reasons |= dict.fromkeys(extra, "keep")
    return reasons


def vacuum_files(
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


def _version_paths(core: StoreCore, dataset: str, version: int) -> set[str]:
    """Paths (relative to the table, as vacuum lists them) of a version's data files."""
    dt = core.open(dataset, version)
    if dt is None:  # pragma: no cover
        return set()
    actions = pl.DataFrame(dt.get_add_actions(flatten=True))
    return set(actions.get_column("path").to_list()) if actions.height else set()


# ------------------------------------------------------------------ records
def append_records(core: StoreCore, name: str, records: pl.DataFrame | pl.LazyFrame) -> int:
    """Append rows to a record table that is neither the store's nor the pipeline's."""
    check_name(name, "record table")
    reserved = RESERVED_RECORDS | PIPELINE_RECORDS
    if name in reserved:
        msg = f"record table {name!r} is reserved; reserved: {sorted(reserved)}"
        raise InvalidParameterError(msg)
    return core.append_event(name, _record_frame(records))


def append_pipeline_records(
    core: StoreCore, name: str, records: pl.DataFrame | pl.LazyFrame
) -> int:
    """Append to one of the pipeline's own record tables (:data:`PIPELINE_RECORDS`)."""
    if name not in PIPELINE_RECORDS:
        msg = f"{name!r} is not a pipeline table; those are {sorted(PIPELINE_RECORDS)}"
        raise InvalidParameterError(msg)
    return core.append_event(name, _record_frame(records))


def records(core: StoreCore, name: str) -> pl.LazyFrame:
    """Read a record table (or a raw event log) whole, as a lazy frame."""
    check_name(name, "record table")
    table = core.events(name)
    if table is None:
        msg = f"no record table {name!r} in {core.root}/{CATALOG}"
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


def _versions_of(events: pl.DataFrame | None, dataset: str) -> list[int]:
    if events is None or events.height == 0:
        return []
    return events.filter(pl.col("dataset") == dataset).get_column("version").unique().to_list()
