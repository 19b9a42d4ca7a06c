"""
Committing a run's two versions all or nothing, and recovering runs whose process died.

A Delta commit covers one table, so a run's raw and processed versions are committed
by a recorded two-phase protocol:

1. stage: the processed frame, the per-sensor outcome and the commit intent (mode,
   descriptions) are written as Arrow IPC files under
   ``<root>/_sensorframe/staging/<run_id>/``, the intent last; a run in batches of
   whole sensors stages each batch's raw and processed rows as they are computed, as
   Parquet parts ``raw/<n>.parquet`` and ``processed/<n>.parquet``, so nothing larger
   than a batch is held in memory;
2. the ``commit`` event is appended to the run records;
3. the raw version is committed, then the processed one (parent: the raw version), both
   carrying the run id in their properties (``DatasetVersion.properties["run_id"]``);
   from staged parts each is one Delta commit of one data file per part;
4. the ``finish`` events are appended, then the staging folder is removed (by the next
   recovery, if the process dies in between).

:func:`recover` resolves every unfinished run whose process can no longer be alive
(see :mod:`sensorframe.pipeline._owner`): if its raw version landed it rolls the run
forward, committing the processed version from the staged files and recording the
staged outcome; if nothing landed it records the run as ``abandoned`` and removes its
staging folder. Either way, every raw version a run made ends up with its processed
child. Two processes recovering the same dead run at the same moment can each commit
its processed version; the pipeline does not coordinate concurrent runs on one store.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import polars as pl
from deltalake.fs import DeltaStorageHandler
from pyarrow.fs import FileSelector, FileType

from sensorframe.errors import DatasetNotFoundError, PipelineError, SensorFrameError
from sensorframe.frame import SENSOR
from sensorframe.pipeline._owner import Owner, may_be_alive
from sensorframe.pipeline._records import RunLog
from sensorframe.store import DatasetStore, DatasetVersion

__all__ = [
    "RUN_PROPERTY",
    "Intent",
    "Staging",
    "commit_run",
    "commit_staged",
    "finish_run",
    "recover",
    "resolve",
]

logger = logging.getLogger("sensorframe.pipeline")

RUN_PROPERTY = "run_id"
"""Key of the version property that names the run which committed a version."""
STAGING = "_sensorframe/staging"
"""Folder under the store root holding the staged output of runs being committed."""


@dataclass(frozen=True, slots=True)
class Intent:
    """
    What the commit phase of a run commits, staged with its output.

    ``mode`` is that of the processed version, and of the raw one unless ``raw_mode``
    is given. An incremental run also names the processed version's other parents
    (``parents``: JSON ``[[dataset, version], ...]``, after the raw version; without
    raw rows to commit, the raw version it reuses is among them) and its other
    properties (``properties``: a JSON object), so that a recovery that rolls the run
    forward commits the processed version exactly as the run would have.
    """

    mode: Literal["overwrite", "append"]
    raw_dataset: str
    processed_dataset: str
    raw_description: str
    processed_description: str
    raw_mode: Literal["overwrite", "append"] | None = None
    parents: str = "[]"
    properties: str = "{}"


class Staging:
    """
    The staged output of one run under ``<root>/_sensorframe/staging/<run_id>/``.

    ``*.arrow`` files, and for a run in batches the per-batch parts
    ``raw/<n>.parquet`` and ``processed/<n>.parquet``.
    """

    def __init__(self, store: DatasetStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.folder = f"{STAGING}/{run_id}"
        self.parts = 0

    @property
    def root(self) -> str:
        """The staging folder: ``raw/`` and ``processed/`` in it hold the staged parts."""
        return f"{self.store.root}/{self.folder}"

    def _path(self, name: str) -> str:
        return f"{self.store.root}/{self.folder}/{name}.arrow"

    def _mkdir(self, sub: str = "") -> None:
        if self.store.is_local:
            Path(f"{self.store.root}/{self.folder}/{sub}").mkdir(parents=True, exist_ok=True)

    def write(self, processed: pl.DataFrame | None, sensors: pl.DataFrame, intent: Intent) -> None:
        """
        Stage the output; the intent goes last and marks the staging complete.

        ``processed`` is ``None`` when it was staged in parts (:meth:`add`).
        Uncompressed Arrow IPC files: read back at most once, so written at memory
        speed (a third of the time of LZ4 Parquet for 400k x 63 features).
        """
        self._mkdir()
        frames = [("sensors", sensors), ("intent", _one_row(intent))]
        if processed is not None:
            frames.insert(0, ("processed", processed))
        for name, frame in frames:
            frame.write_ipc(self._path(name), storage_options=self.store.storage_options)

    def add(self, raw: pl.DataFrame, processed: pl.DataFrame) -> None:
        """Stage one batch's raw and processed rows as the next Parquet part of each."""
        for name, frame in (("raw", raw), ("processed", processed)):
            self._mkdir(name)
            frame.write_parquet(
                self._part(name, self.parts),
                compression="lz4",
                statistics=False,
                storage_options=self.store.storage_options,
            )
        self.parts += 1

    def _part(self, name: str, n: int) -> str:
        return f"{self.store.root}/{self.folder}/{name}/{n:06d}.parquet"

    def read_parts(self, name: str) -> Iterator[pl.DataFrame]:
        """Yield the staged parts of ``raw`` or ``processed`` one at a time, in order."""
        found = _files(self.store).get_file_info_selector(
            FileSelector(f"{self.folder}/{name}", allow_not_found=True)
        )
        names = sorted(i.base_name for i in found if i.base_name.endswith(".parquet"))
        for base in names:
            path = f"{self.store.root}/{self.folder}/{name}/{base}"
            try:
                yield pl.read_parquet(path, storage_options=self.store.storage_options)
            except (OSError, pl.exceptions.PolarsError) as exc:
                msg = f"could not read the staged output {path}: {exc}"
                raise PipelineError(msg) from exc

    def processed(self) -> pl.DataFrame | Iterator[pl.DataFrame]:
        """Return the staged processed rows: one frame, or the parts of a run in batches."""
        [info] = _files(self.store).get_file_info([f"{self.folder}/processed.arrow"])
        return (
            self.read("processed")
            if info.type != FileType.NotFound
            else self.read_parts("processed")
        )

    def intent(self) -> Intent | None:
        """
        Return the staged intent; ``None`` if the run never staged it (or it was removed).

        It is only read for a run whose raw version landed, so after it was written
        whole (a writer killed while writing it never committed anything).
        """
        [info] = _files(self.store).get_file_info([f"{self.folder}/intent.arrow"])
        if info.type == FileType.NotFound:
            return None
        return Intent(**self.read("intent").row(0, named=True))

    def read(self, name: str) -> pl.DataFrame:
        """Read one staged frame (``processed``, ``sensors`` or ``intent``)."""
        path = self._path(name)
        try:
            return pl.read_ipc(path, storage_options=self.store.storage_options)
        except (OSError, pl.exceptions.PolarsError) as exc:
            msg = f"could not read the staged output {path}: {exc}"
            raise PipelineError(msg) from exc

    @staticmethod
    def runs(store: DatasetStore) -> list[str]:
        """Return the ids of the runs with a staging folder in ``store``."""
        found = _files(store).get_file_info_selector(FileSelector(STAGING, allow_not_found=True))
        return [info.base_name for info in found if info.type == FileType.Directory]

    def remove(self) -> None:
        """Delete the staged files (nothing happens if there are none)."""
        if self.store.is_local:  # the object store would leave the empty folders
            shutil.rmtree(f"{self.store.root}/{self.folder}", ignore_errors=True)
        else:
            _files(self.store).delete_dir(self.folder)


def commit_run(
    store: DatasetStore,
    log: RunLog,
    run_id: str,
    *,
    raw: pl.DataFrame | None,
    processed: pl.DataFrame,
    sensors: pl.DataFrame,
    intent: Intent,
    params: str,
) -> dict[str, DatasetVersion]:
    """
    Stage, record the intent, commit raw then processed; return the versions.

    ``raw`` is ``None`` for a run that adds no raw rows (an incremental refit with
    nothing new): only the processed version is committed, its raw parent in
    ``intent.parents``.
    """
    staging = Staging(store, run_id)
    staging.write(processed, sensors, intent)
    return _commit_both(store, log, run_id, raw, processed, sensors, intent, params)


def commit_staged(
    store: DatasetStore,
    log: RunLog,
    staging: Staging,
    *,
    sensors: pl.DataFrame,
    intent: Intent,
    params: str,
) -> dict[str, DatasetVersion]:
    """:func:`commit_run` for a run whose rows were staged in parts (:meth:`Staging.add`)."""
    staging.write(None, sensors, intent)
    raw, processed = staging.read_parts("raw"), staging.read_parts("processed")
    return _commit_both(store, log, staging.run_id, raw, processed, sensors, intent, params)


def _commit_both(
    store: DatasetStore,
    log: RunLog,
    run_id: str,
    raw: pl.DataFrame | Iterator[pl.DataFrame] | None,
    processed: pl.DataFrame | Iterator[pl.DataFrame],
    sensors: pl.DataFrame,
    intent: Intent,
    params: str,
) -> dict[str, DatasetVersion]:
    log.append(run_id, sensors.select(SENSOR), event="commit", status="committing", params=params)
    versions: dict[str, DatasetVersion] = {}
    if raw is not None:
        versions["raw"] = store.commit(
            intent.raw_dataset,
            raw,
            description=intent.raw_description,
            mode=intent.raw_mode or intent.mode,
            properties={RUN_PROPERTY: run_id},
        )
    versions["processed"] = _commit_processed(store, run_id, processed, intent, versions.get("raw"))
    return versions


def finish_run(
    store: DatasetStore,
    log: RunLog,
    run_id: str,
    *,
    sensors: pl.DataFrame,
    versions: dict[str, DatasetVersion],
    params: str,
    report: str | None = None,
) -> None:
    """
    Record the run's finish events, then remove its staged output.

    ``report``: the run's HTML report (relative to the store root), already written.
    """
    log.append(run_id, sensors, event="finish", versions=versions, params=params, report=report)
    Staging(store, run_id).remove()


def recover(store: DatasetStore, log: RunLog, *, timeout: timedelta) -> list[str]:
    """
    Resolve every unfinished run whose process cannot still be alive.

    Returns the ids of the runs resolved (rolled forward, marked failed or abandoned).
    Also removes the staging folders of finished runs (a process killed between its
    finish record and the clean-up leaves one).
    """
    records = log.read()
    events = records.select("run_id", "event").unique().collect()  # two columns only
    finished = set(events.filter(pl.col("event") == "finish")["run_id"])
    for run_id in set(Staging.runs(store) if finished else ()) & finished:
        Staging(store, run_id).remove()
    open_ids = set(events["run_id"]) - finished
    if not open_ids:
        return []
    start = pl.col("event") == "start"
    unfinished = (
        records.filter(pl.col("run_id").is_in(list(open_ids)))
        .group_by("run_id", maintain_order=True)
        .agg(
            pl.col("at").max().alias("last_record"),
            pl.col(SENSOR).filter(start).alias("sensors"),
            *(pl.col(c).filter(start).first() for c in ("host", "pid", "process", "params")),
        )
        .sort("last_record")
        .collect()
    )
    now = datetime.now(UTC)
    resolved = []
    for run in unfinished.iter_rows(named=True):
        owner = Owner(host=run["host"] or "", pid=run["pid"] or 0, token=run["process"])
        if may_be_alive(
            owner, run["run_id"], last_record=run["last_record"], now=now, timeout=timeout
        ):
            continue
        try:
            resolve(store, log, run["run_id"], owner, sensors=run["sensors"], params=run["params"])
        except SensorFrameError as exc:  # e.g. storage unreachable: the next recover() retries
            logger.error("run %s: could not be resolved: %s", run["run_id"], exc)
            continue
        resolved.append(run["run_id"])
    return resolved


def resolve(
    store: DatasetStore,
    log: RunLog,
    run_id: str,
    owner: Owner,
    *,
    sensors: list[str],
    params: str,
    error: Exception | None = None,
) -> None:
    """
    Finish a run that stopped in or before its commit phase; see the module doc.

    ``error`` is what stopped it when its own process resolves it at once (a failed
    commit): without a landed raw version the run is then ``failed``, not ``abandoned``.
    """
    settings = json.loads(params)
    raw = _landed(store, settings["raw_dataset"], run_id)
    processed = _landed(store, settings["processed_dataset"], run_id)
    staging = Staging(store, run_id)
    ids = pl.DataFrame({SENSOR: sensors}, schema={SENSOR: pl.String})
    who = f"the process of run {run_id} (pid {owner.pid} on {owner.host or 'an unknown host'})"
    if raw is None and processed is None:
        if error is None:
            logger.warning("run %s: %s died before committing; marked abandoned", run_id, who)
            status, why = "abandoned", f"{who} died before committing"
        else:
            status, why = "failed", f"commit failed: {error}"
        log.append(
            run_id,
            ids,
            event="finish",
            status=status,
            error=f"{why}; no version was committed",
            params=params,
        )
        staging.remove()
        return
    if processed is None:  # the raw version landed: roll forward from the staged output
        assert raw is not None
        intent = staging.intent()
        if intent is None:
            msg = (
                f"{who} died after committing {raw.dataset}@{raw.version}, and its staged "
                f"output under {store.root}/{staging.folder} is gone: the processed version "
                "is missing"
            )
            logger.error("run %s: %s", run_id, msg)
            log.append(run_id, ids, event="finish", status="failed", error=msg, params=params)
            return
        logger.warning("run %s: %s died after the raw commit; rolling forward", run_id, who)
        processed = _commit_processed(store, run_id, staging.processed(), intent, raw)
    versions = {"processed": processed} if raw is None else {"raw": raw, "processed": processed}
    finish_run(
        store, log, run_id, sensors=staging.read("sensors"), versions=versions, params=params
    )


def _commit_processed(
    store: DatasetStore,
    run_id: str,
    processed: pl.DataFrame | Iterator[pl.DataFrame],
    intent: Intent,
    raw: DatasetVersion | None,
) -> DatasetVersion:
    """Commit the processed version: parents the raw version and the intent's others."""
    others = [store.version(dataset, version) for dataset, version in json.loads(intent.parents)]
    return store.commit(
        intent.processed_dataset,
        processed,
        description=intent.processed_description,
        parents=others if raw is None else [raw, *others],
        mode=intent.mode,
        properties={**json.loads(intent.properties), RUN_PROPERTY: run_id},
    )


def _landed(store: DatasetStore, dataset: str, run_id: str) -> DatasetVersion | None:
    """Return the version of ``dataset`` committed by run ``run_id``, if one landed."""
    try:
        versions = store.versions(dataset)
    except DatasetNotFoundError:
        return None
    mine = pl.element().struct.field("key").eq(RUN_PROPERTY) & pl.element().struct.field(
        "value"
    ).eq(run_id)
    hit = versions.filter(pl.col("properties").list.eval(mine).list.any())
    return store.version(dataset, hit["version"][-1]) if hit.height else None


def _files(store: DatasetStore) -> DeltaStorageHandler:
    """Return the object store at the store root (local folder or S3), as deltalake opens it."""
    return DeltaStorageHandler(store.root, store.storage_options)


def _one_row(intent: Intent) -> pl.DataFrame:
    return pl.DataFrame([asdict(intent)])
