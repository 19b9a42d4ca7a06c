"""
The HTML report: a fleet overview and per-sensor sections in one self-contained file.

:func:`report` writes it from quality and drift results, :func:`run_report` from a
pipeline run; :func:`downsample` is the display downsampling of its series plots.
The figures need matplotlib (``pip install 'sensorframe[report]'``).
"""

from __future__ import annotations

from sensorframe.reporting.build import report, run_report
from sensorframe.reporting.sampling import downsample

__all__ = ["downsample", "report", "run_report"]
