"""The BiLSTM: page categories as real time steps, plus categorical embeddings and scaled tabular columns.

The spec's earlier analysis fed four category codes as raw integers in one time step; here each page is a step of an
embedded, masked sequence, so order and length carry information and padding carries none.
"""

from __future__ import annotations

import logging
from typing import Any

import keras  # TensorFlow's logging and oneDNN settings: journeys/__init__.py
import numpy as np
import tensorflow as tf
from keras import layers
from sklearn.metrics import roc_auc_score

from journeys.propensity.config import PropensityConfig
from journeys.propensity.data import Encoder

LOG = logging.getLogger(__name__)
# TensorFlow's own Python warnings (tf.function retracing of the many small predict calls) are not the build's
tf.get_logger().setLevel(logging.ERROR)
# A validation ROC AUC gain smaller than this is not progress (below the validation split's noise).
MIN_VAL_AUC_GAIN = 1e-4
# Up to this length the last LSTM layer runs its steps unrolled instead of in a symbolic loop: on 2 CPU cores
# a fit of 100k contacts at length 4 took 24 s instead of 33 s, with the same weights. Longer sequences keep
# the loop (an unrolled graph grows with every step), and so do stacked layers that return every step: unrolled,
# those computed other outputs for padded contacts than the loop (pytests/test_propensity.py).
MAX_UNROLLED_STEPS = 16


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and force deterministic ops: same data + seed -> same weights."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def build_network(encoder: Encoder, n_classes: int, config: PropensityConfig) -> keras.Model:
    """Embedding(mask_zero) -> stacked BiLSTMs -> concat(recorded-history BiLSTM, categorical embeddings,
    tabular) -> softmax.

    With an event window (page_events), the recorded Last Page Seen history goes through a BiLSTM of its own
    beside it: the window's pages do not say which of them HubSpot kept, one per recent session, and a
    journey's effect can sit on those (it does in the generator's planted truth).

    Regularised against the overfitting seen without it (validation ROC AUC falling after epoch 2 while
    validation loss still fell): L2 on every embedding, dropout on the LSTM inputs (and recurrent dropout)
    and before the dense layer.
    """
    penalty = keras.regularizers.L2(config.embedding_l2) if config.embedding_l2 > 0 else None
    sequence_in = keras.Input(shape=(encoder.max_sequence_length,), dtype="int32", name="sequence")
    embedding = layers.Embedding(encoder.vocabulary_size, config.embedding_dim, mask_zero=True,
                                 embeddings_regularizer=penalty, name="category_embedding")
    x = embedding(sequence_in)
    for i, units in enumerate(config.units):
        last = i == len(config.units) - 1
        lstm = layers.LSTM(units, return_sequences=not last, dropout=config.dropout,
                           recurrent_dropout=config.recurrent_dropout,
                           unroll=last and encoder.max_sequence_length <= MAX_UNROLLED_STEPS)
        x = layers.Bidirectional(lstm, name=f"bilstm_{i + 1}")(x)
    inputs = {"sequence": sequence_in}
    parts = [x]
    if encoder.recorded_length:  # the recorded history beside an event window, through the same embedding
        recorded_in = keras.Input(shape=(encoder.recorded_length,), dtype="int32", name="recorded")
        inputs["recorded"] = recorded_in
        lstm = layers.LSTM(config.recorded_units, dropout=config.dropout, unroll=True)
        parts.append(layers.Bidirectional(lstm, name="bilstm_recorded")(embedding(recorded_in)))
    for name, size in encoder.category_sizes().items():
        cat_in = keras.Input(shape=(1,), dtype="int32", name=f"cat_{name}")
        inputs[f"cat_{name}"] = cat_in
        embedded = layers.Embedding(size, config.categorical_embedding_dim, embeddings_regularizer=penalty,
                                    name=f"{name}_embedding")(cat_in)
        parts.append(layers.Flatten(name=f"{name}_flat")(embedded))
    tabular_in = keras.Input(shape=(len(encoder.tabular_names),), dtype="float32", name="tabular")
    inputs["tabular"] = tabular_in
    if encoder.tabular_names:
        parts.append(tabular_in)
    joined = layers.Concatenate(name="joined")(parts) if len(parts) > 1 else parts[0]
    if config.dropout > 0:
        joined = layers.Dropout(config.dropout, seed=config.seed, name="joined_dropout")(joined)
    if config.dense_units > 0:
        joined = layers.Dense(config.dense_units, activation="relu", name="dense")(joined)
    output = layers.Dense(n_classes, activation="softmax", name="probabilities")(joined)
    model = keras.Model(inputs=inputs, outputs=output, name="propensity_bilstm")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss="categorical_crossentropy",
        # macro ROC AUC over the class columns: for two classes both columns give the binary AUC
        metrics=[keras.metrics.AUC(multi_label=True, num_labels=n_classes, name="auc")],
        jit_compile=False,
    )
    return model


def train_network(
    model: keras.Model,
    train: tuple[dict[str, np.ndarray], np.ndarray],
    validation: tuple[dict[str, np.ndarray], np.ndarray],
    config: PropensityConfig,
) -> list[dict[str, float]]:
    """Fit with early stopping on validation ROC AUC (exact, computed each epoch; the best epoch's weights are
    kept); one log line per epoch."""
    n_classes = model.output_shape[-1]
    (x_train, y_train), (x_val, y_val) = train, validation
    weights = None
    if config.class_weighting == "balanced":
        counts = np.bincount(y_train, minlength=n_classes)
        weights = {k: float(len(y_train) / (n_classes * max(c, 1))) for k, c in enumerate(counts)}
    stopper = keras.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=config.patience,
                                            min_delta=MIN_VAL_AUC_GAIN, restore_best_weights=True)
    history = model.fit(
        x_train,
        np.eye(n_classes, dtype=np.float32)[y_train],
        validation_data=(x_val, np.eye(n_classes, dtype=np.float32)[y_val]),
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        class_weight=weights,
        verbose=0,
        callbacks=[ValidationRocAuc(x_val, y_val, config.batch_size), stopper, EpochLogger(config.epochs)],
    )
    LOG.info("propensity bilstm: keeping the weights of epoch %d", stopper.best_epoch + 1)
    keys = ("loss", "val_loss", "auc", "val_auc")
    return [{"epoch": i + 1, **{k: float(history.history[k][i]) for k in keys}, "is_best_epoch": i == stopper.best_epoch}
            for i in range(len(history.history["loss"]))]


def float64_copy(model: keras.Model) -> keras.Model:
    """The same network computing in float64, for scoring.

    float32 results move in the 7th digit with the batch a row is scored in; in float64 they move in the
    16th, so a contact gets the same stored (6-decimal) score alone, in the build's batch, or in a service call.
    """

    def to_float64(config: Any) -> Any:
        if isinstance(config, dict):
            return {k: ("float64" if k == "dtype" else to_float64(v)) for k, v in config.items()}
        return config

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if isinstance(layer, keras.layers.InputLayer) or "dtype" not in config:
            return layer.__class__.from_config(config)
        return layer.__class__.from_config(to_float64(config))

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights([np.asarray(w, dtype=np.float64) for w in model.get_weights()])
    return copy


def predict(model: keras.Model, inputs: dict[str, np.ndarray], batch_size: int) -> np.ndarray:
    """Class probabilities as float64, computed in fixed-size batches."""
    return np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0), dtype=np.float64)


class ValidationRocAuc(keras.callbacks.Callback):
    """Replaces Keras' binned `val_auc` by the exact ROC AUC on the validation contacts (macro one-vs-rest for
    more than two classes), before early stopping reads it."""

    def __init__(self, inputs: dict[str, np.ndarray], labels: np.ndarray, batch_size: int) -> None:
        super().__init__()
        self.inputs, self.labels, self.batch_size = inputs, labels, batch_size

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is None:
            return
        probabilities = predict(self.model, self.inputs, self.batch_size)
        if probabilities.shape[1] == 2:
            logs["val_auc"] = float(roc_auc_score(self.labels, probabilities[:, 1]))
        else:
            logs["val_auc"] = float(roc_auc_score(self.labels, probabilities, multi_class="ovr",
                                                  labels=np.arange(probabilities.shape[1])))


class EpochLogger(keras.callbacks.Callback):
    """One progress line per epoch through `logging` (the dbt models forward it into dbt's log)."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        line = (f"propensity bilstm epoch {epoch + 1}/{self.epochs}: loss {logs.get('loss', np.nan):.4f} "
                f"val_loss {logs.get('val_loss', np.nan):.4f} auc {logs.get('auc', np.nan):.4f} "
                f"val_auc {logs.get('val_auc', np.nan):.4f}")
        LOG.info(line)
