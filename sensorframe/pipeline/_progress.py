"""Progress for long runs: a one-line bar on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Progress", "timed"]

logger = logging.getLogger("sensorframe.pipeline")


@contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = time.perf_counter() - start


class Progress:
    """A one-line progress bar on a terminal, log lines otherwise."""

    def __init__(self, *, total: int, enabled: bool | None) -> None:
        self.total = total
        self.done = 0
        self.tty = sys.stderr.isatty()
        self.enabled = self.tty if enabled is None else enabled

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self._show(f"{name} ...")
        start = time.perf_counter()
        yield
        self.done += 1
        self._show(f"{name} {time.perf_counter() - start:.2f}s")

    def _show(self, text: str) -> None:
        if not self.enabled:
            logger.debug("[%d/%d] %s", self.done, self.total, text)
            return
        if self.tty:
            width = 24
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            sys.stderr.write(f"\r[{bar}] {self.done}/{self.total} {text:<30}")
            sys.stderr.flush()
        else:
            logger.info("[%d/%d] %s", self.done, self.total, text)

    def close(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\n")
