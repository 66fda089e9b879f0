"""The experiments the spec's earlier analysis proposed: sequence length x encoding of the pages x model, on the page sequence alone.

Grid: the most recent 1..4 pages; encoded as {one integer code per step, read as a number (the earlier analysis'),
one-hot per step, learned embedding}; fed to {a small BiLSTM, a logistic model (one sigmoid unit on the
flattened encoded steps)}. Both models are Keras networks trained the same way (Adam, early stopping on
validation ROC AUC), so the grid compares encodings and lengths, not libraries. Same label and split as
purchase_propensity, and the same pages (`category_codes`, cut by var journeys_propensity_cutoff); training uses a
seeded subsample of `train_contacts` training contacts (all of them if fewer) to keep the 24 fits affordable;
validation and test are the full splits.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from journeys.propensity.config import PropensityConfig
from journeys.propensity.data import label_contacts, pad_sequences, split_contacts
from journeys.propensity.network import ValidationRocAuc, keras, layers, make_deterministic, predict
from journeys.propensity.uncertainty import interval, resample_weights, weighted_roc_auc

LOG = logging.getLogger(__name__)
ENCODINGS = ("integer", "one_hot", "embedding")
MODELS = ("bilstm", "logistic")
COLUMNS = ["sequence_length", "encoding", "model", "roc_auc", "ci_lower", "ci_upper", "fit_seconds",
           "train_contacts", "epochs"]


@dataclass(frozen=True)
class ExperimentSettings:
    """Sizes of the grid's fits (dbt vars `propensity_experiments_*`)."""

    train_contacts: int = 20_000
    lengths: tuple[int, ...] = (1, 2, 3, 4)
    units: int = 16
    embedding_dim: int = 8
    epochs: int = 15
    patience: int = 2


def run_experiments(
    features: pd.DataFrame, category_codes: pd.DataFrame, config: PropensityConfig,
    settings: ExperimentSettings = ExperimentSettings(),
) -> pd.DataFrame:
    """One row per (sequence_length, encoding, model): test ROC AUC, bootstrap 95% interval, fit seconds."""
    labelled = label_contacts(features, config)
    if len(labelled.class_names) != 2:
        raise ValueError("propensity_experiments needs a yes/no target (not segment)")
    labels = labelled.labels
    split = split_contacts(labels, config)
    rng = np.random.default_rng(config.seed)
    train = np.sort(rng.choice(split.train, min(settings.train_contacts, len(split.train)), replace=False))
    vocabulary = int(pd.to_numeric(category_codes["category_code"]).max()) + 1
    weights = resample_weights(len(split.test), config.seed)
    rows = []
    for length in settings.lengths:
        codes = pad_sequences(labelled.features["category_codes"], length, vocabulary)
        for encoding in ENCODINGS:
            for model_name in MODELS:
                make_deterministic(config.seed)
                network = _network(model_name, encoding, length, vocabulary, settings, config)
                inputs = _encode(codes, encoding, vocabulary)
                started = time.perf_counter()
                epochs = _fit(network, inputs, labels, train, split.validation, settings, config)
                seconds = time.perf_counter() - started
                scores = predict(network, inputs[split.test], 4096)[:, 0]
                auc = float(roc_auc_score(labels[split.test], scores))
                low, high = interval(weighted_roc_auc(labels[split.test], scores, weights))
                rows.append((length, encoding, model_name, auc, low, high, round(seconds, 2), len(train), epochs))
                LOG.info("propensity experiments: %d pages, %s, %s: test ROC AUC %.4f [%.4f, %.4f] in %.1f s",
                         length, encoding, model_name, auc, low, high, seconds)
    return pd.DataFrame(rows, columns=COLUMNS)


def _encode(codes: np.ndarray, encoding: str, vocabulary: int) -> np.ndarray:
    """Integer codes as numbers (n, L, 1), one-hot (n, L, V) with padding all zeros, or the codes (n, L)."""
    if encoding == "integer":
        return codes[:, :, None].astype(np.float32)
    if encoding == "one_hot":
        return (np.eye(vocabulary, dtype=np.float32)[codes] * (codes > 0)[:, :, None]).astype(np.float32)
    return codes


def _network(model: str, encoding: str, length: int, vocabulary: int, settings: ExperimentSettings,
             config: PropensityConfig) -> keras.Model:
    """Encoding layer, then a BiLSTM or nothing, then one sigmoid unit."""
    if encoding == "embedding":
        inputs = keras.Input(shape=(length,), dtype="int32")
        x = layers.Embedding(vocabulary, settings.embedding_dim, mask_zero=model == "bilstm")(inputs)
    else:
        inputs = keras.Input(shape=(length, 1 if encoding == "integer" else vocabulary), dtype="float32")
        x = inputs
    if model == "bilstm":
        x = layers.Bidirectional(layers.LSTM(settings.units))(x)
    else:
        x = layers.Flatten()(x)
    output = layers.Dense(1, activation="sigmoid")(x)
    network = keras.Model(inputs, output)
    network.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate), loss="binary_crossentropy")
    return network


def _fit(network: keras.Model, inputs: np.ndarray, labels: np.ndarray, train: np.ndarray, validation: np.ndarray,
         settings: ExperimentSettings, config: PropensityConfig) -> int:
    """Adam with early stopping on exact validation ROC AUC (best weights kept); returns epochs run."""
    stopper = keras.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=settings.patience,
                                            restore_best_weights=True)
    history = network.fit(inputs[train], labels[train].astype(np.float32), epochs=settings.epochs,
                          batch_size=config.batch_size, shuffle=True, verbose=0,
                          callbacks=[_BinaryValidationAuc(inputs[validation], labels[validation],
                                                          config.batch_size), stopper])
    return len(history.history["loss"])


class _BinaryValidationAuc(ValidationRocAuc):
    """Exact validation ROC AUC for a network with one sigmoid output."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is not None:
            logs["val_auc"] = float(roc_auc_score(self.labels, predict(self.model, self.inputs,
                                                                       self.batch_size)[:, 0]))
