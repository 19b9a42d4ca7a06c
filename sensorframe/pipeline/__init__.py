"""
Pipelines: load, assess, normalize, engineer, detect drift, version and record a run.

See :class:`Pipeline`; settings in :class:`PipelineConfig`, results in
:class:`PipelineRun` and :class:`BatchRun`.
"""

from __future__ import annotations

from sensorframe.pipeline._outcome import ElsewhereOutcome, isolated, too_few_readings, without
from sensorframe.pipeline.config import STEPS, PipelineConfig, Step
from sensorframe.pipeline.result import BatchRun, PipelineRun
from sensorframe.pipeline.runner import REFERENCE_TABLE, Pipeline, stored_reference

__all__ = [
    "STEPS",
    "BatchRun",
    "ElsewhereOutcome",
    "Pipeline",
    "PipelineConfig",
    "PipelineRun",
    "REFERENCE_TABLE",
    "Step",
    # step helpers shared with sensorframe.spark's pipeline (one sensor's failure isolated)
    "isolated",
    "stored_reference",
    "too_few_readings",
    "without",
]
