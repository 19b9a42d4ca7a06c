"""Shared set-ups of the compat tests: a working directory with recent readings in data/raw."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

N_POINTS = 400
STEP = timedelta(minutes=30)
"""400 readings 30 minutes apart, the newest a minute old: hours_back=168 keeps 336, leaves 64."""


def recent_readings(sensor_ids: list[str], *, seed: int = 0) -> pl.DataFrame:
    """Readings of each sensor ending one minute ago, one every 30 minutes."""
    rng = np.random.default_rng(seed)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    times = [end - (N_POINTS - 1 - i) * STEP for i in range(N_POINTS)]
    return pl.DataFrame(
        {
            "sensor_id": [sid for sid in sensor_ids for _ in range(N_POINTS)],
            "timestamp": times * len(sensor_ids),
            "value": rng.normal(20.0, 2.0, N_POINTS * len(sensor_ids)),
        }
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`tmp_path` as the working directory, holding data/raw/readings.parquet."""
    monkeypatch.chdir(tmp_path)
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    sensors = ["P-1", "SENSOR_001", "SENSOR_002", "SENSOR_003"]
    recent_readings(sensors).write_parquet(raw / "readings.parquet")
    return tmp_path
