"""
Write the demo report and its README screenshots: ``python scripts/report_demo.py [OUT]``.

Four weeks of synthetic telemetry for a dozen sensors with injected faults and a level
shift from day 17 in half of them (as ``make demo``): quality of the whole record,
drift of weeks 3-4 against weeks 1-2 and a daily drift timeline, written to
``OUT/report.html`` (default ``demo-report``); headless Chromium, when installed, takes
``docs/images/report-overview.png`` and ``docs/images/report-sensor.png``.
"""

import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import polars as pl

import sensorframe as sf
from sensorframe.reporting import report

out = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-report")
out.mkdir(parents=True, exist_ok=True)
data = sf.datasets.synthetic(
    n_sensors=12, n_points=4 * 7 * 24 * 6, freq="10m", seed=42, shift_at=0.6
)
start = data.frame["timestamp"].min()
ref = data.frame.filter(pl.col("timestamp") < start + timedelta(days=14))
cur = data.frame.filter(pl.col("timestamp") >= start + timedelta(days=14))
page = report(
    quality=sf.assess_quality(data.frame),
    drift=sf.detect_drift(ref, cur),
    timeline=sf.drift_timeline(ref, data.frame, every="1d"),
    frame=data.frame,
    reference=ref,
    worst=6,
    path=out / "report.html",
    title="sensorframe demo report",
)
print(f"report written to {page} ({page.stat().st_size / 1e6:.2f} MB)")
chromium = shutil.which("chromium")
if chromium:
    images = Path(__file__).resolve().parents[1] / "docs" / "images"
    # headless screenshots start at the top: the sensor shot is of a copy showing one sensor
    alone = "<style>#overview, nav, header, article.sensor ~ article.sensor {display: none}</style>"
    sensor_page = out / "sensor.html"
    sensor_page.write_text(page.read_text().replace("</head>", alone + "</head>"))
    with tempfile.TemporaryDirectory() as profile:
        for name, shown, size in (
            ("overview", page, "1280,2000"),
            ("sensor", sensor_page, "1280,1250"),
        ):
            subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", f"--window-size={size}", "--hide-scrollbars",
                 f"--screenshot={images / f'report-{name}.png'}", shown.resolve().as_uri()],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            print(f"screenshot {images / f'report-{name}.png'}")
