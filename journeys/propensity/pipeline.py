"""One propensity run: label, split, audit, baselines, BiLSTM, metrics, artifacts, scores.

Training happens once, in `train_and_score` (called by the `purchase_propensity` dbt model); the run's
metrics, history and audit are stored in the artifact JSON, and the other dbt models read them from there.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from journeys.propensity import audit as leakage
from journeys.propensity.artifacts import (
    SCORE_DECIMALS,
    PropensityModel,
    fingerprint,
    read_meta,
    read_test_predictions,
    save_model,
)
from journeys.propensity.baselines import MajorityBaseline, bag_of_categories, fit_logistic
from journeys.propensity.config import PropensityConfig
from journeys.propensity.data import Encoder, Split, label_contacts, split_contacts
from journeys.propensity.metrics import best_f1_threshold, classification_metrics
from journeys.propensity.network import build_network, make_deterministic, train_network

LOG = logging.getLogger(__name__)
METRIC_COLUMNS = ["model_name", "model_version", "split", "metric", "value"]


@dataclass(frozen=True)
class PropensityRun:
    """Everything one run produced, as the tables the dbt models return."""

    scores: pd.DataFrame
    metrics: pd.DataFrame
    history: pd.DataFrame
    audit: pd.DataFrame
    test_predictions: pd.DataFrame
    model: PropensityModel


def train_and_score(
    features: pd.DataFrame,
    category_codes: pd.DataFrame,
    config: PropensityConfig,
    artifacts_dir: Path | str,
    segments: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
) -> PropensityRun:
    """Fit on contacts with page history, evaluate on the test split, save artifacts, score all with history.

    `category_codes` is the seed `url_category_codes` (category, category_code): it sizes the embedding
    and names the categories in the audit. `truth` (contact_id, buy_probability) adds Bayes-optimal rows.
    """
    started = time.perf_counter()
    make_deterministic(config.seed)
    labelled = label_contacts(features, config, segments)
    labels, n_classes = labelled.labels, len(labelled.class_names)
    split = split_contacts(labels, config)
    vocabulary_size = int(pd.to_numeric(category_codes["category_code"]).max()) + 1
    category_names = dict(zip(pd.to_numeric(category_codes["category_code"]).astype(int),
                              category_codes["category"].astype(str), strict=True))
    encoder = Encoder.fit(labelled.features.iloc[split.train], config, vocabulary_size)
    inputs = encoder.transform(labelled.features)
    LOG.info("propensity: %d contacts with page history and a label (%d without history are not scored), "
             "train/validation/test %d/%d/%d", len(labels), labelled.unscored_without_history,
             len(split.train), len(split.validation), len(split.test))

    audit = leakage.enforce(
        leakage.audit_inputs(inputs.rows(split.train), labels[split.train], encoder, category_names),
        config.leakage_threshold, config.leakage_mode, labelled.class_names)

    binary = n_classes == 2
    probabilities: dict[str, tuple[np.ndarray, float | None]] = {}
    majority = MajorityBaseline().fit(labels[split.train], n_classes)
    probabilities["majority"] = (majority.predict_proba(len(split.test)), None)

    for name, bigrams in (("logistic_regression", False), ("logistic_regression_bigrams", True)):
        design = bag_of_categories(inputs, encoder, bigrams)
        logistic = fit_logistic(design[split.train], labels[split.train], config.class_weighting, config.seed)
        threshold = best_f1_threshold(labels[split.validation],
                                      logistic.predict_proba(design[split.validation])[:, 1]) if binary else None
        probabilities[name] = (logistic.predict_proba(design[split.test]), threshold)
    LOG.info("propensity: baselines fitted in %.1f s", time.perf_counter() - started)

    network = build_network(encoder, n_classes, config)
    keras_inputs = inputs.as_keras(encoder.categorical_features)
    history = train_network(network, (_rows(keras_inputs, split.train), labels[split.train]),
                            (_rows(keras_inputs, split.validation), labels[split.validation]), config)
    train_fingerprint = fingerprint(labelled.features["contact_id"].to_numpy()[split.train], labels[split.train],
                                    inputs.sequence[split.train], inputs.categorical[split.train],
                                    inputs.tabular[split.train])
    version = "bilstm-" + fingerprint(np.frombuffer((train_fingerprint + str(config.to_json())).encode(),
                                                    dtype=np.uint8))[:12]
    model = PropensityModel(version, config.target, labelled.class_names, None, encoder, network)
    if binary:
        validation = np.round(model.probabilities(labelled.features.iloc[split.validation]), SCORE_DECIMALS)
        model.threshold = threshold = best_f1_threshold(labels[split.validation], validation[:, 1])
    else:
        threshold = None
    test_frame = labelled.features.iloc[split.test]
    test_scores = model.score(test_frame)
    probabilities["bilstm"] = (_probabilities_from_scores(model, test_frame, test_scores), threshold)

    if truth is not None and config.target == "any_course":
        probabilities.update(_bayes_optimal(truth, labelled.features, labels, split))

    metrics = pd.DataFrame(
        [(name, version, "test", metric, value)
         for name, (probs, cut) in probabilities.items()
         for metric, value in classification_metrics(labels[split.test], probs, cut).items()],
        columns=METRIC_COLUMNS)
    history_frame = pd.DataFrame(history).assign(model_version=version)
    audit = audit.assign(model_version=version)
    contact_ids = labelled.features["contact_id"].to_numpy()
    predictions = _test_predictions(probabilities, contact_ids[split.test], labels[split.test] == 1, binary)

    with_history = features[features["has_page_history"].fillna(False).astype(bool)]
    split_names = pd.Series("test", index=contact_ids)
    split_names.iloc[split.train], split_names.iloc[split.validation] = "train", "validation"
    scores = add_deciles(model.score(with_history)).assign(
        split=lambda f: f["contact_id"].map(split_names).fillna("unlabelled"),
        model_version=version, target=config.target)
    save_model(model, artifacts_dir, predictions, {
        "config": config.to_json(),
        "training_fingerprint": train_fingerprint,
        "split_sizes": {"train": len(split.train), "validation": len(split.validation), "test": len(split.test)},
        "category_names": {str(k): v for k, v in category_names.items()},
        "metrics": metrics.to_dict(orient="records"),
        "history": history_frame.to_dict(orient="records"),
        "audit": audit.to_dict(orient="records"),
    })
    LOG.info("propensity: %s trained, evaluated, saved and scored %d contacts in %.1f s", version, len(scores),
             time.perf_counter() - started)
    return PropensityRun(scores, metrics, history_frame, audit, predictions, model)


def add_deciles(scores: pd.DataFrame) -> pd.DataFrame:
    """Decile 1..10 of propensity among scored contacts (10 = highest; ties broken by contact_id)."""
    scored = scores["propensity"].notna().to_numpy()
    order = np.lexsort((scores["contact_id"].to_numpy(), scores["propensity"].to_numpy()))
    order = order[scored[order]]
    decile = pd.Series(pd.NA, index=scores.index, dtype="Int64")
    decile.iloc[order] = (np.arange(len(order)) * 10 // max(len(order), 1) + 1).astype(np.int64)
    return scores.assign(decile=decile)


def saved_table(artifacts_dir: Path | str, name: str, version: str) -> pd.DataFrame:
    """A run record (metrics, history, audit, test_predictions) saved by the run, checked against `version`."""
    meta = read_meta(Path(artifacts_dir))
    if meta["version"] != version:
        raise RuntimeError(f"artifacts in {artifacts_dir} hold model {meta['version']} but purchase_propensity "
                           f"was built by {version}: rebuild purchase_propensity")
    if name == "test_predictions":
        return read_test_predictions(Path(artifacts_dir)).assign(model_version=version)
    return pd.DataFrame(meta[name])


def read_truth(raw_dir: Path | str) -> pd.DataFrame | None:
    """The generator's truth.csv (contact_id, buy_probability) when present; None for a real export."""
    path = Path(raw_dir) / "truth.csv"
    if not path.exists():
        return None
    truth = pd.read_csv(path)
    truth.columns = [c.strip().lower().replace(" ", "_") for c in truth.columns]
    missing = {"contact_id", "buy_probability"} - set(truth.columns)
    if missing:
        raise ValueError(f"{path} lacks column(s) {', '.join(sorted(missing))}; has {list(truth.columns)}")
    return truth[["contact_id", "buy_probability"]]


def _rows(named: dict[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    """The same contacts from every named input array."""
    return {name: values[index] for name, values in named.items()}


def _test_predictions(
    probabilities: dict[str, tuple[np.ndarray, float | None]], contact_ids: np.ndarray, positive: np.ndarray,
    binary: bool,
) -> pd.DataFrame:
    """Long table (model_name, contact_id, score, label) of every model's test scores; empty if multi-class."""
    if not binary:
        return pd.DataFrame({"model_name": np.array([], dtype=str), "contact_id": np.array([], np.int64),
                             "score": np.array([], np.float64), "label": np.array([], bool)})
    return pd.DataFrame({
        "model_name": np.repeat(list(probabilities), len(contact_ids)),
        "contact_id": np.tile(contact_ids, len(probabilities)),
        "score": np.concatenate([probs[:, 1] for probs, _ in probabilities.values()]),
        "label": np.tile(positive, len(probabilities)),
    })


def _probabilities_from_scores(model: PropensityModel, frame: pd.DataFrame, scores: pd.DataFrame) -> np.ndarray:
    """Test-split class probabilities exactly as stored (rounded), so metrics describe the stored scores."""
    if len(model.class_names) == 2:
        positive = scores["propensity"].to_numpy(dtype=np.float64)
        return np.column_stack([1 - positive, positive])
    return np.round(model.probabilities(frame), SCORE_DECIMALS)


def _bayes_optimal(
    truth: pd.DataFrame, features: pd.DataFrame, labels: np.ndarray, split: Split
) -> dict[str, tuple[np.ndarray, float]]:
    """The planted buy probability as a model: its test ROC AUC is the Bayes-optimal AUC."""
    probability = features["contact_id"].map(truth.set_index("contact_id")["buy_probability"]).to_numpy(float)
    if np.isnan(probability[np.concatenate([split.validation, split.test])]).any():
        LOG.warning("propensity: truth.csv lacks some test contacts; no Bayes-optimal rows")
        return {}
    cut = best_f1_threshold(labels[split.validation], probability[split.validation])
    LOG.info("propensity: Bayes-optimal test ROC AUC %.4f", roc_auc_score(labels[split.test],
                                                                       probability[split.test]))
    return {"bayes_optimal": (np.column_stack([1 - probability[split.test], probability[split.test]]), cut)}
