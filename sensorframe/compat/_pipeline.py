"""The original ``DataPipeline``, over :class:`sensorframe.Pipeline`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

import sensorframe as sf
from sensorframe._utils import checked_config
from sensorframe.compat._common import collect
from sensorframe.compat._drift import DriftConfig, drift_record
from sensorframe.compat._dvc import version_label
from sensorframe.compat._features import FeatureConfig
from sensorframe.compat._processing import (
    DataProcessingService,
    NormalizationMethod,
    quality_record,
)
from sensorframe.errors import InvalidParameterError, InvalidTypeError, SensorFrameError
from sensorframe.pipeline.config import MAX_WINDOW, Step

__all__ = ["DataPipeline"]

_KEPT = "__sf_compat_kept"


def _window_start(hours_back: object) -> datetime | None:
    """Return now - `hours_back` (hours, or a timedelta; None for None), refusing the rest."""
    if hours_back is None:
        return None
    if isinstance(hours_back, timedelta):
        hours_back = hours_back / timedelta(hours=1)
    if isinstance(hours_back, bool) or not isinstance(hours_back, int | float):
        msg = f"`hours_back` must be a number of hours, a timedelta or None, got {hours_back!r}"
        raise InvalidTypeError(msg)
    limit = MAX_WINDOW / timedelta(hours=1)
    if not 0 < hours_back <= limit:  # also refuses NaN
        msg = f"`hours_back` must be above 0 and at most {limit:.0f} hours, got {hours_back!r}"
        raise InvalidParameterError(msg)
    return datetime.now(UTC) - timedelta(hours=hours_back)


class DataPipeline:
    """
    The original end-to-end pipeline: quality, scaling, features, drift and versions.

    Each run is one :class:`sensorframe.Pipeline` run over the selected sensors: the
    first run of a store keeps the drift reference (so ``drift_detected`` is None
    then), and the raw and processed versions are committed together or not at all.

    Parameters
    ----------
    data_source
        Where the readings come from: anything :func:`sensorframe.scan` reads (a
        Parquet or CSV file, a folder of Parquet files, a Delta table, a frame), or a
        folder in the NASA Telemanom layout (``test/<channel>.npy`` and
        ``labeled_anomalies.csv``, read by :func:`sensorframe.datasets.load_telemanom`,
        one reading a minute from 2026-01-01 UTC).
    store_root
        Root of the :class:`sensorframe.DatasetStore` that receives the versions.
    processed_dir
        Where ``save_processed`` writes ``<sensor_id>_processed.parquet``.
    drift_config
        Thresholds of the drift step.

    Examples
    --------
    >>> import tempfile
    >>> from sensorframe.compat import DataPipeline
    >>> root = tempfile.mkdtemp()
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=300, faults=(), seed=3)
    >>> data.frame.write_parquet(f"{root}/r.parquet")
    >>> pipe = DataPipeline(data_source=f"{root}/r.parquet", store_root=f"{root}/lake")
    >>> results = pipe.run_full_pipeline(sensor_id="S000", hours_back=None)
    >>> results["success"], results["dataset_version"], results.get("drift_detected")
    (True, 'v1', None)
    >>> again = pipe.run_full_pipeline(sensor_id="S000", hours_back=None)
    >>> again["dataset_version"], again["drift_detected"], again["quality_report"].status.value
    ('v2', False, 'excellent')
    """

    def __init__(
        self,
        data_source: Any = "data/raw",
        store_root: str | Path = "data/versions",
        processed_dir: str | Path = "data/processed",
        drift_config: DriftConfig | None = None,
    ) -> None:
        self.data_source = data_source
        self.store = sf.DatasetStore(store_root)
        self.processed_dir = Path(processed_dir)
        self.drift_config = checked_config(
            drift_config, DriftConfig, name="sensorframe.compat.DriftConfig"
        )
        self.processor = DataProcessingService()
        self.runs: list[dict[str, Any]] = []

    def _readings(self, sensor_ids: Sequence[str], since: datetime | None) -> pl.DataFrame:
        source = self.data_source
        if isinstance(source, str | Path) and (Path(source) / "labeled_anomalies.csv").is_file():
            source = sf.datasets.load_telemanom(source, channels=list(sensor_ids)).frame
        lf = sf.scan(source).filter(pl.col("sensor_id").is_in(list(sensor_ids)))
        kept = pl.lit(value=True) if since is None else pl.col("timestamp") > since
        return collect(lf.with_columns(kept.alias(_KEPT)))

    def run_batch_pipeline(
        self,
        sensor_ids: Sequence[str],
        *,
        hours_back: float | timedelta | None = 168,
        normalize: bool = True,
        normalization_method: NormalizationMethod = NormalizationMethod.ZSCORE,
        engineer_features: bool = True,
        feature_config: FeatureConfig | None = None,
        detect_drift: bool = True,
        version_dataset: bool = True,
        save_processed: bool = False,
    ) -> dict[str, dict[str, Any]]:
        """
        Run the pipeline for several sensors in one vectorized run.

        ``hours_back`` keeps the readings of the last that many hours before now (as
        the original); None keeps them all. Each result says how many readings it
        left out (``rows_left_out``). A run that fails (no readings in the window,
        an unreadable source, every sensor failing) gives ``success`` False and the
        error's message in ``error``, as the original did; invalid arguments raise.

        Returns
        -------
        dict
            One result dict per sensor, as :meth:`run_full_pipeline` returns.
        """
        wanted: dict[Step, bool] = {
            "quality": True,
            "normalize": normalize,
            "features": engineer_features,
            "drift": detect_drift,
            "version": version_dataset,
        }
        features = checked_config(
            feature_config, FeatureConfig, name="sensorframe.compat.FeatureConfig"
        ).to_sensorframe()
        config = sf.PipelineConfig(
            steps=tuple(step for step, on in wanted.items() if on),
            normalize=NormalizationMethod(normalization_method).value,
            window=None,
            features=features,
            drift=self.drift_config.to_sensorframe(),
        )
        since = _window_start(hours_back)
        base = {"started_at": datetime.now(UTC), "hours_back": hours_back}
        try:
            readings = self._readings(sensor_ids, since)
            kept = readings.filter(_KEPT).drop(_KEPT)
            run = sf.Pipeline(self.store, config).run(kept, sensors=list(sensor_ids))
        except SensorFrameError as exc:
            failed = {"success": False, "error": str(exc), **base}
            results = {sid: {"sensor_id": sid, **failed} for sid in sensor_ids}
            self.runs.extend(results.values())
            return results
        left_out = dict(
            readings.group_by("sensor_id").agg((~pl.col(_KEPT)).sum().alias("left")).iter_rows()
        )
        rows = {r["sensor_id"]: r for r in run.sensors.iter_rows(named=True)}
        processed = run.versions.get(config.processed_dataset)
        results = {}
        for sid in sensor_ids:
            row = rows.get(sid)
            ok = row is not None and row["status"] == "success"
            result: dict[str, Any] = {
                "success": ok,
                "sensor_id": sid,
                "pipeline_id": run.run_id,
                "error": None if ok else (row or {}).get("error", "no readings"),
                "rows_left_out": left_out.get(sid, 0),
                **base,
            }
            if ok and run.quality is not None:
                result["quality_report"] = quality_record(run.quality, sid)
            if ok and run.drift is not None and sid in run.drift:  # absent: no reference yet
                result["drift_report"] = drift_record(run.drift, sid)
                result["drift_detected"] = result["drift_report"].drift_detected
            if ok and processed is not None:
                result["dataset_version"] = version_label(processed.version)
            if ok and save_processed and processed is not None:
                self.processed_dir.mkdir(parents=True, exist_ok=True)
                out = self.processed_dir / f"{sid}_processed.parquet"
                self.store.read(processed.dataset, version=processed.version).filter(
                    pl.col("sensor_id") == sid
                ).sink_parquet(out)
                result["output_file"] = str(out)
            results[sid] = result
        self.runs.extend(results.values())
        return results

    def run_full_pipeline(self, sensor_id: str, **options: Any) -> dict[str, Any]:
        """
        Run the pipeline for one sensor; options as :meth:`run_batch_pipeline`.

        Returns
        -------
        dict
            ``success``, ``sensor_id``, ``pipeline_id``, ``error``, ``rows_left_out``,
            and where the steps ran ``quality_report``, ``drift_report`` /
            ``drift_detected``, ``dataset_version`` (the processed version's label)
            and ``output_file``.
        """
        return self.run_batch_pipeline([sensor_id], **options)[sensor_id]

    def prepare_training_data(
        self,
        sensor_id: str,
        split_ratio: tuple[float, float, float] = (0.7, 0.15, 0.15),
        *,
        normalize: bool = True,
        assess_quality: bool = True,
        hours_back: float | timedelta | None = None,
    ) -> dict[str, Any]:
        """
        Load one sensor and prepare it as :meth:`DataProcessingService.prepare_training_data`.

        Examples
        --------
        >>> import tempfile
        >>> from sensorframe.compat import DataPipeline
        >>> root = tempfile.mkdtemp()
        >>> data = sf.datasets.synthetic(n_sensors=1, n_points=100, faults=())
        >>> data.frame.write_parquet(f"{root}/r.parquet")
        >>> pipe = DataPipeline(data_source=f"{root}/r.parquet", store_root=f"{root}/lake")
        >>> len(pipe.prepare_training_data("S000")["train_data"])
        70
        """
        readings = self._readings([sensor_id], _window_start(hours_back))
        return self.processor.prepare_training_data(
            readings.filter(_KEPT).drop(_KEPT),
            sensor_id=sensor_id,
            split_ratio=split_ratio,
            normalize=normalize,
            assess_quality=assess_quality,
        )

    def get_pipeline_runs(self, sensor_id: str | None = None) -> list[dict[str, Any]]:
        """Return the results of this pipeline's runs, oldest first, of one sensor or all."""
        return [r for r in self.runs if sensor_id is None or r["sensor_id"] == sensor_id]

    def get_latest_successful_run(self, sensor_id: str) -> dict[str, Any] | None:
        """Return the newest successful result of `sensor_id`, or None if it never succeeded."""
        done = [r for r in self.get_pipeline_runs(sensor_id) if r["success"]]
        return done[-1] if done else None
