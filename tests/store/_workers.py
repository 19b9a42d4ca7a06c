"""Process targets for the store tests (importable by spawned children)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from sensorframe.store import DatasetStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def run_moto(queue: Any) -> None:
    """Serve moto's S3 on 127.0.0.1 (free port) until killed; report the port."""
    try:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        queue.put(("ok", server.get_host_and_port()))
    except Exception as exc:  # reported to the parent, which skips
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    threading.Event().wait()


def batch(worker: int, i: int, rows: int = 5) -> pl.DataFrame:
    """Rows unique to (worker, i)."""
    return pl.DataFrame(
        {
            "sensor_id": [f"w{worker}"] * rows,
            "timestamp": [T0 + timedelta(minutes=i * rows + k) for k in range(rows)],
            "value": [float(worker * 1000 + i)] * rows,
        }
    )


def append_many(
    root: str, options: dict[str, str] | None, dataset: str, worker: int, n: int
) -> None:
    """Append ``n`` small batches to ``dataset``."""
    store = DatasetStore(root, storage_options=options, max_commit_retries=200)
    for i in range(n):
        store.commit(dataset, batch(worker, i), mode="append", description=f"w{worker} #{i}")


def overwrite_forever(root: str, options: dict[str, str] | None, dataset: str, rows: int) -> None:
    """Commit large frames in a loop (the parent kills this process mid-commit)."""
    store = DatasetStore(root, storage_options=options)
    i = 0
    while True:
        frame = pl.DataFrame(
            {
                "sensor_id": pl.Series(["s"]).extend_constant("s", rows - 1),
                "timestamp": pl.datetime_range(
                    T0, T0 + timedelta(seconds=rows - 1), "1s", eager=True, time_zone="UTC"
                ),
                "value": pl.int_range(rows, eager=True).cast(pl.Float64) + i,
            }
        )
        store.commit(dataset, frame, description=f"big #{i}")
        i += 1


def commit_and_report(
    root: str, options: dict[str, str] | None, dataset: str, worker: int, n: int, queue: Any
) -> None:
    """
    Commit ``n`` batches (every third an overwrite) and report what each call returned.

    Puts ``(worker, i, version, data_hash, batch_hash)`` on ``queue`` per commit.
    """
    store = DatasetStore(root, storage_options=options, max_commit_retries=500)
    for i in range(n):
        v = store.commit(
            dataset,
            batch(worker, i),
            mode="overwrite" if i % 3 == 2 else "append",
            description=f"w{worker} #{i}",
            properties={"writer": str(worker), "i": str(i)},
        )
        queue.put((worker, i, v.version, v.data_hash, v.batch_hash))
