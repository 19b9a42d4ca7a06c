"""Bad arguments to the store raise typed errors from the sensorframe tree."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from sensorframe.errors import (
    IntegrityError,
    InvalidParameterError,
    InvalidTypeError,
    SensorFrameError,
    VersioningError,
)
from sensorframe.store import DatasetStore

DF = pl.DataFrame(
    {"sensor_id": ["a"], "timestamp": [datetime(2026, 1, 1, tzinfo=UTC)], "value": [1.0]}
)


@pytest.fixture
def store(tmp_path: Path) -> DatasetStore:
    store = DatasetStore(tmp_path)
    store.commit("ds", DF)
    return store


CASES: dict[str, tuple[Callable[[DatasetStore], object], type[Exception], str]] = {
    "commit(5, df)": (lambda s: s.commit(5, DF), InvalidTypeError, "name must be a string"),  # type: ignore[arg-type]
    "tags=5": (lambda s: s.commit("ds", DF, tags=5), InvalidTypeError, "tags"),  # type: ignore[arg-type]
    "tags=[5]": (lambda s: s.commit("ds", DF, tags=[5]), InvalidParameterError, "tags"),  # type: ignore[list-item]
    "description=None": (
        lambda s: s.commit("ds", DF, description=None),  # type: ignore[arg-type]
        InvalidTypeError,
        "description",
    ),
    "parents=[('ds', True)]": (
        lambda s: s.commit("ds", DF, parents=[("ds", True)]),  # type: ignore[list-item]
        InvalidParameterError,
        "parent",
    ),
    "parents=5": (lambda s: s.commit("ds", DF, parents=5), InvalidTypeError, "parents"),  # type: ignore[arg-type]
    "read(version='0')": (lambda s: s.read("ds", version="0"), InvalidTypeError, "version"),  # type: ignore[arg-type]
    "read(version=True)": (lambda s: s.read("ds", version=True), InvalidTypeError, "version"),
    "read(as_known_at='2026-01-01')": (
        lambda s: s.read("ds", as_known_at="2026-01-01"),  # type: ignore[arg-type]
        InvalidTypeError,
        "as_known_at",
    ),
    "read(tag=5)": (lambda s: s.read("ds", tag=5), InvalidTypeError, "tag"),  # type: ignore[arg-type]
    "version('ds', '0')": (lambda s: s.version("ds", "0"), InvalidTypeError, "version"),  # type: ignore[arg-type]
    "verify('ds', 0.0)": (lambda s: s.verify("ds", 0.0), InvalidTypeError, "version"),  # type: ignore[arg-type]
    "restore(description=None)": (
        lambda s: s.restore("ds", 0, description=None),  # type: ignore[arg-type]
        InvalidTypeError,
        "description",
    ),
    "restore('ds', '0')": (lambda s: s.restore("ds", "0"), InvalidTypeError, "version"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_arguments_raise_typed_errors(store: DatasetStore, case: str) -> None:
    call, error, match = CASES[case]
    with pytest.raises(error, match=match):
        call(store)
    assert store.versions("ds").height == 1  # nothing was committed


def test_description_none_is_not_stored_as_null(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    with pytest.raises(InvalidTypeError):
        store.commit("ds", DF, description=None)  # type: ignore[arg-type]
    assert store.datasets() == []
    v = store.commit("ds", DF, description="")
    raw = (tmp_path / "ds" / "_delta_log" / f"{0:020d}.json").read_text().splitlines()[0]
    assert json.loads(raw)["commitInfo"]["sensorframe.description"] == ""
    assert v.description == ""


def test_a_store_root_must_not_be_a_file(tmp_path: Path) -> None:
    path = tmp_path / "lake.txt"
    path.write_text("not a folder")
    with pytest.raises(InvalidParameterError, match="is a file"):
        DatasetStore(path)
    assert path.read_text() == "not a folder"


def test_a_store_root_in_an_unknown_home_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="not a usable folder"):
        DatasetStore("~no-such-user-h1/lake")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"root": 5}, InvalidTypeError),
        ({"root": "x", "storage_options": 5}, InvalidTypeError),
        ({"root": "x", "storage_options": {"AWS_ALLOW_HTTP": True}}, InvalidTypeError),
        ({"root": "x", "max_commit_retries": "5"}, InvalidTypeError),
        ({"root": "x", "max_commit_retries": -1}, InvalidParameterError),
    ],
)
def test_bad_store_arguments(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        DatasetStore(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("root", ["gs://no-such-bucket/lake", "az://no-such-container/lake"])
def test_unreachable_object_stores_raise_typed_errors(root: str) -> None:
    # no credentials and no network: must be a VersioningError, never a raw OSError
    store = DatasetStore(root, storage_options={"timeout": "2s", "max_retries": "0"})
    for call in (
        lambda: store.commit("raw", DF),
        lambda: store.read("raw"),
        lambda: store.versions("raw"),
        store.datasets,
    ):
        with pytest.raises(SensorFrameError) as info:
            call()
        assert isinstance(info.value, VersioningError)
        assert not isinstance(info.value, IntegrityError), "a connection is not damaged data"
        assert "\x1b[" not in str(info.value)
