"""The report's HTML tables: escaping as html.escape does, the table of every sensor."""

from __future__ import annotations

import html
import re
from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.reporting import report
from sensorframe.reporting.html import escape_expr


@given(texts=st.lists(st.text(alphabet="<>&\"'ab é", max_size=12), max_size=8))
def test_escape_expr_is_html_escape(texts: list[str]) -> None:
    got = pl.Series(texts, dtype=pl.String).to_frame("t").select(escape_expr(pl.col("t")))
    assert got["t"].to_list() == [html.escape(t) for t in texts]


def _rows(page: str) -> list[list[str]]:
    body = page[page.index('<table id="sensor-table">') :]
    body = body[body.index("<tbody>") + 7 : body.index("</tbody>")]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("</tr>") if row]


def test_every_sensor_in_the_table_worst_first_linked_when_shown(tmp_path: Path) -> None:
    data = sf.datasets.synthetic(n_sensors=4, n_points=500, seed=1)
    frame = data.frame.with_columns(pl.col("sensor_id").replace({"S003": "a<b&c"}))
    quality = sf.assess_quality(frame)
    page = report(quality=quality, frame=frame, worst=1, path=tmp_path / "r.html").read_text()
    rows = _rows(page)
    ranked = quality.table.sort("status", "sensor_id", descending=[True, False])
    expected = [html.escape(s) for s in ranked["sensor_id"]]
    assert [re.sub(r"<a href=\"#sensor-0\">(.*)</a>", r"\1", r[0]) for r in rows] == expected
    assert rows[0][0] == f'<a href="#sensor-0">{expected[0]}</a>'  # the worst one is shown
    assert all("<a " not in r[0] for r in rows[1:])
    statuses = [re.search(r">(\w+)</span>", r[1])[1] for r in rows]  # type: ignore[index]
    assert statuses == ranked["status"].cast(pl.String).to_list()
    graded = [", ".join(g) for g in ranked["graded_by"]]
    assert [r[2] for r in rows] == graded
    issues = ranked["issues"].to_list()
    assert [r[3] for r in rows] == [html.escape(i[0]) if i else "" for i in issues]


def test_times_and_durations_render_as_cell_renders_each_value() -> None:
    from datetime import UTC, datetime, timedelta

    from sensorframe.reporting.html import cell, table

    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # a clock change in Berlin that night
    frame = pl.DataFrame(
        {
            "start": [start + timedelta(hours=h) for h in range(4)] + [None],
            "duration": [timedelta(seconds=s) for s in (0, 59, 3600, 90_061)] + [None],
        }
    )
    page = table(frame, timezone="Europe/Berlin")
    got = re.findall(r"<td>(.*?)</td>", page)
    expected = [cell(v, timezone="Europe/Berlin") for row in frame.iter_rows() for v in row]
    assert got == expected
    assert got[0] == "2026-03-29 01:30"
    assert got[2] == "2026-03-29 03:30"  # an hour later in UTC, two on the clock
