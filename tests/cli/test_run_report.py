"""`sensorframe run --report`: the run's HTML report in the store, and where it went."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.cli import main
from sensorframe.datasets import synthetic


def test_run_with_report_writes_it_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.parquet"
    synthetic(n_sensors=3, n_points=400, seed=4).frame.write_parquet(source)
    root = tmp_path / "lake"
    assert main(["run", str(source), "--root", str(root), "--report"]) == 0
    said = re.search(r"report written to (\S+)", capsys.readouterr().err)
    assert said is not None
    page = Path(said[1])
    assert page.parent == root / "_sensorframe" / "reports"
    assert "Fleet overview" in page.read_text()
    finish = sf.Pipeline(sf.DatasetStore(str(root))).runs().filter(pl.col("event") == "finish")
    assert finish["report"].unique().to_list() == [f"_sensorframe/reports/{page.name}"]


def test_run_without_report_writes_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.parquet"
    synthetic(n_sensors=2, n_points=400, seed=4).frame.write_parquet(source)
    assert main(["run", str(source), "--root", str(tmp_path / "lake")]) == 0
    assert "report" not in capsys.readouterr().err
    assert not (tmp_path / "lake" / "_sensorframe" / "reports").exists()
