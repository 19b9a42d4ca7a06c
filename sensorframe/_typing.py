"""Type aliases shared across sensorframe (type-only; nothing here runs at import)."""

from __future__ import annotations

import os
from typing import Any, Literal, TypeAlias

import polars as pl

__all__ = [
    "FrameInput",
    "IntoExpr",
    "NormalizeMethod",
    "OutlierMethod",
]

IntoExpr: TypeAlias = str | pl.Expr
"""A column name or an expression."""

FrameInput: TypeAlias = (
    pl.DataFrame | pl.LazyFrame | str | os.PathLike[str] | Any  # arrow objects, pandas, ...
)
"""Anything :func:`sensorframe.scan` accepts."""

NormalizeMethod: TypeAlias = Literal["zscore", "minmax", "robust", "none"]
OutlierMethod: TypeAlias = Literal["zscore", "mad", "hampel"]
