"""Small helpers shared by the modules: expression parsing, validation messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import polars as pl

from sensorframe._typing import IntoExpr
from sensorframe.errors import ConfigError, InvalidTypeError

__all__ = ["check_positive", "check_probability", "checked_config", "parse_into_expr", "preview"]

C = TypeVar("C")


def parse_into_expr(column: IntoExpr) -> pl.Expr:
    """
    Turn a column name into ``pl.col(name)``; pass expressions through.

    Examples
    --------
    >>> from sensorframe._utils import parse_into_expr
    >>> parse_into_expr("value").meta.output_name()
    'value'
    """
    if isinstance(column, pl.Expr):
        return column
    if isinstance(column, str):
        return pl.col(column)
    msg = f"expected a column name or a polars expression, got {type(column).__name__}"
    raise InvalidTypeError(msg)


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a positive (or non-negative) number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        msg = f"`{name}` must be a number, got {value!r}"
        raise ConfigError(msg)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        msg = f"`{name}` must be {bound}, got {value!r}"
        raise ConfigError(msg)


def check_probability(name: str, value: float) -> None:
    """Raise :class:`ConfigError` unless ``0 < value < 1``."""
    check_positive(name, value)
    if value >= 1:
        msg = f"`{name}` must be < 1, got {value!r}"
        raise ConfigError(msg)


def preview(items: Iterable[object], limit: int = 10) -> str:
    """
    Render at most ``limit`` items for an error message, saying how many were left out.

    Examples
    --------
    >>> from sensorframe._utils import preview
    >>> preview(["a", "b", "c"], limit=2)
    "['a', 'b'] and 1 more"
    """
    items = list(items)
    shown = repr(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def checked_config(config: object, kind: type[C], *, name: str | None = None) -> C:
    """
    Return `config`, or a default ``kind()`` for None; refuse anything else.

    A dict of options is not guessed at: the message says how to build the config.
    `name` is how the message names `kind` (default: its class name).

    Raises
    ------
    InvalidTypeError
        If `config` is neither None nor a `kind`.

    Examples
    --------
    >>> from sensorframe._utils import checked_config
    >>> checked_config(None, sf.QualityConfig).outlier_z
    3.0
    >>> checked_config({"outlier_z": 3}, sf.QualityConfig)
    Traceback (most recent call last):
    ...
    sensorframe.errors.InvalidTypeError: `config` must be a QualityConfig, got dict ...
    """
    if config is None:
        return kind()
    if not isinstance(config, kind):
        got = type(config)
        # two configs of one name (sensorframe's and compat's): say which one was given
        given = (
            f"{got.__module__}.{got.__name__}" if got.__name__ == kind.__name__ else got.__name__
        )
        msg = (
            f"`config` must be a {name or kind.__name__}, got {given} "
            f"(for a dict of options: {kind.__name__}(**options))"
        )
        raise InvalidTypeError(msg)
    return config
