"""Loading what the last build saved: both models, with the URL rules and known countries they were built with.

`load_models` is slow (it imports TensorFlow and traces the network), so the server runs it in the
background and answers 503 until it is done (`ModelState`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from journeys.service.countries import Countries
from journeys.service.features import CategoryCodes
from journeys.service.scores import PropensityScores, Scorer, SegmentScores

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModels:
    """The scorers, URL rules and known countries one service instance scores with."""

    segments: Scorer[SegmentScores]
    propensity: Scorer[PropensityScores]
    category_codes: CategoryCodes
    countries: Countries
    max_sequence_length: int
    loaded_at: datetime


def load_models(artifacts_dir: Path) -> LoadedModels:
    """Load both model families from `artifacts_dir`, with the URL rules, countries and sequence length of the
    build that trained them (their `ScoringContext`); ready to score."""
    from journeys.propensity import load_propensity_model
    from journeys.segments import load_segment_model
    from journeys.service.inference import PropensityScorer, SegmentScorer

    propensity, segments = load_propensity_model(artifacts_dir), load_segment_model(artifacts_dir)
    context = propensity.context
    if context is None or context.urls is None or segments.context is None:
        raise ValueError(f"the models in {artifacts_dir} were saved without the seeds and vars they were built "
                         "with: rebuild them with `dbt build --vars '{journeys_retrain: true}'`")
    if (segments.context.country_names, segments.context.country_codes) != (context.country_names,
                                                                            context.country_codes):
        raise ValueError(f"the segment and propensity models in {artifacts_dir} were trained with different "
                         "countries seeds: rebuild them")
    return LoadedModels(
        segments=SegmentScorer(segments),
        propensity=PropensityScorer(propensity),
        category_codes=CategoryCodes(context.urls),
        countries=Countries(context.country_names, context.country_codes),
        max_sequence_length=int(context.max_sequence_length),
        loaded_at=datetime.now(UTC),
    )


class ModelState:
    """The models once loaded, or why loading failed; readers never wait on the loader."""

    def __init__(self, models: LoadedModels | None = None) -> None:
        self.models = models
        self.error: str | None = None
        self.loaded = threading.Event()
        if models is not None:
            self.loaded.set()

    def load_in_background(
        self, loader: Callable[[], LoadedModels], on_failure: Callable[[], None] | None = None
    ) -> threading.Thread:
        """Run `loader` on a thread; `on_failure` (e.g. stop the server) is called if it fails."""

        def load() -> None:
            try:
                self.models = loader()
                log.info("ready: segments %s, propensity %s", self.models.segments.version,
                         self.models.propensity.version)  # fmt: skip
            except Exception as error:  # noqa: BLE001 - any failure is reported by /health and stops the server
                self.error = f"{type(error).__name__}: {error}"
                log.error("loading the models failed: %s", self.error)
                if on_failure is not None:
                    on_failure()
            finally:
                self.loaded.set()

        thread = threading.Thread(target=load, name="load-models", daemon=True)
        thread.start()
        return thread
