"""
Seasonal references: the reference's mean profile over a season, removed from both windows.

A sensor with a daily cycle (temperature, irradiance, load) drifts "every hour" if its
readings are compared as one sample: the current window's mornings meet the reference's
afternoons. With ``DriftConfig(season="1d")`` each reading ``x`` at time ``t`` becomes
``x - mu_R(bucket(t))``, where ``bucket(t) = (t mod season) // width`` on the UTC clock
(microseconds since the Unix epoch) and ``mu_R(b)`` is the mean of the sensor's finite
reference readings in bucket ``b``. ``width`` is one hour, or ``season / 24`` (rounded
up to a microsecond) for a season shorter than a day: ``"1d"`` has 24 hour-of-day
buckets, ``"7d"`` 168 hour-of-week buckets. A bucket without reference readings uses
the sensor's reference mean. The tests then compare the residuals, so a shift on top
of the cycle is found and the cycle itself is not.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from sensorframe.frame import SENSOR, TIME, VALUE

__all__ = ["SEASON_COLUMN", "bucket_width_us", "fit_season", "remove_season"]

SEASON_COLUMN = "season_means"
"""Profile column: each sensor's reference mean per bucket (a list, bucket order)."""
_HOUR_US = 3_600_000_000
_BUCKET = "__sf_bucket"
_MEAN = "__sf_season_mean"


def bucket_width_us(season_us: int) -> int:
    """
    Width of one bucket of the season: one hour, or ``season / 24`` below a day.

    Examples
    --------
    >>> from sensorframe.drift.seasonal import bucket_width_us
    >>> bucket_width_us(86_400_000_000) == 3_600_000_000, bucket_width_us(7_200_000_000)
    (True, 300000000)
    """
    return min(_HOUR_US, math.ceil(season_us / 24))


def _bucket(season_us: int) -> pl.Expr:
    micros = pl.col(TIME).dt.epoch("us")
    return ((micros % season_us) // bucket_width_us(season_us)).cast(pl.Int64).alias(_BUCKET)


def _finite_value() -> pl.Expr:
    value = pl.col(VALUE).cast(pl.Float64)
    return pl.when(value.is_finite()).then(value)


def fit_season(reference: pl.LazyFrame, season_us: int) -> pl.DataFrame:
    """
    Each sensor's reference mean per bucket, as ``sensor_id`` and a list column.

    The list has one entry per bucket (``ceil(season / width)``); a bucket without
    finite readings holds the sensor's mean (null for a sensor without any).
    """
    n_buckets = math.ceil(season_us / bucket_width_us(season_us))
    per_bucket = (
        reference.select(SENSOR, _bucket(season_us), _finite_value().alias(VALUE))
        .group_by(SENSOR, _BUCKET)
        .agg(pl.col(VALUE).sum().alias("sum"), pl.col(VALUE).count().alias("count"))
        .collect()
    )
    sensors = per_bucket[SENSOR].unique().sort()
    index = pl.DataFrame({SENSOR: sensors}).with_row_index("__row")
    rows = per_bucket.join(index, on=SENSOR, how="left")["__row"].to_numpy().astype(np.int64)
    sums = np.zeros((len(sensors), n_buckets))
    counts = np.zeros((len(sensors), n_buckets))
    buckets = per_bucket[_BUCKET].to_numpy()
    np.add.at(sums, (rows, buckets), per_bucket["sum"].to_numpy())
    np.add.at(counts, (rows, buckets), per_bucket["count"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        overall = sums.sum(axis=1) / counts.sum(axis=1)
        means = np.where(counts > 0, sums / counts, overall[:, None])
    flat = pl.Series(means.ravel()).fill_nan(None)
    lists = pl.DataFrame({"v": flat, "i": np.repeat(np.arange(len(sensors)), n_buckets)})
    column = lists.group_by("i", maintain_order=True).agg("v")["v"]
    return pl.DataFrame({SENSOR: sensors, SEASON_COLUMN: column})


def remove_season(frame: pl.LazyFrame, profile: pl.DataFrame, season_us: int) -> pl.LazyFrame:
    """
    Subtract each reading's bucket mean of ``profile`` (from :func:`fit_season`).

    Sensors without a profile, or without finite reference readings, are left as they
    are (they cannot be compared with the reference anyway).
    """
    long = (
        profile.select(SENSOR, SEASON_COLUMN)
        .with_columns(pl.int_ranges(pl.col(SEASON_COLUMN).list.len()).alias(_BUCKET))
        .explode(SEASON_COLUMN, _BUCKET)
        .rename({SEASON_COLUMN: _MEAN})
        .with_columns(pl.col(_BUCKET).cast(pl.Int64))
    )
    return (
        frame.with_columns(_bucket(season_us))
        .join(long.lazy(), on=[SENSOR, _BUCKET], how="left", maintain_order="left")
        .with_columns((pl.col(VALUE).cast(pl.Float64) - pl.col(_MEAN).fill_null(0.0)).alias(VALUE))
        .drop(_BUCKET, _MEAN)
    )
