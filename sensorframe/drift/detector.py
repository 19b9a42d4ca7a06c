"""DriftDetector (fit a reference profile once, detect many times) and detect_drift."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import polars as pl
from scipy import special

from sensorframe._batches import wants_batches
from sensorframe._times import duration_text
from sensorframe._utils import checked_config
from sensorframe.drift import words
from sensorframe.drift.combine import detect_in_batches, fit_in_batches
from sensorframe.drift.compare import ASSESSED, COMPARED, compare, level, status
from sensorframe.drift.config import DriftConfig, DriftSeverity, season_us
from sensorframe.drift.profile import (
    Groups,
    Side,
    collect_groups,
    read_window,
    side_from_groups,
    side_from_profile,
    side_to_columns,
)
from sensorframe.drift.report import FLOAT_COLUMNS, DriftReport
from sensorframe.drift.seasonal import SEASON_COLUMN, fit_season, remove_season
from sensorframe.drift.statistics import benjamini_hochberg
from sensorframe.errors import (
    ConfigError,
    InvalidTypeError,
    NotFittedError,
    SensorFrameError,
    SensorSchemaError,
    SourceError,
)
from sensorframe.frame import SENSOR

if TYPE_CHECKING:
    from sensorframe.drift.timeline import Every

__all__ = ["DriftDetector", "detect_drift"]

_META_KEY = "sensorframe.drift.config"
_SEASON_US = "season_us"
"""Profile column: the season (microseconds) the profile was fitted with."""
_STORED_NAMES = {"min_samples": "min_readings"}
"""Config fields renamed since a detector file was written: the file is read as is."""


def _one_line(exc: BaseException) -> str:
    """Return the first line of an exception's message, with its type unless it is ours."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if isinstance(exc, SensorFrameError) else f"{type(exc).__name__}: {text}"


def _adjust(p: np.ndarray, config: DriftConfig) -> np.ndarray:
    return benjamini_hochberg(p) if config.correction == "bh" else p


class DriftDetector:
    """
    Drift of many sensors against a fitted reference profile.

    ``fit`` keeps, per sensor, the sorted finite reference readings, bin edges at
    reference quantiles (point masses in bins of their own) and the readings below each
    edge, moments, quantiles, the missing count, the lag-1 autocorrelation of the
    readings in time order (``autocorrelation``, for the effective sizes) and, with a
    ``season``, the mean per bucket of the season (``season_means``); ``detect`` then
    reads and sorts only the current window and merges it with the sorted reference.

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
        hold the sorted readings, bin edges, counts, quantiles and season means).

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

    def fit(
        self,
        reference: Any,
        *,
        target: str | None = None,
        batch_rows: int | None = None,
        memory_limit: str | int | None = None,
    ) -> Self:
        """
        Profile the reference window of every sensor.

        Parameters
        ----------
        reference
            Anything :func:`sensorframe.scan` accepts.
        target
            Optional numeric column; then ``detect`` also reports prior shift (target
            distribution) and concept drift (value-target correlation).
        batch_rows, memory_limit
            Fit a batch of whole sensors at a time (see :mod:`sensorframe._batches`);
            by default a source larger than the default budget is batched. The
            profile is the same.

        Returns
        -------
        DriftDetector
            ``self``, fitted.
        """
        config = checked_config(self.config, DriftConfig)
        if wants_batches(reference, batch_rows=batch_rows, memory_limit=memory_limit):
            budget = {"batch_rows": batch_rows, "memory_limit": memory_limit}
            profile = fit_in_batches(self, reference, target=target, batches=budget)
            fitted = type(self).from_profile(profile, config)
            self.__dict__.update(fitted.__dict__)
            return self
        lf = read_window(reference, target=target)
        season = season_us(config.season)
        self._season: pl.DataFrame | None = None
        if season is not None:
            self._season = fit_season(lf, season)
            lf = remove_season(lf, self._season, season)
        groups = collect_groups(lf, target=target, sensors=None)
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
        profile = pl.DataFrame({k: v.alias(k) for k, v in cols.items()})
        if self._season is None:
            return profile
        season = season_us(self.config_.season)
        seasonal = profile.join(self._season, on=SENSOR, how="left", maintain_order="left")
        return seasonal.with_columns(pl.lit(season, dtype=pl.Int64).alias(_SEASON_US))

    @classmethod
    def from_profile(cls, profile: pl.DataFrame, config: DriftConfig | None = None) -> Self:
        """
        Rebuild a fitted detector from ``profile_`` (e.g. read back from a Delta table).

        Without ``config`` the detector gets ``DriftConfig()`` with the profile's bins and
        season.

        Raises
        ------
        ConfigError
            If ``config.n_bins`` or ``config.season`` does not match the profile, or
            its sensors were fitted with different seasons.
        """
        if SENSOR not in profile.columns or "bin_edges" not in profile.columns:
            msg = "not a drift profile: needs `sensor_id` and `bin_edges` columns"
            raise SensorSchemaError(msg)
        if not profile.height:  # a reference without sensors: no bins to compare
            config = config if config is not None else DriftConfig()
            width = config.n_bins
        else:
            width = int(profile["bin_edges"].list.len().max()) + 1  # type: ignore[arg-type]
            stored = None
            if _SEASON_US in profile.columns:
                stored = duration_text(int(profile[_SEASON_US][0]))
            config = config if config is not None else DriftConfig(n_bins=width, season=stored)
        if config.n_bins != width:
            msg = f"`n_bins` is {config.n_bins} but the profile was fitted with {width}"
            raise ConfigError(msg)
        fitted = None
        if _SEASON_US in profile.columns and profile.height:
            seasons = profile[_SEASON_US].unique()
            if seasons.len() != 1 or seasons[0] is None:
                found = [None if s is None else duration_text(s) for s in seasons.sort()]
                msg = f"the profile's sensors were fitted with different seasons {found}: refit"
                raise ConfigError(msg)
            fitted = int(seasons[0])
        if profile.height and season_us(config.season) != fitted:
            said = "no season" if fitted is None else f"season {duration_text(fitted)!r}"
            msg = f"`season` is {config.season!r} but the profile was fitted with {said}"
            raise ConfigError(msg)
        det = cls(config)
        det.config_ = config
        det.sensors_ = profile[SENSOR]
        det._ref = side_from_profile(profile, prefix="", n_bins=width)
        det._season = None
        if fitted is not None:
            det._season = profile.select(SENSOR, SEASON_COLUMN)
        det._tref = None
        det.target_ = None
        if "target_name" in profile.columns and profile.height:
            det.target_ = profile["target_name"][0]
            det._tref = side_from_profile(profile, prefix="t_", n_bins=width)
            det._corr = profile["correlation"].cast(pl.Float64).to_numpy()
            det._pairs = profile["n_pairs"].to_numpy().astype(np.int64)
        return det

    def _part(self, profile: pl.DataFrame, sensors: pl.Series) -> Self:
        """
        Return the detector of the reference sensors among ``sensors``.

        ``profile`` is ``self.profile_`` (read once by a caller taking many parts). The
        part keeps the target also when it has no sensor (no profile row names it).
        """
        rows = profile.filter(pl.col(SENSOR).is_in(sensors.implode()))
        part = type(self).from_profile(rows, self.config_)
        if self.target_ is not None and part.target_ is None:
            part.target_ = self.target_
            part._tref = side_from_profile(rows, prefix="t_", n_bins=self.config_.n_bins)
            part._corr = np.empty(0)
            part._pairs = np.empty(0, dtype=np.int64)
        return part

    def save(self, path: str | Path) -> None:
        """Write the profile and the config to one Parquet file."""
        if not isinstance(path, str | os.PathLike):
            msg = f"`path` must be a file path, got {type(path).__name__}"
            raise InvalidTypeError(msg)
        fields = asdict(self.config_)
        season = season_us(self.config_.season)
        fields["season"] = None if season is None else duration_text(season)
        meta = {_META_KEY: json.dumps(fields)}
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

    def detect(
        self,
        current: Any,
        *,
        batch_rows: int | None = None,
        memory_limit: str | int | None = None,
    ) -> DriftReport:
        """
        Compare a current window with the fitted reference, all sensors at once.

        Parameters
        ----------
        current
            Anything :func:`sensorframe.scan` accepts (with the target column if the
            detector was fitted with one).
        batch_rows, memory_limit
            Compare a batch of whole sensors at a time, with the Benjamini-Hochberg
            adjustment over all sensors at the end (:func:`combine_reports`); by
            default a source larger than the default budget is batched. The report
            is the same.

        Returns
        -------
        DriftReport
            One row per sensor of the reference and of ``current``.
        """
        self._check()
        config = self.config_
        if wants_batches(current, batch_rows=batch_rows, memory_limit=memory_limit):
            budget = {"batch_rows": batch_rows, "memory_limit": memory_limit}
            return detect_in_batches(self, current, batches=budget)
        lf = read_window(current, target=self.target_)
        season = season_us(config.season)
        if self._season is not None and season is not None:
            lf = remove_season(lf, self._season, season)
        groups = collect_groups(lf, target=self.target_, sensors=self.sensors_)
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
        states = status(self._ref, cur, config)
        rows = np.flatnonzero(np.isin(states, COMPARED))
        res = compare(self._ref, cur, rows, config)
        assessed = np.isin(states, ASSESSED)
        p_assessed = np.where(assessed, res["drift_pvalue"], np.nan)
        res["drift_pvalue_adjusted"] = _adjust(p_assessed, config)
        ref_rate = self._ref.n_missing / np.maximum(self._ref.n_rows, 1)
        cur_rate = cur.n_missing / np.maximum(cur.n_rows, 1)
        res["missing_rate_change"] = np.where(
            (self._ref.n_rows > 0) & (cur.n_rows > 0), cur_rate - ref_rate, np.nan
        )
        assert cur.span is not None
        flat = (states == "sensor_fault") & (cur.span == 0)
        extra_cols: dict[str, np.ndarray] = {
            words.MEAN_DELTA: res["mean_difference"],
            words.MEAN_LEVEL: res["mean_level"],
            words.SPREAD_LEVEL: res["spread_level"],
            words.CUR_FLAT_AT: np.where(flat, cur.mean, np.nan),
            words.CUR_MISSING: cur_rate,
        }
        covariate = assessed & (res["drift_pvalue_adjusted"] < config.alpha) & (res["level"] >= 1)
        level = res["level"].copy()
        types: dict[str, np.ndarray] = {"covariate_shift": covariate}
        levels: dict[str, pl.Expr] = {}
        if self._tref is not None:
            prior, concept, type_levels, target_cols = self._target_drift(groups, config)
            extra_cols.update(target_cols)
            types["prior_shift"] = prior
            types["concept_drift"] = concept
            # each type's own level, so combine_reports can redo each verdict across batches
            type_levels["covariate_severity"] = res["level"]
            levels = {k: _severity(v, assessed) for k, v in type_levels.items()}
            level = np.maximum.reduce([level, *type_levels.values()])
        table = _table(
            self.sensors_, states, self._ref.n, cur.n, res, level, assessed, types, extra_cols
        ).with_columns(groups.meta["since"].alias(words.SINCE), **levels)
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
        table = (
            table.with_columns(pl.col("drift_types").fill_null(pl.lit([], pl.List(pl.String))))
            .with_columns(words.change_text())
            .with_columns(words.recommendations(config))
            .drop(words.TEMPORARY)
        )
        return DriftReport(table=table, config=config, target=self.target_)

    def detect_timeline(self, frame: Any, *, every: Every = "1d") -> pl.DataFrame:
        """
        Score every chunk of ``frame`` against the fitted reference, all sensors at once.

        See :func:`sensorframe.drift.timeline.detect_timeline` (chunks of a duration or
        of a number of readings; one row per sensor and chunk).
        """
        from sensorframe.drift.timeline import detect_timeline  # timeline imports this module

        return detect_timeline(self, frame, every=every)

    def _target_drift(
        self, groups: Groups, config: DriftConfig
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """
        Prior shift and concept drift per sensor, with BH across the sensors.

        Returns the prior and concept flags, the level of each (``prior_severity``:
        the target distribution's effect sizes; ``concept_severity``: the change in
        correlation, NONE where it is not tested) and the target columns of the table.
        """
        assert self._tref is not None
        tcur = side_from_groups(groups, target=True, n_bins=None, batch_cells=config.batch_cells)
        tstatus = status(self._tref, tcur, config)
        trows = np.flatnonzero(np.isin(tstatus, ASSESSED))
        tres = compare(self._tref, tcur, trows, config)
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
        clevel = np.where(ok, level(dr, config.correlation_thresholds), 0)
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
        levels = {"prior_severity": tres["level"], "concept_severity": clevel}
        return prior, concept, levels, cols


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
    floats = {k: res[k] for k in FLOAT_COLUMNS} | extra
    numbers = pl.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in floats.items()})
    assessed_ = pl.lit(pl.Series(assessed))
    table = pl.concat([pl.DataFrame(data), numbers.fill_nan(None)], how="horizontal")
    return table.with_columns(
        severity=_severity(level, assessed),
        drift_detected=pl.when(assessed_).then(pl.lit(pl.Series(detected))),
        drift_types=pl.concat_list(
            pl.when(pl.lit(pl.Series(flag & assessed))).then(pl.lit(name))
            for name, flag in types.items()
        ).list.drop_nulls(),
    )


def _severity(level: np.ndarray, assessed: np.ndarray) -> pl.Expr:
    """Return the severity of each level (0 NONE .. 4 CRITICAL), null where not assessed."""
    level_ = pl.lit(pl.Series(np.clip(level, 0, 4).astype(np.int64)))
    return pl.when(pl.lit(pl.Series(assessed))).then(
        level_.replace_strict(
            [s.rank for s in DriftSeverity],
            [s.value for s in DriftSeverity],
            return_dtype=DriftSeverity.dtype(),
        )
    )


def detect_drift(
    reference: Any,
    current: Any,
    config: DriftConfig | None = None,
    *,
    target: str | None = None,
    batch_rows: int | None = None,
    memory_limit: str | int | None = None,
) -> DriftReport:
    """
    Detect drift between a reference and a current window, all sensors at once.

    Per sensor: KS, Mann-Whitney U, chi-square on reference-quantile bins, PSI (and its
    p-value), Cramér-von Mises, Anderson-Darling, Welch's t, Brown-Forsythe (each
    p-value with effective sizes and raw), Jensen-Shannon, Hellinger, Wasserstein, mean
    shift, std ratio, quantile shifts and the change in missing rate. ``severity``
    comes from the effect sizes (see :class:`DriftConfig`); ``drift_detected`` also
    needs ``k * min p`` (Bonferroni over the ``k`` tests behind it) below ``alpha``
    after Benjamini-Hochberg across the sensors. ``change`` says what changed;
    a flat or mostly missing current window is a ``"sensor_fault"``.

    Parameters
    ----------
    reference, current
        Anything :func:`sensorframe.scan` accepts.
    config
        Thresholds and tests; ``DriftConfig()`` when ``None``.
    target
        Optional numeric column present in both windows: adds prior shift and concept
        drift (Fisher's z on the value-target correlation).
    batch_rows, memory_limit
        Work a batch of whole sensors at a time (see ``DriftDetector.fit`` and
        ``detect``); the report is the same.

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
    budget: dict[str, Any] = {"batch_rows": batch_rows, "memory_limit": memory_limit}
    return DriftDetector(config).fit(reference, target=target, **budget).detect(current, **budget)
