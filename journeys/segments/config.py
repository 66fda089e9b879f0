"""Settings of the segment model: defaults and meanings on `SegmentSettings`, changed by var journeys_segments."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from journeys.runs import settings
from journeys.runs.retraining import parse_mode
from journeys.runs.settings import setting
from journeys.segments.features import (
    DEFAULT_CATEGORICAL_FEATURES,
    DEFAULT_COUNT_FEATURES,
    DEFAULT_DAY_FEATURES,
    DEFAULT_PRESENCE_FEATURES,
    DEFAULT_TOP_CATEGORIES,
    FeatureConfig,
)

FAMILY_VAR = "journeys_segments"


def _k(value: Any) -> int | None:
    """`auto` (None: chosen by the rule) or a whole number of segments, at least 2."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        k = settings.coerce(value, int)
    except ValueError:
        k = 0
    if k < 2:
        raise ValueError("must be auto or a whole number of at least 2")
    return k


def _gamma(value: Any) -> float | str | None:
    """`auto` (equal cost shares), null (kmodes' rule) or a number at least 0."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    gamma = settings.coerce(value, float | None)
    if gamma is not None and gamma < 0:
        raise ValueError("must be auto, null or a number of at least 0")
    return gamma


@dataclass(frozen=True)
class SegmentSettings:
    """Every setting of the segment model, with its default and meaning, plus the run's folders and mode."""

    artifacts_dir: Path = setting(doc="where the model is saved ($JOURNEYS_ARTIFACTS)")
    raw_dir: Path = setting(doc="the raw export ($JOURNEYS_RAW_DIR: truth.csv for the evaluation rows)")
    k: int | None = setting("auto", "number of segments, or auto: the cost elbow or a neighbour, whichever has "
                            "the best silhouette, over k_range on a sample of k_sample contacts", parse=_k)
    k_range: tuple[int, int] = setting((3, 10), "the k tried by k auto")
    k_sample: int = setting(20_000, "contacts k and gamma are chosen on (seeded sample)")
    train_rows: int = setting(200_000, "k-prototypes trains on a seeded sample of at most this many contacts, "
                              "stratified by their categorical profile (0 = all); every contact is scored")
    n_init: int = setting(10, "Cao-initialised runs, the best kept")
    max_iter: int = setting(100, "passes of each run at most")
    gamma: float | str | None = setting(
        "auto", "weight of one categorical mismatch against squared z-score units: auto (numeric and categorical "
        "features carry equal shares of the cost), null (kmodes' 0.5 x mean numeric std) or a number",
        parse=_gamma)
    seed: int = setting(0, "seed of the samples and fits")
    stability_fits: int = setting(4, "bootstrap refits behind stability_ari (mean pairwise ARI, model_metrics)")
    min_feature_share: float = setting(0.01, "a listed feature is used only when at least this share of the "
                                       "contacts differs from its commonest value")
    count_features: tuple[str, ...] = setting(DEFAULT_COUNT_FEATURES, "counts: missing = 0, log1p, z-scored")
    day_features: tuple[str, ...] = setting(DEFAULT_DAY_FEATURES, "days-before dates: z-scored, missing left "
                                            "out of the distance")
    categorical_features: tuple[str, ...] = setting(DEFAULT_CATEGORICAL_FEATURES, "categoricals: top values "
                                                    "kept, the rest other, missing its own")
    presence_features: tuple[str, ...] = setting(DEFAULT_PRESENCE_FEATURES, "columns that become has_<name> "
                                                 "true / false flags")
    top_categories: int = setting(DEFAULT_TOP_CATEGORIES, "values kept per categorical feature")
    retrain: Literal["auto", "true", "false"] = setting("auto", "var journeys_retrain", parse=parse_mode, var="journeys_retrain")

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", _k(self.k))  # the default is written as a project writes it: auto
        if not 2 <= self.k_range[0] <= self.k_range[1]:
            raise ValueError(f"var {FAMILY_VAR}: k_range must be [min, max] with 2 <= min <= max, "
                             f"got {list(self.k_range)}")
        if not 0 <= self.min_feature_share < 0.5:
            raise ValueError(f"var {FAMILY_VAR}: min_feature_share must be in [0, 0.5), got {self.min_feature_share}")
        if self.train_rows < 0:
            raise ValueError(f"var {FAMILY_VAR}: train_rows must be 0 (all contacts) or positive, got {self.train_rows}")

    @property
    def features(self) -> FeatureConfig:
        """The feature lists as the feature preparation takes them."""
        return FeatureConfig(self.count_features, self.day_features, self.categorical_features,
                             self.presence_features, self.top_categories)

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
        """From the model YAML's `meta.segments`: var journeys_segments (`overrides`), `retrain` and the paths."""
        return settings.load(cls, meta.get("overrides"), FAMILY_VAR, shared={"retrain": meta.get("retrain", "auto")},
                             run={name: meta[name] for name in ("artifacts_dir", "raw_dir") if name in meta})
