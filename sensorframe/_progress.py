"""
Progress of a run over batches of whole sensors: rows and sensors done, rate, ETA.

On a terminal (standard error is a TTY) it is one line redrawn in place; otherwise
each batch is a ``logging`` line on the ``sensorframe`` logger at level INFO, which
shows only where the application configured logging.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

__all__ = ["Progress"]

_LOG = logging.getLogger("sensorframe")
_BAR = 24
"""Width of the terminal bar, in characters."""


class Progress:
    """
    Count the rows and sensors done out of a known total, and report them.

    Parameters
    ----------
    rows, sensors
        The totals the run will reach.
    label
        What the run is doing (``"features"``), at the start of every report.
    stream
        Where the terminal line goes; standard error by default. The line is drawn
        only when it is a TTY, else reports are log lines.

    Examples
    --------
    >>> import io
    >>> from sensorframe._progress import Progress
    >>> p = Progress(rows=10, sensors=2, label="features", stream=io.StringIO())
    >>> p.advance(rows=4, sensors=1)
    >>> p.line().split(", ")[:2]
    ['features: 4/10 rows (40%)', '1/2 sensors']
    """

    def __init__(
        self, *, rows: int, sensors: int, label: str = "", stream: TextIO | None = None
    ) -> None:
        self.rows = rows
        self.sensors = sensors
        self.label = label or "batches"
        self.rows_done = 0
        self.sensors_done = 0
        self._stream = sys.stderr if stream is None else stream
        self._terminal = self._stream.isatty()
        self._start = time.monotonic()

    def advance(self, *, rows: int, sensors: int) -> None:
        """Count one more batch done and report it."""
        self.rows_done += rows
        self.sensors_done += sensors
        if self._terminal:
            self._stream.write(f"\r{self._bar()} {self.line()}")
            self._stream.flush()
        else:
            _LOG.info("%s", self.line())

    def finish(self) -> None:
        """End the terminal line (a log line needs no ending)."""
        if self._terminal:
            self._stream.write("\n")
            self._stream.flush()

    def line(self) -> str:
        """Return the report: rows, sensors, rate and the estimated time left."""
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = self.rows_done / elapsed
        left = self.rows - self.rows_done
        eta = _duration(left / rate) if rate > 0 else "?"
        percent = 100 * self.rows_done // max(self.rows, 1)
        return (
            f"{self.label}: {self.rows_done}/{self.rows} rows ({percent}%), "
            f"{self.sensors_done}/{self.sensors} sensors, {rate:,.0f} rows/s, "
            f"{eta} ETA"
        )

    def _bar(self) -> str:
        filled = _BAR * self.rows_done // max(self.rows, 1)
        return "[" + "#" * filled + "." * (_BAR - filled) + "]"


def _duration(seconds: float) -> str:
    """Format seconds as ``1h02m``, ``3m07s`` or ``12s``."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"
