"""
The page around the report's sections: styles and two small scripts, all inline.

Nothing is fetched: no font, stylesheet or script leaves the file, so it opens from
``file://`` and offline. The first script records any script error in the page
(``<html data-errors="...">``), which the browser test reads back; the second filters
the sensor table as one types.
"""

from __future__ import annotations

import html

__all__ = ["page"]

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans",
  Arial, sans-serif; color: var(--ink); background: #fff; }
header { padding: 18px 28px 10px; border-bottom: 1px solid var(--line); background: var(--bg); }
header h1 { margin: 0 0 4px; font-size: 22px; }
.meta { color: var(--muted); margin: 0; }
nav { padding: 8px 28px; border-bottom: 1px solid var(--line); font-size: 13px; }
nav a { margin-right: 14px; }
main { padding: 8px 28px 40px; max-width: 1280px; }
h2 { margin: 28px 0 8px; font-size: 19px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
h3 { margin: 22px 0 6px; font-size: 16px; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 6px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 112px;
  background: #fff; }
.card .n { font-size: 22px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 5px; border: 1px solid rgba(0,0,0,.25); vertical-align: baseline; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  border: 1px solid rgba(0,0,0,.2); white-space: nowrap; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0; }
svg { max-width: 100%; height: auto; display: block; }
.plot { margin: 6px 0 10px; }
.row { display: flex; flex-wrap: wrap; gap: 22px; align-items: flex-start; }
.row > div { flex: 1 1 420px; min-width: 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--bg); position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); }
article.sensor { border-top: 3px solid var(--line); margin-top: 30px; }
ul { margin: 4px 0; padding-left: 22px; }
input#filter { padding: 4px 8px; width: 320px; margin: 6px 0; font: inherit; }
footer { color: var(--muted); font-size: 12px; padding: 16px 28px;
  border-top: 1px solid var(--line); }
"""

_RECORD_ERRORS = """
window.addEventListener("error", function (e) {
  var root = document.documentElement;
  root.setAttribute("data-errors", (root.getAttribute("data-errors") || "") + e.message + ";");
});
"""

_FILTER = """
(function () {
  var box = document.getElementById("filter");
  var table = document.getElementById("sensor-table");
  if (box && table) {
    box.addEventListener("input", function () {
      var q = box.value.toLowerCase();
      var rows = table.tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        rows[i].hidden = q !== "" && rows[i].textContent.toLowerCase().indexOf(q) < 0;
      }
    });
  }
  document.documentElement.setAttribute("data-ready", "1");
})();
"""


def page(*, title: str, meta: str, nav: list[tuple[str, str]], body: str) -> str:
    """
    Assemble the HTML document: `body` (trusted HTML) under a header and a navigation bar.

    Examples
    --------
    >>> from sensorframe.reporting.template import page
    >>> text = page(title="t <1>", meta="m", nav=[("overview", "Overview")], body="<p>x</p>")
    >>> text.startswith("<!DOCTYPE html>"), "t &lt;1&gt;" in text, "http" in text
    (True, True, False)
    """
    links = "".join(f'<a href="#{anchor}">{html.escape(text)}</a>' for anchor, text in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>"
        f"<script>{_RECORD_ERRORS}</script></head><body>"
        f'<header><h1>{html.escape(title)}</h1><p class="meta">{html.escape(meta)}</p></header>'
        f"<nav>{links}</nav><main>{body}</main>"
        "<footer>Written by sensorframe. Self-contained: no script, style or font is fetched."
        f"</footer><script>{_FILTER}</script></body></html>\n"
    )
