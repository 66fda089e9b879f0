"""The page: Plotly figures as JSON, plotly.js embedded once, and the page's own check of every chart.

Plotly (its Python package ships plotly.js) gives hover values, zoom and legend toggles without a server or
network. The page's script draws every figure, counts the marks each one rendered (line paths, points,
bars, heat-map images, Sankey links) into `figure[data-marks]`, and sets `body[data-report-status]` to
`ok` or names the empty charts; the headless-browser test reads both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

TEMPLATE = "plotly_white"
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")
# Marks a drawn figure leaves in its SVG: line paths, scatter points and bars, heat-map images, Sankey links.
MARK_SELECTOR = "path.js-line, .point, .hm image, .sankey-link"


@dataclass(frozen=True)
class Chart:
    """One interactive figure with its caption and a note on where its numbers come from."""

    chart_id: str
    title: str
    figure: go.Figure
    note: str = ""

    def html(self) -> str:
        margin = self.figure.layout.margin
        self.figure.update_layout(
            template=None, title=None, margin={"t": margin.t or 40, "r": margin.r or 30, "b": margin.b or 60}
        )
        spec = pio.to_json(self.figure, pretty=False, validate=False)
        note = f'<p class="note">{escape(self.note)}</p>' if self.note else ""
        return (
            f'<figure class="chart" id="{self.chart_id}"><figcaption>{escape(self.title)}</figcaption>'
            f'<div class="plot"></div>{note}'
            f'<script type="application/json" class="figure-spec">{_script_safe(spec)}</script></figure>'
        )


@dataclass(frozen=True)
class Section:
    """One titled block of the page: HTML fragments and charts, in order."""

    anchor: str
    title: str
    parts: list[Chart | str] = field(default_factory=list)

    def html(self) -> str:
        body = "".join(part.html() if isinstance(part, Chart) else part for part in self.parts)
        return f'<section id="{self.anchor}"><h2>{escape(self.title)}</h2>{body}</section>'


def _script_safe(text: str) -> str:
    """JSON placed inside a <script> element: `</` cannot close it early."""
    return text.replace("</", "<\\/")


def figure(name: str, text: str) -> str:
    """A figure of the summary, marked so the browser test can compare it with the tables."""
    return f'<span class="figure" data-figure="{escape(name)}">{escape(text)}</span>'


def html_table(table_id: str, title: str, frame: pd.DataFrame, max_rows: int = 200) -> str:
    """A plain HTML table of the first `max_rows` rows (the caption says when rows were left out)."""
    shown = frame.head(max_rows)
    head = "".join(f"<th>{escape(str(c))}</th>" for c in shown.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False)
    )
    more = f" (first {max_rows} of {len(frame):,} rows)" if len(frame) > max_rows else ""
    return (
        f'<div class="table-wrap"><table class="data" id="{table_id}"><caption>{escape(title)}{more}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def render_page(sections: list[Section], source: str) -> str:
    """The whole document: header, navigation, sections, plotly.js once, the drawing script."""
    nav = "".join(f'<a href="#{s.anchor}">{escape(s.title)}</a>' for s in sections)
    body = "".join(section.html() for section in sections)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    template = json.dumps(pio.templates[TEMPLATE].to_plotly_json()["layout"])
    return PAGE.format(
        nav=nav,
        body=body,
        source=escape(source),
        generated=generated,
        css=CSS,
        plotly=get_plotlyjs(),
        script=SCRIPT.replace("__TEMPLATE__", _script_safe(template)).replace("__MARKS__", MARK_SELECTOR),
    )


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3b57;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.8}nav{padding:8px 24px;background:#e8edf2;position:sticky;top:0;z-index:10}
nav a{margin-right:16px;color:#1f3b57;text-decoration:none;font-weight:600}
main{padding:8px 24px}section{margin:18px 0}h2{border-bottom:2px solid #1f3b57;padding-bottom:4px}
figure.chart{display:inline-block;vertical-align:top;margin:8px 12px 16px 0;background:#fff;border:1px solid #ddd;
padding:8px;max-width:100%}figcaption{font-weight:600;margin-bottom:4px}
.note{color:#666;font-size:12px;max-width:640px;margin:4px 0 0}
.table-wrap{overflow-x:auto;margin:8px 0 16px}table.data{border-collapse:collapse;background:#fff;font-size:12px}
table.data caption{text-align:left;font-weight:600;padding:4px 0}
table.data th,table.data td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}
table.data th{background:#f0f3f6}
#summary{background:#fff;border:1px solid #cdd6df;border-left:4px solid #1f3b57;padding:4px 18px 10px}
#summary h3{margin:12px 0 4px;font-size:15px}#summary ul{margin:2px 0;padding-left:20px}
#summary .figure{font-weight:600}
#summary table.data td:last-child,#summary table.data th:last-child{text-align:left;white-space:normal}
"""

SCRIPT = """
(function () {
  var template = __TEMPLATE__;
  var config = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"]};
  var charts = Array.prototype.slice.call(document.querySelectorAll("figure.chart"));
  document.body.setAttribute("data-charts", String(charts.length));
  var drawn = charts.map(function (chart) {
    var spec = JSON.parse(chart.querySelector("script.figure-spec").textContent);
    spec.layout.template = {layout: template};
    var plot = chart.querySelector("div.plot");
    return Plotly.newPlot(plot, spec.data, spec.layout, config).then(function () {
      var marks = plot.querySelectorAll("__MARKS__").length;
      chart.setAttribute("data-marks", String(marks));
      return marks ? null : chart.id;
    });
  });
  Promise.all(drawn).then(function (results) {
    var empty = results.filter(function (id) { return id !== null; });
    document.querySelectorAll("table.data").forEach(function (table) {
      if (table.tBodies[0].rows.length === 0) { empty.push(table.id); }
    });
    document.body.setAttribute("data-report-status", empty.length ? "empty: " + empty.join(" ") : "ok");
    if (empty.length) { console.error("report: empty charts or tables: " + empty.join(", ")); }
  }).catch(function (error) {
    document.body.setAttribute("data-report-status", "error: " + error);
    console.error("report: " + error);
  });
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Customer journeys: segments and purchase propensity</title><style>{css}</style>
<script>{plotly}</script></head>
<body data-report-status="pending"><header><h1>Customer journeys: segments and purchase propensity</h1>
<p>Built from {source} on {generated}. Self-contained: no network needed.</p></header>
<nav>{nav}</nav><main>{body}</main><script>{script}</script></body></html>
"""
