"""Features for all sensors in one lazy query, a model matrix, and a whole-series spectrum."""

import sensorframe as sf

data = sf.datasets.synthetic(n_sensors=4, n_points=1_000, seed=3, faults=())
cfg = sf.FeatureConfig.default(rolling_windows=[6, 24, "1h"], lags=[1, 2, 3], spectral_window=32)
feats = sf.engineer_features(data.frame, cfg)
names = sf.feature_names(cfg)
print(f"{len(names)} features: {names[:8]} ...")

X = sf.feature_matrix(feats, ["value", "rolling_24_mean", "lag_1", "diff_1"], drop_nulls=True)
print(X.shape)

try:
    sf.feature_matrix(feats, ["rolling_99_mean"])
except sf.UnknownFeatureError as exc:
    print("unknown feature:", str(exc)[:60], "...")

print(sf.spectral_summary(data.frame, top_k=2))

# single features as expressions in your own query
own = data.frame.sort("sensor_id", "timestamp").with_columns(
    sf.features.rolling_stat("value", window=12, stat="mean").over("sensor_id").alias("m12")
)
print(own.head(3))
