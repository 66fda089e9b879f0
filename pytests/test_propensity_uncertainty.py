"""Bootstrap intervals (weighted resamples against scikit-learn on the same resample) and README's figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from journeys.propensity import uncertainty
from journeys.report.figures import results_tables


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    labels = rng.random(3000) < 0.15
    scores = np.round(rng.random(3000) * 0.6 + 0.3 * labels, 2)  # rounded: many ties
    return labels, scores


def test_each_resample_gives_the_metrics_of_the_contacts_it_drew(scored):
    labels, scores = scored
    weights = uncertainty.resample_weights(len(labels), seed=0, n_resamples=5)
    assert (weights.sum(axis=1) == len(labels)).all()
    resampled = uncertainty.resampled_metrics(labels, scores, 0.5, weights)
    for k in range(5):
        drawn = np.repeat(np.arange(len(labels)), weights[k].astype(int))
        y, s = labels[drawn], scores[drawn]
        assert resampled["roc_auc"][k] == pytest.approx(roc_auc_score(y, s), abs=1e-6)
        assert resampled["pr_auc"][k] == pytest.approx(average_precision_score(y, s), abs=1e-6)
        assert resampled["accuracy"][k] == pytest.approx(((s >= 0.5) == y).mean(), abs=1e-6)
        assert resampled["true_positives"][k] == ((s >= 0.5) & y).sum()


def test_intervals_are_seeded_and_cover_the_point(scored):
    labels, scores = scored
    first = uncertainty.resampled_metrics(labels, scores, 0.5, uncertainty.resample_weights(len(labels), 1, 300))
    again = uncertainty.resampled_metrics(labels, scores, 0.5, uncertainty.resample_weights(len(labels), 1, 300))
    assert np.array_equal(first["roc_auc"], again["roc_auc"])
    low, high = uncertainty.interval(first["roc_auc"])
    assert low < roc_auc_score(labels, scores) < high and high - low < 0.08


def test_figures_print_every_model_with_its_interval_and_the_order_effect():
    rows = [("bilstm", "test", "roc_auc", 0.81, 0.80, 0.82), ("bilstm", "test", "pr_auc", 0.4, 0.38, 0.42),
            ("bilstm", "test", "test_size", 100.0, None, None), ("bilstm", "test", "positives", 12.0, None, None),
            ("hist_gradient_boosting", "test", "roc_auc", 0.8, 0.79, 0.81),
            ("bilstm", "test", "roc_auc_gain_over_hist_gradient_boosting", 0.01, -0.002, 0.02),
            ("bilstm", "test", "order_effect", 0.012, 0.004, 0.02),
            ("bilstm", "test", "roc_auc_shuffled_order", 0.798, 0.78, 0.81),
            ("bilstm", "validation", "search_1_roc_auc", 0.8, None, None),
            ("bilstm", "validation", "chosen_setting", 1.0, None, None),
            ("bilstm", "validation", "dropout", 0.2, None, None),
            ("bilstm", "validation", "recurrent_dropout", 0.0, None, None),
            ("bilstm", "validation", "embedding_l2", 1e-4, None, None),
            ("hist_gradient_boosting", "test", "roc_auc_cutoff_first_conversion", 0.8, 0.79, 0.81),
            ("hist_gradient_boosting", "test", "roc_auc_cutoff_none", 0.9, 0.89, 0.91),
            ("hist_gradient_boosting", "test", "cutoff_leak", 0.1, 0.09, 0.11)]
    table = results_tables(pd.DataFrame(rows, columns=["model_name", "split", "metric", "value", "ci_lower",
                                                       "ci_upper"]))
    assert "| BiLSTM | 0.8100 [0.8000, 0.8200] | 0.4000 [0.3800, 0.4200] |  |" in table
    assert "| 0.8000 [0.7900, 0.8100] | n/a | 0.0100 [-0.0020, 0.0200] |" in table
    assert "| BiLSTM (retrained on shuffled pages) | 0.7980 [0.7800, 0.8100] | 0.0120 [0.0040, 0.0200] |" in table
    assert "Validation ROC AUC 0.8000 of the single setting (dropout 0.2, recurrent_dropout 0, embedding_l2 0.0001;" in table
    searched = pd.DataFrame([*rows, ("bilstm", "validation", "search_2_roc_auc", 0.79, None, None)],
                            columns=["model_name", "split", "metric", "value", "ci_lower", "ci_upper"])
    assert ("ROC AUC 0.8000, 0.7900 for the 2 settings of `journeys_propensity.search`; chosen: setting 1 (dropout 0.2, "
            "recurrent_dropout 0, embedding_l2 0.0001)") in results_tables(searched)
    assert "this build's inputs: `journeys_propensity_cutoff: first_conversion`" in table
    assert "| every page and date (`none`) | 0.9000 [0.8900, 0.9100] |" in table
    assert "| jump from what follows the conversion (paired) | 0.1000 [0.0900, 0.1100] |" in table
    with pytest.raises(ValueError, match="no propensity test figures"):
        results_tables(pd.DataFrame(rows[4:], columns=["model_name", "split", "metric", "value", "ci_lower",
                                                       "ci_upper"]))
