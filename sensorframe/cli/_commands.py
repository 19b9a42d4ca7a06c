"""The handlers of the ``sensorframe`` commands: each returns a table to print, or None."""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl

from sensorframe._render import render
from sensorframe.cli._inputs import feature_config, quality_config, read_source
from sensorframe.cli._output import drift_summary, quality_summary
from sensorframe.drift import DriftConfig, detect_drift
from sensorframe.errors import InvalidParameterError, SensorFrameError
from sensorframe.pipeline import Pipeline, PipelineConfig
from sensorframe.quality import assess_quality
from sensorframe.store import DatasetStore

__all__ = [
    "DEMO_MARK",
    "bench",
    "demo",
    "drift",
    "explore",
    "lineage",
    "quality",
    "report",
    "run",
    "runs",
    "versions",
]

DEMO_MARK = ".sensorframe-demo"
"""File the demo writes into its lake: only such a folder may be replaced (``--force``)."""


def quality(args: argparse.Namespace) -> pl.DataFrame:
    """Assess the quality of every sensor of the source."""
    report = assess_quality(read_source(args, args.source), quality_config(args))
    if args.events:
        return report.events
    return report.table if args.json or args.full else quality_summary(report.table)


def drift(args: argparse.Namespace) -> pl.DataFrame:
    """Compare the current file with the reference file, per sensor."""
    report = detect_drift(
        read_source(args, args.reference, prefix="reference-"),
        read_source(args, args.current),
        DriftConfig(alpha=args.alpha),
    )
    return report.table if args.json or args.full else drift_summary(report.table)


def run(args: argparse.Namespace) -> pl.DataFrame:
    """Run the pipeline into the store at ``--root``."""
    hours_back = args.hours_back or None
    if args.hours_back == 0:
        print(
            "sensorframe: warning: --hours-back 0 is deprecated: every reading is the default",
            file=sys.stderr,
        )
    if args.refit and not args.incremental:
        msg = "--refit refits the normalizer of an incremental run: it needs --incremental"
        raise InvalidParameterError(msg)
    window = timedelta(hours=args.window_hours) if args.window_hours else None
    config = PipelineConfig(window=window, hours_back=hours_back, report=args.report)
    pipe = Pipeline(DatasetStore(args.root), config)
    sensors = args.sensors.split(",") if args.sensors else None
    source = read_source(args, args.source)
    if args.incremental:
        result = pipe.run(source, sensors=sensors, incremental=True, refit=args.refit)
    else:
        result = pipe.run(source, sensors=sensors)
    print(result.summary(), file=sys.stderr)
    if result.report_path is not None:
        print(f"report written to {result.report_path}", file=sys.stderr)
    return result.sensors


def report(args: argparse.Namespace) -> None:
    """Write the HTML report of the source (and of its drift from ``--reference``)."""
    from sensorframe.reporting import report as write_report

    frame = read_source(args, args.source).collect()
    quality_report = assess_quality(frame, quality_config(args))
    drift_report = reference = None
    if args.reference is not None:
        reference = read_source(args, args.reference, prefix="reference-").collect()
        drift_report = detect_drift(reference, frame, DriftConfig(alpha=args.alpha))
    path = write_report(
        quality=quality_report,
        drift=drift_report,
        frame=frame,
        reference=reference,
        sensors=args.show or None,
        worst=args.worst,
        path=args.output,
    )
    print(f"report written to {path}", file=sys.stderr)


def explore(args: argparse.Namespace) -> pl.DataFrame | None:
    """Time each feature family and test what it tells about the readings ahead."""
    from sensorframe.explore import explore_features, make_target
    from sensorframe.explore.report import exploration_html

    frame = read_source(args, args.source)
    target = None
    if args.target_horizon is not None:
        text = args.target_horizon.strip()
        horizon: int | str = int(text) if text.isdecimal() else text
        threshold = args.threshold
        target = make_target(frame, horizon=horizon, kind=args.target_kind, threshold=threshold)
    elif args.report:
        msg = "--report plots cost against relevance: it needs --target-horizon"
        raise InvalidParameterError(msg)
    result = explore_features(
        frame,
        feature_config(args.config),
        target=target,
        sample_sensors=args.sample_sensors,
        fdr=args.fdr,
        method=args.method,
    )
    print(repr(result), file=sys.stderr)
    if args.report:
        Path(args.report).write_text(exploration_html(result))
        print(f"report written to {args.report}", file=sys.stderr)
    if args.json:
        return result.table
    wide = ["feature", "family", "seconds_per_million_rows", "peak_mb_per_million_rows"]
    wide += ["null_share", "max_abs_correlation"]
    wide += ["rank_correlation", "p_value_adjusted"] if target is not None else []
    short = {"seconds_per_million_rows": "s_per_Mrow", "peak_mb_per_million_rows": "MB_per_Mrow"}
    print(render(result.table.select(*wide, "selected").rename(short), max_rows=1_000))
    return None


def bench(args: argparse.Namespace) -> pl.DataFrame:
    """Time each feature family on the source, against pandas."""
    from sensorframe.explore.bench import bench_families

    table, note = bench_families(
        read_source(args, args.source),
        feature_config(args.config),
        sample_sensors=args.sample_sensors,
        repeat=args.repeat,
    )
    print(note, file=sys.stderr)
    return table


def versions(args: argparse.Namespace) -> pl.DataFrame:
    """List the versions of a dataset."""
    return _existing_store(args.root).versions(args.dataset)


def lineage(args: argparse.Namespace) -> pl.DataFrame:
    """Show the ancestry of a dataset version."""
    store = _existing_store(args.root)
    version = store.latest(args.dataset).version if args.version is None else args.version
    return store.lineage(args.dataset, version)


def runs(args: argparse.Namespace) -> pl.DataFrame:
    """List the pipeline run records."""
    pipe = Pipeline(_existing_store(args.root))
    return pipe.runs(run_id=args.run_id, sensor=args.sensor).drop("params")


def _existing_store(root: str) -> DatasetStore:
    if "://" not in root and not Path(root).is_dir():
        msg = f"--root {root}: no store there"
        raise SensorFrameError(msg)
    return DatasetStore(root)


def demo(args: argparse.Namespace) -> None:
    """
    Run the demo into ``--root``: a new or empty folder, or an earlier demo's with --force.

    A folder holding anything else is never deleted, with or without ``--force``.
    """
    from sensorframe.demo import run_demo

    root = Path(args.root)
    if root.exists() and any(root.iterdir()):
        if not (root / DEMO_MARK).is_file():
            msg = (
                f"{root} is not empty and was not made by the demo; the demo never deletes "
                "it: choose another --root"
            )
            raise InvalidParameterError(msg)
        if not args.force:
            msg = (
                f"{root} holds the lake of an earlier demo; pass --force to replace it, "
                "or choose another --root"
            )
            raise InvalidParameterError(msg)
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / DEMO_MARK).write_text("made by `sensorframe demo`; --force may replace this folder\n")
    run_demo(str(root), n_sensors=args.sensors, as_json=args.json)
