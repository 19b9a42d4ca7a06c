"""Record tables: reserved names, the pipeline's own path, bad arguments."""

from __future__ import annotations

import polars as pl
import pytest

from sensorframe.errors import InvalidParameterError, InvalidTypeError, SensorSchemaError
from sensorframe.store import DatasetStore


@pytest.fixture
def local(tmp_path: object) -> DatasetStore:
    return DatasetStore(f"{tmp_path}/lake")


@pytest.mark.parametrize("name", ["runs", "drift_reference", "tags", "vacuums"])
def test_reserved_record_names_are_refused(local: DatasetStore, name: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"{name!r} is reserved"):
        local.append_records(name, pl.DataFrame({"x": [1]}))
    assert local._core.events(name) is None  # nothing was written


def test_the_pipeline_writes_its_tables_through_its_own_method(local: DatasetStore) -> None:
    assert local.append_pipeline_records("runs", pl.LazyFrame({"run": [1]})) == 0
    assert local.append_pipeline_records("drift_reference", pl.DataFrame({"x": [1.0]})) == 0
    assert local.records("runs").collect().rows() == [(1,)]
    with pytest.raises(InvalidParameterError, match="'tags' is not a pipeline table"):
        local.append_pipeline_records("tags", pl.DataFrame({"x": [1]}))
    with pytest.raises(InvalidParameterError, match="'labels' is not a pipeline table"):
        local.append_pipeline_records("labels", pl.DataFrame({"x": [1]}))


def test_records_must_be_a_polars_frame_with_columns(local: DatasetStore) -> None:
    with pytest.raises(InvalidTypeError, match="dict"):
        local.append_records("labels", {"run": [4]})  # type: ignore[arg-type]
    with pytest.raises(SensorSchemaError, match="no columns"):
        local.append_records("labels", pl.DataFrame())
    with pytest.raises(SensorSchemaError, match="'x' has type Null"):
        local.append_records("labels", pl.DataFrame({"x": [None]}))
    assert local._core.events("labels") is None
