"""The report of a small demo-like run, opened in headless Chromium."""

import os
import shutil
import struct
import subprocess
import zlib
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

import sensorframe as sf
from sensorframe.reporting import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def needs_chromium() -> None:
    """Skip without Chromium, except on CI (which installs it: there a missing one fails)."""
    if CHROMIUM is None and not os.environ.get("CI"):
        pytest.skip("chromium is not installed (apt-get install chromium) and CI is not set")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    needs_chromium()
    data = sf.datasets.synthetic(n_sensors=4, n_points=1500, freq="10m", seed=42, shift_at=0.6)
    start = data.frame["timestamp"].min()
    ref = data.frame.filter(pl.col("timestamp") < start + timedelta(days=5))
    cur = data.frame.filter(pl.col("timestamp") >= start + timedelta(days=5))
    out = tmp_path_factory.mktemp("report") / "report.html"
    return report(
        quality=sf.assess_quality(data.frame),
        drift=sf.detect_drift(ref, cur),
        timeline=sf.drift_timeline(ref, data.frame, every="1d"),
        frame=data.frame,
        reference=ref,
        worst=2,
        path=out,
    )


def _chromium(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = page.parent / "profile"
    return subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_self_contained(page: Path) -> None:
    text = page.read_text()
    for fetch in ('src="http', "src='http", 'href="http', "url(http", "@import", "<link"):
        assert fetch not in text


def opened_dom(page: Path, sections: tuple[str, ...]) -> str:
    """Open `page` in Chromium: its script ran, no script error, every section; the DOM."""
    run = _chromium(page, "--dump-dom")
    dom = run.stdout
    root = dom[dom.index("<html") : dom.index(">", dom.index("<html"))]
    assert 'data-ready="1"' in root  # the page's script ran to the end
    assert "data-errors" not in root  # window.onerror recorded nothing
    assert "Uncaught" not in run.stderr
    for section in sections:
        assert f'id="{section}"' in dom
    return dom


def test_dom_has_sections_and_no_script_errors(page: Path) -> None:
    sections = ("overview", "checks", "drift", "timeline", "all-sensors", "sensor-0", "sensor-1")
    dom = opened_dom(page, sections)
    assert dom.count("<svg") >= 6


def _png_pixels(path: Path) -> set[bytes]:
    data = path.read_bytes()
    pos, chunks, width, height = 8, b"", 0, 0
    while pos < len(data):
        (n,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            chunks += body
        pos += 12 + n
    raw = zlib.decompress(chunks)
    stride = (len(raw) // height) - 1
    # filter bytes make this approximate; distinct rows are enough to tell blank from drawn
    return {raw[r * (stride + 1) + 1 : (r + 1) * (stride + 1)] for r in range(height)} | {
        bytes([width % 256])
    }


def assert_screenshot_not_blank(page: Path) -> None:
    """Take a screenshot of `page` beside it and check that something was drawn."""
    shot = page.parent / "shot.png"
    _chromium(page, f"--screenshot={shot}", "--window-size=1280,1600")
    assert shot.stat().st_size > 10_000
    assert len(_png_pixels(shot)) > 50


def test_screenshot_not_blank(page: Path) -> None:
    assert_screenshot_not_blank(page)
