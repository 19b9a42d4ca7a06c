from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from sensorframe.cli import main
from sensorframe.datasets import synthetic

COMMANDS = ["demo", "quality", "drift", "run", "versions", "lineage", "runs"]


@pytest.fixture
def readings(tmp_path: Path) -> Path:
    path = tmp_path / "readings.parquet"
    synthetic(n_sensors=3, n_points=600, seed=1).frame.write_parquet(path)
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_help_on_every_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "--json" in capsys.readouterr().out


def test_quality_json_parses(readings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quality", str(readings), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["sensor_id"] for r in rows} == {"S000", "S001", "S002"}
    assert all("status" in r for r in rows)


def test_quality_with_mapped_columns_from_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic(n_sensors=2, n_points=500, seed=1, faults=()).frame
    path = tmp_path / "r.csv"
    frame.rename({"sensor_id": "device", "timestamp": "ts"}).write_csv(path)
    assert main(["quality", str(path), "--sensor-col", "device", "--time-col", "ts"]) == 0
    assert "S001" in capsys.readouterr().out


def test_drift_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = synthetic(n_sensors=2, n_points=1_000, seed=1, faults=()).frame
    frame.head(1_000).write_parquet(tmp_path / "ref.parquet")
    frame.with_columns(pl.col("value") + 100).write_parquet(tmp_path / "cur.parquet")
    code = main(["drift", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"), "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert any(r["drift_detected"] for r in rows)


def test_run_versions_lineage_runs(
    readings: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(tmp_path / "lake")
    assert main(["run", str(readings), "--root", root, "--hours-back", "0", "--json"]) == 0
    sensors = json.loads(capsys.readouterr().out)
    assert {r["status"] for r in sensors} == {"success"}
    assert main(["versions", "--root", root, "raw", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["version"] == 0
    assert main(["lineage", "--root", root, "processed", "--json"]) == 0
    edges = json.loads(capsys.readouterr().out)
    assert edges[0]["parent_dataset"] == "raw"
    assert main(["runs", "--root", root]) == 0
    assert "finish" in capsys.readouterr().out


def test_errors_are_one_line_with_nonzero_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["quality", str(tmp_path / "missing.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sensorframe: error:")
    assert err.count("\n") == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("sensor_id,timestamp,value\na,not-a-time,1\n")
    assert main(["quality", str(bad)]) == 2
    assert "not-a-time" in capsys.readouterr().err
    assert main(["versions", "--root", str(tmp_path), "nothing"]) == 2


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sensorframe.cli", "quality", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "demo-lake"
    assert main(["demo", "--root", str(root), "--sensors", "4"]) == 0
    out = capsys.readouterr().out
    for section in (
        "quality of weeks 1-2",
        "drift of weeks",
        "versions of",
        "lineage of",
        "run records",
    ):
        assert section in out
    assert main(["demo", "--root", str(root), "--sensors", "4"]) == 0  # re-runnable
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    assert main(["demo", "--root", str(tmp_path / "other")]) == 2
    assert (tmp_path / "other" / "keep.txt").exists()
