"""Leakage audit: how well each input alone predicts the label, before any model is trained.

The original classifier's label was a function of its own inputs (a specialization page among the slots);
a single input that separates the classes almost perfectly is the signature of that mistake, so the build
stops (or warns) when one crosses `propensity_leakage_threshold`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from journeys.propensity.data import Encoder, Inputs

LOG = logging.getLogger(__name__)


class LeakageError(RuntimeError):
    """An input predicts the label on its own too well to be an honest feature."""


def audit_inputs(
    inputs: Inputs, labels: np.ndarray, encoder: Encoder, category_names: dict[int, str]
) -> pd.DataFrame:
    """Single-feature ROC AUC of every input and of every page category (seen count) against the label.

    Multi-class labels are audited one class against the rest; the strongest class is reported.
    `separation` = max(AUC, 1 - AUC): an input that predicts the label backwards leaks just as much.
    """
    n_numeric = len(encoder.numeric_features)
    tabular_kinds = ["numeric"] * n_numeric + ["missing_flag"] * n_numeric + ["boolean"] * len(
        encoder.boolean_features)
    candidates = [(name, kind, inputs.tabular[:, j].astype(np.float64))
                  for j, (name, kind) in enumerate(zip(encoder.tabular_names, tabular_kinds, strict=True))]
    candidates += [(name, "categorical", inputs.categorical[:, j])
                   for j, name in enumerate(encoder.categorical_features)]
    sequence = inputs.sequence
    lengths = (sequence > 0).sum(axis=1)
    candidates.append(("sequence_length", "sequence", lengths.astype(np.float64)))
    last = sequence[np.arange(len(sequence)), np.maximum(lengths - 1, 0)]
    candidates.append(("last_page_category", "categorical", last))
    candidates += [(f"category:{category_names.get(code, f'code_{code}')}", "sequence_category",
                    (sequence == code).sum(axis=1).astype(np.float64))
                   for code in range(1, encoder.vocabulary_size)]

    classes = np.unique(labels)
    rows = []
    for name, kind, values in candidates:
        encoded = _rate_encode(values, labels, classes) if kind == "categorical" else None
        best = (0.5, 0.5, classes[-1])
        for k in classes if len(classes) > 2 else classes[-1:]:
            truth = labels == k
            score = encoded[k] if encoded is not None else values
            auc = float(roc_auc_score(truth, score)) if np.ptp(score) > 0 else 0.5
            if max(auc, 1 - auc) > best[1]:
                best = (auc, max(auc, 1 - auc), k)
        rows.append({"feature": name, "feature_kind": kind, "roc_auc": best[0], "separation": best[1],
                     "strongest_class": int(best[2]), "n_contacts": len(labels)})
    return pd.DataFrame(rows).sort_values("separation", ascending=False, kind="stable").reset_index(drop=True)


def enforce(audit: pd.DataFrame, threshold: float, mode: str, class_names: list[str]) -> pd.DataFrame:
    """Flag inputs over the threshold; raise LeakageError naming them (mode 'error') or log a warning."""
    audit = audit.assign(flagged=audit["separation"] > threshold, threshold=threshold)
    flagged = audit[audit["flagged"]]
    if flagged.empty:
        return audit
    named = ", ".join(f"{r.feature} (ROC AUC {r.roc_auc:.3f} for class {class_names[r.strongest_class]})"
                      for r in flagged.itertuples())
    message = (f"leakage audit: {len(flagged)} input(s) predict the label on their own above {threshold}: "
               f"{named}. The label is (almost) a function of these inputs; fix the target or drop them, or "
               "set var propensity_leakage_mode: warn to build anyway.")
    if mode == "error":
        raise LeakageError(message)
    LOG.warning(message)
    return audit


def _rate_encode(values: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> dict[int, np.ndarray]:
    """Replace each categorical value by its share of each class: the best single-feature score it allows."""
    uniques, inverse = np.unique(values, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(uniques)).astype(np.float64)
    return {int(k): (np.bincount(inverse, weights=(labels == k).astype(float), minlength=len(uniques))
                     / counts)[inverse] for k in classes}
