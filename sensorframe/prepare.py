"""Training-data preparation: chronological splits, per-sensor normalization, content hash."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import numpy as np
import polars as pl

from sensorframe.frame import KEYS, scan

__all__ = ["content_hash"]


def content_hash(frame: Any) -> str:
    """
    SHA-256 of a frame's content, independent of row order and of chunking.

    The frame is made canonical (as :func:`sensorframe.scan` does), sorted by every
    column (keys first), and each column's Arrow-style buffers are hashed: a validity
    bitmap and the raw values for numbers and times, run lengths and bytes for text.
    Any change of a value, timestamp, sensor id, column name or type changes the hash.

    Parameters
    ----------
    frame
        Any input :func:`sensorframe.scan` accepts.

    Returns
    -------
    str
        64 hexadecimal characters.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["a", "b"], "timestamp": ["2026-01-01", "2026-01-01"], "value": [1, 2]}
    ... )
    >>> sf.content_hash(df) == sf.content_hash(df.reverse())
    True
    >>> sf.content_hash(df) == sf.content_hash(df.with_columns(value=pl.lit(1.0)))
    False
    """
    df = scan(frame).collect()
    extras = sorted(c for c in df.columns if c not in KEYS)
    order = [*KEYS, *extras]
    sortable = [c for c in order if not df.schema[c].is_nested()]
    df = df.select(order).sort(sortable, nulls_last=True, maintain_order=False)
    digest = hashlib.sha256()
    digest.update(repr([(c, str(df.schema[c])) for c in order]).encode())
    digest.update(df.height.to_bytes(8, "little"))
    for name in order:
        digest.update(name.encode())
        for chunk in _column_bytes(df.get_column(name).rechunk()):
            digest.update(chunk)
    return digest.hexdigest()


def _column_bytes(series: pl.Series) -> list[bytes]:
    """Return the bytes that identify a column's content: validity, then values."""
    validity = np.packbits(series.is_null().to_numpy()).tobytes()
    dtype = series.dtype
    if dtype.is_numeric() or dtype.is_temporal() or dtype == pl.Boolean:
        physical = series.to_physical().fill_null(0)
        values = physical.cast(pl.UInt8) if dtype == pl.Boolean else physical
        return [validity, np.ascontiguousarray(values.to_numpy()).tobytes()]
    if dtype in (pl.String, pl.Binary, pl.Categorical):
        text = series.cast(pl.String) if dtype == pl.Categorical else series
        runs = text.rle()
        lengths = runs.struct.field("len").to_numpy()
        values = runs.struct.field("value")
        sizes = values.cast(pl.Binary).bin.size().fill_null(0).to_numpy()
        data = b"".join(v for v in values.cast(pl.Binary).fill_null(b"").to_list())
        return [validity, lengths.tobytes(), sizes.tobytes(), data]
    buffer = io.BytesIO()
    series.to_frame().write_ipc(buffer, compression="uncompressed")
    return [validity, buffer.getvalue()]
