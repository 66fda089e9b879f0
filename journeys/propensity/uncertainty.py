"""Bootstrap 95% intervals of the binary test metrics, and paired differences between two models.

Contacts are resampled with replacement (seeded). A resample is a vector of weights (how often each test
contact was drawn), so every metric of every model is computed on the same resamples in one vectorised pass:
that makes the differences between two models paired.
"""

from __future__ import annotations

import numpy as np

N_RESAMPLES = 1000
LEVEL = 0.95
BLOCK = 50  # resamples per pass: bounds every temporary array to BLOCK x n float64 values


def resample_weights(n: int, seed: int, n_resamples: int = N_RESAMPLES) -> np.ndarray:
    """(n_resamples, n) uint16 counts of each contact in each resample.

    Drawn BLOCK resamples at a time from one seeded stream (the same draws as all at once), and stored as
    small counts: at 10x the test split has 180,000 contacts, and 1,000 float64 resamples of it were 1.5 GB
    per temporary array.
    """
    rng = np.random.default_rng(seed)
    weights = np.empty((n_resamples, n), dtype=np.uint16)
    for start in range(0, n_resamples, BLOCK):
        rows = min(BLOCK, n_resamples - start)
        drawn = rng.integers(0, n, size=(rows, n), dtype=np.int64) + (np.arange(rows) * n)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=rows * n)
        if counts.max(initial=0) > np.iinfo(np.uint16).max:  # never in practice: P(count > 65535) is nil
            raise OverflowError(f"a contact was drawn {counts.max()} times in one resample")
        weights[start:start + rows] = counts.reshape(rows, n)
    return weights


def weighted_roc_auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC of `scores` under each row of `weights` (ties count one half), shape (n_resamples,)."""
    positive = labels.astype(bool)
    order = np.argsort(scores, kind="stable")
    s, y = scores[order], positive[order]
    group = np.concatenate([[0], np.cumsum(s[1:] != s[:-1])])  # tie groups of equal scores

    def block_auc(w: np.ndarray) -> np.ndarray:
        w = w[:, order]
        w_neg = np.where(~y, w, 0.0)
        w_pos = np.where(y, w, 0.0)
        neg_in_group = _group_sum(w_neg, group)
        neg_below = np.cumsum(neg_in_group, axis=1) - neg_in_group  # negatives strictly below each group
        pos_in_group = _group_sum(w_pos, group)
        pairs = (pos_in_group * (neg_below + 0.5 * neg_in_group)).sum(axis=1)
        total = w_pos.sum(axis=1) * w_neg.sum(axis=1)
        return np.where(total > 0, pairs / np.maximum(total, 1e-12), np.nan)

    return np.concatenate([block_auc(w) for w in _blocks(weights)])


def weighted_average_precision(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision (scikit-learn's step definition) under each row of `weights`."""
    positive = labels.astype(bool)
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], positive[order]
    group = np.concatenate([[0], np.cumsum(s[1:] != s[:-1])])

    def block_ap(w: np.ndarray) -> np.ndarray:
        w = w[:, order]
        true_pos = np.cumsum(_group_sum(np.where(y, w, 0.0), group), axis=1)
        all_pos = np.cumsum(_group_sum(w, group), axis=1)
        precision = true_pos / np.maximum(all_pos, 1e-12)
        recall_step = np.diff(true_pos, axis=1, prepend=0.0) / np.maximum(true_pos[:, -1:], 1e-12)
        return (recall_step * precision).sum(axis=1)

    return np.concatenate([block_ap(w) for w in _blocks(weights)])


def resampled_metrics(
    labels: np.ndarray, positive_probability: np.ndarray, threshold: float, weights: np.ndarray
) -> dict[str, np.ndarray]:
    """Every binary metric of `classification_metrics` (but the fixed ones) under each resample."""
    y = labels.astype(np.float64)
    predicted = (positive_probability >= threshold).astype(np.float64)
    cells = np.column_stack([predicted * y, predicted * (1 - y), (1 - predicted) * y, (1 - predicted) * (1 - y),
                             np.ones_like(y), (positive_probability - y) ** 2])
    tp, fp, fn, tn, total, squared_error = np.vstack([w @ cells for w in _blocks(weights)]).T
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
        "brier": squared_error / total,
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


def _blocks(weights: np.ndarray) -> list[np.ndarray]:
    """`weights` as float64 blocks of at most BLOCK resamples (rows)."""
    return [weights[start:start + BLOCK].astype(np.float64) for start in range(0, len(weights), BLOCK)]
