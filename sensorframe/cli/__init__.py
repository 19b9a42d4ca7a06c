"""
The ``sensorframe`` command: quality, drift, reports, feature exploration, pipelines, the store.

Every command reads Parquet, CSV or Delta sources: long files (``--sensor-col`` and
friends map other column names), wide files (``--wide``) and single-sensor files
(``--sensor NAME``); ``--time-format`` and ``--timezone`` say how to read times (nothing
is guessed). A terminal gets a compact summary per sensor; ``--full`` the whole table,
``--json`` JSON. A mistake prints one line on standard error and exits with status 2 (a
bad flag value: argparse's usage line and error, status 2); an unexpected error (a bug)
prints one line too and exits with status 1. Nothing prints a traceback, unless
``--log-level debug``.

Modules: :mod:`._inputs` (source and settings flags), :mod:`._commands` (one handler per
command), :mod:`._output` (summaries, tables, JSON and error lines).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any, get_args

from sensorframe._multiple_testing import Adjustment
from sensorframe.cli import _commands as commands
from sensorframe.cli._inputs import number, quality_args, source_args
from sensorframe.cli._output import emit, fail
from sensorframe.errors import SensorFrameError
from sensorframe.explore.target import TargetKind
from sensorframe.pipeline.config import MAX_WINDOW

__all__ = ["main"]

MAX_DEMO_SENSORS = 1_000
_LEVELS = ("debug", "info", "warning", "error")


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
    level = "info" if args.verbose and args.log_level == "warning" else args.log_level
    logging.basicConfig(
        level=level.upper(), format="%(levelname)s %(name)s: %(message)s", force=True
    )
    try:
        result = args.handler(args)
    except SensorFrameError as exc:
        _debug_traceback(args)
        fail(str(exc))
        return 2
    except (OSError, ValueError) as exc:
        _debug_traceback(args)
        fail(f"{type(exc).__name__}: {exc}")
        return 2
    except Exception as exc:  # a bug of the library: still one line, no traceback
        _debug_traceback(args)
        fail(_bug(exc), kind="internal error")
        return 1
    except BaseException as exc:
        # A Rust panic (pyo3's PanicException, one class per extension module) derives
        # from BaseException; KeyboardInterrupt and SystemExit go on as they are.
        if type(exc).__name__ != "PanicException":
            raise
        _debug_traceback(args)
        fail(_bug(exc), kind="internal error")
        return 1
    if result is not None:
        emit(result, as_json=args.json, vertical=getattr(args, "full", False))
    return 0


def _bug(exc: BaseException) -> str:
    return (
        f"{type(exc).__name__}: {exc} (a bug in sensorframe: please report it with the "
        "command that failed)"
    )


def _debug_traceback(args: argparse.Namespace) -> None:
    if args.log_level == "debug":
        traceback.print_exc(file=sys.stderr)


def _version() -> str:
    try:
        return package_version("sensorframe")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sensorframe",
        description="Quality, drift, features and versioned datasets for sensor telemetry.",
    )
    parser.add_argument("--version", action="version", version=f"sensorframe {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_: str, handler: Callable[[argparse.Namespace], Any]) -> Any:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--json", action="store_true", help="print JSON instead of tables")
        p.add_argument(
            "-v", "--verbose", action="store_true", help="log progress (as --log-level info)"
        )
        p.add_argument(
            "--log-level",
            choices=_LEVELS,
            default="warning",
            help="what to log on standard error; debug also prints tracebacks",
        )
        p.set_defaults(handler=handler)
        return p

    def full_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--full",
            action="store_true",
            help="print every column, one block per sensor, not the summary per sensor",
        )

    p = command("demo", "run the whole pipeline on generated data into a local lake", commands.demo)
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
        type=number(int, low=1, high=MAX_DEMO_SENSORS),
        default=12,
        help=f"number of generated sensors (1 to {MAX_DEMO_SENSORS})",
    )

    p = command("quality", "assess the quality of every sensor in SOURCE", commands.quality)
    source_args(p, "source")
    quality_args(p)
    full_flag(p)
    p.add_argument("--events", action="store_true", help="list the flagged events instead")

    p = command(
        "drift",
        "compare CURRENT with REFERENCE, per sensor; the --reference-* flags say how to read "
        "REFERENCE when it differs from CURRENT",
        commands.drift,
    )
    p.add_argument("reference", help="Parquet/CSV file or Delta table of reference readings")
    source_args(p, "current")
    source_args(p, "reference", prefix="reference-")
    _alpha_arg(p)
    full_flag(p)

    p = command(
        "report",
        "write a self-contained HTML report of SOURCE (quality; drift with --reference)",
        commands.report,
    )
    source_args(p, "source")
    p.add_argument("--reference", help="reference readings: adds drift to the report")
    source_args(p, "reference", prefix="reference-")
    quality_args(p)
    _alpha_arg(p)
    p.add_argument("-o", "--output", default="report.html", help="the HTML file to write")
    p.add_argument(
        "--show",
        action="append",
        metavar="SENSOR",
        help="also give this sensor a page of its own; repeat the flag for several",
    )
    p.add_argument(
        "--worst",
        type=number(int, low=0),
        default=20,
        help="pages for this many of the worst sensors",
    )

    p = command("run", "run the pipeline on SOURCE into the store at --root", commands.run)
    source_args(p, "source")
    _root_arg(p)
    p.add_argument("--sensors", help="comma-separated sensor ids (default: all)")
    p.add_argument(
        "--hours-back",
        type=number(float, low=0.0, high=MAX_WINDOW.days * 24),
        metavar="HOURS",
        help="use only the readings of the last HOURS hours before now (this machine's "
        f"clock; at most {MAX_WINDOW.days * 24}); default: every reading",
    )
    p.add_argument(
        "--window-hours",
        type=number(float, low=0.0, high=MAX_WINDOW.days * 24, open_low=True),
        metavar="HOURS",
        help="use only the readings of the last HOURS hours before the source's newest "
        "reading; default: every reading",
    )
    p.add_argument(
        "--incremental",
        action="store_true",
        help="process only the readings newer than the last run's, appending new versions",
    )
    p.add_argument(
        "--refit",
        action="store_true",
        help="with --incremental: refit the normalizer (starts a new processed lineage)",
    )
    p.add_argument(
        "--report",
        action="store_true",
        help="also write the run's HTML report into the store "
        "(<root>/_sensorframe/reports/<run id>.html, linked from the run records)",
    )

    p = command(
        "explore",
        "what each feature family costs on SOURCE and what it tells about the readings ahead",
        commands.explore,
    )
    source_args(p, "source")
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
    p.add_argument("--threshold", type=number(float, low=-math.inf), help="level of an event")
    p.add_argument(
        "--fdr",
        type=number(float, low=0.0, high=1.0, open_low=True, open_high=True),
        default=0.05,
        help="false discovery rate of the relevance selection",
    )
    p.add_argument("--method", choices=get_args(Adjustment), default="by",
                   help="adjustment across features: Benjamini-Yekutieli or -Hochberg")  # fmt: skip
    _sample_arg(p)
    p.add_argument("--report", metavar="HTML", help="also write a page with a cost/relevance plot")

    p = command("bench", "time each feature family on SOURCE, against pandas", commands.bench)
    source_args(p, "source")
    _config_arg(p)
    _sample_arg(p)
    p.add_argument(
        "--repeat", type=number(int, low=1, high=100), default=3, help="timed runs (best kept)"
    )

    p = command("versions", "list the versions of DATASET", commands.versions)
    _root_arg(p)
    p.add_argument("dataset")

    p = command("lineage", "show the ancestry of DATASET at VERSION", commands.lineage)
    _root_arg(p)
    p.add_argument("dataset")
    p.add_argument("version", type=number(int, low=0), nargs="?", help="default: the latest")

    p = command("runs", "list pipeline run records", commands.runs)
    _root_arg(p)
    p.add_argument("--run-id")
    p.add_argument("--sensor")
    return parser


def _alpha_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--alpha",
        type=number(float, low=0.0, high=1.0, open_low=True, open_high=True),
        default=0.05,
        help="significance level of the drift tests",
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
        type=number(int, low=1),
        metavar="N",
        help="use N sensors drawn at random (default: all up to a million rows)",
    )


def _root_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", required=True, help="store root: a folder or s3://bucket/prefix")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
