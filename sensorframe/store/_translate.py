"""
The one place where deltalake's (and Polars') failures become sensorframe errors.

deltalake raises ``TableNotFoundError`` for a missing table, ``CommitFailedError``
when a concurrent writer won, ``SchemaMismatchError`` for rows of another schema,
other ``DeltaError`` for anything else (a damaged log included), ``OSError`` for an
object store it cannot reach or a file it cannot read, and a bare ``Exception`` for an
Arrow cast it cannot make; Polars may panic on a damaged data file (pyo3's
``PanicException`` is a ``BaseException``). The rest of the store catches only
:data:`DELTA_FAILURES` and asks this module what a failure means: a lost race
(:func:`lost_race`), a table that does not exist (:func:`open_table` returns None),
or a typed error (:func:`write_failure`, :func:`damaged_as_integrity_error`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from deltalake import DeltaTable
from deltalake.exceptions import (
    CommitFailedError,
    DeltaError,
    SchemaMismatchError,
    TableNotFoundError,
)
from polars.exceptions import PolarsError

from sensorframe.errors import (
    IntegrityError,
    SensorFrameError,
    SensorSchemaError,
    VersioningError,
)

__all__ = [
    "DELTA_FAILURES",
    "SCAN_FAILURES",
    "damaged_as_integrity_error",
    "first_line",
    "is_delta_error",
    "lost_race",
    "open_table",
    "write_failure",
]

DELTA_FAILURES: tuple[type[Exception], ...] = (DeltaError, OSError)
"""What deltalake raises for a table it cannot load, read or write."""
SCAN_FAILURES: tuple[type[Exception], ...] = (DeltaError, OSError, PolarsError)
"""What opening a Polars scan of a Delta table raises (its schema is read at once)."""


def first_line(exc: BaseException) -> str:
    r"""
    Return an error's message without the Rust backtrace (and colours) deltalake adds.

    Examples
    --------
    >>> from sensorframe.store._translate import first_line
    >>> first_line(OSError("\x1b[31mdisk on fire\x1b[0m\n  backtrace ..."))
    'disk on fire'
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return text.splitlines()[0].rstrip(" ↳") if text else type(exc).__name__


def open_table(
    uri: str, storage_options: dict[str, str] | None, version: int | None = None
) -> DeltaTable | None:
    """Return the Delta table at ``uri`` (at ``version``), or None if there is none."""
    try:
        return DeltaTable(uri, version=version, storage_options=storage_options)
    except TableNotFoundError:
        return None


def lost_race(exc: BaseException) -> bool:
    """Tell whether a commit failed because a concurrent writer won (try again)."""
    return isinstance(exc, CommitFailedError)


def is_delta_error(exc: BaseException) -> bool:
    """Tell whether deltalake itself refused the operation (not the file system)."""
    return isinstance(exc, DeltaError)


def write_failure(exc: Exception, what: str) -> SensorFrameError:
    """
    Return the typed error for a failed write; ``what`` starts its message.

    Rows of another schema (``SchemaMismatchError``) and values deltalake cannot cast
    (a bare ``Exception`` from Arrow) are a :class:`SensorSchemaError`; any other
    deltalake or storage failure is a :class:`VersioningError`.
    """
    msg = f"{what}: {first_line(exc)}"
    if isinstance(exc, SchemaMismatchError) or not isinstance(exc, DELTA_FAILURES):
        return SensorSchemaError(msg)
    return VersioningError(msg)


@contextmanager
def damaged_as_integrity_error(what: str, *, hint: str = "") -> Iterator[None]:
    """
    Turn any failure to read ``what`` into an :class:`IntegrityError` naming it.

    deltalake raises ``DeltaError`` for a garbage or truncated log file, Polars an
    ``OSError`` for a deleted data file and, for a rewritten one, may panic: pyo3's
    ``PanicException`` is a ``BaseException`` (and each Rust extension has its own
    class), so everything but ``KeyboardInterrupt``, ``SystemExit``, ``GeneratorExit``
    and our own errors is caught. A plain ``OSError`` reading from an object store
    (``what`` holds a URI) is a connection that failed: a :class:`VersioningError`
    saying so, not blame on the data. ``hint`` ends the message.
    """
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit, SensorFrameError):
        raise
    except BaseException as exc:
        if type(exc) is OSError and "://" in what:
            msg = f"cannot reach {what} ({first_line(exc)})"
            raise VersioningError(msg) from exc
        msg = (
            f"{what} is damaged and cannot be read ({type(exc).__name__}: {first_line(exc)}){hint}"
        )
        raise IntegrityError(msg) from exc
