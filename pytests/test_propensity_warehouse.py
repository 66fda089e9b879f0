"""Propensity tables and artifacts of the real `dbt build` over the synthetic export (fixture `warehouse`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from journeys.propensity import LeakageError, PropensityConfig, load_propensity_model
from journeys.propensity.pipeline import train_and_score
from journeys.runs import registry

MODELS = {"bilstm", "logistic_regression", "logistic_regression_bigrams", "hist_gradient_boosting", "majority"}


@pytest.fixture(scope="module")
def features(warehouse) -> pd.DataFrame:
    return warehouse.query("select * from contact_features order by contact_id")


@pytest.fixture(scope="module")
def scores(warehouse) -> pd.DataFrame:
    return warehouse.query("select * from purchase_propensity order by contact_id")


@pytest.fixture(scope="module")
def metrics(warehouse) -> pd.DataFrame:
    return warehouse.query("select * from propensity_metrics")


def value(metrics: pd.DataFrame, model: str, metric: str) -> float:
    row = metrics[(metrics["model_name"] == model) & (metrics["metric"] == metric)]
    assert len(row) == 1, (model, metric)
    return float(row["value"].iloc[0])


def test_every_contact_with_page_history_is_scored_and_no_other(features, scores):
    with_history = features.loc[features["has_page_history"], "contact_id"]
    assert scores["contact_id"].tolist() == sorted(with_history.tolist())
    assert scores["propensity"].between(0, 1).all()
    assert scores["model_version"].nunique() == 1 and scores["target"].eq("any_course").all()


def test_metrics_cover_every_model_on_the_test_split(metrics, scores):
    assert MODELS <= set(metrics["model_name"])
    assert metrics["model_version"].eq(scores["model_version"].iloc[0]).all()
    assert set(metrics["split"]) == {"test", "validation"}
    for model in MODELS:
        cells = sum(value(metrics, model, m) for m in
                    ("true_negatives", "false_positives", "false_negatives", "true_positives"))
        assert cells == value(metrics, model, "test_size")
        assert value(metrics, model, "positives") == value(metrics, "bilstm", "positives")
    assert value(metrics, "majority", "roc_auc") == 0.5


def test_the_network_learns_the_planted_signal(metrics):
    bilstm, bayes = value(metrics, "bilstm", "roc_auc"), value(metrics, "bayes_optimal", "roc_auc")
    assert bayes > 0.6
    assert bilstm > 0.5 + 0.6 * (bayes - 0.5), (bilstm, bayes)


def test_model_metrics_union_holds_the_propensity_rows(warehouse, metrics):
    union = warehouse.query("select * from model_metrics where model_name in "
                            "('bilstm', 'logistic_regression', 'logistic_regression_bigrams', 'majority', "
                            "'hist_gradient_boosting', 'bayes_optimal')")
    assert len(union) == len(metrics)
    assert union["ci_lower"].notna().sum() == metrics["ci_lower"].notna().sum() > 0
    segments = warehouse.query("select * from model_metrics where model_name = 'segments'")
    assert segments[["ci_lower", "ci_upper"]].isna().all().all()


def test_the_setting_scored_on_validation_and_order_effects_with_intervals(metrics):
    validation = metrics[metrics["split"] == "validation"].set_index("metric")["value"]
    # no search by default (journeys_propensity.search empty): the single setting, trained once, on record
    assert {"search_1_roc_auc", "chosen_setting", "dropout", "embedding_l2"} <= set(validation.index)
    assert "search_2_roc_auc" not in validation.index and validation["chosen_setting"] == 1
    defaults = PropensityConfig()
    assert (validation["dropout"], validation["embedding_l2"]) == (defaults.dropout, defaults.embedding_l2)
    assert 0.5 < validation["search_1_roc_auc"] <= 1
    for model in ("bilstm", "bayes_optimal"):
        row = metrics[(metrics["model_name"] == model) & (metrics["metric"] == "order_effect")].iloc[0]
        assert row["ci_lower"] <= row["value"] <= row["ci_upper"]
    # the generator plants an order effect: truth loses a clear margin when its pages are shuffled
    truth = metrics[(metrics["model_name"] == "bayes_optimal") & (metrics["metric"] == "order_effect")].iloc[0]
    assert truth["value"] > 0.01


def test_training_history_and_audit_belong_to_the_same_run(warehouse, scores):
    version = scores["model_version"].iloc[0]
    history = warehouse.query("select * from training_history order by epoch")
    audit = warehouse.query("select * from propensity_audit")
    assert history["epoch"].tolist() == list(range(1, len(history) + 1))
    assert history["model_version"].eq(version).all() and audit["model_version"].eq(version).all()
    assert not audit["flagged"].any()
    assert {"num_sessions", "ip_country", "category:specialization", "category:course_signup"} <= set(
        audit["feature"])


def test_reloaded_artifacts_reproduce_the_table_exactly(warehouse, features, scores):
    model = load_propensity_model(warehouse.artifacts_dir)
    assert model.version == scores["model_version"].iloc[0]
    rescored = model.score(features).dropna(subset=["propensity"]).sort_values("contact_id")
    assert rescored["contact_id"].tolist() == scores["contact_id"].tolist()
    assert np.array_equal(rescored["propensity"].to_numpy(), scores["propensity"].to_numpy())
    assert np.array_equal(rescored["predicted_flag"].to_numpy(bool), scores["predicted_flag"].to_numpy(bool))


def test_artifacts_are_keras_and_json_without_personal_data(warehouse, features):
    folder = registry.version_folder(warehouse.artifacts_dir, "propensity")
    assert sorted(p.name for p in folder.iterdir()) == [
        ".published", "propensity.json", "propensity.keras", "splits.npz", "test_predictions.npz",
        "training_run.json"]
    assert "@" not in (folder / "training_run.json").read_text()
    meta = json.loads((folder / "propensity.json").read_text())
    assert {"encoder", "threshold", "training_fingerprint", "libraries", "config"} <= set(meta)
    assert "@" not in (folder / "propensity.json").read_text()


def test_the_original_leaky_label_stops_the_build(warehouse, features, tmp_path):
    """Label = saw a specialization page, as the spec's earlier analysis did: the audit must name that category."""
    codes = warehouse.query("select category, category_code from url_category_codes")
    specialization = int(codes.loc[codes["category"] == "specialization", "category_code"].iloc[0])
    leaky = features.assign(is_buyer=features["category_codes"].map(lambda c: specialization in list(c)))
    with pytest.raises(LeakageError, match=r"category:specialization \(ROC AUC 1\.000"):
        train_and_score(leaky, codes, PropensityConfig(), tmp_path)
    assert not list((tmp_path / "propensity").glob("versions/*")), "nothing saved for a leaky model"
