"""Records of the dataset store and the rules for names, metadata and storable types."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from typing import Any

import polars as pl
from deltalake import CommitProperties, Transaction

from sensorframe.errors import (
    IntegrityError,
    InvalidParameterError,
    InvalidTypeError,
    SensorSchemaError,
)
from sensorframe.prepare import HASH_SCHEME, as_type, canonical_type
from sensorframe.store._timing import now

__all__ = ["DatasetVersion", "VacuumReport", "Verification"]

try:
    LIBRARY_VERSION = _package_version("sensorframe")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    LIBRARY_VERSION = "0.0.0"

PREFIX = "sensorframe."
"""Prefix of every key sensorframe writes into a Delta commit's custom metadata."""
COMMIT_ID = PREFIX + "commit_id"
"""Custom-metadata key holding a unique id of each commit call, to find where it landed."""
PROPERTY = PREFIX + "property."
"""Prefix of the keys holding a version's user properties (``commit(properties=...)``)."""
APP_ID = "sensorframe"
"""Delta application-transaction id: makes two sensorframe commits on one table conflict."""
HASH_FORMAT = 2
"""
The definition of ``DatasetVersion.data_hash`` that new commits record (key
``sensorframe.format``). 1: the content hash of the whole table. 2: for an overwrite
(and the first version) the content hash of its rows; for an append
:func:`chained_hash` of the previous version's hash and the appended rows' hash;
for a restore the restored version's hash. Orthogonal to it, the definition of the
content hash itself (key ``sensorframe.hash_scheme``, see :data:`HASH_SCHEME`).
"""
CATALOG = "_sensorframe"
"""Folder (under the store root) holding the append-only event tables."""
RESERVED_RECORDS = frozenset({"tags", "model_links", "datasets", "vacuums"})
"""Catalog tables the store itself maintains; not writable through ``append_records``."""
TABLE_CONFIG = {
    # Without these two, delta-rs deletes commit files older than 30 days at the next
    # checkpoint, and with them the history and our metadata.
    "delta.logRetentionDuration": "interval 36500 days",
    "delta.enableExpiredLogCleanup": "false",
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True, kw_only=True, slots=True)
class DatasetVersion:
    """
    One version of a dataset: a Delta commit and the metadata that travelled with it.

    Attributes
    ----------
    dataset
        Dataset name.
    version
        Delta table version of the commit.
    data_hash
        The version's hash (:data:`HASH_FORMAT` 2). An overwrite, and a dataset's
        first version: :func:`sensorframe.content_hash` of its rows (the whole
        table). An append: ``sha256("sensorframe.append:<previous>:<batch_hash>")``
        (:func:`chained_hash` of the previous version's ``data_hash`` and this
        commit's rows' hash). A restore: the restored version's ``data_hash``.
        :meth:`DatasetStore.verify` re-derives it from the stored files. Versions
        written by sensorframe before this definition (format 1) hold the content
        hash of the whole table.
    rows, bytes
        Rows of the table at this version and their in-memory (Arrow) size in bytes.
    sensors
        Sorted sensor ids present at this version.
    created_at
        Commit time (UTC) recorded by the writer; ``read(as_known_at=...)`` resolves on it.
    tags
        Tags given at commit time (tags set later live in the tags catalog).
    description
        Free text.
    parents
        ``(dataset, version)`` pairs this version was derived from.
    library_version
        sensorframe version of the writer.
    operation
        ``"overwrite"``, ``"append"`` or ``"restore"``.
    batch_hash, batch_rows
        Hash and row count of the rows this commit wrote (equal to ``data_hash`` and
        ``rows`` for an overwrite).
    properties
        User ``(key, value)`` strings given to ``commit(properties=...)``, sorted by
        key (a run id ...); stored as ``sensorframe.property.<key>`` in the commit.

    Examples
    --------
    >>> v = sf.store.DatasetVersion(dataset="raw", version=0, data_hash="ab", rows=3)
    >>> (v.dataset, v.version, v.parents)
    ('raw', 0, ())
    """

    dataset: str
    version: int
    data_hash: str
    rows: int
    bytes: int = 0
    sensors: tuple[str, ...] = ()
    created_at: datetime = field(default_factory=now)
    tags: tuple[str, ...] = ()
    description: str = ""
    parents: tuple[tuple[str, int], ...] = ()
    library_version: str = LIBRARY_VERSION
    operation: str = "overwrite"
    batch_hash: str = ""
    batch_rows: int = 0
    properties: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Verification:
    """
    Outcome of :meth:`DatasetStore.verify`; true in a boolean context when intact.

    Attributes
    ----------
    dataset, version
        What was checked.
    ok
        Whether the re-computed hash equals the recorded one.
    expected
        Hash recorded at commit time.
    actual
        Hash of the data as read now (``None`` if it could not be read).
    error
        Why the data could not be read, if it could not.

    Examples
    --------
    >>> bool(sf.store.Verification(dataset="a", version=0, ok=True, expected="x", actual="x"))
    True
    """

    dataset: str
    version: int
    ok: bool
    expected: str
    actual: str | None
    error: str | None = None

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True, kw_only=True, slots=True)
class VacuumReport:
    """
    What :meth:`DatasetStore.vacuum` removed, or would remove with ``dry_run=True``.

    Attributes
    ----------
    files
        One row per data file: ``dataset``, ``path`` (relative to the table).
    lost_versions
        One row per version that can no longer be read: ``dataset``, ``version``.
    kept_versions
        One row per version whose files were protected: ``dataset``, ``version``,
        ``reason`` (``"tag"``, ``"model"``, ``"keep"`` or ``"latest"``).
    dry_run
        True if nothing was deleted.

    Examples
    --------
    >>> sf.store.VacuumReport(dry_run=True).files.height
    0
    """

    files: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"dataset": pl.String, "path": pl.String})
    )
    lost_versions: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"dataset": pl.String, "version": pl.Int64})
    )
    kept_versions: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"dataset": pl.String, "version": pl.Int64, "reason": pl.String}
        )
    )
    dry_run: bool = False


def chained_hash(previous: str, batch: str) -> str:
    """
    Return the ``data_hash`` of an append: SHA-256 of the previous and the new rows' hash.

    Examples
    --------
    >>> from sensorframe.store._model import chained_hash
    >>> len(chained_hash("ab", "cd")), chained_hash("ab", "cd") == chained_hash("cd", "ab")
    (64, False)
    """
    return hashlib.sha256(f"sensorframe.append:{previous}:{batch}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LogCommit:
    """One Delta commit file, ``_delta_log/<version>.json``, read by its number."""

    version: int
    info: dict[str, Any]
    """Its ``commitInfo`` (our metadata, ``operation`` ...); empty if it has none."""
    added: tuple[str, ...]
    """Paths (relative to the table) of the data files it adds."""
    removed: tuple[str, ...]
    """Paths of the data files it removes."""


def new_commit_id() -> str:
    """Return a unique id for one commit call (:data:`COMMIT_ID`), to find where it landed."""
    return uuid.uuid4().hex


def log_file(version: int) -> str:
    """Path, relative to the table, of the commit file of a version."""
    return f"_delta_log/{version:020d}.json"


def parse_commit(dataset: str, version: int, raw: bytes) -> LogCommit:
    """
    Parse a commit file (one JSON action per line).

    Raises :class:`~sensorframe.errors.IntegrityError` naming the dataset and
    version if it is not a commit file (truncated, garbage, no actions).
    """
    try:
        actions = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
        problem: str | None = str(exc)
    else:
        problem = _malformed(actions)
    if problem is not None:
        msg = (
            f"dataset {dataset!r}: the commit file of version {version} "
            f"({log_file(version)}) is damaged: {problem}"
        )
        raise IntegrityError(msg)
    info: dict[str, Any] = next((a["commitInfo"] for a in actions if "commitInfo" in a), {})
    added = tuple(a["add"]["path"] for a in actions if "add" in a)
    removed = tuple(a["remove"]["path"] for a in actions if "remove" in a)
    return LogCommit(version=version, info=info, added=added, removed=removed)


def _malformed(actions: list[Any]) -> str | None:
    """Say what makes a commit file's parsed lines not Delta actions (None: nothing)."""
    if not actions:
        return "it holds no actions"
    for action in actions:
        if not isinstance(action, dict) or len(action) != 1:
            return f"{str(action)[:80]!r} is not one action"
        ((kind, body),) = action.items()
        if not isinstance(body, dict):
            return f"its {kind!r} action is not an object"
        if kind in ("add", "remove") and not isinstance(body.get("path"), str):
            return f"an {kind!r} action has no path"
    return None


def check_name(name: object, what: str = "dataset") -> str:
    """Return ``name`` if it is a valid dataset or record-table name, else raise."""
    if not isinstance(name, str):
        msg = f"{what} name must be a string, got {type(name).__name__}"
        raise InvalidTypeError(msg)
    if not _NAME.fullmatch(name) or ".." in name:
        msg = (
            f"invalid {what} name {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no '/', no '..'; names starting with '_' "
            f"are reserved for {CATALOG!r})"
        )
        raise InvalidParameterError(msg)
    return name


def check_text(value: object, what: str) -> str:
    """Return ``value`` if it is a non-empty string (a tag, a model id ...), else raise."""
    if not isinstance(value, str) or not value.strip():
        msg = f"{what} must be a non-empty string, got {value!r}"
        raise InvalidParameterError(msg)
    return value


def check_properties(properties: object) -> tuple[tuple[str, str], ...]:
    """Return a mapping of user properties as sorted ``(key, value)`` pairs, else raise."""
    if properties is None:
        return ()
    if not isinstance(properties, Mapping):
        msg = f"`properties` must be a mapping of strings to strings, got {properties!r}"
        raise InvalidTypeError(msg)
    for key, value in properties.items():
        if not isinstance(key, str) or not isinstance(value, str):
            msg = (
                "`properties` keys and values must be strings, got "
                f"{key!r}: {value!r} ({type(key).__name__}: {type(value).__name__})"
            )
            raise InvalidTypeError(msg)
        if not key.strip():
            msg = f"`properties` keys must be non-empty strings, got {key!r}"
            raise InvalidParameterError(msg)
    return tuple(sorted(properties.items()))


def storable(df: pl.DataFrame) -> pl.DataFrame:
    """
    Cast columns to types that survive a Delta round trip unchanged, or refuse them.

    Each column gets its :func:`~sensorframe.prepare.canonical_type` (the type
    ``content_hash`` hashes it in, so the recorded hash is the input's content hash):
    Categorical/Enum become String (delta-rs panics on dictionary columns), unsigned
    integers widen to the next signed type (Delta has none; delta-rs would wrap
    UInt32 into Int32), datetimes are stored in microseconds (Delta's unit) and aware
    ones in UTC (Delta stores instants). What would change on the way is refused
    with a :class:`~sensorframe.errors.SensorSchemaError` naming the column: a UInt64
    above the Int64 range, a nanosecond time that is not a whole microsecond,
    Int128, durations, times, objects and nulls.
    """
    casts: list[pl.Series] = []
    for name, dtype in df.schema.items():
        column = df.get_column(name)
        target = canonical_type(column)
        problem = _unstorable(target)
        if problem is not None:
            msg = f"column {name!r} has type {dtype}, which Delta Lake cannot store{problem}"
            raise SensorSchemaError(msg)
        if target != dtype:
            casts.append(as_type(column, target))
    return df.with_columns(casts) if casts else df


def _unstorable(dtype: pl.DataType) -> str | None:
    """Say why a (canonical) type cannot be stored as it is; None if it can."""
    if dtype == pl.UInt64:
        return " (values above the Int64 range): cast it to Float64 or Decimal"
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
        return " exactly (times that are not whole microseconds): round them to microseconds"
    if dtype.base_type() is pl.Int128:
        return ": cast it to Int64 or Decimal"
    if isinstance(dtype, pl.Duration | pl.Time | pl.Object | pl.Null):
        return ""
    return None


def commit_properties(v: DatasetVersion, *, retries: int, commit_id: str) -> CommitProperties:
    """
    Delta commit properties of a version: its metadata and the application transaction.

    The transaction (``APP_ID``, version number) makes a concurrent sensorframe commit
    of the same version number fail instead of sliding to the next one; ``commit_id``
    (unique to the call) is how the writer finds the version its commit landed at.
    """
    return CommitProperties(
        custom_metadata=encode_metadata(v) | {COMMIT_ID: commit_id},
        max_commit_retries=retries,
        app_transactions=[Transaction(app_id=APP_ID, version=v.version)],
    )


def encode_metadata(v: DatasetVersion) -> dict[str, str]:
    """Return the commit custom metadata (all values strings) for a version."""
    fields: dict[str, Any] = {
        "format": HASH_FORMAT,
        "hash_scheme": HASH_SCHEME,
        "hash": v.data_hash,
        "rows": v.rows,
        "bytes": v.bytes,
        "sensors": list(v.sensors),
        "created_at": v.created_at.isoformat(),
        "tags": list(v.tags),
        "description": v.description,
        "parents": [list(p) for p in v.parents],
        "library_version": v.library_version,
        "operation": v.operation,
        "batch_hash": v.batch_hash,
        "batch_rows": v.batch_rows,
    }
    encoded = {
        PREFIX + k: val if isinstance(val, str) else json.dumps(val) for k, val in fields.items()
    }
    return encoded | {PROPERTY + key: value for key, value in v.properties}


def decode_metadata(dataset: str, version: int, info: dict[str, Any]) -> DatasetVersion | None:
    """
    Rebuild a version from the ``commitInfo`` of its commit file; None if not ours.

    Raises :class:`~sensorframe.errors.IntegrityError` naming the dataset, version
    and key if the metadata was edited into something that is not what a writer
    records (a non-integer row count, a naive or unparsable time ...).
    """
    if PREFIX + "hash" not in info:
        return None
    try:
        return DatasetVersion(
            dataset=dataset,
            version=version,
            data_hash=_text(info, "hash"),
            rows=_count(info, "rows"),
            bytes=_count(info, "bytes"),
            sensors=_texts(info, "sensors"),
            created_at=_instant(info, "created_at"),
            tags=_texts(info, "tags"),
            description=_text(info, "description", ""),
            parents=_parents(info),
            library_version=_text(info, "library_version", ""),
            operation=_text(info, "operation", "overwrite"),
            batch_hash=_text(info, "batch_hash", ""),
            batch_rows=_count(info, "batch_rows", 0),
            properties=tuple(
                sorted(
                    (key.removeprefix(PROPERTY), _text(info, key.removeprefix(PREFIX)))
                    for key in info
                    if key.startswith(PROPERTY)
                )
            ),
        )
    except _BadField as exc:
        msg = f"dataset {dataset!r}: the recorded metadata of version {version} is damaged: {exc}"
        raise IntegrityError(msg) from None


def hash_format(info: dict[str, Any]) -> int:
    """Return the hash definition a commit's ``data_hash`` follows (:data:`HASH_FORMAT`)."""
    value = info.get(PREFIX + "format", "1")
    return int(value) if isinstance(value, str) and value.isdigit() else 1


def hash_scheme(info: dict[str, Any]) -> int:
    """Return the content-hash scheme a commit's hashes were made with (1 if unrecorded)."""
    value = info.get(PREFIX + "hash_scheme", "1")
    return int(value) if isinstance(value, str) and value.isdigit() else 1


class _BadField(Exception):
    """One metadata field does not decode (internal; becomes an IntegrityError)."""


def _raw(info: dict[str, Any], key: str, default: Any) -> Any:
    if PREFIX + key not in info:
        if default is None:
            msg = f"{PREFIX + key} is missing"
            raise _BadField(msg)
        return default
    return info[PREFIX + key]


def _text(info: dict[str, Any], key: str, default: str | None = None) -> str:
    value = _raw(info, key, default)
    if not isinstance(value, str):
        msg = f"{PREFIX + key} is {value!r}, not a string"
        raise _BadField(msg)
    return value


def _json(info: dict[str, Any], key: str, default: str | None = None) -> Any:
    text = _text(info, key, default)
    try:
        return json.loads(text)
    except ValueError:
        msg = f"{PREFIX + key} is {text!r}, not JSON"
        raise _BadField(msg) from None


def _count(info: dict[str, Any], key: str, default: int | None = None) -> int:
    value = _json(info, key, None if default is None else str(default))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"{PREFIX + key} is {value!r}, not a count"
        raise _BadField(msg)
    return value


def _texts(info: dict[str, Any], key: str) -> tuple[str, ...]:
    value = _json(info, key, "[]")
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        msg = f"{PREFIX + key} is {value!r}, not a list of strings"
        raise _BadField(msg)
    return tuple(value)


def _instant(info: dict[str, Any], key: str) -> datetime:
    text = _text(info, key)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        msg = f"{PREFIX + key} is {text!r}, not an ISO time with a UTC offset"
        raise _BadField(msg)
    return when.astimezone(UTC)


def _parents(info: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    value = _json(info, "parents", "[]")
    pairs: list[Any] = value if isinstance(value, list) else [None]
    if not all(
        isinstance(p, list)
        and len(p) == 2
        and isinstance(p[0], str)
        and isinstance(p[1], int)
        and not isinstance(p[1], bool)
        for p in pairs
    ):
        msg = f"{PREFIX}parents is {value!r}, not a list of [dataset, version] pairs"
        raise _BadField(msg)
    return tuple((p[0], p[1]) for p in pairs)


VERSION_SCHEMA = pl.Schema(
    {
        "dataset": pl.String(),
        "version": pl.Int64(),
        "created_at": pl.Datetime("us", "UTC"),
        "operation": pl.String(),
        "rows": pl.Int64(),
        "bytes": pl.Int64(),
        "n_sensors": pl.Int64(),
        "sensors": pl.List(pl.String()),
        "data_hash": pl.String(),
        "batch_rows": pl.Int64(),
        "batch_hash": pl.String(),
        "tags": pl.List(pl.String()),
        "description": pl.String(),
        "parents": pl.List(pl.Struct({"dataset": pl.String(), "version": pl.Int64()})),
        "library_version": pl.String(),
        "properties": pl.List(pl.Struct({"key": pl.String(), "value": pl.String()})),
    }
)


def versions_frame(items: list[DatasetVersion]) -> pl.DataFrame:
    """One row per version, oldest first, with :data:`VERSION_SCHEMA`."""
    rows = [
        {
            "dataset": v.dataset,
            "version": v.version,
            "created_at": v.created_at,
            "operation": v.operation,
            "rows": v.rows,
            "bytes": v.bytes,
            "n_sensors": len(v.sensors),
            "sensors": list(v.sensors),
            "data_hash": v.data_hash,
            "batch_rows": v.batch_rows,
            "batch_hash": v.batch_hash,
            "tags": list(v.tags),
            "description": v.description,
            "parents": [{"dataset": d, "version": n} for d, n in v.parents],
            "library_version": v.library_version,
            "properties": [{"key": k, "value": val} for k, val in v.properties],
        }
        for v in sorted(items, key=lambda v: v.version)
    ]
    return pl.DataFrame(rows, schema=VERSION_SCHEMA)


def to_utc(when: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
