"""Fixtures for the store tests: a store on a local folder and on a loopback S3 server."""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_module
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sensorframe.store import DatasetStore
from tests.store import _workers

S3_KEYS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_ALLOW_HTTP": "true",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """
    Start moto's S3 server on 127.0.0.1 (a free port), in its own process.

    Not in a thread of the test process: some deltalake calls (``DeltaTable.history``)
    hold the GIL while they wait for the HTTP answer, so an in-process Python server
    could never answer them (they hang until object_store's 180 s timeout).
    """
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:  # pragma: no cover - moto[server] is a test dependency
        pytest.skip(f"moto[server] is not installed, so no loopback S3 server: {exc}")
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_workers.run_moto, args=(queue,), daemon=True)
    process.start()
    try:
        status, detail = queue.get(timeout=60)
    except queue_module.Empty:
        status, detail = "error", "no answer within 60 s"
    if status != "ok":  # pragma: no cover - e.g. sockets forbidden in a sandbox
        process.terminate()
        pytest.skip(f"could not start the moto S3 server on 127.0.0.1: {detail}")
    host, port = detail
    yield f"http://{host}:{port}"
    process.terminate()
    process.join(10)
    queue.close()


def new_bucket(endpoint: str) -> str:
    import boto3

    name = f"sf-{uuid.uuid4().hex[:16]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store_location(
    request: pytest.FixtureRequest, tmp_path: Any
) -> tuple[str, dict[str, str] | None]:
    """``(root, storage_options)`` of an empty store, on a local folder or on S3."""
    if request.param == "local":
        return str(tmp_path / "lake"), None
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = new_bucket(endpoint)
    return f"s3://{bucket}/lake", {"AWS_ENDPOINT_URL": endpoint, **S3_KEYS}


@pytest.fixture
def store(store_location: tuple[str, dict[str, str] | None]) -> DatasetStore:
    root, options = store_location
    return DatasetStore(root, storage_options=options)


def tamper(store: DatasetStore, dataset: str, version: int) -> str:
    """Rewrite one data file of a version with changed values; return its path."""
    import io

    import polars as pl
    from deltalake import DeltaTable

    dt = DeltaTable(
        f"{store.root}/{dataset}", version=version, storage_options=store.storage_options
    )
    path = pl.DataFrame(dt.get_add_actions(flatten=True))["path"][0]
    if store.is_local:
        target = f"{store.root}/{dataset}/{path}"
        frame = pl.read_parquet(target)
        frame.with_columns(pl.col("value") + 1.0).write_parquet(target)
        return path
    import boto3

    options = store.storage_options or {}
    bucket, _, prefix = store.root.removeprefix("s3://").partition("/")
    client = boto3.client(
        "s3",
        endpoint_url=options["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    key = f"{prefix}/{dataset}/{path}"
    frame = pl.read_parquet(io.BytesIO(client.get_object(Bucket=bucket, Key=key)["Body"].read()))
    buffer = io.BytesIO()
    frame.with_columns(pl.col("value") + 1.0).write_parquet(buffer)
    client.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    return path
