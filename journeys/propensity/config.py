"""Settings of one propensity run, read from the dbt vars `propensity_*` (defaults mirror dbt_project.yml)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import yaml

from journeys.contract import ACTIVITY_COLUMNS, COURSE_COLUMNS, DAYS_COLUMNS, FLAG_COLUMNS

TARGETS = ("any_course", "segment", *COURSE_COLUMNS)

# Counts and durations: heavy-tailed, so log1p before standardising.
NUMERIC_FEATURES = (*ACTIVITY_COLUMNS, *DAYS_COLUMNS)
BOOLEAN_FEATURES = FLAG_COLUMNS
SEARCHED = ("dropout", "recurrent_dropout", "embedding_l2")  # what one search setting may set
MAX_SEARCH = 6
CATEGORICAL_FEATURES = ("ip_country", "job_title", "last_event", "last_email_name", "education")
# first_conversion: inputs as known before each contact's First Conversion Date; none: as exported.
CUTOFFS = ("first_conversion", "none")


@dataclass(frozen=True)
class PropensityConfig:
    """Every tuning value of the propensity step; `from_vars` maps dbt vars onto it and checks them."""

    target: str = "any_course"
    sequence_units: tuple[int, ...] = (64,)
    embedding_dim: int = 8
    categorical_embedding_dim: int = 4
    dense_units: int = 32
    epochs: int = 30
    batch_size: int = 512
    learning_rate: float = 5e-3
    patience: int = 5
    max_sequence_length: int = 4
    class_weighting: str = "none"
    min_category_count: int = 30
    test_fraction: float = 0.2
    validation_fraction: float = 0.1
    # The training split is a seeded, label-stratified sample of at most train_rows contacts (0 = all of it),
    # validation and test samples capped in the same proportion; every contact with page history is scored.
    train_rows: int = 0
    seed: int = 0
    leakage_threshold: float = 0.98
    leakage_warning: float = 0.90
    leakage_mode: str = "error"
    # Regularisation of the network: dropout on the LSTM inputs and before the dense layer, recurrent
    # dropout inside the LSTMs, L2 penalty on every embedding. `search` lists at most MAX_SEARCH settings
    # ({dropout, recurrent_dropout, embedding_l2}); each is trained and the best validation ROC AUC wins.
    dropout: float = 0.2
    recurrent_dropout: float = 0.0
    embedding_l2: float = 1e-4
    search: tuple[tuple[tuple[str, float], ...], ...] = ()
    search_train_contacts: int = 0  # each search setting trains on this many training contacts (0 = all)
    shuffle_seed: int = 0
    cutoff: str = "first_conversion"
    numeric_features: tuple[str, ...] = NUMERIC_FEATURES
    boolean_features: tuple[str, ...] = BOOLEAN_FEATURES
    categorical_features: tuple[str, ...] = CATEGORICAL_FEATURES

    def __post_init__(self) -> None:
        problems = []
        if self.target not in TARGETS:
            problems.append(f"propensity_target={self.target!r} is not one of {', '.join(TARGETS)}")
        if self.class_weighting not in ("none", "balanced"):
            problems.append(f"propensity_class_weighting={self.class_weighting!r} is not 'none' or 'balanced'")
        if self.cutoff not in CUTOFFS:
            problems.append(f"propensity_cutoff={self.cutoff!r} is not one of {', '.join(CUTOFFS)}")
        if self.leakage_mode not in ("error", "warn"):
            problems.append(f"propensity_leakage_mode={self.leakage_mode!r} is not 'error' or 'warn'")
        if not self.sequence_units or min(self.sequence_units) < 1:
            problems.append(f"propensity_units={list(self.sequence_units)} needs at least one positive size")
        for name in ("embedding_dim", "categorical_embedding_dim", "epochs", "batch_size", "max_sequence_length"):
            if getattr(self, name) < 1:
                problems.append(f"propensity_{name}={getattr(self, name)} must be at least 1")
        if self.train_rows < 0:
            problems.append(f"propensity_train_rows={self.train_rows} must be 0 (all) or positive")
        if not 0 < self.test_fraction < 1 or not 0 < self.validation_fraction < 1:
            problems.append("propensity_test_fraction and propensity_validation_fraction must lie in (0, 1)")
        elif self.test_fraction + self.validation_fraction >= 0.9:
            problems.append("propensity_test_fraction + propensity_validation_fraction leave under 10% to train")
        if not 0.5 < self.leakage_warning <= self.leakage_threshold:
            problems.append(f"propensity_leakage_warning={self.leakage_warning} must lie in (0.5, threshold]")
        for name in ("dropout", "recurrent_dropout"):
            if not 0 <= getattr(self, name) < 1:
                problems.append(f"propensity_{name}={getattr(self, name)} must lie in [0, 1)")
        if self.embedding_l2 < 0:
            problems.append(f"propensity_embedding_l2={self.embedding_l2} must be at least 0")
        if self.search_train_contacts < 0:
            problems.append(f"propensity_search_train_contacts={self.search_train_contacts} must be at least 0")
        if len(self.search) > MAX_SEARCH:
            problems.append(f"propensity_search lists {len(self.search)} settings; at most {MAX_SEARCH}")
        for setting in self.search:
            unknown = {k for k, _ in setting} - set(SEARCHED)
            if unknown:
                problems.append(f"propensity_search setting {dict(setting)} names {sorted(unknown)}; "
                                f"known: {', '.join(SEARCHED)}")
        if not 0.5 < self.leakage_threshold <= 1:
            problems.append(f"propensity_leakage_threshold={self.leakage_threshold} must lie in (0.5, 1]")
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
    def from_vars(cls, values: dict[str, Any]) -> PropensityConfig:
        """Build from dbt vars named `propensity_<field>`; unset (None) vars keep the defaults."""
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            name = key.removeprefix("propensity_")
            if name == "units":
                name = "sequence_units"
            if value is None:
                continue
            if name not in known:
                raise ValueError(f"unknown propensity setting {key!r}; known: {sorted(known)}")
            kwargs[name] = _coerce(name, value)
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples as lists) for the artifact and the fingerprint."""
        return json.loads(json.dumps(asdict(self)))


def _coerce(name: str, value: Any) -> Any:
    """dbt vars arrive as YAML values or, from `--vars` and Jinja, as strings: normalise both."""
    if isinstance(value, str) and name in ("sequence_units", "numeric_features", "boolean_features",
                                           "categorical_features"):
        value = json.loads(value) if value.strip().startswith("[") else [v for v in value.split(",") if v]
    if name == "sequence_units":
        return tuple(int(v) for v in value)
    if name == "search":
        # from --vars or Jinja the list may arrive as text (JSON, or Python's repr, which YAML also reads)
        value = yaml.safe_load(value) if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValueError(f"propensity_search={value!r} must be a list of mappings like {{dropout: 0.2}}")
        return tuple(tuple(sorted((str(k), float(v)) for k, v in setting.items())) for setting in value)
    if name.endswith("_features"):
        return tuple(str(v).strip() for v in value)
    if name in ("embedding_dim", "categorical_embedding_dim", "dense_units", "epochs", "batch_size",
                "patience", "max_sequence_length", "min_category_count", "seed", "shuffle_seed", "train_rows",
                "search_train_contacts"):
        return int(value)
    if name in ("learning_rate", "test_fraction", "validation_fraction", "leakage_threshold", "leakage_warning",
                "dropout", "recurrent_dropout", "embedding_l2"):
        return float(value)
    return str(value)
