"""DriftDetector (fit a reference profile once, detect many times) and detect_drift."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Self

import numpy as np
import polars as pl
from scipy import special

from sensorframe._utils import checked_config
from sensorframe.drift.config import DriftConfig, DriftSeverity
from sensorframe.drift.profile import (
    Groups,
    Side,
    collect_groups,
    side_from_groups,
    side_from_profile,
    side_to_columns,
)
from sensorframe.drift.report import FLOAT_COLUMNS, QUANTILE_SHIFTS, DriftReport
from sensorframe.drift.statistics import (
    benjamini_hochberg,
    bin_metrics,
    ks_pvalue,
    merge_stats,
    mw_pvalue,
)
from sensorframe.errors import (
    ConfigError,
    InvalidTypeError,
    NotFittedError,
    SensorFrameError,
    SensorSchemaError,
    SourceError,
)
from sensorframe.frame import SENSOR

__all__ = ["DriftDetector", "detect_drift"]

_META_KEY = "sensorframe.drift.config"
_STORED_NAMES = {"min_samples": "min_readings"}
"""Config fields renamed since a detector file was written: the file is read as is."""


def _one_line(exc: BaseException) -> str:
    """Return the first line of an exception's message, with its type unless it is ours."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if isinstance(exc, SensorFrameError) else f"{type(exc).__name__}: {text}"


def _level(values: np.ndarray, ladder: tuple[float, ...]) -> np.ndarray:
    x = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=np.inf)
    return np.searchsorted(np.asarray(ladder), x, side="right")


def _scaled(diff: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``diff / scale``, where a zero scale gives 0 for no difference, else ±inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = diff / scale
    zero = scale == 0
    return np.where(zero & (diff == 0), 0.0, np.where(zero, np.sign(diff) * np.inf, out))


def _compare(ref: Side, cur: Side, rows: np.ndarray, config: DriftConfig) -> dict[str, np.ndarray]:
    """All two-sample statistics and effect sizes of one column; NaN outside ``rows``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _compare_unguarded(ref, cur, rows, config)


def _compare_unguarded(
    ref: Side, cur: Side, rows: np.ndarray, config: DriftConfig
) -> dict[str, np.ndarray]:
    assert ref.edges is not None
    assert ref.le_edges is not None
    assert ref.quantiles is not None
    n, m = ref.n, cur.n
    ms = merge_stats(ref.samples, cur.samples, ref.edges, rows, batch_cells=config.batch_cells)
    u1, mw_p = mw_pvalue(ms.rank_sum_ref, ms.tie_term, n, m)
    ks_p = ks_pvalue(ms.ks_d, n, m, method=config.ks_method)
    ref_counts = np.diff(np.column_stack([np.zeros_like(n), ref.le_edges, n]), axis=1)
    cur_counts = np.diff(np.column_stack([np.zeros_like(m), ms.cur_le_edges, m]), axis=1)
    bins = bin_metrics(ref_counts, cur_counts, epsilon=config.epsilon)
    out: dict[str, np.ndarray] = {
        "ks_statistic": ms.ks_d,
        "ks_pvalue": ks_p,
        "mw_statistic": u1,
        "mw_pvalue": mw_p,
        **{k: v for k, v in bins.items() if k not in ("bins", "chi2_dof")},
    }
    std_r = ref.std.copy()
    lo, hi = ref.samples.first_last()
    std_r[lo == hi] = 0.0
    std_c = cur.std.copy()
    std_c[ms.cur_constant] = 0.0
    out["mean_shift"] = np.abs(_scaled(cur.mean - ref.mean, std_r))
    out["std_ratio"] = np.where(std_r == 0, np.where(std_c == 0, 1.0, np.inf), std_c / std_r)
    for j, name in enumerate(QUANTILE_SHIFTS.values()):
        out[name] = _scaled(ms.cur_quantiles[:, j] - ref.quantiles[:, j], std_r)
    # PSI and JS minus their expectation under no drift, so small windows do not cry wolf
    noise = np.maximum(bins["bins"] - 1, 0) * (1 / np.maximum(n, 1) + 1 / np.maximum(m, 1))
    effects = {
        "psi": (bins["psi"] - noise, config.psi_thresholds),
        "js": (bins["js_divergence"] - noise / (8 * np.log(2)), config.js_thresholds),
        "mean_shift": (out["mean_shift"], config.mean_shift_thresholds),
        "log_std_ratio": (np.abs(np.log(out["std_ratio"])), config.log_std_ratio_thresholds),
    }
    sizes = {
        k: np.nan_to_num(np.maximum(v, 0), nan=0.0, posinf=np.inf) for k, (v, _) in effects.items()
    }
    levels = np.maximum.reduce([_level(sizes[k], ladder) for k, (_, ladder) in effects.items()])
    # drift_score: the largest effect in units of its HIGH threshold
    score = np.maximum.reduce([sizes[k] / ladder[2] for k, (_, ladder) in effects.items()])
    pvals = np.column_stack([ks_p, mw_p, bins["chi2_pvalue"]])
    p_any = np.where(np.isnan(pvals), np.inf, pvals).min(axis=1)
    out["drift_pvalue"] = np.where(np.isinf(p_any), np.nan, np.minimum(3 * p_any, 1.0))
    mask = np.zeros(len(n), dtype=bool)
    mask[rows] = True
    for key in out:
        out[key] = np.where(mask, out[key], np.nan)
    out["level"] = np.where(mask, levels, 0)
    out["drift_score"] = np.where(mask, score, np.nan)
    return out


def _adjust(p: np.ndarray, config: DriftConfig) -> np.ndarray:
    return benjamini_hochberg(p) if config.correction == "bh" else p


def _status(ref: Side, cur: Side, known: np.ndarray, config: DriftConfig) -> np.ndarray:
    lo, hi = ref.samples.first_last()
    status = np.full(len(ref.n), "ok", dtype=object)
    status[lo == hi] = "constant"
    low = (ref.n < config.min_readings) | (cur.n < config.min_readings)
    status[low] = "insufficient_data"
    status[(ref.n == 0) | (cur.n == 0)] = "all_missing"
    status[~known] = "no_reference"
    return status


class DriftDetector:
    """
    Drift of many sensors against a fitted reference profile.

    ``fit`` keeps, per sensor, the sorted finite reference readings, bin edges at
    reference quantiles and the readings below each edge, moments, quantiles and the
    missing count; ``detect`` then reads and sorts only the current window and merges
    it with the sorted reference.

    Parameters
    ----------
    config
        Thresholds and tests; ``DriftConfig()`` when ``None``.

    Attributes
    ----------
    config_
        The validated configuration used by ``fit``.
    target_
        The target column given to ``fit``, or ``None``.
    sensors_
        Sensor ids of the reference, sorted.
    profile_
        The reference profile as a ``pl.DataFrame``, one row per sensor (list columns
        hold the sorted readings, bin edges, counts and quantiles).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> t = pl.datetime_range(pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 2), "1m", eager=True)
    >>> ref = sf.scan(rng.normal(size=300), timestamps=t[:300], sensor_id="P-1")
    >>> det = sf.drift.DriftDetector().fit(ref)
    >>> cur = sf.scan(rng.normal(size=300), timestamps=t[:300], sensor_id="P-1")
    >>> det.detect(cur)["P-1"].drift_detected
    False
    """

    def __init__(self, config: DriftConfig | None = None) -> None:
        self.config = config

    def _check(self) -> None:
        if not hasattr(self, "_ref"):
            msg = "this DriftDetector is not fitted yet; call `fit` first"
            raise NotFittedError(msg)

    def fit(self, reference: Any, *, target: str | None = None) -> Self:
        """
        Profile the reference window of every sensor.

        Parameters
        ----------
        reference
            Anything :func:`sensorframe.scan` accepts.
        target
            Optional numeric column; then ``detect`` also reports prior shift (target
            distribution) and concept drift (value-target correlation).

        Returns
        -------
        DriftDetector
            ``self``, fitted.
        """
        config = checked_config(self.config, DriftConfig)
        groups = collect_groups(reference, target=target, sensors=None)
        self.config_ = config
        self.target_ = target
        self.sensors_ = groups.meta[SENSOR]
        cells = config.batch_cells
        self._ref = side_from_groups(groups, target=False, n_bins=config.n_bins, batch_cells=cells)
        self._tref: Side | None = None
        if target is not None:
            self._tref = side_from_groups(
                groups, target=True, n_bins=config.n_bins, batch_cells=cells
            )
            self._corr = groups.meta["correlation"].cast(pl.Float64).fill_null(np.nan).to_numpy()
            self._pairs = groups.meta["n_pairs"].to_numpy().astype(np.int64)
        return self

    @property
    def profile_(self) -> pl.DataFrame:
        """The reference profile, one row per sensor (see the class docstring)."""
        self._check()
        cols: dict[str, pl.Series] = {
            SENSOR: self.sensors_,
            "n_rows": pl.Series(self._ref.n_rows),
            **side_to_columns(self._ref, ""),
        }
        if self._tref is not None:
            cols.update(side_to_columns(self._tref, "t_"))
            cols["correlation"] = pl.Series(self._corr)
            cols["n_pairs"] = pl.Series(self._pairs)
            cols["target_name"] = pl.Series([self.target_] * len(self.sensors_), dtype=pl.String)
        return pl.DataFrame({k: v.alias(k) for k, v in cols.items()})

    @classmethod
    def from_profile(cls, profile: pl.DataFrame, config: DriftConfig | None = None) -> Self:
        """
        Rebuild a fitted detector from ``profile_`` (e.g. read back from a Delta table).

        Raises
        ------
        ConfigError
            If ``config.n_bins`` does not match the bins stored in the profile.
        """
        if SENSOR not in profile.columns or "bin_edges" not in profile.columns:
            msg = "not a drift profile: needs `sensor_id` and `bin_edges` columns"
            raise SensorSchemaError(msg)
        if not profile.height:  # a reference without sensors: no bins to compare
            config = config if config is not None else DriftConfig()
            width = config.n_bins
        else:
            width = int(profile["bin_edges"].list.len().max()) + 1  # type: ignore[arg-type]
            config = config if config is not None else DriftConfig(n_bins=width)
        if config.n_bins != width:
            msg = f"`n_bins` is {config.n_bins} but the profile was fitted with {width}"
            raise ConfigError(msg)
        det = cls(config)
        det.config_ = config
        det.sensors_ = profile[SENSOR]
        det._ref = side_from_profile(profile, prefix="", n_bins=width)
        det._tref = None
        det.target_ = None
        if "target_name" in profile.columns and profile.height:
            det.target_ = profile["target_name"][0]
            det._tref = side_from_profile(profile, prefix="t_", n_bins=width)
            det._corr = profile["correlation"].cast(pl.Float64).to_numpy()
            det._pairs = profile["n_pairs"].to_numpy().astype(np.int64)
        return det

    def save(self, path: str | Path) -> None:
        """Write the profile and the config to one Parquet file."""
        if not isinstance(path, str | os.PathLike):
            msg = f"`path` must be a file path, got {type(path).__name__}"
            raise InvalidTypeError(msg)
        meta = {_META_KEY: json.dumps(asdict(self.config_))}
        self.profile_.write_parquet(path, metadata=meta)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """
        Read a detector written by :meth:`save`.

        Raises
        ------
        SourceError
            If the file is missing, is not Parquet, or does not hold a saved detector
            (its config or profile columns are missing or malformed).
        InvalidTypeError
            If `path` is not a path.
        """
        if not isinstance(path, str | os.PathLike):
            msg = f"`path` must be a file path, got {type(path).__name__}"
            raise InvalidTypeError(msg)
        try:
            meta = pl.read_parquet_metadata(path)
            config = None
            if _META_KEY in meta:
                raw = json.loads(meta[_META_KEY])
                if not isinstance(raw, dict):
                    msg = f"the stored config is a {type(raw).__name__}, not an object"
                    raise TypeError(msg)
                kwargs: dict[str, Any] = {
                    _STORED_NAMES.get(str(k), str(k)): tuple(v) if isinstance(v, list) else v
                    for k, v in raw.items()
                }
                config = DriftConfig(**kwargs)
            return cls.from_profile(pl.read_parquet(path), config)
        except (
            OSError,
            TypeError,
            ValueError,  # also JSON errors and the library's own ConfigError ...
            KeyError,
            pl.exceptions.PolarsError,
            pl.exceptions.PanicException,
        ) as exc:
            msg = f"{os.fspath(path)} is not a readable saved DriftDetector: {_one_line(exc)}"
            raise SourceError(msg) from exc

    def detect(self, current: Any) -> DriftReport:
        """
        Compare a current window with the fitted reference, all sensors at once.

        Parameters
        ----------
        current
            Anything :func:`sensorframe.scan` accepts (with the target column if the
            detector was fitted with one).

        Returns
        -------
        DriftReport
            One row per sensor of the reference and of ``current``.
        """
        self._check()
        config = self.config_
        groups = collect_groups(current, target=self.target_, sensors=self.sensors_)
        n_known = len(self.sensors_)
        extra = groups.meta.slice(n_known).with_columns(
            n_cur=pl.Series(groups.values.lengths[n_known:], dtype=pl.Int64)
        )
        groups = Groups(
            groups.meta.slice(0, n_known),
            groups.values.take(np.arange(n_known)),
            None if groups.target is None else groups.target.take(np.arange(n_known)),
        )
        cur = side_from_groups(groups, target=False, n_bins=None, batch_cells=config.batch_cells)
        known = np.ones(n_known, dtype=bool)
        status = _status(self._ref, cur, known, config)
        rows = np.flatnonzero((status == "ok") | (status == "constant"))
        res = _compare(self._ref, cur, rows, config)
        res["drift_pvalue_adjusted"] = _adjust(res["drift_pvalue"], config)
        ref_rate = self._ref.n_missing / np.maximum(self._ref.n_rows, 1)
        cur_rate = cur.n_missing / np.maximum(cur.n_rows, 1)
        res["missing_rate_change"] = np.where(
            (self._ref.n_rows > 0) & (cur.n_rows > 0), cur_rate - ref_rate, np.nan
        )
        assessed = np.zeros(n_known, dtype=bool)
        assessed[rows] = True
        covariate = assessed & (res["drift_pvalue_adjusted"] < config.alpha) & (res["level"] >= 1)
        level = res["level"].copy()
        types: dict[str, np.ndarray] = {"covariate_shift": covariate}
        extra_cols: dict[str, np.ndarray] = {}
        if self._tref is not None:
            prior, concept, tlevel, extra_cols = self._target_drift(groups, config)
            types["prior_shift"] = prior
            types["concept_drift"] = concept
            level = np.maximum(level, tlevel)
        table = _table(
            self.sensors_, status, self._ref.n, cur.n, res, level, assessed, types, extra_cols
        )
        if extra.height:
            table = pl.concat(
                [
                    table,
                    pl.DataFrame(
                        {
                            SENSOR: extra[SENSOR],
                            "status": ["no_reference"] * extra.height,
                            "n_ref": [0] * extra.height,
                            "n_cur": extra["n_cur"],
                        }
                    ),
                ],
                how="diagonal_relaxed",
            )
        table = table.with_columns(
            pl.col("drift_types").fill_null(pl.lit([], pl.List(pl.String)))
        ).with_columns(_recommendations(config))
        return DriftReport(table=table, config=config, target=self.target_)

    def _target_drift(
        self, groups: Groups, config: DriftConfig
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        assert self._tref is not None
        tcur = side_from_groups(groups, target=True, n_bins=None, batch_cells=config.batch_cells)
        tstatus = _status(self._tref, tcur, np.ones(len(tcur.n), dtype=bool), config)
        trows = np.flatnonzero((tstatus == "ok") | (tstatus == "constant"))
        tres = _compare(self._tref, tcur, trows, config)
        tp = _adjust(tres["drift_pvalue"], config)
        prior = (tp < config.alpha) & (tres["level"] >= 1)
        r_ref = self._corr
        r_cur = groups.meta["correlation"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        n_ref = self._pairs.astype(np.float64)
        n_cur = groups.meta["n_pairs"].to_numpy().astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            zr = np.arctanh(np.clip(r_ref, -1 + 1e-12, 1 - 1e-12))
            zc = np.arctanh(np.clip(r_cur, -1 + 1e-12, 1 - 1e-12))
            se = np.sqrt(1 / (n_ref - 3) + 1 / (n_cur - 3))
            z = (zc - zr) / se
        ok = (n_ref > 3) & (n_cur > 3) & np.isfinite(z)
        z = np.where(ok, z, np.nan)
        cp = np.where(ok, 2 * special.ndtr(-np.abs(z)), np.nan)
        dr = np.abs(r_cur - r_ref)
        clevel = np.where(ok, _level(dr, config.correlation_thresholds), 0)
        concept = ok & (_adjust(cp, config) < config.alpha) & (clevel >= 1)
        cols = {
            "target_ks_statistic": tres["ks_statistic"],
            "target_ks_pvalue": tres["ks_pvalue"],
            "target_psi": tres["psi"],
            "target_mean_shift": tres["mean_shift"],
            "target_pvalue": tres["drift_pvalue"],
            "correlation_ref": r_ref,
            "correlation_cur": np.where(n_cur > 0, r_cur, np.nan),
            "correlation_z": z,
            "concept_pvalue": cp,
        }
        return prior, concept, np.maximum(tres["level"], clevel), cols


def _table(
    sensors: pl.Series,
    status: np.ndarray,
    n: np.ndarray,
    m: np.ndarray,
    res: dict[str, np.ndarray],
    level: np.ndarray,
    assessed: np.ndarray,
    types: dict[str, np.ndarray],
    extra: dict[str, np.ndarray],
) -> pl.DataFrame:
    detected = np.logical_or.reduce(list(types.values()))
    data: dict[str, Any] = {
        SENSOR: sensors,
        "status": pl.Series(status.astype(str), dtype=pl.String),
        "n_ref": pl.Series(n, dtype=pl.Int64),
        "n_cur": pl.Series(m, dtype=pl.Int64),
    }
    data.update({k: pl.Series(res[k], dtype=pl.Float64).fill_nan(None) for k in FLOAT_COLUMNS})
    data.update({k: pl.Series(v, dtype=pl.Float64).fill_nan(None) for k, v in extra.items()})
    assessed_ = pl.lit(pl.Series(assessed))
    level_ = pl.lit(pl.Series(np.clip(level, 0, 4).astype(np.int64)))
    return pl.DataFrame(data).with_columns(
        severity=pl.when(assessed_).then(
            level_.replace_strict(
                [s.rank for s in DriftSeverity],
                [s.value for s in DriftSeverity],
                return_dtype=DriftSeverity.dtype(),
            )
        ),
        drift_detected=pl.when(assessed_).then(pl.lit(pl.Series(detected))),
        drift_types=pl.concat_list(
            pl.when(pl.lit(pl.Series(flag & assessed))).then(pl.lit(name))
            for name, flag in types.items()
        ).list.drop_nulls(),
    )


def _recommendations(config: DriftConfig) -> pl.Expr:
    status = pl.col("status")
    sev = pl.col("severity")
    S = DriftSeverity
    det = pl.col("drift_detected").fill_null(value=False)
    types = pl.col("drift_types")
    rules = [
        (
            status == "insufficient_data",
            f"collect at least {config.min_readings} finite readings in both windows",
        ),
        (status == "all_missing", "no finite readings in one window: check the data feed"),
        (status == "no_reference", "sensor has no reference profile: refit the detector"),
        (status == "constant", "reference readings are constant: check the sensor"),
        (det & (sev == S.CRITICAL), "retrain or recalibrate: the distribution changed a lot"),
        (det & (sev == S.HIGH), "investigate the sensor and plan retraining"),
        (det & sev.is_in([S.LOW, S.MODERATE]), "monitor closely: small but significant drift"),
        (types.list.contains("concept_drift"), "the value-target relation changed: retrain"),
        (pl.col("missing_rate_change") > 0.05, "missing-value rate rose: check the data feed"),
    ]
    return (
        pl.concat_list(
            pl.when(cond.fill_null(value=False)).then(pl.lit(text)) for cond, text in rules
        )
        .list.drop_nulls()
        .alias("recommendations")
    )


def detect_drift(
    reference: Any, current: Any, config: DriftConfig | None = None, *, target: str | None = None
) -> DriftReport:
    """
    Detect drift between a reference and a current window, all sensors at once.

    Per sensor: KS, Mann-Whitney U, chi-square on reference-quantile bins, PSI (and its
    p-value), Jensen-Shannon, mean shift, std ratio, quantile shifts and the change in
    missing rate. ``severity`` comes from the effect sizes (see :class:`DriftConfig`);
    ``drift_detected`` also needs ``3 * min(p_KS, p_MW, p_chi2)`` (Bonferroni over the
    three tests) below ``alpha`` after Benjamini-Hochberg across the sensors.

    Parameters
    ----------
    reference, current
        Anything :func:`sensorframe.scan` accepts.
    config
        Thresholds and tests; ``DriftConfig()`` when ``None``.
    target
        Optional numeric column present in both windows: adds prior shift and concept
        drift (Fisher's z on the value-target correlation).

    Returns
    -------
    DriftReport
        ``report.table`` (one row per sensor), ``report["P-1"]`` (one record).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> t = pl.datetime_range(pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 2), "1m", eager=True)
    >>> ref = sf.scan(rng.normal(size=400), timestamps=t[:400], sensor_id="P-1")
    >>> cur = sf.scan(rng.normal(size=400), timestamps=t[:400], sensor_id="P-1")
    >>> report = sf.drift.detect_drift(ref, cur)
    >>> report.table.select("sensor_id", "status", "severity", "drift_detected")
    shape: (1, 4)
    ┌───────────┬────────┬──────────┬────────────────┐
    │ sensor_id ┆ status ┆ severity ┆ drift_detected │
    │ ---       ┆ ---    ┆ ---      ┆ ---            │
    │ str       ┆ str    ┆ enum     ┆ bool           │
    ╞═══════════╪════════╪══════════╪════════════════╡
    │ P-1       ┆ ok     ┆ none     ┆ false          │
    └───────────┴────────┴──────────┴────────────────┘
    """
    return DriftDetector(config).fit(reference, target=target).detect(current)
