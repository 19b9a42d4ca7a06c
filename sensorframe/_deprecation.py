"""Deprecation shims: old keyword and attribute names of frozen config dataclasses."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from sensorframe.errors import InvalidTypeError

__all__ = ["renamed_fields"]

T = TypeVar("T", bound=type)


def _warn(cls: type, old: str, new: str) -> None:
    msg = f"`{cls.__name__}({old}=...)` is deprecated: use `{new}`"
    warnings.warn(msg, DeprecationWarning, stacklevel=3)


def renamed_fields(**renames: str) -> Callable[[T], T]:
    """
    Class decorator: a dataclass still accepts and reads fields under their old names.

    Each ``old="new"`` pair makes ``cls(old=...)`` mean ``cls(new=...)`` and
    ``obj.old`` read ``obj.new``, both with a :class:`DeprecationWarning` pointing at
    the caller. Works with frozen, slotted dataclasses (put it above ``@dataclass``);
    ``dataclasses.replace``, ``==`` and ``repr`` see only the new names.

    Raises
    ------
    InvalidTypeError
        From the constructor, when both the old and the new name are given.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from sensorframe._deprecation import renamed_fields
    >>> @renamed_fields(size="length")
    ... @dataclass(frozen=True, slots=True)
    ... class Box:
    ...     length: int = 1
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     box = Box(size=3)
    >>> box, str(caught[0].message)
    (Box(length=3), '`Box(size=...)` is deprecated: use `length`')
    """

    def decorate(cls: T) -> T:
        init = cls.__init__  # type: ignore[misc]

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        msg = f"{cls.__name__} got both `{old}` and `{new}`: give only `{new}`"
                        raise InvalidTypeError(msg)
                    _warn(cls, old, new)
                    kwargs[new] = kwargs.pop(old)
            init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]
        for old, new in renames.items():
            setattr(cls, old, property(functools.partial(_read, old=old, new=new)))
        return cls

    return decorate


def _read(obj: object, *, old: str, new: str) -> Any:
    msg = f"`{type(obj).__name__}.{old}` is deprecated: use `{new}`"
    warnings.warn(msg, DeprecationWarning, stacklevel=2)
    return getattr(obj, new)
