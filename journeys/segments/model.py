"""The fitted segment model (features + k-prototypes + segment ids and names), and saving / loading it as JSON
under `$JOURNEYS_ARTIFACTS/segments/`.

`SegmentModel.score` is the single scoring path: the build writes `contact_segments` with it and the service
reaches the same code through `load_segment_model`. Training lives in `journeys.segments.training`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeys.contract import ScoringContext
from journeys.kprototypes import KPrototypes, categorical_column, encode_categories, split_num_cat
from journeys.runs import registry
from journeys.segments.config import SegmentSettings
from journeys.segments.features import SegmentFeatures

ARTIFACT_FORMAT = "journeys.segments/2"
MODEL_NAME = "segments"  # its folder under $JOURNEYS_ARTIFACTS
MODEL_FILE = "segment_model.json"  # in each version's folder (journeys.runs.registry)
SCORE_COLUMNS = ["contact_id", "segment_id", "dissimilarity"]


@dataclass
class SegmentModel:
    """A fitted segment model: feature preparation + k-prototypes, the stable id and the name of each
    prototype's segment, the k-selection record and the training figures."""

    version: str
    features: SegmentFeatures
    kprototypes: KPrototypes
    k_selection: list[dict[str, Any]]
    training: dict[str, Any]
    segment_ids: list[int] = field(default_factory=list)
    names: list[dict[str, str]] = field(default_factory=list)
    next_segment_id: int = 0
    context: ScoringContext | None = None  # the seeds of the build that trained it, for the service

    def __post_init__(self) -> None:
        if not self.segment_ids:
            self.segment_ids = list(range(self.n_segments))
        self.next_segment_id = max(self.next_segment_id, max(self.segment_ids) + 1)

    @property
    def n_segments(self) -> int:
        return self.kprototypes.n_clusters

    def score(self, contacts: pd.DataFrame) -> pd.DataFrame:
        """Segment and dissimilarity to its prototype for each contact (columns of the feature contract)."""
        if "contact_id" not in contacts.columns:
            raise ValueError("contacts to score need a contact_id column")
        X = self.features.transform(contacts)
        nearest_index, nearest = self.kprototypes.transform_nearest(X, self.features.categorical_indices)
        return pd.DataFrame(
            {
                "contact_id": contacts["contact_id"].to_numpy(dtype=np.int64),
                "segment_id": np.asarray(self.segment_ids, dtype=np.int32)[nearest_index],
                "dissimilarity": nearest,
            }
        )

    def index_of(self, segment_id: int) -> int:
        """Position of a segment's prototype in the k-prototypes arrays."""
        return self.segment_ids.index(int(segment_id))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ARTIFACT_FORMAT,
            "version": self.version,
            "features": self.features.to_dict(),
            "kprototypes": self.kprototypes.to_dict(),
            "k_selection": self.k_selection,
            "training": self.training,
            "segment_ids": self.segment_ids,
            "names": self.names,
            "next_segment_id": self.next_segment_id,
            "scoring_context": None if self.context is None else self.context.to_json(),
        }

    def save(self, folder: Path) -> Path:
        """Write the model into a version's folder."""
        path = Path(folder) / MODEL_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True))
        return path


def load_segment_model(artifacts_dir: Path | str, version: str | None = None) -> SegmentModel:
    """A saved version under `artifacts_dir` (e.g. $JOURNEYS_ARTIFACTS), the current one by default."""
    path = registry.version_folder(artifacts_dir, MODEL_NAME, version) / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"no segment model at {path}: run `make build` (dbt model contact_segments) first")
    state = json.loads(path.read_text())
    if state.get("format") != ARTIFACT_FORMAT:
        raise ValueError(f"{path} has format {state.get('format')!r}, expected {ARTIFACT_FORMAT!r}")
    return SegmentModel(
        version=state["version"],
        features=SegmentFeatures.from_dict(state["features"]),
        kprototypes=KPrototypes.from_dict(state["kprototypes"]),
        k_selection=state["k_selection"],
        training=state["training"],
        segment_ids=[int(i) for i in state["segment_ids"]],
        names=state["names"],
        next_segment_id=int(state["next_segment_id"]),
        context=None if state.get("scoring_context") is None else ScoringContext.from_json(state["scoring_context"]),
    )


def pairwise_dissimilarity(X: pd.DataFrame, categorical: list[int], gamma: float) -> np.ndarray:
    """k-prototypes dissimilarity between every pair of rows (NaN coordinates left out), for silhouettes."""
    xnum, xcat_raw = split_num_cat(X, categorical)
    out = np.zeros((len(X), len(X)))
    for j in range(xnum.shape[1]):
        diff = np.nan_to_num(xnum[:, j, None] - xnum[None, :, j])
        out += diff * diff
    for j in range(xcat_raw.shape[1]):
        codes = pd.factorize(categorical_column(xcat_raw, j))[0]
        out += gamma * (codes[:, None] != codes[None, :])
    return out


def model_for(scored: pd.DataFrame, meta: dict[str, Any]) -> tuple[SegmentModel, SegmentSettings]:
    """The saved model that wrote `scored` (contact_segments); refuses a stale or foreign artifact."""
    settings = SegmentSettings.from_meta(meta)
    versions = scored["model_version"].unique()
    if len(versions) != 1:
        raise RuntimeError(f"contact_segments holds {len(versions)} model versions; expected exactly one")
    return load_segment_model(settings.artifacts_dir, str(versions[0])), settings


def encoded_features(model: SegmentModel, contacts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Scaled numeric block and categorical codes of `contacts`, in the model's encoding."""
    xnum, xcat_raw = split_num_cat(model.features.transform(contacts), model.features.categorical_indices)
    return xnum, encode_categories(xcat_raw, model.kprototypes.categories_)
