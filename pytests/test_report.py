"""The HTML report: self-contained, every chart drawn, no console error in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from journeys.report import CSS, JS, PAGE, curves, write_report
from journeys.report_charts import line_chart
from journeys.urls import EMAIL_REGEX
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


def render(page: Path, tmp_path: Path) -> tuple[str, list[str], Path]:
    """DOM after the page's script ran, console lines, and a full-page screenshot."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom", "--virtual-time-budget=5000")
    shot = tmp_path / "report.png"
    screenshot = chromium(page, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,4000")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert screenshot.returncode == 0 and shot.exists(), screenshot.stderr[-2000:]
    return dom.stdout, console_messages(dom.stderr), shot


def test_curves_match_sklearn() -> None:
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    rng = np.random.default_rng(0)
    labels = rng.random(500) < 0.3
    scores = np.round(labels * 0.3 + rng.random(500), 2)  # ties on purpose
    fpr, tpr, recall, precision = curves(labels, scores)
    ref_fpr, ref_tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    assert np.allclose(fpr, ref_fpr) and np.allclose(tpr, ref_tpr)
    ref_precision, ref_recall, _ = precision_recall_curve(labels, scores, drop_intermediate=False)
    assert np.isclose(auc(recall, precision), auc(ref_recall, ref_precision), atol=0.02)


def test_report_of_the_built_warehouse_renders_every_chart(warehouse, tmp_path: Path) -> None:
    out = write_report(warehouse.duckdb_path, tmp_path / "report.html")
    html = out.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the report must not load anything"
    assert not re.search(EMAIL_REGEX, html), "no e-mail address may reach the report"
    dom, console, screenshot = render(out, tmp_path)
    # a blank page of this size gives a PNG of about 15 kB; the drawn charts several hundred
    assert screenshot.stat().st_size > 50_000
    assert 'data-report-status="ok"' in dom, re.search(r'data-report-status="[^"]*"', dom)
    charts = int(re.search(r'data-charts="(\d+)"', dom).group(1))
    expected = (
        "segment-sizes", "segment-buyer-rates", "segment-prototypes", "segment-affinity", "k-selection-cost",
        "projection", "roc", "pr", "deciles", "category-coverage", "unmapped-urls", "training-0",
    )  # fmt: skip
    assert charts >= len(expected) and all(f'id="{chart}"' in dom for chart in expected)
    models = warehouse.query("select distinct model_name from propensity_test_predictions")["model_name"]
    assert len(models) >= 3 and all(f'id="confusion-{model.replace("_", "-")}"' in dom for model in models)
    assert console == [], console
    with connect(warehouse.duckdb_path) as con:
        segmented = con.execute("select count(*) from contact_segments").fetchone()[0]
    assert f"{segmented:,} segmented contacts" in dom


def test_empty_chart_is_flagged_by_the_page(tmp_path: Path) -> None:
    """The page's own check: a chart without data marks fails the status and logs a console error."""
    page = tmp_path / "empty.html"
    body = line_chart("nothing", "An empty chart", [], "x", "y")
    page.write_text(PAGE.format(nav="", body=body, source="test", generated="now", css=CSS, js=JS))
    dom, console, _ = render(page, tmp_path)
    assert 'data-report-status="empty: nothing"' in dom
    assert any("empty charts" in line for line in console)
