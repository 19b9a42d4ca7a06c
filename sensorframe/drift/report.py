"""The drift report: one table row per sensor, and one record per sensor on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from sensorframe._report import SensorReport, counts
from sensorframe.drift.config import DriftConfig, DriftSeverity
from sensorframe.drift.statistics import QUANTILES
from sensorframe.frame import SENSOR

__all__ = ["DriftReport", "SensorDrift"]

TESTS = {
    "ks_test": ("ks_statistic", "ks_pvalue"),
    "mann_whitney": ("mw_statistic", "mw_pvalue"),
    "chi_square": ("chi2_statistic", "chi2_pvalue"),
    "psi_test": ("psi", "psi_pvalue"),
    "cramer_von_mises": ("cvm_statistic", "cvm_pvalue"),
    "anderson_darling": ("ad_statistic", "ad_pvalue"),
    "welch_t": ("welch_statistic", "welch_pvalue"),
    "brown_forsythe": ("brown_forsythe_statistic", "brown_forsythe_pvalue"),
}
"""
``SensorDrift.statistical_tests``: test name -> (statistic, p-value) table columns.

Each p-value column has its independent-readings twin ``<p-value>_raw``.
"""
QUANTILE_SHIFTS = {f"q{round(q * 100):02d}": f"q{round(q * 100):02d}_shift" for q in QUANTILES}
"""``SensorDrift.metrics["quantile_shifts"]``: quantile name -> table column."""
_EFFECTS = (
    "js_divergence",
    "js_distance",
    "hellinger",
    "wasserstein",
    "wasserstein_std",
    "mean_shift",
    "std_ratio",
)
_SIZES = ("n_eff_reference", "n_eff_current")
_RATES = ("missing_rate_change", "drift_pvalue", "drift_pvalue_adjusted")
FLOAT_COLUMNS = (
    *(column for stat, pvalue in TESTS.values() for column in (stat, pvalue, f"{pvalue}_raw")),
    *_EFFECTS,
    *QUANTILE_SHIFTS.values(),
    *_SIZES,
    *_RATES,
    "drift_score",
)
"""The table's Float64 columns of every report, in table order (null for not assessed)."""
_METRICS = ("n_ref", "n_cur", *_SIZES, "psi", *_EFFECTS, *_RATES)


@dataclass(frozen=True, kw_only=True, slots=True)
class SensorDrift:
    """
    Drift of one sensor: the tests, the effect sizes and the verdict.

    ``severity`` and ``drift_detected`` are ``None`` when ``status`` says the sensor
    could not be assessed (``"insufficient_data"``, ``"all_missing"``,
    ``"no_reference"``).
    """

    sensor_id: str
    status: str
    severity: DriftSeverity | None
    drift_detected: bool | None
    drift_score: float | None
    drift_types: list[str]
    recommendations: list[str]
    change: str | None = None
    """What changed, in words (``"mean +0.8 sd since 2026-03-02"``), or None."""
    statistical_tests: dict[str, dict[str, float | None]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        if self.severity is None:
            return f"{type(self).__name__}({self.sensor_id!r}, {self.status})"
        verdict = "drifted" if self.drift_detected else "not drifted"
        return (
            f"{type(self).__name__}({self.sensor_id!r}, {self.severity}, {verdict}, "
            f"score {self.drift_score:.3g})"
        )


def _test(row: dict[str, Any], stat: str, pvalue: str) -> dict[str, float | None]:
    raw = row.get(f"{pvalue}_raw", row[pvalue])
    return {"statistic": row[stat], "p_value": row[pvalue], "p_value_raw": raw}


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DriftReport(SensorReport[SensorDrift]):
    """
    Result of :func:`sensorframe.drift.detect_drift` or ``DriftDetector.detect``.

    ``report["P-1"]`` is one sensor's :class:`SensorDrift` (``UnknownSensorError`` for
    a sensor not in the report), ``iter(report)`` yields them in table order and
    ``len(report)`` counts the sensors.

    Attributes
    ----------
    table
        One row per sensor: sample sizes, test statistics and p-values, effect sizes,
        ``drift_score``, ``severity`` (a Polars ``Enum`` in order of severity,
        ``DriftSeverity.dtype()``, so sorting by it puts the worst sensors last),
        ``drift_detected``, ``drift_types``, ``change`` (what changed, in words),
        ``recommendations`` and ``status``.
    config
        The configuration used, thresholds included.
    target
        The target column, if prior and concept drift were assessed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = pl.datetime_range(pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 2), "1m", eager=True)
    >>> ref = sf.scan(rng.normal(size=500), timestamps=t[:500], sensor_id="P-1")
    >>> cur = sf.scan(rng.normal(2, 1, size=500), timestamps=t[:500], sensor_id="P-1")
    >>> report = sf.drift.detect_drift(ref, cur)
    >>> report["P-1"].severity, report.drifted
    (<DriftSeverity.CRITICAL: 'critical'>, ['P-1'])
    >>> report, [item.sensor_id for item in report]
    (DriftReport(1 sensor: 1 critical; 1 drifted), ['P-1'])
    >>> report["P-1"]
    SensorDrift('P-1', critical, drifted, score 14.5)
    """

    table: pl.DataFrame
    config: DriftConfig
    target: str | None = None

    _kind: ClassVar[str] = "drift report"

    @property
    def drifted(self) -> list[str]:
        """Ids of the sensors where drift was detected."""
        return self.table.filter(pl.col("drift_detected"))[SENSOR].to_list()

    def _summary(self) -> str:
        t = self.table
        grades = [counts(t["severity"]), counts(t.filter(pl.col("severity").is_null())["status"])]
        text = ", ".join(g for g in grades if g)
        return f"{text}; {len(self.drifted)} drifted" if text else ""

    def _item(self, row: dict[str, Any]) -> SensorDrift:
        tests = {name: _test(row, *columns) for name, columns in TESTS.items()}
        metrics: dict[str, Any] = {name: row[name] for name in _METRICS}
        metrics["quantile_shifts"] = {q: row[column] for q, column in QUANTILE_SHIFTS.items()}
        if self.target is not None:
            tests["target_ks_test"] = _test(row, "target_ks_statistic", "target_ks_pvalue")
            tests["correlation_fisher_z"] = _test(row, "correlation_z", "concept_pvalue")
            metrics.update(
                {
                    name: row[name]
                    for name in (
                        "target_psi",
                        "target_mean_shift",
                        "correlation_ref",
                        "correlation_cur",
                    )
                }
            )
        severity = row["severity"]
        return SensorDrift(
            sensor_id=row[SENSOR],
            status=row["status"],
            severity=None if severity is None else DriftSeverity(severity),
            drift_detected=row["drift_detected"],
            drift_score=row["drift_score"],
            drift_types=list(row["drift_types"] or []),
            recommendations=list(row["recommendations"] or []),
            change=row["change"],
            statistical_tests=tests,
            metrics=metrics,
        )
