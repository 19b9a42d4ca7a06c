"""
The end-to-end demo behind ``make demo`` / ``sensorframe demo``.

Generates four weeks of telemetry for a dozen sensors with injected faults in the first
two weeks and a level shift from day 17 in half of them, then runs the pipeline twice
into a local Delta lake: a first run on weeks 1-2 (which finds the faults and stores the
drift reference) and a second on weeks 3-4 (which finds the shift). Each run writes
its HTML report into the lake (``PipelineConfig(report=True)``). It prints the quality
table, the drift table, the dataset versions with their lineage, a model link, the run
records and where the reports are. ``sensorframe demo`` writes only into a new or
empty folder, or, with ``--force``, replaces the lake of an earlier demo; it never
deletes anything else.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import timedelta

import polars as pl

from sensorframe._render import render
from sensorframe.datasets import synthetic
from sensorframe.frame import SENSOR, TIME
from sensorframe.pipeline import Pipeline, PipelineConfig
from sensorframe.store import DatasetStore

__all__ = ["run_demo"]


def run_demo(root: str, *, n_sensors: int = 12, as_json: bool = False) -> dict[str, object]:
    """
    Run the demo into the store at ``root`` and print what each step found.

    Returns
    -------
    dict
        The two pipeline runs and the store, for programmatic use.
    """
    out: dict[str, object] = {}

    def show(title: str, table: pl.DataFrame) -> None:
        out[title] = table.to_dicts()
        if not as_json:
            print(f"\n== {title} ({table.height} rows)\n{render(table)}")

    data = synthetic(
        n_sensors=n_sensors, n_points=4 * 7 * 24 * 6, freq="10m", seed=42, shift_at=0.6
    )
    store = DatasetStore(root)
    # the reports need the `report` extra; without it the demo runs and says so
    reports = importlib.util.find_spec("matplotlib") is not None
    pipe = Pipeline(store, PipelineConfig(window=timedelta(days=14), report=reports))
    start = data.frame[TIME].min()
    weeks_1_2 = data.frame.filter(pl.col(TIME) < start + timedelta(days=14))  # type: ignore[operator]
    first = pipe.run(weeks_1_2, description="weeks 1-2", progress=False)
    second = pipe.run(data.frame, description="weeks 3-4", progress=False)
    if not as_json:
        print(f"sensorframe demo: {data.frame.height:,} readings of {n_sensors} sensors, 4 weeks")
        print("faults injected in weeks 1-2; a level shift from day 17 in half the sensors")
        print(render(data.labels.group_by("fault").agg(pl.len().alias("labels")).sort("fault")))
        print(first.summary())
        print(second.summary())
    assert first.quality is not None
    quality_cols = [SENSOR, "status", "missing_pct", "outlier_count", "flat_points", "gap_count"]
    show("quality of weeks 1-2 (first run)", first.quality.table.select(*quality_cols, "issues"))
    show("quality events, first 12", first.quality.events.head(12))
    if second.drift is not None:
        drift = second.drift.table.select(
            SENSOR, "severity", "drift_detected", "psi", "ks_pvalue", "mean_shift", "std_ratio"
        )
        show("drift of weeks 3-4 against the reference stored by the first run", drift)
        if not as_json:
            print("(S000-S005 carry the injected shift; a clean sensor can show LOW/MODERATE")
            print(" drift from its own slow trend, a real but small change in distribution)")
    processed = second.versions["processed"]
    store.tag("processed", processed.version, "demo-latest")
    store.link_model("processed", processed.version, model_id="forecaster", model_version="1.0")
    versions = store.versions("processed").select(
        "dataset", "version", "created_at", "rows", "n_sensors",
        pl.col("data_hash").str.slice(0, 12), "tags", "description", "parents",
    )  # fmt: skip
    show("versions of 'processed'", versions)
    show(f"lineage of processed@{processed.version}", store.lineage("processed", processed.version))
    show("models trained on it", store.models("processed", processed.version))
    records = (
        pipe.runs()
        .filter(pl.col("event") == "finish")
        .group_by("run_id", maintain_order=True)
        .agg(
            pl.col("at").first().alias("finished_at"),
            pl.len().alias("sensors"),
            (pl.col("status") == "success").sum().alias("succeeded"),
            pl.col("drift_detected").sum().alias("drift_detected"),
            pl.col("raw_version").first(),
            pl.col("processed_version").first(),
            pl.col("report").first(),
        )
    )
    show("run records (finish events per run)", records)
    out["reports"] = [first.report_path, second.report_path]
    if as_json:
        print(json.dumps(out, default=str))
    else:
        hint = f"sensorframe versions --root {root} raw"
        print(f"\nlake written to {root}/ (Delta tables; try `{hint}`)")
        if reports:
            print(f"report of weeks 1-2 (quality faults): {first.report_path}")
            print(f"report of weeks 3-4 (drift): {second.report_path}")
        else:
            print("no HTML reports: they need matplotlib (pip install 'sensorframe[report]')")
    return {"runs": [first, second], "store": store}
