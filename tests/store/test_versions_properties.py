"""User properties (``commit(properties=...)``) travel in the version's Delta commit."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from deltalake import DeltaTable

from sensorframe.errors import InvalidParameterError, InvalidTypeError
from sensorframe.store import DatasetStore

DF = pl.DataFrame(
    {
        "sensor_id": ["a", "b"],
        "timestamp": [datetime(2026, 1, 1, tzinfo=UTC)] * 2,
        "value": [1.0, 2.0],
    }
)


def test_properties_are_stored_in_the_commit_and_returned(store: DatasetStore) -> None:
    v = store.commit("raw", DF, properties={"run_id": "r-42", "source": "plc"})
    assert v.properties == (("run_id", "r-42"), ("source", "plc"))
    assert hash(v) == hash(v)  # still frozen and hashable
    commit = DeltaTable(f"{store.root}/raw", storage_options=store.storage_options).history()[0]
    assert commit["sensorframe.property.run_id"] == "r-42"
    assert store.version("raw", 0) == v
    assert store.latest("raw").properties == (("run_id", "r-42"), ("source", "plc"))
    w = store.commit("raw", DF, mode="append")
    assert w.properties == ()
    listing = store.versions("raw")
    assert listing.schema["properties"] == pl.List(
        pl.Struct({"key": pl.String, "value": pl.String})
    )
    assert listing["properties"].to_list() == [
        [{"key": "run_id", "value": "r-42"}, {"key": "source", "value": "plc"}],
        [],
    ]


def test_restore_does_not_copy_the_restored_versions_properties(tmp_path: object) -> None:
    store = DatasetStore(str(tmp_path))
    store.commit("raw", DF, properties={"run_id": "r-1"})
    store.commit("raw", DF.with_columns(value=pl.lit(3.0)))
    assert store.restore("raw", 0).properties == ()


@pytest.mark.parametrize(
    ("properties", "error"),
    [
        ({"run": 5}, InvalidTypeError),
        ({5: "x"}, InvalidTypeError),
        ({"": "x"}, InvalidParameterError),
        ("run=5", InvalidTypeError),
        ([("run", "5")], InvalidTypeError),
    ],
)
def test_bad_properties_are_refused(tmp_path: object, properties: object, error: type) -> None:
    store = DatasetStore(str(tmp_path))
    with pytest.raises(error, match="properties"):
        store.commit("raw", DF, properties=properties)  # type: ignore[arg-type]
    assert store.datasets() == []
