"""
The HTML report of a pipeline run, written into the store (``PipelineConfig(report=True)``).

The report goes to ``<root>/_sensorframe/reports/<run_id>.html``, beside the run
records, and is written after the run's versions were committed and before its finish
records, which name it (column ``report``, relative to the store root): a record never
links a report that was not written, and a run that fails writes none. It needs only
the run's quality and drift reports and the readings of the sensors it shows in detail
(the worst ones), read back from the raw version the run committed (or from the run's
input when it committed none) with one filtered scan, so a run in batches stays
bounded.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sensorframe.errors import SensorFrameWarning
from sensorframe.pipeline._commit import _files
from sensorframe.store import DatasetStore

if TYPE_CHECKING:
    from sensorframe.drift import DriftReport
    from sensorframe.quality import QualityReport

__all__ = ["REPORTS", "report_file", "write_run_report"]

logger = logging.getLogger("sensorframe.pipeline")

REPORTS = "_sensorframe/reports"
"""Folder under the store root holding the runs' HTML reports."""


def report_file(run_id: str) -> str:
    """
    Return where the report of run `run_id` goes, relative to the store root.

    Examples
    --------
    >>> from sensorframe.pipeline._report import report_file
    >>> report_file("0123abcd4567")
    '_sensorframe/reports/0123abcd4567.html'
    """
    return f"{REPORTS}/{run_id}.html"


def write_run_report(
    store: DatasetStore,
    run_id: str,
    *,
    quality: QualityReport | None,
    drift: DriftReport | None,
    readings: Any,
) -> str | None:
    """
    Write the report of a run into the store; return its path relative to the root.

    `readings` is anything :func:`sensorframe.scan` accepts (best lazy: only the
    sensors shown in detail are read). A report that cannot be written does not undo
    the run: it issues a :class:`SensorFrameWarning` and returns ``None`` (the run's
    records then link no report).
    """
    from sensorframe.reporting import report

    relative = report_file(run_id)
    options: dict[str, Any] = {
        "quality": quality,
        "drift": drift,
        "frame": readings,
        "title": f"sensorframe run {run_id}",
    }
    try:
        if store.is_local:
            target = Path(store.root) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            report(path=target, **options)
        else:  # written locally, then copied to the object store
            with tempfile.TemporaryDirectory() as folder:
                page = report(path=Path(folder) / "report.html", **options)
                # deltalake's own stream: the pyarrow PythonFile that open_output_stream
                # wraps it in passes it Buffers, which it refuses (it takes bytes)
                out = _files(store)._handler.open_output_stream(relative, None)
                out.write(page.read_bytes())
                out.close()  # type: ignore[attr-defined]  # missing from deltalake's stub
    except Exception as exc:  # the run's versions are committed: they stand
        msg = f"run {run_id}: its report could not be written to {store.root}/{relative}: {exc}"
        logger.error(msg)
        warnings.warn(msg, SensorFrameWarning, stacklevel=3)
        return None
    return relative
