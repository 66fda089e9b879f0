"""Bootstrap 95% intervals of the binary test metrics, and paired differences between two models.

Contacts are resampled with replacement (seeded). A resample is a vector of weights (how often each test
contact was drawn), so every metric of every model is computed on the same resamples in one vectorised pass:
that makes the differences between two models paired.
"""

from __future__ import annotations

import numpy as np

N_RESAMPLES = 1000
LEVEL = 0.95
# Metrics whose interval is not meaningful: fixed by the design, not by the sample.
FIXED_METRICS = ("test_size", "threshold")


def resample_weights(n: int, seed: int, n_resamples: int = N_RESAMPLES) -> np.ndarray:
    """(n_resamples, n) float32 counts of each contact in each resample."""
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, n, size=(n_resamples, n), dtype=np.int64) + (np.arange(n_resamples) * n)[:, None]
    return np.bincount(drawn.ravel(), minlength=n_resamples * n).reshape(n_resamples, n).astype(np.float32)


def weighted_roc_auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC of `scores` under each row of `weights` (ties count one half), shape (n_resamples,)."""
    positive = labels.astype(bool)
    order = np.argsort(scores, kind="stable")
    s, y, w = scores[order], positive[order], weights[:, order]
    group = np.concatenate([[0], np.cumsum(s[1:] != s[:-1])])  # tie groups of equal scores
    w_neg = np.where(~y, w, 0.0)
    w_pos = np.where(y, w, 0.0)
    neg_in_group = _group_sum(w_neg, group)
    neg_below = np.cumsum(neg_in_group, axis=1) - neg_in_group  # negatives strictly below each group
    pos_in_group = _group_sum(w_pos, group)
    pairs = (pos_in_group * (neg_below + 0.5 * neg_in_group)).sum(axis=1)
    total = w_pos.sum(axis=1) * w_neg.sum(axis=1)
    return np.where(total > 0, pairs / np.maximum(total, 1e-12), np.nan)


def weighted_average_precision(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision (scikit-learn's step definition) under each row of `weights`."""
    positive = labels.astype(bool)
    order = np.argsort(-scores, kind="stable")
    s, y, w = scores[order], positive[order], weights[:, order]
    group = np.concatenate([[0], np.cumsum(s[1:] != s[:-1])])
    true_pos = np.cumsum(_group_sum(np.where(y, w, 0.0), group), axis=1)
    all_pos = np.cumsum(_group_sum(w, group), axis=1)
    precision = true_pos / np.maximum(all_pos, 1e-12)
    recall_step = np.diff(true_pos, axis=1, prepend=0.0) / np.maximum(true_pos[:, -1:], 1e-12)
    return (recall_step * precision).sum(axis=1)


def resampled_metrics(
    labels: np.ndarray, positive_probability: np.ndarray, threshold: float, weights: np.ndarray
) -> dict[str, np.ndarray]:
    """Every binary metric of `classification_metrics` (but the fixed ones) under each resample."""
    y = labels.astype(np.float64)
    predicted = (positive_probability >= threshold).astype(np.float64)
    tp, fp = weights @ (predicted * y), weights @ (predicted * (1 - y))
    fn, tn = weights @ ((1 - predicted) * y), weights @ ((1 - predicted) * (1 - y))
    total = weights.sum(axis=1)
    precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-12), 0.0)
    recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1e-12), 0.0)
    constant = np.ptp(positive_probability) == 0
    return {
        "accuracy": (tp + tn) / total,
        "precision": precision,
        "recall": recall,
        "f1": np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12),
                       0.0),
        "roc_auc": np.full(len(weights), 0.5) if constant else weighted_roc_auc(labels, positive_probability,
                                                                               weights),
        "pr_auc": weighted_average_precision(labels, positive_probability, weights),
        "brier": weights @ ((positive_probability - y) ** 2) / total,
        "true_negatives": tn,
        "false_positives": fp,
        "false_negatives": fn,
        "true_positives": tp,
        "positives": tp + fn,
    }


def interval(values: np.ndarray) -> tuple[float, float]:
    """Percentile interval at LEVEL of resampled values (NaN resamples ignored)."""
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _group_sum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Column sums of `values` (n_resamples, n) within consecutive groups, shape (n_resamples, n_groups)."""
    starts = np.flatnonzero(np.concatenate([[True], group[1:] != group[:-1]]))
    return np.add.reduceat(values, starts, axis=1)
