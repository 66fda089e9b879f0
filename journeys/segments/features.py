"""Segment features from `contact_features`: what k-prototypes sees of a contact.

- counts: HubSpot leaves a zero count empty, so missing counts are 0; then log1p (long tails) and z-score;
- days-before timestamps: z-scored; a missing date is left out of the distance (NaN);
- categoricals: top N values kept, the rest `other`, missing `missing`; booleans as `true` / `false`;
- presence flags: for the listed columns only whether a value is there (`true` / `false`), because
  *whether* a contact is a lead, has a job title or registered for an event is itself a trait, and a
  mismatch between two job titles should not count as much as having one or not.

The fitted scalers and category lists are plain JSON (`to_dict` / `from_dict`) so that scoring later
reproduces the build exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from journeys.runs.skipped import CannotTrain

OTHER = "other"
MISSING = "missing"

# The segment model's default features (journeys.segments.config.SegmentSettings).
DEFAULT_COUNT_FEATURES = ("num_sessions", "emails_opened")
DEFAULT_DAY_FEATURES = ("days_since_subscriber",)
DEFAULT_CATEGORICAL_FEATURES = ("has_company", "is_bulk_import")
DEFAULT_PRESENCE_FEATURES = (
    "days_since_lead",
    "days_since_subscriber",
    "days_since_first_email_send",
    "days_since_last_event",
    "job_title",
)
DEFAULT_TOP_CATEGORIES = 20


@dataclass(frozen=True)
class FeatureConfig:
    """Which contact columns become segment features (journeys_segments' `*_features` lists)."""

    count_features: tuple[str, ...] = DEFAULT_COUNT_FEATURES
    day_features: tuple[str, ...] = DEFAULT_DAY_FEATURES
    categorical_features: tuple[str, ...] = DEFAULT_CATEGORICAL_FEATURES
    presence_features: tuple[str, ...] = DEFAULT_PRESENCE_FEATURES
    top_categories: int = DEFAULT_TOP_CATEGORIES

    def __post_init__(self) -> None:
        names = [*self.count_features, *self.day_features, *self.categorical_features]
        flags = [presence_flag(name) for name in self.presence_features]
        repeated = sorted({name for name in [*names, *flags] if [*names, *flags].count(name) > 1})
        if repeated:
            raise ValueError(f"segment features listed twice: {repeated}")
        if not names and not flags:
            raise ValueError("no segment features configured")
        if self.top_categories < 1:
            raise ValueError(f"journeys_segments.top_categories must be >= 1, got {self.top_categories}")
        if "contact_id" in names or any("email" == name for name in names):
            raise ValueError("contact_id / email cannot be segment features")


def presence_flag(column: str) -> str:
    """Name of the categorical flag that records whether a column has a value."""
    return f"has_{column.removeprefix('days_since_')}"


@dataclass
class SegmentFeatures:
    """Fitted feature preparation: scalers for numerics and kept categories for categoricals."""

    config: FeatureConfig
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)

    @property
    def numeric_columns(self) -> list[str]:
        return [*self.config.count_features, *self.config.day_features]

    @property
    def categorical_columns(self) -> list[str]:
        return [*self.config.categorical_features, *map(presence_flag, self.config.presence_features)]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric_columns, *self.categorical_columns]

    @property
    def categorical_indices(self) -> list[int]:
        return list(range(len(self.numeric_columns), len(self.columns)))

    @classmethod
    def fit(cls, contacts: pd.DataFrame, config: FeatureConfig) -> SegmentFeatures:
        """Learn means, standard deviations and the top categories from the training contacts."""
        _check_columns(contacts, config)
        prepared = cls(config)
        raw = prepared._raw_numeric(contacts)
        for name in prepared.numeric_columns:
            values = raw[name]
            if values.notna().sum() == 0:
                raise CannotTrain(
                    f"segment feature {name!r} is missing for every contact; drop it from the vars"
                )
            std = float(values.std(ddof=0))
            prepared.means[name] = float(values.mean())
            prepared.stds[name] = std if std > 0 else 1.0
        labels = prepared._raw_categorical(contacts)
        for name in config.categorical_features:
            counts = labels[name][labels[name] != MISSING].value_counts().rename_axis("value").reset_index()
            top = counts.sort_values(["count", "value"], ascending=[False, True]).head(config.top_categories)
            prepared.categories[name] = sorted(top["value"].tolist())
        return prepared

    def transform(self, contacts: pd.DataFrame) -> pd.DataFrame:
        """Feature frame (float numerics first, then pandas Categoricals of the labels), indexed like
        `contacts`: k-prototypes reads the categoricals as integer codes, never as an object table.

        Columns absent from `contacts` are treated as missing values, as the scoring contract says.
        """
        raw = self._raw_numeric(contacts)
        numeric = pd.DataFrame(
            {name: (raw[name] - self.means[name]) / self.stds[name] for name in self.numeric_columns},
            index=contacts.index,
        )
        labels = self._raw_categorical(contacts)
        for name in self.config.categorical_features:
            kept = labels[name].isin(self.categories[name]) | (labels[name] == MISSING)
            labels[name] = labels[name].where(kept, OTHER)
        return pd.concat([numeric, labels[self.categorical_columns].astype("category")], axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count_features": list(self.config.count_features),
            "day_features": list(self.config.day_features),
            "categorical_features": list(self.config.categorical_features),
            "presence_features": list(self.config.presence_features),
            "top_categories": self.config.top_categories,
            "means": self.means,
            "stds": self.stds,
            "categories": self.categories,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> SegmentFeatures:
        config = FeatureConfig(
            count_features=tuple(state["count_features"]),
            day_features=tuple(state["day_features"]),
            categorical_features=tuple(state["categorical_features"]),
            presence_features=tuple(state["presence_features"]),
            top_categories=int(state["top_categories"]),
        )
        return cls(
            config,
            dict(state["means"]),
            dict(state["stds"]),
            {k: list(v) for k, v in state["categories"].items()},
        )

    def _raw_numeric(self, contacts: pd.DataFrame) -> pd.DataFrame:
        """Counts (missing -> 0, then log1p) and days (missing stays NaN) before scaling."""
        out = {}
        for name in self.config.count_features:
            counts = _numeric_column(contacts, name).fillna(0.0)
            if (counts < 0).any():
                row = int(np.flatnonzero((counts < 0).to_numpy())[0])
                raise ValueError(f"count feature {name!r} is negative at row {row}")
            out[name] = np.log1p(counts)
        for name in self.config.day_features:
            out[name] = _numeric_column(contacts, name)
        return pd.DataFrame(out, index=contacts.index)

    def _raw_categorical(self, contacts: pd.DataFrame) -> pd.DataFrame:
        """Categoricals as strings with `missing` for NULL, plus the presence flags of the day features."""
        out = {}
        for name in self.config.categorical_features:
            out[name] = _label_column(contacts, name)
        for name in self.config.presence_features:
            present = (
                contacts[name].notna() if name in contacts.columns else pd.Series(False, index=contacts.index)
            )
            out[presence_flag(name)] = pd.Series(np.where(present, "true", "false"), index=contacts.index)
        return pd.DataFrame(out, index=contacts.index)


def informative_features(
    contacts: pd.DataFrame, config: FeatureConfig, min_share: float
) -> tuple[FeatureConfig, dict[str, str]]:
    """The configured features that are informative on these contacts, and why each other one was left out.

    A feature is informative when at least `min_share` of the contacts differ from its commonest value
    (counts after missing -> 0; categoricals and presence flags as labels, `missing` included); a days
    feature, whose missing values are left out of the distance, must also be present for `min_share` of them.
    A feature that (almost) every contact shares separates no segment and only adds noise to the prototypes.
    Raises CannotTrain when no categorical feature or flag is informative, or no numeric one: k-prototypes
    needs both (on categoricals alone it is k-modes, and KPrototypes refuses them as kmodes' does).
    """
    _check_columns(contacts, config)
    prepared = SegmentFeatures(config)
    numeric, labels = prepared._raw_numeric(contacts), prepared._raw_categorical(contacts)
    n = max(len(contacts), 1)
    dropped = {}
    for name in prepared.numeric_columns:
        values = numeric[name]
        present = float(values.notna().sum()) / n
        off_mode = 1.0 - float(values.value_counts(dropna=False).iloc[0]) / n if len(values) else 0.0
        if present < min_share:
            dropped[name] = f"present for {present:.2%} of the contacts"
        elif off_mode < min_share:
            dropped[name] = f"{off_mode:.2%} of the contacts differ from its commonest value"
    for name in prepared.categorical_columns:
        off_mode = 1.0 - float(labels[name].value_counts().iloc[0]) / n if len(labels) else 0.0
        if off_mode < min_share:
            dropped[name] = f"{off_mode:.2%} of the contacts differ from its commonest value"
    flags = {presence_flag(name): name for name in config.presence_features}
    kept_categorical = [name for name in prepared.categorical_columns if name not in dropped]
    if not kept_categorical:
        raise CannotTrain(
            f"no categorical segment feature has at least {min_share:.0%} of the contacts off its commonest "
            f"value, and k-prototypes needs one ({'; '.join(f'{name}: {why}' for name, why in dropped.items())})"
        )
    if all(name in dropped for name in prepared.numeric_columns):
        raise CannotTrain(
            f"no numeric segment feature has at least {min_share:.0%} of the contacts off its commonest value "
            "(or present), and k-prototypes needs one"
            + (f" ({'; '.join(f'{name}: {dropped[name]}' for name in prepared.numeric_columns)})"
               if prepared.numeric_columns else "")
        )
    kept = FeatureConfig(
        count_features=tuple(name for name in config.count_features if name not in dropped),
        day_features=tuple(name for name in config.day_features if name not in dropped),
        categorical_features=tuple(name for name in config.categorical_features if name not in dropped),
        presence_features=tuple(flags[flag] for flag in flags if flag not in dropped),
        top_categories=config.top_categories,
    )
    return kept, dropped


def _check_columns(contacts: pd.DataFrame, config: FeatureConfig) -> None:
    """Training needs every configured column: a typo in a var must not silently become 'all missing'."""
    wanted = [
        *config.count_features,
        *config.day_features,
        *config.categorical_features,
        *config.presence_features,
        "contact_id",
    ]
    absent = [name for name in wanted if name not in contacts.columns]
    if absent:
        raise ValueError(
            f"contact_features has no column(s) {absent} named in var journeys_segments"
        )


def _numeric_column(contacts: pd.DataFrame, name: str) -> pd.Series:
    if name not in contacts.columns:
        return pd.Series(np.nan, index=contacts.index, dtype=float)
    column = contacts[name]
    values = pd.to_numeric(column, errors="coerce").astype(float)
    bad = np.flatnonzero((values.isna() & column.notna()).to_numpy())
    if bad.size:
        row = int(bad[0])
        contact = contacts["contact_id"].iloc[row] if "contact_id" in contacts.columns else "?"
        raise ValueError(
            f"segment feature {name!r} is not numeric at row {row} (contact_id {contact}): {column.iloc[row]!r}"
        )
    return values


def _label_column(contacts: pd.DataFrame, name: str) -> pd.Series:
    if name not in contacts.columns:
        return pd.Series(MISSING, index=contacts.index, dtype=object)
    column = contacts[name]
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if pd.api.types.is_bool_dtype(column.dtype) or kind == "boolean":
        # Booleans that arrive as Python objects (JSON requests) label like a BOOLEAN column.
        labels = column.map({True: "true", False: "false"})
    elif kind == "mixed":
        labels = column.map(lambda v: ("true" if v else "false") if isinstance(v, (bool, np.bool_)) else str(v))
    else:
        labels = column.astype(str)
    return labels.where(column.notna(), MISSING)
