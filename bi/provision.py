"""Provision the Customer journeys dashboard (bi/dashboard.yml) in a running Superset through its REST API.

Runs with Superset's own virtual environment (`make bi`). Each object is found by name and updated, or created:
the read-only connection to the published warehouse, the datasets, the charts (their form data for the browser,
their query context for /api/v1/chart/<id>/data/) and the dashboard with its layout.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import prison
import requests
import yaml

SPEC = Path(__file__).with_name("dashboard.yml")
ROW_LIMIT = 1000


class Superset:
    """A logged-in REST client (JWT for the API, CSRF token for writes)."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.url, self.http = url.rstrip("/"), requests.Session()
        token = self.http.post(f"{self.url}/api/v1/security/login", json={
            "username": user, "password": password, "provider": "db", "refresh": True}, timeout=60)
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        csrf = self.http.get(f"{self.url}/api/v1/security/csrf_token/", timeout=60)
        csrf.raise_for_status()
        self.http.headers.update({"X-CSRFToken": csrf.json()["result"], "Referer": self.url})

    def call(self, method: str, path: str, **kwargs: Any) -> dict:
        response = self.http.request(method, f"{self.url}/api/v1/{path}", timeout=120, **kwargs)
        if not response.ok:
            raise RuntimeError(f"Superset {method} /api/v1/{path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def find(self, resource: str, column: str, value: str) -> int | None:
        query = prison.dumps({"filters": [{"col": column, "opr": "eq", "value": value}], "columns": ["id"]})
        found = self.call("GET", f"{resource}/?q={query}")["result"]
        return found[0]["id"] if found else None

    def upsert(self, resource: str, column: str, body: dict) -> int:
        """Update the object named body[column], or create it; its id."""
        existing = self.find(resource, column, body[column])
        if existing is None:
            return self.call("POST", f"{resource}/", json=body)["id"]
        self.call("PUT", f"{resource}/{existing}", json=body)
        return existing


def metric(spec: dict) -> dict:
    return {"expressionType": "SQL", "sqlExpression": spec["sql"], "label": spec["label"]}


def chart_queries(chart: dict, dataset_id: int) -> tuple[dict, dict]:
    """Form data (what the browser draws from) and query context (what the data API runs) of one chart."""
    datasource = {"id": dataset_id, "type": "table"}
    column, order = chart.get("order_by", [None, "asc"])
    descending = order == "desc"
    limit = chart.get("row_limit", ROW_LIMIT)
    metrics = [metric(m) for m in chart.get("metrics", [])]
    form = {"viz_type": chart["viz_type"], "datasource": f"{dataset_id}__table", "row_limit": limit,
            "adhoc_filters": []}
    if chart["viz_type"] == "table":
        form.update(query_mode="raw", all_columns=chart["columns"], order_by_cols=[json.dumps([column, not descending])],
                    server_pagination=False,
                    column_config={name: {"d3NumberFormat": fmt} for name, fmt in chart.get("formats", {}).items()})
        query = {"columns": chart["columns"], "metrics": [], "orderby": [[column, not descending]]}
    elif chart["viz_type"] == "big_number_total":
        form.update(metric=metrics[0], y_axis_format=chart.get("number_format", "SMART_NUMBER"))
        query = {"columns": [], "metrics": metrics}
    else:  # bar or line over a categorical x axis, one series per groupby value
        groupby = chart.get("groupby", [])
        form.update(x_axis=chart["x_axis"], metrics=metrics, groupby=groupby, x_axis_sort_asc=not descending,
                    x_axis_sort_series_ascending=True, show_legend=bool(groupby), rich_tooltip=True,
                    markerEnabled=True, markerSize=6, y_axis_format=chart.get("number_format", "SMART_NUMBER"))
        axis = {"columnType": "BASE_AXIS", "sqlExpression": chart["x_axis"], "label": chart["x_axis"],
                "expressionType": "SQL"}
        query = {"columns": [axis, *groupby], "metrics": metrics, "orderby": [[column, not descending]]}
    query.update(row_limit=limit, filters=[], extras={"having": "", "where": ""})
    context = {"datasource": datasource, "force": False, "queries": [query], "form_data": form,
               "result_format": "json", "result_type": "full"}
    return form, context


def layout(chart_ids: list[tuple[int, str, str]]) -> dict:
    """Two charts per row, in the spec's order."""
    position: dict[str, Any] = {"DASHBOARD_VERSION_KEY": "v2", "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID",
                                "children": ["GRID_ID"]},
                                "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]}}
    for start in range(0, len(chart_ids), 2):
        row = f"ROW-{start // 2}"
        position["GRID_ID"]["children"].append(row)
        position[row] = {"type": "ROW", "id": row, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                         "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for chart_id, chart_uuid, name in chart_ids[start:start + 2]:
            key = f"CHART-{chart_id}"
            position[row]["children"].append(key)
            position[key] = {"type": "CHART", "id": key, "children": [], "parents": ["ROOT_ID", "GRID_ID", row],
                             "meta": {"chartId": chart_id, "uuid": chart_uuid, "sliceName": name, "width": 6,
                                      "height": 50}}
    return position


def provision(url: str, password: str, warehouse: Path, spec_path: Path = SPEC) -> dict:
    """Create or update every object of the spec; the dashboard's id and its charts' ids by name."""
    spec = yaml.safe_load(spec_path.read_text())
    superset = Superset(url, "admin", password)
    database = superset.upsert("database", "database_name", {
        "database_name": spec["database"], "sqlalchemy_uri": f"duckdb:///{warehouse.resolve()}",
        "expose_in_sqllab": True, "allow_run_async": False,
        "extra": json.dumps({"engine_params": {"connect_args": {"read_only": True}}})})
    datasets = {}
    for dataset in spec["datasets"]:
        body = {"database": database, "schema": "marts", "table_name": dataset["name"]}
        if "sql" in dataset:
            body["sql"] = dataset["sql"]
        existing = superset.find("dataset", "table_name", dataset["name"])
        if existing is None:
            datasets[dataset["name"]] = superset.call("POST", "dataset/", json=body)["id"]
        else:
            superset.call("PUT", f"dataset/{existing}", json={k: v for k, v in body.items() if k != "database"})
            datasets[dataset["name"]] = existing
        superset.call("PUT", f"dataset/{datasets[dataset['name']]}/refresh")
    dashboard = superset.upsert("dashboard", "dashboard_title", {
        "dashboard_title": spec["dashboard"]["title"], "slug": spec["dashboard"]["slug"], "published": True})
    charts = []
    for chart in spec["charts"]:
        form, context = chart_queries(chart, datasets[chart["dataset"]])
        chart_id = superset.upsert("chart", "slice_name", {
            "slice_name": chart["name"], "viz_type": chart["viz_type"], "datasource_id": datasets[chart["dataset"]],
            "datasource_type": "table", "params": json.dumps(form), "query_context": json.dumps(context),
            "query_context_generation": True, "dashboards": [dashboard]})
        chart_uuid = superset.call("GET", f"chart/{chart_id}").get("result", {}).get("uuid") or str(uuid.uuid4())
        charts.append((chart_id, chart_uuid, chart["name"]))
    superset.call("PUT", f"dashboard/{dashboard}", json={
        "position_json": json.dumps(layout(charts)),
        "json_metadata": json.dumps({"positions": layout(charts), "refresh_frequency": 0,
                                     "color_scheme": "supersetColors"})})
    return {"dashboard": dashboard, "charts": {name: chart_id for chart_id, _, name in charts}}
