"""The numbers behind the propensity curves: exact ROC / PR vertices, the points a straight run can drop,
seeded bootstrap bands and calibration bins. Vectorised NumPy, no drawing."""

from __future__ import annotations

import numpy as np
import pandas as pd

BOOTSTRAP_REPLICATES = 200
BOOTSTRAP_SEED = 0
BAND_GRID = np.linspace(0.0, 1.0, 201)
CALIBRATION_BINS = 10


def curves(labels: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    """ROC (fpr, tpr) and PR (recall, precision) points at every distinct score, with its threshold."""
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_labels = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    tp = np.cumsum(sorted_labels)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    positives, negatives = max(int(labels.sum()), 1), max(int((~labels).sum()), 1)
    return {
        "tp": np.r_[0, tp],
        "fp": np.r_[0, fp],
        "threshold": np.r_[np.inf, sorted_scores[last_of_tie]],
        "fpr": np.r_[0.0, fp / negatives],
        "tpr": np.r_[0.0, tp / positives],
        "recall": np.r_[0.0, tp / positives],
        "precision": np.r_[tp[0] / max(tp[0] + fp[0], 1), tp / (tp + fp)],
    }


def corners(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points that are not inside a straight run (collinear interior points carry no shape):
    the drawn curve is exactly the full curve. x, y: integer counts, so the test is exact."""
    dx, dy = np.diff(x), np.diff(y)
    turns = dx[:-1] * dy[1:] - dy[:-1] * dx[1:] != 0
    return np.flatnonzero(np.r_[True, turns, True])


def bootstrap_weights(n: int) -> np.ndarray:
    """Poisson(1) weights of n contacts in each replicate, seeded: the same resamples for every model."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    return rng.poisson(1.0, size=(BOOTSTRAP_REPLICATES, n)).astype(np.int32)


def bootstrap_bands(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Pointwise 95% bootstrap bands: TPR at each FPR of BAND_GRID, precision at each recall of BAND_GRID.
    weights: one row per replicate, one column per contact (bootstrap_weights)."""
    order = np.argsort(-scores, kind="stable")
    sorted_labels = labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores[order])), len(scores) - 1]
    sorted_weights = weights[:, order]
    tp = np.cumsum(sorted_weights * sorted_labels, axis=1, dtype=np.int32)[:, last_of_tie].astype(float)
    fp = np.cumsum(sorted_weights, axis=1, dtype=np.int32)[:, last_of_tie] - tp
    tpr, fpr = tp / np.maximum(tp[:, -1:], 1), fp / np.maximum(fp[:, -1:], 1)
    precision = tp / np.maximum(tp + fp, 1)
    roc = np.array(
        [np.interp(BAND_GRID, np.r_[0.0, f], np.r_[0.0, t]) for f, t in zip(fpr, tpr, strict=True)]
    )
    at_recall = np.array(
        [
            p[np.minimum(np.searchsorted(t, BAND_GRID, side="left"), len(t) - 1)]
            for t, p in zip(tpr, precision, strict=True)
        ]
    )
    bands = {}
    for name, values in (("tpr", roc), ("precision", at_recall)):
        bands[f"{name}_low"], bands[f"{name}_high"] = np.percentile(values, [2.5, 97.5], axis=0)
    return bands


def run_ends(values: np.ndarray) -> np.ndarray:
    """First and last index of every run of equal values (a vertical stretch of the PR curve)."""
    change = np.flatnonzero(np.diff(values) != 0)
    return np.unique(np.r_[0, change, change + 1, len(values) - 1])


def calibration_bins(labels: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Equal-count bins of the score: mean predicted, observed rate with a 95% normal interval, contacts."""
    ranks = pd.Series(scores).rank(method="first").to_numpy()
    bins = np.minimum((ranks - 1) * CALIBRATION_BINS // len(scores), CALIBRATION_BINS - 1).astype(int)
    frame = pd.DataFrame({"bin": bins, "score": scores, "label": labels.astype(float)})
    grouped = frame.groupby("bin").agg(
        predicted=("score", "mean"), observed=("label", "mean"), n=("label", "size")
    )
    grouped["half_width"] = 1.96 * np.sqrt(grouped["observed"] * (1 - grouped["observed"]) / grouped["n"])
    return grouped
