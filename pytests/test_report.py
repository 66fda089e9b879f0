"""The HTML report: one self-contained file, a summary that matches the tables, every chart drawn and
interactive, no console message and no network request in headless Chromium."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import dbt_env, run_dbt
from PIL import Image

from journeys.report import write_report
from journeys.report.curves import bootstrap_bands, bootstrap_weights, corners, curves
from journeys.report.journeys_section import SANKEY_LINKS
from journeys.report.page import Chart, Section, render_page
from journeys.urls.redaction import EMAIL_REGEX
from journeys.warehouse import connect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)
CHARTS = (
    "segment-sizes",
    "segment-profile-means",
    "segment-profile-categories",
    "segment-pairs",
    "k-selection",
    "projection",
    "roc-pr",
    "calibration",
    "confusion",
    "audit",
    "cutoff",
    "training",
    "quarantine",
    "category-coverage",
    "unmapped-urls",
)
SIZE_LIMIT = 8 * 1024 * 1024
# The path marts the report draws, from the conftest's export with page_events.csv.
JOURNEY_MARTS = ("category_transitions", "step_matrix")
WINDOW_WIDTH = 1280
# Added to a copy of a report by the test only: once the page's own script has drawn every chart, it records
# where things landed (page coordinates) in body[data-layout], which --dump-dom then carries out.
LAYOUT_SCRIPT = """
(function () {
  function box(el) {
    var r = el.getBoundingClientRect();
    return {left: r.left + scrollX, top: r.top + scrollY, right: r.right + scrollX, bottom: r.bottom + scrollY};
  }
  function texts(root, selector) {
    return Array.prototype.map.call(root.querySelectorAll(selector), function (t) {
      return {text: t.textContent, box: box(t)};
    }).filter(function (t) { return t.text; });
  }
  function measure() {
    if (document.body.getAttribute("data-report-status") === "pending") { setTimeout(measure, 100); return; }
    var root = document.documentElement;
    var layout = {width: root.clientWidth, scrollWidth: root.scrollWidth, boxes: {}, texts: {}};
    document.querySelectorAll("section, figure.chart").forEach(function (el) {
      var svg = el.querySelector("svg.main-svg");
      layout.boxes[el.id] = {box: box(el), svg: svg ? box(svg) : null};
      if (el.tagName === "FIGURE") { layout.texts[el.id] = texts(el, "svg text"); }
    });
    var sankey = document.querySelector("#transitions g.sankey-links");
    if (sankey) {
      var ctm = sankey.getScreenCTM();
      layout.sankey = {
        origin: [ctm.e + scrollX, ctm.f + scrollY],
        links: Array.prototype.map.call(sankey.querySelectorAll("path.sankey-link"), function (path) {
          var style = getComputedStyle(path);
          return {d: path.getAttribute("d"), fill: style.fill, opacity: style.fillOpacity};
        }),
        nodes: Array.prototype.map.call(document.querySelectorAll("#transitions g.sankey-node"), function (node) {
          var rect = node.querySelector("rect.node-rect");
          return {label: node.querySelector("text.node-label").textContent, box: box(rect),
                  fill: getComputedStyle(rect).fill};
        })
      };
    }
    var image = document.querySelector("#step-matrix .hm image");
    if (image) {
      layout.heatmap = {image: box(image), cells: texts(document.getElementById("step-matrix"), ".heatmap-label text"),
                        rows: texts(document.getElementById("step-matrix"), ".ytick text")};
    }
    document.body.setAttribute("data-layout", JSON.stringify(layout));
  }
  measure();
})();
"""


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on a local file with a fresh profile folder."""
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def console_messages(stderr: str) -> list[str]:
    """Lines Chromium logs for console output and uncaught errors of the page."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def page_requests(net_log: Path) -> list[str]:
    """URLs the page itself asked the network for (Chromium's own background requests are not the page's:
    only requests whose network isolation key is the local file's count)."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job
        and event.get("params", {}).get("network_isolation_key", "").startswith("file://")
        and not event["params"]["url"].startswith(("file:", "data:", "blob:"))
    ]


def render(page: Path, tmp_path: Path) -> tuple[str, list[str], list[str], Path]:
    """DOM after the page's script ran, console lines, the page's network requests and a screenshot."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
    net_log = tmp_path / "net-log.json"
    dom = chromium(
        page,
        tmp_path / "profile-dom",
        "--dump-dom",
        "--virtual-time-budget=10000",
        f"--log-net-log={net_log}",
    )
    shot = tmp_path / "report.png"
    screenshot = chromium(
        page,
        tmp_path / "profile-shot",
        f"--screenshot={shot}",
        "--window-size=1280,4000",
        "--virtual-time-budget=10000",
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert screenshot.returncode == 0 and shot.exists(), screenshot.stderr[-2000:]
    return dom.stdout, console_messages(dom.stderr), page_requests(net_log), shot


@dataclass(frozen=True)
class LaidOut:
    """A report drawn at WINDOW_WIDTH: DOM, console lines, network requests, where things landed (LAYOUT_SCRIPT)
    and the screenshot down to the end of the journeys section, as RGB pixels."""

    dom: str
    console: list[str]
    requests: list[str]
    layout: dict
    pixels: np.ndarray


def render_laid_out(page: Path, tmp_path: Path) -> LaidOut:
    """Like `render`, at a fixed width and with the layout recorded; the screenshot is as tall as the page down
    to the journeys section (or 4000 pixels without one)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
    measured = tmp_path / "laid-out.html"
    measured.write_text(page.read_text().replace("</body>", f"<script>{LAYOUT_SCRIPT}</script></body>"))
    net_log = tmp_path / "net-log.json"
    window = ("--hide-scrollbars", "--virtual-time-budget=10000")
    dom = chromium(
        measured,
        tmp_path / "profile-dom",
        "--dump-dom",
        f"--window-size={WINDOW_WIDTH},4000",
        f"--log-net-log={net_log}",
        *window,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    recorded = re.search(r'data-layout="([^"]*)"', dom.stdout)
    assert recorded, "the page never finished drawing"
    layout = json.loads(unescape(recorded.group(1)))
    journeys = layout["boxes"].get("journeys")
    height = math.ceil(journeys["box"]["bottom"]) + 20 if journeys else 4000
    shot = tmp_path / "report.png"
    screenshot = chromium(
        measured,
        tmp_path / "profile-shot",
        f"--screenshot={shot}",
        f"--window-size={WINDOW_WIDTH},{height}",
        *window,
    )
    assert screenshot.returncode == 0 and shot.exists(), screenshot.stderr[-2000:]
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"))
    return LaidOut(dom.stdout, console_messages(dom.stderr), page_requests(net_log), layout, pixels)


def chart_marks(dom: str) -> dict[str, int]:
    return {
        m[0]: int(m[1]) for m in re.findall(r'<figure class="chart" id="([^"]+)" data-marks="(\d+)"', dom)
    }


def summary_figures(dom: str) -> dict[str, str]:
    return dict(re.findall(r'<span class="figure" data-figure="([^"]+)">([^<]*)</span>', dom))


def chart_spec(html: str, chart_id: str) -> dict:
    block = re.search(
        rf'<figure class="chart" id="{chart_id}">.*?class="figure-spec">(.*?)</script>', html, re.DOTALL
    )
    return json.loads(block.group(1).replace("<\\/", "</"))


def decoded(values: dict | list) -> np.ndarray:
    """A Plotly data array: base64 typed array ({dtype, bdata}) or a plain list."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values)


def expected_summary(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The summary's figures computed from the tables, independently of the report code."""
    expected = {}
    sizes = con.execute(
        "select segment_id, any_value(segment_size), any_value(segment_share), any_value(buyer_rate) "
        "from segment_profiles group by 1"
    ).fetchall()
    expected["segments"] = str(len(sizes))
    expected["segmented-contacts"] = f"{con.execute('select count(*) from contact_segments').fetchone()[0]:,}"
    for segment, size, share, buyer_rate in sizes:
        expected[f"segment-{segment}-contacts"] = f"{size:,}"
        expected[f"segment-{segment}-share"] = f"{share:.1%}"
        expected[f"segment-{segment}-buyer-rate"] = f"{buyer_rate:.1%}"
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_name = 'model_metrics'"
        ).fetchall()
    }
    interval = "ci_lower, ci_upper" if "ci_lower" in columns else "null, null"
    aucs = con.execute(
        f"select model_name, value, {interval} from model_metrics where split = 'test' and metric = 'roc_auc' "
        "and model_name in ('bilstm', 'bayes_optimal', 'logistic_regression', 'logistic_regression_bigrams', "
        "'hist_gradient_boosting', 'majority')"
    ).fetchall()
    baselines = {m: v for m, v, _, _ in aucs if m not in ("bilstm", "bayes_optimal")}
    best = max(baselines, key=baselines.get)
    for model, value, low, high in aucs:
        if model in ("bilstm", "bayes_optimal", best):
            expected[f"roc-auc-{model}"] = f"{value:.3f}"
            if low is not None:
                expected[f"roc-auc-{model}-interval"] = f"95% CI {low:.3f} to {high:.3f}"
    for model, value, low, high in con.execute(
        f"select model_name, value, {interval} from model_metrics where metric = 'order_effect'"
    ).fetchall():
        expected[f"order-effect-{model}"] = f"{value:+.3f}"
        if low is not None:
            expected[f"order-effect-{model}-interval"] = f"{low:+.3f} to {high:+.3f}"
    for feature, auc in con.execute(
        "select feature, roc_auc from propensity_audit order by separation desc, feature limit 3"
    ).fetchall():
        expected[f"driver-{feature}"] = f"{auc:.3f}"
    staged = con.execute("select count(*) from int_contact_features_assembled").fetchone()[0]
    expected["staged-contacts"] = f"{staged:,}"
    expected["quarantined-rows"] = f"{con.execute('select count(*) from quarantined_rows').fetchone()[0]:,}"
    unmatched = con.execute(
        "select sum(share_of_page_views) from url_category_coverage where is_unmatched"
    ).fetchone()[0]
    expected["unmatched-share"] = f"{(unmatched or 0):.2%}"
    expected.update(expected_changes(con))
    return expected


def expected_changes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The "since the previous build" figures from score_drift and model_runs."""
    builds = con.execute(
        "select build_number, min(built_at) from score_drift group by 1 order by 1 desc"
    ).fetchall()
    expected = {"builds-recorded": str(len(builds))}
    if len(builds) < 2:
        return expected
    (latest, until), (_, since) = builds[:2]
    expected["builds-recorded"] = str(latest)
    psi = con.execute(
        f"select value from score_drift where build_number = {latest} and measure = 'propensity_psi'"
    ).fetchone()[0]
    expected["psi"] = f"{psi:.3f}"
    expected["psi-verdict"] = "stable" if psi < 0.1 else ("moved" if psi > 0.2 else "shifting")
    shares = f"from score_drift where build_number = {latest} and measure = 'segment_share'"
    moves = con.execute(
        f"select segment_id, value, previous_value, change {shares} "
        "and (change is null or abs(change) >= 0.001) "
        "order by coalesce(abs(change), 'inf'::double) desc, segment_id limit 3"
    ).fetchall()
    if not moves:
        largest = con.execute(f"select max(abs(change)) {shares}").fetchone()[0]
        expected["largest-share-move"] = f"{100 * largest:.2f} points"
    for segment, value, before, change in moves:
        expected[f"share-{segment}"] = (
            f"{value:.1%}" if before is None else f"{before:.1%} to {value:.1%} ({100 * change:+.1f} points)"
        )
    for model, trained_at in con.execute(
        "select model_name, max(trained_at) from model_runs where trained_at <= ? group by 1", [until]
    ).fetchall():
        expected[f"model-{model}"] = "retrained" if trained_at > since else "scored with the saved model"
    return expected


def test_curves_match_sklearn() -> None:
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    rng = np.random.default_rng(0)
    labels = rng.random(500) < 0.3
    scores = np.round(labels * 0.3 + rng.random(500), 2)  # ties on purpose
    c = curves(labels, scores)
    ref_fpr, ref_tpr, ref_thresholds = roc_curve(labels, scores, drop_intermediate=False)
    assert np.allclose(c["fpr"], ref_fpr) and np.allclose(c["tpr"], ref_tpr)
    assert np.allclose(c["threshold"][1:], ref_thresholds[1:])
    ref_precision, ref_recall, _ = precision_recall_curve(labels, scores, drop_intermediate=False)
    assert np.isclose(auc(c["recall"], c["precision"]), auc(ref_recall, ref_precision), atol=0.02)


def test_corners_keep_the_exact_curve() -> None:
    """Dropping the interior points of straight runs leaves the same polyline: every dropped point lies on
    the segment between the kept points around it, and the area is unchanged."""
    rng = np.random.default_rng(1)
    labels = rng.random(5_000) < 0.1
    c = curves(labels, np.round(rng.random(5_000) + labels * 0.4, 3))
    kept = corners(c["fp"], c["tp"])
    assert len(kept) < len(c["fp"]) / 2
    assert np.isclose(
        np.trapezoid(c["tpr"][kept], c["fpr"][kept]), np.trapezoid(c["tpr"], c["fpr"]), rtol=0, atol=1e-12
    )
    after = np.searchsorted(kept, np.arange(len(c["fp"])))
    left, right = kept[np.maximum(after - 1, 0)], kept[np.minimum(after, len(kept) - 1)]
    cross = (c["fp"][right] - c["fp"][left]) * (c["tp"] - c["tp"][left]) - (
        c["tp"][right] - c["tp"][left]
    ) * (c["fp"] - c["fp"][left])
    assert np.all(cross == 0)


def test_bootstrap_bands_hold_the_curve_and_are_seeded() -> None:
    rng = np.random.default_rng(2)
    labels = rng.random(4_000) < 0.2
    scores = rng.random(4_000) + labels * 0.5
    bands = bootstrap_bands(labels, scores, bootstrap_weights(len(labels)))
    c = curves(labels, scores)
    grid = np.linspace(0, 1, 201)
    tpr = np.interp(grid, c["fpr"], c["tpr"])
    inside = (bands["tpr_low"] - 1e-9 <= tpr) & (tpr <= bands["tpr_high"] + 1e-9)
    assert inside.mean() > 0.95
    assert np.all(bands["tpr_high"] - bands["tpr_low"] < 0.1) and np.any(bands["tpr_high"] > bands["tpr_low"])
    assert all(
        np.array_equal(bands[k], v)
        for k, v in bootstrap_bands(labels, scores, bootstrap_weights(len(labels))).items()
    )


def test_report_of_the_built_warehouse(warehouse, tmp_path: Path) -> None:
    out = write_report(warehouse.duckdb_path, tmp_path / "report.html")
    html = out.read_text()
    assert out.stat().st_size < SIZE_LIMIT
    own_markup = html.replace(re.search(r"<script>/\*\*.*?</script>", html, re.DOTALL).group(0), "")
    assert len(own_markup) < len(html) / 2, "plotly.js is embedded in the page"
    assert html.count("plotly.js v") == 1, "plotly.js is embedded exactly once"
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", own_markup), (
        "the report must not load anything"
    )
    assert not re.search(EMAIL_REGEX, own_markup), "no e-mail address may reach the report"
    assert not re.search(r'id="(experiments|journeys|transitions)"', html), (
        "sections without tables are left out"
    )

    dom, console, requests, screenshot = render(out, tmp_path)
    assert console == [], console
    assert requests == [], requests
    assert 'data-report-status="ok"' in dom, re.search(r'data-report-status="[^"]*"', dom)
    marks = chart_marks(dom)
    assert set(CHARTS) <= set(marks) and all(marks[c] > 0 for c in marks), marks
    models = warehouse.query("select distinct model_name from propensity_test_predictions")["model_name"]
    assert len(models) >= 3 and marks["roc-pr"] >= 2 * len(models)
    assert dom.count("js-plotly-plot") >= len(marks), "every chart is a live Plotly figure"
    assert 'id="table-model-metrics"' in dom and 'id="table-unmapped-urls"' in dom
    assert screenshot.stat().st_size > 50_000  # a blank page of this size gives about 15 kB

    assert dom.index('id="summary"') < dom.index('id="segments"'), "the summary comes first"
    with connect(warehouse.duckdb_path) as con:
        assert summary_figures(dom) == expected_summary(con)
        segments = con.execute("select segment_name, segment_description from segments").fetchall()
    summary = dom[dom.index('id="summary"') : dom.index('id="segments"')]
    assert all(
        f"<td>{escape(name, quote=False)}</td>" in summary and escape(description, quote=False) in summary
        for name, description in segments
    ), "the summary names segments as the segments table does"
    assert 'id="drift"' not in dom, "one build: no drift picture yet"

    roc = next(
        t for t in chart_spec(html, "roc-pr")["data"] if t.get("name", "").startswith("bilstm (ROC AUC")
    )
    bilstm = warehouse.query(
        "select score, label from propensity_test_predictions where model_name = 'bilstm' order by contact_id"
    )
    full = curves(bilstm["label"].to_numpy(bool), bilstm["score"].to_numpy(float))
    kept = corners(full["fp"], full["tp"])
    assert np.array_equal(decoded(roc["x"]), full["fpr"][kept].astype(np.float32)), (
        "the ROC curve is not thinned"
    )
    assert np.array_equal(decoded(roc["y"]), full["tpr"][kept].astype(np.float32))

    training = chart_spec(html, "training")
    assert {trace["name"] for trace in training["data"]} == {"train", "validation"}
    titles = {a["text"] for a in training["layout"]["annotations"]}
    assert "loss" in titles and not any(t.startswith("is_") for t in titles), titles


def with_later_tables(source: Path, target: Path, events_db: Path) -> Path:
    """A copy of a built database with the tables a full build adds: AUC intervals, the order effect and the
    experiments grid (values made up, shapes as their contracts say), and the path marts of a real build with
    page events (the warehouse fixture's export has none, so its path marts are empty)."""
    shutil.copy(source, target)
    with connect(target, read_only=False) as con:
        if "ci_lower" not in [c[0] for c in con.execute("describe model_metrics").fetchall()]:
            con.execute("alter table model_metrics add column ci_lower double")
            con.execute("alter table model_metrics add column ci_upper double")
            con.execute(
                "update model_metrics set ci_lower = value - 0.011, ci_upper = value + 0.012 "
                "where metric = 'roc_auc'"
            )
            con.execute(
                "insert into model_metrics (model_name, model_version, split, metric, value, ci_lower, ci_upper) "
                "values ('bilstm', 'v', 'test', 'order_effect', 0.031, 0.02, 0.042), "
                "('truth', 'v', 'test', 'order_effect', 0.045, 0.035, 0.055)"
            )
        con.execute(
            "create table propensity_experiments as select sequence_length, encoding, model, "
            "0.6 + 0.02 * sequence_length as roc_auc, 0.59 + 0.02 * sequence_length as ci_lower, "
            "0.61 + 0.02 * sequence_length as ci_upper, 3.5 as fit_seconds "
            "from range(1, 5) as t(sequence_length), (values ('code'), ('one_hot'), ('embedding')) as e(encoding), "
            "(values ('bilstm'), ('logistic')) as m(model)"
        )
        con.execute("attach ? as events (read_only)", [str(events_db)])
        for table in JOURNEY_MARTS:
            con.execute(f"create or replace table marts.{table} as select * from events.marts.{table}")
    return target


@dataclass(frozen=True)
class LaterReport:
    db: Path
    html: str
    drawn: LaidOut


@pytest.fixture(scope="module")
def later_report(warehouse, events_warehouse, tmp_path_factory: pytest.TempPathFactory) -> LaterReport:
    """The report of the warehouse with the later tables, drawn once for the tests below."""
    base = tmp_path_factory.mktemp("later-report")
    db = with_later_tables(warehouse.duckdb_path, base / "later.duckdb", events_warehouse.duckdb_path)
    out = write_report(db, base / "report.html")
    return LaterReport(db, out.read_text(), render_laid_out(out, base))


def test_report_draws_the_tables_later_builds_add(later_report: LaterReport) -> None:
    drawn = later_report.drawn
    assert drawn.console == [] and drawn.requests == [], (drawn.console, drawn.requests)
    assert 'data-report-status="ok"' in drawn.dom
    marks = chart_marks(drawn.dom)
    assert marks["experiments"] >= 6 * 4 and marks["transitions"] >= 20 and marks["step-matrix"] > 0, marks
    with connect(later_report.db) as con:
        figures, expected = summary_figures(drawn.dom), expected_summary(con)
    assert figures == expected
    assert "roc-auc-bilstm-interval" in figures and "order-effect-bilstm-interval" in figures


def rgb(css: str) -> np.ndarray:
    """`rgb(r, g, b)` as an array."""
    return np.array([int(v) for v in re.findall(r"\d+", css)[:3]])


def pixel(pixels: np.ndarray, x: float, y: float) -> np.ndarray:
    return pixels[int(y), int(x)].astype(int)


def center(box: dict) -> tuple[float, float]:
    return (box["left"] + box["right"]) / 2, (box["top"] + box["bottom"]) / 2


def area(pixels: np.ndarray, box: dict) -> np.ndarray:
    return pixels[int(box["top"]) : int(box["bottom"]), int(box["left"]) : int(box["right"])].astype(int)


def node_at(nodes: list[dict], side: str, x: float, top: float, bottom: float) -> dict:
    """The one Sankey node whose `side` edge is at `x` and whose bar holds the link end from `top` to `bottom`."""
    found = [
        node
        for node in nodes
        if abs(node["box"][side] - x) < 1
        and node["box"]["top"] - 1 <= top
        and bottom <= node["box"]["bottom"] + 1
    ]
    assert len(found) == 1, (side, x, top, bottom, found)
    return found[0]


def sankey_links(sankey: dict) -> pd.DataFrame:
    """Every link Chromium drew, read back from its SVG path (a ribbon `M x0,top0 C .. x1,top1 L x1,bottom1 C ..
    x0,bottom0 Z`): the categories of the node bars its two ends sit on, its thickness at both ends, its colour."""
    origin_x, origin_y = sankey["origin"]
    rows = []
    for link in sankey["links"]:
        n = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", link["d"])]
        assert len(n) == 16, link["d"]
        x0, top0, bottom0 = origin_x + n[0], origin_y + n[1], origin_y + n[15]
        x1, top1, bottom1 = origin_x + n[6], origin_y + n[7], origin_y + n[9]
        source = node_at(sankey["nodes"], "right", x0, top0, bottom0)
        target = node_at(sankey["nodes"], "left", x1, top1, bottom1)
        rows.append(
            (
                source["label"].removesuffix(" →"),
                target["label"].removeprefix("→ "),
                bottom1 - top1,
                bottom0 - top0,
                (x0 + x1) / 2,
                (top0 + top1 + bottom0 + bottom1) / 4,
                link["fill"],
                float(link["opacity"]),
            )
        )
    columns = [
        "from_category",
        "to_category",
        "thickness",
        "thickness_at_source",
        "mid_x",
        "mid_y",
        "fill",
        "alpha",
    ]
    return pd.DataFrame(rows, columns=columns)


def test_the_transition_graph_draws_the_build_s_category_transitions(later_report: LaterReport) -> None:
    """Read back from the SVG Chromium drew: the links are the build's most frequent transitions, each as thick as
    its count (so ordered by it) and between the bars labelled with its two categories; the screenshot shows the
    node bars and links in their colours."""
    layout, pixels = later_report.drawn.layout, later_report.drawn.pixels
    with connect(later_report.db) as con:
        table = con.execute(
            "select from_category, to_category, transitions from category_transitions "
            "order by transitions desc, from_category, to_category"
        ).df()
    links = sankey_links(layout["sankey"])
    shown = table.head(SANKEY_LINKS)
    assert len(links) == len(shown) > 10
    keys = ["from_category", "to_category"]
    pairs = set(shown[keys].itertuples(index=False, name=None))
    assert set(links[keys].itertuples(index=False, name=None)) == pairs
    drawn = shown.merge(links, on=keys, how="left")
    scale = drawn["thickness"] / drawn["transitions"]
    assert np.allclose(scale, scale.iloc[0], rtol=1e-3), "a link is not as thick as its count"
    assert np.allclose(drawn["thickness"], drawn["thickness_at_source"], rtol=1e-3)
    assert (np.diff(drawn["thickness"]) <= 1e-6).all(), "links are ordered by count"
    assert drawn["thickness"].iloc[0] > 20, "the most frequent transition is a broad band"

    screen = {"left": 0, "top": 0, "right": pixels.shape[1], "bottom": pixels.shape[0]}
    assert inside(layout["boxes"]["transitions"]["svg"], screen), (
        "the transition graph runs off the screenshot"
    )
    chart = area(pixels, layout["boxes"]["transitions"]["svg"])
    assert (chart.min(axis=2) < 235).mean() > 0.25, "the transition graph is blank"
    bars = [node for node in layout["sankey"]["nodes"] if node["box"]["bottom"] - node["box"]["top"] >= 4]
    assert len(bars) >= 6
    for node in bars:
        middle = pixel(pixels, *center(node["box"]))
        assert np.abs(middle - rgb(node["fill"])).max() <= 3, (node["label"], middle, node["fill"])
    broadest = drawn.iloc[0]
    half = broadest["thickness"] / 4
    across = pixels[int(broadest["mid_y"] - half) : int(broadest["mid_y"] + half), int(broadest["mid_x"])]
    tint = broadest["alpha"] * rgb(broadest["fill"]) + (1 - broadest["alpha"]) * 255
    assert np.abs(tint - 255).max() > 40, "links are drawn too faint to see"
    assert np.abs(np.median(across, axis=0) - tint).max() <= 8, (np.median(across, axis=0), tint)


def test_the_step_matrix_draws_the_build_s_step_matrix(later_report: LaterReport) -> None:
    """Read back from the SVG and the screenshot: one row per category (labelled, first at the bottom), one column
    per step, a cell labelled with the share for every row of step_matrix and nothing elsewhere, and cells darker
    the larger the share, from the colour scale's first colour to its last."""
    layout, pixels = later_report.drawn.layout, later_report.drawn.pixels
    with connect(later_report.db) as con:
        table = con.execute("select step, category, share from step_matrix").df()
    shares = {(int(s), c): float(v) for s, c, v in table.itertuples(index=False)}
    steps, categories = sorted(table["step"].unique()), sorted(table["category"].unique())
    heat = layout["heatmap"]
    rows_top_down = [label["text"] for label in sorted(heat["rows"], key=lambda label: label["box"]["top"])]
    assert rows_top_down == categories[::-1]
    image = heat["image"]
    width = (image["right"] - image["left"]) / len(steps)
    height = (image["bottom"] - image["top"]) / len(categories)

    def cell_of(x: float, y: float) -> tuple[int, str]:
        return int(steps[int((x - image["left"]) // width)]), rows_top_down[int((y - image["top"]) // height)]

    labels = {cell_of(*center(label["box"])): label["text"] for label in heat["cells"]}
    assert all(label["box"]["bottom"] - label["box"]["top"] >= 8 for label in heat["cells"]), (
        "labels too small"
    )
    assert set(labels) == set(shares), set(labels) ^ set(shares)
    wrong = {
        cell: (labels[cell], share)
        for cell, share in shares.items()
        if abs(float(labels[cell].rstrip("%")) - 100 * share) > 0.5 + 1e-9
    }
    assert not wrong, wrong

    def colour(step: int, category: str) -> np.ndarray:
        """The cell's colour away from its label (a fifth into the cell from its top left corner)."""
        column, row = steps.index(step), rows_top_down.index(category)
        return pixel(pixels, image["left"] + (column + 0.2) * width, image["top"] + (row + 0.2) * height)

    scale = chart_spec(later_report.html, "step-matrix")["data"][0]["colorscale"]
    lightest, darkest = rgb(scale[0][1]), rgb(scale[-1][1])
    by_share = sorted(shares, key=shares.get)
    luminance = np.array([colour(*cell) @ [0.2126, 0.7152, 0.0722] for cell in by_share])
    assert (np.diff(luminance) <= 2).all(), "a larger share is drawn lighter than a smaller one"
    assert np.abs(colour(*by_share[-1]) - darkest).max() <= 3
    assert all(np.abs(colour(*cell) - lightest).max() <= 3 for cell in by_share if shares[cell] < 0.001)
    empty = [(s, c) for s in steps for c in categories if (s, c) not in shares]
    assert empty and all((colour(*cell) >= 250).all() for cell in empty), "a cell without a row is not blank"


def test_the_report_fits_the_page(later_report: LaterReport) -> None:
    """At a 1280-pixel window nothing is wider than the page, and no chart's text runs outside its picture."""
    layout = later_report.drawn.layout
    width = layout["width"]
    wide = {
        name: where["svg"]["right"] if where["svg"] else where["box"]["right"]
        for name, where in layout["boxes"].items()
        if where["box"]["right"] > width or (where["svg"] and not inside(where["svg"], where["box"]))
    }
    assert layout["scrollWidth"] <= width and not wide, (layout["scrollWidth"], wide)
    outside = {
        chart: [t["text"] for t in texts if not inside(t["box"], layout["boxes"][chart]["svg"])]
        for chart, texts in layout["texts"].items()
    }
    assert not any(outside.values()), {chart: cut for chart, cut in outside.items() if cut}


def inside(box: dict, frame: dict, slack: float = 1) -> bool:
    return (
        frame["left"] - slack <= box["left"]
        and box["right"] <= frame["right"] + slack
        and frame["top"] - slack <= box["top"]
        and box["bottom"] <= frame["bottom"] + slack
    )


@pytest.fixture(scope="module")
def two_builds(warehouse, tmp_path_factory) -> Path:
    """A copy of the built database whose monitoring tables ran a second time: score_drift holds two builds
    (the scores are the same, so the PSI is 0 and no share moves) and the models were scored, not retrained."""
    base = tmp_path_factory.mktemp("two-builds")
    db = base / "journeys.duckdb"
    shutil.copy(warehouse.duckdb_path, db)
    result = run_dbt(
        ["run", "-s", "score_drift", "model_runs"], dbt_env(warehouse.raw_dir, db, warehouse.artifacts_dir)
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return db


def test_report_says_what_changed_since_the_previous_build(two_builds, tmp_path: Path) -> None:
    out = write_report(two_builds, tmp_path / "report.html")
    dom, console, requests, _ = render(out, tmp_path)
    assert console == [] and requests == [], (console, requests)
    assert 'data-report-status="ok"' in dom
    assert chart_marks(dom)["drift"] > 0
    with connect(two_builds) as con:
        figures, expected = summary_figures(dom), expected_summary(con)
    assert figures == expected
    assert (
        figures["builds-recorded"] == "2" and figures["psi"] == "0.000" and figures["psi-verdict"] == "stable"
    )
    assert figures["model-segments"] == figures["model-propensity"] == "scored with the saved model"
    assert figures["largest-share-move"] == "0.00 points"


def test_the_page_flags_an_empty_chart_and_page_requests_are_seen(tmp_path: Path) -> None:
    """The page's own check (a chart without marks fails the status and logs a console error) and the
    test's network check (a page that loads an image from a host is caught)."""
    page = tmp_path / "empty.html"
    image = '<img src="https://example.invalid/pixel.png" alt="">'
    section = Section("s", "S", [Chart("nothing", "An empty chart", go.Figure()), image])
    page.write_text(render_page([section], "test"))
    dom, console, requests, _ = render(page, tmp_path)
    assert 'data-report-status="empty: nothing"' in dom
    assert any("empty charts" in line for line in console)
    assert requests == ["https://example.invalid/pixel.png"]


def test_changes_name_the_retrained_model_and_the_share_moves() -> None:
    """Build 2 after a retraining of the segment model only: the summary says which model was retrained, and
    the share moves, largest first, a new segment first of all (a move under 0.1 points is left out)."""
    from journeys.report.drift import changes_summary
    from journeys.report.tables import Tables

    con = duckdb.connect()
    con.execute(
        "create table score_drift as select * from (values "
        "(1, timestamp '2026-01-01 06:00', 'propensity_psi', null, null, null, null), "
        "(1, timestamp '2026-01-01 06:00', 'segment_share', 0, 0.6, null, null), "
        "(1, timestamp '2026-01-01 06:00', 'segment_share', 1, 0.4, null, null), "
        "(2, timestamp '2026-01-02 06:00', 'propensity_psi', null, 0.25, null, null), "
        "(2, timestamp '2026-01-02 06:00', 'segment_share', 0, 0.5, 0.6, -0.1), "
        "(2, timestamp '2026-01-02 06:00', 'segment_share', 1, 0.4005, 0.4, 0.0005), "
        "(2, timestamp '2026-01-02 06:00', 'segment_share', 2, 0.0995, null, null)) "
        "as t(build_number, built_at, measure, segment_id, value, previous_value, change)"
    )
    con.execute(
        "create table model_runs as select * from (values "
        "('segments', 'a', 'trained', timestamp '2026-01-01 05:50', 'no saved model'), "
        "('propensity', 'p', 'trained', timestamp '2026-01-01 05:55', 'no saved model'), "
        "('propensity', 'p', 'made_current', timestamp '2026-01-01 05:55', 'published (was none)'), "
        "('segments', 'b', 'trained', timestamp '2026-01-02 05:58', 'journeys_retrain: true'), "
        "('propensity', 'q', 'trained', timestamp '2026-01-02 07:00', 'journeys_retrain: true')) "
        "as t(model_name, model_version, event, trained_at, reason)"
    )
    html = changes_summary(Tables(con, Path("memory")), {0: "readers", 1: "buyers", 2: "newcomers"})
    assert summary_figures(html) == {
        "builds-recorded": "2",
        "psi": "0.250",
        "psi-verdict": "moved",
        "share-2": "10.0%",
        "share-0": "60.0% to 50.0% (-10.0 points)",
        "model-segments": "retrained",
        "model-propensity": "scored with the saved model",
    }
    assert list(summary_figures(html))[3:5] == ["share-2", "share-0"], "new first, then the largest move"
    assert "newcomers new at" in html and "now version b" in html and "version p trained" in html
