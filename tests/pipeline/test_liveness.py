"""When an unfinished run counts as abandoned: its process, or a timeout for other hosts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.pipeline._owner import Owner, _token, current_owner
from sensorframe.pipeline._records import RunLog


def _started(pipe: sf.Pipeline, run_id: str, owner: Owner, *, age: timedelta) -> None:
    RunLog(pipe.store).append(
        run_id,
        pl.DataFrame({"sensor_id": ["P-1"]}),
        event="start",
        status="running",
        at=datetime.now(UTC) - age,
        params=pipe.config.to_json(),
        owner=owner,
    )


def _status(pipe: sf.Pipeline, run_id: str) -> str | None:
    finish = pipe.runs(run_id=run_id).filter(pl.col("event") == "finish")
    return finish["status"][0] if finish.height else None


@pytest.fixture
def pipe(tmp_path: Path) -> sf.Pipeline:
    config = sf.PipelineConfig(abandon_after=timedelta(hours=2))
    return sf.Pipeline(sf.DatasetStore(tmp_path / "lake"), config)


def test_a_run_is_running_while_its_process_lives(pipe: sf.Pipeline) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        owner = Owner(host=socket.gethostname(), pid=child.pid, token=_token(child.pid))
        _started(pipe, "live", owner, age=timedelta(days=3))  # age does not matter here
        assert pipe.recover() == []
        assert _status(pipe, "live") is None
        child.kill()
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, not reaped: a zombie
        assert pipe.recover() == ["live"]
    finally:
        child.kill()
        child.wait()
    assert _status(pipe, "live") == "abandoned"


def test_a_recycled_pid_is_not_the_run_s_process(pipe: sf.Pipeline) -> None:
    me = current_owner()
    if me.token is None:
        pytest.skip("process tokens need /proc")
    _started(pipe, "old", Owner(host=me.host, pid=me.pid, token="other-boot:1"), age=timedelta(0))
    assert pipe.recover() == ["old"]


def test_this_process_s_run_is_alive_only_while_in_progress(pipe: sf.Pipeline) -> None:
    _started(pipe, "mine", current_owner(), age=timedelta(0))  # e.g. its commit raised
    assert pipe.recover() == ["mine"]
    assert _status(pipe, "mine") == "abandoned"


def test_a_run_of_another_host_is_abandoned_after_the_timeout(pipe: sf.Pipeline) -> None:
    elsewhere = Owner(host="not-" + socket.gethostname(), pid=os.getpid(), token=None)
    _started(pipe, "recent", elsewhere, age=timedelta(hours=1))
    _started(pipe, "stale", elsewhere, age=timedelta(hours=3))
    assert _status(pipe, "recent") is None  # runs() resolves dead runs first
    assert _status(pipe, "stale") == "abandoned"
    assert pipe.recover() == []


def test_abandon_after_must_be_positive() -> None:
    with pytest.raises(sf.ConfigError, match="abandon_after"):
        sf.PipelineConfig(abandon_after=timedelta(0))


def test_records_written_before_owners_were_recorded(pipe: sf.Pipeline) -> None:
    legacy = pl.DataFrame(
        {
            "run_id": ["old", "new"],
            "sensor_id": ["P-1", "P-1"],
            "event": ["start", "start"],
            "at": [datetime.now(UTC) - timedelta(days=1), datetime.now(UTC)],
            "status": ["running", "running"],
            "params": [pipe.config.to_json()] * 2,
        }
    )
    pipe.store.append_pipeline_records("runs", legacy)
    assert _status(pipe, "old") == "abandoned"  # no owner: the timeout decides
    assert _status(pipe, "new") is None
    assert pipe.runs()["host"].null_count() == 3  # two starts and the finish of "old"
