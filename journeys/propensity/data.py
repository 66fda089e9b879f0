"""From `contact_features` rows to labelled, split, encoded model inputs.

The encoder is fitted on the training split only (category vocabularies, scaling), stored as plain JSON in
the artifact, and reused unchanged by the scoring service, so a contact gets the same inputs everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from journeys.propensity.config import PropensityConfig
from journeys.runs.sampling import stratified_sample
from journeys.runs.skipped import CannotTrain

MISSING, POOLED = 0, 1  # reserved indices of every categorical vocabulary
FIRST_CONVERSION = "days_since_first_conversion"
# Sequence columns of contact_features: the input (cut by var journeys_propensity_cutoff in SQL) and both versions.
SEQUENCE_COLUMNS = {"first_conversion": "category_codes_before_conversion", "none": "category_codes_uncut"}
# The recorded Last Page Seen history under the same cutoff: read beside an event window (page_events), whose
# pages do not say which ones HubSpot kept, one per recent session.
RECORDED_COLUMN = "recorded_category_codes"


@dataclass(frozen=True)
class LabelledContacts:
    """Contacts the model is defined on (page history, known label), with integer class labels."""

    features: pd.DataFrame
    labels: np.ndarray
    class_names: list[str]


@dataclass(frozen=True)
class Split:
    """Positional indices into `LabelledContacts.features` for each split."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class Inputs:
    """Encoded model inputs: padded code sequences, categorical indices, scaled tabular columns."""

    sequence: np.ndarray  # int32 [n, max_sequence_length], oldest first, 0-padded at the end
    categorical: np.ndarray  # int32 [n, n_categorical]
    tabular: np.ndarray  # float32 [n, n_tabular]
    recorded: np.ndarray  # int32 [n, recorded_length], the recorded history like `sequence`; [n, 0] without

    def rows(self, index: np.ndarray) -> Inputs:
        """The inputs of a subset of contacts."""
        return Inputs(self.sequence[index], self.categorical[index], self.tabular[index], self.recorded[index])

    def as_keras(self, categorical_features: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Named arrays matching the network's input layers."""
        named = {"sequence": self.sequence, "tabular": self.tabular}
        if self.recorded.shape[1]:
            named["recorded"] = self.recorded
        for j, name in enumerate(categorical_features):
            named[f"cat_{name}"] = self.categorical[:, j : j + 1]
        return named


def input_features(config: PropensityConfig) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Numeric, boolean and categorical inputs; the segment target uses the page sequence alone.

    Segments are computed from the tabular features, so feeding them back would make the segment target a
    lookup instead of the question the spec's earlier analysis asked (can the pages tell the segment?). With
    cutoff `first_conversion` the First Conversion Date is not an input: it is the cut itself, and a
    purchase can create it (the course-signup form).
    """
    if config.target == "segment":
        return (), (), ()
    numeric = config.numeric_features
    if config.cutoff == "first_conversion":
        numeric = tuple(name for name in numeric if name != FIRST_CONVERSION)
    return numeric, config.boolean_features, config.categorical_features


def model_columns(config: PropensityConfig) -> list[str]:
    """Every contact_features column the propensity step reads for `config`: the rest of the table (and the
    contacts without page history, most of them) never leaves the warehouse, which keeps a large export's
    read to the model's own columns (journeys.warehouse.read_columns)."""
    target = [] if config.target in ("any_course", "segment") else [config.target]
    return ["contact_id", "has_page_history", "page_count", "category_codes", *SEQUENCE_COLUMNS.values(), RECORDED_COLUMN,
            "is_buyer", "is_converted", *target, *config.numeric_features, FIRST_CONVERSION,
            *config.boolean_features, *config.categorical_features]


def cut_dates(values: np.ndarray, names: tuple[str, ...], first_conversion: np.ndarray, cutoff: str) -> np.ndarray:
    """Numeric inputs as known at the First Conversion Date: a `days_since_*` date after it becomes missing.

    `values` is [n, len(names)] (days before the reference date, larger = earlier); `first_conversion` the
    contacts' days_since_first_conversion (NaN without one: nothing is cut). A date on the conversion's own
    minute stays (HubSpot sets the lead date by that same form). Cutoff `none` returns `values` unchanged.
    """
    if cutoff == "none" or not names:
        return values
    dated = np.array([name.startswith("days_since_") for name in names])
    after = dated[None, :] & (values < first_conversion[:, None])  # NaN compares False: kept
    return np.where(after, np.nan, values)


def label_contacts(
    features: pd.DataFrame, config: PropensityConfig, segments: pd.DataFrame | None = None
) -> LabelledContacts:
    """Keep contacts with page history and a known label; turn the target into class indices 0..k-1."""
    _require_columns(features, ["contact_id", "has_page_history", "category_codes"], "contact_features")
    if features["contact_id"].duplicated().any():
        dup = features.loc[features["contact_id"].duplicated(), "contact_id"].iloc[0]
        raise ValueError(f"contact_features: contact_id {dup} appears more than once")
    # sorted by contact: the seeded split and training must not depend on the order the warehouse returns rows in
    with_history = features[features["has_page_history"].fillna(False).astype(bool)].sort_values(
        "contact_id", kind="stable"
    )
    if config.target == "segment":
        if segments is None:
            raise ValueError("propensity_target=segment needs contact_segments (contact_id, segment_id)")
        _require_columns(segments, ["contact_id", "segment_id"], "contact_segments")
        target = with_history["contact_id"].map(segments.set_index("contact_id")["segment_id"])
        class_values = np.sort(target.dropna().unique())
        class_names = [str(int(v)) if float(v).is_integer() else str(v) for v in class_values]
    else:
        column = "is_buyer" if config.target == "any_course" else config.target
        if config.target == "any_course" and _has_values(with_history, "is_converted"):
            column = "is_converted"  # sequences from page_events: the conversion event is the purchase
        _require_columns(with_history, [column], "contact_features")
        target = with_history[column].astype("boolean")
        class_values = np.array([False, True])
        class_names = ["0", "1"]
    known = target.notna().to_numpy()
    with_history, target = with_history[known].reset_index(drop=True), target[known].to_numpy()
    labels = np.searchsorted(class_values, target).astype(np.int64)
    if len(np.unique(labels)) < 2:
        raise CannotTrain(f"propensity_target={config.target}: the {len(labels)} contacts with page history "
                          "hold a single class, nothing to predict")
    return LabelledContacts(with_history, labels, class_names)


def fit_sequence_length(config: PropensityConfig, features: pd.DataFrame) -> PropensityConfig:
    """The config with max_sequence_length cut to the longest collated sequence, so the 4-slot history is
    not padded to the length event sequences (page_events) may need."""
    longest = int(pd.to_numeric(features.get("page_count"), errors="coerce").max()) if _has_values(
        features, "page_count") else config.max_sequence_length
    return replace(config, max_sequence_length=max(1, min(config.max_sequence_length, longest)))


def _has_values(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and bool(frame[column].notna().any())


def split_contacts(labels: np.ndarray, config: PropensityConfig) -> Split:
    """Stratified, seeded train / validation / test split by contact.

    config.train_rows caps the training part, and validation and test in the same proportion (at 70/10/20,
    a cap of 100,000 keeps at most 14,286 and 28,571): on a large export the bootstrap intervals and the
    per-epoch validation then cost what they cost at the cap, and every contact is still scored.
    """
    index = np.arange(len(labels))
    rest, test = train_test_split(index, test_size=config.test_fraction, stratify=labels,
                                  random_state=config.seed)
    validation_share = config.validation_fraction / (1 - config.test_fraction)
    train, validation = train_test_split(rest, test_size=validation_share, stratify=labels[rest],
                                         random_state=config.seed + 1)
    train_share = 1 - config.test_fraction - config.validation_fraction
    parts = []
    for offset, (part, share) in enumerate(((train, train_share), (validation, config.validation_fraction),
                                            (test, config.test_fraction))):
        part = np.sort(part)
        cap = round(config.train_rows * share / train_share)
        parts.append(part[stratified_sample(labels[part], cap, config.seed + 2 + offset)])
    return Split(*parts)


def pad_sequences(codes: pd.Series, max_length: int, vocabulary_size: int) -> np.ndarray:
    """Chronological code lists -> [n, max_length] int32, keeping the most recent pages, 0-padded at the end."""
    lists = [_code_array(c, row) for row, c in enumerate(codes)]
    lengths = np.fromiter((len(c) for c in lists), dtype=np.int64, count=len(lists))
    flat = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    bad = (flat < 1) | (flat >= vocabulary_size)
    if bad.any():
        row = int(np.searchsorted(np.cumsum(lengths), np.flatnonzero(bad)[0], side="right"))
        raise ValueError(f"category_codes of row {row} holds code {int(flat[bad][0])}, outside the seed's "
                         f"vocabulary 1..{vocabulary_size - 1} (url_category_codes)")
    kept = np.minimum(lengths, max_length)
    out = np.zeros((len(lists), max_length), dtype=np.int32)
    rows = np.repeat(np.arange(len(lists)), kept)
    # position of each kept code: its index within the row minus the dropped oldest ones
    starts = np.cumsum(lengths) - lengths
    within = np.arange(len(flat)) - np.repeat(starts, lengths)
    keep = within >= np.repeat(lengths - kept, lengths)
    out[rows, (within - np.repeat(lengths - kept, lengths))[keep]] = flat[keep]
    return out


@dataclass(frozen=True)
class Encoder:
    """Train-split vocabularies and scaling; JSON round-trips through `to_json` / `from_json`."""

    vocabulary_size: int
    max_sequence_length: int
    numeric_features: tuple[str, ...]
    boolean_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    vocabularies: dict[str, list[str]]  # per categorical feature: values with index 2.. (0 missing, 1 pooled)
    numeric_mean: list[float]
    numeric_std: list[float]
    cutoff: str = "none"  # var journeys_propensity_cutoff: dates after the First Conversion Date are missing
    recorded_length: int = 0  # recorded-history slots read beside the sequence; 0: none (recorded_length())

    @classmethod
    def fit(cls, train: pd.DataFrame, config: PropensityConfig, vocabulary_size: int) -> Encoder:
        """Learn vocabularies (rare values pooled) and log1p-scale statistics from the training contacts."""
        numeric, boolean, categorical = input_features(config)
        _require_columns(train, [*numeric, *boolean, *categorical], "contact_features")
        vocabularies = {}
        for name in categorical:
            counts = train[name].dropna().astype(str).value_counts()
            frequent = counts[counts >= config.min_category_count]
            vocabularies[name] = sorted(frequent.index.tolist())
        logged = _log_numeric(train, numeric, config.cutoff)
        mean = np.nanmean(logged, axis=0) if numeric else np.zeros(0)
        std = np.nanstd(logged, axis=0) if numeric else np.zeros(0)
        mean, std = np.nan_to_num(mean), np.where(np.nan_to_num(std) > 0, np.nan_to_num(std), 1.0)
        return cls(vocabulary_size, config.max_sequence_length, numeric, boolean, categorical, vocabularies,
                   [float(v) for v in mean], [float(v) for v in std], config.cutoff,
                   recorded_length(train) if config.target != "segment" else 0)

    @property
    def tabular_names(self) -> list[str]:
        """Column names of the tabular block: scaled numerics, their missing flags, booleans."""
        return ([*self.numeric_features, *(f"{n}_missing" for n in self.numeric_features),
                 *self.boolean_features])

    def category_sizes(self) -> dict[str, int]:
        """Embedding input size per categorical feature (missing + pooled + frequent values)."""
        return {name: len(values) + 2 for name, values in self.vocabularies.items()}

    def transform(self, frame: pd.DataFrame, sequence_column: str = "category_codes") -> Inputs:
        """Encode any contacts; missing columns count as missing values, unseen categories as pooled.

        `category_codes` is the sequence the SQL layer cut by the same var; the leak comparison passes
        another column of contact_features (SEQUENCE_COLUMNS).
        """
        n = len(frame)
        codes = frame[sequence_column] if sequence_column in frame else pd.Series([[]] * n, dtype=object)
        sequence = pad_sequences(codes, self.max_sequence_length, self.vocabulary_size)
        recorded = np.zeros((n, 0), dtype=np.int32)
        if self.recorded_length:
            if RECORDED_COLUMN not in frame:
                raise ValueError(f"the model reads {RECORDED_COLUMN} beside the sequence; the contacts lack it")
            recorded = pad_sequences(frame[RECORDED_COLUMN], self.recorded_length, self.vocabulary_size)
        categorical = np.zeros((n, len(self.categorical_features)), dtype=np.int32)
        for j, name in enumerate(self.categorical_features):
            if name not in frame:
                continue
            lookup = {v: i + 2 for i, v in enumerate(self.vocabularies[name])}
            index = frame[name].astype(str).map(lookup).fillna(POOLED).to_numpy(dtype=np.int32)
            categorical[:, j] = np.where(frame[name].notna().to_numpy(), index, MISSING)
        logged = _log_numeric(frame, self.numeric_features, self.cutoff)
        missing = np.isnan(logged)
        scaled = np.where(missing, 0.0, (logged - np.asarray(self.numeric_mean)) / np.asarray(self.numeric_std))
        boolean = np.column_stack([
            frame[name].astype("boolean").fillna(False).to_numpy(dtype=np.float64) if name in frame
            else np.zeros(n) for name in self.boolean_features
        ]) if self.boolean_features else np.zeros((n, 0))
        tabular = np.hstack([scaled.reshape(n, -1), missing.reshape(n, -1).astype(np.float64), boolean])
        return Inputs(sequence, categorical, tabular.astype(np.float32), recorded)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "vocabulary_size": self.vocabulary_size,
            "max_sequence_length": self.max_sequence_length,
            "numeric_features": list(self.numeric_features),
            "boolean_features": list(self.boolean_features),
            "categorical_features": list(self.categorical_features),
            "vocabularies": self.vocabularies,
            "numeric_mean": self.numeric_mean,
            "numeric_std": self.numeric_std,
            "cutoff": self.cutoff,
            "recorded_length": self.recorded_length,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Encoder:
        """Inverse of `to_json`."""
        return cls(int(data["vocabulary_size"]), int(data["max_sequence_length"]),
                   tuple(data["numeric_features"]), tuple(data["boolean_features"]),
                   tuple(data["categorical_features"]), {k: list(v) for k, v in data["vocabularies"].items()},
                   [float(v) for v in data["numeric_mean"]], [float(v) for v in data["numeric_std"]],
                   str(data.get("cutoff", "none")), int(data.get("recorded_length", 0)))


def recorded_length(train: pd.DataFrame) -> int:
    """Slots of the recorded history the network reads beside the sequence: the longest recorded history of the
    training contacts when the sequences are not that history (they come from page_events), else 0 (the
    sequences are the recorded history itself, and a second copy would add nothing)."""
    if RECORDED_COLUMN not in train or train.empty:
        return 0
    recorded, sequences = train[RECORDED_COLUMN], train["category_codes"]
    differs = any(not np.array_equal(_code_array(r, i), _code_array(c, i))
                  for i, (r, c) in enumerate(zip(recorded, sequences, strict=True)))
    return int(recorded.map(lambda codes: len(_code_array(codes, 0))).max()) if differs else 0


def _code_array(codes: Any, row: int) -> np.ndarray:
    """One contact's code list as int64; a missing list is an empty journey, anything else is an error."""
    if isinstance(codes, (list, tuple, np.ndarray)):
        values = np.asarray(codes)
        if values.size and not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"category_codes of row {row} holds non-integer values {list(values)[:4]}")
        return values.astype(np.int64)
    if codes is None or pd.isna(codes):
        return np.zeros(0, dtype=np.int64)
    raise ValueError(f"category_codes of row {row} is {type(codes).__name__}, expected a list of integer codes")


def _log_numeric(frame: pd.DataFrame, names: tuple[str, ...], cutoff: str) -> np.ndarray:
    """log1p of counts and durations (negatives clipped to 0: the SQL layer already nulls invalid ones), dates
    after the First Conversion Date missing under cutoff `first_conversion` (`cut_dates`)."""
    if not names:
        return np.zeros((len(frame), 0))
    columns = [_numeric_column(frame, name) for name in names]
    values = cut_dates(np.column_stack(columns), names, _numeric_column(frame, FIRST_CONVERSION), cutoff)
    return np.log1p(np.clip(values, 0, None))


def _numeric_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _require_columns(frame: pd.DataFrame, columns: list[str], table: str) -> None:
    """Fail with the table and the missing column names instead of a KeyError deep inside."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ValueError(f"{table} lacks column(s) {', '.join(absent)} needed by the propensity model")
