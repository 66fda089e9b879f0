"""Request validation of the scoring service: 422 naming the field, 413 on big bodies, batch limits.

These tests check the HTTP layer only, so they score with small stand-ins that honour the loader
interface (`.version`, `.threshold`, `.score`); the real models are exercised in test_service.py.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from journeys.service import MAX_BODY_BYTES, MAX_CONTACTS_PER_REQUEST, Countries, LoadedModels, create_app
from journeys.urls import UrlCategorizer


class RecordingSegments:
    """Segment stand-in: remembers the frame it was given; segment = has a page history."""

    version = "segments-test"

    def __init__(self) -> None:
        self.seen: pd.DataFrame | None = None

    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        self.seen = features
        return pd.DataFrame(
            {
                "contact_id": features["contact_id"][::-1].to_numpy(),
                "segment_id": features["has_page_history"][::-1].to_numpy(dtype=int),
                "dissimilarity": features["page_count"][::-1].to_numpy(dtype=float),
            }
        )


class RecordingPropensity:
    """Propensity stand-in: share of pages in the last category code; NaN without pages, like the model."""

    version = "propensity-test"
    threshold = 0.5

    def __init__(self) -> None:
        self.seen: pd.DataFrame | None = None

    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        self.seen = features
        lengths = features["category_codes"].map(len).to_numpy()
        propensity = np.where(lengths > 0, lengths / 4.0, np.nan)
        flag = pd.array(np.where(lengths > 0, propensity >= self.threshold, False), dtype="boolean")
        flag[lengths == 0] = pd.NA
        return pd.DataFrame(
            {"contact_id": features["contact_id"], "propensity": propensity, "predicted_flag": flag}
        )


@pytest.fixture()
def stand_ins() -> tuple[RecordingSegments, RecordingPropensity]:
    return RecordingSegments(), RecordingPropensity()


@pytest.fixture()
def client(stand_ins: tuple[RecordingSegments, RecordingPropensity]) -> TestClient:
    segments, propensity = stand_ins
    models = LoadedModels(
        segments,
        propensity,
        UrlCategorizer.from_seeds(),
        Countries.from_seed(),
        4,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    return TestClient(create_app(models))


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


def test_frame_has_the_feature_contract_types(client: TestClient, stand_ins) -> None:
    pages = [
        {"url": "https://www.deeplearning.ai/the-batch/", "seen_at": "2020-01-01T10:00:00"},
        {"url": "https://www.deeplearning.ai/events/?utm_source=x"},
        {"url": "https://www.deeplearning.ai/", "seen_at": "2020-03-01T10:00:00+02:00"},
        {"url": "https://blog.deeplearning.ai/blog/x/"},
        {"url": "https://www.deeplearning.ai/about/", "seen_at": "2020-04-01T00:00:00"},
    ]
    body = {"contacts": [contact(5, pages=pages, course_ai_for_everyone=True), contact(9, num_sessions=None)]}
    response = client.post("/v1/segments", json=body)
    assert response.status_code == 200, response.text
    frame = stand_ins[0].seen
    row = frame.iloc[0]
    assert frame["contact_id"].dtype == np.int64
    assert row["ip_country"] == "germany"
    # five pages, the four most recent kept: events 1, home 7, blog 2, about 14
    assert list(row["category_codes"]) == [1, 7, 2, 14]
    assert row["page_count"] == 4 and bool(row["has_page_history"])
    assert row["first_page_at"] == pd.Timestamp("2020-01-01 10:00") and row["last_page_at"] == pd.Timestamp(
        "2020-04-01"
    )
    assert (
        bool(row["is_buyer"])
        and bool(row["course_ai_for_everyone"])
        and not bool(row["course_ai_for_medicine"])
    )
    assert pd.isna(frame.iloc[1]["num_sessions"]) and list(frame.iloc[1]["category_codes"]) == []
    results = response.json()["results"]
    assert [r["contact_id"] for r in results] == [5, 9], "results follow the request order"
    assert [r["segment_id"] for r in results] == [1, 0]


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
