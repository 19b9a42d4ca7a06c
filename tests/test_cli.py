from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import sensorframe as sf
from sensorframe import cli
from sensorframe.cli import main
from sensorframe.datasets import synthetic

COMMANDS = ["demo", "quality", "drift", "explore", "bench", "run", "versions", "lineage", "runs"]


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
    assert main(["run", str(readings), "--root", root, "--json"]) == 0
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
    assert main(["demo", "--root", str(root), "--sensors", "4", "--force"]) == 0  # re-runnable
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    assert main(["demo", "--root", str(tmp_path / "other"), "--force"]) == 2
    assert (tmp_path / "other" / "keep.txt").exists()


def test_demo_never_deletes_a_lake_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = tmp_path / "demo-lake"
    assert main(["demo", "--root", str(demo), "--sensors", "2"]) == 0
    capsys.readouterr()
    before = sorted(p.relative_to(demo) for p in demo.rglob("*"))
    assert main(["demo", "--root", str(demo), "--sensors", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--force" in err
    assert str(demo) in err
    assert sorted(p.relative_to(demo) for p in demo.rglob("*")) == before
    # a lake the demo did not make is never deleted, even with --force
    lake = tmp_path / "lake"
    readings = synthetic(n_sensors=2, n_points=500, seed=1).frame
    sf.DatasetStore(lake).commit("readings", readings)
    for flags in ([], ["--force"]):
        assert main(["demo", "--root", str(lake), "--sensors", "2", *flags]) == 2
        assert "not made by the demo" in capsys.readouterr().err
    assert sf.DatasetStore(lake).versions("readings").height == 1
    with pytest.raises(sf.InvalidParameterError, match="--force"):
        _demo_into(demo)


def _demo_into(root: Path) -> None:
    from sensorframe.cli import _commands, _parser

    _commands.demo(_parser().parse_args(["demo", "--root", str(root)]))


@pytest.mark.parametrize(
    "args",
    [
        ["--hours-back", "inf"],
        ["--hours-back", "nan"],
        ["--hours-back", "-5"],
        ["--hours-back", "1e400"],
        ["--hours-back", "2e10"],  # would overflow microsecond timestamps
        ["--hours-back", "soon"],
    ],
)
def test_run_refuses_bad_hours(
    args: list[str], readings: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(readings), "--root", str(tmp_path / "lake"), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--hours-back" in err
    assert "Traceback" not in err
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["quality", "R", "--outlier-z", "nan"],
        ["quality", "R", "--outlier-z", "0"],
        ["drift", "R", "R", "--alpha", "1.5"],
        ["drift", "R", "R", "--alpha", "-inf"],
        ["demo", "--sensors", "0"],
        ["demo", "--sensors", "10000000"],
        ["lineage", "--root", "X", "raw", "-1"],
    ],
)
def test_other_bad_numbers_are_refused(
    argv: list[str], readings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(readings) if a == "R" else a for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_a_bad_value_names_file_column_and_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic(n_sensors=1, n_points=3_000, seed=1, faults=()).frame
    path = tmp_path / "readings.csv"
    frame.with_columns(pl.col("value").cast(pl.String)).with_columns(
        value=pl.when(pl.int_range(pl.len()) == 2_499).then(pl.lit("abc")).otherwise("value")
    ).write_csv(path)
    for command in (["quality", str(path)], ["run", str(path), "--root", str(tmp_path / "l")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith("sensorframe: error:")
        assert err.count("\n") == 1
        assert str(path) in err or path.name in err
        assert "'value'" in err or "value column" in err
        assert "abc" in err
        assert "2500" in err or "2,500" in err or "2499" in err


def test_hints_name_the_flags_not_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic(n_sensors=1, n_points=500, seed=1, faults=()).frame
    path = tmp_path / "r.csv"
    frame.rename({"timestamp": "ts"}).write_csv(path)
    assert main(["quality", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--time-col" in err
    assert "sf.Columns" not in err
    us = tmp_path / "us.csv"
    us.write_text("sensor_id,timestamp,value\na,1/2/2022 0:00,1\na,1/3/2022 0:00,2\n")
    assert main(["quality", str(us)]) == 2
    err = capsys.readouterr().err
    assert "--time-format" in err
    assert "time_format=" not in err


def test_time_format_and_timezone_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    us = tmp_path / "us.csv"
    rows = [f"a,1/{d}/2022 {h}:00,{d * h}" for d in range(2, 9) for h in range(24)]
    us.write_text("sensor_id,timestamp,value\n" + "\n".join(rows) + "\n")
    flags = ["--time-format", "%m/%d/%Y %H:%M", "--timezone", "America/New_York"]
    root = str(tmp_path / "lake")
    assert main(["run", str(us), "--root", root, *flags]) == 0
    capsys.readouterr()
    raw = sf.DatasetStore(root).read("raw").collect()
    # 2 January 2022, 00:00 in New York (EST, UTC-5) is 05:00 UTC; never 1 February
    assert raw["timestamp"].min() == datetime(2022, 1, 2, 5, tzinfo=UTC)
    assert main(["quality", str(us), *flags, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["rows"] == len(rows)
    assert main(["drift", str(us), str(us), *flags, "--json"]) == 0


@pytest.mark.parametrize(
    "error",
    [RuntimeError("boom\nsecond line"), pl.exceptions.PanicException("boom")],
    ids=["exception", "panic"],
)
def test_an_internal_error_is_one_line_too(
    error: BaseException,
    readings: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(cli._commands, "assess_quality", broken)
    assert main(["quality", str(readings)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("sensorframe: internal error")
    assert "boom" in err
    assert "please report" in err


def test_a_repeated_autumn_hour_is_refused_with_the_flag_to_choose_a_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    walls = ["2022-10-30 01:30", "2022-10-30 02:00", "2022-10-30 02:00", "2022-10-30 03:00"]
    path = tmp_path / "berlin.csv"
    pl.DataFrame({"sensor_id": "B-1", "timestamp": walls, "value": [1.0, 2.0, 3.0, 4.0]}).write_csv(
        path
    )
    args = ["quality", str(path), "--timezone", "Europe/Berlin", "--json"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--ambiguous infer" in err
    assert "ambiguous=" not in err
    assert main([*args, "--ambiguous", "infer"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["rows"] == 4


def test_run_uses_every_reading_unless_a_window_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    times = [now - timedelta(minutes=30) - timedelta(hours=h) for h in range(240)]  # 10 days
    source = tmp_path / "recent.parquet"
    pl.DataFrame(
        {"sensor_id": "P-1", "timestamp": times, "value": [float(h % 7) for h in range(240)]}
    ).write_parquet(source)
    runs = [
        ([], 240, ""),  # more than a week: all of it
        (["--hours-back", "24"], 24, "216 row(s) outside the window left out"),
        (["--window-hours", "12"], 12, "228 row(s) outside the window left out"),
    ]
    for i, (flags, rows, note) in enumerate(runs):
        root = str(tmp_path / f"lake{i}")
        assert main(["run", str(source), "--root", root, "--json", *flags]) == 0
        err = capsys.readouterr().err
        assert note in err
        assert ("left out" in err) == bool(note)
        assert sf.DatasetStore(root).latest("raw").rows == rows
    both = ["--hours-back", "1", "--window-hours", "1"]
    assert main(["run", str(source), "--root", str(tmp_path / "both"), *both]) == 2
    assert "either `window`" in capsys.readouterr().err


def test_run_help_says_where_each_window_is_counted_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "last HOURS hours before now" in text
    assert "before the source's newest reading" in text
    assert "default: every reading" in text


def test_hours_back_zero_still_means_every_reading_with_a_warning(
    readings: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(tmp_path / "lake")
    assert main(["run", str(readings), "--root", root, "--hours-back", "0", "--json"]) == 0
    assert "--hours-back 0 is deprecated" in capsys.readouterr().err
    assert sf.DatasetStore(root).latest("raw").rows == pl.read_parquet(readings).height


# ----------------------------------------------------------------- explore, bench
@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.parquet"
    synthetic(n_sensors=2, n_points=400, seed=3).frame.write_parquet(path)
    return path


def test_explore_prints_the_table_and_writes_a_report(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "features.json"
    config.write_text(json.dumps({"rolling_windows": [6, "1h"], "lags": [1], "calendar": True}))
    report = tmp_path / "out.html"
    args = ["explore", str(small), "--config", str(config), "--target-horizon", "1h"]
    assert main([*args, "--target-kind", "mean", "--report", str(report)]) == 0
    captured = capsys.readouterr()
    assert "rolling_1h_mean" in captured.out
    assert "p_value_adjusted" in captured.out
    assert "Exploration(" in captured.err
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page
    assert "rolling_mean" in page
    assert main(["explore", str(small), "--config", "minimal", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["feature"] for r in rows] == sf.feature_names(sf.FeatureConfig.minimal())
    assert "p_value" not in rows[0]


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--target-horizon", "0"], "--target-horizon"),
        (["--target-horizon", "1 fortnight"], "--target-horizon"),
        (["--target-horizon", "3", "--target-kind", "event"], "--threshold"),
        (["--report", "x.html"], "--target-horizon"),
        (["--config", "nope.json"], "--config nope.json"),
    ],
)
def test_explore_errors_speak_in_flags(
    small: Path, flags: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explore", str(small), "--config", "minimal", *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert says in err
    assert "`" not in err  # no Python parameter names


def test_explore_config_file_errors(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rolling_window": [6]}))
    assert main(["explore", str(small), "--config", str(bad)]) == 2
    assert "rolling_window" in capsys.readouterr().err
    bad.write_text("{not json")
    assert main(["explore", str(small), "--config", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_bench_prints_ratios_against_pandas(
    small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", str(small), "--config", "minimal", "--repeat", "1", "--json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert {r["family"] for r in rows} == {"rolling_mean", "rolling_std", "lag", "diff"}
    assert all(r["speedup"] > 0 for r in rows)
    assert "anchor: pandas" in captured.err


def test_bench_without_pandas_says_so(
    small: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    assert main(["bench", str(small), "--config", "minimal", "--repeat", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "pandas is not installed" in captured.err
    assert all(r["pandas_s"] is None for r in json.loads(captured.out))
