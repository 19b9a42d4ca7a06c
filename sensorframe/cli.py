"""
The ``sensorframe`` command: quality, drift, feature exploration, pipelines and the store.

Every command reads Parquet, CSV or Delta sources (``--sensor-col`` and friends map
other column names; ``--time-format`` and ``--timezone`` say how to read times), prints
a readable table, or JSON with ``--json``. A mistake prints one line on standard error
and exits with status 2 (a bad flag value: argparse's usage line and error, status 2);
an unexpected error (a bug) prints one line too and exits with status 1. Nothing prints
a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar, get_args

import polars as pl

from sensorframe._multiple_testing import Adjustment
from sensorframe._render import render
from sensorframe.drift import DriftConfig, detect_drift
from sensorframe.errors import InvalidParameterError, SensorFrameError
from sensorframe.explore.target import TargetKind
from sensorframe.features import FeatureConfig
from sensorframe.frame import SENSOR, TIME, Ambiguous, Columns, scan
from sensorframe.pipeline import Pipeline, PipelineConfig
from sensorframe.pipeline.config import MAX_WINDOW
from sensorframe.quality import QualityConfig, assess_quality
from sensorframe.store import DatasetStore

__all__ = ["main"]

_N = TypeVar("_N", int, float)
DEMO_MARK = ".sensorframe-demo"
"""File the demo writes into its lake: only such a folder may be replaced (``--force``)."""
MAX_DEMO_SENSORS = 1_000
# Hints in library messages that name Python arguments, and the flags that do the same.
_FLAG_HINTS = (
    (re.compile(r"columns=sf\.Columns\([^)]*\)"), "--sensor-col, --time-col and --value-col"),
    (re.compile(r"\btime_format=(\S+)"), r"--time-format \1"),
    (re.compile(r"\btime_format="), "--time-format"),
    (re.compile(r"\btimezone="), "--timezone "),
    (re.compile(r"\bambiguous='(infer|earliest|latest)'"), r"--ambiguous \1"),
    (re.compile(r"`horizon`"), "--target-horizon"),
    (re.compile(r"`threshold`"), "--threshold"),
    (re.compile(r"kind='event'"), "--target-kind event"),
    (re.compile(r"kind='(value|mean|max)'"), r"--target-kind \1"),
)

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
        _fail(str(exc))
        return 2
    except (OSError, ValueError) as exc:
        _fail(f"{type(exc).__name__}: {exc}")
        return 2
    except Exception as exc:  # a bug of the library: still one line, no traceback
        _fail(_bug(exc), kind="internal error")
        return 1
    except BaseException as exc:
        # A Rust panic (pyo3's PanicException, one class per extension module) derives
        # from BaseException; KeyboardInterrupt and SystemExit go on as they are.
        if type(exc).__name__ != "PanicException":
            raise
        _fail(_bug(exc), kind="internal error")
        return 1
    if result is not None:
        _emit(result, as_json=args.json)
    return 0


def _bug(exc: BaseException) -> str:
    return (
        f"{type(exc).__name__}: {exc} (a bug in sensorframe: please report it with the "
        "command that failed)"
    )


def _fail(message: str, *, kind: str = "error") -> None:
    """Print ``message`` as one line, with flags in place of the library's Python hints."""
    for pattern, flag in _FLAG_HINTS:
        message = pattern.sub(flag, message)
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"sensorframe: {kind}: {line}", file=sys.stderr)


def _number(
    convert: Callable[[str], _N],
    *,
    low: _N,
    high: _N | None = None,
    open_low: bool = False,
    open_high: bool = False,
) -> Callable[[str], _N]:
    """Return an argparse ``type``: a finite number within bounds, else an argparse error."""
    rule = f"{'>' if open_low else '>='} {low:g}"
    if high is not None:
        rule += f" and {'<' if open_high else '<='} {high:g}"

    def parse(text: str) -> _N:
        try:
            value = convert(text)
        except ValueError:
            msg = f"not {'an integer' if convert is int else 'a number'}: {text!r}"
            raise argparse.ArgumentTypeError(msg) from None
        inside = math.isfinite(value) and (value > low if open_low else value >= low)
        if high is not None:
            inside = inside and (value < high if open_high else value <= high)
        if not inside:
            msg = f"must be a finite number {rule}, got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


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
    p.add_argument(
        "--root", default="demo-lake", help="folder of the demo lake: new, empty, or --force"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the lake of an earlier demo at --root (never any other folder)",
    )
    p.add_argument(
        "--sensors",
        type=_number(int, low=1, high=MAX_DEMO_SENSORS),
        default=12,
        help=f"number of generated sensors (1 to {MAX_DEMO_SENSORS})",
    )

    p = command("quality", "assess the quality of every sensor in SOURCE", _quality)
    _source_args(p, "source")
    p.add_argument(
        "--outlier-z",
        type=_number(float, low=0.0, open_low=True),
        default=3.0,
        help="z-score outlier threshold",
    )
    p.add_argument("--events", action="store_true", help="list failing runs instead")

    p = command("drift", "compare CURRENT with REFERENCE, per sensor", _drift)
    _source_args(p, "reference")
    p.add_argument("current", help="Parquet/CSV file or Delta table of current readings")
    p.add_argument(
        "--alpha",
        type=_number(float, low=0.0, high=1.0, open_low=True, open_high=True),
        default=0.05,
        help="significance level",
    )

    p = command("run", "run the pipeline on SOURCE into the store at --root", _run)
    _source_args(p, "source")
    _root_arg(p)
    p.add_argument("--sensors", help="comma-separated sensor ids (default: all)")
    p.add_argument(
        "--hours-back",
        type=_number(float, low=0.0, high=MAX_WINDOW.days * 24),
        metavar="HOURS",
        help="use only the readings of the last HOURS hours before now (this machine's "
        f"clock; at most {MAX_WINDOW.days * 24}); default: every reading",
    )
    p.add_argument(
        "--window-hours",
        type=_number(float, low=0.0, high=MAX_WINDOW.days * 24, open_low=True),
        metavar="HOURS",
        help="use only the readings of the last HOURS hours before the source's newest "
        "reading; default: every reading",
    )

    p = command(
        "explore",
        "what each feature family costs on SOURCE and what it tells about the readings ahead",
        _explore,
    )
    _source_args(p, "source")
    _config_arg(p)
    p.add_argument(
        "--target-horizon",
        metavar="HORIZON",
        help="predict the readings this far ahead: a duration (1h, 90min) or a row count "
        "(12); without it, cost, completeness and redundancy only",
    )
    p.add_argument(
        "--target-kind",
        choices=get_args(TargetKind),
        default="value",
        help="the target: the reading at the horizon, or the mean / max of the readings "
        "up to it, or whether one exceeds --threshold (event)",
    )
    p.add_argument("--threshold", type=_number(float, low=-math.inf), help="level of an event")
    p.add_argument(
        "--fdr",
        type=_number(float, low=0.0, high=1.0, open_low=True, open_high=True),
        default=0.05,
        help="false discovery rate of the relevance selection",
    )
    p.add_argument("--method", choices=get_args(Adjustment), default="by",
                   help="adjustment across features: Benjamini-Yekutieli or -Hochberg")  # fmt: skip
    _sample_arg(p)
    p.add_argument("--report", metavar="HTML", help="also write a page with a cost/relevance plot")

    p = command("bench", "time each feature family on SOURCE, against pandas", _bench)
    _source_args(p, "source")
    _config_arg(p)
    _sample_arg(p)
    p.add_argument(
        "--repeat", type=_number(int, low=1, high=100), default=3, help="timed runs (best kept)"
    )

    p = command("versions", "list the versions of DATASET", _versions)
    _root_arg(p)
    p.add_argument("dataset")

    p = command("lineage", "show the ancestry of DATASET at VERSION", _lineage)
    _root_arg(p)
    p.add_argument("dataset")
    p.add_argument("version", type=_number(int, low=0), nargs="?", help="default: the latest")

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
    p.add_argument(
        "--time-format",
        help="strftime format of textual times, e.g. '%%m/%%d/%%Y %%H:%%M' "
        "(default: ISO-8601 only)",
    )
    p.add_argument(
        "--timezone",
        help="IANA zone in which naive times are read, e.g. Europe/Berlin (default: UTC)",
    )
    p.add_argument(
        "--ambiguous",
        choices=get_args(Ambiguous),
        default="raise",
        help="with --timezone: how to read a repeated hour at a DST fall-back "
        "(infer: each sensor's readings in row order)",
    )


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default="default",
        metavar="CONFIG",
        help="the features: default (60), minimal, or a JSON file of FeatureConfig fields "
        '(e.g. {"rolling_windows": [6, "1h"], "lags": [1]})',
    )


def _sample_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sample-sensors",
        type=_number(int, low=1),
        metavar="N",
        help="use N sensors drawn at random (default: all up to a million rows)",
    )


def _root_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", required=True, help="store root: a folder or s3://bucket/prefix")


def _scan(args: argparse.Namespace, source: str) -> pl.LazyFrame:
    """Scan ``source`` with the column, time-format and time-zone flags."""
    return scan(
        source,
        columns=Columns(sensor=args.sensor_col, time=args.time_col, value=args.value_col),
        time_format=args.time_format,
        timezone=args.timezone,
        ambiguous=args.ambiguous,
    )


def _quality(args: argparse.Namespace) -> pl.DataFrame:
    report = assess_quality(_scan(args, args.source), QualityConfig(outlier_z=args.outlier_z))
    if args.events:
        return report.events
    return report.table if args.json else _columns(report.table, _QUALITY_COLUMNS)


def _drift(args: argparse.Namespace) -> pl.DataFrame:
    report = detect_drift(
        _scan(args, args.reference), _scan(args, args.current), DriftConfig(alpha=args.alpha)
    )
    return report.table if args.json else _columns(report.table, _DRIFT_COLUMNS)


def _columns(table: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Keep the columns of a terminal table that fit a screen (JSON keeps them all)."""
    return table.select(c for c in names if c in table.columns)


def _run(args: argparse.Namespace) -> pl.DataFrame:
    hours_back = args.hours_back or None
    if args.hours_back == 0:
        print(
            "sensorframe: warning: --hours-back 0 is deprecated: every reading is the default",
            file=sys.stderr,
        )
    window = timedelta(hours=args.window_hours) if args.window_hours else None
    config = PipelineConfig(window=window, hours_back=hours_back)
    pipe = Pipeline(DatasetStore(args.root), config)
    sensors = args.sensors.split(",") if args.sensors else None
    run = pipe.run(_scan(args, args.source), sensors=sensors)
    print(run.summary(), file=sys.stderr)
    return run.sensors


def _feature_config(text: str) -> FeatureConfig:
    if text in ("default", "minimal"):
        return FeatureConfig.default() if text == "default" else FeatureConfig.minimal()
    path = Path(text)
    if not path.is_file():
        msg = f"--config {text}: neither default, minimal nor a JSON file"
        raise InvalidParameterError(msg)
    try:
        fields = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        msg = f"--config {text} is not valid JSON: {exc}"
        raise InvalidParameterError(msg) from exc
    if not isinstance(fields, dict):
        msg = f"--config {text} must hold a JSON object of FeatureConfig fields"
        raise InvalidParameterError(msg)
    known = set(FeatureConfig.__dataclass_fields__)
    unknown = sorted(set(fields) - known)
    if unknown:
        msg = f"--config {text}: unknown field(s) {unknown}; fields are {sorted(known)}"
        raise InvalidParameterError(msg)
    return FeatureConfig(**fields)


def _explore(args: argparse.Namespace) -> pl.DataFrame | None:
    from sensorframe.explore import explore_features, make_target
    from sensorframe.explore.report import exploration_html

    frame = _scan(args, args.source)
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
        _feature_config(args.config),
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


def _bench(args: argparse.Namespace) -> pl.DataFrame:
    from sensorframe.explore.bench import bench_families

    table, note = bench_families(
        _scan(args, args.source),
        _feature_config(args.config),
        sample_sensors=args.sample_sensors,
        repeat=args.repeat,
    )
    print(note, file=sys.stderr)
    return table


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


def _emit(table: pl.DataFrame, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(table.to_dicts(), default=str, indent=1))
        return
    print(render(table))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
