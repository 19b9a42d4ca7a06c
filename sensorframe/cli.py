"""
The ``sensorframe`` command: quality, drift, pipeline runs and the dataset store.

Every command reads Parquet, CSV or Delta sources (``--sensor-col`` and friends map
other column names), prints a readable table, or JSON with ``--json``. A mistake prints
one line on standard error and exits with status 2; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from sensorframe.drift import DriftConfig, detect_drift
from sensorframe.errors import SensorFrameError
from sensorframe.frame import SENSOR, TIME, Columns, scan
from sensorframe.pipeline import Pipeline, PipelineConfig
from sensorframe.quality import QualityConfig, assess_quality
from sensorframe.store import DatasetStore

__all__ = ["main"]

_QUALITY_COLUMNS = [
    SENSOR,
    "status",
    "rows",
    "missing_pct",
    "outlier_pct",
    "flat_points",
    "gap_count",
    "duplicate_timestamps",
    "issues",
]
_DRIFT_COLUMNS = [
    SENSOR,
    "severity",
    "drift_detected",
    "psi",
    "ks_statistic",
    "ks_pvalue",
    "mean_shift",
    "std_ratio",
]


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the command line; return the exit status.

    Examples
    --------
    >>> from sensorframe.cli import main
    >>> main(["versions", "--root", "/nonexistent/lake", "readings"])
    2
    """
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = args.handler(args)
    except SensorFrameError as exc:
        print(f"sensorframe: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"sensorframe: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if result is not None:
        _emit(result, as_json=args.json)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sensorframe",
        description="Quality, drift, features and versioned datasets for sensor telemetry.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_: str, handler: Callable[[argparse.Namespace], Any]) -> Any:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--json", action="store_true", help="print JSON instead of tables")
        p.set_defaults(handler=handler)
        return p

    p = command("demo", "run the whole pipeline on generated data into a local lake", _demo)
    p.add_argument("--root", default="demo-lake", help="folder of the demo lake (recreated)")
    p.add_argument("--sensors", type=int, default=12, help="number of generated sensors")

    p = command("quality", "assess the quality of every sensor in SOURCE", _quality)
    _source_args(p, "source")
    p.add_argument("--outlier-z", type=float, default=3.0, help="z-score outlier threshold")
    p.add_argument("--events", action="store_true", help="list failing runs instead")

    p = command("drift", "compare CURRENT with REFERENCE, per sensor", _drift)
    _source_args(p, "reference")
    p.add_argument("current", help="Parquet/CSV file or Delta table of current readings")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level")

    p = command("run", "run the pipeline on SOURCE into the store at --root", _run)
    _source_args(p, "source")
    _root_arg(p)
    p.add_argument("--sensors", help="comma-separated sensor ids (default: all)")
    p.add_argument("--hours-back", type=float, default=168.0, help="window; 0 for all data")

    p = command("versions", "list the versions of DATASET", _versions)
    _root_arg(p)
    p.add_argument("dataset")

    p = command("lineage", "show the ancestry of DATASET at VERSION", _lineage)
    _root_arg(p)
    p.add_argument("dataset")
    p.add_argument("version", type=int, nargs="?", help="default: the latest")

    p = command("runs", "list pipeline run records", _runs)
    _root_arg(p)
    p.add_argument("--run-id")
    p.add_argument("--sensor")
    return parser


def _source_args(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument(name, help="Parquet/CSV file, folder of Parquet files or Delta table")
    p.add_argument("--sensor-col", default=SENSOR, help="name of the sensor id column")
    p.add_argument("--time-col", default=TIME, help="name of the time column")
    p.add_argument("--value-col", default="value", help="name of the value column")


def _root_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", required=True, help="store root: a folder or s3://bucket/prefix")


def _columns(args: argparse.Namespace) -> Columns:
    return Columns(sensor=args.sensor_col, time=args.time_col, value=args.value_col)


def _quality(args: argparse.Namespace) -> pl.DataFrame:
    report = assess_quality(
        scan(args.source, columns=_columns(args)), QualityConfig(outlier_z=args.outlier_z)
    )
    return report.events if args.events else report.table


def _drift(args: argparse.Namespace) -> pl.DataFrame:
    cols = _columns(args)
    report = detect_drift(
        scan(args.reference, columns=cols),
        scan(args.current, columns=cols),
        DriftConfig(alpha=args.alpha),
    )
    return report.table


def _run(args: argparse.Namespace) -> pl.DataFrame:
    window = timedelta(hours=args.hours_back) if args.hours_back > 0 else None
    pipe = Pipeline(DatasetStore(args.root), PipelineConfig(window=window))
    sensors = args.sensors.split(",") if args.sensors else None
    run = pipe.run(scan(args.source, columns=_columns(args)), sensors=sensors)
    print(run.summary(), file=sys.stderr)
    return run.sensors


def _versions(args: argparse.Namespace) -> pl.DataFrame:
    return _existing_store(args.root).versions(args.dataset)


def _lineage(args: argparse.Namespace) -> pl.DataFrame:
    store = _existing_store(args.root)
    version = store.latest(args.dataset).version if args.version is None else args.version
    return store.lineage(args.dataset, version)


def _runs(args: argparse.Namespace) -> pl.DataFrame:
    pipe = Pipeline(_existing_store(args.root))
    return pipe.runs(run_id=args.run_id, sensor=args.sensor).drop("params")


def _existing_store(root: str) -> DatasetStore:
    if "://" not in root and not Path(root).is_dir():
        msg = f"no store at {root}"
        raise SensorFrameError(msg)
    return DatasetStore(root)


def _demo(args: argparse.Namespace) -> None:
    from sensorframe.demo import run_demo

    root = Path(args.root)
    if root.exists():
        if not (root / "_sensorframe").is_dir():
            msg = f"{root} exists and is not a sensorframe lake; choose another --root"
            raise SensorFrameError(msg)
        shutil.rmtree(root)
    run_demo(str(root), n_sensors=args.sensors, as_json=args.json)


def _emit(table: pl.DataFrame, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(table.to_dicts(), default=str, indent=1))
        return
    print(render(table))


def render(table: pl.DataFrame, *, max_rows: int = 40) -> str:
    """Render a table for a terminal: all columns, at most ``max_rows`` rows."""
    with pl.Config(
        tbl_rows=max_rows,
        tbl_cols=-1,
        tbl_width_chars=200,
        fmt_str_lengths=60,
        fmt_table_cell_list_len=3,
        tbl_hide_dataframe_shape=True,
        float_precision=4,
    ):
        return str(table)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
