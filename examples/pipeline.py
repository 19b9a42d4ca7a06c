"""The whole chain for many sensors, twice: the second run detects the injected drift."""

import tempfile
from datetime import timedelta

import polars as pl

import sensorframe as sf

data = sf.datasets.synthetic(n_sensors=6, n_points=3 * 7 * 48, freq="30m", seed=6, shift_at=0.7)
start = data.frame["timestamp"].min()
pipe = sf.Pipeline(
    sf.DatasetStore(tempfile.mkdtemp()),
    sf.PipelineConfig(window=timedelta(days=7), normalize="robust"),
)
first = pipe.run(data.frame.filter(pl.col("timestamp") < start + timedelta(days=14)))  # type: ignore[operator]
second = pipe.run(data.frame)
print(first.summary())
print(second.summary())
assert second.drift is not None
print(second.sensors)
print(pipe.runs(sensor="S000").select("run_id", "event", "status", "drift_severity"))
print(pipe.latest_successful("S000"))
training = pipe.prepare_training_data(["S003", "S004"])
version = training.version
assert version is not None
print(version.dataset, version.version, version.parents)
