"""
Errors and warnings raised by sensorframe.

Every error derives from :class:`SensorFrameError`, so ``except sf.SensorFrameError``
catches anything the library raises on purpose. Errors that are also a kind of builtin
error (a bad value, a missing key) inherit from that builtin too, so code written
against ``ValueError`` or ``KeyError`` keeps working.

The tree::

    * SensorFrameError
      x InvalidParameterError (also ValueError)
        + ConfigError                  a config dataclass field is invalid
      x InvalidTypeError (also TypeError)  a parameter of the wrong type
      x SensorSchemaError (also ValueError)
        + EmptyFrameError              data is required, the frame has no rows
      x SourceError (also ValueError)  a path or object that cannot be read as a frame
      x NotFittedError (also AttributeError)
      x UnknownSensorError (also KeyError)
      x UnknownFeatureError (also KeyError)
      x VersioningError
        + DatasetNotFoundError (also KeyError)
        + VersionNotFoundError (also KeyError)
        + TagNotFoundError (also KeyError)
        + CommitConflictError
        + IntegrityError               stored data does not match its recorded hash
      x PipelineError
    * SensorFrameWarning (UserWarning)
      x ZeroScaleWarning               a normalizer met a constant sensor

``UnstableWarning`` is deprecated (nothing issued it): the name still resolves, with a
``DeprecationWarning``, to a stand-in subclass of :class:`SensorFrameWarning`.
"""

from __future__ import annotations

import warnings

__all__ = [
    "CommitConflictError",
    "ConfigError",
    "DatasetNotFoundError",
    "EmptyFrameError",
    "IntegrityError",
    "InvalidParameterError",
    "InvalidTypeError",
    "NotFittedError",
    "PipelineError",
    "SensorFrameError",
    "SensorFrameWarning",
    "SensorSchemaError",
    "SourceError",
    "TagNotFoundError",
    "UnknownFeatureError",
    "UnknownSensorError",
    "VersionNotFoundError",
    "VersioningError",
    "ZeroScaleWarning",
]


class SensorFrameError(Exception):
    """Base class for every error raised by sensorframe."""


class _KeyMessage(KeyError):
    """A ``KeyError`` whose ``str()`` is its message, not the quoted repr of it."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidParameterError(SensorFrameError, ValueError):
    """A parameter is outside its allowed range or set of values."""


class InvalidTypeError(SensorFrameError, TypeError):
    """A parameter has the wrong type (a number where a name belongs, a dict for a config ...)."""


class ConfigError(InvalidParameterError):
    """A field of a config dataclass (``QualityConfig``, ``FeatureConfig`` ...) is invalid."""


class SensorSchemaError(SensorFrameError, ValueError):
    """The input frame lacks a column, or a column has the wrong type or bad contents."""


class EmptyFrameError(SensorSchemaError):
    """The operation needs data and the frame (or the selected sensors) has no rows."""


class SourceError(SensorFrameError, ValueError):
    """A path does not exist, or an object cannot be read as a table of readings."""


class NotFittedError(SensorFrameError, AttributeError):
    """A fit/transform object was used before ``fit``."""


class UnknownSensorError(SensorFrameError, _KeyMessage):
    """A sensor id was asked for that the report or fitted object does not know."""


class UnknownFeatureError(SensorFrameError, _KeyMessage):
    """A feature name was asked for that the feature frame does not hold."""


class VersioningError(SensorFrameError):
    """Base class for errors of the Delta Lake dataset store."""


class DatasetNotFoundError(VersioningError, _KeyMessage):
    """The store has no dataset of that name."""


class VersionNotFoundError(VersioningError, _KeyMessage):
    """The dataset has no such version (or none at that time)."""


class TagNotFoundError(VersioningError, _KeyMessage):
    """The dataset has no such tag."""


class CommitConflictError(VersioningError):
    """A concurrent writer won the race for a commit and retries ran out."""


class IntegrityError(VersioningError):
    """Stored data no longer matches the content hash recorded when it was committed."""


class PipelineError(SensorFrameError):
    """A pipeline step failed for every selected sensor, or the run could not start."""


class SensorFrameWarning(UserWarning):
    """Base class for warnings issued by sensorframe."""


class ZeroScaleWarning(SensorFrameWarning):
    """A sensor has zero spread in its training data; its scale was set to 1."""


class _UnstableWarning(SensorFrameWarning):
    """Stand-in for the removed ``UnstableWarning``, which nothing issued."""


_REMOVED: dict[str, type] = {"UnstableWarning": _UnstableWarning}
"""Removed public names and the stand-ins that old imports still get, with a warning."""


def _removed_name(module: str, name: str, *, stacklevel: int) -> type:
    """
    Return the stand-in of a removed name with a ``DeprecationWarning``, for ``__getattr__``.

    ``stacklevel`` counts from this function to the user code that named it. A name
    that was never public is an ``AttributeError``, as ``__getattr__`` must raise.
    """
    if name not in _REMOVED:
        msg = f"module {module!r} has no attribute {name!r}"
        raise AttributeError(msg)
    msg = f"`{module}.{name}` is deprecated and will be removed: nothing in sensorframe issues it"
    warnings.warn(msg, DeprecationWarning, stacklevel=stacklevel + 1)
    return _REMOVED[name]


def __getattr__(name: str) -> type:
    return _removed_name(__name__, name, stacklevel=2)
