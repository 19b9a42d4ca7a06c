"""Quality of many sensors at once: the per-sensor table, one sensor's record, events, flags."""

import polars as pl

import sensorframe as sf

data = sf.datasets.synthetic(n_sensors=8, n_points=2_000, seed=1)
report = sf.assess_quality(data.frame, sf.QualityConfig(outlier_z=3.0))
print(report.table.select("sensor_id", "status", "missing_pct", "outlier_count", "flat_runs"))

worst = report.table.sort("pass_rate")["sensor_id"][0]
record = report[worst]
print(worst, record.status, *record.issues, sep="\n  ")
print(report.events.head())

flags = sf.flag_quality(data.frame)
clean = flags.filter(~pl.col("flag_any")).collect()
print(f"{clean.height:,} of {data.frame.height:,} rows pass every check")

# the checks are expressions too: use them in your own queries
noise = data.frame.group_by("sensor_id").agg(sf.quality.noise_level("value").alias("noise"))
print(noise.sort("sensor_id").head(3))

# the original design's usage: 10 NaN and 10 spikes of 100 in 1,000 points
values = [1.0 + 0.01 * (i % 7) for i in range(1_000)]
for i in range(10):
    values[i * 97] = float("nan")
    values[i * 97 + 3] = 100.0
times = pl.datetime_range(
    pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 1, 16, 39), "1m", eager=True
)
single = sf.assess_quality(sf.scan(pl.Series(values).to_numpy(), timestamps=times, sensor_id="P-1"))
assert single["P-1"].missing_count == 10
assert single["P-1"].outlier_count > 0
assert single["P-1"].issues
