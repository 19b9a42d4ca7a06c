"""The reports `make demo` writes (`sensorframe demo`), opened in headless Chromium."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from sensorframe.cli import main
from tests.report.test_browser import (
    _chromium,
    assert_screenshot_not_blank,
    needs_chromium,
    opened_dom,
)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's reports on two sensors, by the weeks they cover, as the demo prints them."""
    needs_chromium()
    root = tmp_path_factory.mktemp("demo") / "lake"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--root", str(root), "--sensors", "2"]) == 0
    said = dict(re.findall(r"^report of (weeks \d-\d) \(.*?\): (\S+)$", out.getvalue(), re.M))
    return {weeks: Path(path) for weeks, path in said.items()}


def test_the_demo_writes_both_runs_reports_into_its_lake(pages: dict[str, Path]) -> None:
    assert sorted(pages) == ["weeks 1-2", "weeks 3-4"]
    for page in pages.values():
        assert page.parent.name == "reports"
        assert page.parent.parent.name == "_sensorframe"
        assert page.is_file()


def test_the_drift_report_opens_without_errors(pages: dict[str, Path]) -> None:
    sections = ("overview", "checks", "drift", "all-sensors", "sensor-0", "sensor-1")
    dom = opened_dom(pages["weeks 3-4"], sections)
    assert "S000" in dom
    assert "S001" in dom
    assert dom.count("<svg") >= 5


def test_the_quality_report_shows_the_injected_faults(pages: dict[str, Path]) -> None:
    dom = _chromium(pages["weeks 1-2"], "--dump-dom").stdout
    assert 'data-ready="1"' in dom
    assert 'id="checks"' in dom
    assert "outlier" in dom


def test_screenshot_of_the_demo_report_is_not_blank(pages: dict[str, Path]) -> None:
    assert_screenshot_not_blank(pages["weeks 3-4"])


def test_the_demo_runs_without_matplotlib_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    from sensorframe import demo

    real = importlib.util.find_spec
    monkeypatch.setattr(
        demo.importlib.util, "find_spec", lambda name: None if name == "matplotlib" else real(name)
    )
    runs = demo.run_demo(str(tmp_path / "lake"), n_sensors=2)["runs"]
    assert [run.report_path for run in runs] == [None, None]  # type: ignore[attr-defined]
    assert "pip install 'sensorframe[report]'" in capsys.readouterr().out
    assert not (tmp_path / "lake" / "_sensorframe" / "reports").exists()
