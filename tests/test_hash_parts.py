"""The content hash from per-sensor parts: a plain reference, batches, digests combined."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.errors import InvalidParameterError
from sensorframe.prepare._hash import (
    HASH_SCHEME,
    canonical_types,
    combine_digests,
    sensor_digests,
)
from tests.conftest import sensor_frames

KEYS = ("sensor_id", "timestamp", "value")


def reference_hash(frame: pl.DataFrame) -> str:
    """
    Scheme 2 written out plainly: one SHA-256 per sensor, then one over them.

    For frames with unique (sensor, timestamp) of numbers, strings and times in their
    canonical types (what ``sensor_frames`` draws, plus extra columns).
    """
    order = [*KEYS, *sorted(c for c in frame.columns if c not in KEYS)]
    header = repr([(c, str(frame.schema[c])) for c in order]).encode()
    total = hashlib.sha256(f"sensorframe.content_hash:{HASH_SCHEME}".encode())
    total.update(header)
    total.update(frame.height.to_bytes(8, "little"))
    for (sensor,), rows in sorted(frame.partition_by("sensor_id", as_dict=True).items()):
        rows = rows.sort("timestamp")
        digest = hashlib.sha256(header)
        digest.update(rows.height.to_bytes(8, "little"))
        for name in order[1:]:
            column = rows.get_column(name)
            digest.update(bytes(int(v is None) for v in column.to_list()))
            if column.dtype == pl.String:
                texts = [b"" if v is None else v.encode() for v in column.to_list()]
                digest.update(np.array([len(t) for t in texts], dtype=np.int64).tobytes())
                digest.update(b"".join(texts))
            else:
                digest.update(column.to_physical().fill_null(0).to_numpy().tobytes())
        ident = str(sensor).encode()
        total.update(len(ident).to_bytes(8, "little") + ident + digest.digest())
    return total.hexdigest()


@st.composite
def frames_with_extras(draw: st.DrawFn) -> pl.DataFrame:
    frame = draw(sensor_frames(sensors="abcdefg"))
    n = frame.height
    notes = draw(st.lists(st.none() | st.text(max_size=4), min_size=n, max_size=n))
    counts = draw(st.lists(st.none() | st.integers(-(2**40), 2**40), min_size=n, max_size=n))
    return frame.with_columns(
        note=pl.Series(notes, dtype=pl.String), count=pl.Series(counts, dtype=pl.Int64)
    )


@given(frame=frames_with_extras(), seed=st.integers(0, 1000))
def test_hash_is_the_plain_per_sensor_definition(frame: pl.DataFrame, seed: int) -> None:
    expected = reference_hash(frame)
    assert sf.content_hash(frame) == expected
    assert sf.content_hash(frame.sample(fraction=1.0, shuffle=True, seed=seed)) == expected


@given(frame=frames_with_extras(), cut=st.lists(st.booleans(), min_size=7, max_size=7))
def test_digests_of_disjoint_sensors_combine_to_the_hash(
    frame: pl.DataFrame, cut: list[bool]
) -> None:
    types = canonical_types(frame)
    first = [s for s, c in zip("abcdefg", cut, strict=True) if c]
    parts = [
        sensor_digests(frame.filter(pl.col("sensor_id").is_in(first)), types=types),
        sensor_digests(frame.filter(~pl.col("sensor_id").is_in(first)), types=types),
    ]
    digests = pl.concat(parts)
    assert combine_digests(types, digests) == sf.content_hash(frame)
    assert combine_digests(types, digests.reverse()) == sf.content_hash(frame)
    assert digests.get_column("rows").sum() == frame.height
    assert sorted(digests.get_column("sensor_id")) == sorted(frame["sensor_id"].unique())


def test_parts_of_nested_and_tied_rows_combine_to_the_hash() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    frame = sf.scan(
        pl.DataFrame(
            {
                "sensor_id": ["a", "a", "a", "b", "b", "c"],
                "timestamp": [t0] * 6,
                "value": [0.0, -0.0, None, 2.0, 1.0, 3.0],
                "tags": [[1, 2], [3], None, [], [4, 5, 6], [7]],
            }
        )
    ).collect()
    whole = sf.content_hash(frame)
    assert sf.content_hash(frame.reverse()) == whole
    types = canonical_types(frame)
    parts = [sensor_digests(frame.filter(sensor_id=s), types=types) for s in "cab"]
    assert combine_digests(types, pl.concat(parts)) == whole
    changed = frame.with_columns(tags=pl.Series([[1, 2], [3], None, [], [4, 5, 6], [8]]))
    assert sf.content_hash(changed) != whole


def test_types_that_depend_on_values_are_decided_over_the_whole_source() -> None:
    times = pl.Series(
        [datetime(2026, 1, 1), datetime(2026, 1, 2)], dtype=pl.Datetime("ns")
    ).to_list()
    frame = sf.scan(
        pl.DataFrame(
            {"sensor_id": ["a", "b"], "timestamp": times, "value": [1.0, 2.0]},
        ).with_columns(
            at=pl.Series([0, 1_000], dtype=pl.Int64).cast(pl.Datetime("ns")),
            big=pl.Series([1, 2], dtype=pl.UInt64),
        )
    ).collect()
    assert canonical_types(frame)["at"] == pl.Datetime("us")
    assert canonical_types(frame)["big"] == pl.Int64
    odd = frame.with_columns(
        at=pl.Series([0, 1_001], dtype=pl.Int64).cast(pl.Datetime("ns")),
        big=pl.Series([1, 2**63], dtype=pl.UInt64),
    )
    types = canonical_types(odd.lazy())
    assert types["at"] == pl.Datetime("ns")
    assert types["big"] == pl.UInt64
    # sensor a alone would be hashed in microseconds and Int64; with the source's types
    # its part is the one the whole frame's hash is made of
    parts = [sensor_digests(odd.filter(sensor_id=s), types=types) for s in "ab"]
    assert combine_digests(types, pl.concat(parts)) == sf.content_hash(odd)
    alone = sensor_digests(odd.filter(sensor_id="a"))
    assert alone.get_column("digest").to_list() != parts[0].get_column("digest").to_list()


def test_combine_refuses_a_sensor_split_between_batches() -> None:
    frame = sf.scan(
        pl.DataFrame(
            {
                "sensor_id": ["a", "a"],
                "timestamp": ["2026-01-01", "2026-01-02"],
                "value": [1.0, 2.0],
            }
        )
    ).collect()
    types = canonical_types(frame)
    halves = [sensor_digests(frame.head(1), types=types), sensor_digests(frame.tail(1))]
    with pytest.raises(InvalidParameterError, match=r"\['a'\] have more than one digest"):
        combine_digests(types, pl.concat(halves))


def test_digests_need_the_frame_columns() -> None:
    frame = sf.scan(
        pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
    ).collect()
    types = canonical_types(frame.with_columns(extra=pl.lit(1)))
    with pytest.raises(InvalidParameterError, match="extra"):
        sensor_digests(frame, types=types)


def test_hash_of_a_fixed_frame_is_pinned() -> None:
    # scheme 2: a change here changes every stored version's hash (bump HASH_SCHEME)
    frame = pl.DataFrame(
        {
            "sensor_id": ["b", "a", "a"],
            "timestamp": ["2026-01-01T00:00", "2026-01-01T00:01", "2026-01-01T00:00"],
            "value": [1.5, None, -2.0],
            "note": ["x", None, "yz"],
        }
    )
    assert sf.content_hash(frame) == reference_hash(sf.scan(frame).collect())
    assert (
        sf.content_hash(frame) == "ef069d4a16027d99f0e1b59385400c739a1eed8fea66ae97d2b7bf9f5c95a7e8"
    )


def test_empty_frames_hash_by_their_schema() -> None:
    frame = sf.scan(
        pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
    ).collect()
    empty = frame.head(0)
    assert sf.content_hash(empty) == reference_hash(empty)
    assert sf.content_hash(empty) != sf.content_hash(empty.with_columns(x=pl.lit(1)))
    digests = sensor_digests(empty)
    assert digests.height == 0
    assert combine_digests(canonical_types(empty), digests) == sf.content_hash(empty)


@given(frame=frames_with_extras(), batch_rows=st.integers(1, 40))
def test_a_source_hashed_in_batches_has_the_in_memory_hash(
    frame: pl.DataFrame, batch_rows: int
) -> None:
    expected = sf.content_hash(frame)
    assert sf.content_hash(frame.lazy(), batch_rows=batch_rows) == expected
    assert sf.content_hash(frame, batch_rows=batch_rows) == expected
