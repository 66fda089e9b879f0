"""Test-split metrics shared by the network and the baselines, and the validation-chosen threshold."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)


def best_f1_threshold(labels: np.ndarray, positive_probability: np.ndarray) -> float:
    """The probability cut that maximises F1 on the given (validation) contacts."""
    precision, recall, thresholds = precision_recall_curve(labels, positive_probability)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return float(thresholds[int(np.argmax(f1[:-1]))]) if len(thresholds) else 0.5


def predict_classes(probabilities: np.ndarray, threshold: float | None) -> np.ndarray:
    """Binary: positive when P(class 1) >= threshold; multi-class: the most probable class."""
    if probabilities.shape[1] == 2 and threshold is not None:
        return (probabilities[:, 1] >= threshold).astype(np.int64)
    return probabilities.argmax(axis=1).astype(np.int64)


def classification_metrics(
    labels: np.ndarray, probabilities: np.ndarray, threshold: float | None
) -> dict[str, float]:
    """Accuracy, precision, recall, F1, ROC AUC, PR AUC, Brier, confusion cells, sizes.

    Multi-class: precision / recall / F1 / ROC AUC / PR AUC are macro averages (one class against the rest),
    Brier is the mean squared distance to the one-hot label summed over classes; no confusion cells.
    """
    n_classes = probabilities.shape[1]
    predicted = predict_classes(probabilities, threshold)
    onehot = np.eye(n_classes)[labels]
    binary = n_classes == 2
    average = "binary" if binary else "macro"
    precision, recall, f1, _ = precision_recall_fscore_support(labels, predicted, average=average, zero_division=0)
    constant = np.ptp(probabilities, axis=0).max() == 0
    if binary:
        roc = 0.5 if constant else roc_auc_score(labels, probabilities[:, 1])
        pr = average_precision_score(labels, probabilities[:, 1])
        brier = float(np.mean((probabilities[:, 1] - labels) ** 2))
    else:
        roc = 0.5 if constant else roc_auc_score(labels, probabilities, multi_class="ovr", average="macro",
                                                 labels=np.arange(n_classes))
        pr = average_precision_score(onehot, probabilities, average="macro")
        brier = float(np.mean(((probabilities - onehot) ** 2).sum(axis=1)))
    out = {
        "accuracy": float(accuracy_score(labels, predicted)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": float(roc),
        "pr_auc": float(pr),
        "brier": brier,
        "test_size": float(len(labels)),
    }
    if binary:
        tn, fp, fn, tp = confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
        out.update(true_negatives=float(tn), false_positives=float(fp), false_negatives=float(fn),
                   true_positives=float(tp), positives=float(labels.sum()),
                   threshold=float(threshold if threshold is not None else 0.5))
    else:
        out["classes"] = float(n_classes)
    return out
