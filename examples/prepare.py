"""Training data: chronological splits, a normalizer fitted on train only, a content hash."""

import tempfile
from pathlib import Path

import sensorframe as sf

data = sf.datasets.synthetic(n_sensors=5, n_points=1_000, seed=2, faults=())
train, val, test = sf.split(data.frame, (0.7, 0.15, 0.15))

norm = sf.Normalizer("robust").fit(train)
print(norm.params_)
scaled = norm.transform(val).collect()  # val is lazy, so is the result
restored = norm.inverse_transform(scaled)  # a DataFrame in gives a DataFrame out
assert (restored["value"] - val.collect()["value"]).abs().max() < 1e-9  # type: ignore[operator]

path = Path(tempfile.mkdtemp()) / "normalizer.json"
norm.save(path)
assert sf.Normalizer.load(path).params_.equals(norm.params_)

prepared = sf.prepare_training_data(data.frame, (0.7, 0.15, 0.15), normalize="zscore")
print(prepared.train.height, prepared.val.height, prepared.test.height, prepared.data_hash[:12])
assert prepared.data_hash == sf.content_hash(data.frame.sample(fraction=1.0, shuffle=True))
