"""
Drift over batches of whole sensors: per-batch reports combined into one.

Everything in a drift report is per sensor except the Benjamini-Hochberg adjustments,
which rank the p-values of all sensors together: one for covariate shift
(``drift_pvalue``), and with a target one for prior shift (``target_pvalue``) and one
for concept drift (``concept_pvalue``). A drift type is detected where its adjusted
p-value is below ``alpha`` and its own level reaches LOW: the severity without a
target, ``covariate_severity``, ``prior_severity`` and ``concept_severity`` with one
(``severity`` is then the largest of the three). :func:`combine_reports` therefore
concatenates reports computed on disjoint sets of sensors and redoes each adjustment,
and with them what depends on them (``drift_pvalue_adjusted``, ``drift_types``,
``drift_detected`` and the recommendations), over all of them: the result equals the
report of one run over every sensor. The batched ``fit`` and ``detect`` of
:class:`~sensorframe.drift.DriftDetector` and Spark's driver use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from sensorframe._batches import Batches
from sensorframe.drift import words
from sensorframe.drift.compare import ASSESSED
from sensorframe.drift.config import DriftSeverity
from sensorframe.drift.report import DriftReport
from sensorframe.drift.statistics import benjamini_hochberg
from sensorframe.errors import ConfigError, InvalidParameterError, InvalidTypeError
from sensorframe.frame import CANONICAL_SCHEMA, SENSOR

if TYPE_CHECKING:
    from sensorframe.drift.detector import DriftDetector

__all__ = ["combine_reports", "detect_in_batches", "fit_in_batches"]

_COVARIATE = "covariate_shift"


def combine_reports(
    reports: Sequence[DriftReport], *, order: Sequence[str] | pl.Series | None = None
) -> DriftReport:
    """
    Combine drift reports of disjoint sets of sensors into the report of them all.

    Parameters
    ----------
    reports
        Reports made with the same config, each on its own sensors (batches of a
        fleet, Spark partitions); also reports rebuilt from their tables,
        ``DriftReport(table=..., config=...)``.
    order
        Sensor ids whose rows come first, in this order (the reference's sensors, as
        one detection over them all orders them); the other rows follow.

    Returns
    -------
    DriftReport
        The rows of every report (by default compared sensors first, then those
        without a reference), with the Benjamini-Hochberg adjustments redone across
        all sensors.

    Raises
    ------
    InvalidParameterError
        For no report, or a sensor in more than one report.
    ConfigError
        For reports made with different configs or targets.

    Examples
    --------
    >>> data = sf.datasets.synthetic(n_sensors=4, n_points=800, faults=()).frame
    >>> ref, cur = data.filter(pl.col("timestamp") < pl.col("timestamp").median()), data
    >>> halves = [data.filter(pl.col("sensor_id").is_in(ids)) for ids in (["S000", "S001"],
    ...                                                                ["S002", "S003"])]
    >>> parts = [sf.drift.detect_drift(ref.filter(pl.col("sensor_id").is_in(h["sensor_id"])), h)
    ...          for h in halves]
    >>> whole = sf.drift.detect_drift(ref, cur)
    >>> from sensorframe.drift.combine import combine_reports
    >>> combine_reports(parts).table.equals(whole.table)
    True
    """
    if isinstance(reports, DriftReport) or not isinstance(reports, Sequence):
        msg = f"`reports` must be a sequence of DriftReport, got {type(reports).__name__}"
        raise InvalidTypeError(msg)
    if not reports:
        msg = "`reports` is empty: nothing to combine"
        raise InvalidParameterError(msg)
    for report in reports:
        if not isinstance(report, DriftReport):
            msg = f"`reports` must hold DriftReport objects, got {type(report).__name__}"
            raise InvalidTypeError(msg)
    config = reports[0].config
    if any(_settings(r.config) != _settings(config) for r in reports[1:]):
        msg = "the reports were made with different configs: combine reports of one config"
        raise ConfigError(msg)
    target = reports[0].target
    targets = sorted({str(r.target) for r in reports})
    if len(targets) > 1:
        msg = f"the reports were made with different targets {targets}: combine one target's"
        raise ConfigError(msg)
    table = pl.concat([r.table for r in reports], how="diagonal_relaxed")
    repeated = table.filter(pl.col(SENSOR).is_duplicated())[SENSOR].unique().sort()
    if repeated.len():
        msg = f"sensor(s) {repeated.to_list()[:5]} appear in more than one report"
        raise InvalidParameterError(msg)
    table = table.sort(pl.col("status") == "no_reference", maintain_order=True)
    if order is not None:
        known = pl.Series(SENSOR, order, dtype=pl.String)
        position = pl.DataFrame({SENSOR: known, "__sf_at": np.arange(known.len())})
        table = (
            table.join(position, on=SENSOR, how="left", maintain_order="left")
            .sort("__sf_at", nulls_last=True, maintain_order=True)
            .drop("__sf_at")
        )
    return DriftReport(table=_readjusted(table, config, target), config=config, target=target)


def fit_in_batches(
    detector: DriftDetector, reference: Any, *, target: str | None, batches: dict[str, Any]
) -> pl.DataFrame:
    """Return the reference profile of ``reference``, fitted a batch of sensors at a time."""
    cls = type(detector)
    profiles = [
        cls(detector.config).fit(batch, target=target).profile_
        for batch in Batches(reference, label="drift reference", **batches)
    ]
    return pl.concat(profiles, how="vertical_relaxed") if profiles else _empty_profile(detector)


def detect_in_batches(
    detector: DriftDetector, current: Any, *, batches: dict[str, Any]
) -> DriftReport:
    """Return ``detector.detect(current)``, computed a batch of sensors at a time."""
    profile = detector.profile_
    target = detector.target_
    schema = (
        pl.Schema(CANONICAL_SCHEMA)
        if target is None
        else pl.Schema({**CANONICAL_SCHEMA, target: pl.Float64()})
    )
    known = profile[SENSOR]
    reports: list[DriftReport] = []
    seen: list[str] = []
    for batch in Batches(current, label="drift", **batches):
        ids = batch[SENSOR].unique()
        seen.extend(ids.to_list())
        reports.append(detector._part(profile, ids).detect(batch))
    absent = known.filter(~known.is_in(pl.Series(seen, dtype=pl.String).implode()))
    if absent.len():  # reference sensors without a current reading: rows of their own
        reports.append(detector._part(profile, absent).detect(pl.DataFrame(schema=schema)))
    if not reports:
        return detector.detect(pl.DataFrame(schema=schema))
    return combine_reports(reports, order=known)


def _readjusted(table: pl.DataFrame, config: Any, target: str | None) -> pl.DataFrame:
    assessed = table["status"].is_in(list(ASSESSED)).to_numpy()
    covariate = "severity" if target is None else "covariate_severity"
    adjusted, flags = _verdict(table, "drift_pvalue", covariate, config, among=assessed)
    types = {_COVARIATE: flags}
    if target is not None:
        types["prior_shift"] = _verdict(table, "target_pvalue", "prior_severity", config)[1]
        types["concept_drift"] = _verdict(table, "concept_pvalue", "concept_severity", config)[1]
    named = pl.concat_list(
        pl.when(pl.lit(pl.Series(flag & assessed))).then(pl.lit(name))
        for name, flag in types.items()
    ).list.drop_nulls()
    return (
        table.with_columns(
            drift_pvalue_adjusted=pl.Series(adjusted).fill_nan(None), drift_types=named
        )
        .with_columns(
            drift_detected=pl.when(pl.lit(pl.Series(assessed))).then(
                pl.col("drift_types").list.len() > 0
            )
        )
        .with_columns(words.recommendations(config))
    )


def _verdict(
    table: pl.DataFrame,
    pvalue: str,
    severity: str,
    config: Any,
    *,
    among: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """
    One drift type over every sensor: adjusted p-values and where it is detected.

    ``among``: the sensors whose p-values are adjusted (by default, every defined one).
    """
    p = table[pvalue].fill_null(np.nan).to_numpy()
    if among is not None:
        p = np.where(among, p, np.nan)
    adjusted = benjamini_hochberg(p) if config.correction == "bh" else p
    moved = (table[severity].to_physical() >= DriftSeverity.LOW.rank).fill_null(value=False)
    return adjusted, (np.nan_to_num(adjusted, nan=1.0) < config.alpha) & moved.to_numpy()


def _settings(config: Any) -> str:
    return repr(config)


def _empty_profile(detector: DriftDetector) -> pl.DataFrame:
    return type(detector)(detector.config).fit(pl.DataFrame(schema=CANONICAL_SCHEMA)).profile_
