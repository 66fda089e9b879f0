"""Daily mode: a build scores with the saved models and trains only when asked or needed; stable segment ids,
named segments, the run history and score drift."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import Warehouse, build_or_fail, dbt_env, run_dbt

from journeys.monitoring.drift import bin_shares, population_stability_index, score_drift
from journeys.runs import registry, retraining
from journeys.segments.model import load_segment_model
from journeys.segments.training import match_segment_ids

SCORED_TABLES = {
    "contact_segments": "contact_id",
    "purchase_propensity": "contact_id",
    "segments": "segment_id",
    "segment_profiles": "segment_id, feature, statistic, category",
    "segment_centroids": "segment_id, feature",
    "segment_comparison": "segment_a, segment_b, rank",
    "segment_metrics": "split, metric",
    "propensity_metrics": "model_name, metric",
}


@pytest.fixture(scope="module")
def rebuilt(warehouse, tmp_path_factory) -> tuple[Warehouse, Warehouse]:
    """The session warehouse copied (DuckDB file and artifacts) and built a second time with journeys_retrain auto."""
    base = tmp_path_factory.mktemp("daily")
    copy = Warehouse(warehouse.raw_dir, base / "journeys.duckdb", base / "artifacts", "")
    shutil.copy(warehouse.duckdb_path, copy.duckdb_path)
    shutil.copytree(warehouse.artifacts_dir, copy.artifacts_dir)
    log = build_or_fail(["build"], dbt_env(copy.raw_dir, copy.duckdb_path, copy.artifacts_dir), "the second build")
    return warehouse, replace(copy, build_log=log)


def test_second_build_trains_nothing_and_gives_identical_tables(rebuilt):
    first, second = rebuilt
    assert "segments: training (no saved model)" in first.build_log
    assert "propensity: training (no saved model)" in first.build_log
    assert "segments: scoring with the saved model" in second.build_log
    assert "propensity: scoring with the saved model" in second.build_log
    assert "training (" not in second.build_log
    for table, key in SCORED_TABLES.items():
        before = first.query(f"select * from {table} order by {key}")
        after = second.query(f"select * from {table} order by {key}")
        pd.testing.assert_frame_equal(before, after, check_exact=True, obj=table)


def test_model_runs_keep_one_row_per_training(rebuilt):
    first, second = rebuilt
    runs = second.query("select * from model_runs where event = 'trained' order by model_name")
    assert runs["model_name"].tolist() == ["propensity", "segments"]
    everything = "select * from model_runs order by model_name, event"
    pd.testing.assert_frame_equal(second.query(everything), first.query(everything))
    versions = {
        "segments": first.query("select distinct model_version from contact_segments")["model_version"].item(),
        "propensity": first.query("select distinct model_version from purchase_propensity")["model_version"].item(),
    }
    assert dict(zip(runs["model_name"], runs["model_version"], strict=True)) == versions
    assert runs["reason"].eq("no saved model").all() and (runs["rows"] > 0).all()
    segment_metrics = json.loads(runs.loc[runs["model_name"] == "segments", "metrics"].item())
    assert 0 < segment_metrics["stability_ari"] <= 1


def test_drift_rows_appear_on_the_second_build(rebuilt):
    first, second = rebuilt
    drift = second.query("select * from score_drift order by build_number, measure, segment_id")
    assert sorted(drift["build_number"].unique()) == [1, 2]
    latest = drift[drift["build_number"] == 2]
    psi = latest.loc[latest["measure"] == "propensity_psi", "value"]
    assert psi.tolist() == pytest.approx([0.0], abs=1e-12)
    shares = latest[latest["measure"] == "segment_share"]
    sizes = first.query("select segment_id, contacts, share from segments order by segment_id")
    assert shares["segment_id"].tolist() == sizes["segment_id"].tolist()
    np.testing.assert_allclose(shares["value"], sizes["share"])
    np.testing.assert_allclose(shares["change"], 0.0)
    assert "score_drift_within_limits" in second.build_log
    assert drift.loc[drift["build_number"] == 1, "previous_value"].isna().all()


def test_retrain_with_another_seed_keeps_segment_ids(rebuilt):
    _, second = rebuilt
    before = second.query("select contact_id, segment_id from contact_segments order by contact_id")
    result = run_dbt(
        ["run", "-s", "contact_segments", "segments", "--vars", "{journeys_retrain: true, journeys_segments: {seed: 1}}"],
        dbt_env(second.raw_dir, second.duckdb_path, second.artifacts_dir),
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "segments: training (journeys_retrain: true)" in result.stdout
    after = second.query("select contact_id, segment_id from contact_segments order by contact_id")
    kept = float((before["segment_id"].to_numpy() == after["segment_id"].to_numpy()).mean())
    assert kept >= 0.90, f"only {kept:.1%} of contacts kept their segment id"
    names = second.query("select segment_name from segments")["segment_name"]
    assert names.is_unique and names.str.len().gt(0).all()


@pytest.mark.parametrize("model", ["contact_segments", "purchase_propensity"])
def test_retrain_false_without_artifacts_fails_with_one_clear_line(warehouse, tmp_path, model):
    duckdb_path = tmp_path / "journeys.duckdb"
    shutil.copy(warehouse.duckdb_path, duckdb_path)
    result = run_dbt(["run", "-s", model, "--vars", "{journeys_retrain: false}"],
                     dbt_env(warehouse.raw_dir, duckdb_path, tmp_path / "empty-artifacts"))
    log = result.stdout + result.stderr
    assert result.returncode != 0
    name = {"contact_segments": "segments", "purchase_propensity": "propensity"}[model]
    lines = [line for line in log.splitlines() if f"journeys_retrain is false but there is no saved {name} model" in line]
    assert lines, log[-4000:]
    assert "build once with journeys_retrain auto or true" in lines[0]


def saved_version(artifacts_dir, model: str, version: str, parts: dict, reason: str = "no saved model"):
    """A version written as a build writes it (model file, training record) and made current."""
    incoming = registry.incoming_folder(artifacts_dir, model)
    (incoming / "model.json").write_text("{}")
    folder = registry.commit(artifacts_dir, model, incoming, version)
    retraining.record_training(folder, model, version, parts, reason, 5, "f", {"k": 3}, {"cost": 1.0})
    registry.make_current(artifacts_dir, model, version, "published")
    return folder


def test_decide_trains_only_when_needed(tmp_path):
    parts = {"settings": {"k": 7}, "feature_contract": {"contact_id": "int64"}}
    assert retraining.decide("m", "auto", tmp_path, parts, ["model.json"]) == retraining.Decision(
        True, "no saved model")
    with pytest.raises(retraining.CannotScore, match="journeys_retrain is false but there is no saved m model"):
        retraining.decide("m", "false", tmp_path, parts, ["model.json"])
    saved_version(tmp_path, "m", "v1", parts)
    assert not retraining.decide("m", "auto", tmp_path, parts, ["model.json"]).train
    assert not retraining.decide("m", "false", tmp_path, parts, ["model.json"]).train
    assert retraining.decide("m", "true", tmp_path, parts, ["model.json"]).train
    changed = {**parts, "settings": {"k": 8}}
    assert retraining.decide("m", "auto", tmp_path, changed, ["model.json"]) == retraining.Decision(
        True, "settings changed")
    with pytest.raises(retraining.CannotScore, match=r"incompatible .*\(settings changed\)"):
        retraining.decide("m", "false", tmp_path, changed, ["model.json"])
    with pytest.raises(ValueError, match="var journeys_retrain must be one of"):
        retraining.parse_mode("sometimes")
    assert retraining.parse_mode("True") == "true"


def test_new_training_runs_appends_only_unseen_trainings_and_switches(tmp_path):
    saved_version(tmp_path, "segments", "v1", {})
    first = retraining.new_training_runs(tmp_path, None)
    assert first[["model_name", "model_version", "event", "rows"]].values.tolist() == [
        ["segments", "v1", "trained", 5], ["segments", "v1", "made_current", 5]]
    assert retraining.new_training_runs(tmp_path, first).empty
    saved_version(tmp_path, "segments", "v2", {})
    registry.make_current(tmp_path, "segments", "v1", "rollback")
    later = retraining.new_training_runs(tmp_path, first)
    assert later[["model_version", "event"]].values.tolist() == [
        ["v2", "trained"], ["v2", "made_current"], ["v1", "made_current"]]
    assert later["reason"].iloc[-1] == "rollback (was v2)"


def test_psi_is_zero_for_the_same_scores_and_large_for_shifted_ones():
    rng = np.random.default_rng(0)
    scores = rng.beta(2, 8, 20_000)
    edges = np.quantile(scores, np.linspace(0.1, 0.9, 9))
    reference = bin_shares(scores, edges)
    assert population_stability_index(reference, bin_shares(scores, edges)) == 0.0
    similar = population_stability_index(reference, bin_shares(rng.beta(2, 8, 20_000), edges))
    shifted = population_stability_index(reference, bin_shares(rng.beta(4, 6, 20_000), edges))
    assert similar < 0.02 and shifted > 0.2


def test_score_drift_compares_with_the_previous_build():
    rng = np.random.default_rng(1)
    propensity = pd.DataFrame({"propensity": rng.random(1000)})
    segments = pd.DataFrame({"segment_id": np.repeat([0, 1], [600, 400])})
    first = score_drift(propensity, segments, None)
    assert first["build_number"].eq(1).all() and first["previous_value"].isna().all()
    moved = pd.DataFrame({"segment_id": np.repeat([0, 2], [500, 500])})
    second = score_drift(propensity.assign(propensity=propensity["propensity"] ** 3), moved, first)
    shares = second[second["measure"] == "segment_share"].set_index("segment_id")
    assert shares["value"].to_dict() == pytest.approx({0: 0.5, 1: 0.0, 2: 0.5})
    assert shares["change"].fillna(99).to_dict() == pytest.approx({0: -0.1, 1: -0.4, 2: 99})
    assert second.loc[second["measure"] == "propensity_psi", "value"].item() > 0.2


def test_matching_gives_a_reordered_model_its_previous_ids(warehouse):
    model = load_segment_model(warehouse.artifacts_dir)
    previous = replace(model, segment_ids=[10 + i for i in range(model.n_segments)],
                       next_segment_id=10 + model.n_segments)
    order = np.random.default_rng(0).permutation(model.n_segments)
    kp = model.kprototypes
    reordered = type(kp).from_dict(kp.to_dict())
    reordered.centroids_num_, reordered.centroids_cat_ = kp.centroids_num_[order], kp.centroids_cat_[order]
    ids, next_id = match_segment_ids(model.features, reordered, previous)
    assert ids == [10 + int(i) for i in order] and next_id == 10 + model.n_segments
    grown = type(kp).from_dict(kp.to_dict())
    grown.n_clusters = model.n_segments + 1
    grown.centroids_num_ = np.vstack([kp.centroids_num_, kp.centroids_num_[:1] + 50])
    grown.centroids_cat_ = np.vstack([kp.centroids_cat_, kp.centroids_cat_[:1]])
    ids, next_id = match_segment_ids(model.features, grown, previous)
    assert ids[:-1] == previous.segment_ids and ids[-1] == previous.next_segment_id
    assert next_id == previous.next_segment_id + 1


def test_feature_contract_ignores_whether_a_day_has_nulls():
    import duckdb

    with_nulls = duckdb.sql("select * from (values (1::int, true, 'a'), (null, null, null)) t(n, b, s)").df()
    without = duckdb.sql("select * from (values (1::int, true, 'a')) t(n, b, s)").df()
    assert retraining.frame_contract(with_nulls) == retraining.frame_contract(without)
    assert retraining.frame_contract(without) == {"n": "integer", "b": "boolean", "s": "str"}
    assert retraining.frame_contract(without, ["n", "gone"])["gone"] == "absent"


def test_segment_names_say_what_sets_each_segment_apart():
    from journeys.segments.features import FeatureConfig, SegmentFeatures
    from journeys.segments.naming import segment_names

    n = 200
    contacts = pd.DataFrame({
        "contact_id": np.arange(1, n + 1),
        "num_sessions": np.where(np.arange(n) < 100, 20, 0),
        "emails_opened": np.where(np.arange(n) < 100, 0, 30),
        "has_company": np.arange(n) >= 150,
    })
    config = FeatureConfig(count_features=("num_sessions", "emails_opened"), day_features=(),
                           categorical_features=("has_company",), presence_features=())
    features = SegmentFeatures.fit(contacts, config)
    index = np.where(np.arange(n) < 100, 0, 1)
    names = segment_names(features, contacts, index, [4, 9])
    assert {"visits often", "rarely opens e-mails"} == set(names[0]["name"].split(", "))
    assert "opens e-mails" in names[1]["name"].split(", ")
    assert names[1]["description"].startswith(("Opens e-mails", "Rarely visits", "Has a company"))
    assert "mean 20 vs 10" in names[0]["description"]
