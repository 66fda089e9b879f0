"""Models the data cannot train (one class, too few rows, too few distinct contacts) are skipped, not failed.

The build goes on: the model logs one warning line saying why, and each of its tables is written empty with the
columns and types a trained run writes (EMPTY_TABLES), so BI tools and the report see "no rows", never a
missing table or a Python traceback. A test compares these schemas with a real build's tables.
"""

from __future__ import annotations

import logging

import pandas as pd

STRING, INT64, INT32, FLOAT, BOOL = "string", "int64", "int32", "float64", "bool"

EMPTY_TABLES: dict[str, dict[str, str]] = {
    "contact_segments": {"contact_id": INT64, "segment_id": INT32, "dissimilarity": FLOAT, "model_version": STRING},
    "segment_centroids": {
        "segment_id": INT64, "feature": STRING, "feature_type": STRING, "scaled_value": FLOAT, "value": FLOAT,
        "category": STRING, "model_version": STRING,
    },
    "segment_feature_scaling": {
        "feature": STRING, "feature_index": INT64, "source_column": STRING, "scale_mean": FLOAT, "scale_std": FLOAT,
        "category": STRING, "feature_type": STRING, "gamma": FLOAT, "model_version": STRING,
    },
    "segment_profiles": {
        "segment_id": INT64, "segment_name": STRING, "segment_size": INT64, "segment_share": FLOAT, "buyer_rate": FLOAT, "feature": STRING,
        "statistic": STRING, "category": STRING, "rank": FLOAT, "value": FLOAT, "model_version": STRING,
    },
    "segment_comparison": {
        "segment_a": INT64, "segment_b": INT64, "prototype_dissimilarity": FLOAT, "rank": INT64, "feature": STRING,
        "separation": FLOAT, "detail": STRING, "model_version": STRING,
    },
    "segment_k_selection": {
        "cost": FLOAT, "is_chosen": BOOL, "is_elbow": BOOL, "k": INT64, "n_iter": INT64, "sample_size": INT64,
        "selection": STRING, "silhouette": FLOAT, "silhouette_sample_size": INT64, "model_version": STRING,
    },
    "segments": {
        "segment_id": INT32, "segment_name": STRING, "segment_description": STRING, "contacts": INT64,
        "share": FLOAT, "model_version": STRING,
    },
    "segment_metrics": {
        "model_name": STRING, "model_version": STRING, "split": STRING, "metric": STRING, "value": FLOAT,
    },
    "purchase_propensity": {
        "contact_id": INT64, "propensity": FLOAT, "predicted_flag": BOOL, "predicted_class": STRING,
        "decile": INT64, "split": STRING, "target": STRING, "model_version": STRING,
    },
    "metrics": {
        "ci_lower": FLOAT, "ci_upper": FLOAT, "metric": STRING, "model_name": STRING, "model_version": STRING,
        "split": STRING, "value": FLOAT,
    },
    "history": {
        "auc": FLOAT, "epoch": INT64, "is_best_epoch": BOOL, "loss": FLOAT, "model_version": STRING,
        "val_auc": FLOAT, "val_loss": FLOAT,
    },
    "audit": {
        "feature": STRING, "feature_kind": STRING, "flagged": BOOL, "model_version": STRING, "n_contacts": INT64,
        "roc_auc": FLOAT, "separation": FLOAT, "strongest_class": INT64, "threshold": FLOAT, "warned": BOOL,
    },
    "test_predictions": {
        "model_name": STRING, "contact_id": INT64, "score": FLOAT, "label": BOOL, "model_version": STRING,
    },
}  # fmt: skip


class CannotTrain(ValueError):
    """The data cannot train this model (the message says why and what would help)."""


def empty_table(name: str) -> pd.DataFrame:
    """Table `name` (a key of EMPTY_TABLES) with no rows and a trained run's columns and types."""
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in EMPTY_TABLES[name].items()})


def skipped(log: logging.Logger, model: str, reason: CannotTrain, table: str) -> pd.DataFrame:
    """Log the one warning line of a skipped model; return its empty `table`."""
    log.warning("%s skipped: %s; its tables are left empty and the build goes on", model, reason)
    return empty_table(table)
