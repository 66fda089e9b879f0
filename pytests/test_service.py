"""The scoring service over the models the real `dbt build` saved (the `warehouse` fixture):
same scores as the tables for the same contacts, and no input, valid or not, gives a 500."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import schemathesis
from conftest import PROJECT_VARS, Warehouse, build_or_fail, dbt_env
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from journeys.propensity import load_propensity_model
from journeys.propensity.artifacts import SCORE_DECIMALS
from journeys.service import create_app, load_models, warehouse_contacts
from journeys.service.features import contact_batch
from journeys.service.schemas import PropensityRequest, SegmentRequest
from journeys.warehouse import connect

SAMPLE_SEED = 3
FUZZ_EXAMPLES = 60


@pytest.fixture(scope="module")
def app(warehouse):
    return create_app(load_models(warehouse.artifacts_dir))


@pytest.fixture(scope="module")
def client(app) -> TestClient:
    return TestClient(app)


def sample_ids(warehouse, table: str, where: str, n: int) -> list[int]:
    """A seeded sample of contact ids from `table`."""
    ids = warehouse.query(f"select contact_id from {table} where {where} order by contact_id")["contact_id"]
    rng = np.random.default_rng(SAMPLE_SEED)
    return sorted(int(i) for i in rng.choice(ids.to_numpy(), size=min(n, len(ids)), replace=False))


def test_health_reports_the_built_versions(warehouse, client: TestClient) -> None:
    body = client.get("/health").json()
    built = warehouse.query("select distinct model_version from purchase_propensity")[
        "model_version"
    ].tolist()
    assert body["status"] == "ok" and [body["propensity"]["version"]] == built
    segments = warehouse.query(
        "select distinct model_version from contact_segments union select distinct model_version from segments"
    )["model_version"].tolist()
    assert [body["segments"]["version"]] == segments


def test_scores_with_the_vars_and_seeds_of_its_build_not_the_repositorys(warehouse, tmp_path) -> None:
    """A build under other journeys_site_hosts (share.hsforms.com no longer the site: its form pages are `other`)
    saves them with the model; the service then categorises and scores as that build's tables do, though the
    repository's vars still name the old hosts."""
    for part in ("raw", "artifacts"):
        shutil.copytree(getattr(warehouse, f"{part}_dir"), tmp_path / part)
    shutil.copy(warehouse.duckdb_path, tmp_path / "journeys.duckdb")
    env = dbt_env(tmp_path / "raw", tmp_path / "journeys.duckdb", tmp_path / "artifacts")
    hosts = "{journeys_site_hosts: [deeplearning.ai], journeys_propensity: {epochs: 2, search: []}}"
    build_or_fail(["build", "-s", "int_urls_categorized+", "--vars", hosts], env, "the copy under other journeys_site_hosts")
    rebuilt = Warehouse(tmp_path / "raw", tmp_path / "journeys.duckdb", tmp_path / "artifacts", "")
    forms = rebuilt.query(
        "select distinct v.contact_id from int_page_views_categorized as v join purchase_propensity using (contact_id) "
        "where v.normalized_url like 'share.hsforms.com/%' and v.category = 'other' order by v.contact_id")
    assert len(forms) >= 20, "the forms' pages are off the site in this build"
    assert "share.hsforms.com" in PROJECT_VARS["journeys_site_hosts"], "the repository still counts them on the site"
    ids = [int(i) for i in forms["contact_id"][:200]]
    stored = rebuilt.query(
        "select f.contact_id, f.category_codes, p.propensity from contact_features as f "
        f"join purchase_propensity as p using (contact_id) where f.contact_id in ({', '.join(map(str, ids))}) "
        "order by f.contact_id").set_index("contact_id")
    with connect(rebuilt.duckdb_path) as con:
        _, body = warehouse_contacts(con, ids)
    served = pd.DataFrame(TestClient(create_app(load_models(rebuilt.artifacts_dir))).post(
        "/v1/propensity", json={"contacts": body}).json()["results"]).set_index("contact_id")
    assert served.index.tolist() == stored.index.tolist()
    assert [list(c) for c in served["category_codes"]] == [list(map(int, c)) for c in stored["category_codes"]]
    np.testing.assert_allclose(served["propensity"].astype(float), stored["propensity"], rtol=0,
                               atol=1.01 * 10.0**-SCORE_DECIMALS)


def test_segments_match_contact_segments(warehouse, client: TestClient) -> None:
    ids = sample_ids(warehouse, "contact_segments", "true", 400)
    with connect(warehouse.duckdb_path) as con:
        segments_body, _ = warehouse_contacts(con, ids)
    response = client.post("/v1/segments", json={"contacts": segments_body})
    assert response.status_code == 200, response.text
    served = pd.DataFrame(response.json()["results"])
    stored = warehouse.query(
        "select contact_id, segment_id, dissimilarity, segment_name, segment_description "
        "from contact_segments join segments using (segment_id) "
        f"where contact_id in ({', '.join(map(str, ids))}) order by contact_id"
    )
    assert served["contact_id"].tolist() == stored["contact_id"].tolist()
    assert (served["segment_id"].to_numpy() == stored["segment_id"].to_numpy()).all()
    np.testing.assert_allclose(served["dissimilarity"], stored["dissimilarity"], rtol=1e-9, atol=1e-9)
    assert served["segment_name"].tolist() == stored["segment_name"].tolist(), (
        "names are the segments table's"
    )
    assert served["segment_description"].tolist() == stored["segment_description"].tolist()


def test_segment_scorer_serves_stable_ids_not_prototype_positions(warehouse, app) -> None:
    """A retrained model keeps earlier segments' ids, so prototype i is rarely segment i: the service must
    answer the model's id and name for the prototype, as `SegmentModel.score` does."""
    from journeys.segments import load_segment_model
    from journeys.service.inference import SegmentScorer

    model = load_segment_model(warehouse.artifacts_dir)
    model.segment_ids = [100 + 3 * i for i in reversed(range(model.n_segments))]
    model.names = [{"name": f"n{i}", "description": f"d{i}"} for i in model.segment_ids]
    ids = sample_ids(warehouse, "contact_segments", "true", 300)
    with connect(warehouse.duckdb_path) as con:
        body, _ = warehouse_contacts(con, ids)
    features = warehouse.query(
        f"select * from contact_features where contact_id in ({', '.join(map(str, ids))}) order by contact_id"
    )
    expected = model.score(features)
    loaded = app.state.models.models
    batch = contact_batch(
        SegmentRequest(contacts=body).contacts, loaded.category_codes, loaded.max_sequence_length
    )
    served = SegmentScorer(model).score(batch)
    assert served.segment_id.tolist() == expected["segment_id"].tolist()
    assert served.segment_name.tolist() == [f"n{i}" for i in expected["segment_id"]]


def test_propensity_matches_purchase_propensity(warehouse, client: TestClient) -> None:
    assert_serves_the_stored_propensity(warehouse, client, with_history=450, without=50)


def test_a_model_of_page_events_reads_the_events_and_the_recorded_history_as_its_build(
    events_warehouse, tmp_path
) -> None:
    """Trained on an export with page_events, the network reads the on-site events and, beside them, the recorded
    history: a client sends both (`pages`, `recorded_pages`) and gets the build's scores."""
    for part in ("raw", "artifacts"):
        shutil.copytree(getattr(events_warehouse, f"{part}_dir"), tmp_path / part)
    shutil.copy(events_warehouse.duckdb_path, tmp_path / "journeys.duckdb")
    env = dbt_env(tmp_path / "raw", tmp_path / "journeys.duckdb", tmp_path / "artifacts")
    build_or_fail(["run", "-s", "purchase_propensity", "--vars", "{journeys_propensity: {epochs: 3}}"],
                  env, "the propensity model of the events export")
    trained = Warehouse(tmp_path / "raw", tmp_path / "journeys.duckdb", tmp_path / "artifacts", "")
    assert load_propensity_model(trained.artifacts_dir).encoder.recorded_length == 4
    sources = trained.query("select distinct sequence_source from int_contact_sequences_collated")
    assert sources["sequence_source"].tolist() == ["page_events"]
    client = TestClient(create_app(load_models(trained.artifacts_dir)))
    assert_serves_the_stored_propensity(trained, client, with_history=300, without=30)


def assert_serves_the_stored_propensity(warehouse, client: TestClient, with_history: int, without: int) -> None:
    """A seeded sample of contacts with and without page history, sent as a client describes them, gets the
    categories and the scores (to the stored decimals) and flags of `purchase_propensity`."""
    with_history = sample_ids(warehouse, "contact_features", "has_page_history", with_history)
    without = sample_ids(warehouse, "contact_features", "not has_page_history", without)
    ids = sorted(with_history + without)
    with connect(warehouse.duckdb_path) as con:
        _, propensity_body = warehouse_contacts(con, ids)
    response = client.post("/v1/propensity", json={"contacts": propensity_body})
    assert response.status_code == 200, response.text
    served = pd.DataFrame(response.json()["results"]).set_index("contact_id")
    stored = warehouse.query(
        "select f.contact_id, f.category_codes, p.propensity, p.predicted_flag "
        "from contact_features as f left join purchase_propensity as p using (contact_id) "
        f"where f.contact_id in ({', '.join(map(str, ids))}) order by f.contact_id"
    ).set_index("contact_id")
    assert served.index.tolist() == stored.index.tolist()
    assert [list(c) for c in served["category_codes"]] == [
        list(map(int, c)) for c in stored["category_codes"]
    ]
    scored = stored["propensity"].notna()
    assert scored.sum() == len(with_history), "every contact with history has a stored score"
    assert (
        served.loc[~scored, "propensity"].isna().all() and served.loc[~scored, "predicted_flag"].isna().all()
    )
    # Stored scores are rounded to SCORE_DECIMALS; TensorFlow's float32 result depends slightly on the
    # batch it is computed in, so a score next to a rounding boundary may land one unit apart.
    np.testing.assert_allclose(
        served.loc[scored, "propensity"].astype(float),
        stored.loc[scored, "propensity"],
        rtol=0,
        atol=1.01 * 10.0**-SCORE_DECIMALS,
    )
    assert (
        served.loc[scored, "predicted_flag"].astype(bool) == stored.loc[scored, "predicted_flag"].astype(bool)
    ).all()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("path", ["/v1/segments", "/v1/propensity"])
def test_no_input_gives_a_server_error(app, path: str, mode: GenerationMode) -> None:
    """Schema-driven examples (valid ones, and ones that break the schema) against the real models."""
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path]["POST"]
    statuses: list[int] = []

    @settings(
        max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(operation.as_strategy(generation_mode=mode))
    def call(case) -> None:
        response = case.call()
        statuses.append(response.status_code)
        assert response.status_code in (200, 400, 413, 422), (response.status_code, response.text[:500])

    call()
    expected = 200 if mode is GenerationMode.POSITIVE else 422
    assert expected in statuses, f"{mode.value} examples never got {expected}: {sorted(set(statuses))}"


def test_fast_encoding_equals_the_build_encoder(warehouse, app) -> None:
    """The service encodes request columns with NumPy; the network must get exactly what `Encoder.transform`
    gives for the warehouse rows of the same contacts (a change to the encoder shows up here first)."""
    ids = sample_ids(warehouse, "contact_features", "has_page_history", 300)
    with connect(warehouse.duckdb_path) as con:
        _, body = warehouse_contacts(con, ids)
    models = app.state.models.models
    batch = contact_batch(
        PropensityRequest(contacts=body).contacts, models.category_codes, models.max_sequence_length
    )
    features = warehouse.query(
        f"select * from contact_features where contact_id in ({', '.join(map(str, ids))}) order by contact_id"
    )
    assert batch.contact_id.tolist() == features["contact_id"].tolist()
    encoder = models.propensity.encoder
    expected = encoder.transform(features).as_keras(encoder.categorical_features)
    served = models.propensity.encode(batch)
    assert served.keys() == expected.keys()
    for name, values in expected.items():
        np.testing.assert_array_equal(served[name], values, err_msg=name)


def test_versions_of_one_architecture_share_the_compiled_function_and_score_with_their_own_weights(
    warehouse, app
) -> None:
    """A retrained version (here: the served network with other weights) compiles nothing new, so the server's
    memory stays flat over swaps (XLA keeps what it compiles), and scores as its own network does."""
    from journeys.service.compiled import CompiledNetwork

    served = app.state.models.models.propensity.network
    network = load_propensity_model(warehouse.artifacts_dir).scorer
    rng = np.random.default_rng(SAMPLE_SEED)
    network.set_weights([w + rng.normal(0, 0.05, w.shape) for w in network.get_weights()])
    retrained = CompiledNetwork(network)
    assert retrained._call is served._call
    inputs = {name: (rng.integers(0, 2, (70, *shape)) if np.issubdtype(dtype, np.integer)
                     else rng.normal(size=(70, *shape))).astype(dtype)
              for name, (shape, dtype) in served.inputs.items()}  # fmt: skip
    own = np.asarray(network(inputs, training=False), dtype=np.float64)
    np.testing.assert_allclose(retrained(inputs), own, rtol=0, atol=1e-12)
    assert np.abs(retrained(inputs) - served(inputs)).max() > 1e-6, "each version scores with its own weights"
