"""deltalake's failures become typed errors in one place (`sensorframe.store._translate`)."""

from __future__ import annotations

import pytest
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError

from sensorframe.errors import (
    CommitConflictError,
    IntegrityError,
    SensorFrameError,
    SensorSchemaError,
    VersioningError,
)
from sensorframe.store import DatasetStore, _translate
from tests.store.test_store import frame


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (SchemaMismatchError("Schema error: x"), SensorSchemaError),
        (DeltaError("Generic error: disk on fire"), VersioningError),
        (CommitFailedError("Concurrent transaction failed"), VersioningError),
        (OSError("connection refused"), VersioningError),
        (Exception("Cannot cast string to int64"), SensorSchemaError),
    ],
)
def test_write_failures_are_typed(raised: Exception, expected: type[Exception]) -> None:
    error = _translate.write_failure(raised, "could not commit to dataset 'raw'")
    assert type(error) is expected
    assert str(error).startswith("could not commit to dataset 'raw': ")


def test_only_a_lost_commit_race_is_retried() -> None:
    assert _translate.lost_race(CommitFailedError("Concurrent transaction failed"))
    assert not _translate.lost_race(DeltaError("Generic error"))
    assert not _translate.lost_race(OSError("refused"))


def test_damage_is_an_integrity_error_and_an_unreachable_store_is_not() -> None:
    panic = type("PanicException", (BaseException,), {})
    damaged = _translate.damaged_as_integrity_error("catalog table 'tags'", hint="; see")
    expected = r"'tags' is damaged.*PanicException.*; see"
    with pytest.raises(IntegrityError, match=expected) as info, damaged:
        raise panic("index out of bounds")
    assert info.value.__cause__ is not None
    remote = _translate.damaged_as_integrity_error("catalog table 'tags' (s3://b/_sensorframe)")
    with pytest.raises(VersioningError, match="cannot reach") as reached, remote:
        raise OSError("connection refused")
    assert not isinstance(reached.value, IntegrityError)
    with pytest.raises(KeyboardInterrupt), _translate.damaged_as_integrity_error("x"):
        raise KeyboardInterrupt


def test_restore_that_cannot_reach_its_store_is_a_versioning_error(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # deltalake's OSError used to escape restore() raw
    store = DatasetStore(str(tmp_path))
    store.commit("raw", frame())
    store.commit("raw", frame(offset=1.0))

    def unreachable(*args: object, **kwargs: object) -> None:
        raise OSError("object-store error: connection refused")

    monkeypatch.setattr(DeltaTable, "restore", unreachable)
    with pytest.raises(
        VersioningError, match=r"cannot restore version 0 of 'raw'.*refused"
    ) as info:
        store.restore("raw", 0)
    assert type(info.value) is VersioningError
    assert isinstance(info.value.__cause__, OSError)


def test_a_commit_whose_rows_deltalake_cannot_cast_is_a_schema_error(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a bare Exception from deltalake's Arrow cast used to escape commit() raw
    store = DatasetStore(str(tmp_path))
    store.commit("raw", frame())

    def cast_fails(*args: object, **kwargs: object) -> None:
        raise Exception("Cast error: cannot cast")  # what deltalake raises

    monkeypatch.setattr("sensorframe.store._commit.write_deltalake", cast_fails)
    monkeypatch.setattr(DeltaTable, "create_write_transaction", cast_fails)
    with pytest.raises(SensorFrameError) as info:
        store.commit("raw", frame(offset=2.0))
    assert type(info.value) is SensorSchemaError
    assert not isinstance(info.value, CommitConflictError)
