"""Dataset versions on Delta Lake: commit, time travel, tags, lineage, model links, verify."""

import tempfile

import polars as pl

import sensorframe as sf

store = sf.DatasetStore(tempfile.mkdtemp())  # or "s3://bucket/lake", storage_options={...}
data = sf.datasets.synthetic(n_sensors=3, n_points=500, seed=5)

raw = store.commit("readings", data.frame, description="raw pull", tags=["raw"])
clean = store.commit("clean", data.frame.filter(pl.col("value").is_not_null()), parents=[raw])
features = sf.engineer_features(store.read("clean", version=clean.version))
feats = store.commit("features", features, parents=[clean])
store.tag("features", feats.version, "stable")
store.link_model("features", feats.version, model_id="forecaster", model_version="1.2")

print(store.versions("readings").select("version", "rows", "data_hash", "description"))
print(store.lineage("features", feats.version))
print(store.model_datasets("forecaster"))
assert sf.content_hash(store.read("readings", version=raw.version)) == raw.data_hash
assert sf.content_hash(store.read("features", tag="stable")) == feats.data_hash
assert bool(store.verify("readings", raw.version))
