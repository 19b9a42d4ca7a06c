"""Random histories in random increments, late rows and a new sensor: one full run's content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.pipeline.incremental import run_incremental

CONFIGS = {
    "windowed": sf.FeatureConfig(
        rolling_windows=[3, 5],
        rolling_stats=["mean", "std", "median"],
        lags=[1, 3],
        diffs=[2],
        pct_change=True,
        acceleration=True,
        volatility_windows=[3],
        spectral=True,
        spectral_window=6,
        spectral_top_k=2,
        spectral_step=3,  # the continued rows must start at a step
        cyclical=True,
    ),
    "whole history": sf.FeatureConfig(expanding=True, lags=[1], rolling_windows=["4h"]),
}
START = datetime(2026, 3, 1, tzinfo=UTC)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """A history and the increments it arrives in: late rows and a new sensor included."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = {f"S{i}": draw(st.integers(30, 60)) for i in range(draw(st.integers(1, 3)))}
    sizes["NEW"] = draw(st.integers(15, 30))
    parts = []
    for sensor, n in sizes.items():
        hours = np.cumsum(rng.integers(1, 3, size=n)) + (
            155 if sensor == "NEW" else 0
        )  # after every cut
        values = rng.normal(10.0, 3.0, size=n).round(2)
        nulls = rng.random(n) < 0.05
        parts.append(
            pl.DataFrame(
                {
                    "sensor_id": sensor,
                    "timestamp": [START + timedelta(hours=int(h)) for h in hours],
                    "value": [None if z else float(v) for v, z in zip(values, nulls, strict=True)],
                }
            )
        )
    history = pl.concat(parts)
    cuts = sorted(draw(st.lists(st.integers(36, 150), min_size=1, max_size=3, unique=True)))
    hour = (pl.col("timestamp") - START).dt.total_hours()
    batch = pl.sum_horizontal(*(hour >= c for c in cuts)).alias("batch")
    late = (pl.lit(rng.random(history.height)) < 0.08) & (hour > 24)  # one batch later
    history = history.with_columns(batch + late.cast(pl.Int64))
    batches = [history.filter(pl.col("batch") == b).drop("batch") for b in range(len(cuts) + 2)]
    return [b for b in batches if b.height], history.drop("batch")


def _normalized(batches: list[pl.DataFrame], ratios: tuple[float, float, float]) -> sf.Normalizer:
    """Each sensor's normalizer, fitted on the rows of the batch that brought it first."""
    seen: set[str] = set()
    params = []
    for part in batches:
        first = part.filter(~pl.col("sensor_id").is_in(list(seen)))
        if first.height:
            params.append(sf.Normalizer("zscore").fit(sf.split(first, ratios).train).params_)
            seen |= set(first["sensor_id"])
    norm = sf.Normalizer("zscore").fit(batches[0])
    norm.params_ = pl.concat(params).sort("sensor_id")
    return norm


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=deliveries(),
    features=st.sampled_from(sorted(CONFIGS)),
    normalize=st.sampled_from(["none", "zscore"]),
)
def test_increments_equal_one_full_run(
    case: tuple[list[pl.DataFrame], pl.DataFrame], features: str, normalize: str
) -> None:
    batches, history = case
    cfg = sf.PipelineConfig(
        steps=("normalize", "features", "version"),
        normalize=normalize,  # type: ignore[arg-type]
        features=CONFIGS[features],
        min_readings=5,
    )
    with TemporaryDirectory(dir="/tmp") as folder:
        pipe = sf.Pipeline(sf.DatasetStore(Path(folder) / "inc"), cfg)
        for part in batches:
            run_incremental(pipe, part, progress=False)
        got = sf.content_hash(pipe.store.read("processed"))
        if normalize == "none":
            full = sf.Pipeline(sf.DatasetStore(Path(folder) / "full"), cfg)
            full.run(history, progress=False)
            expected = sf.content_hash(full.store.read("processed"))
        else:  # the normalizer each sensor's first run fitted, reused
            scaled = _normalized(batches, cfg.ratios).transform(history)
            expected = sf.content_hash(sf.engineer_features(scaled, CONFIGS[features]))
        assert got == expected
        assert pipe.store.read("raw").collect().height == history.height
