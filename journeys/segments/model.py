"""The segment model: its settings, the fitted model (features + k-prototypes + segment ids and names), and
saving / loading it as JSON under `$JOURNEYS_ARTIFACTS/segments/`.

`SegmentModel.score` is the single scoring path: the build writes `contact_segments` with it and the service
reaches the same code through `load_segment_model`. Training lives in `journeys.segments.training`.
"""

from __future__ import annotations

import ast
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeys.kprototypes import KPrototypes, categorical_column, encode_categories, split_num_cat
from journeys.retraining import parse_mode
from journeys.segments.features import FeatureConfig, SegmentFeatures

ARTIFACT_FORMAT = "journeys.segments/2"
SUBDIR = Path("segments")
MODEL_FILE = SUBDIR / "segment_model.json"
SCORE_COLUMNS = ["contact_id", "segment_id", "dissimilarity"]


@dataclass(frozen=True)
class SegmentSettings:
    """The dbt vars `segments_*` (see dbt_project.yml) plus the artifacts and raw-data folders."""

    features: FeatureConfig
    k: int | None
    k_range: tuple[int, int]
    k_sample: int
    n_init: int
    max_iter: int
    gamma: float | str | None  # a number, None (kmodes' rule) or "auto" (equal cost shares)
    seed: int
    stability_fits: int
    artifacts_dir: Path
    raw_dir: Path
    retrain: str = "auto"
    min_feature_share: float = 0.01
    train_rows: int = 0

    def compatibility(self) -> dict[str, Any]:
        """What a saved model must have been trained under to score today (paths and `retrain` aside)."""
        return {
            "features": asdict(self.features),
            "k": self.k,
            "k_range": self.k_range,
            "k_sample": self.k_sample,
            "n_init": self.n_init,
            "max_iter": self.max_iter,
            "gamma": self.gamma,
            "seed": self.seed,
            "stability_fits": self.stability_fits,
            "min_feature_share": self.min_feature_share,
            "train_rows": self.train_rows,
        }

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
            "stability_fits",
            "min_feature_share",
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
        gamma = None if values["gamma"] in (None, "None", "none", "null", "") else values["gamma"]
        if not (gamma is None or gamma == "auto" or (isinstance(gamma, (int, float)) and gamma >= 0)):
            raise ValueError(f"var segments_gamma must be 'auto', null or a number >= 0, got {gamma!r}")
        min_share = float(values["min_feature_share"])
        if not 0 <= min_share < 0.5:
            raise ValueError(f"var segments_min_feature_share must be in [0, 0.5), got {min_share}")
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
            gamma=gamma if gamma in (None, "auto") else float(gamma),
            seed=int(values["seed"]),
            stability_fits=int(values["stability_fits"]),
            min_feature_share=min_share,
            retrain=parse_mode(values.get("retrain", "auto")),
            train_rows=_train_rows(values.get("train_rows", 0)),
            artifacts_dir=Path(str(values["artifacts_dir"])),
            raw_dir=Path(str(values["raw_dir"])),
        )


def _train_rows(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"var segments_train_rows must be 0 (all contacts) or a positive integer, got {value!r}")
    return value


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
        segment_ids=[int(i) for i in state["segment_ids"]],
        names=state["names"],
        next_segment_id=int(state["next_segment_id"]),
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
    xnum, xcat_raw = split_num_cat(model.features.transform(contacts), model.features.categorical_indices)
    return xnum, encode_categories(xcat_raw, model.kprototypes.categories_)
