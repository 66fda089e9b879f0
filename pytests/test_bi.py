"""A real BI tool on the published marts: Apache Superset (installed once per run in .venv-bi by `make test`),
started as `make bi` starts it over a published copy of a built warehouse. Every chart of the Customer
journeys dashboard returns through Superset's chart data API the rows the marts hold, and the dashboard, logged
in and rendered in headless Chromium, draws every chart with no console error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import duckdb
import pytest
import requests
import yaml
from conftest import ROOT
from playwright.sync_api import sync_playwright
from test_spark_parity import same_value

from journeys.runs.publish import prepare_staging

BI_PYTHON = ROOT / ".venv-bi" / "bin" / "python"
SPEC = yaml.safe_load((ROOT / "bi" / "dashboard.yml").read_text())
PASSWORD = "test-only-password"
CHROMIUM = "/usr/bin/chromium"
TELEMETRY_PIXEL = "https://apachesuperset.gateway.scarf.sh/pixel/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def bi(warehouse, events_warehouse, tmp_path_factory):
    """`make bi` (bi/run.py) on a free port over a published copy of the session warehouse, its top_paths taken
    from the events warehouse (the session export has no page_events, so its path marts are empty)."""
    if not BI_PYTHON.exists():
        pytest.fail("Superset's environment .venv-bi is missing: `make test` installs it")
    base = tmp_path_factory.mktemp("bi")
    published = base / "journeys.duckdb"
    prepare_staging(warehouse.duckdb_path, published)  # the published format, as `journeys build` writes it
    with duckdb.connect(str(published)) as con:
        con.execute("attach ? as events (read_only)", [str(events_warehouse.duckdb_path)])
        con.execute("create or replace table marts.top_paths as select * from events.marts.top_paths")
    port = free_port()
    env = {**os.environ, "JOURNEYS_BI_PASSWORD": PASSWORD, "JOURNEYS_BI_PORT": str(port),
           "JOURNEYS_DUCKDB": str(published), "SUPERSET_HOME": str(base / "superset")}
    log = (base / "superset.log").open("w")
    server = subprocess.Popen([str(BI_PYTHON), str(ROOT / "bi" / "run.py")], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT, text=True)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 900
    while "make bi: Superset at" not in (base / "superset.log").read_text():
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"make bi did not start:\n{(base / 'superset.log').read_text()[-4000:]}")
        time.sleep(2)
    yield url, published, env
    server.terminate()
    server.wait(timeout=60)
    log.close()
    with socket.socket() as sock:  # SIGTERM to `make bi` stopped Superset too: nothing serves its port
        assert sock.connect_ex(("127.0.0.1", port)) != 0, f"Superset still serves port {port} after make bi stopped"


def api(url: str) -> requests.Session:
    session = requests.Session()
    token = session.post(f"{url}/api/v1/security/login", json={"username": "admin", "password": PASSWORD,
                                                                "provider": "db"}, timeout=60).json()
    session.headers["Authorization"] = f"Bearer {token['access_token']}"
    return session


def expected_rows(chart: dict, con: duckdb.DuckDBPyConnection) -> list[dict]:
    """What the chart shows, computed from the marts directly."""
    dataset = next(d for d in SPEC["datasets"] if d["name"] == chart["dataset"])
    source = f"({dataset['sql']})" if "sql" in dataset else f"marts.{dataset['name']}"
    metrics = ", ".join(f'{m["sql"]} as "{m["label"]}"' for m in chart.get("metrics", []))
    if chart["viz_type"] == "table":
        column, order = chart["order_by"]
        sql = (f"select {', '.join(chart['columns'])} from {source} order by {column} {order} "
               f"limit {chart.get('row_limit', 1000)}")
    elif chart["viz_type"] == "big_number_total":
        sql = f"select {metrics} from {source}"
    else:
        keys = ", ".join([chart["x_axis"], *chart.get("groupby", [])])
        sql = f"select {keys}, {metrics} from {source} group by {keys}"
    frame = con.execute(sql).df()
    return json.loads(frame.to_json(orient="records"))


def same_rows(served: list[dict], expected: list[dict]) -> bool:
    """The same rows in any order (a chart's order is the browser's), floats to 1e-9: Superset's DuckDB and ours
    sum an aggregate's parts in their own order, which moves its last digits."""

    def ordered(rows: list[dict]) -> list[dict]:
        return sorted(rows, key=lambda row: json.dumps({k: v for k, v in row.items() if not isinstance(v, float)},
                                                       sort_keys=True))  # fmt: skip

    return len(served) == len(expected) and all(
        a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
        for a, b in zip(ordered(served), ordered(expected), strict=True)
    )


def test_superset_serves_the_dashboard_and_every_chart_returns_the_marts_rows(bi) -> None:
    url, published, env = bi
    assert requests.get(f"{url}/health", timeout=10).text.strip() == "OK"
    session = api(url)
    dashboards = session.get(f"{url}/api/v1/dashboard/", timeout=60).json()["result"]
    [dashboard] = [d for d in dashboards if d["dashboard_title"] == "Customer journeys"]
    charts = {c["slice_name"]: c["id"] for c in session.get(f"{url}/api/v1/dashboard/{dashboard['id']}/charts",
                                                             timeout=60).json()["result"]}
    assert set(charts) == {chart["name"] for chart in SPEC["charts"]}
    with duckdb.connect(str(published), read_only=True) as con:
        for chart in SPEC["charts"]:
            answer = session.get(f"{url}/api/v1/chart/{charts[chart['name']]}/data/", timeout=120)
            assert answer.status_code == 200, (chart["name"], answer.text[:500])
            rows = answer.json()["result"][0]["data"]
            assert rows, chart["name"]
            expected = expected_rows(chart, con)
            assert same_rows(rows, expected), (chart["name"], rows[:5], expected[:5])
    # a second `make bi` provisions the same objects again: nothing new is made
    again = subprocess.run([str(BI_PYTHON), "-c", ("import sys, json; sys.path.insert(0, 'bi'); "
                                                    "from provision import provision; from pathlib import Path; "
                                                    f"print(json.dumps(provision('{url}', '{PASSWORD}', "
                                                    f"Path('{published}'))))")],
                           cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    made = json.loads(again.stdout.strip().splitlines()[-1])
    assert made == {"dashboard": dashboard["id"], "charts": charts}


def test_the_dashboard_draws_every_chart_in_chromium_with_no_console_error(bi, tmp_path) -> None:
    url, _, _ = bi
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        errors: list[str] = []
        outside: list[str] = []
        page.route(lambda request_url: not request_url.startswith(url), lambda route: (
            outside.append(route.request.url), route.fulfill(status=204, body=b"")))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{url}/login/")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.wait_for_url("**/superset/welcome/**", timeout=120_000)
        errors.clear()  # the dashboard's own page is the one under test
        page.goto(f"{url}/superset/dashboard/{SPEC['dashboard']['slug']}/")
        page.wait_for_load_state("networkidle", timeout=300_000)
        containers = page.locator(".chart-container")
        containers.first.wait_for(timeout=120_000)
        page.wait_for_timeout(5_000)
        drawn = [containers.nth(i).evaluate(
            "node => node.querySelectorAll('canvas, svg, table tbody tr').length > 0 "
            "|| /\\d/.test(node.innerText)") for i in range(containers.count())]
        page.screenshot(path=str(ROOT / "target" / "bi_dashboard.png"), full_page=True)
        title = page.locator("[data-test=editable-title], .header-with-actions").first.inner_text()
        browser.close()
    assert "Customer journeys" in title
    assert len(drawn) == len(SPEC["charts"]) and all(drawn), drawn
    assert errors == [], errors
    # Superset 6.1's menu draws a telemetry pixel its prebuilt frontend cannot turn off; this machine reaches no
    # outside host, so the test answers it. Nothing else leaves loopback.
    assert all(address.startswith(TELEMETRY_PIXEL) for address in outside), outside
