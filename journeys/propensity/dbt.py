"""Entry points of the thin dbt Python models in python_models/propensity/.

The models pass their refs and the YAML `meta.propensity` block (var journeys_propensity as JSON, the shared
top-level vars, `retrain` and the paths, rendered by Jinja);
everything else happens here, so the model files stay one call each.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from journeys.contract import ScoringContext
from journeys.propensity.artifacts import META_FILE, MODEL_FILE, MODEL_NAME, load_propensity_model, read_meta
from journeys.propensity.config import PropensityConfig
from journeys.propensity.data import fit_sequence_length, label_contacts, model_columns
from journeys.propensity.pipeline import add_deciles, saved_table, train_and_score
from journeys.runs import registry, retraining
from journeys.runs.dbt_logging import log_to_dbt
from journeys.runs.skipped import CannotTrain, empty_table, skipped
from journeys.synth.truth import read_truth
from journeys.warehouse import read_columns

LOG = logging.getLogger(__name__)

PATH_SETTINGS = ("artifacts_dir", "raw_dir")
SPLITS_FILE = "splits.npz"  # contact_id -> split of the training run, for builds that only score
HEADLINE_METRICS = ("roc_auc", "pr_auc", "f1", "brier")
EVENT_LENGTHS = (1, 2, 4, 8, 16, 32)  # propensity_experiments' sequence lengths on event data
# Fewest contacts with page history per class: at 10% validation share, one of each class in validation.
MIN_CONTACTS_PER_CLASS = 10
HAS_HISTORY = "coalesce(has_page_history, false)"  # the contacts the model is defined on
SCORE_COLUMNS = ["contact_id", "propensity", "predicted_flag", "predicted_class", "decile", "split", "target",
                 "model_version"]


def build_purchase_propensity(
    contact_features: duckdb.DuckDBPyRelation,
    category_codes: pd.DataFrame,
    settings: dict[str, Any],
    segments: Any = None,
    url_rules: pd.DataFrame | None = None,
    countries: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score with the saved model, or train, evaluate, save and score (var journeys_retrain, journeys.runs.retraining);
    returns one row per contact with page history.

    Only the contacts with page history and the columns the model reads leave the warehouse.
    `segments` is the contact_segments relation (anything with `.df()`), read only for target `segment`;
    `url_rules` and `countries` are the seeds the build categorised and checked with (saved with the model,
    `ScoringContext`).
    """
    log_to_dbt()
    config = PropensityConfig.from_meta(settings)
    features = read_columns(contact_features, model_columns(config), where=HAS_HISTORY)
    LOG.info("propensity: %d contacts with page history read; %d without are not scored", len(features),
             contact_features.filter(f"not ({HAS_HISTORY})").aggregate("count(*)").fetchall()[0][0])
    config = fit_sequence_length(config, features)
    artifacts_dir, raw_dir = _paths(settings)
    segment_frame = segments.df() if config.target == "segment" else None
    context = ScoringContext.from_build(countries, url_rules, category_codes, _json(settings["site_hosts"]),
                                        _json(settings["url_query_allowlist"]), int(settings["max_sequence_length"]))
    compatibility = {
        "settings": config.compatibility(),
        "category_codes": category_codes[["category", "category_code"]].astype(str)
        .sort_values("category_code").to_numpy().tolist(),
        "feature_contract": retraining.frame_contract(features),
        "segments_version": None if segment_frame is None else sorted(segment_frame["model_version"].unique()),
        "scoring_context": context.to_json(),
    }
    decision = retraining.decide(MODEL_NAME, retraining.parse_mode(settings.get("retrain", "auto")), artifacts_dir,
                                 compatibility, [MODEL_FILE, META_FILE, SPLITS_FILE])
    if not decision.train:
        return score_with_saved_model(features, artifacts_dir)[SCORE_COLUMNS]
    try:
        check_trainable(features, config, segment_frame)
    except CannotTrain as reason:
        return skipped(LOG, "propensity", reason, "purchase_propensity")
    run = train_and_score(features, category_codes, config, artifacts_dir, segments=segment_frame,
                          truth=read_truth(raw_dir, ["buy_probability"], ["buy_probability_shuffled"]),
                          context=context)
    np.savez_compressed(run.folder / SPLITS_FILE, contact_id=run.scores["contact_id"].to_numpy(np.int64),
                        split=run.scores["split"].to_numpy(dtype=str))
    bilstm = run.metrics[run.metrics["model_name"] == "bilstm"].set_index("metric")["value"]
    retraining.record_training(
        run.folder, MODEL_NAME, run.model.version, compatibility, decision.reason,
        int(run.scores["split"].isin(["train", "validation", "test"]).sum()),
        read_meta(run.folder)["training_fingerprint"][:16], config.to_json(),
        {f"test_{name}": float(bilstm[name]) for name in HEADLINE_METRICS if name in bilstm.index},
    )
    registry.adopt(artifacts_dir, MODEL_NAME, run.model.version, decision.reason,
                   int(settings.get("keep_versions", registry.DEFAULT_KEEP)))
    return run.scores[SCORE_COLUMNS]


def score_with_saved_model(features: pd.DataFrame, artifacts_dir: Path) -> pd.DataFrame:
    """purchase_propensity from the saved model alone: the same scores, deciles and columns as a training
    build; `split` is the contact's split in the training run, `new` for a contact that run never saw."""
    folder = registry.version_folder(artifacts_dir, MODEL_NAME)
    model = load_propensity_model(artifacts_dir)
    with np.load(folder / SPLITS_FILE, allow_pickle=False) as saved:
        splits = pd.Series(saved["split"].astype(object), index=saved["contact_id"])
    with_history = features[features["has_page_history"].fillna(False).astype(bool)]
    return add_deciles(model.score(with_history)).assign(
        split=lambda f: f["contact_id"].map(splits).fillna("new"), model_version=model.version,
        target=model.target)


def build_propensity_experiments(
    features: pd.DataFrame, category_codes: pd.DataFrame, settings: dict[str, Any]
) -> pd.DataFrame:
    """propensity_experiments: one row per (sequence_length, encoding, model) of the experiment grid."""
    from journeys.propensity.experiments import ExperimentSettings, run_experiments

    log_to_dbt()
    config = PropensityConfig.from_meta(settings)
    sizes = ExperimentSettings(train_contacts=config.experiments_train_contacts, lengths=experiment_lengths(features))
    return run_experiments(features, category_codes, config, sizes)


def experiment_lengths(features: pd.DataFrame) -> tuple[int, ...]:
    """1..4 pages on the 4-slot history; on event sequences (page_events) lengths doubling from 1 up to the
    longest collated sequence (var journeys_max_sequence_length, 32: past journeys_propensity.max_sequence_length on purpose)."""
    longest = int(pd.to_numeric(features["page_count"], errors="coerce").fillna(0).max())
    if longest <= 4:
        return (1, 2, 3, 4)
    return tuple(n for n in EVENT_LENGTHS if n < longest) + (min(longest, EVENT_LENGTHS[-1]),)


def check_trainable(features: pd.DataFrame, config: PropensityConfig, segments: pd.DataFrame | None) -> None:
    """Raise CannotTrain unless every class has MIN_CONTACTS_PER_CLASS contacts with page history (the
    stratified train / validation / test split needs some of each class in every part)."""
    if config.target == "segment" and (segments is None or segments.empty):
        raise CannotTrain("target `segment` needs contact_segments, which is empty (the segment model was skipped)")
    if not features["has_page_history"].fillna(False).astype(bool).any():
        raise CannotTrain("no contact has a page history to learn from")
    labelled = label_contacts(features, config, segments)  # raises CannotTrain on a single class
    counts = np.bincount(labelled.labels, minlength=len(labelled.class_names))
    if counts.min() < MIN_CONTACTS_PER_CLASS:
        name = labelled.class_names[int(np.argmin(counts))]
        raise CannotTrain(f"class {name} has {counts.min()} contact(s) with page history; at least "
                          f"{MIN_CONTACTS_PER_CLASS} per class are needed to train, validate and test")


def saved_run_table(scored: pd.DataFrame, settings: dict[str, Any], name: str) -> pd.DataFrame:
    """`metrics`, `history`, `audit` or `test_predictions` of the run that built `scored` (purchase_propensity)."""
    if scored.empty:  # the model was skipped (journeys.runs.skipped)
        return empty_table(name)
    versions = scored["model_version"].unique()
    if len(versions) != 1:
        raise RuntimeError(f"purchase_propensity holds {len(versions)} model versions; expected exactly one")
    artifacts_dir, _ = _paths(settings)
    return saved_table(artifacts_dir, name, str(versions[0]))


def _json(value: Any) -> Any:
    """A var the YAML rendered with tojson (or given as a value)."""
    return json.loads(value) if isinstance(value, str) else value


def _paths(settings: dict[str, Any]) -> tuple[Path, Path]:
    missing = [k for k in PATH_SETTINGS if not settings.get(k)]
    if missing:
        raise ValueError(f"meta.propensity lacks {', '.join(missing)} (see python_models/propensity/_propensity.yml)")
    return Path(settings["artifacts_dir"]), Path(settings["raw_dir"])
