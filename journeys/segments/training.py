"""Training the segment model (the dbt entry that decides whether to train is `journeys.segments.dbt`).

Training applies the truth-free rule of python_models/segments/_segments.yml: it keeps the
informative candidate features (`informative_features`), starts gamma where numeric and categorical features
carry equal shares of one segment's cost (`dispersion_gamma`), chooses k (var `journeys_segments.k`; `auto`: cost elbow and
silhouette over a range, on a sample), moves gamma until they carry equal shares of the chosen k's cost
(`balanced_gamma`), fits k-prototypes, measures its quality without truth (stability over bootstrap refits,
silhouette, each feature's share of the cost), gives segments stable ids and names. Planted truth is never read
here: the ARI against it is reported by `journeys.segments.reports.segment_metrics`, as an outcome.

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
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, silhouette_score

from journeys.contract import ScoringContext
from journeys.kprototypes import KPrototypes, encode_categories, fit_categories, split_num_cat
from journeys.runs.sampling import stratified_sample
from journeys.runs.skipped import CannotTrain
from journeys.segments.config import SegmentSettings
from journeys.segments.features import SegmentFeatures, informative_features
from journeys.segments.model import SegmentModel, pairwise_dissimilarity
from journeys.segments.naming import segment_names

LOG = logging.getLogger("journeys.segments")
SILHOUETTE_ROWS = 2_000
K_SILHOUETTE_MARGIN = 0.02
WARM_START_COST_MARGIN = 0.02
# gamma is balanced when the numeric features' share of the cost is within this of one half, or after this
# many fits at the chosen k (the first one is the k selection's own fit).
GAMMA_SHARE_TOLERANCE = 0.05
GAMMA_MAX_FITS = 3
# A retraining keeps the previous gamma while the numeric share at it stays within this of one half: fits at
# one gamma on another seed's sample differ by about that much (0.475 and 0.417 on the 30k test export).
GAMMA_KEEP_TOLERANCE = 0.1


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


def _kprototypes(k: int, settings: SegmentSettings, gamma: float | None) -> KPrototypes:
    """The estimator the k selection, the gamma balance and the final fit use: Cao init, the settings' seed."""
    return KPrototypes(
        n_clusters=k,
        init="Cao",
        n_init=settings.n_init,
        max_iter=settings.max_iter,
        gamma=gamma,
        random_state=settings.seed,
    )


def cost_parts(X: pd.DataFrame, categorical: list[int], model: KPrototypes, labels: np.ndarray) -> tuple[float, int]:
    """The numeric cost (squared z-distances to the prototypes, missing left out) and the categorical mismatches
    of `X` assigned to `labels` (prototype positions): the model's cost is numeric + gamma x mismatches."""
    xnum, xcat = split_num_cat(X.to_numpy(dtype=object), categorical)
    diff = xnum - model.centroids_num_[labels]
    modes = np.column_stack([
        np.asarray(model.categories_[j], dtype=object)[model.centroids_cat_[labels, j]] for j in range(xcat.shape[1])
    ])
    return float(np.nansum(diff * diff)), int(np.sum(xcat != modes))


def dispersion_gamma(X: pd.DataFrame, categorical: list[int]) -> float:
    """gamma at which numeric and categorical features carry equal shares of the cost of a single segment:
    the squared z-distances to the numeric means over the mismatches with each categorical's commonest value."""
    xnum, xcat = split_num_cat(X.to_numpy(dtype=object), categorical)
    numeric = float(np.nansum((xnum - np.nanmean(xnum, axis=0)) ** 2)) if xnum.shape[1] else 0.0
    mismatches = sum(len(column) - pd.Series(column).value_counts().iloc[0] for column in xcat.T)
    return numeric / mismatches if numeric > 0 and mismatches > 0 else 1.0


def balanced_gamma(
    sample: pd.DataFrame, categorical: list[int], k: int, settings: SegmentSettings, first_fit: KPrototypes,
    tolerance: float = GAMMA_SHARE_TOLERANCE,
) -> tuple[float, list[dict[str, float]]]:
    """gamma at which numeric and categorical features carry equal shares of the k-segment cost, on the sample.

    From `first_fit` (k segments at the starting gamma), each step sets gamma to the one that would equalise the
    last fit's shares (its numeric cost over its mismatches) and refits, until the numeric share is within
    `tolerance` of one half or GAMMA_MAX_FITS fits were made; the evaluated gamma closest to balance wins.
    Returns it and every step (gamma, numeric share).
    """
    rows, model, steps = sample.to_numpy(dtype=object), first_fit, []
    for _ in range(GAMMA_MAX_FITS):
        gamma = float(model.gamma)
        numeric, mismatches = cost_parts(sample, categorical, model, model.labels_)
        total = numeric + gamma * mismatches
        steps.append({"gamma": gamma, "cost_share_numeric": numeric / total if total > 0 else 0.5})
        if abs(steps[-1]["cost_share_numeric"] - 0.5) <= tolerance or numeric <= 0 or mismatches <= 0:
            break
        tolerance = GAMMA_SHARE_TOLERANCE
        model = _kprototypes(k, settings, numeric / mismatches).fit(rows, categorical=categorical)
    best = min(steps, key=lambda step: abs(step["cost_share_numeric"] - 0.5))
    LOG.info("segments: gamma %.3f balances numeric and categorical costs (numeric share %.3f; steps %s)",
             best["gamma"], best["cost_share_numeric"],
             ", ".join(f"{step['gamma']:.3f}: {step['cost_share_numeric']:.3f}" for step in steps))
    return best["gamma"], steps


def k_candidates(settings: SegmentSettings, distinct_rows: int) -> list[int]:
    """The k values to fit: journeys_segments.k, or journeys_segments.k_range shrunk to the data (a silhouette needs fewer
    segments than distinct rows). Raises CannotTrain when no k fits."""
    if distinct_rows < 2:
        raise CannotTrain(
            f"the contacts have {distinct_rows} distinct feature row(s); k-prototypes needs at least 2"
        )
    if settings.k is not None:
        if settings.k > distinct_rows:
            raise CannotTrain(
                f"journeys_segments.k is {settings.k} but the contacts have only {distinct_rows} distinct feature rows: "
                "lower journeys_segments.k or set it to auto"
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


def k_sample(X: pd.DataFrame, settings: SegmentSettings) -> pd.DataFrame:
    """The seeded sample (at most journeys_segments.k_sample contacts) that k and gamma are chosen on."""
    rng = np.random.default_rng(settings.seed)
    return X.iloc[np.sort(rng.choice(len(X), min(settings.k_sample, len(X)), replace=False))]


def select_k(
    sample: pd.DataFrame, categorical: list[int], settings: SegmentSettings, gamma: float | None,
    previous_k: int | None = None,
) -> tuple[list[dict[str, Any]], KPrototypes]:
    """Cost and silhouette of every k in the range on the sample, the elbow, and the chosen k (with its fit).

    On a retraining (`previous_k` given) auto keeps the previous model's k unless the new choice's silhouette
    beats it by more than K_SILHOUETTE_MARGIN: silhouettes of neighbouring k differ by less than their noise
    between seeds, and a k that flips with the seed would reshuffle every dashboard's segments.
    """
    rng = np.random.default_rng(settings.seed + 1)
    scored = np.sort(rng.choice(len(sample), min(SILHOUETTE_ROWS, len(sample)), replace=False))
    ks = k_candidates(settings, len(sample.drop_duplicates()))
    rows, fits, distances = [], {}, None
    for k in ks:
        model = _kprototypes(k, settings, gamma).fit(sample.to_numpy(dtype=object), categorical=categorical)
        fits[k] = model
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
    selection = "auto: best silhouette at the elbow or a neighbour" if settings.k is None else "fixed: journeys_segments.k"
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
    return rows, fits[chosen]


@dataclass
class Choice:
    """What the rule chose: the fitted features and their frame, k, gamma, the k selection's rows and a record
    (features left out and why, the gamma rule, its starting value and balancing steps)."""

    features: SegmentFeatures
    X: pd.DataFrame
    k: int
    gamma: float
    k_selection: list[dict[str, Any]]
    record: dict[str, Any]


def choose_settings(
    contacts: pd.DataFrame, settings: SegmentSettings, previous_k: int | None = None,
    previous_gamma: float | None = None,
) -> Choice:
    """The rule of _segments.yml, from the contacts' features alone: informative features (scaled), the
    starting gamma (journeys_segments.gamma; `auto`: equal numeric and categorical shares of one segment's cost),
    k (journeys_segments.k; `auto`: elbow and silhouette on the sample), then for `auto` gamma the weight that
    balances the chosen k's cost.

    On a retraining that keeps the previous model's k, `auto` balancing starts from the previous gamma and keeps
    it while it still balances the cost (within GAMMA_KEEP_TOLERANCE): as for k, a gamma that moves with the
    seed's sample would reshuffle segments that the data has not changed."""
    config, dropped = informative_features(contacts, settings.features, settings.min_feature_share)
    for name, why in dropped.items():
        LOG.warning("segments: feature %s left out, not informative (%s)", name, why)
    features = SegmentFeatures.fit(contacts, config)
    X = features.transform(contacts)
    categorical = features.categorical_indices
    sample = k_sample(X, settings)
    start = dispersion_gamma(sample, categorical) if settings.gamma == "auto" else settings.gamma
    k_selection, fit = select_k(sample, categorical, settings, start, previous_k)
    k = next(row["k"] for row in k_selection if row["is_chosen"])
    gamma, steps = float(fit.gamma), []
    if settings.gamma == "auto":
        keeps_previous = previous_gamma is not None and k == previous_k
        if keeps_previous:
            fit = _kprototypes(k, settings, previous_gamma).fit(sample.to_numpy(dtype=object), categorical=categorical)
        tolerance = GAMMA_KEEP_TOLERANCE if keeps_previous else GAMMA_SHARE_TOLERANCE
        gamma, steps = balanced_gamma(sample, categorical, k, settings, fit, tolerance)
    record = {"features_dropped": dropped, "gamma_rule": _gamma_rule(settings.gamma),
              "gamma_start": float(start) if settings.gamma == "auto" else gamma, "gamma_steps": steps}
    return Choice(features, X, k, gamma, k_selection, record)


def _gamma_rule(gamma: float | str | None) -> str:
    if gamma == "auto":
        return "auto: equal numeric and categorical shares of the cost"
    return "kmodes: 0.5 x mean numeric std" if gamma is None else "fixed: journeys_segments.gamma"


def training_sample(contacts: pd.DataFrame, settings: SegmentSettings) -> np.ndarray:
    """Positions of the contacts the segment model trains on: journeys_segments.train_rows of them (0 = all),
    seeded and stratified by the contact's categorical profile (its categorical features and which presence
    features it has), so rare profiles keep their share."""
    config = settings.features
    profile = np.zeros(len(contacts), dtype=np.int64)
    for name in config.categorical_features:
        if name in contacts.columns:
            codes, uniques = pd.factorize(contacts[name], use_na_sentinel=False)
            profile = pd.factorize(profile * max(len(uniques), 1) + codes)[0]
    for name in config.presence_features:
        if name in contacts.columns:
            profile = pd.factorize(profile * 2 + contacts[name].notna().to_numpy(dtype=np.int64))[0]
    return stratified_sample(profile, settings.train_rows, settings.seed)


def train_segment_model(
    contacts: pd.DataFrame, settings: SegmentSettings, previous: SegmentModel | None = None,
    context: ScoringContext | None = None,
) -> SegmentModel:
    """Fit features on all contacts and k-prototypes on the training sample (journeys_segments.train_rows); ids by
    size, or matched to `previous`; names; quality. `context` is saved with the model for the service."""
    start = time.perf_counter()
    sample = training_sample(contacts, settings)
    chosen = choose_settings(
        contacts.iloc[sample].reset_index(drop=True), settings, previous.n_segments if previous is not None else None,
        float(previous.kprototypes.gamma) if previous is not None else None,
    )
    features, X, k, gamma = chosen.features, chosen.X, chosen.k, chosen.gamma
    categorical = features.categorical_indices
    rows = X.to_numpy(dtype=object)
    model = _kprototypes(k, settings, gamma).fit(rows, categorical=categorical)
    warm = _warm_start(features, rows, categorical, k, gamma, settings, previous)
    if warm is not None and warm.cost_ <= model.cost_ * (1 + WARM_START_COST_MARGIN):
        LOG.info("segments: the fit started from the previous prototypes is kept (cost %.1f, seeded fits %.1f)",
                 warm.cost_, model.cost_)
        model = warm
    labels = (model.labels_ if len(sample) == len(contacts)
              else model.predict(features.transform(contacts).to_numpy(dtype=object), categorical=categorical))
    order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")
    model.centroids_num_, model.centroids_cat_ = model.centroids_num_[order], model.centroids_cat_[order]
    index = np.argsort(order)[labels]
    segment_ids, next_id = match_segment_ids(features, model, previous)
    training = {
        "n_contacts": len(contacts),
        "train_rows": len(sample),
        "k": k,
        "gamma": float(model.gamma),
        "cost": float(model.cost_),
        "n_iter": int(model.n_iter_),
        "n_init": settings.n_init,
        "seed": settings.seed,
        "previous_version": previous.version if previous is not None else None,
        "selection": chosen.record,
        "quality": segment_quality(X, categorical, model, index[sample], settings),
    }
    training["seconds"] = round(time.perf_counter() - start, 3)
    state = {"features": features.to_dict(), "kprototypes": model.to_dict(), "segment_ids": segment_ids}
    digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:12]
    LOG.info("segments: k=%d fitted on %d of %d contacts in %.1f s", k, len(sample), len(contacts),
             training["seconds"])
    return SegmentModel(f"kproto-{digest}", features, model, chosen.k_selection, training, segment_ids,
                        segment_names(features, contacts, index, segment_ids), next_id, context)


def _warm_start(
    features: SegmentFeatures, rows: np.ndarray, categorical: list[int], k: int, gamma: float,
    settings: SegmentSettings, previous: SegmentModel | None,
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
    return KPrototypes(n_clusters=k, init=[centroids_num, codes], max_iter=settings.max_iter, gamma=gamma,
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
    rng = np.random.default_rng(settings.seed)
    assignments = []
    for fit in range(settings.stability_fits):
        sample = rng.choice(len(X), min(settings.k_sample, len(X)), replace=True)
        if len(X.iloc[sample].drop_duplicates()) <= model.n_clusters:  # a tiny export's resample cannot refit k
            continue
        refit = KPrototypes(n_clusters=model.n_clusters, init="Cao", n_init=settings.n_init,
                            max_iter=settings.max_iter, gamma=model.gamma, random_state=settings.seed + 1 + fit)
        refit.fit(X.iloc[sample], categorical=categorical)
        assignments.append(refit.predict(X, categorical=categorical))
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
