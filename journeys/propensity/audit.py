"""Leakage audit: how well each input alone predicts the label, before any model is trained.

The spec's earlier classifier's label was a function of its own inputs (a specialization page among the slots);
a single input that separates the classes almost perfectly is the signature of that mistake, so the build
stops (or warns) when one crosses `journeys_propensity.leakage_threshold`, and warns from `journeys_propensity.leakage_warning`.
Partial leaks hide in the sequence's details, so pages at each position (counted from the latest) and
ordered pairs of consecutive pages are audited too, as presence indicators.
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
    name_of = {code: category_names.get(code, f"code_{code}") for code in range(1, encoder.vocabulary_size)}
    candidates += [(f"category:{name_of[code]}", "sequence_category",
                    (sequence == code).sum(axis=1).astype(np.float64))
                   for code in range(1, encoder.vocabulary_size)]
    candidates += _position_and_pair_indicators(sequence, lengths, name_of)

    classes = np.unique(labels)
    rows = []
    for name, kind, values in candidates:
        encoded = _rate_encode(values, labels, classes) if kind == "categorical" else None
        best = (0.5, 0.5, classes[-1])
        for k in classes if len(classes) > 2 else classes[-1:]:
            truth = labels == k
            score = encoded[k] if encoded is not None else values
            if np.ptp(score) == 0:
                auc = 0.5
            elif kind in INDICATOR_KINDS:
                auc = _indicator_auc(score, truth)
            else:
                auc = float(roc_auc_score(truth, score))
            if max(auc, 1 - auc) > best[1]:
                best = (auc, max(auc, 1 - auc), k)
        rows.append({"feature": name, "feature_kind": kind, "roc_auc": best[0], "separation": best[1],
                     "strongest_class": int(best[2]), "n_contacts": len(labels)})
    return pd.DataFrame(rows).sort_values("separation", ascending=False, kind="stable").reset_index(drop=True)


INDICATOR_KINDS = ("sequence_position", "sequence_pair")


def _indicator_auc(present: np.ndarray, truth: np.ndarray) -> float:
    """ROC AUC of a 0/1 score in closed form (ties count one half): (1 + TPR - FPR) / 2."""
    on = present > 0
    return float(0.5 + 0.5 * (on[truth].mean() - on[~truth].mean()))


def _position_and_pair_indicators(
    sequence: np.ndarray, lengths: np.ndarray, name_of: dict[int, str]
) -> list[tuple[str, str, np.ndarray]]:
    """Presence indicators of "page X at position i from the latest" and "X then Y", for those that occur."""
    n, width = sequence.shape
    rows = np.arange(n)
    out = []
    for i in range(width):
        at = np.where(lengths > i, sequence[rows, np.maximum(lengths - 1 - i, 0)], 0)
        for code in np.unique(at[at > 0]):
            label = "latest" if i == 0 else f"latest-{i}"
            out.append((f"position:{label}={name_of[int(code)]}", "sequence_position",
                        (at == code).astype(np.float64)))
    if width > 1:
        first, second = sequence[:, :-1], sequence[:, 1:]
        both = (first > 0) & (second > 0)
        pair_code = np.where(both, first * 1000 + second, -1)
        for code in np.unique(pair_code[both]):
            present = (pair_code == code).any(axis=1).astype(np.float64)
            out.append((f"pair:{name_of[int(code // 1000)]}>{name_of[int(code % 1000)]}", "sequence_pair", present))
    return out


def enforce(
    audit: pd.DataFrame, threshold: float, mode: str, class_names: list[str], warning: float | None = None
) -> pd.DataFrame:
    """Flag inputs over the threshold; raise LeakageError naming them (mode 'error') or log a warning.

    Inputs from `warning` up (but not flagged) are marked `warned` and logged: a partial leak worth a look.
    """
    warning = threshold if warning is None else warning
    audit = audit.assign(flagged=audit["separation"] > threshold, threshold=threshold,
                         warned=(audit["separation"] >= warning) & (audit["separation"] <= threshold))
    warned = audit[audit["warned"]]
    if not warned.empty:
        LOG.warning("leakage audit: %d input(s) predict the label on their own from %.2f: %s. Check that they "
                    "are known before the outcome (var journeys_propensity_cutoff).", len(warned), warning,
                    ", ".join(f"{r.feature} ({r.roc_auc:.3f})" for r in warned.head(10).itertuples()))
    flagged = audit[audit["flagged"]]
    if flagged.empty:
        return audit
    named = ", ".join(f"{r.feature} (ROC AUC {r.roc_auc:.3f} for class {class_names[r.strongest_class]})"
                      for r in flagged.itertuples())
    message = (f"leakage audit: {len(flagged)} input(s) predict the label on their own above {threshold}: "
               f"{named}. The label is (almost) a function of these inputs; fix the target or drop them, or "
               "set var journeys_propensity: {leakage_mode: warn} to build anyway.")
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


# The pages and dates after the First Conversion Date are a leak by timing when they raise the best
# baseline's test ROC AUC by this much or more (pipeline's `cutoff_leak`).
TIMING_WARNING = 0.01


def timing_row(
    audit: pd.DataFrame, metrics: pd.DataFrame, baseline: str, cutoff: str, n_contacts: int, threshold: float
) -> pd.DataFrame:
    """The audit with its timing line: `after_first_conversion` holds the best baseline's test ROC AUC WITH
    the pages and dates after the First Conversion Date (var journeys_propensity_cutoff none), `warned` when they
    raise it by TIMING_WARNING or more over the same baseline without them. A single-input audit cannot see
    such a leak: no one input separates the classes, the timing of several does."""
    values = metrics[metrics["model_name"] == baseline].set_index("metric")["value"]
    with_after, jump = float(values["roc_auc_cutoff_none"]), float(values["cutoff_leak"])
    warned = jump >= TIMING_WARNING
    if warned and cutoff == "none":
        LOG.warning("leakage audit: the pages and dates after the First Conversion Date raise %s's test ROC AUC "
                    "by %.3f (%.3f without them): a leak by timing in this build's inputs (var journeys_propensity_cutoff "
                    "is none; first_conversion removes it)", baseline, jump, with_after - jump)
    elif warned:
        LOG.info("leakage audit: the pages and dates after the First Conversion Date would raise %s's test ROC "
                 "AUC by %.3f; var journeys_propensity_cutoff first_conversion keeps them out of the inputs", baseline, jump)
    row = {"feature": "after_first_conversion", "feature_kind": "timing", "roc_auc": with_after,
           "separation": max(with_after, 1 - with_after), "strongest_class": 1, "n_contacts": n_contacts,
           "flagged": False, "threshold": threshold, "warned": bool(warned)}
    return pd.concat([audit, pd.DataFrame([row])], ignore_index=True).sort_values(
        "separation", ascending=False, kind="stable").reset_index(drop=True)
