"""Planted signal: truth AUC, achievable ARI, order-aware buying, and the evaluation helpers' contracts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import planted_signal as evaluation
import pytest
from sklearn.metrics import roc_auc_score

from journeys.synth import catalog, url_templates, write_export
from journeys.synth.buying import buy_logit
from journeys.synth.planted_segments import SEGMENT_NAMES

N = 30_000
SEED = 21


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame, dict, Path]:
    out = tmp_path_factory.mktemp("synth_planted")
    summary = write_export(out, n_contacts=N, seed=SEED, dirt=False)
    return evaluation.features_from_export(out), pd.read_csv(out / "truth.csv"), summary, out


def test_truth_auc_and_buyer_rates_are_in_the_planted_ranges(planted):
    features, truth, summary, _ = planted
    signal = evaluation.planted_signal(truth, features)
    # Stated ranges: overall AUC 0.86-0.95 (history separates most buyers), 0.74-0.88 with history.
    assert 0.86 <= signal["truth_auc"] <= 0.95
    assert 0.74 <= signal["truth_auc_with_history"] <= 0.88
    assert 0.10 <= signal["buyer_rate_with_history"] <= 0.20
    assert abs(signal["buyer_rate"] - catalog.SPEC_BUYERS / catalog.SPEC_CONTACTS) < 0.006
    assert signal["buyer_rate_with_history"] == pytest.approx(summary["buyer_rate_with_history"])
    assert features["is_buyer"].sum() == truth["is_buyer"].sum() == summary["buyers"]


def test_planted_segments_are_recoverable_by_k_prototypes(planted):
    features, truth, _, _ = planted
    ari = evaluation.achievable_ari(features, truth)
    assert ari["ari_planted_prototypes"] >= 0.9
    assert ari["ari_refit"] >= 0.9
    assert truth["segment"].nunique() == len(SEGMENT_NAMES) >= 5


def test_shuffled_segments_are_not_recoverable(planted):
    features, truth, _, _ = planted
    shuffled = truth.assign(segment=truth["segment"].sample(frac=1, random_state=0).to_numpy())
    assert evaluation.achievable_ari(features, shuffled)["ari_refit"] < 0.5


def test_bayes_auc_on_a_subset_and_its_error(planted):
    _, truth, _, _ = planted
    subset = truth["contact_id"].to_numpy()[::3]
    rows = truth.iloc[::3]
    assert evaluation.bayes_auc(truth, subset) == pytest.approx(
        roc_auc_score(rows["is_buyer"], rows["buy_probability"])
    )
    non_buyers = truth.loc[~truth["is_buyer"], "contact_id"].to_numpy()
    with pytest.raises(ValueError, match="one class"):
        evaluation.bayes_auc(truth, non_buyers)


def test_specialization_before_course_signup_weighs_more_than_the_reverse():
    n_segments = len(SEGMENT_NAMES)
    spec, signup = catalog.PAGE["specialization"], catalog.PAGE["course signup"]
    segment = np.arange(n_segments)
    country = np.zeros(n_segments, dtype=int)
    sessions = np.full(n_segments, 2)
    forward = np.tile([spec, signup, -1, -1], (n_segments, 1))
    reverse = np.tile([signup, spec, -1, -1], (n_segments, 1))
    assert (
        buy_logit(segment, country, sessions, forward) > buy_logit(segment, country, sessions, reverse) + 1
    ).all()
    # Inside a longer journey the swap matters too.
    home = catalog.PAGE["home"]
    longer = np.tile([home, spec, signup, home], (n_segments, 1))
    swapped = np.tile([home, signup, spec, home], (n_segments, 1))
    assert (
        buy_logit(segment, country, sessions, longer) > buy_logit(segment, country, sessions, swapped)
    ).all()


def test_shuffling_pages_costs_truth_at_least_two_points_of_auc(planted):
    features, truth, _, _ = planted
    with_history = features.loc[features["has_page_history"].astype(bool), "contact_id"].to_numpy()
    assert evaluation.truth_order_effect(truth, with_history) >= 0.02


def test_non_adjacent_specialization_before_signup_and_the_latest_page_carry_weight():
    spec, signup, home = catalog.PAGE["specialization"], catalog.PAGE["course signup"], catalog.PAGE["home"]
    one = np.zeros(2, dtype=int)
    # A page between them: no adjacent pair links specialization and signup, the path still counts.
    apart = np.array([[spec, home, signup, -1], [signup, home, spec, -1]])
    logit = buy_logit(one, one, np.full(2, 3), apart)
    assert logit[0] > logit[1] + 1
    # The same two pages: the one seen last weighs more.
    latest = np.array([[home, spec, -1, -1], [spec, home, -1, -1]])
    logit = buy_logit(one, one, np.full(2, 2), latest)
    assert logit[0] > logit[1] + 0.5


def test_buying_depends_on_segment_country_and_sessions():
    pages = np.full((3, 4), -1)
    segment = np.array([SEGMENT_NAMES.index("engaged_learners"), SEGMENT_NAMES.index("dormant"), 0])
    logit = buy_logit(segment, np.zeros(3, dtype=int), np.ones(3, dtype=int), pages)
    assert logit[0] > logit[1]
    us, cn = list(catalog.COUNTRY_CODES).index("us"), list(catalog.COUNTRY_CODES).index("cn")
    by_country = buy_logit(np.zeros(2, dtype=int), np.array([us, cn]), np.ones(2, dtype=int), pages[:2])
    assert by_country[0] > by_country[1]
    by_sessions = buy_logit(np.zeros(2, dtype=int), np.zeros(2, dtype=int), np.array([1, 8]), pages[:2])
    assert by_sessions[1] > by_sessions[0]


def test_features_from_export_reads_journeys_oldest_first(planted):
    features, _, _, out = planted
    history = pd.read_csv(out / "pageview_hist.csv", dtype=str, keep_default_na=False)
    history["contact_id"] = history["Contact ID"].astype(int)
    merged = features.merge(history, on="contact_id")
    pages = merged[list(evaluation.PAGE_COLUMNS)].to_numpy()
    count = merged["page_count"].to_numpy()
    assert ((pages >= 0).sum(axis=1) == count).all()
    newest = pages[np.arange(len(pages)), np.maximum(count - 1, 0)]
    with_pages = count > 0
    assert with_pages.sum() > 1_000
    current = url_templates.page_type_of(merged.loc[with_pages, "Last Page Seen Current Value"].to_numpy(object))
    assert (newest[with_pages] == current).all()
    oldest_slot = merged.loc[count == 4, "..."].to_numpy(object)
    assert (pages[count == 4, 0] == url_templates.page_type_of(oldest_slot)).all()
    assert features["has_page_history"].equals(features["page_count"] > 0)
    assert features["contact_id"].is_unique
