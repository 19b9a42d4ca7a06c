"""The timing helper the benchmark scripts share (imported as ``_timing``: scripts run
from this folder, which Python puts first on ``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_wall_cpu(fn: Callable[[], object], *, repeat: int) -> tuple[float, float]:
    """
    Best wall time and best process CPU time (all threads) of `repeat` calls.

    One untimed warm-up call comes first. The CPU time counts every thread, so on a
    busy machine the wall-time ratio of a parallel engine drops while its CPU-time
    ratio stays put.
    """
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)
