"""Quality expressions name their data argument as feature expressions do (issue 14)."""

from __future__ import annotations

import inspect
from types import ModuleType

import polars as pl
import pytest

from sensorframe import features, quality
from sensorframe.errors import InvalidTypeError
from sensorframe.quality import contextual, limits, shape

_VALUES = ["missing", "zscore_outlier", "mad_outlier", "flatline_run_length", "flatline"]
_VALUES += ["noise_level", "drift_ratio"]
_TIMES = ["gap", "duplicate_timestamp", "out_of_order"]


@pytest.mark.parametrize("name", _VALUES + _TIMES)
def test_data_argument_is_named_as_in_features(name: str) -> None:
    first = next(iter(inspect.signature(getattr(quality, name)).parameters))
    want = "time" if name in _TIMES else "column"
    assert first == want
    assert want in inspect.signature(features.rate_of_change).parameters


@pytest.mark.parametrize("module", [limits, contextual, shape])
def test_new_checks_take_the_readings_positionally_and_options_by_keyword(
    module: ModuleType,
) -> None:
    for name in module.__all__:
        params = list(inspect.signature(getattr(module, name)).parameters.values())
        positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert positional == (["column", "time"] if name == "trend" else ["column"])
        assert all(p.kind is p.KEYWORD_ONLY for p in params[len(positional) :])


def test_old_keywords_still_work_with_a_warning() -> None:
    df = pl.DataFrame({"value": [1.0, None], "timestamp": [1, 1]})
    with pytest.warns(DeprecationWarning, match="use `column`") as caught:
        old = df.select(quality.missing(value="value"))  # type: ignore[call-arg]
    assert caught[0].filename == __file__
    assert old.equals(df.select(quality.missing(column="value")))
    with pytest.warns(DeprecationWarning, match="use `time`"):
        dup = df.select(quality.duplicate_timestamp(timestamp="timestamp"))  # type: ignore[call-arg]
    assert dup["timestamp"].to_list() == [False, True]
    with pytest.raises(InvalidTypeError, match="both"):
        quality.missing(value="value", column="value")  # type: ignore[call-arg]
