from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from sensorframe.errors import InvalidParameterError, InvalidTypeError
from sensorframe.reporting import downsample


def _frame(seed: int, n: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t0 = datetime(2026, 1, 1)
    steps = np.cumsum(rng.integers(1, 120, size=n))
    values = rng.normal(size=n)
    values[rng.integers(0, n, size=3)] = 50.0  # spikes
    return pl.DataFrame(
        {
            "sensor_id": rng.choice(["a", "b", "c"], size=n),
            "timestamp": [t0 + timedelta(seconds=int(s)) for s in steps],
            "value": values,
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


@pytest.mark.parametrize(("seed", "buckets"), [(0, 7), (1, 50), (2, 1), (3, 400)])
def test_bucket_min_max_first_last_match_numpy(seed: int, buckets: int) -> None:
    frame = _frame(seed, 2000)
    out = downsample(frame, buckets=buckets)
    for sensor in ["a", "b", "c"]:
        rows = frame.filter(pl.col("sensor_id") == sensor).sort("timestamp")
        t = rows["timestamp"].dt.epoch("us").to_numpy()
        x = rows["value"].to_numpy()
        b = np.minimum((t - t[0]) * buckets // max(t[-1] - t[0], 1), buckets - 1)
        kept = out.filter(pl.col("sensor_id") == sensor)
        kt = kept["timestamp"].dt.epoch("us").to_numpy()
        kx = kept["value"].to_numpy()
        kb = np.minimum((kt - t[0]) * buckets // max(t[-1] - t[0], 1), buckets - 1)
        assert np.all(np.diff(kt) >= 0)
        assert set(zip(kt, kx, strict=True)) <= set(zip(t, x, strict=True))  # a subset
        for k in np.unique(b):
            assert kx[kb == k].max() == x[b == k].max()
            assert kx[kb == k].min() == x[b == k].min()
            assert kt[kb == k].min() == t[b == k].min()
            assert kt[kb == k].max() == t[b == k].max()
        assert kept.height <= 4 * buckets
    assert out["value"].max() == 50.0  # the spikes survive


def test_nulls_dropped_and_bad_buckets() -> None:
    frame = _frame(4, 50).with_columns(
        value=pl.when(pl.int_range(50) % 3 == 0).then(None).otherwise("value")
    )
    assert downsample(frame, buckets=5)["value"].null_count() == 0
    with pytest.raises(InvalidParameterError):
        downsample(frame, buckets=0)
    with pytest.raises(InvalidTypeError):
        downsample(frame, buckets=2.5)  # type: ignore[arg-type]
