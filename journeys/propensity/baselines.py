"""Baselines trained in the same run on the same split: the majority class and a logistic regression.

Two logistic regressions see what the network sees, minus the order: page category counts (bag of
categories), the same scaled tabular columns and one-hot categoricals; the `_bigrams` variant adds ordered
pairs of consecutive pages, i.e. hand-made order features. If the network cannot beat the first, the
sequence model is not earning its cost; the second shows how much of the order two-page pairs capture.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

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
    rows = np.repeat(np.arange(n), inputs.sequence.shape[1])
    codes = inputs.sequence.ravel()
    present = codes > 0
    blocks = [sp.csr_matrix((np.ones(present.sum()), (rows[present], codes[present] - 1)),
                            shape=(n, vocabulary - 1))]
    if bigrams and inputs.sequence.shape[1] > 1:
        first, second = inputs.sequence[:, :-1].ravel(), inputs.sequence[:, 1:].ravel()
        pair_rows = np.repeat(np.arange(n), inputs.sequence.shape[1] - 1)
        both = (first > 0) & (second > 0)
        pair = (first[both] - 1) * (vocabulary - 1) + (second[both] - 1)
        bigram = sp.csr_matrix((np.ones(both.sum()), (pair_rows[both], pair)), shape=(n, (vocabulary - 1) ** 2))
        bigram.data[:] = 1.0
        blocks.append(bigram)
    blocks.append(sp.csr_matrix(inputs.tabular.astype(np.float64)))
    for j, size in enumerate(encoder.category_sizes().values()):
        blocks.append(sp.csr_matrix((np.ones(n), (np.arange(n), inputs.categorical[:, j])), shape=(n, size)))
    matrix = sp.hstack(blocks, format="csr")
    matrix.sum_duplicates()
    return matrix


def fit_logistic(
    design: sp.csr_matrix, labels: np.ndarray, class_weighting: str, seed: int
) -> LogisticRegression:
    """L2 logistic regression (multinomial when there are more than two classes)."""
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced" if class_weighting == "balanced"
                               else None, random_state=seed)
    return model.fit(design, labels)
