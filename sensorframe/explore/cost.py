"""
What a computation costs: wall time and peak resident memory above its start.

The memory is sampled by a thread while the computation runs: every millisecond it
reads the process's resident set size from ``/proc/self/statm`` (Linux), which sees
Polars' and NumPy's native allocations (``tracemalloc`` sees Python's only). Where that
file is absent, the growth of ``resource.getrusage(...).ru_maxrss`` (the peak so far)
stands in, which reads 0 when an earlier step had already reached a higher peak.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["measure", "resident_bytes"]

T = TypeVar("T")
_STATM = "/proc/self/statm"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """
    Resident set size of this process now, in bytes; None where it cannot be read.

    Examples
    --------
    >>> from sensorframe.explore.cost import resident_bytes
    >>> size = resident_bytes()
    >>> size is None or size > 0
    True
    """
    try:
        with open(_STATM, "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def _max_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def measure(fn: Callable[[], T], *, interval: float = 0.001) -> tuple[T, float, int]:
    """
    Run `fn`; return its result, its wall time in seconds and its peak memory in bytes.

    The peak is the highest resident set size seen while `fn` ran minus the size just
    before it (0 when it never grew), sampled every `interval` seconds and once more at
    the end. Memory the allocator keeps from earlier work is already resident, so a
    step reusing it counts less than it would in a fresh process.

    Examples
    --------
    >>> from sensorframe.explore.cost import measure
    >>> result, seconds, peak = measure(lambda: np.ones(2_000_000).sum())
    >>> float(result), seconds >= 0, peak >= 0
    (2000000.0, True, True)
    """
    start = resident_bytes()
    if start is None:
        before = _max_rss()
        t0 = time.perf_counter()
        result = fn()
        return result, time.perf_counter() - t0, max(0, _max_rss() - before)
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval):
            now = resident_bytes() or 0
            if now > peak[0]:
                peak[0] = now

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    try:
        result = fn()
    finally:
        seconds = time.perf_counter() - t0
        done.set()
        sampler.join()
    peak[0] = max(peak[0], resident_bytes() or 0)
    return result, seconds, peak[0] - start
