"""Loading what the last build saved: both models, the URL rules and the known countries.

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
from journeys.urls import UrlCategorizer, max_sequence_length

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


def load_models(artifacts_dir: Path, seeds_dir: Path | None = None) -> LoadedModels:
    """Load both model families from `artifacts_dir` and the URL rules from the seeds; ready to score."""
    from journeys.propensity import load_propensity_model
    from journeys.segments import load_segment_model
    from journeys.service.inference import PropensityScorer, SegmentScorer

    categorizer = UrlCategorizer.from_seeds(seeds_dir)
    propensity = load_propensity_model(artifacts_dir)
    _check_category_codes(propensity.category_names, categorizer.codes)
    sequence_length = max_sequence_length()
    return LoadedModels(
        segments=SegmentScorer(load_segment_model(artifacts_dir)),
        propensity=PropensityScorer(propensity),
        category_codes=CategoryCodes(categorizer),
        countries=Countries.from_seed(seeds_dir),
        max_sequence_length=sequence_length,
        loaded_at=datetime.now(UTC),
    )


def _check_category_codes(trained: dict[int, str], seed_codes: dict[str, int]) -> None:
    """Refuse to serve when url_category_codes.csv no longer holds the codes the model was trained on."""
    current = {code: category for category, code in seed_codes.items()}
    changed = sorted(
        f"{code}: trained {trained.get(code)!r}, seed {current.get(code)!r}"
        for code in set(trained) | set(current)
        if trained.get(code) != current.get(code)
    )
    if changed:
        raise ValueError(
            "seeds/url_category_codes.csv differs from the category codes the propensity model was trained "
            f"with ({'; '.join(changed)}): run `make build` again before serving"
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
