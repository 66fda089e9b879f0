"""Settings of one propensity run: defaults and meanings on `PropensityConfig`, changed by var journeys_propensity."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import yaml

from journeys.contract import ACTIVITY_COLUMNS, COURSE_COLUMNS, DAYS_COLUMNS, FLAG_COLUMNS
from journeys.runs import settings
from journeys.runs.settings import setting

TARGETS = ("any_course", "segment", *COURSE_COLUMNS)

# Counts and durations: heavy-tailed, so log1p before standardising.
NUMERIC_FEATURES = (*ACTIVITY_COLUMNS, *DAYS_COLUMNS)
BOOLEAN_FEATURES = FLAG_COLUMNS
SEARCHED = ("dropout", "recurrent_dropout", "embedding_l2")  # what one search setting may set
MAX_SEARCH = 6
CATEGORICAL_FEATURES = ("ip_country", "job_title", "last_event", "last_email_name", "education")
# first_conversion: inputs as known before each contact's First Conversion Date; none: as exported.
CUTOFFS = ("first_conversion", "none")
FAMILY_VAR = "journeys_propensity"


def _search(value: Any) -> tuple[tuple[tuple[str, float], ...], ...]:
    """The search list (mappings like {dropout: 0.2}) as sorted pairs; from --vars or Jinja it may be text."""
    value = yaml.safe_load(value) if isinstance(value, str) else value
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (dict, tuple)) for v in value):
        raise ValueError("must be a list of mappings like {dropout: 0.2}")
    return tuple(tuple(sorted((str(k), float(v)) for k, v in dict(setting).items())) for setting in value)


@dataclass(frozen=True)
class PropensityConfig:
    """Every tuning value of the propensity step, with its default and meaning (var journeys_propensity)."""

    target: str = setting("any_course", "any_course, one course flag (e.g. course_deep_learning_specialization) "
                          "or segment", var="journeys_propensity_target")
    cutoff: Literal["first_conversion", "none"] = setting(
        "first_conversion", "time-correct inputs (cut in SQL)", var="journeys_propensity_cutoff")
    units: tuple[int, ...] = setting((64,), "units of the stacked bidirectional LSTM layers, one per entry")
    embedding_dim: int = setting(8, "size of the page-category embedding")
    recorded_units: int = setting(16, "units of the bidirectional LSTM over the recorded history, read beside an "
                                  "event window")
    categorical_embedding_dim: int = setting(4, "size of each categorical feature's embedding")
    dense_units: int = setting(32, "dense ReLU layer between the joined inputs and the softmax (0 = none)")
    epochs: int = setting(30, "most epochs; early stopping on validation ROC AUC keeps the best epoch's weights")
    patience: int = setting(5, "epochs without a validation ROC AUC gain of 1e-4 before training stops")
    batch_size: int = setting(512, "contacts per gradient step")
    learning_rate: float = setting(5e-3, "Adam's learning rate")
    max_sequence_length: int = setting(
        8, "most recent pages (events) the network reads; the longest collated sequence if shorter")
    class_weighting: Literal["none", "balanced"] = setting(
        "none", "balanced: inverse class frequency; the F1 threshold is tuned on validation either way")
    min_category_count: int = setting(30, "categorical values seen by fewer training contacts are pooled")
    test_fraction: float = setting(0.2, "share of contacts in the stratified, seeded test split")
    validation_fraction: float = setting(0.1, "share in the validation split (early stopping, threshold)")
    train_rows: int = setting(
        100_000, "the training split is a seeded, label-stratified sample of at most this many contacts "
        "(0 = all), validation and test capped in the same proportion; every contact with history is scored")
    seed: int = setting(0, "seed of the split, the weights and the shuffling (TensorFlow op determinism)")
    leakage_threshold: float = setting(
        0.98, "an input whose single-feature ROC AUC (or 1 - AUC) exceeds this stops the build (leakage_mode)")
    leakage_warning: float = setting(0.90, "from this single-input separation on, the audit warns and marks it")
    leakage_mode: Literal["error", "warn"] = setting("error", "error stops the build on a leak; warn logs it")
    dropout: float = setting(0.2, "dropout on the LSTM inputs and before the dense layer (without a search)")
    recurrent_dropout: float = setting(0.0, "dropout inside the LSTMs (without a search)")
    embedding_l2: float = setting(1e-4, "L2 penalty on every embedding (without a search)")
    search: tuple[tuple[tuple[str, float], ...], ...] = setting(
        (), "at most 6 settings of dropout / recurrent_dropout / embedding_l2, each trained, the best validation "
        "ROC AUC kept, e.g. [{dropout: 0.2, embedding_l2: 0.0001}, {dropout: 0.4, embedding_l2: 0.001}] "
        "(empty: the single setting above, trained once)", parse=_search)
    search_train_contacts: int = setting(
        0, "each search setting trains on a seeded subsample of this many training contacts, the winner then "
        "once on all (0 = every setting on all; a small subsample favours too strong regularisation)")
    shuffle_seed: int = setting(0, "seed of the per-contact page shuffling that measures the order effect")
    experiments_train_contacts: int = setting(
        20_000, "training contacts of each propensity_experiments fit (`make experiments`)")
    numeric_features: tuple[str, ...] = setting(NUMERIC_FEATURES, "counts and days-before inputs (log1p, scaled)")
    boolean_features: tuple[str, ...] = setting(BOOLEAN_FEATURES, "flag inputs")
    categorical_features: tuple[str, ...] = setting(CATEGORICAL_FEATURES, "embedded categorical inputs")

    def __post_init__(self) -> None:
        problems = []
        if self.target not in TARGETS:
            problems.append(f"propensity_target={self.target!r} is not one of {', '.join(TARGETS)}")
        if self.class_weighting not in ("none", "balanced"):
            problems.append(f"journeys_propensity.class_weighting={self.class_weighting!r} is not 'none' or 'balanced'")
        if self.cutoff not in CUTOFFS:
            problems.append(f"journeys_propensity_cutoff={self.cutoff!r} is not one of {', '.join(CUTOFFS)}")
        if self.leakage_mode not in ("error", "warn"):
            problems.append(f"journeys_propensity.leakage_mode={self.leakage_mode!r} is not 'error' or 'warn'")
        if not self.units or min(self.units) < 1:
            problems.append(f"journeys_propensity.units={list(self.units)} needs at least one positive size")
        for name in ("embedding_dim", "recorded_units", "categorical_embedding_dim", "epochs", "batch_size",
                     "max_sequence_length"):
            if getattr(self, name) < 1:
                problems.append(f"journeys_propensity.{name}={getattr(self, name)} must be at least 1")
        if self.train_rows < 0:
            problems.append(f"journeys_propensity.train_rows={self.train_rows} must be 0 (all) or positive")
        if not 0 < self.test_fraction < 1 or not 0 < self.validation_fraction < 1:
            problems.append("journeys_propensity.test_fraction and journeys_propensity.validation_fraction must lie in (0, 1)")
        elif self.test_fraction + self.validation_fraction >= 0.9:
            problems.append("journeys_propensity.test_fraction + journeys_propensity.validation_fraction leave under 10% to train")
        if not 0.5 < self.leakage_warning <= self.leakage_threshold:
            problems.append(f"journeys_propensity.leakage_warning={self.leakage_warning} must lie in (0.5, threshold]")
        for name in ("dropout", "recurrent_dropout"):
            if not 0 <= getattr(self, name) < 1:
                problems.append(f"journeys_propensity.{name}={getattr(self, name)} must lie in [0, 1)")
        if self.embedding_l2 < 0:
            problems.append(f"journeys_propensity.embedding_l2={self.embedding_l2} must be at least 0")
        if self.search_train_contacts < 0:
            problems.append(f"journeys_propensity.search_train_contacts={self.search_train_contacts} must be at least 0")
        if len(self.search) > MAX_SEARCH:
            problems.append(f"journeys_propensity.search lists {len(self.search)} settings; at most {MAX_SEARCH}")
        for choice in self.search:
            unknown = {k for k, _ in choice} - set(SEARCHED)
            if unknown:
                problems.append(f"journeys_propensity.search setting {dict(choice)} names {sorted(unknown)}; "
                                f"known: {', '.join(SEARCHED)}")
        if not 0.5 < self.leakage_threshold <= 1:
            problems.append(f"journeys_propensity.leakage_threshold={self.leakage_threshold} must lie in (0.5, 1]")
        if problems:
            raise ValueError("invalid propensity settings: " + "; ".join(problems))

    def settings(self) -> list[dict[str, float]]:
        """The regularisation settings to try, in order: the search list, or the single configured one."""
        base = {name: float(getattr(self, name)) for name in SEARCHED}
        return [{**base, **dict(setting)} for setting in self.search] or [base]

    def with_setting(self, setting: dict[str, float]) -> PropensityConfig:
        """This config with one regularisation setting applied."""
        return replace(self, **{name: float(value) for name, value in setting.items()})

    @property
    def is_binary(self) -> bool:
        """Every target but `segment` is a yes/no question."""
        return self.target != "segment"

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> PropensityConfig:
        """From the model YAML's `meta.propensity`: the var journeys_propensity (`overrides`) and the shared
        top-level vars (`target`, `cutoff`)."""
        return settings.load(cls, meta.get("overrides"), FAMILY_VAR,
                             shared={name: meta[name] for name in ("target", "cutoff") if name in meta})

    def compatibility(self) -> dict[str, Any]:
        """The settings a saved model must have been trained under to score today (the experiments' size
        changes no model)."""
        return {k: v for k, v in self.to_json().items() if k != "experiments_train_contacts"}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples as lists) for the artifact and the fingerprint."""
        return json.loads(json.dumps(asdict(self)))
