"""Preparation keeps the input's kind; both prepare_training_data give a TrainingData."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.datasets import synthetic


@pytest.fixture
def frame() -> pl.DataFrame:
    return synthetic(n_sensors=2, n_points=40, freq="1h", seed=5, faults=()).frame


@pytest.mark.parametrize("inverse", [False, True])
def test_normalizer_keeps_the_kind_of_its_input(frame: pl.DataFrame, inverse: bool) -> None:
    norm = sf.Normalizer("zscore").fit(frame)
    apply = norm.inverse_transform if inverse else norm.transform
    eager = apply(frame)
    assert isinstance(eager, pl.DataFrame)
    lazy = apply(frame.lazy())
    assert isinstance(lazy, pl.LazyFrame)
    assert eager.equals(lazy.collect())


def test_collect_on_an_eager_result_warns_and_gives_it_back(frame: pl.DataFrame) -> None:
    scaled = sf.Normalizer().fit(frame).transform(frame)
    with pytest.warns(DeprecationWarning, match="returns a DataFrame") as caught:
        again = scaled.collect()  # type: ignore[attr-defined]
    assert caught[0].filename == __file__  # the warning points at the caller
    assert type(again) is pl.DataFrame
    assert again.equals(scaled)


def test_both_prepare_training_data_return_training_data(
    tmp_path: Path, frame: pl.DataFrame
) -> None:
    direct = sf.prepare_training_data(frame, assess_quality=False)
    assert isinstance(direct, sf.TrainingData)
    assert direct.version is None
    pipe = sf.Pipeline(sf.DatasetStore(tmp_path / "lake"), sf.PipelineConfig(steps=("version",)))
    run = pipe.run(frame, progress=False)
    stored = pipe.prepare_training_data(assess_quality=False)
    assert isinstance(stored, sf.TrainingData)
    assert stored.version is not None
    assert stored.version.dataset == "training"
    assert stored.version.parents == (("raw", run.versions["raw"].version),)
    assert stored.train.equals(direct.train)


def test_unpacking_the_old_tuple_warns(tmp_path: Path, frame: pl.DataFrame) -> None:
    pipe = sf.Pipeline(sf.DatasetStore(tmp_path / "lake"), sf.PipelineConfig(steps=("version",)))
    pipe.run(frame, progress=False)
    with pytest.warns(DeprecationWarning, match="use `.version`") as caught:
        data, version = pipe.prepare_training_data(assess_quality=False)
    assert caught[0].filename == __file__
    assert isinstance(data, sf.TrainingData)
    assert version == data.version
