"""Progress for long runs: a one-line bar on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Progress"]

logger = logging.getLogger("sensorframe.pipeline")


class Progress:
    """
    A one-line progress bar on a terminal, log lines otherwise; keeps step timings.

    A step run once per batch adds up its time.
    """

    def __init__(self, *, total: int, enabled: bool | None) -> None:
        self.total = total
        self.done = 0
        self.timings: dict[str, float] = {}
        self.tty = sys.stderr.isatty()
        self.enabled = self.tty if enabled is None else enabled

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self._show(f"{name} ...")
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
        self.done += 1
        self._show(f"{name} {self.timings[name]:.2f}s")

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
