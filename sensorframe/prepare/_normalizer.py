"""Per-sensor normalization fitted on training data: z-score, min-max, robust."""

from __future__ import annotations

import json
import os
import warnings
from datetime import UTC, datetime
from typing import Any, Literal, Self, TypeAlias, get_args, overload

import numpy as np
import polars as pl

from sensorframe._exact import sensor_moments
from sensorframe._typing import NormalizeMethod
from sensorframe._utils import preview
from sensorframe.errors import (
    InvalidParameterError,
    InvalidTypeError,
    NotFittedError,
    SourceError,
    UnknownSensorError,
    ZeroScaleWarning,
)
from sensorframe.frame import SENSOR, TIME, VALUE, require_rows, scan
from sensorframe.quality.overflow import refuse_overflow, span

__all__ = ["Normalizer", "UnknownPolicy"]

UnknownPolicy: TypeAlias = Literal["raise", "passthrough"]

_METHODS: tuple[str, ...] = get_args(NormalizeMethod)
_POLICIES: tuple[str, ...] = get_args(UnknownPolicy)
_CENTER = "__sf_center"
_SCALE = "__sf_scale"
_PARAMS_SCHEMA = pl.Schema(
    [(SENSOR, pl.String()), ("center", pl.Float64()), ("scale", pl.Float64()), ("n", pl.Int64())]
)
_FORMAT = "sensorframe.Normalizer"
# A scale at or below this many ulps of the center is rounding noise of a constant sensor.
_ZERO_SCALE_ULPS = 16 * float(np.finfo(np.float64).eps)


# -- normalization -------------------------------------------------------------------


class Normalizer:
    """
    Per-sensor scaling of ``value``, fitted on training data only.

    ========== =================================== ===================================
    method     center                              scale
    ========== =================================== ===================================
    zscore     mean                                population std (ddof=0)
    minmax     min                                 max - min
    robust     median                              IQR, quantiles linearly interpolated
    none       0                                   1
    ========== =================================== ===================================

    ``transform`` computes ``(value - center) / scale``, ``inverse_transform``
    ``value * scale + center``. Parameters come from the finite (non-null) values only.
    A zero scale (a constant sensor, or one without finite values, whose center becomes
    0) is set to 1 with a :class:`~sensorframe.errors.ZeroScaleWarning`; a scale within
    rounding error of zero (at most 16 ulps of the center) counts as zero.

    Parameters
    ----------
    method : {'zscore', 'minmax', 'robust', 'none'}
        How to center and scale each sensor.
    unknown : {'raise', 'passthrough'}
        What ``transform`` does with a sensor ``fit`` never saw: raise
        :class:`~sensorframe.errors.UnknownSensorError`, or leave its values unchanged.

    Attributes
    ----------
    params_ : pl.DataFrame
        One row per fitted sensor, sorted by id: ``sensor_id``, ``center``, ``scale``
        and ``n``, the number of finite values fitted on.
    fitted_at_ : datetime
        When ``fit`` ran (UTC), or when the loaded file was fitted.

    Notes
    -----
    ``fit`` is eager (one query, collected). A sensor's parameters depend on its own
    readings only, bit for bit: fitting on a subset of the sensors, in any row order,
    gives the same numbers for them (z-score statistics are taken in (sensor, time)
    order, see :mod:`sensorframe._exact`). ``transform`` and ``inverse_transform``
    keep the input's kind: a ``pl.DataFrame`` gives a ``pl.DataFrame``, anything else
    (a ``pl.LazyFrame``, a path, an Arrow table ...) a lazy join, a ``pl.LazyFrame``.
    With ``unknown="raise"`` they first run one small query for the distinct sensor
    ids of the input (an anti-join against the fitted ids), so they can fail early.

    .. versionchanged:: 0.2
        A ``pl.DataFrame`` input gives a ``pl.DataFrame`` (it gave a ``pl.LazyFrame``);
        calling ``.collect()`` on it still works, with a ``DeprecationWarning``.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["a", "a", "b", "b"], "timestamp": ["2026-01-01", "2026-01-02"] * 2}
    ... ).with_columns(value=pl.Series([1.0, 3.0, 10.0, 20.0]))
    >>> norm = sf.prepare.Normalizer("minmax").fit(df)
    >>> norm.params
    shape: (2, 4)
    ┌───────────┬────────┬───────┬─────┐
    │ sensor_id ┆ center ┆ scale ┆ n   │
    │ ---       ┆ ---    ┆ ---   ┆ --- │
    │ str       ┆ f64    ┆ f64   ┆ i64 │
    ╞═══════════╪════════╪═══════╪═════╡
    │ a         ┆ 1.0    ┆ 2.0   ┆ 2   │
    │ b         ┆ 10.0   ┆ 10.0  ┆ 2   │
    └───────────┴────────┴───────┴─────┘
    >>> norm.transform(df)["value"].to_list()
    [0.0, 1.0, 0.0, 1.0]
    >>> norm.transform(df.lazy())
    <LazyFrame at ...>
    """

    params_: pl.DataFrame
    fitted_at_: datetime

    def __init__(
        self, method: NormalizeMethod = "zscore", *, unknown: UnknownPolicy = "raise"
    ) -> None:
        self.method = method
        self.unknown = unknown

    def __repr__(self) -> str:
        return f"Normalizer(method={self.method!r}, unknown={self.unknown!r})"

    def fit(self, frame: Any) -> Self:
        """
        Learn each sensor's center and scale from ``frame`` in one query.

        Parameters
        ----------
        frame
            Training data, anything :func:`sensorframe.scan` accepts.

        Returns
        -------
        Normalizer
            ``self``, fitted.

        Raises
        ------
        InvalidParameterError
            If ``method`` or ``unknown`` is not one of the allowed values.
        EmptyFrameError
            If the frame has no rows.
        SensorSchemaError
            If a sensor's center or scale overflows float64 (readings near ±1e308, or
            spreads beyond ~1e154), naming the sensors.

        Examples
        --------
        >>> df = pl.DataFrame({"sensor_id": ["a"] * 3, "timestamp": ["2026-01-01"] * 3})
        >>> df = df.with_columns(value=pl.Series([1.0, 2.0, 3.0]))
        >>> sf.prepare.Normalizer("robust").fit(df).params.row(0)
        ('a', 2.0, 1.0, 3)
        """
        self._check_options()
        params = require_rows(_fit_params(scan(frame), self.method), "fitting a Normalizer")
        refuse_overflow(
            params[SENSOR],
            params["center"],
            params["scale"],
            spans=params["span"],
            what="a Normalizer",
        )
        # Null (no finite values) or within rounding of zero.
        zero = ~(pl.col("scale") > _ZERO_SCALE_ULPS * pl.col("center").abs()).fill_null(False)
        flagged = params.filter(zero).get_column(SENSOR)
        if len(flagged):
            msg = (
                f"{len(flagged)} sensor(s) have zero spread or no finite values in the "
                f"training data; their scale was set to 1: {preview(flagged.to_list())}"
            )
            warnings.warn(msg, ZeroScaleWarning, stacklevel=2)
        self.params_ = params.select(
            SENSOR,
            pl.col("center").fill_null(0.0),
            pl.when(zero).then(1.0).otherwise(pl.col("scale")).alias("scale"),
            pl.col("n").cast(pl.Int64),
        )
        self.fitted_at_ = datetime.now(UTC)
        return self

    @property
    def params(self) -> pl.DataFrame:
        """The fitted parameters: ``sensor_id``, ``center``, ``scale``, ``n``."""
        return self._fitted()

    @overload
    def transform(self, frame: pl.DataFrame) -> pl.DataFrame: ...
    @overload
    def transform(self, frame: Any) -> pl.LazyFrame: ...
    def transform(self, frame: Any) -> pl.DataFrame | pl.LazyFrame:
        """
        Scale ``value`` per sensor: ``(value - center) / scale``.

        Parameters
        ----------
        frame
            Anything :func:`sensorframe.scan` accepts. Other columns pass through.

        Returns
        -------
        DataFrame or LazyFrame
            The input's rows and columns in their order, ``value`` scaled: a
            ``pl.DataFrame`` for a ``pl.DataFrame`` (computed now), otherwise a
            ``pl.LazyFrame`` (nothing computed until ``collect``).

        Raises
        ------
        NotFittedError
            If ``fit`` has not been called.
        UnknownSensorError
            If the frame has a sensor ``fit`` never saw and ``unknown="raise"``.
        """
        return self._apply(frame, inverse=False)

    @overload
    def inverse_transform(self, frame: pl.DataFrame) -> pl.DataFrame: ...
    @overload
    def inverse_transform(self, frame: Any) -> pl.LazyFrame: ...
    def inverse_transform(self, frame: Any) -> pl.DataFrame | pl.LazyFrame:
        """
        Undo :meth:`transform`: ``value * scale + center``.

        Parameters, return type and errors are those of :meth:`transform`.

        Examples
        --------
        >>> df = pl.DataFrame({"sensor_id": ["a"] * 3, "timestamp": ["2026-01-01"] * 3})
        >>> df = df.with_columns(value=pl.Series([1.0, 2.0, 3.0]))
        >>> norm = sf.prepare.Normalizer().fit(df)
        >>> norm.inverse_transform(norm.transform(df))["value"].to_list()
        [1.0, 2.0, 3.0]
        """
        return self._apply(frame, inverse=True)

    def save(self, path: str | os.PathLike[str]) -> None:
        """
        Write the fitted parameters as readable JSON.

        The file holds the method, the fit time, the sensorframe version and one record
        per sensor; :meth:`load` reads it back.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> df = pl.DataFrame({"sensor_id": ["a", "a"], "timestamp": ["2026-01-01"] * 2})
        >>> norm = sf.prepare.Normalizer().fit(df.with_columns(value=pl.Series([1.0, 3.0])))
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "norm.json"
        >>> norm.save(path)
        >>> sf.prepare.Normalizer.load(path).params.equals(norm.params)
        True
        """
        if not isinstance(path, str | os.PathLike):
            msg = f"`path` must be a file path, got {type(path).__name__}"
            raise InvalidTypeError(msg)
        params = self._fitted()
        doc = {
            "format": _FORMAT,
            "format_version": 1,
            "method": self.method,
            "unknown": self.unknown,
            "fitted_at": self.fitted_at_.isoformat(),
            "sensorframe_version": _library_version(),
            "params": params.to_dicts(),
        }
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, allow_nan=False)
            fh.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Normalizer:
        """
        Read a normalizer written by :meth:`save`.

        Raises
        ------
        SourceError
            If the file is missing or is not a saved normalizer.
        InvalidTypeError
            If `path` is not a path (an int would be taken as a file descriptor).
        """
        if not isinstance(path, str | os.PathLike):
            msg = f"`path` must be a file path, got {type(path).__name__}"
            raise InvalidTypeError(msg)
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, ValueError) as exc:
            msg = f"could not read a saved Normalizer from {os.fspath(path)}: {exc}"
            raise SourceError(msg) from exc
        try:
            if doc["format"] != _FORMAT:
                msg = f"not a saved Normalizer (format {doc['format']!r})"
                raise ValueError(msg)
            norm = cls(doc["method"], unknown=doc.get("unknown", "raise"))
            norm._check_options()
            norm.params_ = pl.from_dicts(doc["params"], schema=_PARAMS_SCHEMA)
            norm.fitted_at_ = datetime.fromisoformat(doc["fitted_at"])
        except (KeyError, TypeError, ValueError, pl.exceptions.PolarsError) as exc:
            msg = f"{os.fspath(path)} is not a valid saved Normalizer: {exc!r}"
            raise SourceError(msg) from exc
        return norm

    # -- internals -----------------------------------------------------------------

    def _check_options(self) -> None:
        if self.method not in _METHODS:
            msg = f"`method` must be one of {_METHODS}, got {self.method!r}"
            raise InvalidParameterError(msg)
        if self.unknown not in _POLICIES:
            msg = f"`unknown` must be one of {_POLICIES}, got {self.unknown!r}"
            raise InvalidParameterError(msg)

    def _fitted(self) -> pl.DataFrame:
        try:
            return self.params_
        except AttributeError:
            msg = "this Normalizer is not fitted yet; call `fit` first"
            raise NotFittedError(msg) from None

    def _apply(self, frame: Any, *, inverse: bool) -> pl.DataFrame | pl.LazyFrame:
        params = self._fitted()
        self._check_options()
        lf = scan(frame)
        if self.unknown == "raise":
            _check_known(lf, params)
        scaled = _scale(lf, params, inverse=inverse)
        if isinstance(frame, pl.DataFrame):
            return _Transformed._from_pydf(scaled.collect()._df)
        return scaled


class _Transformed(pl.DataFrame):
    """
    The ``pl.DataFrame`` that ``transform`` gives for one, with a deprecated ``collect``.

    ``transform`` of a DataFrame used to return a LazyFrame, so callers wrote
    ``norm.transform(df).collect()``; that keeps working, with a warning.
    """

    def collect(self, *_args: object, **_kwargs: object) -> pl.DataFrame:
        """Return this frame as a plain ``pl.DataFrame``, with a ``DeprecationWarning``."""
        msg = (
            "Normalizer.transform/inverse_transform of a DataFrame now returns a DataFrame; "
            "drop the `.collect()` (it returns the frame unchanged)"
        )
        warnings.warn(msg, DeprecationWarning, stacklevel=2)
        return pl.DataFrame._from_pydf(self._df)


def _fit_params(lf: pl.LazyFrame, method: str) -> pl.DataFrame:
    """
    Each sensor's ``center``, ``scale``, finite count ``n`` and ``span``, sorted by id.

    The z-score's mean and std are sums, which Polars' ``group_by`` rounds
    differently depending on the other sensors in the frame; they come from
    :func:`sensorframe._exact.sensor_moments` (the sensor's own readings in time
    order), so a fit on a batch of sensors equals the fit on the whole fleet bit for
    bit. The other methods' statistics (min, max, order statistics) are exact in any
    grouping.
    """
    if method == "zscore":
        moments = sensor_moments(lf.select(SENSOR, TIME, VALUE).collect())
        return moments.select(
            SENSOR, pl.col("mean").alias("center"), pl.col("std").alias("scale"), "n", "span"
        )
    # scan has already turned NaN and ±inf into null.
    x = pl.col(VALUE).drop_nulls()
    if method == "minmax":
        center, scale = x.min(), x.max() - x.min()
    elif method == "robust":
        center = x.median()
        scale = x.quantile(0.75, "linear") - x.quantile(0.25, "linear")
    else:
        center, scale = pl.lit(0.0), pl.lit(1.0)
    return (
        lf.group_by(SENSOR)
        .agg(
            center.cast(pl.Float64).alias("center"),
            scale.cast(pl.Float64).alias("scale"),
            x.count().alias("n"),
            span(x).alias("span"),
        )
        .sort(SENSOR)
        .collect()
    )


def _check_known(lf: pl.LazyFrame, params: pl.DataFrame) -> None:
    unknown = (
        lf.select(SENSOR)
        .unique()
        .join(params.lazy().select(SENSOR), on=SENSOR, how="anti")
        .sort(SENSOR)
        .collect()
        .get_column(SENSOR)
    )
    if len(unknown):
        msg = (
            f"{len(unknown)} sensor(s) were not seen by `fit`: {preview(unknown.to_list())}; "
            "refit, or use Normalizer(..., unknown='passthrough') to leave them unscaled"
        )
        raise UnknownSensorError(msg)


def _scale(lf: pl.LazyFrame, params: pl.DataFrame, *, inverse: bool) -> pl.LazyFrame:
    right = params.lazy().select(
        SENSOR, pl.col("center").alias(_CENTER), pl.col("scale").alias(_SCALE)
    )
    center = pl.col(_CENTER).fill_null(0.0)  # null: an unknown sensor passed through
    scale = pl.col(_SCALE).fill_null(1.0)
    value = pl.col(VALUE) * scale + center if inverse else (pl.col(VALUE) - center) / scale
    return (
        lf.join(right, on=SENSOR, how="left", maintain_order="left")
        .with_columns(value.alias(VALUE))
        .drop(_CENTER, _SCALE)
    )


def _library_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sensorframe")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"
