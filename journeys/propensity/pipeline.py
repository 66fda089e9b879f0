"""One propensity run: label, split, audit, baselines, BiLSTM, metrics, artifacts, scores.

Training happens once, in `train_and_score` (called by the `purchase_propensity` dbt model); the run's
metrics, history and audit are stored in the artifact JSON, and the other dbt models read them from there.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from journeys.contract import ScoringContext
from journeys.propensity import audit as leakage
from journeys.propensity.artifacts import (
    MODEL_NAME,
    PREDICT_BATCH,
    SCORE_DECIMALS,
    PropensityModel,
    fingerprint,
    read_meta,
    read_test_predictions,
    save_model,
)
from journeys.propensity.baselines import (
    MajorityBaseline,
    bag_of_categories,
    fit_logistic,
    fit_trees,
    tree_design,
)
from journeys.propensity.config import CUTOFFS, SEARCHED, PropensityConfig
from journeys.propensity.data import (
    SEQUENCE_COLUMNS,
    Encoder,
    Inputs,
    LabelledContacts,
    Split,
    label_contacts,
    split_contacts,
)
from journeys.propensity.metrics import best_f1_threshold, classification_metrics
from journeys.propensity.network import (
    build_network,
    float64_copy,
    keras,
    make_deterministic,
    predict,
    train_network,
)
from journeys.propensity.uncertainty import interval, resample_weights, resampled_metrics, weighted_roc_auc
from journeys.runs import registry

LOG = logging.getLogger(__name__)
METRIC_COLUMNS = ["model_name", "model_version", "split", "metric", "value", "ci_lower", "ci_upper"]
# The BiLSTM's paired ROC AUC gain over each of these is reported with its interval.
BASELINES_TO_BEAT = ("logistic_regression", "logistic_regression_bigrams", "hist_gradient_boosting")
# Refitted on the other var journeys_propensity_cutoff's inputs to measure a leak by timing: cheap (seconds), and it
# sees order through page pairs.
CUTOFF_BASELINE = "logistic_regression_bigrams"


@dataclass(frozen=True)
class PropensityRun:
    """Everything one run produced, as the tables the dbt models return."""

    scores: pd.DataFrame
    metrics: pd.DataFrame
    history: pd.DataFrame
    audit: pd.DataFrame
    test_predictions: pd.DataFrame
    model: PropensityModel
    folder: Path  # the version's folder the model was saved in (not yet current: journeys.runs.registry.adopt)


def train_and_score(
    features: pd.DataFrame,
    category_codes: pd.DataFrame,
    config: PropensityConfig,
    artifacts_dir: Path | str,
    segments: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
    context: ScoringContext | None = None,
) -> PropensityRun:
    """Fit on contacts with page history, evaluate on the test split, save artifacts, score all with history.

    `category_codes` is the seed `url_category_codes` (category, category_code): it sizes the embedding
    and names the categories in the audit. `truth` (contact_id, buy_probability[, buy_probability_shuffled])
    adds Bayes-optimal rows and truth's own order effect. `context` (the build's seeds and vars) is saved with
    the model for the service.
    """
    started = time.perf_counter()
    make_deterministic(config.seed)
    data = _modelling_data(features, category_codes, config, segments)
    labels, split = data.labelled.labels, data.split
    audit = leakage.enforce(
        leakage.audit_inputs(data.inputs.rows(split.train), labels[split.train], data.encoder, data.category_names),
        config.leakage_threshold, config.leakage_mode, data.labelled.class_names, config.leakage_warning)

    binary = len(data.labelled.class_names) == 2
    probabilities = _baselines(data.inputs, data.encoder, labels, split, config, binary)
    comparison = (_cutoff_comparison(data.labelled.features, labels, split, config, data.vocabulary_size)
                  if binary else None)
    LOG.info("propensity: baselines fitted in %.1f s", time.perf_counter() - started)

    chosen, model, history, search = _fit_model(data, config, context)
    test_frame = data.labelled.features.iloc[split.test]
    probabilities["bilstm"] = (_probabilities_from_scores(model, test_frame, model.score(test_frame)), model.threshold)
    if truth is not None and config.target == "any_course":
        probabilities.update(_bayes_optimal(truth, data.labelled.features, labels, split))

    metrics = pd.concat([
        _metrics_table(probabilities, labels[split.test], model.version, config.seed,
                       _order_effect_network(data, history, chosen) if binary else None,
                       _truth_shuffled(truth, data.labelled.features, split) if "bayes_optimal" in probabilities
                       else None, comparison),
        _search_rows(search, chosen, model.version),
    ], ignore_index=True)
    history_frame = pd.DataFrame(history).assign(model_version=model.version)
    if comparison is not None:
        audit = leakage.timing_row(audit, metrics, comparison.baseline, config.cutoff, len(split.test),
                                   config.leakage_threshold)
    audit = audit.assign(model_version=model.version)
    contact_ids = data.labelled.features["contact_id"].to_numpy()
    predictions = _test_predictions(probabilities, contact_ids[split.test], labels[split.test] == 1, binary)
    scores = _scores(model, features, data, config)
    incoming = registry.incoming_folder(artifacts_dir, MODEL_NAME)
    save_model(model, incoming, predictions, {
        "config": chosen.to_json(),
        "training_fingerprint": data.fingerprint,
        "split_sizes": {"train": len(split.train), "validation": len(split.validation), "test": len(split.test)},
        "category_names": {str(k): v for k, v in data.category_names.items()},
        "metrics": _records(metrics),
        "history": history_frame.to_dict(orient="records"),
        "audit": audit.to_dict(orient="records"),
    })
    folder = registry.commit(artifacts_dir, MODEL_NAME, incoming, model.version)
    LOG.info("propensity: %s trained, evaluated, saved and scored %d contacts in %.1f s", model.version,
             len(scores), time.perf_counter() - started)
    return PropensityRun(scores, metrics, history_frame, audit, predictions, model, folder)


@dataclass(frozen=True)
class ModellingData:
    """The labelled contacts of the (capped) split, encoded: what every model of the run is fitted on."""

    everyone: LabelledContacts  # every contact with page history and a label (scored, sampled or not)
    labelled: LabelledContacts  # those of the split, positions renumbered
    split: Split
    encoder: Encoder
    inputs: Inputs
    vocabulary_size: int
    category_names: dict[int, str]
    fingerprint: str  # of the training rows: contacts, labels and inputs


def _modelling_data(features: pd.DataFrame, category_codes: pd.DataFrame, config: PropensityConfig,
                    segments: pd.DataFrame | None) -> ModellingData:
    """Label, split (capped by train_rows), fit the encoder on the training contacts, encode everyone."""
    everyone = label_contacts(features, config, segments)
    labelled, split = modelling_sample(everyone, split_contacts(everyone.labels, config))
    codes = pd.to_numeric(category_codes["category_code"]).astype(int)
    encoder = Encoder.fit(labelled.features.iloc[split.train], config, int(codes.max()) + 1)
    inputs = encoder.transform(labelled.features)
    LOG.info("propensity: %d contacts with page history and a label, train/validation/test %d/%d/%d",
             len(labelled.labels), len(split.train), len(split.validation), len(split.test))
    train = split.train
    fingerprint_of_training = fingerprint(labelled.features["contact_id"].to_numpy()[train], labelled.labels[train],
                                          inputs.sequence[train], inputs.categorical[train], inputs.tabular[train],
                                          inputs.recorded[train])
    return ModellingData(everyone, labelled, split, encoder, inputs, int(codes.max()) + 1,
                         dict(zip(codes, category_codes["category"].astype(str), strict=True)), fingerprint_of_training)


def _fit_model(data: ModellingData, config: PropensityConfig, context: ScoringContext | None) -> tuple[
        PropensityConfig, PropensityModel, list[dict[str, float]], list[tuple[dict[str, float], float]]]:
    """The BiLSTM of the best search setting, its version (training data + settings) and, for a binary target,
    its decision threshold: the F1-maximising cut of its stored (rounded) validation scores."""
    labels, split = data.labelled.labels, data.split
    keras_inputs = data.inputs.as_keras(data.encoder.categorical_features)
    n_classes = len(data.labelled.class_names)
    chosen, network, history, search = _select_network(data.encoder, n_classes, keras_inputs, labels, split, config)
    version = "bilstm-" + fingerprint(np.frombuffer((data.fingerprint + str(config.to_json())).encode(),
                                                    dtype=np.uint8))[:12]
    threshold = None
    if n_classes == 2:
        validation = np.round(predict(float64_copy(network), _rows(keras_inputs, split.validation),
                                      PREDICT_BATCH), SCORE_DECIMALS)
        threshold = best_f1_threshold(labels[split.validation], validation[:, 1])
    model = PropensityModel(version, config.target, data.labelled.class_names, threshold, data.encoder, network,
                            data.category_names, context)
    return chosen, model, history, search


def _order_effect_network(data: ModellingData, history: list[dict[str, float]],
                          chosen: PropensityConfig) -> np.ndarray | None:
    """Test P(positive) of the network retrained on shuffled pages, as many epochs as the kept network's best
    (early stopping still keeps the shuffled one's best); None for one-page sequences."""
    if data.encoder.max_sequence_length <= 1:
        return None
    best_epoch = next(h["epoch"] for h in history if h["is_best_epoch"])
    return _shuffled_order_network(data.encoder, len(data.labelled.class_names), data.inputs, data.labelled.labels,
                                   data.split, replace(chosen, epochs=int(best_epoch)))


def _scores(model: PropensityModel, features: pd.DataFrame, data: ModellingData,
            config: PropensityConfig) -> pd.DataFrame:
    """purchase_propensity: every contact with page history scored, with its decile and its split (`unsampled`
    for a labelled contact the capped split left out, `unlabelled` for one without a label)."""
    with_history = features[features["has_page_history"].fillna(False).astype(bool)]
    contact_ids = data.labelled.features["contact_id"].to_numpy()
    split_names = pd.Series("unsampled", index=data.everyone.features["contact_id"].to_numpy())
    for name in ("train", "validation", "test"):
        split_names.loc[contact_ids[getattr(data.split, name)]] = name
    return add_deciles(model.score(with_history)).assign(
        split=lambda f: f["contact_id"].map(split_names).fillna("unlabelled"),
        model_version=model.version, target=config.target)


def modelling_sample(labelled: LabelledContacts, split: Split) -> tuple[LabelledContacts, Split]:
    """Only the contacts of the (capped) split, with the split's positions renumbered: encoding, baselines,
    training and evaluation never touch the labelled contacts a capped split leaves out (they are scored)."""
    used = np.sort(np.concatenate([split.train, split.validation, split.test]))
    position = np.full(len(labelled.labels), -1, dtype=np.int64)
    position[used] = np.arange(len(used))
    sample = LabelledContacts(labelled.features.iloc[used].reset_index(drop=True), labelled.labels[used],
                              labelled.class_names)
    return sample, Split(position[split.train], position[split.validation], position[split.test])


def _baselines(
    inputs: Inputs, encoder: Encoder, labels: np.ndarray, split: Split, config: PropensityConfig, binary: bool
) -> dict[str, tuple[np.ndarray, float | None]]:
    """Test probabilities and validation-chosen thresholds of the majority, logistic and tree baselines."""
    probabilities: dict[str, tuple[np.ndarray, float | None]] = {}
    majority = MajorityBaseline().fit(labels[split.train], len(np.unique(labels)))
    probabilities["majority"] = (majority.predict_proba(len(split.test)), None)
    for name in BASELINES_TO_BEAT:
        estimator, design = _fit_baseline(name, inputs, encoder, labels, split, config)
        threshold = best_f1_threshold(labels[split.validation],
                                      estimator.predict_proba(design[split.validation])[:, 1]) if binary else None
        probabilities[name] = (estimator.predict_proba(design[split.test]), threshold)
    return probabilities


def _fit_baseline(
    name: str, inputs: Inputs, encoder: Encoder, labels: np.ndarray, split: Split, config: PropensityConfig
) -> tuple[Any, Any]:
    """One baseline of BASELINES_TO_BEAT fitted on the training contacts, with its design for every contact."""
    if name == "hist_gradient_boosting":
        design, categorical = tree_design(inputs, encoder)
        return fit_trees(design[split.train], categorical, labels[split.train], config.class_weighting,
                         config.seed), design
    design = bag_of_categories(inputs, encoder, bigrams=name == "logistic_regression_bigrams")
    return fit_logistic(design[split.train], labels[split.train], config.class_weighting, config.seed), design


@dataclass(frozen=True)
class CutoffComparison:
    """The best baseline refitted on the other cutoff's inputs: its test P(positive) there."""

    baseline: str
    other_cutoff: str
    test_probability: np.ndarray


def _cutoff_comparison(
    features: pd.DataFrame, labels: np.ndarray, split: Split, config: PropensityConfig, vocabulary_size: int
) -> CutoffComparison | None:
    """Refit CUTOFF_BASELINE on the inputs of the other var journeys_propensity_cutoff (same contacts, same split): its
    test ROC AUC with and without the pages and dates after the First Conversion Date shows a leak by timing
    as a jump, without training the network twice."""
    other = next(c for c in CUTOFFS if c != config.cutoff)
    column = SEQUENCE_COLUMNS[other]
    if column not in features:
        LOG.info("propensity: contact_features has no %s; no cutoff comparison", column)
        return None
    other_config = replace(config, cutoff=other)
    encoder = Encoder.fit(features.iloc[split.train], other_config, vocabulary_size)
    inputs = encoder.transform(features, sequence_column=column)
    estimator, design = _fit_baseline(CUTOFF_BASELINE, inputs, encoder, labels, split, other_config)
    return CutoffComparison(CUTOFF_BASELINE, other, estimator.predict_proba(design[split.test])[:, 1])


def _select_network(
    encoder: Encoder, n_classes: int, keras_inputs: dict[str, np.ndarray], labels: np.ndarray, split: Split,
    config: PropensityConfig,
) -> tuple[PropensityConfig, keras.Model, list[dict[str, float]], list[tuple[dict[str, float], float]]]:
    """Pick the search setting with the best validation ROC AUC (test unseen), then train it once on every
    training contact. Search candidates train on a seeded, stratified subsample of at most
    `search_train_contacts` training contacts (all when 0), validated on the whole validation split: the
    search ranks settings, the final fit uses all the data. A single setting skips the search."""
    settings = config.settings()
    search: list[tuple[dict[str, float], float]] = []
    chosen = config.with_setting(settings[0])
    if len(settings) > 1:
        subsample = search_subsample(labels, split.train, config.search_train_contacts, config.seed)
        best: tuple[float, keras.Model, list[dict[str, float]]] | None = None
        for setting in settings:
            candidate = config.with_setting(setting)
            make_deterministic(config.seed)
            network = build_network(encoder, n_classes, candidate)
            history = train_network(network, (_rows(keras_inputs, subsample), labels[subsample]),
                                    (_rows(keras_inputs, split.validation), labels[split.validation]), candidate)
            validation_auc = max(h["val_auc"] for h in history)
            search.append((setting, validation_auc))
            LOG.info("propensity search (%d training contacts): %s -> validation ROC AUC %.4f", len(subsample),
                     setting, validation_auc)
            if best is None or validation_auc > best[0]:
                best, chosen = (validation_auc, network, history), candidate
        if best is not None and len(subsample) == len(split.train):  # the search already fitted it on all
            return chosen, best[1], best[2], search
    make_deterministic(config.seed)
    network = build_network(encoder, n_classes, chosen)
    history = train_network(network, (_rows(keras_inputs, split.train), labels[split.train]),
                            (_rows(keras_inputs, split.validation), labels[split.validation]), chosen)
    if not search:
        search.append((settings[0], max(h["val_auc"] for h in history)))
    return chosen, network, history, search


def search_subsample(labels: np.ndarray, train: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted training positions of a seeded subsample stratified by label (all of them when size is 0 or
    not smaller than the training split)."""
    if size <= 0 or size >= len(train):
        return train
    kept, _ = train_test_split(train, train_size=size, stratify=labels[train], random_state=seed)
    return np.sort(kept)


def _shuffled_order_network(
    encoder: Encoder, n_classes: int, inputs: Inputs, labels: np.ndarray, split: Split, config: PropensityConfig
) -> np.ndarray:
    """Test P(positive) of the same network trained and evaluated on each contact's pages shuffled (the event
    window and, beside it, the recorded history, each within itself)."""
    rng = np.random.default_rng(config.shuffle_seed)

    def shuffle(sequence: np.ndarray) -> np.ndarray:
        keys = np.where(sequence > 0, rng.random(sequence.shape), 2.0)
        return np.take_along_axis(sequence, np.argsort(keys, axis=1, kind="stable"), axis=1)

    shuffled = Inputs(shuffle(inputs.sequence), inputs.categorical, inputs.tabular, shuffle(inputs.recorded))
    keras_inputs = shuffled.as_keras(encoder.categorical_features)
    make_deterministic(config.seed)
    network = build_network(encoder, n_classes, config)
    train_network(network, (_rows(keras_inputs, split.train), labels[split.train]),
                  (_rows(keras_inputs, split.validation), labels[split.validation]), config)
    return predict(network, _rows(keras_inputs, split.test), config.batch_size)[:, 1]


def _metrics_table(
    probabilities: dict[str, tuple[np.ndarray, float | None]], labels: np.ndarray, version: str, seed: int,
    shuffled: np.ndarray | None, truth_shuffled: np.ndarray | None, comparison: CutoffComparison | None = None,
) -> pd.DataFrame:
    """Test metrics of every model with bootstrap 95% intervals (binary targets), paired AUC gains, order effects
    and the best baseline's ROC AUC under both cutoffs (`roc_auc_cutoff_<cutoff>`, `cutoff_leak` = none minus
    first_conversion, paired)."""
    binary = next(iter(probabilities.values()))[0].shape[1] == 2
    weights = resample_weights(len(labels), seed) if binary else None
    rows, resampled_auc = [], {}
    for name, (probs, cut) in probabilities.items():
        point = classification_metrics(labels, probs, cut)
        spread = (resampled_metrics(labels, probs[:, 1], point["threshold"], weights) if binary else {})
        if "roc_auc" in spread:
            resampled_auc[name] = spread["roc_auc"]
        for metric, value in point.items():
            low, high = interval(spread[metric]) if metric in spread else (None, None)
            rows.append((name, version, "test", metric, value, low, high))
    if binary:
        bilstm = resampled_auc["bilstm"]
        for name in BASELINES_TO_BEAT:
            gain = probabilities["bilstm"][0][:, 1], probabilities[name][0][:, 1]
            rows.append(("bilstm", version, "test", f"roc_auc_gain_over_{name}",
                         _auc(labels, gain[0]) - _auc(labels, gain[1]), *interval(bilstm - resampled_auc[name])))
        pairs = [("bilstm", probabilities["bilstm"][0][:, 1], shuffled)]
        if truth_shuffled is not None:
            pairs.append(("bayes_optimal", probabilities["bayes_optimal"][0][:, 1], truth_shuffled))
        for name, ordered, unordered in pairs:
            if unordered is None:
                continue
            rows.append((name, version, "test", "roc_auc_shuffled_order", _auc(labels, unordered),
                         *interval(weighted_roc_auc(labels, unordered, weights))))
            rows.append((name, version, "test", "order_effect", _auc(labels, ordered) - _auc(labels, unordered),
                         *interval(resampled_auc[name] - weighted_roc_auc(labels, unordered, weights))))
        if comparison is not None:
            name = comparison.baseline
            own_cutoff = next(c for c in CUTOFFS if c != comparison.other_cutoff)
            aucs = {own_cutoff: (_auc(labels, probabilities[name][0][:, 1]), resampled_auc[name]),
                    comparison.other_cutoff: (_auc(labels, comparison.test_probability),
                                              weighted_roc_auc(labels, comparison.test_probability, weights))}
            for cutoff in CUTOFFS:
                rows.append((name, version, "test", f"roc_auc_cutoff_{cutoff}", aucs[cutoff][0],
                             *interval(aucs[cutoff][1])))
            rows.append((name, version, "test", "cutoff_leak", aucs["none"][0] - aucs["first_conversion"][0],
                         *interval(aucs["none"][1] - aucs["first_conversion"][1])))
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def _search_rows(search: list[tuple[dict[str, float], float]], chosen: PropensityConfig, version: str) -> pd.DataFrame:
    """The validation search in model_metrics: each setting's validation ROC AUC and the chosen setting."""
    best = int(np.argmax([auc for _, auc in search]))
    rows = [("bilstm", version, "validation", f"search_{i + 1}_roc_auc", auc, None, None)
            for i, (_, auc) in enumerate(search)]
    rows.append(("bilstm", version, "validation", "chosen_setting", float(best + 1), None, None))
    rows += [("bilstm", version, "validation", name, float(getattr(chosen, name)), None, None) for name in SEARCHED]
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def _truth_shuffled(truth: pd.DataFrame, features: pd.DataFrame, split: Split) -> np.ndarray | None:
    """Truth's buy probability on each test contact's pages shuffled, when truth.csv has it."""
    if "buy_probability_shuffled" not in truth:
        return None
    contact_ids = features["contact_id"].to_numpy()[split.test]
    return pd.Series(contact_ids).map(truth.set_index("contact_id")["buy_probability_shuffled"]).to_numpy(float)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON-ready dicts, NaN (no interval) as null."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(labels, scores))


def add_deciles(scores: pd.DataFrame) -> pd.DataFrame:
    """Decile 1..10 of propensity among scored contacts (10 = highest; ties broken by contact_id)."""
    scored = scores["propensity"].notna().to_numpy()
    order = np.lexsort((scores["contact_id"].to_numpy(), scores["propensity"].to_numpy()))
    order = order[scored[order]]
    decile = pd.Series(pd.NA, index=scores.index, dtype="Int64")
    decile.iloc[order] = (np.arange(len(order)) * 10 // max(len(order), 1) + 1).astype(np.int64)
    return scores.assign(decile=decile)


def saved_table(artifacts_dir: Path | str, name: str, version: str) -> pd.DataFrame:
    """A run record (metrics, history, audit, test_predictions) saved by the run of `version`."""
    folder = registry.version_folder(artifacts_dir, MODEL_NAME, version)
    meta = read_meta(folder)
    if name == "test_predictions":
        return read_test_predictions(folder).assign(model_version=version)
    table = pd.DataFrame(meta[name])
    if name == "metrics":
        table = table.astype({"value": "float64", "ci_lower": "float64", "ci_upper": "float64"})
    return table


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
