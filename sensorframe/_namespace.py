"""
The ``pl.Expr.sf`` namespace: every sensorframe expression as a method of an expression.

This is the only module that registers anything with Polars. Each method is a one-line
alias of a module function (:mod:`sensorframe.quality`, :mod:`sensorframe.features`),
with the expression itself as the data argument; the functions hold the definitions
and the documentation. Importing :mod:`sensorframe` registers the namespace.

The feature methods run over the rows in the frame's order: sort by time within each
sensor before ``.over("sensor_id")`` (on unsorted rows the results are silently wrong),
or use :func:`sensorframe.engineer_features`, which sorts for you.

Examples
--------
>>> df = pl.DataFrame({"sensor_id": ["a"] * 4, "t": [3, 1, 0, 2], "value": [4.0, None, 1.0, 2.0]})
>>> df.sort("sensor_id", "t").select(
...     pl.col("value").sf.missing().alias("missing"),
...     pl.col("value").sf.lag(n=1).over("sensor_id").alias("lag_1"),
... )
shape: (4, 2)
┌─────────┬───────┐
│ missing ┆ lag_1 │
│ ---     ┆ ---   │
│ bool    ┆ f64   │
╞═════════╪═══════╡
│ false   ┆ null  │
│ true    ┆ 1.0   │
│ false   ┆ null  │
│ false   ┆ 2.0   │
└─────────┴───────┘
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from sensorframe import features, quality
from sensorframe._deprecation import deprecate_positional, renamed_keywords
from sensorframe.frame import TIME

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import timedelta

    from sensorframe._typing import IntoExpr
    from sensorframe.features import RollingStat

__all__ = ["SensorExprNameSpace"]


@pl.api.register_expr_namespace("sf")
class SensorExprNameSpace:
    """Sensorframe's checks and features as methods: ``pl.col("value").sf.flatline()``."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    # ----------------------------------------------------------------- quality
    def missing(self) -> pl.Expr:
        """See :func:`sensorframe.quality.missing`."""
        return quality.missing(self._expr)

    def zscore_outlier(self, *, threshold: float = 3.0) -> pl.Expr:
        """See :func:`sensorframe.quality.zscore_outlier`."""
        return quality.zscore_outlier(self._expr, threshold=threshold)

    def mad_outlier(self, *, threshold: float = 3.5) -> pl.Expr:
        """See :func:`sensorframe.quality.mad_outlier`."""
        return quality.mad_outlier(self._expr, threshold=threshold)

    def flatline(
        self, *, tolerance: float = 1e-6, min_length: int = 5, ignore: Sequence[float] = ()
    ) -> pl.Expr:
        """See :func:`sensorframe.quality.flatline`."""
        return quality.flatline(
            self._expr, tolerance=tolerance, min_length=min_length, ignore=ignore
        )

    def flatline_run_length(
        self, *, tolerance: float = 1e-6, ignore: Sequence[float] = ()
    ) -> pl.Expr:
        """See :func:`sensorframe.quality.flatline_run_length`."""
        return quality.flatline_run_length(self._expr, tolerance=tolerance, ignore=ignore)

    def gap(self, *, factor: float = 3.0, expected: timedelta | None = None) -> pl.Expr:
        """See :func:`sensorframe.quality.gap` (on a timestamp expression)."""
        return quality.gap(self._expr, factor=factor, expected=expected)

    def duplicate_timestamp(self) -> pl.Expr:
        """See :func:`sensorframe.quality.duplicate_timestamp`."""
        return quality.duplicate_timestamp(self._expr)

    def out_of_order(self) -> pl.Expr:
        """See :func:`sensorframe.quality.out_of_order`."""
        return quality.out_of_order(self._expr)

    def noise_level(self) -> pl.Expr:
        """See :func:`sensorframe.quality.noise_level`."""
        return quality.noise_level(self._expr)

    def drift_ratio(self) -> pl.Expr:
        """See :func:`sensorframe.quality.drift_ratio`."""
        return quality.drift_ratio(self._expr)

    def gross_range(
        self,
        *,
        fail_min: float | pl.Expr | None = None,
        fail_max: float | pl.Expr | None = None,
        suspect_min: float | pl.Expr | None = None,
        suspect_max: float | pl.Expr | None = None,
    ) -> pl.Expr:
        """See :func:`sensorframe.quality.gross_range`."""
        return quality.gross_range(
            self._expr,
            fail_min=fail_min,
            fail_max=fail_max,
            suspect_min=suspect_min,
            suspect_max=suspect_max,
        )

    def spike(
        self,
        *,
        threshold: float | pl.Expr | None = None,
        noise_factor: float | pl.Expr = 4.0,
        window: int = 25,
        min_scale: float | pl.Expr | None = None,
    ) -> pl.Expr:
        """See :func:`sensorframe.quality.spike`."""
        return quality.spike(
            self._expr,
            threshold=threshold,
            noise_factor=noise_factor,
            window=window,
            min_scale=min_scale,
        )

    def hampel_outlier(
        self,
        *,
        window: int | str | timedelta,
        threshold: float | pl.Expr = 3.5,
        center: bool = True,
        by: IntoExpr | None = None,
        min_scale: float | pl.Expr | None = None,
    ) -> pl.Expr:
        """See :func:`sensorframe.quality.hampel_outlier`."""
        return quality.hampel_outlier(
            self._expr,
            window=window,
            threshold=threshold,
            center=center,
            by=by,
            min_scale=min_scale,
        )

    def interpolated(self, *, min_length: int = 3, tolerance: float = 1e-6) -> pl.Expr:
        """See :func:`sensorframe.quality.interpolated`."""
        return quality.interpolated(self._expr, min_length=min_length, tolerance=tolerance)

    def level_shift(self, *, window: int = 24, threshold: float | pl.Expr = 6.0) -> pl.Expr:
        """See :func:`sensorframe.quality.level_shift`."""
        return quality.level_shift(self._expr, window=window, threshold=threshold)

    def trend(self, time: IntoExpr = TIME) -> pl.Expr:
        """See :func:`sensorframe.quality.trend` (an aggregate, for ``group_by().agg``)."""
        return quality.trend(self._expr, time)

    # ---------------------------------------------------------------- features
    @renamed_keywords(min_periods="min_samples")
    def rolling_stat(
        self,
        *,
        window: int | str | timedelta,
        stat: RollingStat,
        min_samples: int | None = None,
        by: IntoExpr = TIME,
    ) -> pl.Expr:
        """See :func:`sensorframe.features.rolling_stat`."""
        return features.rolling_stat(
            self._expr, window=window, stat=stat, min_samples=min_samples, by=by
        )

    @deprecate_positional(allowed=1, version="0.2.0")
    def lag(self, *, n: int = 1) -> pl.Expr:
        """See :func:`sensorframe.features.lag`."""
        return features.lag(self._expr, n=n)

    @deprecate_positional(allowed=1, version="0.2.0")
    def diff(self, *, n: int = 1) -> pl.Expr:
        """See :func:`sensorframe.features.diff`."""
        return features.diff(self._expr, n=n)

    def pct_change(self) -> pl.Expr:
        """See :func:`sensorframe.features.pct_change`."""
        return features.pct_change(self._expr)

    def rate_of_change(self, time: IntoExpr = TIME) -> pl.Expr:
        """See :func:`sensorframe.features.rate_of_change`."""
        return features.rate_of_change(self._expr, time)

    def acceleration(self, time: IntoExpr = TIME) -> pl.Expr:
        """See :func:`sensorframe.features.acceleration`."""
        return features.acceleration(self._expr, time)

    def ewm_mean(self, *, span: float = 12) -> pl.Expr:
        """See :func:`sensorframe.features.ewm_mean`."""
        return features.ewm_mean(self._expr, span=span)

    def ewm_std(self, *, span: float = 12) -> pl.Expr:
        """See :func:`sensorframe.features.ewm_std`."""
        return features.ewm_std(self._expr, span=span)

    def expanding_mean(self) -> pl.Expr:
        """See :func:`sensorframe.features.expanding_mean`."""
        return features.expanding_mean(self._expr)

    def expanding_std(self) -> pl.Expr:
        """See :func:`sensorframe.features.expanding_std`."""
        return features.expanding_std(self._expr)

    @renamed_keywords(min_periods="min_samples")
    def volatility(self, *, window: int, min_samples: int | None = None) -> pl.Expr:
        """See :func:`sensorframe.features.volatility`."""
        return features.volatility(self._expr, window=window, min_samples=min_samples)

    def spectral_features(self, *, window: int = 64, top_k: int = 3, step: int = 1) -> pl.Expr:
        """See :func:`sensorframe.features.spectral_features`."""
        return features.spectral_features(self._expr, window=window, top_k=top_k, step=step)
