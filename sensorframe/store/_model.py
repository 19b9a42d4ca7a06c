"""Records of the dataset store and the rules for names, metadata and storable types."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from typing import Any

import polars as pl
from deltalake import CommitProperties, Transaction

from sensorframe.errors import InvalidParameterError, InvalidTypeError, SensorSchemaError

__all__ = ["DatasetVersion", "VacuumReport", "Verification"]

try:
    LIBRARY_VERSION = _package_version("sensorframe")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    LIBRARY_VERSION = "0.0.0"

PREFIX = "sensorframe."
"""Prefix of every key sensorframe writes into a Delta commit's custom metadata."""
PROPERTY = PREFIX + "property."
"""Prefix of the keys holding a version's user properties (``commit(properties=...)``)."""
APP_ID = "sensorframe"
"""Delta application-transaction id: makes two sensorframe commits on one table conflict."""
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
        :func:`sensorframe.content_hash` of the whole table at this version.
    rows, bytes
        Rows of the table at this version and their in-memory (Arrow) size in bytes.
    sensors
        Sorted sensor ids present at this version.
    created_at
        Commit time (UTC) recorded by the writer; ``read(as_of=...)`` resolves on it.
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
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
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
        ``reason`` (``"tag"``, ``"model"`` or ``"latest"``).
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


def check_name(name: object, what: str = "dataset") -> str:
    """Return ``name`` if it is a valid dataset or record-table name, else raise."""
    if not isinstance(name, str):
        msg = f"{what} name must be a string, got {type(name).__name__}"
        raise TypeError(msg)
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
    Cast columns to types that survive a Delta round trip unchanged.

    Categorical/Enum become String (delta-rs panics on dictionary columns), unsigned
    integers widen to the next signed type (Delta has none; delta-rs would wrap
    UInt32 into Int32), and datetimes are stored in microseconds (Delta's unit).
    """
    casts: list[pl.Expr] = []
    widen: dict[Any, pl.DataType] = {
        pl.UInt8: pl.Int16(),
        pl.UInt16: pl.Int32(),
        pl.UInt32: pl.Int64(),
    }
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Categorical | pl.Enum):
            casts.append(pl.col(name).cast(pl.String))
        elif dtype.base_type() in widen:
            casts.append(pl.col(name).cast(widen[dtype.base_type()]))
        elif dtype == pl.UInt64:
            casts.append(pl.col(name).cast(pl.Int64, strict=True))
        elif isinstance(dtype, pl.Datetime) and dtype.time_unit != "us":
            casts.append(pl.col(name).dt.cast_time_unit("us"))
        elif isinstance(dtype, pl.Duration | pl.Time | pl.Object | pl.Null):
            msg = f"column {name!r} has type {dtype}, which Delta Lake cannot store"
            raise SensorSchemaError(msg)
    return df.with_columns(casts) if casts else df


def commit_properties(v: DatasetVersion, *, retries: int) -> CommitProperties:
    """
    Delta commit properties of a version: its metadata and the application transaction.

    The transaction (``APP_ID``, version number) makes a concurrent sensorframe commit
    of the same version number fail instead of sliding to the next one.
    """
    return CommitProperties(
        custom_metadata=encode_metadata(v),
        max_commit_retries=retries,
        app_transactions=[Transaction(app_id=APP_ID, version=v.version)],
    )


def encode_metadata(v: DatasetVersion) -> dict[str, str]:
    """Return the commit custom metadata (all values strings) for a version."""
    fields: dict[str, Any] = {
        "format": 1,
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


def decode_metadata(dataset: str, commit: dict[str, Any]) -> DatasetVersion | None:
    """Rebuild a version from one ``DeltaTable.history()`` entry; None if not ours."""
    if PREFIX + "hash" not in commit:
        return None

    def get(key: str) -> Any:
        return json.loads(commit[PREFIX + key])

    return DatasetVersion(
        dataset=dataset,
        version=int(commit["version"]),
        data_hash=commit[PREFIX + "hash"],
        rows=int(get("rows")),
        bytes=int(get("bytes")),
        sensors=tuple(get("sensors")),
        created_at=datetime.fromisoformat(commit[PREFIX + "created_at"]),
        tags=tuple(get("tags")),
        description=commit.get(PREFIX + "description", ""),
        parents=tuple((str(d), int(n)) for d, n in get("parents")),
        library_version=commit.get(PREFIX + "library_version", ""),
        operation=commit.get(PREFIX + "operation", "overwrite"),
        batch_hash=commit.get(PREFIX + "batch_hash", ""),
        batch_rows=int(get("batch_rows")) if PREFIX + "batch_rows" in commit else 0,
        properties=tuple(
            sorted(
                (key.removeprefix(PROPERTY), str(value))
                for key, value in commit.items()
                if key.startswith(PROPERTY)
            )
        ),
    )


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
