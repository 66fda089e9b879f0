"""Baselines trained in the same run on the same split: majority class, logistic regressions, boosted trees.

Two logistic regressions see what the network sees, minus the order: page category counts (bag of
categories), the same scaled tabular columns and one-hot categoricals; the `_bigrams` variant adds ordered
pairs of consecutive pages, i.e. hand-made order features. If the network cannot beat the first, the
sequence model is not earning its cost; the second shows how much of the order two-page pairs capture.
Gradient-boosted trees see the same inputs plus the page at each position (counted from the latest page),
so interactions, recency and non-adjacent paths are open to them too: the strongest baseline.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from journeys.propensity.data import Encoder, Inputs


class MajorityBaseline:
    """Predicts the training class shares for everyone (ROC AUC 0.5 by construction)."""

    def fit(self, labels: np.ndarray, n_classes: int) -> MajorityBaseline:
        self.prior_ = np.bincount(labels, minlength=n_classes) / len(labels)
        return self

    def predict_proba(self, n_rows: int) -> np.ndarray:
        return np.tile(self.prior_, (n_rows, 1))


def bag_of_categories(inputs: Inputs, encoder: Encoder, bigrams: bool) -> sp.csr_matrix:
    """Sparse design matrix: category counts, ordered bigram presence, tabular block, one-hot categoricals."""
    n, vocabulary = len(inputs.sequence), encoder.vocabulary_size
    blocks = [_category_counts(inputs.sequence, vocabulary)]
    if bigrams and inputs.sequence.shape[1] > 1:
        blocks.append(_ordered_pairs(inputs.sequence, vocabulary))
    if inputs.recorded.shape[1]:  # the recorded history beside an event window: its counts, latest page, pairs
        latest = _from_latest(inputs.recorded, 1)
        blocks += [_category_counts(inputs.recorded, vocabulary), _category_counts(latest, vocabulary)]
        if bigrams and inputs.recorded.shape[1] > 1:
            blocks.append(_ordered_pairs(inputs.recorded, vocabulary))
    blocks.append(sp.csr_matrix(inputs.tabular.astype(np.float64)))
    for j, size in enumerate(encoder.category_sizes().values()):
        blocks.append(sp.csr_matrix((np.ones(n), (np.arange(n), inputs.categorical[:, j])), shape=(n, size)))
    matrix = sp.hstack(blocks, format="csr")
    matrix.sum_duplicates()
    return matrix


def _category_counts(sequence: np.ndarray, vocabulary: int) -> sp.csr_matrix:
    """[n, vocabulary - 1] how often each category appears in each row (0 is padding)."""
    n, length = sequence.shape
    rows, codes = np.repeat(np.arange(n), length), sequence.ravel()
    present = codes > 0
    return sp.csr_matrix((np.ones(present.sum()), (rows[present], codes[present] - 1)), shape=(n, vocabulary - 1))


def _ordered_pairs(sequence: np.ndarray, vocabulary: int) -> sp.csr_matrix:
    """[n, (vocabulary - 1)^2] presence of each ordered pair of consecutive pages."""
    n, length = sequence.shape
    first, second = sequence[:, :-1].ravel(), sequence[:, 1:].ravel()
    pair_rows = np.repeat(np.arange(n), length - 1)
    both = (first > 0) & (second > 0)
    pair = (first[both] - 1) * (vocabulary - 1) + (second[both] - 1)
    bigram = sp.csr_matrix((np.ones(both.sum()), (pair_rows[both], pair)), shape=(n, (vocabulary - 1) ** 2))
    bigram.data[:] = 1.0
    return bigram


def _from_latest(sequence: np.ndarray, length: int) -> np.ndarray:
    """[n, length] the category at each position counted from the latest page (0 = no page)."""
    n = len(sequence)
    if length == 0:
        return np.zeros((n, 0), dtype=sequence.dtype)
    filled = (sequence > 0).sum(axis=1)
    return np.stack([np.where(filled > i, sequence[np.arange(n), np.maximum(filled - 1 - i, 0)], 0)
                     for i in range(length)], axis=1)


def fit_logistic(
    design: sp.csr_matrix, labels: np.ndarray, class_weighting: str, seed: int
) -> LogisticRegression:
    """L2 logistic regression (multinomial when there are more than two classes)."""
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced" if class_weighting == "balanced"
                               else None, random_state=seed)
    return model.fit(design, labels)


def tree_design(inputs: Inputs, encoder: Encoder) -> tuple[np.ndarray, np.ndarray]:
    """Dense matrix for the trees and its categorical-column mask.

    Columns: page category counts, page category at each position from the latest (0 = no page), the same
    for the recorded history when the model reads it, the tabular block, and each categorical input as its
    vocabulary index.
    """
    sequence, recorded = inputs.sequence, inputs.recorded
    length = sequence.shape[1]
    counts = np.stack([(sequence == code).sum(axis=1) for code in range(1, encoder.vocabulary_size)], axis=1)
    from_latest = _from_latest(sequence, length)
    # the recorded history beside an event window: its page at each position from the latest
    recorded_latest = _from_latest(recorded, recorded.shape[1])
    blocks = [counts, from_latest, recorded_latest, inputs.tabular, inputs.categorical]
    categorical = np.concatenate([np.zeros(counts.shape[1], bool), np.ones(length + recorded.shape[1], bool),
                                  np.zeros(inputs.tabular.shape[1], bool),
                                  np.array([size <= MAX_TREE_CATEGORIES for size in encoder.category_sizes().values()],
                                           dtype=bool)])
    return np.hstack([b.astype(np.float64) for b in blocks]), categorical


MAX_TREE_CATEGORIES = 255  # HistGradientBoosting's limit for a native categorical column


def fit_trees(design: np.ndarray, categorical: np.ndarray, labels: np.ndarray, class_weighting: str,
              seed: int) -> HistGradientBoostingClassifier:
    """Histogram gradient boosting, early-stopped on an inner 10% of the training contacts.

    On one OpenMP thread: the build trains the segments beside it (dbt threads), and OpenMP's spinning
    threads on oversubscribed cores made the fit 7 times slower (60 s against 8 s at default size)."""
    model = HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=500, max_leaf_nodes=31, min_samples_leaf=40, l2_regularization=1.0,
        categorical_features=categorical, early_stopping=True, validation_fraction=0.1, n_iter_no_change=20,
        scoring="roc_auc" if len(np.unique(labels)) == 2 else "loss",
        class_weight="balanced" if class_weighting == "balanced" else None, random_state=seed)
    with threadpool_limits(limits=1, user_api="openmp"):
        return model.fit(design, labels)
