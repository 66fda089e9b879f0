"""The fast scoring path: the build's models applied to a `ContactBatch`, same scores as the tables.

Imports TensorFlow: `journeys.service.loading` imports this module only when it loads the models.

- Segments: the fitted feature preparation (log1p, z-scores, kept categories, presence flags) replayed on
  NumPy arrays, then `journeys.kprototypes.labels_cost` against the saved prototypes: the arithmetic of
  `SegmentModel.score`, without its DataFrames.
- Propensity: the encoder the build saved, then the network's float64 copy (what `purchase_propensity` was
  scored with) compiled with XLA (`journeys.service.compiled`: one executable per batch-size bucket, built at
  load), instead of `keras.Model.predict`'s tens of milliseconds per call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from journeys.kprototypes import labels_cost
from journeys.propensity.artifacts import SCORE_DECIMALS
from journeys.propensity.data import FIRST_CONVERSION, POOLED, Inputs, cut_dates, pad_sequences
from journeys.propensity.data import MISSING as MISSING_CODE
from journeys.segments.features import MISSING, OTHER, presence_flag
from journeys.service.compiled import CompiledNetwork
from journeys.service.features import (
    FLAG_COLUMNS,
    NUMERIC_COLUMNS,
    SEGMENT_FLAG_COLUMNS,
    TEXT_COLUMNS,
    ContactBatch,
)
from journeys.service.scores import PropensityScores, SegmentScores


class SegmentScorer:
    """`SegmentModel.score` on NumPy columns: same segments, dissimilarities equal to about 1e-15, and each
    segment's name and description as the `segments` table holds them (both come from the saved model)."""

    def __init__(self, model: Any) -> None:
        features, kprototypes = model.features, model.kprototypes
        self.version: str = model.version
        # k-prototypes numbers prototypes by position; the model maps each position to its stable id and name
        self.segment_ids = np.asarray(model.segment_ids, dtype=np.int64)
        self.names = np.asarray([names["name"] for names in model.names], dtype=object)
        self.descriptions = np.asarray([names["description"] for names in model.names], dtype=object)
        if not len(self.segment_ids) == len(self.names) == kprototypes.n_clusters:
            raise ValueError("segment model: segment ids, names and prototypes do not line up")
        self.count_features = tuple(features.config.count_features)
        self.day_features = tuple(features.config.day_features)
        self.categorical_features = tuple(features.config.categorical_features)
        self.presence_features = tuple(features.config.presence_features)
        numeric = [*self.count_features, *self.day_features]
        self.means = np.array([features.means[name] for name in numeric], dtype=np.float64)
        self.stds = np.array([features.stds[name] for name in numeric], dtype=np.float64)
        self.kept = {name: frozenset(features.categories[name]) for name in self.categorical_features}
        categorical = [*self.categorical_features, *map(presence_flag, self.presence_features)]
        if categorical != list(features.categorical_columns) or len(categorical) != len(
            kprototypes.categories_
        ):
            raise ValueError("segment model: feature columns and k-prototypes categories do not line up")
        # a label the model never saw gets -1, which matches no prototype (as `encode_categories` does)
        self.codes = [
            {value: code for code, value in enumerate(values)} for values in kprototypes.categories_
        ]
        self.centroids_num = np.asarray(kprototypes.centroids_num_, dtype=np.float64)
        self.centroids_cat = np.asarray(kprototypes.centroids_cat_)
        self.gamma = float(kprototypes.gamma)
        self._check_columns()
        # the first call compiles k-prototypes' kernels: pay it at load, not on a request
        labels_cost(np.zeros((1, len(self.means))), np.zeros((1, len(self.codes)), dtype=np.int64),
                    self.centroids_num, self.centroids_cat, self.gamma)  # fmt: skip

    def _check_columns(self) -> None:
        """Refuse to serve a model whose features the service does not build (the vars may name any column)."""
        text_or_flag = {*TEXT_COLUMNS, *SEGMENT_FLAG_COLUMNS}
        problems = [f"{name} (numeric)" for name in (*self.count_features, *self.day_features)
                    if name not in NUMERIC_COLUMNS]  # fmt: skip
        problems += [f"{name} (categorical: text or flag columns only)" for name in self.categorical_features
                     if name not in text_or_flag]  # fmt: skip
        problems += [f"{name} (presence)" for name in self.presence_features
                     if name not in {*text_or_flag, *NUMERIC_COLUMNS}]  # fmt: skip
        if problems:
            raise ValueError(
                f"the segment model uses column(s) the service does not provide: {', '.join(problems)}"
            )

    def score(self, batch: ContactBatch) -> SegmentScores:
        n = len(batch)
        raw = [np.log1p(np.nan_to_num(batch.numbers[name], nan=0.0)) for name in self.count_features]
        raw += [batch.numbers[name] for name in self.day_features]
        xnum = (np.column_stack(raw) - self.means) / self.stds if raw else np.zeros((n, 0))
        labels = [self._labels(batch, name) for name in self.categorical_features]
        labels += [np.where(self._present(batch, name), "true", "false") for name in self.presence_features]
        xcat = np.empty((n, len(labels)), dtype=np.int64)
        for j, (column, codes) in enumerate(zip(labels, self.codes, strict=True)):
            xcat[:, j] = [codes.get(label, -1) for label in column]
        position, _, nearest = labels_cost(xnum, xcat, self.centroids_num, self.centroids_cat, self.gamma)
        return SegmentScores(
            batch.contact_id,
            self.segment_ids[position],
            nearest,
            self.names[position],
            self.descriptions[position],
        )

    def _labels(self, batch: ContactBatch, name: str) -> list[str]:
        """As `SegmentFeatures.transform`: flags `true` / `false`, text as is, NULL `missing`, rare `other`."""
        if name in batch.flags:
            return np.where(batch.flags[name], "true", "false").tolist()
        kept = self.kept[name]
        return [
            MISSING if value is None else (value if value in kept or value == MISSING else OTHER)
            for value in batch.texts[name]
        ]

    @staticmethod
    def _present(batch: ContactBatch, name: str) -> np.ndarray:
        if name in batch.numbers:
            return ~np.isnan(batch.numbers[name])
        if name in batch.texts:
            return np.array([value is not None for value in batch.texts[name]], dtype=bool)
        return np.ones(len(batch), dtype=bool)  # flags are never NULL


class PropensityScorer:
    """`PropensityModel.score` on NumPy columns and an XLA-compiled network: the same propensities."""

    def __init__(self, model: Any) -> None:
        self.decimals = SCORE_DECIMALS  # stored precision: the table's scores are rounded to it
        self.version: str = model.version
        self.threshold: float | None = model.threshold
        self.class_names = np.asarray(model.class_names, dtype=object)
        self.encoder = model.encoder
        missing = [name for name in (*self.encoder.numeric_features, *self.encoder.boolean_features,
                                     *self.encoder.categorical_features)
                   if name not in (*NUMERIC_COLUMNS, *FLAG_COLUMNS, *TEXT_COLUMNS)]  # fmt: skip
        if missing:
            raise ValueError(
                f"the propensity model uses column(s) the service does not provide: {', '.join(missing)}"
            )
        self.lookups = [{value: i + 2 for i, value in enumerate(self.encoder.vocabularies[name])}
                        for name in self.encoder.categorical_features]  # fmt: skip
        self.network = CompiledNetwork(model.scorer)  # the float64 copy `purchase_propensity` was scored with

    def encode(self, batch: ContactBatch) -> dict[str, np.ndarray]:
        """`Encoder.transform` on NumPy columns: the network's named inputs for every contact of the batch."""
        encoder, n = self.encoder, len(batch)
        sequence = pad_sequences(batch.category_codes(), encoder.max_sequence_length, encoder.vocabulary_size)
        categorical = np.zeros((n, len(encoder.categorical_features)), dtype=np.int32)
        for j, (name, lookup) in enumerate(zip(encoder.categorical_features, self.lookups, strict=True)):
            categorical[:, j] = [MISSING_CODE if value is None else lookup.get(str(value), POOLED)
                                 for value in batch.texts[name]]  # fmt: skip
        numeric = [batch.numbers[name] for name in encoder.numeric_features]
        known = (cut_dates(np.column_stack(numeric), encoder.numeric_features,
                           batch.numbers[FIRST_CONVERSION], encoder.cutoff) if numeric else None)  # fmt: skip
        logged = np.log1p(np.clip(known, 0, None)) if numeric else np.zeros((n, 0))
        absent = np.isnan(logged)
        scaled = np.where(
            absent, 0.0, (logged - np.asarray(encoder.numeric_mean)) / np.asarray(encoder.numeric_std)
        )
        flags = [batch.flags[name].astype(np.float64) for name in encoder.boolean_features]
        tabular = np.hstack(
            [scaled, absent.astype(np.float64), np.column_stack(flags) if flags else np.zeros((n, 0))]
        )
        recorded = pad_sequences(batch.recorded_codes(), encoder.recorded_length, encoder.vocabulary_size)
        return Inputs(sequence, categorical, tabular.astype(np.float32), recorded).as_keras(
            encoder.categorical_features
        )

    def probabilities(self, batch: ContactBatch) -> np.ndarray:
        """Class probabilities (float64) of every contact of the batch."""
        return self.network(self.encode(batch))

    def score(self, batch: ContactBatch) -> PropensityScores:
        """As `PropensityModel.score`: NaN / None without page history; binary targets flag at the threshold,
        the segment target names the most probable class."""
        n = len(batch)
        has_history = batch.page_count > 0
        propensity = np.full(n, np.nan)
        flag = np.full(n, None, dtype=object)
        predicted = np.full(n, None, dtype=object)
        if has_history.any():
            probs = np.round(self.probabilities(batch.rows(has_history)), self.decimals)
            if len(self.class_names) == 2:
                positive = probs[:, 1]
                propensity[has_history] = positive
                flag[has_history] = (positive >= self.threshold).tolist()
                predicted[has_history] = self.class_names[(positive >= self.threshold).astype(int)]
            else:
                best = probs.argmax(axis=1)
                propensity[has_history] = probs[np.arange(len(best)), best]
                predicted[has_history] = self.class_names[best]
        return PropensityScores(batch.contact_id, propensity, flag, predicted, batch.category_codes())
