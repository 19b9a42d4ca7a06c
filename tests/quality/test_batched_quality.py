"""Quality in batches of whole sensors equals quality over every sensor at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import sensorframe as sf
from sensorframe.errors import InvalidParameterError
from sensorframe.quality import QualityConfig, QualityReport


def _fleet(seed: int, n_sensors: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_sensors):
        n = int(rng.integers(1, 120))
        minutes = np.sort(rng.choice(400, size=n, replace=True))  # duplicates and gaps
        values = np.round(rng.normal(size=n), 1)
        values[rng.random(n) < 0.1] = np.nan
        values[: n // 4] = values[0]  # a flat start
        parts.append(
            pl.DataFrame(
                {
                    "sensor_id": f"S{i:02d}",
                    "timestamp": pl.Series(minutes * 60_000_000).cast(pl.Datetime("us", "UTC")),
                    "value": values,
                }
            )
        )
    return pl.concat(parts).sample(fraction=1.0, shuffle=True, seed=seed)  # not in order


@given(seed=st.integers(0, 2**16), n_sensors=st.integers(1, 6), batch_rows=st.integers(1, 400))
@example(seed=5165, n_sensors=2, batch_rows=1)  # equal row counts: `rows` a scalar column
def test_batched_quality_equals_the_whole(seed: int, n_sensors: int, batch_rows: int) -> None:
    frame = _fleet(seed, n_sensors)
    whole = sf.assess_quality(frame)
    batched = sf.assess_quality(frame.lazy(), batch_rows=batch_rows)
    assert_frame_equal(batched.table, whole.table, check_exact=True)
    assert_frame_equal(batched.events, whole.events, check_exact=True)
    flags = sf.quality.flag_quality(frame.lazy(), batch_rows=batch_rows)
    assert_frame_equal(flags.collect(), sf.quality.flag_quality(frame).collect(), check_exact=True)
    assert flags.collect().height == frame.height  # collected twice: the batches are re-read


def test_out_of_order_is_counted_in_input_order() -> None:
    frame = _fleet(7, 3)
    whole = sf.assess_quality(frame)
    assert whole.table["out_of_order"].sum() > 0  # the shuffle stepped back in time
    batched = sf.assess_quality(frame.lazy(), batch_rows=40)
    assert_frame_equal(
        batched.table.select("out_of_order"), whole.table.select("out_of_order"), check_exact=True
    )


def test_flags_sink_a_batch_at_a_time(tmp_path: Path) -> None:
    frame = _fleet(3, 5)
    source = tmp_path / "in.parquet"
    frame.write_parquet(source)
    out = tmp_path / "flags.parquet"
    sf.quality.flag_quality(str(source), batch_rows=50).sink_parquet(out)
    assert_frame_equal(
        pl.read_parquet(out), sf.quality.flag_quality(frame).collect(), check_exact=True
    )


def test_per_sensor_settings_reach_every_batch() -> None:
    frame = _fleet(4, 4)
    per_sensor = pl.DataFrame({"sensor_id": ["S00", "S03"], "valid_max": [0.0, 0.5]})
    cfg = QualityConfig(per_sensor=per_sensor)
    whole = sf.assess_quality(frame, cfg)
    assert_frame_equal(
        sf.assess_quality(frame.lazy(), cfg, batch_rows=30).table, whole.table, check_exact=True
    )
    assert whole.table.filter(pl.col("sensor_id") == "S00")["range_failures"].item() > 0


def test_concat_refuses_repeated_sensors() -> None:
    report = sf.assess_quality(_fleet(1, 2))
    with pytest.raises(InvalidParameterError, match="more than one report"):
        QualityReport.concat([report, report])
    with pytest.raises(InvalidParameterError, match="empty"):
        QualityReport.concat([])
