"""
The saqc anchor of ``bench_quality.py``: the same checks done the way a saqc user does.

Run by ``bench_quality.py`` with the anchor venv's Python (saqc and its pins live
there, not in the project's venv), as ``python _saqc_anchor.py DATA.parquet SETTINGS``
where SETTINGS is JSON; prints one JSON line: best wall and CPU seconds, sensors timed.
Imports neither sensorframe nor polars.

Per sensor, one ``SaQC`` object and the checks saqc has: ``flagMissing``,
``flagRange`` (gross range), ``flagZScore`` (global z-score outliers),
``flagZScore(method="modified", window=...)`` (the rolling-MAD, Hampel-style test),
``flagConstants`` (flat-lines), ``flagOffset`` (spikes) and ``flagJumps`` (level
shifts), the thresholds of the last two scaled by the sensor's robust step noise as
sensorframe's spike check does. saqc has no duplicate-timestamp, out-of-order, gap or
interpolation check and needs a unique, increasing time index, so those four are
pandas lines a saqc user writes, inside the timing. Reading the file and splitting it
into one pandas Series per sensor happen before the timing.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
import saqc


def checks(series: pd.Series, s: dict) -> int:
    """Every check on one sensor's readings (time index, input order); flagged count."""
    index = series.index
    order = int((index[1:] < index[:-1]).sum())  # out of order
    series = series.sort_index(kind="stable")
    duplicated = series.index.duplicated()
    series = series[~duplicated]
    step = series.index.to_series().diff()
    gaps = int((step > s["gap_factor"] * step.median()).sum())
    d2 = series.diff().diff().abs()
    line = (d2 <= s["interpolation_tolerance"]) & (series.diff().abs() > 0)
    interpolated = int(
        line.rolling(s["interpolation_min_length"]).sum().eq(s["interpolation_min_length"]).sum()
    )
    diffs = series.diff()
    noise = 1.4826 * float((diffs - diffs.median()).abs().median()) or 1e-9
    every = int(step.median().total_seconds())  # the usual step, in seconds
    qc = saqc.SaQC(pd.DataFrame({"x": series}))
    qc = (
        qc.flagMissing("x")
        .flagRange("x", min=s["valid_min"], max=s["valid_max"])
        .flagZScore("x", thresh=s["outlier_z"])
        .flagZScore("x", method="modified", window=s["hampel_window"], thresh=3.5, center=True)
        .flagConstants("x", window=s["flatline_min_length"], thresh=s["flatline_tolerance"])
        .flagOffset("x", window=f"{2 * every}s", thresh=s["spike_factor"] * noise, tolerance=noise)
        .flagJumps(
            "x",
            thresh=s["level_shift_factor"] * noise,
            window=f"{every * s['level_shift_window']}s",
        )
    )
    flagged = int((qc.flags["x"] > 0).sum())
    return flagged + order + int(duplicated.sum()) + gaps + interpolated


def main() -> None:
    path, settings = sys.argv[1], json.loads(sys.argv[2])
    table = pd.read_parquet(path)
    table["timestamp"] = table["timestamp"].dt.tz_convert(None)
    by_sensor = {
        sid: pd.Series(
            rows["value"].to_numpy(np.float64), index=pd.DatetimeIndex(rows["timestamp"])
        )
        for sid, rows in table.groupby("sensor_id", sort=True)
    }
    warnings.simplefilter("ignore")  # saqc's deprecation and pandas' future warnings

    def run() -> int:
        return sum(checks(series, settings) for series in by_sensor.values())

    run()  # warm-up
    walls, cpus = [], []
    for _ in range(settings["repeat"]):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(
        json.dumps(
            {
                "wall": min(walls),
                "cpu": min(cpus),
                "sensors": len(by_sensor),
                "saqc": saqc.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
