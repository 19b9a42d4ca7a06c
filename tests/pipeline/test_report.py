"""`PipelineConfig(report=True)`: the run's HTML report in the store, linked from its records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import sensorframe as sf
import sensorframe.reporting
from sensorframe.pipeline._commit import _files

DATA = sf.datasets.synthetic(n_sensors=5, n_points=600, seed=7)


def _finish(pipe: sf.Pipeline, run_id: str) -> pl.DataFrame:
    return pipe.runs(run_id=run_id).filter(pl.col("event") == "finish")


def _shown(page: str) -> list[str]:
    """The sensors the report gives a section of their own, in page order."""
    return re.findall(r'<article class="sensor" id="sensor-\d+"><h3>(\S+) ', page)


@pytest.fixture
def frames(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The ``frame`` every report of the test was given (the run's readings)."""
    seen: list[Any] = []
    real = sensorframe.reporting.report

    def spy(**options: Any) -> Path:
        seen.append(options["frame"])
        return real(**options)

    monkeypatch.setattr(sensorframe.reporting, "report", spy)
    return seen


def test_a_run_writes_its_report_into_the_store_and_links_it(tmp_path: Path) -> None:
    pipe = sf.Pipeline(sf.DatasetStore(tmp_path), sf.PipelineConfig(report=True))
    run = pipe.run(DATA.frame, progress=False)
    relative = f"_sensorframe/reports/{run.run_id}.html"
    assert run.report_path == f"{tmp_path}/{relative}"
    finish = _finish(pipe, run.run_id)
    assert finish.height == 5
    assert finish["report"].to_list() == [relative] * 5
    page = Path(run.report_path).read_text()
    assert f"sensorframe run {run.run_id}" in page
    assert run.quality is not None
    ranked = run.quality.table.sort("status", "sensor_id", descending=[True, False])
    assert sorted(_shown(page)) == sorted(ranked["sensor_id"].to_list())
    assert page.count('<div class="plot"><svg') == 5  # every series drawn
    assert f"report {run.report_path}" in run.summary()


def test_no_report_by_default(tmp_path: Path) -> None:
    pipe = sf.Pipeline(sf.DatasetStore(tmp_path))
    run = pipe.run(DATA.frame, progress=False)
    assert run.report_path is None
    assert _finish(pipe, run.run_id)["report"].null_count() == 5
    assert not (tmp_path / "_sensorframe" / "reports").exists()


def test_report_must_be_a_bool() -> None:
    with pytest.raises(sf.InvalidTypeError, match="`report`"):
        sf.PipelineConfig(report="yes")  # type: ignore[arg-type]


def test_a_run_in_batches_reads_back_the_raw_version_lazily(
    tmp_path: Path, frames: list[Any]
) -> None:
    store = sf.DatasetStore(tmp_path)
    cfg = sf.PipelineConfig(report=True, batch_rows=1300)
    run = sf.Pipeline(store, cfg).run(DATA.frame, progress=False)
    assert run.batches == 3
    [frame] = frames
    assert isinstance(frame, pl.LazyFrame)  # only the sensors shown are collected
    raw = store.read("raw", version=run.versions["raw"].version).collect()
    assert frame.collect().equals(raw)
    assert run.report_path is not None
    page = Path(run.report_path).read_text()
    assert page.count('<div class="plot"><svg') == 5


def test_a_run_without_versions_reports_on_its_input(tmp_path: Path, frames: list[Any]) -> None:
    cfg = sf.PipelineConfig(steps=("quality",), report=True, batch_rows=1300)
    source = tmp_path / "in.parquet"
    DATA.frame.write_parquet(source)
    run = sf.Pipeline(sf.DatasetStore(tmp_path / "lake"), cfg).run(source, progress=False)
    assert run.versions == {}
    [frame] = frames
    assert isinstance(frame, pl.LazyFrame)
    got = frame.collect().sort("sensor_id", "timestamp")
    assert got.equals(DATA.frame.sort("sensor_id", "timestamp").select(got.columns))
    assert run.report_path is not None
    assert Path(run.report_path).is_file()


def test_a_failed_run_links_no_report(tmp_path: Path) -> None:
    pipe = sf.Pipeline(
        sf.DatasetStore(tmp_path), sf.PipelineConfig(report=True, min_readings=10**6)
    )
    with pytest.raises(sf.PipelineError, match="every sensor failed"):
        pipe.run(DATA.frame, progress=False)
    records = pipe.runs()
    assert records.filter(pl.col("event") == "finish")["status"].unique().to_list() == ["failed"]
    assert records["report"].null_count() == records.height
    assert not (tmp_path / "_sensorframe" / "reports").exists()


def test_a_report_that_fails_warns_and_is_not_linked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**options: Any) -> Path:
        msg = "no room on the disk"
        raise OSError(msg)

    monkeypatch.setattr(sensorframe.reporting, "report", broken)
    pipe = sf.Pipeline(sf.DatasetStore(tmp_path), sf.PipelineConfig(report=True))
    with pytest.warns(sf.SensorFrameWarning, match="report could not be written.*no room"):
        run = pipe.run(DATA.frame, progress=False)
    assert run.succeeded
    assert run.report_path is None
    assert sorted(run.versions) == ["processed", "raw"]  # the run stands
    assert _finish(pipe, run.run_id)["report"].null_count() == 5


def test_an_incremental_run_writes_its_report(tmp_path: Path, frames: list[Any]) -> None:
    cfg = sf.PipelineConfig(report=True)
    pipe = sf.Pipeline(sf.DatasetStore(tmp_path), cfg)
    cut = DATA.frame["timestamp"].sort()[2000]
    first = pipe.run(DATA.frame.filter(pl.col("timestamp") < cut), incremental=True, progress=False)
    second = pipe.run(DATA.frame, incremental=True, progress=False)
    for run in (first, second):
        assert run.report_path == f"{tmp_path}/_sensorframe/reports/{run.run_id}.html"
        assert Path(run.report_path).is_file()
        assert _finish(pipe, run.run_id)["report"].drop_nulls().n_unique() == 1
    # the series shown is the raw dataset at the run's version: every reading so far
    assert frames[1].collect().height == DATA.frame.height
    nothing = pipe.run(DATA.frame, incremental=True, progress=False)
    assert nothing.versions == {}
    assert nothing.report_path is None


def test_a_run_on_s3_uploads_its_report(s3_endpoint: str) -> None:
    from tests.store.conftest import S3_KEYS, new_bucket

    root = f"s3://{new_bucket(s3_endpoint)}/lake"
    store = sf.DatasetStore(root, storage_options={"AWS_ENDPOINT_URL": s3_endpoint, **S3_KEYS})
    pipe = sf.Pipeline(store, sf.PipelineConfig(report=True))
    run = pipe.run(DATA.frame, progress=False)
    relative = f"_sensorframe/reports/{run.run_id}.html"
    assert run.report_path == f"{root}/{relative}"
    with _files(store).open_input_file(relative) as page:
        text = page.read().decode()
    assert f"sensorframe run {run.run_id}" in text
    assert _finish(pipe, run.run_id)["report"].to_list() == [relative] * 5
