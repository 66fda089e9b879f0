"""Training the segment model, and the dbt entry `contact_segments` that trains only when needed.

`build_contact_segments` asks `journeys.retraining.decide` whether today's build trains (var `retrain`; a
saved model is reused while its settings and feature contract match) and scores every contact through
`SegmentModel.score`. Training prepares the features, chooses k (var `segments_k`; `auto`: cost elbow and
silhouette over a range, on a sample), fits k-prototypes, measures its quality without truth (stability over
bootstrap refits, silhouette, each feature's share of the cost), gives segments stable ids and names.

Stable ids: the first model numbers its segments by size (0 = largest). A retrained model matches its
prototypes to the previous model's by optimal assignment (`scipy.optimize.linear_sum_assignment`) on their
k-prototypes dissimilarity, the previous prototypes being re-expressed in the new model's scaling; a matched
segment keeps its id, an unmatched one gets a new id never used before (`next_segment_id`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, silhouette_score

from journeys import retraining
from journeys.dbt_logging import log_to_dbt
from journeys.kprototypes import KPrototypes, encode_categories, fit_categories, split_num_cat
from journeys.segments.features import SegmentFeatures
from journeys.segments.model import (
    MODEL_FILE,
    SegmentModel,
    SegmentSettings,
    load_segment_model,
    pairwise_dissimilarity,
)
from journeys.segments.naming import segment_names
from journeys.skipped import CannotTrain, skipped

LOG = logging.getLogger("journeys.segments")
SILHOUETTE_ROWS = 2_000
K_SILHOUETTE_MARGIN = 0.02
WARM_START_COST_MARGIN = 0.02
MODEL_NAME = "segments"


def elbow_k(ks: list[int], costs: list[float]) -> int:
    """The k farthest below the straight line from the first to the last (k, cost) point."""
    if len(ks) < 3:
        return ks[0]
    k, cost = np.asarray(ks, float), np.asarray(costs, float)
    x = (k - k[0]) / (k[-1] - k[0])
    span = cost[0] - cost[-1]
    y = (cost - cost[-1]) / span if span > 0 else np.zeros_like(cost)
    return ks[int(np.argmax((1 - x) - y))]


def choose_k(rows: list[dict[str, Any]], elbow: int) -> int:
    """The elbow locates where more segments stop paying; the silhouette decides between it and its neighbours.

    Silhouette alone keeps creeping up with k on contact data (many small, tight groups), and the elbow
    alone is off by one when the curve bends over two steps.
    """
    candidates = [row for row in rows if abs(row["k"] - elbow) <= 1]
    return max(candidates, key=lambda r: (np.nan_to_num(r["silhouette"], nan=-np.inf), -r["k"]))["k"]


def _kprototypes(k: int, settings: SegmentSettings) -> KPrototypes:
    """The estimator both the k selection and the final fit use: Cao init, the settings' seed."""
    return KPrototypes(
        n_clusters=k,
        init="Cao",
        n_init=settings.n_init,
        max_iter=settings.max_iter,
        gamma=settings.gamma,
        random_state=settings.seed,
    )


def k_candidates(settings: SegmentSettings, distinct_rows: int) -> list[int]:
    """The k values to fit: var segments_k, or segments_k_range shrunk to the data (a silhouette needs fewer
    segments than distinct rows). Raises CannotTrain when no k fits."""
    if distinct_rows < 2:
        raise CannotTrain(
            f"the contacts have {distinct_rows} distinct feature row(s); k-prototypes needs at least 2"
        )
    if settings.k is not None:
        if settings.k > distinct_rows:
            raise CannotTrain(
                f"var segments_k is {settings.k} but the contacts have only {distinct_rows} distinct feature rows: "
                "lower segments_k or set it to auto"
            )
        return [settings.k]
    upper = min(settings.k_range[1], max(2, distinct_rows - 1))
    lower = min(settings.k_range[0], upper)
    if upper < settings.k_range[1]:
        LOG.warning(
            "segments: k range %s shrunk to [%d, %d] to fit %d distinct feature rows",
            list(settings.k_range), lower, upper, distinct_rows,
        )
    return list(range(lower, upper + 1))


def select_k(
    X: pd.DataFrame, categorical: list[int], settings: SegmentSettings, previous_k: int | None = None
) -> list[dict[str, Any]]:
    """Cost and silhouette of every k in the range on a seeded sample, the elbow, and the chosen k.

    On a retraining (`previous_k` given) auto keeps the previous model's k unless the new choice's silhouette
    beats it by more than K_SILHOUETTE_MARGIN: silhouettes of neighbouring k differ by less than their noise
    between seeds, and a k that flips with the seed would reshuffle every dashboard's segments.
    """
    rng = np.random.default_rng(settings.seed)
    sample = X.iloc[np.sort(rng.choice(len(X), min(settings.k_sample, len(X)), replace=False))]
    scored = np.sort(rng.choice(len(sample), min(SILHOUETTE_ROWS, len(sample)), replace=False))
    ks = k_candidates(settings, len(sample.drop_duplicates()))
    rows, distances = [], None
    for k in ks:
        model = _kprototypes(k, settings).fit(sample.to_numpy(dtype=object), categorical=categorical)
        if distances is None:
            distances = pairwise_dissimilarity(sample.iloc[scored], categorical, model.gamma)
        labels = model.labels_[scored]
        silhouette = (
            float(silhouette_score(distances, labels, metric="precomputed"))
            if 1 < len(np.unique(labels)) < len(labels)
            else float("nan")
        )
        rows.append(
            {"k": k, "cost": float(model.cost_), "silhouette": silhouette, "n_iter": int(model.n_iter_)}
        )
        LOG.info(
            "segments: k=%d cost %.1f silhouette %.4f on %d contacts", k, model.cost_, silhouette, len(sample)
        )
    elbow = elbow_k([r["k"] for r in rows], [r["cost"] for r in rows])
    chosen = settings.k if settings.k is not None else choose_k(rows, elbow)
    selection = "auto: best silhouette at the elbow or a neighbour" if settings.k is None else "fixed: var segments_k"
    kept = next((row for row in rows if row["k"] == previous_k and settings.k is None), None)
    best = next(row for row in rows if row["k"] == chosen)
    if kept is not None and not best["silhouette"] > kept["silhouette"] + K_SILHOUETTE_MARGIN:
        chosen = previous_k
        selection = f"auto: the previous model's k (silhouette within {K_SILHOUETTE_MARGIN} of k={best['k']})"
    for row in rows:
        row.update(
            sample_size=len(sample),
            silhouette_sample_size=len(scored),
            is_elbow=row["k"] == elbow,
            is_chosen=row["k"] == chosen,
            selection=selection,
        )
    return rows


def train_segment_model(
    contacts: pd.DataFrame, settings: SegmentSettings, previous: SegmentModel | None = None
) -> SegmentModel:
    """Fit features and k-prototypes on all contacts; ids by size, or matched to `previous`; names; quality."""
    start = time.perf_counter()
    features = SegmentFeatures.fit(contacts, settings.features)
    X = features.transform(contacts)
    categorical = features.categorical_indices
    k_selection = select_k(X, categorical, settings, previous.n_segments if previous is not None else None)
    k = next(row["k"] for row in k_selection if row["is_chosen"])
    rows = X.to_numpy(dtype=object)
    model = _kprototypes(k, settings).fit(rows, categorical=categorical)
    warm = _warm_start(features, rows, categorical, k, settings, previous)
    if warm is not None and warm.cost_ <= model.cost_ * (1 + WARM_START_COST_MARGIN):
        LOG.info("segments: the fit started from the previous prototypes is kept (cost %.1f, seeded fits %.1f)",
                 warm.cost_, model.cost_)
        model = warm
    order = np.argsort(-np.bincount(model.labels_, minlength=k), kind="stable")
    model.centroids_num_, model.centroids_cat_ = model.centroids_num_[order], model.centroids_cat_[order]
    index = np.argsort(order)[model.labels_]
    segment_ids, next_id = match_segment_ids(features, model, previous)
    training = {
        "n_contacts": len(contacts),
        "k": k,
        "gamma": float(model.gamma),
        "cost": float(model.cost_),
        "n_iter": int(model.n_iter_),
        "n_init": settings.n_init,
        "seed": settings.seed,
        "previous_version": previous.version if previous is not None else None,
        "quality": segment_quality(X, categorical, model, index, settings),
    }
    training["seconds"] = round(time.perf_counter() - start, 3)
    state = {"features": features.to_dict(), "kprototypes": model.to_dict(), "segment_ids": segment_ids}
    digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:12]
    LOG.info("segments: k=%d fitted on %d contacts in %.1f s", k, len(contacts), training["seconds"])
    return SegmentModel(f"kproto-{digest}", features, model, k_selection, training, segment_ids,
                        segment_names(features, contacts, index, segment_ids), next_id)


def _warm_start(
    features: SegmentFeatures, rows: np.ndarray, categorical: list[int], k: int, settings: SegmentSettings,
    previous: SegmentModel | None,
) -> KPrototypes | None:
    """A fit started from the previous model's prototypes (same features and k), to compete with the seeded
    fits: it is kept unless their cost is lower by more than WARM_START_COST_MARGIN, so a retraining moves
    segments only when the data offers a clearly better solution (two local optima of nearly equal cost
    differ by the seed, not by the data)."""
    if previous is None or previous.n_segments != k or previous.features.columns != features.columns:
        return None
    old = previous.features
    centroids_num = np.column_stack([
        (previous.kprototypes.centroids_num_[:, j] * old.stds[name] + old.means[name] - features.means[name])
        / features.stds[name]
        for j, name in enumerate(features.numeric_columns)
    ]) if features.numeric_columns else np.zeros((k, 0))
    kp = previous.kprototypes
    labels = np.column_stack([np.asarray(kp.categories_[j], dtype=object)[kp.centroids_cat_[:, j]]
                              for j in range(len(kp.categories_))])
    categories = fit_categories(split_num_cat(rows, categorical)[1])
    codes = encode_categories(labels, categories)
    if (codes < 0).any():
        return None
    return KPrototypes(n_clusters=k, init=[centroids_num, codes], max_iter=settings.max_iter, gamma=settings.gamma,
                       random_state=settings.seed).fit(rows, categorical=categorical)


def match_segment_ids(
    features: SegmentFeatures, model: KPrototypes, previous: SegmentModel | None
) -> tuple[list[int], int]:
    """Ids for the new prototypes (in order) and the next unused id: matched to `previous` when given.

    Numeric prototypes are compared in the new model's z-scores (the previous ones are unscaled with the
    previous scalers first), categorical ones by value, on the features both models share.
    """
    k = model.n_clusters
    if previous is None:
        return list(range(k)), k
    cost = np.zeros((k, previous.n_segments))
    old = previous.features
    for j, name in enumerate(features.numeric_columns):
        if name in old.numeric_columns:
            before = previous.kprototypes.centroids_num_[:, old.numeric_columns.index(name)]
            before = (before * old.stds[name] + old.means[name] - features.means[name]) / features.stds[name]
            cost += (model.centroids_num_[:, j, None] - before[None, :]) ** 2
    for j, name in enumerate(features.categorical_columns):
        if name in old.categorical_columns:
            jj = old.categorical_columns.index(name)
            new_values = np.asarray(model.categories_[j], dtype=object)[model.centroids_cat_[:, j]]
            old_values = np.asarray(previous.kprototypes.categories_[jj], dtype=object)[
                previous.kprototypes.centroids_cat_[:, jj]
            ]
            cost += model.gamma * (new_values[:, None] != old_values[None, :])
    rows, cols = linear_sum_assignment(cost)
    ids: list[int | None] = [None] * k
    for row, col in zip(rows, cols, strict=True):
        ids[row] = previous.segment_ids[col]
    next_id = previous.next_segment_id
    for position in range(k):
        if ids[position] is None:
            ids[position], next_id = next_id, next_id + 1
    LOG.info("segments: %d of %d prototypes matched to model %s", len(rows), k, previous.version)
    return [int(i) for i in ids], next_id


def segment_quality(
    X: pd.DataFrame, categorical: list[int], model: KPrototypes, index: np.ndarray, settings: SegmentSettings
) -> dict[str, Any]:
    """Quality without truth: stability over refits, silhouette on a sample, each feature's cost share.

    Stability: `stability_fits` fits, each on a bootstrap resample (k_sample contacts) with its own seed,
    assign every contact; the figure is the mean adjusted Rand index over all pairs of those assignments
    (a resample with no more distinct rows than segments is left out; NaN when fewer than two remain).
    """
    rows = X.to_numpy(dtype=object)
    rng = np.random.default_rng(settings.seed)
    assignments = []
    for fit in range(settings.stability_fits):
        sample = rng.choice(len(X), min(settings.k_sample, len(X)), replace=True)
        if len(X.iloc[sample].drop_duplicates()) <= model.n_clusters:  # a tiny export's resample cannot refit k
            continue
        refit = KPrototypes(n_clusters=model.n_clusters, init="Cao", n_init=settings.n_init,
                            max_iter=settings.max_iter, gamma=model.gamma, random_state=settings.seed + 1 + fit)
        refit.fit(rows[sample], categorical=categorical)
        assignments.append(refit.predict(rows, categorical=categorical))
    pairs = [adjusted_rand_score(a, b) for a, b in combinations(assignments, 2)]
    scored = np.sort(rng.choice(len(X), min(SILHOUETTE_ROWS, len(X)), replace=False))
    labels = index[scored]
    silhouette = (
        float(silhouette_score(pairwise_dissimilarity(X.iloc[scored], categorical, model.gamma), labels,
                               metric="precomputed"))
        if 1 < len(np.unique(labels)) < len(labels) else float("nan")
    )
    return {
        "stability_ari": float(np.mean(pairs)) if pairs else float("nan"),
        "stability_ari_min": float(np.min(pairs)) if pairs else float("nan"),
        "stability_fits": settings.stability_fits,
        "silhouette": silhouette,
        "silhouette_sample_size": len(scored),
        "cost_shares": feature_cost_shares(X, categorical, model, index),
    }


def feature_cost_shares(
    X: pd.DataFrame, categorical: list[int], model: KPrototypes, index: np.ndarray
) -> dict[str, float]:
    """Each feature's share of the total cost (squared z-distance, or gamma x mismatches, to the prototypes)."""
    names = list(X.columns)
    numeric = [j for j in range(len(names)) if j not in categorical]
    costs = {}
    for position, j in enumerate(numeric):
        diff = X.iloc[:, j].to_numpy(dtype=float) - model.centroids_num_[index, position]
        costs[names[j]] = float(np.nansum(diff * diff))
    for position, j in enumerate(categorical):
        modes = np.asarray(model.categories_[position], dtype=object)[model.centroids_cat_[index, position]]
        costs[names[j]] = float(model.gamma * np.sum(X.iloc[:, j].to_numpy(dtype=object) != modes))
    total = sum(costs.values()) or 1.0
    return {name: cost / total for name, cost in costs.items()}


def build_contact_segments(contacts: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """dbt model contact_segments: train when needed (var retrain), save, score every contact. Data that cannot
    train the model (fewer than 2 distinct feature rows) leaves the table empty, with one warning line."""
    log_to_dbt()
    settings = SegmentSettings.from_meta(meta)
    contacts = _in_contact_order(contacts)
    folder = settings.artifacts_dir / MODEL_FILE.parent
    compatibility = {
        "settings": settings.compatibility(),
        "feature_contract": retraining.frame_contract(contacts, ["contact_id", *_input_columns(settings)]),
    }
    decision = retraining.decide(MODEL_NAME, settings.retrain, folder, compatibility, [MODEL_FILE.name])
    if decision.train:
        try:
            model = train_segment_model(contacts, settings, _previous_model(settings))
        except CannotTrain as reason:
            return skipped(LOG, "segments", reason, "contact_segments")
        model.save(settings.artifacts_dir)
        quality = model.training["quality"]
        retraining.record_training(
            folder, MODEL_NAME, model.version, compatibility, decision.reason, len(contacts),
            retraining.data_fingerprint(contacts[["contact_id", *_input_columns(settings)]]),
            {**settings.compatibility(), "features": asdict(settings.features)},
            {"k": model.n_segments, "cost": model.training["cost"], "stability_ari": quality["stability_ari"],
             "silhouette": quality["silhouette"]},
        )
    else:
        model = load_segment_model(settings.artifacts_dir)
    scored = model.score(contacts)
    scored["model_version"] = model.version
    return scored


def _input_columns(settings: SegmentSettings) -> list[str]:
    config = settings.features
    return list(dict.fromkeys([*config.count_features, *config.day_features, *config.categorical_features,
                               *config.presence_features]))


def _previous_model(settings: SegmentSettings) -> SegmentModel | None:
    """The saved model whose ids a retrained one inherits; none (or an unreadable one) starts ids afresh."""
    try:
        return load_segment_model(settings.artifacts_dir)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        LOG.info("segments: no previous model to inherit segment ids from (%s)", exc)
        return None


def _in_contact_order(contacts: pd.DataFrame) -> pd.DataFrame:
    """Contacts sorted by id: the warehouse returns rows in any order, and fits and sums must not depend on it."""
    return contacts.sort_values("contact_id", kind="stable", ignore_index=True)
