"""
Small per-bucket results (report tables) carried to the driver as Arrow IPC bytes.

A report table holds types Spark would change (``Enum`` status, durations, lists of
text); as one binary cell per bucket it reaches the driver exactly as the worker's
library built it, and the driver concatenates the buckets' tables.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["PAYLOAD", "pack", "unpack"]

PAYLOAD = pl.Schema({"part": pl.String, "ipc": pl.Binary})
"""One row per table of one bucket: which table (``part``) and its Arrow IPC bytes."""


def pack(**tables: pl.DataFrame) -> pl.DataFrame:
    """
    One :data:`PAYLOAD` row per named table.

    Examples
    --------
    >>> from sensorframe.spark._payload import pack
    >>> pack(table=pl.DataFrame({"a": [1]})).columns
    ['part', 'ipc']
    """
    parts, blobs = [], []
    for name, table in tables.items():
        buffer = io.BytesIO()
        table.write_ipc(buffer)
        parts.append(name)
        blobs.append(buffer.getvalue())
    return pl.DataFrame({"part": parts, "ipc": blobs}, schema=PAYLOAD)


def unpack(df: DataFrame, *names: str) -> dict[str, list[pl.DataFrame]]:
    """
    Collect a payload DataFrame: each named table as the list of the buckets' parts.

    Examples
    --------
    >>> from sensorframe.spark._payload import unpack
    >>> rows = pack(a=pl.DataFrame({"x": [1]})).to_arrow()
    >>> unpack(spark.createDataFrame(rows), "a")  # doctest: +SKIP
    {'a': [shape: (1, 1) ...]}
    """
    rows = df.collect()
    return {
        name: [pl.read_ipc(io.BytesIO(row["ipc"])) for row in rows if row["part"] == name]
        for name in names
    }
