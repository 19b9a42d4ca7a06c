""":func:`explore_features`: what each feature family costs and earns on the user's data."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, get_args

import numpy as np
import polars as pl

from sensorframe._multiple_testing import Adjustment, adjust_pvalues
from sensorframe._times import duration_text, parse_duration_us
from sensorframe._utils import checked_config
from sensorframe.errors import (
    EmptyFrameError,
    InvalidParameterError,
    InvalidTypeError,
    UnknownFeatureError,
)
from sensorframe.explore.cost import measure
from sensorframe.explore.relevance import (
    rank_correlations,
    relevance_test,
    time_blocks,
    within_sensor_scores,
)
from sensorframe.features.config import FLAG_FAMILIES, FeatureConfig, feature_names
from sensorframe.features.engine import engineer_features
from sensorframe.features.matrix import (
    ALIGNED_TARGET,
    TARGET,
    TARGET_END,
    TARGET_START,
    align_target,
)
from sensorframe.frame import SENSOR, TIME, VALUE, scan

if TYPE_CHECKING:
    from sensorframe._typing import FrameInput

__all__ = [
    "COST_TIER",
    "MAX_ROWS",
    "MAX_TEST_ROWS",
    "REDUNDANT",
    "Exploration",
    "explore_features",
    "family",
]

MAX_ROWS = 1_000_000
"""Rows above which whole sensors are sampled (unless `sample_sensors` says otherwise)."""
MAX_TEST_ROWS = 200_000
"""Most rows the relevance and redundancy statistics use (evenly strided beyond)."""
REDUNDANT = 0.95
"""|rank correlation| with a cheaper selected feature at or above which a feature is redundant."""
COST_TIER = 10**0.5
"""How much cheaper a redundant feature's family must be to replace a stronger feature."""


def family(name: str) -> str:
    """
    Return the family of a feature: computed together, timed together.

    Rolling features form one family per statistic (``rolling_mean`` ...), lags, diffs
    and volatility one each, EWM, expanding, spectral (``fft_*``, ``spectral_*``),
    calendar and cyclical one each, and pct change, rate of change and acceleration
    one each.

    Raises
    ------
    UnknownFeatureError
        If `name` is no feature's name.

    Examples
    --------
    >>> from sensorframe.explore.exploration import family
    >>> family("rolling_1h_std"), family("lag_3"), family("fft_amp_2"), family("hour_sin")
    ('rolling_std', 'lag', 'spectral', 'cyclical')
    """
    cfg = FeatureConfig.from_names([name])
    if cfg.rolling_windows:
        return f"rolling_{cfg.rolling_stats[0]}"
    for field, kind in (("lags", "lag"), ("diffs", "diff"), ("volatility_windows", "volatility")):
        if getattr(cfg, field):
            return kind
    if cfg.ewm_span is not None:
        return "ewm"
    return next(flag for flag in FLAG_FAMILIES if getattr(cfg, flag))


@dataclass(frozen=True, kw_only=True, slots=True)
class Exploration:
    """
    The result of :func:`explore_features`.

    Attributes
    ----------
    table
        One row per feature: ``feature``, ``family``, ``seconds_per_million_rows``,
        ``peak_mb_per_million_rows`` and ``cpu_seconds_per_million_rows`` (process CPU
        time, all threads: steadier than wall time on a busy machine; all three of the
        feature's family, computed on its own),
        ``null_share``, ``most_correlated`` and ``max_abs_correlation`` (redundancy),
        and with a target ``rank_correlation``, ``effective_n``, ``p_value``,
        ``p_value_adjusted`` and ``relevant``; then ``selected``.
    families
        One row per family: ``family``, ``features``, its cost, the mean ``null_share``,
        and with a target the smallest ``p_value_adjusted`` and the number
        ``relevant``; then the number ``selected``.
    selected
        Suggested features, cheapest family first: with a target, the relevant ones
        (``p_value_adjusted < fdr``) that no more strongly correlated selected feature
        makes redundant (|rank correlation| >= :data:`REDUNDANT`), a redundant one
        replacing the stronger when its family is more than :data:`COST_TIER` times
        cheaper in CPU time; empty when none is relevant; without one, the features
        that are neither redundant, all-missing nor constant (fewer than two distinct
        values).
    config
        A :class:`~sensorframe.FeatureConfig` computing the selected features (it may
        compute a few more of their groups, see :meth:`FeatureConfig.from_names`); None
        when nothing is selected.
    rows, sensors, sensors_total
        Rows and sensors explored, and sensors in the data (more when sampled).
    target
        How the target was given (``None`` without one); `fdr` and `method` as asked.
    """

    table: pl.DataFrame
    families: pl.DataFrame
    selected: tuple[str, ...]
    config: FeatureConfig | None
    rows: int
    sensors: int
    sensors_total: int
    target: str | None
    fdr: float
    method: Adjustment

    @property
    def sampled(self) -> bool:
        """Whether the statistics come from a sample of the sensors."""
        return self.sensors < self.sensors_total

    def __repr__(self) -> str:
        scope = f"{self.sensors:,} sensors"
        if self.sampled:
            scope = f"{self.sensors:,} of {self.sensors_total:,} sensors (sampled)"
        head = (
            f"Exploration({self.table.height} features in {self.families.height} families "
            f"on {self.rows:,} rows of {scope}"
        )
        if self.target is None:
            return f"{head}; no target; selected {len(self.selected)} non-redundant)"
        relevant = int(self.table["relevant"].sum())
        shown = ", ".join(self.selected[:6]) + (" ..." if len(self.selected) > 6 else "")
        return (
            f"{head}; target {self.target}: {relevant} relevant at FDR {self.fdr:g} "
            f"({self.method.upper()}), selected {len(self.selected)}: [{shown}])"
        )


def explore_features(
    frame: FrameInput,
    config: FeatureConfig | None = None,
    *,
    target: str | pl.DataFrame | pl.LazyFrame | None = None,
    sample_sensors: int | None = None,
    fdr: float = 0.05,
    method: Adjustment = "by",
    seed: int = 0,
) -> Exploration:
    """
    Measure what every feature of `config` costs on this data and what it tells.

    Steps, on a sample of whole sensors when the data is large:

    1. **Cost**: each family (:func:`family`) is computed on its own by
       :func:`~sensorframe.engineer_features`, timed (wall clock) and its peak memory
       measured (resident set size above the start, sampled every millisecond by a
       thread from ``/proc/self/statm``, or from ``resource.getrusage`` elsewhere; see
       :func:`sensorframe.explore.cost.measure`), both per million rows. Each run
       includes the engine's fixed work (the order check and slicing), which is what
       computing that family alone costs.
    2. **Completeness and redundancy**: the share of null (or NaN) values, and the
       largest |rank correlation| with another feature, within sensors
       (:func:`~sensorframe.explore.relevance.rank_correlations`).
    3. **Relevance**, with a target: a within-sensor Spearman test per feature whose
       effective sample size accounts for the autocorrelation of the feature and the
       target along each sensor (:func:`~sensorframe.explore.relevance.relevance_test`),
       on rows thinned to about one per horizon; the p-values are adjusted across the
       features by Benjamini-Yekutieli (``method="by"``, valid under any dependence, as
       tsfresh) or Benjamini-Hochberg (``"bh"``). Features and target are aligned as
       :func:`~sensorframe.feature_matrix` aligns them: rows whose feature windows
       overlap the target's span are dropped.

    Parameters
    ----------
    frame
        Anything :func:`sensorframe.scan` accepts.
    config
        The features to explore; :meth:`FeatureConfig.default` when None.
    target
        The output of :func:`~sensorframe.make_target` (or any frame with
        ``sensor_id``, ``timestamp``, ``target`` and optionally ``target_end``), or the
        name of a numeric column of `frame`, taken as a label about the future that the
        user has aligned (``"value"`` itself is refused: every trailing feature reads it).
    sample_sensors
        Explore this many sensors, drawn at random (`seed`). By default all, unless
        the data holds more than :data:`MAX_ROWS` rows: then sensors drawn at random
        until their rows reach it. The result says when it was sampled.
    fdr
        False discovery rate of the relevance selection, in (0, 1).
    method
        ``"by"`` (Benjamini-Yekutieli) or ``"bh"`` (Benjamini-Hochberg).
    seed
        Seed of the sensor sample.

    Returns
    -------
    Exploration
        ``.table``, ``.families``, ``.selected``, ``.config``.

    Raises
    ------
    InvalidParameterError
        If `fdr`, `method` or `sample_sensors` is out of range, or `target` names
        ``"value"``.
    InvalidTypeError
        If `config` is not a :class:`FeatureConfig` or `target` is of another type.
    UnknownFeatureError
        If `target` names no column of `frame`.
    EmptyFrameError
        If the frame has no rows.

    Examples
    --------
    >>> from sensorframe.explore import explore_features, make_target
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=400, seed=1).frame
    >>> cfg = sf.FeatureConfig(rolling_windows=[6], rolling_stats=["mean", "std"], lags=[1])
    >>> result = explore_features(data, cfg, target=make_target(data, horizon=6, kind="mean"))
    >>> result.table.columns[:4]
    ['feature', 'family', 'seconds_per_million_rows', 'peak_mb_per_million_rows']
    >>> result.families["family"].to_list()
    ['rolling_mean', 'rolling_std', 'lag']
    """
    cfg = checked_config(config, FeatureConfig) if config is not None else None
    cfg = cfg or FeatureConfig.default()
    names = feature_names(cfg)
    if not names:
        msg = "the FeatureConfig selects no feature: nothing to explore"
        raise InvalidParameterError(msg)
    if isinstance(fdr, bool) or not isinstance(fdr, int | float) or not 0 < fdr < 1:
        msg = f"`fdr` must be a number in (0, 1), got {fdr!r}"
        raise InvalidParameterError(msg)
    if method not in get_args(Adjustment):
        msg = f"`method` must be one of {get_args(Adjustment)}, got {method!r}"
        raise InvalidParameterError(msg)
    if sample_sensors is not None and (
        isinstance(sample_sensors, bool)
        or not isinstance(sample_sensors, int)
        or sample_sensors < 1
    ):
        msg = f"`sample_sensors` must be an int >= 1 or None, got {sample_sensors!r}"
        raise InvalidParameterError(msg)
    if target is not None and not isinstance(target, str | pl.DataFrame | pl.LazyFrame):
        msg = f"`target` must be a make_target frame or a column name, got {type(target).__name__}"
        raise InvalidTypeError(msg)
    lf = scan(frame)
    extra = [target] if isinstance(target, str) else []
    if extra:
        if target == VALUE:
            msg = (
                "target='value' is the reading at t, which every trailing feature at t reads "
                "(the leak of a model predicting it from rolling_12_mean); use "
                "make_target(frame, horizon=...) for the readings ahead"
            )
            raise InvalidParameterError(msg)
        if target not in lf.collect_schema().names():
            msg = f"`target` {target!r} is no column of the frame"
            raise UnknownFeatureError(msg)
    rows = lf.select(SENSOR, TIME, VALUE, *extra).collect()
    if not rows.height:
        msg = "the frame has no rows: nothing to explore"
        raise EmptyFrameError(msg)
    sample, total = _sample(rows, sample_sensors, seed)
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(family(name), []).append(name)
    features, costs = _costs(sample, cfg, groups)
    stats = _statistics(features, names)
    test_rows, horizon_text = _test_rows(features, names, target, sample)
    scores = within_sensor_scores(test_rows, names)
    corr = rank_correlations(scores)
    np.fill_diagonal(corr, np.nan)
    magnitude = np.where(np.isnan(corr), -1.0, np.abs(corr))
    closest = magnitude.argmax(axis=1) if len(names) > 1 else np.zeros(len(names), dtype=int)
    best = magnitude[np.arange(len(names)), closest] if len(names) > 1 else np.full(1, -1.0)
    table = pl.DataFrame(
        {
            "feature": names,
            "family": [family(n) for n in names],
            "null_share": stats["null_share"],
            "most_correlated": [
                names[j] if b >= 0 else None for j, b in zip(closest, best, strict=True)
            ],
            "max_abs_correlation": [float(b) if b >= 0 else None for b in best],
        },
        schema_overrides={"most_correlated": pl.String, "max_abs_correlation": pl.Float64},
    ).join(costs, on="family", how="left", maintain_order="left")
    table = table.select(
        "feature",
        "family",
        "seconds_per_million_rows",
        "peak_mb_per_million_rows",
        "cpu_seconds_per_million_rows",
        "null_share",
        "most_correlated",
        "max_abs_correlation",
    )
    constant = stats["constant"]
    if target is not None:
        y = within_sensor_scores(test_rows, [ALIGNED_TARGET])[:, 0]
        y = np.nan_to_num(y)  # target rows are non-null; a constant sensor scores 0
        blocks = time_blocks(test_rows.get_column(TIME).dt.epoch("us").to_numpy())
        r, n_eff, p = relevance_test(scores, y, blocks)
        adjusted = adjust_pvalues(p, method=method)
        table = table.with_columns(
            rank_correlation=pl.Series(r, nan_to_null=True),
            effective_n=pl.Series(n_eff, nan_to_null=True),
            p_value=pl.Series(p, nan_to_null=True),
            p_value_adjusted=pl.Series(adjusted, nan_to_null=True),
        ).with_columns(relevant=(pl.col("p_value_adjusted") < fdr).fill_null(value=False))
        candidates = table["relevant"].to_numpy()
    else:
        candidates = ~constant & (np.asarray(stats["null_share"]) < 1.0)
    selected = _select(table, candidates, np.abs(np.nan_to_num(corr, nan=0.0)))
    table = table.with_columns(selected=pl.col("feature").is_in(selected))
    return Exploration(
        table=table,
        families=_families(table, target is not None),
        selected=tuple(selected),
        config=FeatureConfig.from_names(selected, base=cfg) if selected else None,
        rows=sample.height,
        sensors=sample.get_column(SENSOR).n_unique(),
        sensors_total=total,
        target=horizon_text if target is not None else None,
        fdr=float(fdr),
        method=method,
    )


def _sample(rows: pl.DataFrame, wanted: int | None, seed: int) -> tuple[pl.DataFrame, int]:
    """Whole sensors drawn at random (`wanted` of them, or up to MAX_ROWS rows), sorted."""
    counts = rows.group_by(SENSOR).len().sort(SENSOR)
    total = counts.height
    if wanted is None and rows.height <= MAX_ROWS:
        return rows.sort(SENSOR, TIME, maintain_order=True), total
    order = np.random.default_rng(seed).permutation(total)
    if wanted is None:
        reached = np.cumsum(counts.get_column("len").to_numpy()[order]) >= MAX_ROWS
        keep = int(np.argmax(reached)) + 1 if reached.any() else total
    else:
        keep = min(wanted, total)
    chosen = counts.get_column(SENSOR).gather(np.sort(order[:keep]))
    sample = rows.filter(pl.col(SENSOR).is_in(chosen.implode()))
    return sample.sort(SENSOR, TIME, maintain_order=True), total


def _costs(
    sample: pl.DataFrame, cfg: FeatureConfig, groups: dict[str, list[str]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Compute each family on its own (timed, memory sampled); return all features and costs."""
    keys = sample.select(SENSOR, TIME, VALUE)
    first = keys.head(min(keys.height, 256))
    engineer_features(first, cfg, features=next(iter(groups.values()))).collect()  # warm-up
    parts: list[pl.DataFrame] = []
    rows = []
    scale = 1e6 / max(sample.height, 1)
    for fam, names in groups.items():
        cpu = time.process_time()
        out, seconds, peak = measure(partial(_compute, keys, cfg, names))
        cpu = time.process_time() - cpu
        parts.append(out.select(names))
        rows.append((fam, seconds * scale, peak / 2**20 * scale, cpu * scale))
    features = pl.concat([out.select(SENSOR, TIME, VALUE), *parts], how="horizontal")
    costs = pl.DataFrame(
        rows,
        schema=[
            "family",
            "seconds_per_million_rows",
            "peak_mb_per_million_rows",
            "cpu_seconds_per_million_rows",
        ],
        orient="row",
    )
    return features, costs


def _compute(keys: pl.DataFrame, cfg: FeatureConfig, names: list[str]) -> pl.DataFrame:
    return engineer_features(keys, cfg, features=names).collect()


def _statistics(features: pl.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    missing = features.select(
        (pl.col(n).is_null() | pl.col(n).cast(pl.Float64).is_nan()).mean().alias(n) for n in names
    )
    finite = [pl.col(n).cast(pl.Float64).fill_nan(None) for n in names]
    spread = features.select((x.max() > x.min()).fill_null(value=False) for x in finite)
    varies = np.array([bool(spread.item(0, i)) for i in range(len(names))])
    share = np.array([missing.item(0, n) for n in names], dtype=np.float64)
    return {"null_share": np.nan_to_num(share, nan=1.0), "constant": ~varies}


def _test_rows(
    features: pl.DataFrame,
    names: list[str],
    target: str | pl.DataFrame | pl.LazyFrame | None,
    sample: pl.DataFrame,
) -> tuple[pl.DataFrame, str]:
    """Pick the rows of the statistics: aligned with the target, thinned, <= MAX_TEST_ROWS."""
    if target is None:
        rows = features
        text = ""
    else:
        if isinstance(target, str):
            t = pl.col(TIME)
            frame = sample.select(
                SENSOR, TIME, pl.col(target).alias(TARGET), t.alias(TARGET_START),
                (t + pl.duration(microseconds=1)).alias(TARGET_END),
            ).unique([SENSOR, TIME], keep="first", maintain_order=True)  # fmt: skip
            text = f"column {target!r}"
        else:
            sensors = sample.get_column(SENSOR).unique().implode()
            frame = (
                target.lazy()
                .filter(pl.col(SENSOR).is_in(sensors) & pl.col(TARGET).is_not_null())
                .collect()
            )
            text = "frame"
        if TARGET_END in frame.columns:
            span = frame.select((pl.col(TARGET_END) - pl.col(TIME)).median()).item()
            if isinstance(span, timedelta) and span > timedelta(0):
                text = f"spanning {duration_text(parse_duration_us(span))}"
                frame = _thinned(frame.sort(SENSOR, TIME, maintain_order=True), span)
        rows = align_target(features.lazy(), names, frame).collect()
    if rows.height > MAX_TEST_ROWS:
        rows = rows.gather_every(-(-rows.height // MAX_TEST_ROWS))
    return rows, text


def _thinned(rows: pl.DataFrame, span: timedelta) -> pl.DataFrame:
    """Keep each sensor's first row in every `span` of time since its first reading."""
    step = max(1, parse_duration_us(span))
    since = (pl.col(TIME) - pl.col(TIME).min().over(SENSOR)).dt.total_microseconds()
    bucket = since // step
    return rows.filter(bucket != bucket.shift(1).over(SENSOR).fill_null(-1))


def _select(table: pl.DataFrame, candidates: np.ndarray, abscorr: np.ndarray) -> list[str]:
    """
    Keep the candidates no kept feature makes redundant, preferring much cheaper ones.

    The candidates are walked strongest |rank correlation| with the target first (then
    config order); one redundant with a single kept feature replaces it when its family
    costs less CPU time by more than a factor :data:`COST_TIER` (so timing noise does
    not decide between near-equal costs), otherwise it is skipped. The result is listed
    cheapest family (CPU time) first.
    """
    costs = table.get_column("cpu_seconds_per_million_rows").to_numpy()
    strength = [pl.col("rank_correlation").abs()] if "rank_correlation" in table.columns else []
    order = table.with_row_index("__sf_i").sort(
        [*strength, pl.col("__sf_i")],
        descending=[*([True] * len(strength)), False],
        nulls_last=True,
        maintain_order=True,
    )
    kept: list[int] = []
    for i in order.get_column("__sf_i").to_list():
        if not candidates[i]:
            continue
        clash = [k for k in kept if abscorr[i, k] >= REDUNDANT]
        if not clash:
            kept.append(i)
        elif len(clash) == 1 and costs[i] * COST_TIER < costs[clash[0]]:
            kept[kept.index(clash[0])] = i
    kept.sort(key=lambda i: (costs[i], i))
    names = table.get_column("feature").to_list()
    return [names[i] for i in kept]


def _families(table: pl.DataFrame, with_target: bool) -> pl.DataFrame:  # noqa: FBT001
    aggregates = [
        pl.len().alias("features"),
        pl.col("seconds_per_million_rows").first(),
        pl.col("peak_mb_per_million_rows").first(),
        pl.col("cpu_seconds_per_million_rows").first(),
        pl.col("null_share").mean(),
    ]
    if with_target:
        aggregates += [pl.col("p_value_adjusted").min(), pl.col("relevant").sum()]
    aggregates.append(pl.col("selected").sum())
    return table.group_by("family", maintain_order=True).agg(aggregates)
