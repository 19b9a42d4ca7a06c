"""
Drift detection: sensorframe vs a per-sensor scipy loop and Evidently, same data, same run.

Every case runs in a fresh subprocess: the data are generated, the peak resident
memory is reset (Linux ``/proc/self/clear_refs``; elsewhere ``ru_maxrss`` counts the
data generation too), so the peak reported is that of the runs, the data they hold
included; the case runs once as a warm-up, then the best of ``--repeat`` runs (fewer
for the slow anchors) is reported, as wall time and as CPU time of the process
(steadier on a shared machine).

Cases
-----
scipy loop      per sensor: ``ks_2samp`` + ``mannwhitneyu`` + a NumPy PSI on 10 reference
                quantile bins; it gets the readings already split per sensor as NumPy
                arrays (the split is not timed, which favours the baseline)
detect_drift    ``sf.detect_drift(reference, current)`` from two long Polars frames, with
                the default ``DriftConfig()`` (effective n, every test)
detector.detect a fitted ``DriftDetector`` (fit not timed) on the current frame
evidently       Evidently's ``DataDriftPreset`` report on the same readings as columns (one
                column per sensor, pandas frames of ``--points`` rows), in a venv of its own
                under /tmp (``--anchor-venv auto``: created once, then reused; ``skip``
                leaves the case out); the pinned version is :data:`EVIDENTLY`; one
                timed run (about 0.25 s of CPU per column), ``--evidently-columns N``
                times N columns and scales to all
timeline        ``sf.drift_timeline(reference, frame, every="1d")``: the reference, then
                ``--chunks`` days of 1,440 readings (one a minute) per sensor, a shift on
                every tenth sensor from day 5
scipy timeline  the scipy loop per (sensor, chunk) pair, timed on the first
                ``--anchor-chunks`` chunks and scaled to all of them (each pair costs the
                same)

Usage: ``python benchmarks/bench_drift.py [--sensors 1000 --points 10000] [--quick]
[--anchor-venv auto|skip]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _timing import best_wall_cpu

EVIDENTLY = "0.7.23"
"""The Evidently release the anchor venv pins (its API changed across 0.4 -> 0.7)."""
EVIDENTLY_PINS = (f"evidently=={EVIDENTLY}", "pandas<3")
"""What the venv installs: evidently 0.7.23 imports a helper pandas 3 removed."""
VENV = Path("/tmp/sensorframe-bench-evidently")
CHUNK_POINTS = 1440
"""Readings per sensor and daily chunk in the timeline case (one a minute)."""


def make_arrays(sensors: int, points: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current readings, ``(sensors, points)``; every tenth sensor +0.3 sd."""
    rng = np.random.default_rng(seed)
    shift = np.where(np.arange(sensors) % 10 == 0, 0.3, 0.0)[:, None]
    ref = rng.normal(size=(sensors, points)).round(3)
    cur = (rng.normal(size=(sensors, points)) + shift).round(3)
    return ref, cur


def long_frame(values: np.ndarray, start_minute: int = 0) -> Any:
    import polars as pl

    sensors, points = values.shape
    total = sensors * points
    return pl.select(
        sensor_id=pl.format("S{}", (pl.int_range(total) // points).cast(pl.String).str.zfill(5)),
        timestamp=pl.datetime(2026, 1, 1, time_zone="UTC")
        + pl.duration(minutes=start_minute + pl.int_range(total) % points),
    ).with_columns(value=pl.Series(values.ravel()))


def timeline_arrays(sensors: int, points: int, chunks: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference and ``chunks`` days of readings after it; +0.3 sd from day 5 on."""
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(sensors, points)).round(3)
    cur = rng.normal(size=(sensors, chunks * CHUNK_POINTS))
    cur[::10, 5 * CHUNK_POINTS :] += 0.3
    return ref, cur.round(3)


def baseline_loop(ref_arrays: list[np.ndarray], cur_arrays: list[np.ndarray]) -> None:
    import scipy.stats as ss

    for r, c in zip(ref_arrays, cur_arrays, strict=True):
        ss.ks_2samp(r, c)
        ss.mannwhitneyu(r, c, method="asymptotic")
        edges = np.quantile(r, np.linspace(0, 1, 11)[1:-1])
        pr = np.bincount(np.searchsorted(edges, r, "right"), minlength=10) / len(r)
        pc = np.bincount(np.searchsorted(edges, c, "right"), minlength=10) / len(c)
        pr, pc = np.clip(pr, 1e-4, None), np.clip(pc, 1e-4, None)
        float(np.sum((pc - pr) * np.log(pc / pr)))


def evidently_case(ref: np.ndarray, cur: np.ndarray) -> Callable[[], object]:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    names = [f"S{i:05d}" for i in range(len(ref))]
    ref_df = pd.DataFrame(ref.T, columns=names)
    cur_df = pd.DataFrame(cur.T, columns=names)

    def fn() -> object:
        return Report([DataDriftPreset()]).run(current_data=cur_df, reference_data=ref_df)

    return fn


def reset_peak() -> None:
    """Start counting the peak resident memory afresh (Linux; elsewhere a no-op)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mib() -> float:
    """Peak resident memory since :func:`reset_peak` (else since the process started)."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024  # kB -> MiB
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB


def run_case(case: str, args: argparse.Namespace) -> dict[str, Any]:
    sensors, points, repeat = args.sensors, args.points, args.repeat
    fn: Callable[[], object]
    info: dict[str, Any] = {}
    if case in ("timeline", "scipy timeline"):
        ref_a, cur_a = timeline_arrays(sensors, points, args.chunks)
        if case == "scipy timeline":
            used = min(args.anchor_chunks, args.chunks)
            ra, ca = [], []
            for k in range(used):
                ra += list(ref_a)
                ca += list(cur_a[:, k * CHUNK_POINTS : (k + 1) * CHUNK_POINTS])
            info["scale"] = args.chunks / used

            def fn() -> None:
                baseline_loop(ra, ca)

        else:
            import sensorframe as sf

            ref = long_frame(ref_a)
            midnight = -(-points // CHUNK_POINTS) * CHUNK_POINTS  # the first after the reference
            frame = long_frame(cur_a, start_minute=midnight)
            del ref_a, cur_a

            def fn() -> object:
                return sf.drift_timeline(ref, frame, every="1d")

    else:
        ref_a, cur_a = make_arrays(sensors, points)
        if case == "scipy loop":

            def fn() -> None:
                baseline_loop(list(ref_a), list(cur_a))

        elif case == "evidently":
            import evidently

            # about 0.25 s of CPU per column: one timed run, after a warm-up on two
            # columns (lazy imports); optionally on fewer columns, scaled
            columns = args.evidently_columns or sensors
            evidently_case(ref_a[:2], cur_a[:2])()
            fn = evidently_case(ref_a[:columns], cur_a[:columns])
            reset_peak()
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            scale = sensors / columns
            peak = peak_mib()
            return {
                "seconds": wall * scale,
                "cpu_seconds": cpu * scale,
                "peak_mib": peak,
                "version": evidently.__version__,
                "columns": columns,
            }
        else:
            import sensorframe as sf

            ref, cur = long_frame(ref_a), long_frame(cur_a)
            del ref_a, cur_a
            info["config"] = repr(sf.DriftConfig())
            if case == "detect_drift":

                def fn() -> object:
                    return sf.detect_drift(ref, cur)

            else:
                det = sf.DriftDetector().fit(ref)
                del ref

                def fn() -> object:
                    return det.detect(cur)

    reset_peak()
    wall, cpu = best_wall_cpu(fn, repeat=repeat)
    peak = peak_mib()
    scale = info.pop("scale", 1.0)
    return {"seconds": wall * scale, "cpu_seconds": cpu * scale, "peak_mib": peak, **info}


def anchor_python(mode: str) -> Path | None:
    """The Evidently venv's interpreter, created or updated to the pin (None: skipped)."""
    if mode == "skip":
        return None
    python = VENV / "bin" / "python"
    check = [str(python), "-c", f"import evidently; assert evidently.__version__ == {EVIDENTLY!r}"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return python
    print(f"creating {VENV} with {' '.join(EVIDENTLY_PINS)} (once) ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", *EVIDENTLY_PINS]
    subprocess.run(pip, check=True)
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--points", type=int, default=10_000, help="per window and sensor")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunks", type=int, default=30, help="daily chunks in the timeline")
    parser.add_argument("--anchor-chunks", type=int, default=3, help="chunks the loop times")
    parser.add_argument("--anchor-venv", choices=("auto", "skip"), default="auto")
    parser.add_argument(
        "--evidently-columns", type=int, default=0, help="columns Evidently is timed on (0: all)"
    )
    parser.add_argument("--quick", action="store_true", help="100 sensors x 2,000 points")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.points = 100, 2000
    if args.case:
        print(json.dumps(run_case(args.case, args)))
        return
    evidently = anchor_python(args.anchor_venv)
    cases = ["scipy loop", "detect_drift", "detector.detect"]
    cases += ["evidently"] if evidently else []
    cases += ["scipy timeline", "timeline"]
    slow = {"scipy loop": 2, "evidently": 1, "scipy timeline": 1}
    results = {}
    for case in cases:
        python = str(evidently) if case == "evidently" else sys.executable
        cmd = [python, __file__, "--case", case, "--sensors", str(args.sensors)]
        cmd += ["--points", str(args.points), "--chunks", str(args.chunks)]
        cmd += ["--anchor-chunks", str(args.anchor_chunks)]
        cmd += ["--evidently-columns", str(args.evidently_columns)]
        cmd += ["--repeat", str(min(args.repeat, slow.get(case, args.repeat)))]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results[case] = json.loads(out.strip().splitlines()[-1])
    import polars as pl

    rows = args.sensors * args.points
    print(
        f"drift: {args.sensors} sensors x ({args.points} ref + {args.points} cur) = "
        f"{2 * rows:,} readings, polars {pl.__version__}"
    )
    print(f"config: {results['detect_drift']['config']}")
    header = f"{'case':16} {'wall s':>7} {'cpu s':>7} {'peak MiB':>9}"
    print(f"{header} {'vs scipy wall':>14} {'cpu':>6}")

    def line(case: str, base: str) -> None:
        res, ref = results[case], results[base]
        print(
            f"{case:16} {res['seconds']:7.2f} {res['cpu_seconds']:7.2f} {res['peak_mib']:9.0f} "
            f"{ref['seconds'] / res['seconds']:13.1f}x "
            f"{ref['cpu_seconds'] / res['cpu_seconds']:5.1f}x"
        )

    for case in ("scipy loop", "detect_drift", "detector.detect"):
        line(case, "scipy loop")
    if evidently:
        ev = results["evidently"]
        print(
            f"evidently {ev['version']} DataDriftPreset, {args.sensors} columns x "
            f"{args.points} rows (timed on {ev['columns']} columns, scaled): "
            f"{ev['seconds']:.2f} s wall, {ev['peak_mib']:.0f} MiB; "
            f"detect_drift {ev['seconds'] / results['detect_drift']['seconds']:.1f}x faster "
            f"(cpu {ev['cpu_seconds'] / results['detect_drift']['cpu_seconds']:.1f}x)"
        )
    else:
        print("evidently: skipped (--anchor-venv skip)")
    print(
        f"timeline: {args.sensors} sensors x {args.chunks} daily chunks of {CHUNK_POINTS} "
        f"readings vs a {args.points}-reading reference (scipy loop timed on "
        f"{min(args.anchor_chunks, args.chunks)} chunks, scaled)"
    )
    for case in ("scipy timeline", "timeline"):
        line(case, "scipy timeline")


if __name__ == "__main__":
    main()
