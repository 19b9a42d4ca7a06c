"""
Per-sensor statistics depend on the sensor's own readings only, bit for bit (issue 17).

A fleet's normalizer parameters, quality table and drift statistics must equal those
computed on any subset of its sensors (what a batch is) and on the same rows in another
order, exactly: the comparisons below treat two floats as equal only when they are the
same number (or both NaN).
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe._exact import segment_moments, segment_sums, sensor_moments
from sensorframe.drift.autocorrelation import lag1_autocorrelation
from sensorframe.drift.location_scale import deviation_moments
from sensorframe.drift.statistics import Samples
from sensorframe.errors import ZeroScaleWarning


@pytest.fixture(scope="module")
def fleet() -> pl.DataFrame:
    """40 sensors of 500 readings, values of very different scales, faults injected."""
    frame = sf.datasets.synthetic(n_sensors=40, n_points=500, seed=11).frame
    scale = pl.col("sensor_id").str.slice(1).cast(pl.Int64).pow(3).cast(pl.Float64) + 0.37
    return frame.with_columns(pl.col("value") * scale + 1000.0)


def _subsets(ids: list[str], seed: int) -> list[list[str]]:
    """Disjoint random subsets of 1 to 9 sensors covering every id."""
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(ids))
    out = []
    while order:
        k = int(rng.integers(1, 10))
        out.append(order[:k])
        order = order[k:]
    return out


def _by_parts(fit: object, frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    ids = frame.get_column("sensor_id").unique().sort().to_list()
    parts = [fit(frame.filter(pl.col("sensor_id").is_in(s))) for s in _subsets(ids, seed)]  # type: ignore[operator]
    return pl.concat(parts).sort("sensor_id")


def _params(method: str) -> object:
    def fit(frame: pl.DataFrame) -> pl.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZeroScaleWarning)
            return sf.Normalizer(method).fit(frame).params  # type: ignore[arg-type]

    return fit


@pytest.mark.parametrize("method", ["zscore", "minmax", "robust"])
def test_normalizer_params_do_not_depend_on_the_other_sensors(
    fleet: pl.DataFrame, method: str
) -> None:
    fit = _params(method)
    whole = fit(fleet)  # type: ignore[operator]
    assert_frame_equal(_by_parts(fit, fleet, seed=1), whole, check_exact=True)
    shuffled = fleet.sample(fraction=1.0, shuffle=True, seed=2)
    assert_frame_equal(fit(shuffled), whole, check_exact=True)  # type: ignore[operator]
    interleaved = fleet.sort("timestamp", maintain_order=True)  # each sensor in time order
    assert_frame_equal(fit(interleaved), whole, check_exact=True)  # type: ignore[operator]


def test_zscore_params_are_numpy_moments(fleet: pl.DataFrame) -> None:
    params = sf.Normalizer("zscore").fit(fleet).params
    for sensor, center, scale, n in params.rows()[:5]:
        x = fleet.filter(pl.col("sensor_id") == sensor).get_column("value").drop_nulls()
        assert n == len(x)
        assert center == pytest.approx(np.mean(x.to_numpy()), rel=1e-15)
        assert scale == pytest.approx(np.std(x.to_numpy()), rel=1e-13)


def _table(cfg: sf.QualityConfig) -> object:
    def assess(frame: pl.DataFrame) -> pl.DataFrame:
        return sf.assess_quality(frame, cfg).table

    return assess


@pytest.mark.parametrize("outlier_method", ["zscore", "mad"])
def test_quality_table_does_not_depend_on_the_other_sensors(
    fleet: pl.DataFrame, outlier_method: str
) -> None:
    assess = _table(sf.QualityConfig(outlier_method=outlier_method))  # type: ignore[arg-type]
    whole = assess(fleet)  # type: ignore[operator]
    assert_frame_equal(_by_parts(assess, fleet, seed=3), whole, check_exact=True)
    # every sensor's rows in their order, the sensors interleaved (out-of-order counts
    # are about input order, so the rows of one sensor keep theirs)
    interleaved = fleet.sort("timestamp", maintain_order=True)
    assert_frame_equal(assess(interleaved), whole, check_exact=True)  # type: ignore[operator]


def test_noise_level_of_one_sensor_equals_that_in_a_fleet(fleet: pl.DataFrame) -> None:
    noise = sf.quality.noise_level("value")
    whole = fleet.group_by("sensor_id").agg(noise).sort("sensor_id")
    alone = [
        fleet.filter(pl.col("sensor_id") == s).group_by("sensor_id").agg(noise)
        for s in whole["sensor_id"]
    ]
    assert_frame_equal(pl.concat(alone), whole, check_exact=True)


def test_drift_sums_do_not_depend_on_the_batch_width() -> None:
    """A sensor's autocorrelation and deviations are the same whatever pads its batch."""
    rng = np.random.default_rng(5)
    for n in rng.integers(50, 3_000, size=12):
        x = rng.normal(size=n) * 37.3 + 1e3
        alone = Samples.concatenated(x, np.array([n]))
        rho = lag1_autocorrelation(alone)[0]
        center = np.median(x)
        zbar, ss = (v[0] for v in deviation_moments(alone, np.array([center])))
        for longer in (n + 1, n + 37, 2 * n - 1):
            other = rng.normal(size=longer)
            batch = Samples.concatenated(np.concatenate([x, other]), np.array([n, longer]))
            assert lag1_autocorrelation(batch)[0] == rho
            z, s = deviation_moments(batch, np.array([center, 0.0]))
            assert (z[0], s[0]) == (zbar, ss)
        dev = x - x.mean()
        assert rho == pytest.approx(np.sum(dev[1:] * dev[:-1]) / np.sum(dev * dev), rel=1e-12)
        z = np.abs(x - center)
        assert zbar == pytest.approx(z.mean(), rel=1e-14)
        assert ss == pytest.approx(np.sum((z - z.mean()) ** 2), rel=1e-12)


def test_segment_sums_depend_on_the_segment_alone() -> None:
    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 3_000, size=50)
    values = rng.normal(size=int(lengths.sum())) * 1e3
    sums = segment_sums(values, lengths)
    starts = np.cumsum(lengths) - lengths
    for i in (0, 7, 33, 49):
        segment = values[starts[i] : starts[i] + lengths[i]]
        assert segment_sums(segment, lengths[i : i + 1])[0] == sums[i]
        assert sums[i] == pytest.approx(np.sum(segment), rel=1e-12, abs=1e-9)


def test_segment_moments_skip_missing_values() -> None:
    values = np.array([1.0, np.nan, 3.0, np.inf, 5.0, np.nan, np.nan])
    m = segment_moments(values, np.array([3, 2, 2]), ddof=1)
    assert m.n.tolist() == [2, 1, 0]
    assert m.mean[:2].tolist() == [2.0, 5.0]
    assert np.isnan(m.mean[2])
    assert m.std[0] == pytest.approx(np.sqrt(2.0))
    assert np.isnan(m.std[1:]).all()
    assert m.span[:2].tolist() == [2.0, 0.0]


def test_sensor_moments_follow_time_order_not_input_order() -> None:
    frame = sf.scan(
        pl.DataFrame(
            {
                "sensor_id": ["b", "a", "b", "a", "a"],
                "timestamp": ["2026-01-01T00:0" + m for m in "20101"],
                "value": [0.1, 0.2, 0.3, None, 0.7],
            }
        )
    ).collect()
    got = sensor_moments(frame)
    assert got.get_column("sensor_id").to_list() == ["a", "b"]
    assert got.get_column("n").to_list() == [2, 2]
    assert_frame_equal(sensor_moments(frame.reverse()), got, check_exact=True)
    assert got.get_column("mean").to_list() == pytest.approx([0.45, 0.2])


def _level_shift_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Block means, the staged and the expression level-shift flags, sensor by sensor."""
    from sensorframe.quality.shape import _block_mean, _with_level_shift

    rows = frame.sort("sensor_id", "timestamp")
    staged = _with_level_shift(
        rows.lazy(),
        pl.col("value"),
        window=24,
        threshold=pl.lit(6.0),
        partition_by="sensor_id",
        name="staged",
    ).collect()
    return staged.with_columns(
        _block_mean(pl.col("value"), 24, "sensor_id").alias("mean"),
        sf.quality.shape.level_shift("value", window=24, partition_by="sensor_id").alias("flag"),
    ).select("sensor_id", "timestamp", "mean", "staged", "flag")


def test_level_shift_does_not_depend_on_the_other_sensors(fleet: pl.DataFrame) -> None:
    whole = _level_shift_columns(fleet)
    assert whole["flag"].sum() > 0
    assert_frame_equal(whole, _by_parts(_level_shift_columns, fleet, 5), check_exact=True)
    ids = fleet.get_column("sensor_id").unique().sort().to_list()
    alone = pl.concat(
        [_level_shift_columns(fleet.filter(pl.col("sensor_id") == i)) for i in ids]
    ).sort("sensor_id", maintain_order=True)
    assert_frame_equal(whole, alone, check_exact=True)
