"""Entry points of the thin dbt Python models in python_models/segments/.

`build_contact_segments` asks `journeys.runs.retraining.decide` whether today's build trains (var `journeys_retrain`; a
saved model is reused while its settings and feature contract match) and scores every contact through
`SegmentModel.score`; the models pass their refs and the YAML `meta.segments` block (var journeys_segments as
JSON, `retrain` and the paths, rendered by Jinja).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import pandas as pd

from journeys.contract import ScoringContext
from journeys.runs import registry, retraining
from journeys.runs.dbt_logging import log_to_dbt
from journeys.runs.skipped import CannotTrain, skipped
from journeys.segments.config import SegmentSettings
from journeys.segments.model import MODEL_FILE, MODEL_NAME, SegmentModel, load_segment_model
from journeys.segments.training import train_segment_model

LOG = logging.getLogger("journeys.segments")


def build_contact_segments(contacts: pd.DataFrame, meta: dict[str, Any], countries: pd.DataFrame) -> pd.DataFrame:
    """dbt model contact_segments: train when needed (var journeys_retrain), save, score every contact. Data that cannot
    train the model (fewer than 2 distinct feature rows) leaves the table empty, with one warning line.
    `countries` is the seed the build checked countries with (saved with the model, `ScoringContext`)."""
    log_to_dbt()
    settings = SegmentSettings.from_meta(meta)
    contacts = _in_contact_order(contacts)
    context = ScoringContext.from_build(countries)
    compatibility = {
        "settings": settings.compatibility(),
        "feature_contract": retraining.frame_contract(contacts, ["contact_id", *_input_columns(settings)]),
        "scoring_context": context.to_json(),
    }
    decision = retraining.decide(MODEL_NAME, settings.retrain, settings.artifacts_dir, compatibility, [MODEL_FILE])
    if decision.train:
        try:
            model = train_segment_model(contacts, settings, _previous_model(settings), context)
        except CannotTrain as reason:
            return skipped(LOG, "segments", reason, "contact_segments")
        incoming = registry.incoming_folder(settings.artifacts_dir, MODEL_NAME)
        model.save(incoming)
        folder = registry.commit(settings.artifacts_dir, MODEL_NAME, incoming, model.version)
        quality = model.training["quality"]
        retraining.record_training(
            folder, MODEL_NAME, model.version, compatibility, decision.reason, model.training["train_rows"],
            retraining.data_fingerprint(contacts[["contact_id", *_input_columns(settings)]]),
            {**settings.compatibility(), "features": asdict(settings.features)},
            {"k": model.n_segments, "cost": model.training["cost"], "stability_ari": quality["stability_ari"],
             "silhouette": quality["silhouette"]},
        )
        registry.adopt(settings.artifacts_dir, MODEL_NAME, model.version, decision.reason,
                       int(meta.get("keep_versions", registry.DEFAULT_KEEP)))
    else:
        model = load_segment_model(settings.artifacts_dir)
    scored = model.score(contacts)
    scored["model_version"] = model.version
    return scored


def _input_columns(settings: SegmentSettings) -> list[str]:
    config = settings.features
    return list(dict.fromkeys([*config.count_features, *config.day_features, *config.categorical_features,
                               *config.presence_features]))


def contact_columns(meta: dict[str, Any], *extra: str) -> list[str]:
    """The contact_features columns the segment models read (contact_id, the features, `extra`)."""
    return ["contact_id", *_input_columns(SegmentSettings.from_meta(meta)), *extra]


def _previous_model(settings: SegmentSettings) -> SegmentModel | None:
    """The saved model whose ids a retrained one inherits; none (or an unreadable one) starts ids afresh."""
    if registry.current_version(settings.artifacts_dir, MODEL_NAME) is None:
        LOG.info("segments: the first model: segment ids numbered by size")
        return None
    try:
        return load_segment_model(settings.artifacts_dir)
    except (ValueError, KeyError) as exc:
        LOG.warning("segments: the saved model cannot be read (%s): segment ids start afresh", exc)
        return None


def _in_contact_order(contacts: pd.DataFrame) -> pd.DataFrame:
    """Contacts sorted by id: the warehouse returns rows in any order, and fits and sums must not depend on it."""
    return contacts.sort_values("contact_id", kind="stable", ignore_index=True)
