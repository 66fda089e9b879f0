"""Propensity package on contract-shaped synthetic contacts with a planted ORDER effect.

Buyers are likelier when a specialization page (code 6) comes BEFORE a course-signup page (code 12) than
after it: a bag of categories cannot see that, a sequence model can. The data follows the columns of
`contact_features` so these tests run without dbt.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from journeys.propensity import LeakageError, PropensityConfig, load_propensity_model, network
from journeys.propensity.config import BOOLEAN_FEATURES, COURSE_COLUMNS, NUMERIC_FEATURES
from journeys.propensity.data import (
    Encoder,
    cut_dates,
    label_contacts,
    model_columns,
    pad_sequences,
    split_contacts,
)
from journeys.propensity.artifacts import load_model_folder
from journeys.propensity.dbt import HAS_HISTORY
from journeys.propensity.network import build_network, make_deterministic, predict
from journeys.propensity.pipeline import add_deciles, search_subsample, train_and_score
from journeys.warehouse import read_columns

CATEGORIES = ["events", "blog", "course", "batch", "yearning", "specialization", "home", "career", "forum",
              "register", "contact", "course signup", "climate", "about", "subscribe", "ambassador", "terms",
              "press", "other"]
SPECIALIZATION, SIGNUP = 6, 12
COUNTRIES = ["united states", "india", "germany", "united kingdom", "brazil", "tinyland"]
SMALL = {"units": (8, 8), "embedding_dim": 4, "dense_units": 8, "epochs": 12, "batch_size": 128,
         "learning_rate": 0.01, "patience": 3, "max_sequence_length": 4}
# Contacts of the runs that check plumbing, not what the network learns (the `run` fixture and the tests that
# assert a model quality train on all of `contacts`).
PLUMBING_CONTACTS = 4_000


def category_codes() -> pd.DataFrame:
    """The seed `url_category_codes`: codes 1.. with names (0 is padding)."""
    return pd.DataFrame({"category": CATEGORIES, "category_code": np.arange(1, len(CATEGORIES) + 1),
                         "is_conversion": [c == "course signup" for c in CATEGORIES]})


def synthetic_contacts(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Contacts following the feature contract, and each one's true buy probability."""
    rng = np.random.default_rng(seed)
    has_history = rng.random(n) < 0.7
    lengths = np.where(has_history, rng.integers(1, 5, n), 0)
    weights = np.full(len(CATEGORIES), 1.0)
    weights[[SPECIALIZATION - 1, SIGNUP - 1]] = 4.0
    codes = rng.choice(np.arange(1, len(CATEGORIES) + 1), size=(n, 4), p=weights / weights.sum())
    codes[np.arange(4)[None, :] >= lengths[:, None]] = 0
    first_spec = np.where((codes == SPECIALIZATION).any(1), np.argmax(codes == SPECIALIZATION, 1), 9)
    last_signup = np.where((codes == SIGNUP).any(1), 3 - np.argmax((codes == SIGNUP)[:, ::-1], 1), -1)
    spec_then_signup = first_spec < last_signup
    signup_then_spec = ((codes == SIGNUP).any(1) & (codes == SPECIALIZATION).any(1)) & ~spec_then_signup
    sessions = rng.poisson(np.where(has_history, 2.0, 0.3))
    country = rng.choice(COUNTRIES, n, p=[0.4, 0.25, 0.15, 0.1, 0.09, 0.01]).astype(object)
    country[rng.random(n) < 0.2] = None
    logit = (-3.2 + 3.5 * spec_then_signup + 0.3 * signup_then_spec + 0.8 * np.log1p(sessions)
             + 0.8 * (country == "india") + 0.15 * lengths)
    probability = 1 / (1 + np.exp(-logit))
    buyer = rng.random(n) < probability
    frame = pd.DataFrame({
        "contact_id": np.arange(1000, 1000 + n, dtype=np.int64),
        "has_page_history": has_history,
        "page_count": lengths.astype(np.int32),
        "category_codes": [row[row > 0].astype(np.int32).tolist() for row in codes],
        "ip_country": country,
        "is_buyer": buyer,
    })
    for name in NUMERIC_FEATURES:
        values = rng.gamma(1.5, 10.0, n)
        values[rng.random(n) < 0.1] = np.nan
        frame[name] = values
    frame["num_sessions"] = sessions.astype(float)
    for name in BOOLEAN_FEATURES:
        frame[name] = rng.random(n) < 0.3
    for name in ("job_title", "last_event", "last_email_name", "education"):
        frame[name] = rng.choice(["a", "b", "c", None], n)
    frame[COURSE_COLUMNS[0]] = buyer & (rng.random(n) < 0.7)
    for name in COURSE_COLUMNS[1:]:
        frame[name] = buyer & (rng.random(n) < 0.1)
    return with_post_conversion_pages(frame, buyer, seed), probability


def with_post_conversion_pages(frame: pd.DataFrame, buyer: np.ndarray, seed: int) -> pd.DataFrame:
    """The SQL layer's two sequences: before the First Conversion Date (the input above), and uncut, where
    60% of buyers add a forum page after buying and 30% of the others a blog page after converting."""
    rng = np.random.default_rng(seed + 1000)
    history = frame["has_page_history"].to_numpy()
    after = np.where(buyer, rng.random(len(frame)) < 0.6, rng.random(len(frame)) < 0.3) & history
    page = np.where(buyer, CATEGORIES.index("forum") + 1, CATEGORIES.index("blog") + 1)
    uncut = [codes + [int(p)] if a else codes for codes, a, p in zip(frame["category_codes"], after, page,
                                                                    strict=True)]
    return frame.assign(category_codes_before_conversion=frame["category_codes"], category_codes_uncut=uncut)


@pytest.fixture(scope="module")
def contacts() -> tuple[pd.DataFrame, np.ndarray]:
    return synthetic_contacts(12_000, seed=3)


@pytest.fixture(scope="module")
def run(contacts, tmp_path_factory):
    frame, probability = contacts
    truth = pd.DataFrame({"contact_id": frame["contact_id"], "buy_probability": probability})
    artifacts = tmp_path_factory.mktemp("propensity_artifacts")
    return train_and_score(frame, category_codes(), PropensityConfig(**SMALL), artifacts, truth=truth), artifacts


def metric(run, model: str, name: str) -> float:
    rows = run.metrics[(run.metrics["model_name"] == model) & (run.metrics["metric"] == name)]
    assert len(rows) == 1, (model, name)
    return float(rows["value"].iloc[0])


def test_pad_sequences_keeps_most_recent_pages_oldest_first():
    padded = pad_sequences(pd.Series([[1, 2, 3, 4, 5], [], [3], None, [2, 2]]), 4, 6)
    assert padded.tolist() == [[2, 3, 4, 5], [0, 0, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0], [2, 2, 0, 0]]


def test_pad_sequences_names_the_row_with_an_unknown_code():
    with pytest.raises(ValueError, match="row 1 holds code 9"):
        pad_sequences(pd.Series([[1], [2, 9]]), 4, 6)


def test_split_is_stratified_disjoint_and_seeded(contacts):
    labelled = label_contacts(contacts[0], PropensityConfig())
    split = split_contacts(labelled.labels, PropensityConfig())
    parts = [split.train, split.validation, split.test]
    assert sum(len(p) for p in parts) == len(labelled.labels)
    assert len(np.unique(np.concatenate(parts))) == len(labelled.labels)
    rates = [labelled.labels[p].mean() for p in parts]
    assert max(rates) - min(rates) < 0.01
    again = split_contacts(labelled.labels, PropensityConfig())
    assert np.array_equal(again.test, split.test)
    assert not np.array_equal(split_contacts(labelled.labels, PropensityConfig(seed=1)).test, split.test)


def test_capped_training_split_is_a_stratified_sample_of_the_full_one(contacts):
    labelled = label_contacts(contacts[0], PropensityConfig())
    full = split_contacts(labelled.labels, PropensityConfig())
    capped = split_contacts(labelled.labels, PropensityConfig(train_rows=1_000))
    # validation and test are capped in the training cap's proportion: 1,000 x 10/70 and 1,000 x 20/70
    for part, size in (("train", 1_000), ("validation", 143), ("test", 286)):
        kept, whole = getattr(capped, part), getattr(full, part)
        assert len(kept) == size and np.isin(kept, whole).all(), part
        assert abs(labelled.labels[kept].sum() - labelled.labels[whole].mean() * size) <= 1, part
    again = split_contacts(labelled.labels, PropensityConfig(train_rows=1_000))
    assert all(np.array_equal(getattr(again, p), getattr(capped, p)) for p in ("train", "validation", "test"))
    uncapped = split_contacts(labelled.labels, PropensityConfig(train_rows=10**6))
    assert all(np.array_equal(getattr(uncapped, p), getattr(full, p)) for p in ("train", "validation", "test"))
    with pytest.raises(ValueError, match=r"journeys_propensity\.train_rows=-1"):
        PropensityConfig.from_meta({"overrides": {"train_rows": "-1"}})


def test_a_capped_run_trains_on_the_sample_and_scores_everyone(contacts, tmp_path):
    frame = contacts[0].iloc[:PLUMBING_CONTACTS]
    config = PropensityConfig(**{**SMALL, "epochs": 1}, train_rows=500)
    run = train_and_score(frame, category_codes(), config, tmp_path)
    splits = run.scores["split"].value_counts()
    assert splits["train"] == 500 and splits["unsampled"] > 1_000
    assert len(run.scores) == frame["has_page_history"].sum() and run.scores["propensity"].notna().all()
    assert splits["validation"] == round(500 / 7) and splits["test"] == round(1_000 / 7)


def test_encoder_pools_rare_and_unseen_countries_and_scales_on_train(contacts):
    frame = contacts[0]
    encoder = Encoder.fit(frame, PropensityConfig(min_category_count=200), 20)
    assert "tinyland" not in encoder.vocabularies["ip_country"]
    new = frame.head(3).assign(ip_country=["tinyland", "atlantis", None])
    assert encoder.transform(new).categorical[:, 0].tolist() == [1, 1, 0]
    sessions = encoder.transform(frame).tabular[:, encoder.tabular_names.index("num_sessions")]
    known = frame["num_sessions"].notna().to_numpy()
    assert abs(sessions[known].mean()) < 1e-5 and abs(sessions[known].std() - 1) < 1e-4
    assert Encoder.from_json(encoder.to_json()) == encoder


def test_only_contacts_with_history_are_modelled_and_scored(contacts, run):
    frame = contacts[0]
    result, _ = run
    assert set(result.scores["contact_id"]) == set(frame.loc[frame["has_page_history"], "contact_id"])
    assert result.scores["propensity"].between(0, 1).all()
    assert result.scores["decile"].between(1, 10).all()
    top = result.scores[result.scores["decile"] == 10]["propensity"].min()
    assert top >= result.scores[result.scores["decile"] == 9]["propensity"].max()


def test_the_warehouse_read_is_the_model_columns_of_contacts_with_history(contacts):
    frame = contacts[0].assign(email="someone@example.com", page_urls="https://x.org/?utm_source=a")
    con = duckdb.connect()
    con.register("contact_features", frame)
    config = PropensityConfig()
    read = read_columns(con.table("contact_features"), model_columns(config), where=HAS_HISTORY)
    assert {"email", "page_urls"}.isdisjoint(read.columns)
    assert set(read.columns) <= set(model_columns(config))
    assert sorted(read["contact_id"]) == sorted(frame.loc[frame["has_page_history"], "contact_id"])
    # the encoder reads the same inputs from the projected rows as from the whole table
    encoder = Encoder.fit(frame, config, vocabulary_size=20)
    whole = encoder.transform(frame[frame["has_page_history"]].sort_values("contact_id"))
    projected = encoder.transform(read.sort_values("contact_id"))
    for name in ("sequence", "categorical", "tabular"):
        assert np.array_equal(getattr(whole, name), getattr(projected, name)), name


def test_network_finds_the_order_effect_and_beats_the_bag_of_categories(run):
    result, _ = run
    bayes = metric(result, "bayes_optimal", "roc_auc")
    bilstm = metric(result, "bilstm", "roc_auc")
    bag = metric(result, "logistic_regression", "roc_auc")
    bigrams = metric(result, "logistic_regression_bigrams", "roc_auc")
    assert metric(result, "majority", "roc_auc") == 0.5
    assert bayes - bilstm < 0.03, (bayes, bilstm)
    # the planted effect is "specialization anywhere before signup": no bag, and only part of it in pairs
    assert bilstm > bag + 0.02 and bilstm > bigrams, (bilstm, bag, bigrams)
    cells = sum(metric(result, "bilstm", m) for m in
                ("true_negatives", "false_positives", "false_negatives", "true_positives"))
    assert cells == metric(result, "bilstm", "test_size")


def test_threshold_maximises_validation_f1_and_drives_the_flag(run):
    result, _ = run
    threshold = result.model.threshold
    assert 0 < threshold < 1
    assert metric(result, "bilstm", "threshold") == threshold
    scores = result.scores
    assert (scores["predicted_flag"] == (scores["propensity"] >= threshold)).all()


def test_history_has_one_row_per_epoch_with_losses(run):
    history = run[0].history
    assert history["epoch"].tolist() == list(range(1, len(history) + 1))
    assert history[["loss", "val_loss", "auc", "val_auc"]].notna().all().all()
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    assert history["is_best_epoch"].sum() == 1
    # early stopping on validation ROC AUC: the kept epoch is the best one by it
    assert history.loc[history["is_best_epoch"], "val_auc"].iloc[0] >= history["val_auc"].max() - 1e-4


def test_every_binary_test_metric_has_a_bootstrap_interval_around_it(run):
    metrics = run[0].metrics
    test = metrics[(metrics["split"] == "test") & ~metrics["metric"].isin(["test_size", "threshold"])]
    assert test[["ci_lower", "ci_upper"]].notna().all().all()
    inside = (test["ci_lower"] <= test["value"] + 1e-9) & (test["value"] <= test["ci_upper"] + 1e-9)
    assert inside.all(), test[~inside]
    auc = test[(test["metric"] == "roc_auc") & (test["model_name"] == "bilstm")].iloc[0]
    assert 0.01 < auc["ci_upper"] - auc["ci_lower"] < 0.2


def test_paired_gains_over_each_baseline_including_boosted_trees(run):
    result, _ = run
    bilstm = metric(result, "bilstm", "roc_auc")
    for name in ("logistic_regression", "logistic_regression_bigrams", "hist_gradient_boosting"):
        gain = metric(result, "bilstm", f"roc_auc_gain_over_{name}")
        assert gain == pytest.approx(bilstm - metric(result, name, "roc_auc"), abs=1e-9)
    # the planted effect is non-adjacent: the bag of categories cannot see it, so the paired gain is clear
    row = result.metrics[result.metrics["metric"] == "roc_auc_gain_over_logistic_regression"].iloc[0]
    assert row["ci_lower"] > 0
    assert metric(result, "hist_gradient_boosting", "roc_auc") > metric(result, "logistic_regression", "roc_auc")


def test_order_effect_is_measured_for_the_network_and_truth(run):
    result, _ = run
    effect = metric(result, "bilstm", "order_effect")
    assert effect == pytest.approx(metric(result, "bilstm", "roc_auc")
                                   - metric(result, "bilstm", "roc_auc_shuffled_order"), abs=1e-9)
    # order carries the planted signal here: shuffling pages costs the network (a small test split: the
    # interval is wide, but it is a paired interval around the effect)
    row = result.metrics[(result.metrics["model_name"] == "bilstm")
                         & (result.metrics["metric"] == "order_effect")].iloc[0]
    assert row["value"] > 0.005 and row["ci_lower"] < row["value"] < row["ci_upper"], row
    # the test fixture's truth has no shuffled probability: no truth order effect row then
    assert not ((result.metrics["model_name"] == "bayes_optimal")
                & (result.metrics["metric"] == "order_effect")).any()


def test_search_is_scored_on_validation_and_the_choice_recorded(contacts, tmp_path):
    frame = contacts[0].iloc[:PLUMBING_CONTACTS]
    config = PropensityConfig(**{**SMALL, "epochs": 2},
                              search=(((("dropout", 0.0),)), (("dropout", 0.5), ("embedding_l2", 0.01))))
    result = train_and_score(frame, category_codes(), config, tmp_path)
    rows = result.metrics[result.metrics["split"] == "validation"].set_index("metric")["value"]
    scores = [rows["search_1_roc_auc"], rows["search_2_roc_auc"]]
    chosen = int(rows["chosen_setting"])
    assert chosen == int(np.argmax(scores)) + 1
    assert rows["dropout"] == (0.0, 0.5)[chosen - 1]
    assert result.history["val_auc"].max() == pytest.approx(max(scores))


def test_search_trains_on_a_stratified_seeded_subsample_and_the_final_fit_on_all(contacts, tmp_path):
    labels = np.repeat(np.array([0] * 900 + [1] * 100), 2)  # positions 0..1999; training: the even ones
    train = np.arange(0, 2000, 2)
    kept = search_subsample(labels, train, 200, seed=4)
    assert len(kept) == 200 and np.all(np.diff(kept) > 0) and set(kept) <= set(train)
    assert (labels[kept] == 1).sum() == 20  # the label shares of the training split
    assert np.array_equal(kept, search_subsample(labels, train, 200, seed=4))
    assert np.array_equal(search_subsample(labels, train, 0, seed=4), train)
    frame = contacts[0].iloc[:PLUMBING_CONTACTS]
    config = PropensityConfig(**{**SMALL, "epochs": 2}, search_train_contacts=1_000,
                              search=(((("dropout", 0.0),)), (("dropout", 0.5),)))
    result = train_and_score(frame, category_codes(), config, tmp_path)
    rows = result.metrics[result.metrics["split"] == "validation"].set_index("metric")["value"]
    chosen = int(rows["chosen_setting"])
    # the kept network is the chosen setting refitted on every training contact, not the search's
    assert result.history["val_auc"].max() != pytest.approx(rows[f"search_{chosen}_roc_auc"], abs=1e-9)
    assert result.metrics.set_index("metric").loc["dropout", "value"] == (0.0, 0.5)[chosen - 1]


def test_post_purchase_pages_show_as_a_jump_of_the_best_baseline_and_the_audit_warns(run):
    result, _ = run
    rows = result.metrics[result.metrics["metric"] == "cutoff_leak"]
    assert len(rows) == 1
    baseline = rows["model_name"].iloc[0]
    assert baseline in ("logistic_regression", "logistic_regression_bigrams", "hist_gradient_boosting")
    cut, uncut = (metric(result, baseline, f"roc_auc_cutoff_{c}") for c in ("first_conversion", "none"))
    assert cut == pytest.approx(metric(result, baseline, "roc_auc"))  # this run's inputs are the cut ones
    assert uncut > cut + 0.03
    assert rows["value"].iloc[0] == pytest.approx(uncut - cut) and rows["ci_lower"].iloc[0] > 0
    timing = result.audit.set_index("feature").loc["after_first_conversion"]
    assert timing["feature_kind"] == "timing" and bool(timing["warned"]) and not bool(timing["flagged"])
    assert timing["roc_auc"] == pytest.approx(uncut)


def test_without_pages_after_the_conversion_there_is_no_jump(contacts, tmp_path):
    frame, _ = contacts
    frame = frame.assign(category_codes_uncut=frame["category_codes"])
    config = PropensityConfig(**{**SMALL, "epochs": 1, "cutoff": "none"})
    result = train_and_score(frame, category_codes(), config, tmp_path)
    leak = result.metrics[result.metrics["metric"] == "cutoff_leak"].iloc[0]
    assert abs(leak["value"]) < 0.01 and leak["ci_lower"] <= 0 <= leak["ci_upper"]
    assert not result.audit.set_index("feature").loc["after_first_conversion", "warned"]


def test_dates_after_the_first_conversion_are_missing_under_the_cutoff():
    names = ("num_sessions", "days_since_lead", "days_since_last_email_open")
    values = np.array([[3.0, 100.0, 20.0], [3.0, 100.0, 150.0], [3.0, np.nan, 5.0]])
    conversion = np.array([100.0, 100.0, np.nan])
    cut = cut_dates(values, names, conversion, "first_conversion")
    # counts stay; the lead date on the conversion's minute stays; a later e-mail open is not known yet
    np.testing.assert_array_equal(cut, [[3.0, 100.0, np.nan], [3.0, 100.0, 150.0], [3.0, np.nan, 5.0]])
    np.testing.assert_array_equal(cut_dates(values, names, conversion, "none"), values)
    config = PropensityConfig()
    assert "days_since_first_conversion" not in Encoder.fit(synthetic_contacts(300, 1)[0], config, 20).numeric_features
    assert "days_since_first_conversion" in Encoder.fit(synthetic_contacts(300, 1)[0],
                                                        PropensityConfig(cutoff="none"), 20).numeric_features


def test_audit_ranks_every_input_and_category(run):
    audit = run[0].audit
    assert {"num_sessions", "ip_country", "category:specialization", "category:course signup",
            "sequence_length"} <= set(audit["feature"])
    assert not audit["flagged"].any()
    assert audit["separation"].is_monotonic_decreasing
    # positions (from the latest page) and ordered pairs are audited too, as presence indicators
    kinds = audit.set_index("feature")["feature_kind"]
    assert kinds["pair:specialization>course signup"] == "sequence_pair"
    assert kinds["position:latest=course signup"] == "sequence_position"
    assert "position:latest-3=home" in kinds.index


def test_audit_warns_from_the_warning_level_and_stops_above_the_threshold():
    from journeys.propensity.audit import enforce

    audit = pd.DataFrame({"feature": ["pair:a>b", "x"], "feature_kind": ["sequence_pair", "numeric"],
                          "roc_auc": [0.93, 0.6], "separation": [0.93, 0.6], "strongest_class": [1, 1]})
    checked = enforce(audit, 0.98, "error", ["0", "1"], warning=0.90)
    assert checked["warned"].tolist() == [True, False] and not checked["flagged"].any()
    with pytest.raises(LeakageError, match=r"pair:a>b \(ROC AUC 0.990"):
        enforce(audit.assign(roc_auc=[0.99, 0.6], separation=[0.99, 0.6]), 0.98, "error", ["0", "1"], 0.90)


def test_reloaded_artifacts_score_identically(contacts, run):
    result, artifacts = run
    model = load_propensity_model(artifacts, result.model.version)
    assert model.version == result.model.version and model.threshold == result.model.threshold
    rescored = model.score(contacts[0])
    stored = result.scores.set_index("contact_id")
    with_history = rescored.dropna(subset=["propensity"]).set_index("contact_id")
    assert with_history.index.equals(stored.index)
    assert np.array_equal(with_history["propensity"].to_numpy(), stored["propensity"].to_numpy())
    assert (with_history["predicted_flag"] == stored["predicted_flag"]).all()
    without = rescored[~contacts[0]["has_page_history"].to_numpy()]
    assert without["propensity"].isna().all() and without["predicted_flag"].isna().all()


def test_scoring_accepts_missing_columns_and_unseen_countries(run):
    model = run[0].model
    scored = model.score(pd.DataFrame({"contact_id": [1, 2], "has_page_history": [True, True],
                                       "category_codes": [[6, 12], [12, 6]], "ip_country": ["mars", None]}))
    assert scored["propensity"].notna().all()
    assert scored["propensity"].iloc[0] > scored["propensity"].iloc[1]


def test_rerun_gives_identical_scores(contacts, run, tmp_path):
    frame = contacts[0]
    again = train_and_score(frame, category_codes(), PropensityConfig(**SMALL), tmp_path)
    # same code, seed and machine: the same test ROC AUC (to the third decimal and, in fact, exactly)
    assert round(metric(again, "bilstm", "roc_auc"), 3) == round(metric(run[0], "bilstm", "roc_auc"), 3)
    assert again.model.version == run[0].model.version
    assert np.array_equal(again.scores["propensity"].to_numpy(), run[0].scores["propensity"].to_numpy())


def test_leaky_label_stops_the_run(contacts, tmp_path):
    frame = contacts[0].copy()
    frame["is_buyer"] = frame["category_codes"].map(lambda codes: SPECIALIZATION in codes)
    with pytest.raises(LeakageError, match="category:specialization"):
        train_and_score(frame, category_codes(), PropensityConfig(**SMALL), tmp_path)


def test_leakage_warn_mode_builds_and_flags(contacts, tmp_path):
    frame = contacts[0].iloc[:PLUMBING_CONTACTS].copy()
    frame["is_buyer"] = frame["category_codes"].map(lambda codes: SPECIALIZATION in codes)
    result = train_and_score(frame, category_codes(), PropensityConfig(**{**SMALL, "epochs": 1},
                                                                       leakage_mode="warn"), tmp_path)
    flagged = result.audit[result.audit["flagged"]]
    assert flagged["feature"].tolist() == ["category:specialization"]


def test_multiclass_segment_target_uses_the_same_path(contacts, tmp_path):
    frame = contacts[0]
    codes = pad_sequences(frame["category_codes"], 4, 20)
    segment = np.where((codes == SPECIALIZATION).any(1), 2, np.where((codes == SIGNUP).any(1), 1, 0))
    segments = pd.DataFrame({"contact_id": frame["contact_id"], "segment_id": segment})
    result = train_and_score(frame, category_codes(), PropensityConfig(**SMALL, target="segment",
                                                                       leakage_mode="warn"),
                             tmp_path, segments=segments)
    assert result.model.class_names == ["0", "1", "2"]
    assert metric(result, "bilstm", "classes") == 3
    assert metric(result, "bilstm", "roc_auc") > 0.9
    scored = result.scores
    assert set(scored["predicted_class"].dropna()) <= {"0", "1", "2"}
    assert scored["predicted_flag"].isna().all()


def test_named_course_target(contacts, tmp_path):
    frame = contacts[0].iloc[:PLUMBING_CONTACTS]
    result = train_and_score(frame, category_codes(), PropensityConfig(**{**SMALL, "epochs": 2},
                                                                       target=COURSE_COLUMNS[0]), tmp_path)
    labelled = label_contacts(frame, PropensityConfig(target=COURSE_COLUMNS[0]))
    split = split_contacts(labelled.labels, PropensityConfig())
    assert metric(result, "bilstm", "positives") == labelled.labels[split.test].sum()


def test_settings_from_dbt_vars_are_checked():
    config = PropensityConfig.from_meta({"overrides": '{"units": "[16, 32]", "epochs": "5"}',
                                         "target": "any_course"})
    assert config.units == (16, 32) and config.epochs == 5
    assert PropensityConfig.from_meta({"overrides": "{}"}) == PropensityConfig()  # nothing set: the defaults
    with pytest.raises(ValueError, match="propensity_target='bought'"):
        PropensityConfig.from_meta({"overrides": {}, "target": "bought"})
    with pytest.raises(ValueError, match="unknown key.* unitz; known: .*units"):
        PropensityConfig.from_meta({"overrides": {"unitz": 3}})
    with pytest.raises(ValueError, match="top-level var journeys_propensity_cutoff"):
        PropensityConfig.from_meta({"overrides": {"cutoff": "none"}})
    search = PropensityConfig.from_meta({"overrides": '{"search": [{"dropout": 0.1}, {"embedding_l2": 0.01}]}'})
    assert search.settings()[0]["dropout"] == 0.1 and search.settings()[1]["embedding_l2"] == 0.01
    rendered = PropensityConfig.from_meta({"overrides": "{'search': [{'dropout': 0.1}, {'embedding_l2': 0.01}]}"})
    assert rendered.search == search.search
    with pytest.raises(ValueError, match="at most 6"):
        PropensityConfig.from_meta({"overrides": {"search": [{"dropout": 0.1}] * 7}})
    with pytest.raises(ValueError, match="names"):
        PropensityConfig.from_meta({"overrides": {"search": [{"units": 3}]}})


def test_deciles_break_ties_by_contact_id():
    scores = pd.DataFrame({"contact_id": np.arange(20), "propensity": np.r_[np.full(10, 0.5), np.full(10, 0.1)]})
    deciles = add_deciles(scores)["decile"]
    assert deciles.iloc[:10].min() == 6 and deciles.iloc[10:].max() == 5


def test_test_predictions_are_the_stored_scores_behind_the_metrics(run):
    from sklearn.metrics import roc_auc_score

    from journeys.propensity.artifacts import read_test_predictions

    result, _ = run
    saved = read_test_predictions(result.folder)
    pd.testing.assert_frame_equal(saved, result.test_predictions, check_dtype=False)
    for model in ("bilstm", "logistic_regression", "logistic_regression_bigrams", "majority", "bayes_optimal"):
        rows = saved[saved["model_name"] == model]
        assert len(rows) == metric(result, model, "test_size")
        auc = roc_auc_score(rows["label"], rows["score"]) if rows["score"].nunique() > 1 else 0.5
        assert auc == pytest.approx(metric(result, model, "roc_auc"), abs=1e-12)
    bilstm = saved[saved["model_name"] == "bilstm"].set_index("contact_id")["score"]
    stored = result.scores.set_index("contact_id")
    assert np.array_equal(bilstm.to_numpy(), stored.loc[bilstm.index, "propensity"].to_numpy())
    assert (stored.loc[bilstm.index, "split"] == "test").all()
    assert stored["split"].value_counts().idxmax() == "train"


def test_pad_sequences_rejects_what_is_not_a_code_list():
    with pytest.raises(ValueError, match="row 1 is str"):
        pad_sequences(pd.Series([[1], "6,12"], dtype=object), 4, 6)
    with pytest.raises(ValueError, match="row 0 holds non-integer"):
        pad_sequences(pd.Series([[1.5, 2.0]], dtype=object), 4, 6)
    assert pad_sequences(pd.Series([pd.NA, np.array([3, 1])], dtype=object), 2, 6).tolist() == [[0, 0], [3, 1]]


def test_a_contact_scored_alone_gets_its_stored_score(contacts, run):
    """The service scores one contact at a time; batch composition must not move the stored value."""
    result, _ = run
    frame = contacts[0]
    some = frame[frame["has_page_history"]].sample(25, random_state=1)
    alone = pd.concat([result.model.score(some.iloc[[i]]) for i in range(len(some))])
    stored = result.scores.set_index("contact_id").loc[some["contact_id"], "propensity"]
    assert np.array_equal(alone["propensity"].to_numpy(), stored.to_numpy())


def test_experiment_grid_covers_every_length_encoding_and_model(contacts):
    from journeys.propensity.experiments import ExperimentSettings, run_experiments

    frame, _ = contacts
    grid = run_experiments(frame, category_codes(), PropensityConfig(**SMALL),
                           ExperimentSettings(train_contacts=3000, lengths=(2,), units=4, epochs=3))
    assert len(grid) == 3 * 2 and not grid.duplicated(["sequence_length", "encoding", "model"]).any()
    assert set(grid["encoding"]) == {"integer", "one_hot", "embedding"} and set(grid["model"]) == {"bilstm",
                                                                                                 "logistic"}
    assert ((grid["ci_lower"] <= grid["roc_auc"]) & (grid["roc_auc"] <= grid["ci_upper"])).all()
    assert (grid["fit_seconds"] > 0).all() and grid["train_contacts"].eq(3000).all()
    assert grid["epochs"].between(1, 3).all()


def test_the_unrolled_last_lstm_layer_computes_what_the_symbolic_loop_computes(contacts, monkeypatch):
    frame, _ = contacts
    config = PropensityConfig(**SMALL)
    encoder = Encoder.fit(frame, config, len(CATEGORIES) + 1)
    inputs = encoder.transform(frame.head(500)).as_keras(encoder.categorical_features)
    assert (inputs["sequence"] == 0).any() and (inputs["sequence"] > 0).all(axis=1).any()  # padded and full rows
    make_deterministic(0)
    unrolled = build_network(encoder, 2, config)
    monkeypatch.setattr(network, "MAX_UNROLLED_STEPS", 0)
    looped = build_network(encoder, 2, config)
    looped.set_weights(unrolled.get_weights())
    assert not unrolled.get_layer("bilstm_1").forward_layer.unroll  # returns every step: stays a loop
    assert unrolled.get_layer("bilstm_2").forward_layer.unroll
    assert not looped.get_layer("bilstm_2").forward_layer.unroll
    np.testing.assert_allclose(predict(unrolled, inputs, 128), predict(looped, inputs, 128), atol=1e-6)


def with_event_windows(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The contacts as an export with page_events holds them: the planted journey stays on the recorded history
    (`recorded_category_codes`), and the sequence becomes an event window: 0 to 4 earlier pages before the
    recorded ones, most of them specialization pages, so the window alone does not say whether a specialization
    came before the signup in the pages that carry the effect."""
    rng = np.random.default_rng(seed)
    recorded = frame["category_codes"]
    earlier = [np.where(rng.random(size) < 0.6, SPECIALIZATION, rng.integers(1, len(CATEGORIES) + 1, size)).tolist()
               for size in (rng.integers(0, 5) if codes else 0 for codes in recorded)]
    window = [before + codes for before, codes in zip(earlier, recorded, strict=True)]
    return frame.assign(recorded_category_codes=recorded, category_codes=window, category_codes_before_conversion=window,
                        category_codes_uncut=window, page_count=[len(w) for w in window])


def test_the_recorded_history_beside_an_event_window_carries_the_journey_the_window_hides(contacts, tmp_path):
    """Beside an event window the network reads the recorded history through a BiLSTM of its own, and gets back
    what the window alone loses; where the sequences are that history, it reads no second copy."""
    frame, probability = contacts
    events = with_event_windows(frame, seed=5)
    truth = pd.DataFrame({"contact_id": frame["contact_id"], "buy_probability": probability})
    config = PropensityConfig(**{**SMALL, "max_sequence_length": 8, "search": ()})
    both = train_and_score(events, category_codes(), config, tmp_path / "both", truth=truth)
    window = train_and_score(events.drop(columns="recorded_category_codes"), category_codes(), config,
                             tmp_path / "window", truth=truth)
    assert both.model.encoder.recorded_length == 4 and "recorded" in both.model.network.input
    assert window.model.encoder.recorded_length == 0 and "recorded" not in window.model.network.input
    gain = metric(both, "bilstm", "roc_auc") - metric(window, "bilstm", "roc_auc")
    assert gain > 0.02, gain
    saved = load_model_folder(both.folder)
    assert saved.encoder.recorded_length == 4
    rescored = saved.score(events).merge(both.scores, on="contact_id", suffixes=("", "_built")).dropna(
        subset=["propensity"])
    assert len(rescored) == len(both.scores)
    assert np.allclose(rescored["propensity"], rescored["propensity_built"], atol=1e-6)
    history = frame.assign(recorded_category_codes=frame["category_codes"])
    encoder = Encoder.fit(history, PropensityConfig(), len(CATEGORIES) + 1)
    assert encoder.recorded_length == 0
