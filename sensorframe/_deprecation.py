"""
Deprecation shims: renamed keywords and fields, options that became keyword-only.

Each warns with a ``DeprecationWarning`` whose stack level points at the caller of the
decorated function (user code), then calls the function the new way.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sensorframe.errors import InvalidTypeError

__all__ = ["deprecate_positional", "renamed_fields", "renamed_keywords"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T", bound=type)
P = ParamSpec("P")
R = TypeVar("R")


def _renaming(fn: F, renames: dict[str, str], *, name: str) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for old, new in renames.items():
            if old in kwargs:
                if new in kwargs:
                    msg = f"{name} got both `{old}` and `{new}`: give only `{new}`"
                    raise InvalidTypeError(msg)
                msg = f"`{name}({old}=...)` is deprecated: use `{new}`"
                warnings.warn(msg, DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def renamed_keywords(**renames: str) -> Callable[[F], F]:
    """
    Accept each ``old="new"`` keyword under its old name too (a function decorator).

    ``f(old=...)`` means ``f(new=...)``, with a :class:`DeprecationWarning` pointing at
    the caller.

    Raises
    ------
    InvalidTypeError
        From the decorated function, when both the old and the new name are given.

    Examples
    --------
    >>> from sensorframe._deprecation import renamed_keywords
    >>> @renamed_keywords(value="column")
    ... def twice(column: int) -> int:
    ...     return 2 * column
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     twice(value=3)
    6
    >>> str(caught[0].message)
    '`twice(value=...)` is deprecated: use `column`'
    """

    def decorate(fn: F) -> F:
        return _renaming(fn, renames, name=fn.__name__)

    return decorate


def renamed_fields(**renames: str) -> Callable[[T], T]:
    """
    Accept and read a dataclass's fields under their old names too (a class decorator).

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
        cls.__init__ = _renaming(init, renames, name=cls.__name__)  # type: ignore[misc]
        for old, new in renames.items():
            setattr(cls, old, property(functools.partial(_read, old=old, new=new)))
        return cls

    return decorate


def _read(obj: object, *, old: str, new: str) -> Any:
    msg = f"`{type(obj).__name__}.{old}` is deprecated: use `{new}`"
    warnings.warn(msg, DeprecationWarning, stacklevel=2)
    return getattr(obj, new)


def deprecate_positional(
    *, allowed: int, version: str
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """
    Accept the keyword-only options of a function by position, with a ``DeprecationWarning``.

    The first `allowed` positional arguments (the data, and ``self`` for a method) stay
    positional; further ones are mapped, in order, to the keyword-only parameters.

    Examples
    --------
    >>> import warnings
    >>> from sensorframe._deprecation import deprecate_positional
    >>> @deprecate_positional(allowed=1, version="0.2.0")
    ... def f(column: str, *, n: int = 1) -> str:
    ...     return column * n
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     f("a", 3)
    'aaa'
    >>> str(caught[0].message)
    'options of `f` are keyword-only since sensorframe 0.2.0: write f(..., n=3)'
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        options = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            if len(args) > allowed:
                extra = args[allowed:]
                if len(extra) > len(options):
                    msg = (
                        f"`{fn.__name__}` takes {allowed} positional argument(s) and the "
                        f"options {options} by keyword, got {len(args)} positional"
                    )
                    raise InvalidTypeError(msg)
                named = dict(zip(options, extra, strict=False))
                twice = sorted(set(named) & set(kwargs))
                if twice:
                    msg = f"`{fn.__name__}` got {twice} both by position and by keyword"
                    raise InvalidTypeError(msg)
                spelled = ", ".join(f"{k}={v!r}" for k, v in named.items())
                msg = (
                    f"options of `{fn.__name__}` are keyword-only since sensorframe "
                    f"{version}: write {fn.__name__}(..., {spelled})"
                )
                warnings.warn(msg, DeprecationWarning, stacklevel=2)
                args, kwargs = args[:allowed], {**named, **kwargs}
            return fn(*args, **kwargs)

        return wrapper

    return decorate
