"""The HTML report: one self-contained file, a summary that matches the tables, every chart drawn and
interactive, no console message and no network request in headless Chromium."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from html import escape
from pathlib import Path

import duckdb
import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import dbt_env, run_dbt

from journeys.redaction import EMAIL_REGEX
from journeys.report import write_report
from journeys.report.curves import bootstrap_bands, bootstrap_weights, corners, curves
from journeys.report.page import Chart, Section, render_page
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


def with_later_tables(source: Path, target: Path) -> Path:
    """A copy of a built database with the tables later issues add: AUC intervals, the order effect and the
    experiments grid (values made up, shapes as their contracts say)."""
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
        con.execute(
            "create or replace table marts.category_transitions as select a.category as from_category, b.category as to_category, "
            "(a.category_code * 7 + b.category_code) % 13 + 1 as transitions, 0.05 as probability, "
            "60.0 * a.category_code as median_seconds_between from url_category_codes as a, url_category_codes as b"
        )
        con.execute(
            "create or replace table marts.step_matrix as select step, category, 1.0 / count(*) over (partition by step) as share "
            "from range(1, 6) as s(step), url_category_codes"
        )
    return target


def test_report_draws_the_tables_later_builds_add(warehouse, tmp_path: Path) -> None:
    db = with_later_tables(warehouse.duckdb_path, tmp_path / "later.duckdb")
    out = write_report(db, tmp_path / "report.html")
    dom, console, requests, _ = render(out, tmp_path)
    assert console == [] and requests == [], (console, requests)
    assert 'data-report-status="ok"' in dom
    marks = chart_marks(dom)
    assert marks["experiments"] >= 6 * 4 and marks["transitions"] >= 20 and marks["step-matrix"] > 0, marks
    with connect(db) as con:
        figures, expected = summary_figures(dom), expected_summary(con)
    assert figures == expected
    assert "roc-auc-bilstm-interval" in figures and "order-effect-bilstm-interval" in figures


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
        "('segments', 'a', timestamp '2026-01-01 05:50', 'no saved model'), "
        "('propensity', 'p', timestamp '2026-01-01 05:55', 'no saved model'), "
        "('segments', 'b', timestamp '2026-01-02 05:58', 'retrain: true'), "
        "('propensity', 'q', timestamp '2026-01-02 07:00', 'retrain: true')) "
        "as t(model_name, model_version, trained_at, reason)"
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
