"""Tags and model links: bad arguments, and versions removed by vacuum."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from sensorframe.errors import InvalidParameterError, InvalidTypeError, VersionNotFoundError
from sensorframe.store import DatasetStore
from sensorframe.store._core import StoreCore

FRAME = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})


@pytest.fixture
def store(tmp_path: Any) -> DatasetStore:
    store = DatasetStore(f"{tmp_path}/lake")
    for i in range(3):
        store.commit("raw", FRAME.with_columns(value=pl.lit(float(i))))
    return store


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda s: s.tag("raw", "1", "x"), InvalidTypeError, "'1'"),
        (lambda s: s.tag("raw", True, "x"), InvalidTypeError, "True"),
        (lambda s: s.tag("raw", 1.0, "x"), InvalidTypeError, "1.0"),
        (lambda s: s.tag("raw", 0, 5), InvalidParameterError, "tag"),
        (lambda s: s.tag("raw", 0, " "), InvalidParameterError, "tag"),
        (lambda s: s.tag("raw", 99, "x"), VersionNotFoundError, "no version 99"),
        (
            lambda s: s.link_model("raw", 0, model_id=5, model_version="1"),
            InvalidParameterError,
            "model_id",
        ),
        (
            lambda s: s.link_model("raw", 0, model_id="m", model_version=1.2),
            InvalidParameterError,
            "model_version",
        ),
        (
            lambda s: s.link_model("raw", 0, model_id="m", model_version=None),
            InvalidParameterError,
            "model_version",
        ),
        (
            lambda s: s.link_model("raw", "0", model_id="m", model_version="1"),
            InvalidTypeError,
            "'0'",
        ),
        (lambda s: s.models("raw", "0"), InvalidTypeError, "'0'"),
        (lambda s: s.model_datasets(5), InvalidParameterError, "model_id"),
        (lambda s: s.model_datasets("m", 1), InvalidParameterError, "model_version"),
        (lambda s: s.lineage("raw", "0"), InvalidTypeError, "'0'"),
        (lambda s: s.records(""), InvalidParameterError, "record table"),
    ],
)
def test_bad_arguments_are_typed_errors(
    store: DatasetStore, call: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call(store)
    assert store.tags().height == 0
    assert store.model_datasets("m").height == 0


def test_a_vacuumed_version_takes_no_tag_or_model(store: DatasetStore) -> None:
    assert store.vacuum("raw", retention_hours=0).lost_versions["version"].to_list() == [0, 1]
    with pytest.raises(VersionNotFoundError, match="vacuum"):
        store.tag("raw", 0, "baseline")
    with pytest.raises(VersionNotFoundError, match="vacuum"):
        store.link_model("raw", 1, model_id="m", model_version="1")
    assert store.tags().height == 0
    store.tag("raw", 2, "baseline")
    assert store.tags().select("tag", "version").rows() == [("baseline", 2)]


def test_a_tag_that_lands_as_a_vacuum_removes_its_version_is_refused(
    store: DatasetStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The vacuum read the tags before this tag landed and recorded version 0 as
    # removed right after: the tag call must say so instead of pretending to protect it.
    other = DatasetStore(store.root)
    append = StoreCore.append_event

    def vacuum_meanwhile(self: StoreCore, name: str, rows: pl.DataFrame) -> int:
        if name == "tags":
            monkeypatch.setattr(StoreCore, "append_event", append)
            other.vacuum("raw", retention_hours=0, keep=[1])
        return append(self, name, rows)

    monkeypatch.setattr(StoreCore, "append_event", vacuum_meanwhile)
    with pytest.raises(VersionNotFoundError, match="vacuum"):
        store.tag("raw", 0, "baseline")


def test_link_model_options_are_keyword_only_and_a_positional_call_still_links(
    store: DatasetStore,
) -> None:
    with pytest.warns(DeprecationWarning, match=r"keyword-only.*model_id='m'") as caught:
        store.link_model("raw", 0, "m", "1")
    assert caught[0].filename == __file__  # points at the caller, not the store
    store.link_model("raw", 1, model_id="m", model_version="2")
    linked = store.model_datasets("m").select("version", "model_version").rows()
    assert linked == [(0, "1"), (1, "2")]
    with pytest.raises(TypeError, match="model_version"):
        store.link_model("raw", 0, model_id="m")  # type: ignore[call-arg]
