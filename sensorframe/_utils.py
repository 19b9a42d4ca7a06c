"""Small helpers shared by the modules: expression parsing, validation messages."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from sensorframe._typing import IntoExpr
from sensorframe.errors import ConfigError, InvalidTypeError

__all__ = ["check_positive", "check_probability", "parse_into_expr", "preview"]


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
