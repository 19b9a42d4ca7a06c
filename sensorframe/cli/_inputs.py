"""
Reading sources and settings from command-line flags.

One place turns the source flags into a canonical LazyFrame (:func:`read_source`): long
files with mapped column names, wide files (``--wide``: one column per sensor) and
single-sensor files (``--sensor NAME``), with explicit time formats and zones. The
``drift`` command reads its reference with the ``--reference-*`` forms of the same flags,
which fall back to the plain ones, so the two files may name their columns differently.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar, get_args

import polars as pl

from sensorframe._sources import to_lazy
from sensorframe._times import parse_duration_us
from sensorframe._typing import OutlierMethod
from sensorframe.errors import InvalidParameterError, UnknownSensorError
from sensorframe.features import FeatureConfig
from sensorframe.frame import SENSOR, TIME, VALUE, Ambiguous, Columns, melt_wide, scan
from sensorframe.quality import QualityConfig

__all__ = [
    "feature_config",
    "number",
    "quality_args",
    "quality_config",
    "read_source",
    "source_args",
]

_N = TypeVar("_N", int, float)

_SOURCE_FLAGS = (
    *("sensor_col", "time_col", "value_col"),
    *("time_format", "timezone", "ambiguous", "wide", "sensor"),
)


def number(
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


def source_args(p: argparse.ArgumentParser, name: str, *, prefix: str = "") -> None:
    """
    Add a positional source ``name`` and the flags that say how to read it.

    With ``prefix`` (``"reference-"``), the flags are ``--reference-sensor-col`` ...
    and default to ``None``: :func:`read_source` then falls back to the plain flags.
    """
    if not prefix:
        p.add_argument(name, help="Parquet/CSV file, folder of Parquet files or Delta table")
    same = " (default: as the plain flag)" if prefix else ""

    def flag(text: str, **kwargs: Any) -> None:
        if prefix:
            kwargs["default"] = None
            kwargs["help"] = kwargs.get("help", "") + same
        p.add_argument(f"--{prefix}{text}", **kwargs)

    flag("sensor-col", default=SENSOR, help="name of the sensor id column")
    flag("time-col", default=TIME, help="name of the time column")
    flag("value-col", default=VALUE, help="name of the value column")
    flag(
        "time-format",
        help="strftime format of textual times, e.g. '%%m/%%d/%%Y %%H:%%M' "
        "(default: ISO-8601 only; other text is an error, never guessed)",
    )
    flag(
        "timezone",
        help="IANA zone in which naive times are read, e.g. America/New_York (default: UTC)",
    )
    flag(
        "ambiguous",
        choices=get_args(Ambiguous),
        default="raise",
        help="with --timezone: how to read a repeated hour at a DST fall-back "
        "(infer: each sensor's readings in row order)",
    )
    flag(
        "wide",
        action="store_true" if not prefix else "store_const",
        **({"const": True} if prefix else {}),
        help="the file has one column per sensor beside the time column (--time-col); "
        "the column names become the sensor ids",
    )
    flag(
        "sensor",
        metavar="NAME",
        help="the file holds one sensor's readings (a time and a value column): NAME is "
        "its id; with a sensor id column, keep only that sensor's readings",
    )


def read_source(args: argparse.Namespace, source: str, *, prefix: str = "") -> pl.LazyFrame:
    r"""
    Read ``source`` with the source flags (the ``prefix`` ones first, then the plain).

    Examples
    --------
    >>> import argparse, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "wide.csv"
    >>> _ = path.write_text("when,P-1,P-2\n1/2/2026 9:00,1.5,7\n")
    >>> p = argparse.ArgumentParser()
    >>> source_args(p, "source")
    >>> args = p.parse_args([str(path), "--wide", "--time-col", "when",
    ...                      "--time-format", "%m/%d/%Y %H:%M"])
    >>> read_source(args, args.source).collect().rows()  # doctest: +NORMALIZE_WHITESPACE
    [('P-1', datetime.datetime(2026, 1, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 1.5),
     ('P-2', datetime.datetime(2026, 1, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 7.0)]
    """
    flags = {}
    for name in _SOURCE_FLAGS:
        value = getattr(args, prefix.replace("-", "_") + name, None) if prefix else None
        flags[name] = getattr(args, name) if value is None else value
    dash = f"--{prefix}"
    times: dict[str, Any] = {
        "time_format": flags["time_format"],
        "timezone": flags["timezone"],
        "ambiguous": flags["ambiguous"],
    }
    if flags["wide"]:
        if flags["sensor"] is not None:
            msg = f"{dash}wide and {dash}sensor exclude each other: a wide file names its sensors"
            raise InvalidParameterError(msg)
        return melt_wide(source, time=flags["time_col"], **times)
    columns = Columns(sensor=flags["sensor_col"], time=flags["time_col"], value=flags["value_col"])
    name = flags["sensor"]
    if name is None:
        return scan(source, columns=columns, **times)
    raw = to_lazy(source, columns, storage_options=None)
    present = raw.collect_schema().names()
    if columns.sensor not in present:
        raw = raw.with_columns(pl.lit(name).alias(columns.sensor))
    lf = scan(raw, columns=columns, **times).filter(pl.col(SENSOR) == name)
    if lf.select(pl.len()).collect().item() == 0:
        msg = f"{dash}sensor {name}: {source} has no readings of sensor {name!r}"
        raise UnknownSensorError(msg)
    return lf


def quality_args(p: argparse.ArgumentParser) -> None:
    """Add the quality settings a command-line user most needs."""
    p.add_argument(
        "--outlier-method",
        choices=get_args(OutlierMethod),
        default="zscore",
        help="outlier test: z-score, median absolute deviation, or a rolling Hampel filter",
    )
    p.add_argument(
        "--outlier-z",
        type=number(float, low=0.0, open_low=True),
        default=3.0,
        help="z-score outlier threshold",
    )
    p.add_argument(
        "--flatline-ignore",
        type=float,
        action="append",
        metavar="VALUE",
        help="a value that never counts as a flat line (e.g. 0 for a sensor resting at "
        "zero); repeat the flag for several",
    )
    p.add_argument(
        "--expected-interval",
        metavar="DURATION",
        help="the sampling interval (15min, 1h); default: each sensor's median step",
    )
    p.add_argument(
        "--per-sensor",
        metavar="FILE",
        help="CSV or Parquet file with a sensor_id column and per-sensor settings "
        "(valid_min, valid_max, outlier_z, expected_interval, flatline_ignore ...)",
    )


def quality_config(args: argparse.Namespace) -> QualityConfig:
    """
    Build the :class:`QualityConfig` of the quality flags.

    A ``--per-sensor`` file's duration columns may hold text (``"15min"``) and its
    ``flatline_ignore`` column numbers separated by ``;`` (CSV has no lists).
    """
    interval = None
    if args.expected_interval is not None:
        interval = _duration("--expected-interval", args.expected_interval)
    per_sensor = None if args.per_sensor is None else _per_sensor(args.per_sensor)
    return QualityConfig(
        outlier_method=args.outlier_method,
        outlier_z=args.outlier_z,
        flatline_ignore=tuple(args.flatline_ignore or ()),
        expected_interval=interval,
        per_sensor=per_sensor,
    )


def _duration(flag: str, text: str) -> timedelta:
    return timedelta(microseconds=parse_duration_us(text, name=flag))


def _per_sensor(path: str) -> pl.DataFrame:
    if not Path(path).is_file():
        msg = f"--per-sensor {path}: no such file"
        raise InvalidParameterError(msg)
    table = pl.read_parquet(path) if path.endswith(".parquet") else pl.read_csv(path)
    fixes: list[pl.Expr | pl.Series] = []
    for name in ("expected_interval", "max_stuck"):
        if name in table.columns and table.schema[name] == pl.String:
            flag = f"--per-sensor {path}: {name}"
            values = [None if t is None else _duration(flag, t) for t in table[name]]
            fixes.append(pl.Series(name, values, dtype=pl.Duration("us")))
    if "flatline_ignore" in table.columns and table.schema["flatline_ignore"] != pl.List:
        fixes.append(
            pl.col("flatline_ignore")
            .cast(pl.String)
            .str.split(";")
            .list.eval(pl.element().str.strip_chars().cast(pl.Float64))
        )
    return table.with_columns(fixes) if fixes else table


def feature_config(text: str) -> FeatureConfig:
    """Return the feature config of ``--config``: default, minimal or a JSON file."""
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
