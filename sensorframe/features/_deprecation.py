"""
Deprecation shims for renamed keywords and options that became keyword-only.

Both warn with a ``DeprecationWarning`` whose stack level points at the caller of the
decorated function (user code), then call the function the new way.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from sensorframe.errors import InvalidTypeError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["deprecate_positional", "deprecate_renamed_keyword"]

P = ParamSpec("P")
R = TypeVar("R")


def deprecate_renamed_keyword(
    old: str, new: str, *, version: str
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """
    Accept keyword `old` as `new`, with a ``DeprecationWarning``.

    Examples
    --------
    >>> import warnings
    >>> from sensorframe.features._deprecation import deprecate_renamed_keyword
    >>> @deprecate_renamed_keyword("min_periods", "min_samples", version="0.2.0")
    ... def f(*, min_samples: int = 1) -> int:
    ...     return min_samples
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     f(min_periods=3)
    3
    >>> str(caught[0].message)
    '`min_periods` was renamed to `min_samples` in sensorframe 0.2.0 (as in Polars 1.21)'
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if old in kwargs:
                if new in kwargs:
                    msg = f"pass `{new}` only: `{old}` is its deprecated name"
                    raise InvalidTypeError(msg)
                msg = f"`{old}` was renamed to `{new}` in sensorframe {version} (as in Polars 1.21)"
                warnings.warn(msg, DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper

    return decorate


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
    >>> from sensorframe.features._deprecation import deprecate_positional
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
