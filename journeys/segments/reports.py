"""Tables that describe the segments of the saved model: the `segments` dimension (ids, names), centroids,
profiles, pairwise comparison, k selection and quality metrics. Each is one dbt Python model downstream of `contact_segments`.

Only feature values, counts and shares leave this module: no contact identifiers beyond segment sizes,
and never an e-mail (none is among the features the SQL layer exposes).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from journeys.runs.skipped import empty_table
from journeys.segments.model import SegmentModel, encoded_features, model_for
from journeys.synth.truth import read_truth

MODEL_NAME = "segments"
TOP_CATEGORIES_PROFILED = 5
SEPARATING_FEATURES = 3


def segment_centroids(scored: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """One row per segment and feature: the prototype's value (scaled, and in the feature's own units)."""
    if scored.empty:  # the segment model was skipped (journeys.runs.skipped)
        return empty_table("segment_centroids")
    model, _ = model_for(scored, meta)
    features, kp = model.features, model.kprototypes
    rows = []
    for position, segment in enumerate(model.segment_ids):
        for j, name in enumerate(features.numeric_columns):
            scaled = float(kp.centroids_num_[position, j])
            rows.append(
                {
                    "segment_id": segment,
                    "feature": name,
                    "feature_type": "count" if name in features.config.count_features else "days",
                    "scaled_value": scaled,
                    "value": _unscale(features, name, scaled),
                    "category": None,
                }
            )
        for j, name in enumerate(features.categorical_columns):
            rows.append(
                {
                    "segment_id": segment,
                    "feature": name,
                    "feature_type": "categorical",
                    "scaled_value": None,
                    "value": None,
                    "category": str(kp.categories_[j][kp.centroids_cat_[position, j]]),
                }
            )
    return _with_version(pd.DataFrame(rows), model)


def segment_feature_scaling(scored: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """How the saved model turns a contact row into features, as rows SQL can read (contact_segments_sql).

    One row per feature (numerics: mean and std of the z-score; presence flags: the column whose presence
    counts), and for categoricals one row per kept category (a value outside them is `other`, NULL is
    `missing`). gamma weighs one categorical mismatch in the dissimilarity.
    """
    if scored.empty:  # the segment model was skipped (journeys.runs.skipped)
        return empty_table("segment_feature_scaling")
    model, _ = model_for(scored, meta)
    features, config = model.features, model.features.config
    presence = dict(zip(features.categorical_columns[len(config.categorical_features) :], config.presence_features))
    rows = []
    for index, name in enumerate(features.columns):
        row = {
            "feature": name,
            "feature_index": index,
            "source_column": presence.get(name, name),
            "scale_mean": features.means.get(name),
            "scale_std": features.stds.get(name),
            "category": None,
        }
        if name in config.count_features:
            rows.append({**row, "feature_type": "count"})
        elif name in config.day_features:
            rows.append({**row, "feature_type": "days"})
        elif name in presence:
            rows.append({**row, "feature_type": "presence"})
        else:
            kept = features.categories[name] or [None]
            rows += [{**row, "feature_type": "categorical", "category": value} for value in kept]
    frame = pd.DataFrame(rows)
    frame["gamma"] = float(model.kprototypes.gamma)
    return _with_version(frame, model)


def _unscale(features, name: str, scaled: float) -> float:
    """Back to the feature's own units: days, or counts (undoing log1p: a geometric-style mean)."""
    raw = scaled * features.stds[name] + features.means[name]
    return max(float(np.expm1(raw)), 0.0) if name in features.config.count_features else float(raw)


def segment_profiles(contacts: pd.DataFrame, scored: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """Per segment: size, share, buyer rate; mean and median of each numeric feature (own units, missing
    left out); the top categories with their shares for each categorical feature and presence flag."""
    if scored.empty:  # the segment model was skipped (journeys.runs.skipped)
        return empty_table("segment_profiles")
    model, _ = model_for(scored, meta)
    data = _joined(contacts, scored)
    features = model.features
    n_total = len(data)
    rows = []
    for segment, members in data.groupby("segment_id", sort=True):
        base = {
            "segment_id": int(segment),
            "segment_name": model.names[model.index_of(segment)]["name"],
            "segment_size": len(members),
            "segment_share": len(members) / n_total,
            "buyer_rate": float(members["is_buyer"].mean()) if "is_buyer" in members else None,
        }
        for name in features.numeric_columns:
            values = pd.to_numeric(members[name], errors="coerce")
            if name in features.config.count_features:
                values = values.fillna(0.0)
            for statistic, value in (("mean", values.mean()), ("median", values.median())):
                rows.append(
                    {
                        **base,
                        "feature": name,
                        "statistic": statistic,
                        "category": None,
                        "rank": None,
                        "value": None if pd.isna(value) else float(value),
                    }
                )
        labels = features.transform(members)
        for name in features.categorical_columns:
            shares = labels[name].value_counts(normalize=True).rename_axis("category").reset_index()
            shares = shares[shares["proportion"] > 0]  # a Categorical counts its unseen categories as 0
            shares = shares.sort_values(["proportion", "category"], ascending=[False, True])
            for rank, (category, share) in enumerate(
                shares.head(TOP_CATEGORIES_PROFILED).itertuples(index=False), 1
            ):
                rows.append(
                    {
                        **base,
                        "feature": name,
                        "statistic": "share",
                        "category": str(category),
                        "rank": rank,
                        "value": float(share),
                    }
                )
    return _with_version(pd.DataFrame(rows), model)


def segment_comparison(contacts: pd.DataFrame, scored: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """Every pair of segments: the dissimilarity of their prototypes and the features that separate them.

    A feature's separation is its share of the k-prototypes objective between the two groups: the squared
    difference of the scaled means for numerics, gamma x the total-variation distance of the category
    distributions for categoricals (the expected mismatch gap; the prototypes' modes alone hide it).
    """
    if scored.empty:  # the segment model was skipped (journeys.runs.skipped)
        return empty_table("segment_comparison")
    model, _ = model_for(scored, meta)
    kp, features = model.kprototypes, model.features
    contacts = contacts.sort_values("contact_id", ignore_index=True)  # sums independent of the warehouse's order
    xnum, xcat = encoded_features(model, contacts)
    ids = scored.set_index("contact_id").loc[contacts["contact_id"], "segment_id"].to_numpy()
    labels = pd.Series(range(model.n_segments), index=model.segment_ids).loc[ids].to_numpy()
    k = model.n_segments
    means = np.vstack(
        [
            np.nanmean(xnum[labels == s], axis=0) if (labels == s).any() else kp.centroids_num_[s]
            for s in range(k)
        ]
    )
    distributions = [
        np.vstack(
            [
                np.bincount(xcat[labels == s, j], minlength=len(values)) / max((labels == s).sum(), 1)
                for s in range(k)
            ]
        )
        for j, values in enumerate(kp.categories_)
    ]
    rows = []
    by_id = sorted(range(k), key=lambda position: model.segment_ids[position])
    for a, b in combinations(by_id, 2):
        prototype = float(
            np.sum((kp.centroids_num_[a] - kp.centroids_num_[b]) ** 2)
            + kp.gamma * np.count_nonzero(kp.centroids_cat_[a] != kp.centroids_cat_[b])
        )
        separation = {
            name: float((means[a, j] - means[b, j]) ** 2) for j, name in enumerate(features.numeric_columns)
        }
        for j, name in enumerate(features.categorical_columns):
            separation[name] = float(kp.gamma * 0.5 * np.abs(distributions[j][a] - distributions[j][b]).sum())
        ranked = sorted(separation.items(), key=lambda item: (-item[1], item[0]))[:SEPARATING_FEATURES]
        for rank, (name, value) in enumerate(ranked, 1):
            rows.append(
                {
                    "segment_a": model.segment_ids[a],
                    "segment_b": model.segment_ids[b],
                    "prototype_dissimilarity": prototype,
                    "rank": rank,
                    "feature": name,
                    "separation": value,
                    "detail": _detail(model, name, a, b, means, distributions),
                }
            )
    return _with_version(pd.DataFrame(rows), model)


def _detail(model: SegmentModel, name: str, a: int, b: int, means: np.ndarray, distributions: list) -> str:
    """Human-readable contrast: group means in the feature's units, or each group's most common category."""
    features, kp = model.features, model.kprototypes
    if name in features.numeric_columns:
        j = features.numeric_columns.index(name)
        return (
            f"mean {_unscale(features, name, means[a, j]):.3g} vs {_unscale(features, name, means[b, j]):.3g}"
        )
    j = features.categorical_columns.index(name)
    top_a, top_b = int(distributions[j][a].argmax()), int(distributions[j][b].argmax())
    values = kp.categories_[j]
    return (
        f"{values[top_a]} {distributions[j][a][top_a]:.0%} vs {values[top_b]} {distributions[j][b][top_b]:.0%}; "
        f"{values[top_a]} in segment {model.segment_ids[b]}: {distributions[j][b][top_a]:.0%}"
    )


def segment_k_selection(scored: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """Every evaluated k's cost and silhouette on the sample, the elbow and the choice."""
    if scored.empty:  # the segment model was skipped (journeys.runs.skipped)
        return empty_table("segment_k_selection")
    model, _ = model_for(scored, meta)
    return _with_version(pd.DataFrame(model.k_selection), model)


def segment_metrics(scored: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """model_metrics rows: fit figures on all contacts, quality without truth (stability, silhouette, each
    feature's share of the cost) and, as an outcome only, the ARI against planted truth when it exists."""
    if scored.empty:  # the segment model was skipped (journeys.runs.skipped)
        return empty_table("segment_metrics")
    model, settings = model_for(scored, meta)
    training = model.training
    quality = training["quality"]
    sizes = scored["segment_id"].value_counts().reindex(model.segment_ids, fill_value=0)
    chosen = next(row for row in model.k_selection if row["is_chosen"])
    selection = training.get("selection", {})
    rows = [
        ("all", "k", training["k"]),
        ("all", "cost", training["cost"]),
        ("all", "mean_dissimilarity", float(scored["dissimilarity"].mean())),
        ("all", "n_iter", training["n_iter"]),
        ("all", "gamma", training["gamma"]),
        ("sample", "gamma_start", selection.get("gamma_start", training["gamma"])),
        ("sample", "gamma_balance_fits", len(selection.get("gamma_steps", []))),
        ("all", "features_used", len(model.features.columns)),
        ("all", "features_left_out", len(selection.get("features_dropped", {}))),
        ("all", "n_contacts", len(scored)),
        ("all", "train_rows", training.get("train_rows", training["n_contacts"])),
        ("all", "train_seconds", training["seconds"]),
        ("all", "smallest_segment_share", float(sizes.min() / sizes.sum())),
        ("all", "largest_segment_share", float(sizes.max() / sizes.sum())),
        ("all", "stability_ari", quality["stability_ari"]),
        ("all", "stability_ari_min", quality["stability_ari_min"]),
        ("all", "stability_fits", quality["stability_fits"]),
        ("sample", "silhouette", quality["silhouette"]),
        ("sample", "k_selection_silhouette", chosen["silhouette"]),
        ("all", "cost_share_numeric", sum(quality["cost_shares"][name] for name in model.features.numeric_columns)),
        (
            "all",
            "cost_share_categorical",
            sum(quality["cost_shares"][name] for name in model.features.categorical_columns),
        ),
        *[("all", f"cost_share_{name}", share) for name, share in quality["cost_shares"].items()],
        *[("all", f"segment_{s}_size", int(size)) for s, size in sizes.items()],
    ]
    truth = read_truth(settings.raw_dir, ["segment"])
    if truth is not None:
        joined = scored.merge(truth, on="contact_id", how="inner")
        rows += [
            (
                "truth",
                "adjusted_rand_index",
                float(adjusted_rand_score(joined["segment"], joined["segment_id"])),
            ),
            ("truth", "n_contacts_with_truth", len(joined)),
            ("truth", "n_planted_segments", int(joined["segment"].nunique())),
        ]
    frame = pd.DataFrame(rows, columns=["split", "metric", "value"])
    frame["value"] = frame["value"].astype(float)
    frame.insert(0, "model_version", model.version)
    frame.insert(0, "model_name", MODEL_NAME)
    return frame


def _joined(contacts: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Contacts with their segment; every contact must have exactly one."""
    data = contacts.merge(
        scored[["contact_id", "segment_id"]], on="contact_id", how="left", validate="one_to_one"
    ).sort_values("contact_id", ignore_index=True)  # sums independent of the warehouse's row order
    if data["segment_id"].isna().any():
        missing = data.loc[data["segment_id"].isna(), "contact_id"].iloc[0]
        raise RuntimeError(
            f"contact {missing} of contact_features has no row in contact_segments"
        )
    return data


def _with_version(frame: pd.DataFrame, model: SegmentModel) -> pd.DataFrame:
    frame["model_version"] = model.version
    return frame


def segments_dimension(scored: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """One row per segment: stable id, readable name, one-line description, contacts and share."""
    if scored.empty:  # the segment model was skipped (journeys.runs.skipped)
        return empty_table("segments")
    model, _ = model_for(scored, meta)
    contacts = scored["segment_id"].value_counts().reindex(model.segment_ids, fill_value=0)
    frame = pd.DataFrame({
        "segment_id": np.asarray(model.segment_ids, dtype=np.int32),
        "segment_name": [names["name"] for names in model.names],
        "segment_description": [names["description"] for names in model.names],
        "contacts": contacts.to_numpy(dtype=np.int64),
        "share": contacts.to_numpy(dtype=float) / max(len(scored), 1),
    }).sort_values("segment_id", ignore_index=True)
    return _with_version(frame, model)
