"""Request validation of the scoring service: 422 naming the field, 413 on big bodies, batch limits.

These tests check the HTTP layer only, so they score with small stand-ins that honour the scorer
interface (`.version`, `.threshold`, `.score(ContactBatch)`); the real models are exercised in test_service.py.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import numpy as np
import pytest
from conftest import project_categorizer, project_countries
from fastapi.testclient import TestClient

from journeys.service import (
    MAX_BODY_BYTES,
    MAX_CONTACTS_PER_REQUEST,
    LoadedModels,
    ModelState,
    create_app,
)
from journeys.service.features import CategoryCodes, ContactBatch
from journeys.service.scores import PropensityScores, SegmentScores


class RecordingSegments:
    """Segment stand-in: remembers the batch it was given; segment = has a page history."""

    version = "segments-test"

    def __init__(self) -> None:
        self.seen: ContactBatch | None = None

    def score(self, batch: ContactBatch) -> SegmentScores:
        self.seen = batch
        segment = batch.flags["has_page_history"].astype(np.int64)
        names = np.array(["no pages", "browses"], dtype=object)[segment]
        return SegmentScores(
            batch.contact_id, segment, batch.page_count.astype(float), names, names + " (line)"
        )


class RecordingPropensity:
    """Propensity stand-in: share of pages in the last category code; NaN without pages, like the model."""

    version = "propensity-test"
    threshold = 0.5

    def __init__(self) -> None:
        self.seen: ContactBatch | None = None

    def score(self, batch: ContactBatch) -> PropensityScores:
        self.seen = batch
        lengths = batch.page_count
        propensity = np.where(lengths > 0, lengths / 4.0, np.nan)
        flag = np.where(lengths > 0, propensity >= self.threshold, None)
        return PropensityScores(
            batch.contact_id,
            propensity,
            flag,
            np.full(len(batch), None, dtype=object),
            batch.category_codes(),
        )


@pytest.fixture()
def stand_ins() -> tuple[RecordingSegments, RecordingPropensity]:
    return RecordingSegments(), RecordingPropensity()


def loaded(stand_ins: tuple[RecordingSegments, RecordingPropensity]) -> LoadedModels:
    segments, propensity = stand_ins
    return LoadedModels(
        segments,
        propensity,
        CategoryCodes(project_categorizer()),
        project_countries(),
        4,
        datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture()
def client(stand_ins: tuple[RecordingSegments, RecordingPropensity]) -> TestClient:
    return TestClient(create_app(loaded(stand_ins)))


def contact(contact_id: int, **fields: object) -> dict[str, object]:
    return {"contact_id": contact_id, "num_sessions": 2, "ip_country": "Germany", **fields}


def fields_at_fault(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["detail"]]


def test_health_names_model_versions(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["segments"]["version"] == "segments-test"
    assert body["propensity"]["version"] == "propensity-test"
    assert body["max_contacts_per_request"] == MAX_CONTACTS_PER_REQUEST


def test_refuses_traffic_until_the_models_are_loaded(stand_ins) -> None:
    state = ModelState()
    client = TestClient(create_app(state))
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "loading" and not health.json()["ready"]
    for path in ("/v1/segments", "/v1/propensity"):
        refused = client.post(path, json={"contacts": [contact(1)]})
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
        assert client.post(path, json={"contacts": []}).status_code == 503, "refused before validation"
    state.models = loaded(stand_ins)
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["segments"]["version"] == "segments-test"
    assert client.post("/v1/segments", json={"contacts": [contact(1)]}).status_code == 200


def test_scores_again_after_the_lifespan_restarts(stand_ins) -> None:
    """Shutting down closes the batchers; an app started again (as test clients do) must still answer."""
    app = create_app(loaded(stand_ins))
    for _ in range(2):
        with TestClient(app) as client:
            for path in ("/v1/segments", "/v1/propensity"):
                assert client.post(path, json={"contacts": [contact(1)]}, timeout=30).status_code == 200


def test_a_failed_load_is_reported_and_stops_the_server() -> None:
    stopped = []

    def missing_artifacts() -> LoadedModels:
        raise FileNotFoundError("no segment model at artifacts/segments/segment_model.json")

    state = ModelState()
    state.load_in_background(missing_artifacts, on_failure=lambda: stopped.append(True)).join(timeout=10)
    response = TestClient(create_app(state)).get("/health")
    assert response.status_code == 503 and stopped == [True]
    assert response.json()["status"] == "failed" and "segment_model.json" in response.json()["error"]


def test_batch_holds_what_the_warehouse_would(client: TestClient, stand_ins) -> None:
    pages = [
        {"url": "https://www.deeplearning.ai/the-batch/", "seen_at": "2020-01-01T10:00:00"},
        {"url": "https://www.deeplearning.ai/events/?utm_source=x"},
        {"url": "https://www.deeplearning.ai/", "seen_at": "2020-03-01T10:00:00+02:00"},
        {"url": "https://blog.deeplearning.ai/blog/x/"},
        {"url": "https://www.deeplearning.ai/about/", "seen_at": "2020-04-01T00:00:00"},
    ]
    body = {"contacts": [
        contact(5, pages=pages, course_ai_for_everyone=True, ip_country=" GERMANY", ip_country_code="DE",
                job_title="  ", last_event="Pie & AI"),
        contact(9, num_sessions=None),
    ]}  # fmt: skip
    response = client.post("/v1/segments", json=body)
    assert response.status_code == 200, response.text
    batch = stand_ins[0].seen
    assert batch.contact_id.tolist() == [5, 9] and batch.contact_id.dtype == np.int64
    # lower(trim(country)), lower(code), empty text is NULL, text otherwise as sent
    assert batch.texts["ip_country"].tolist() == ["germany", "germany"]
    assert batch.texts["ip_country_code"].tolist() == ["de", None]
    assert batch.texts["job_title"].tolist() == [None, None] and batch.texts["last_event"][0] == "Pie & AI"
    # five pages, the four most recent kept: events 1, home 7, blog 2, about 14
    assert batch.category_codes() == [[1, 7, 2, 14], []]
    assert batch.page_count.tolist() == [4, 0] and batch.flags["has_page_history"].tolist() == [True, False]
    assert batch.numbers["page_count"].tolist() == [4.0, 0.0]
    assert batch.flags["course_ai_for_everyone"].tolist() == [True, False]
    assert not batch.flags["course_ai_for_medicine"].any()
    assert batch.numbers["num_sessions"][0] == 2 and np.isnan(batch.numbers["num_sessions"][1])
    results = response.json()["results"]
    assert [r["contact_id"] for r in results] == [5, 9], "results follow the request order"
    assert [r["segment_id"] for r in results] == [1, 0]
    assert [(r["segment_name"], r["segment_description"]) for r in results] == [
        ("browses", "browses (line)"),
        ("no pages", "no pages (line)"),
    ]
    assert [r["dissimilarity"] for r in results] == [4.0, 0.0]


def test_propensity_contacts_carry_no_course_flags(client: TestClient, stand_ins) -> None:
    """Course flags are the propensity label: the propensity batch has none to leak."""
    response = client.post("/v1/propensity", json={"contacts": [contact(1)]})
    assert response.status_code == 200, response.text
    assert not [name for name in stand_ins[1].seen.flags if name.startswith("course_")]


def test_propensity_without_pages_is_null_not_an_error(client: TestClient) -> None:
    body = {"contacts": [contact(1), contact(2, pages=[{"url": "https://www.deeplearning.ai/"}])]}
    response = client.post("/v1/propensity", json=body)
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["propensity"] is None and first["predicted_flag"] is None and first["category_codes"] == []
    assert (
        second["propensity"] == 0.25 and second["predicted_flag"] is False and second["category_codes"] == [7]
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/segments", {"contacts": [contact(1, num_sessions=-1)]}, "contacts[0].num_sessions"),
        ("/v1/segments", {"contacts": [contact(1), contact(2, avg_pageviews="many")]}, "contacts[1].avg_pageviews"),
        ("/v1/segments", {"contacts": [contact(0)]}, "contacts[0].contact_id"),
        ("/v1/segments", {"contacts": [contact(1, ip_country_code="usa")]}, "contacts[0].ip_country_code"),
        ("/v1/segments", {"contacts": [contact(1, days_since_lead=1e9)]}, "contacts[0].days_since_lead"),
        ("/v1/segments", {"contacts": [contact(1), contact(2, ip_country="Narnia")]}, "contacts[1].ip_country"),
        ("/v1/propensity", {"contacts": [contact(1, ip_country_code="zz")]}, "contacts[0].ip_country_code"),
        ("/v1/segments", {"contacts": []}, "contacts"),
        ("/v1/segments", {"contacts": [contact(3), contact(3)]}, "contacts"),
        ("/v1/segments", {}, "contacts"),
        ("/v1/propensity", {"contacts": [contact(1, email="someone@example.com")]}, "contacts[0].email"),
        ("/v1/propensity", {"contacts": [contact(1, course_ai_for_everyone=True)]}, "contacts[0].course_ai_for_everyone"),
        ("/v1/propensity", {"contacts": [contact(1, pages=[{"url": ""}])]}, "contacts[0].pages[0].url"),
        ("/v1/propensity", {"contacts": [contact(1, pages=[{"url": "x", "seen_at": "yesterday"}])]},
         "contacts[0].pages[0].seen_at"),
        ("/v1/propensity", {"contacts": [contact(1, pages=[{"url": "x", "seen_at": "0001-01-01T00:00:00+05:00"}])]},
         "contacts[0].pages[0].seen_at"),
        ("/v1/propensity", {"contacts": [contact(1, pages=[
            {"url": "a", "seen_at": "2020-02-01T00:00:00"}, {"url": "b", "seen_at": "2020-01-01T00:00:00"}])]},
         "contacts[0].pages"),
    ],
)  # fmt: skip
def test_invalid_input_gets_422_naming_the_field(
    client: TestClient, path: str, body: dict, field: str
) -> None:
    assert field in fields_at_fault(client.post(path, json=body))


def test_422_does_not_echo_the_value(client: TestClient) -> None:
    response = client.post("/v1/propensity", json={"contacts": [contact(1, email="someone@example.com")]})
    assert "someone@example.com" not in response.text


def test_non_finite_numbers_are_refused(client: TestClient) -> None:
    raw = '{"contacts": [{"contact_id": 1, "avg_pageviews": NaN}]}'
    response = client.post("/v1/segments", content=raw, headers={"content-type": "application/json"})
    assert "contacts[0].avg_pageviews" in fields_at_fault(response)


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/segments", content=b'{"contacts": [', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_batch_limit(client: TestClient) -> None:
    at_limit = {"contacts": [{"contact_id": i} for i in range(1, MAX_CONTACTS_PER_REQUEST + 1)]}
    assert client.post("/v1/segments", json=at_limit).status_code == 200
    over = {"contacts": [{"contact_id": i} for i in range(1, MAX_CONTACTS_PER_REQUEST + 2)]}
    assert fields_at_fault(client.post("/v1/segments", json=over)) == ["contacts"]


def test_oversized_body_is_413_declared_or_streamed(client: TestClient) -> None:
    padding = "x" * (MAX_BODY_BYTES + 1)
    body = json.dumps({"contacts": [contact(1, job_title=padding)]}).encode()
    assert (
        client.post("/v1/segments", content=body, headers={"content-type": "application/json"}).status_code
        == 413
    )

    def chunks():
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    streamed = client.post("/v1/segments", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_requests_are_not_logged_with_personal_data(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.post("/v1/propensity", json={"contacts": [contact(1, email="someone@example.com")]})
    client.post("/v1/propensity", json={"contacts": [contact(1, job_title="someone@example.com")]})
    assert "someone@example.com" not in caplog.text


def test_openapi_documents_limits(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert str(MAX_CONTACTS_PER_REQUEST) in schema["info"]["description"]
    assert "413" in schema["paths"]["/v1/segments"]["post"]["responses"]
    contacts = schema["components"]["schemas"]["SegmentRequest"]["properties"]["contacts"]
    assert contacts["maxItems"] == MAX_CONTACTS_PER_REQUEST
