"""The batched rank statistics against scipy / plain NumPy, and the memory probe."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import scipy.stats as ss
from hypothesis import given

from sensorframe.explore.cost import measure
from sensorframe.explore.relevance import (
    rank_correlations,
    relevance_test,
    time_blocks,
    within_sensor_scores,
)
from tests.conftest import sensor_frames, tied_readings


@given(frame=sensor_frames(max_rows=40, values=tied_readings))
def test_scores_are_centred_uniform_ranks_per_sensor(frame: pl.DataFrame) -> None:
    got = within_sensor_scores(frame, ["value"])[:, 0]
    x = frame["value"].to_numpy().astype(np.float64)
    ids = frame["sensor_id"].to_numpy()
    for sid in set(ids):
        rows = ids == sid
        present = rows & ~np.isnan(x)
        assert np.isnan(got[rows & np.isnan(x)]).all()
        if present.any():
            u = ss.rankdata(x[present]) / (present.sum() + 1)
            np.testing.assert_allclose(got[present], u - u.mean(), atol=1e-12)


def test_relevance_matches_spearman_and_a_block_t_test() -> None:
    rng = np.random.default_rng(3)
    n = 400
    raw = np.round(rng.normal(size=(n, 3)), 1)  # ties
    target = raw[:, 0] + rng.normal(size=n)
    frame = pl.DataFrame(
        {"sensor_id": ["a"] * n, "f0": raw[:, 0], "f1": raw[:, 1], "f2": raw[:, 2], "y": target}
    )
    x = within_sensor_scores(frame, ["f0", "f1", "f2"])
    y = within_sensor_scores(frame, ["y"])[:, 0]
    blocks = np.arange(n) // 20
    r, n_eff, p = relevance_test(x, y, blocks)
    for j in range(3):
        assert r[j] == pytest.approx(ss.spearmanr(raw[:, j], target).statistic, abs=1e-12)
        sums = np.bincount(blocks, weights=x[:, j] * y)
        dev = sums - sums.mean()
        var = dev @ dev / 19 + 2 * max(0.0, dev[1:] @ dev[:-1] / 19)
        want = 2 * ss.t.sf(abs(sums.mean()) / np.sqrt(var / 20), 19)
        assert p[j] == pytest.approx(want, rel=1e-9)
        if dev[1:] @ dev[:-1] <= 0:  # no neighbour term: the plain t-test of the block sums
            assert p[j] == pytest.approx(ss.ttest_1samp(sums, 0.0).pvalue, rel=1e-9)
        assert 20 <= n_eff[j] <= n
    assert p[0] < 1e-6


def test_relevance_untestable_columns_are_nan() -> None:
    x = np.column_stack([np.zeros(30), np.full(30, np.nan), np.linspace(-1, 1, 30)])
    y = np.linspace(-1, 1, 30)
    r, _, p = relevance_test(x, y, np.zeros(30, dtype=int))  # one block: no spread
    assert np.isnan(p).all()
    assert np.isnan(r[:2]).all()


def test_rank_correlations_match_corrcoef_on_complete_columns() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4))
    x[:, 3] = -x[:, 0] + 0.1 * x[:, 1]
    x -= x.mean(axis=0)
    np.testing.assert_allclose(rank_correlations(x), np.corrcoef(x.T), atol=1e-12)
    x[:5, 2] = np.nan  # pairwise: sums over rows where both are present
    c = rank_correlations(x)
    both = ~np.isnan(x[:, 2])
    want = (x[both, 0] @ x[both, 2]) / np.sqrt((x[both, 0] ** 2).sum() * (x[both, 2] ** 2).sum())
    assert c[0, 2] == pytest.approx(want)


def test_time_blocks() -> None:
    assert time_blocks(np.array([], dtype=np.int64)).tolist() == []
    assert time_blocks(np.array([7, 7])).tolist() == [0, 0]
    assert time_blocks(np.arange(100), count=4).tolist() == [i // 25 for i in range(100)]


def test_measure_sees_native_memory() -> None:
    result, seconds, peak = measure(lambda: np.ones(10_000_000))  # 80 MB of NumPy pages
    assert result.shape == (10_000_000,)
    assert seconds >= 0
    assert peak >= 60 * 2**20
