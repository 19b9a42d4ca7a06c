"""
Benchmark: ``assess_quality`` with every check vs saqc and per-sensor NumPy loops.

The data are ``sf.datasets.synthetic`` with every fault kind (1,000 sensors x 10,000
points by default). In one run:

* **saqc** (the anchor a user would otherwise pick): the same checks the way a saqc
  user writes them, one ``SaQC`` per sensor (``_saqc_anchor.py`` says which function
  does which check). saqc pins its own pandas/numba stack, so it runs in its own venv
  under the temporary folder, created on first use (``--anchor-venv auto``, ~700 MB,
  needs the package index; ``skip`` leaves the anchor out). It is timed on
  ``--anchor-sensors`` sensors and scaled linearly (it handles sensors one by one).
* **per-sensor NumPy loops** running the plain NumPy reference the tests use
  (``tests/test_quality_reference.py``), differing in how each sensor's rows are found:
  ``partitioned`` (``partition_by`` first: the most favourable loop, every sensor's
  arrays ready and in cache), ``pandas groupby`` (the loop a pandas user writes) and
  ``select per sensor`` (``filter(sensor_id == s)`` per sensor, timed on
  ``--select-sensors`` sensors and scaled linearly).
* **today's checks** (those of the first release: missing, outliers, flat-lines, gaps,
  duplicates, out-of-order) against another source tree of sensorframe
  (``--baseline-src``, e.g. ``git worktree add /tmp/base <commit>``), on the same data.

"every check" is ``assess_quality`` with every check on, the synthetic sensors'
:data:`~sensorframe.datasets.VALID_RANGE` as valid range and Hampel outliers; the loops
run today's checks (the reference has no spike, Hampel, interpolation or level-shift
code) and build no events, status or texts, which ``assess_quality`` does. Besides wall
time it prints process CPU time (all threads): saqc and the loops use one core, Polars
all of them. Run it on a quiet machine (``uptime`` load well below the core count).

    .venv/bin/python benchmarks/bench_quality.py                        # 1,000 x 10,000
    .venv/bin/python benchmarks/bench_quality.py --quick --anchor-venv skip   # 50 x 2,000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import best_wall_cpu

import sensorframe.quality as quality
from sensorframe import datasets
from sensorframe.errors import ConfigError
from tests.test_quality_reference import reference_frame, reference_sensor

HERE = Path(__file__).resolve().parent
ANCHOR_VENV = Path(tempfile.gettempdir()) / "sensorframe-bench-anchor"
TODAY = ("missing", "outlier", "flatline", "gap", "duplicate", "out_of_order")
"""The checks of the first release."""


def loops(frame: pl.DataFrame, cfg: quality.QualityConfig, select_sensors: int) -> dict:
    """The per-sensor NumPy loops (name -> (callable, scale factor of its timing))."""
    import numpy as np

    # pandas gets the times as int64 microseconds, converted before timing (the cheapest
    # form for NumPy: tz-aware timestamps would come out as Python objects)
    pdf = frame.with_columns(pl.col("timestamp").dt.epoch("us")).to_pandas()
    sensors = frame.get_column("sensor_id").unique().sort().to_list()
    some = sensors[:select_sensors]

    def partitioned() -> object:
        return reference_frame(frame, cfg)

    def pandas_groupby() -> object:
        out = {}
        for (sid,), rows in pdf.groupby(["sensor_id"], sort=True):
            t = rows["timestamp"].to_numpy()
            x = rows["value"].to_numpy(dtype=np.float64, na_value=np.nan)
            out[sid] = reference_sensor(t, x, cfg)
        return out

    def select_per_sensor() -> object:
        out = {}
        for sid in some:
            rows = frame.filter(pl.col("sensor_id") == sid)
            t = rows["timestamp"].dt.epoch("us").to_numpy()
            x = rows["value"].fill_null(np.nan).to_numpy()
            out[sid] = reference_sensor(t, x, cfg)
        return out

    return {
        "partitioned": (partitioned, 1.0),
        "pandas groupby": (pandas_groupby, 1.0),
        "select per sensor": (select_per_sensor, len(sensors) / len(some)),
    }


def anchor_python(mode: str) -> Path | None:
    """The anchor venv's Python, created with saqc if missing (None with ``skip``)."""
    if mode == "skip":
        return None
    python = ANCHOR_VENV / "bin" / "python"
    ready = python.exists() and subprocess.run([python, "-c", "import saqc"]).returncode == 0
    if not ready:
        print(f"creating the saqc venv {ANCHOR_VENV} (once: pip install saqc, ~700 MB)")
        subprocess.run([sys.executable, "-m", "venv", "--clear", ANCHOR_VENV], check=True)
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "saqc"], check=True)
    return python


def child(command: list[str | Path], env: dict[str, str] | None = None) -> dict:
    """Run a timing child process; its last stdout line is JSON."""
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        msg = f"{command[0]} failed:\n{done.stderr[-3000:]}"
        raise RuntimeError(msg)
    return json.loads(done.stdout.strip().splitlines()[-1])


def saqc_times(python: Path, frame: pl.DataFrame, cfg: quality.QualityConfig, args) -> dict:
    sensors = frame.get_column("sensor_id").unique().sort().head(args.anchor_sensors)
    settings = {
        "repeat": 1,  # after a warm-up; saqc takes seconds per sensor
        "valid_min": cfg.valid_min,
        "valid_max": cfg.valid_max,
        "outlier_z": cfg.outlier_z,
        "hampel_window": cfg.outlier_window,
        "flatline_min_length": cfg.flatline_min_length,
        "flatline_tolerance": cfg.flatline_tolerance,
        "gap_factor": cfg.gap_factor,
        "interpolation_min_length": cfg.interpolation_min_length,
        "interpolation_tolerance": cfg.interpolation_tolerance,
        "spike_factor": cfg.spike_noise_factor,
        "level_shift_factor": cfg.level_shift_threshold,
        "level_shift_window": cfg.level_shift_window,
    }
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "readings.parquet"
        frame.filter(pl.col("sensor_id").is_in(sensors.implode())).write_parquet(path)
        return child([python, HERE / "_saqc_anchor.py", path, json.dumps(settings)])


def baseline_times(src: Path, frame: pl.DataFrame, repeat: int) -> dict:
    """Best wall/CPU of ``assess_quality(frame, QualityConfig())`` from source tree `src`."""
    code = (
        "import json, sys; import polars as pl; sys.path.insert(0, sys.argv[3]);"
        "from _timing import best_wall_cpu; import sensorframe.quality as q;"
        "f = pl.read_parquet(sys.argv[1]); c = q.QualityConfig();"
        "w, p = best_wall_cpu(lambda: q.assess_quality(f, c), repeat=int(sys.argv[2]));"
        "print(json.dumps({'wall': w, 'cpu': p, 'from': q.__file__}))"
    )
    env = {**os.environ, "PYTHONPATH": str(src)}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "readings.parquet"
        frame.write_parquet(path)
        return child([sys.executable, "-c", code, path, str(repeat), HERE], env=env)


def line(name: str, ours: tuple[float, float], base: tuple[float, float]) -> None:
    (t_ours, c_ours), (t_base, c_base) = ours, base
    print(
        f"{name:46} {t_ours * 1e3:9.1f} {t_base * 1e3:10.1f} {t_base / t_ours:8.2f}x"
        f" {c_ours * 1e3:9.1f} {c_base * 1e3:9.1f} {c_base / c_ours:8.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--select-sensors", type=int, default=100)
    parser.add_argument("--anchor-sensors", type=int, default=20)
    parser.add_argument(
        "--anchor-venv",
        choices=["auto", "skip"],
        default="auto",
        help=f"auto: create or reuse the saqc venv {ANCHOR_VENV}; skip: leave saqc out",
    )
    parser.add_argument("--baseline-src", type=Path, help="another sensorframe source tree")
    parser.add_argument("--quick", action="store_true", help="50 sensors x 2,000 points")
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points, args.repeat, args.select_sensors = 50, 2_000, 2, 10
    try:
        data = datasets.synthetic(args.sensors, args.points, seed=0, faults=datasets.FAULTS)
    except ConfigError:  # too few points for every kind: the first release's kinds
        data = datasets.synthetic(args.sensors, args.points, seed=0)
    frame = data.frame
    low, high = datasets.VALID_RANGE
    every = quality.QualityConfig(valid_min=low, valid_max=high, outlier_method="hampel")
    today = quality.QualityConfig(checks=TODAY)
    print(f"rows={frame.height:,} sensors={args.sensors:,} polars={pl.__version__}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    cases: dict[str, Callable[[], object]] = {
        "every check": lambda: quality.assess_quality(frame, every),
        "today's checks": lambda: quality.assess_quality(frame, today),
    }
    ours = {name: best_wall_cpu(fn, repeat=args.repeat) for name, fn in cases.items()}
    print(
        f"{'case':46} {'ours ms':>9} {'other ms':>10} {'speed-up':>9}"
        f" {'ours cpu':>9} {'other cpu':>9} {'cpu ratio':>9}"
    )
    python = anchor_python(args.anchor_venv)
    if python is None:
        print("saqc anchor skipped (--anchor-venv skip)")
    else:
        got = saqc_times(python, frame, every, args)
        scale = args.sensors / got["sensors"]
        line(f"every check vs saqc {got['saqc']}*", ours["every check"],
             (got["wall"] * scale, got["cpu"] * scale))  # fmt: skip
    for base, (fn, scale) in loops(frame, today, args.select_sensors).items():
        repeat = args.repeat if scale == 1.0 else 1
        t_loop, c_loop = (v * scale for v in best_wall_cpu(fn, repeat=repeat))
        line(f"today's checks vs {base}{'*' if scale != 1.0 else ''}", ours["today's checks"],
             (t_loop, c_loop))  # fmt: skip
    if args.baseline_src is not None:
        got = baseline_times(args.baseline_src, frame, args.repeat)
        print(f"baseline: {got['from']}")
        line("today's checks vs baseline", ours["today's checks"],
             (got["wall"], got["cpu"]))  # fmt: skip
    print(f"* timed on {args.anchor_sensors} (saqc) / {args.select_sensors} sensors, scaled")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
