"""Customer segments: train k-prototypes on the contact features once, save it, score contacts with it.

`build_contact_segments` is what the dbt model `contact_segments` calls: it prepares the features, chooses
k (var `segments_k`; `auto`: cost elbow and silhouette over a range, on a sample), fits, saves it under
`$JOURNEYS_ARTIFACTS/segments/` as JSON and scores every contact through `SegmentModel.score`, the same
code the service reaches through `load_segment_model`. Segment ids are ordered by size (0 = largest).
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_score

from journeys.features import FeatureConfig, SegmentFeatures
from journeys.kprototypes import KPrototypes, encode_categories, split_num_cat

LOG = logging.getLogger("journeys.segments")
ARTIFACT_FORMAT = "journeys.segments/1"
MODEL_FILE = Path("segments") / "segment_model.json"
SCORE_COLUMNS = ["contact_id", "segment_id", "dissimilarity"]
SILHOUETTE_ROWS = 2_000


@dataclass(frozen=True)
class SegmentSettings:
    """The dbt vars `segments_*` (see dbt_project.yml) plus the artifacts and raw-data folders."""

    features: FeatureConfig
    k: int | None
    k_range: tuple[int, int]
    k_sample: int
    n_init: int
    max_iter: int
    gamma: float | None
    seed: int
    artifacts_dir: Path
    raw_dir: Path

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> SegmentSettings:
        """Parse the rendered YAML `meta.segments` block (Jinja renders every value as a string)."""
        values = {key: _parse(value) for key, value in meta.items()}
        required = [
            "k",
            "k_range",
            "k_sample",
            "n_init",
            "max_iter",
            "gamma",
            "seed",
            "count_features",
            "day_features",
            "categorical_features",
            "presence_features",
            "top_categories",
            "artifacts_dir",
            "raw_dir",
        ]
        absent = [key for key in required if key not in values]
        if absent:
            raise ValueError(f"meta.segments lacks {absent} (see python_models/segments/_segments.yml)")
        lists = ["k_range", "count_features", "day_features", "categorical_features", "presence_features"]
        not_lists = [key for key in lists if not isinstance(values[key], list)]
        if not_lists:
            raise ValueError(f"vars segments_{not_lists[0]} must be a list, got {meta[not_lists[0]]!r}")
        k = values["k"]
        if not (k == "auto" or (isinstance(k, int) and k >= 2)):
            raise ValueError(f"var segments_k must be 'auto' or an integer >= 2, got {k!r}")
        k_range = tuple(int(v) for v in values["k_range"])
        if len(k_range) != 2 or not 2 <= k_range[0] <= k_range[1]:
            raise ValueError(
                f"var segments_k_range must be [min, max] with 2 <= min <= max, got {values['k_range']}"
            )
        return cls(
            features=FeatureConfig(
                count_features=tuple(values["count_features"]),
                day_features=tuple(values["day_features"]),
                categorical_features=tuple(values["categorical_features"]),
                presence_features=tuple(values["presence_features"]),
                top_categories=int(values["top_categories"]),
            ),
            k=None if k == "auto" else int(k),
            k_range=(k_range[0], k_range[1]),
            k_sample=int(values["k_sample"]),
            n_init=int(values["n_init"]),
            max_iter=int(values["max_iter"]),
            gamma=None if values["gamma"] in (None, "None", "none", "null", "") else float(values["gamma"]),
            seed=int(values["seed"]),
            artifacts_dir=Path(str(values["artifacts_dir"])),
            raw_dir=Path(str(values["raw_dir"])),
        )


def _parse(value: Any) -> Any:
    """Decode rendered strings (`7`, `['a']`, `["a"]`, `None`, `null`); words such as `auto` stay strings."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


@dataclass
class SegmentModel:
    """A fitted segment model: feature preparation + k-prototypes, with the k-selection record."""

    version: str
    features: SegmentFeatures
    kprototypes: KPrototypes
    k_selection: list[dict[str, Any]]
    training: dict[str, Any]

    @property
    def n_segments(self) -> int:
        return self.kprototypes.n_clusters

    def score(self, contacts: pd.DataFrame) -> pd.DataFrame:
        """Segment and dissimilarity to its prototype for each contact (columns of the feature contract)."""
        if "contact_id" not in contacts.columns:
            raise ValueError("contacts to score need a contact_id column")
        X = self.features.transform(contacts)
        labels, nearest = self.kprototypes.transform_nearest(
            X.to_numpy(dtype=object), self.features.categorical_indices
        )
        return pd.DataFrame(
            {
                "contact_id": contacts["contact_id"].to_numpy(dtype=np.int64),
                "segment_id": labels.astype(np.int32),
                "dissimilarity": nearest,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ARTIFACT_FORMAT,
            "version": self.version,
            "features": self.features.to_dict(),
            "kprototypes": self.kprototypes.to_dict(),
            "k_selection": self.k_selection,
            "training": self.training,
        }

    def save(self, artifacts_dir: Path) -> Path:
        path = Path(artifacts_dir) / MODEL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True))
        tmp.replace(path)
        return path


def load_segment_model(artifacts_dir: Path | str) -> SegmentModel:
    """The model the last build saved under `artifacts_dir` (e.g. $JOURNEYS_ARTIFACTS)."""
    path = Path(artifacts_dir) / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"no segment model at {path}: run `make build` (dbt model contact_segments) first"
        )
    state = json.loads(path.read_text())
    if state.get("format") != ARTIFACT_FORMAT:
        raise ValueError(f"{path} has format {state.get('format')!r}, expected {ARTIFACT_FORMAT!r}")
    return SegmentModel(
        version=state["version"],
        features=SegmentFeatures.from_dict(state["features"]),
        kprototypes=KPrototypes.from_dict(state["kprototypes"]),
        k_selection=state["k_selection"],
        training=state["training"],
    )


def pairwise_dissimilarity(X: pd.DataFrame, categorical: list[int], gamma: float) -> np.ndarray:
    """k-prototypes dissimilarity between every pair of rows (NaN coordinates left out), for silhouettes."""
    xnum, xcat_raw = split_num_cat(X.to_numpy(dtype=object), categorical)
    out = np.zeros((len(X), len(X)))
    for j in range(xnum.shape[1]):
        diff = np.nan_to_num(xnum[:, j, None] - xnum[None, :, j])
        out += diff * diff
    for j in range(xcat_raw.shape[1]):
        codes = pd.factorize(xcat_raw[:, j])[0]
        out += gamma * (codes[:, None] != codes[None, :])
    return out


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


def select_k(X: pd.DataFrame, categorical: list[int], settings: SegmentSettings) -> list[dict[str, Any]]:
    """Cost and silhouette of every k in the range on a seeded sample, the elbow, and the chosen k."""
    rng = np.random.default_rng(settings.seed)
    sample = X.iloc[np.sort(rng.choice(len(X), min(settings.k_sample, len(X)), replace=False))]
    scored = np.sort(rng.choice(len(sample), min(SILHOUETTE_ROWS, len(sample)), replace=False))
    ks = list(range(settings.k_range[0], settings.k_range[1] + 1)) if settings.k is None else [settings.k]
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
    for row in rows:
        row.update(
            sample_size=len(sample),
            silhouette_sample_size=len(scored),
            is_elbow=row["k"] == elbow,
            is_chosen=row["k"] == chosen,
            selection="auto: best silhouette at the elbow or a neighbour"
            if settings.k is None
            else "fixed by var segments_k",
        )
    return rows


def train_segment_model(contacts: pd.DataFrame, settings: SegmentSettings) -> SegmentModel:
    """Fit features and k-prototypes on all contacts; segments are renumbered by size, largest first."""
    start = time.perf_counter()
    features = SegmentFeatures.fit(contacts, settings.features)
    X = features.transform(contacts)
    categorical = features.categorical_indices
    k_selection = select_k(X, categorical, settings)
    k = next(row["k"] for row in k_selection if row["is_chosen"])
    model = _kprototypes(k, settings).fit(X.to_numpy(dtype=object), categorical=categorical)
    order = np.argsort(-np.bincount(model.labels_, minlength=k), kind="stable")
    model.centroids_num_, model.centroids_cat_ = model.centroids_num_[order], model.centroids_cat_[order]
    training = {
        "n_contacts": len(contacts),
        "k": k,
        "gamma": float(model.gamma),
        "cost": float(model.cost_),
        "n_iter": int(model.n_iter_),
        "n_init": settings.n_init,
        "seed": settings.seed,
        "seconds": round(time.perf_counter() - start, 3),
    }
    state = {"features": features.to_dict(), "kprototypes": model.to_dict()}
    digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:12]
    LOG.info("segments: k=%d fitted on %d contacts in %.1f s", k, len(contacts), training["seconds"])
    return SegmentModel(f"kproto-{digest}", features, model, k_selection, training)


def build_contact_segments(contacts: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """dbt model contact_segments: train once, save the artifact, score every contact with it."""
    settings = SegmentSettings.from_meta(meta)
    model = train_segment_model(contacts, settings)
    model.save(settings.artifacts_dir)
    scored = model.score(contacts)
    scored["model_version"] = model.version
    return scored


def model_for(scored: pd.DataFrame, meta: dict[str, Any]) -> tuple[SegmentModel, SegmentSettings]:
    """The saved model that wrote `scored` (contact_segments); refuses a stale or foreign artifact."""
    settings = SegmentSettings.from_meta(meta)
    model = load_segment_model(settings.artifacts_dir)
    versions = scored["model_version"].unique()
    if len(versions) != 1 or versions[0] != model.version:
        raise RuntimeError(
            f"contact_segments holds model version(s) {list(versions)} but {settings.artifacts_dir / MODEL_FILE} "
            f"is {model.version}: rebuild contact_segments"
        )
    return model, settings


def encoded_features(model: SegmentModel, contacts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Scaled numeric block and categorical codes of `contacts`, in the model's encoding."""
    X = model.features.transform(contacts).to_numpy(dtype=object)
    xnum, xcat_raw = split_num_cat(X, model.features.categorical_indices)
    return xnum, encode_categories(xcat_raw, model.kprototypes.categories_)
