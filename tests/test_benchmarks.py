"""Every benchmark script runs end to end on tiny data; nothing about speed is checked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
TINY = ["--sensors", "4", "--points", "400"]  # synthetic faults need 400
ARGS = {
    "bench_drift.py": [*TINY, "--repeat", "1", "--anchor-venv", "skip"],
    "bench_explore.py": [*TINY, "--repeat", "1"],
    "bench_features.py": [*TINY, "--repeat", "1"],
    "bench_incremental.py": TINY,
    "bench_pipeline.py": [*TINY, "--loop-sensors", "2"],
    "bench_prepare.py": [*TINY, "--repeat", "1"],
    "bench_quality.py": [*TINY, "--repeat", "1", "--select-sensors", "2", "--anchor-venv", "skip"],
    "bench_report.py": TINY,
    "bench_scale.py": ["--quick"],
    "bench_spark.py": TINY,
    "bench_store.py": [*TINY, "--repeat", "1", "--wide-rows", "500"],
}


def test_every_benchmark_is_exercised() -> None:
    assert {p.name for p in BENCHMARKS.glob("bench_*.py")} == set(ARGS)


@pytest.mark.parametrize("script", sorted(ARGS))
def test_benchmark_runs_and_prints_ratios(script: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *ARGS[script]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"\d\.\d+x", done.stdout), done.stdout[-3000:]
    assert list(tmp_path.iterdir()) == []  # scratch data goes to temporary folders
