"""Loading what the builds saved, and swapping in new versions while serving.

`load_models` is slow (it imports TensorFlow and compiles the network), so the server runs it in the background
and answers 503 until it is done (`ModelState`). Then `ModelState.watch` polls each model's CURRENT pointer
(journeys.runs.registry): a new current version is loaded and compiled on the watcher's thread while the old one
keeps serving, and swapped in by replacing one reference, so a request keeps the models it started with. A
version that fails to load is refused: the old one keeps serving and /health says why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from journeys.runs import registry
from journeys.service.countries import Countries
from journeys.service.features import CategoryCodes
from journeys.service.scores import PropensityScores, Scorer, SegmentScores

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 2.0
MODELS = ("segments", "propensity")


@dataclass(frozen=True)
class LoadedModels:
    """The scorers, URL rules and known countries one request is served with; replaced whole on a swap.

    The URL rules, countries and sequence length are those the propensity model was built with.
    """

    segments: Scorer[SegmentScores]
    propensity: Scorer[PropensityScores]
    category_codes: CategoryCodes
    countries: Countries
    max_sequence_length: int
    loaded_at: datetime  # when both were first loaded
    segments_loaded_at: datetime | None = None  # when each model's version was swapped in (None: at loaded_at)
    propensity_loaded_at: datetime | None = None

    def model_loaded_at(self, model: str) -> datetime:
        return getattr(self, f"{model}_loaded_at") or self.loaded_at


def load_segments(artifacts_dir: Path, version: str | None = None) -> Scorer[SegmentScores]:
    """A segment version (the current one by default), ready to score."""
    from journeys.segments import load_segment_model
    from journeys.service.inference import SegmentScorer

    model = load_segment_model(artifacts_dir, version)
    if model.context is None:
        raise ValueError(f"segment model {model.version} was saved without the seeds it was built with: retrain it")
    return SegmentScorer(model)


def load_propensity(artifacts_dir: Path, version: str | None = None) -> tuple[Scorer[PropensityScores], dict]:
    """A propensity version (the current one by default) compiled, with the URL rules, countries and sequence
    length of its build (LoadedModels' fields)."""
    from journeys.propensity import load_propensity_model
    from journeys.service.inference import PropensityScorer

    model = load_propensity_model(artifacts_dir, version)
    context = model.context
    if context is None or context.urls is None:
        raise ValueError(f"propensity model {model.version} was saved without the seeds and vars it was built "
                         "with: retrain it (`journeys build --vars '{journeys_retrain: true}'`)")
    return PropensityScorer(model), {"category_codes": CategoryCodes(context.urls),
                                     "countries": Countries(context.country_names, context.country_codes),
                                     "max_sequence_length": int(context.max_sequence_length)}


def load_models(artifacts_dir: Path) -> LoadedModels:
    """Both models' current versions from `artifacts_dir`, ready to score."""
    segments = load_segments(artifacts_dir)
    propensity, context = load_propensity(artifacts_dir)
    return LoadedModels(segments=segments, propensity=propensity, loaded_at=datetime.now(UTC), **context)


class ModelState:
    """The models once loaded, or why loading failed, and each refused version; readers never wait."""

    def __init__(self, models: LoadedModels | None = None) -> None:
        self.models = models
        self.error: str | None = None
        self.refused: dict[str, str] = {}  # model -> why its newest current version is not the one served
        self.loaded = threading.Event()
        if models is not None:
            self.loaded.set()
        self._stop = threading.Event()

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

    def swap_if_changed(self, artifacts_dir: Path) -> list[str]:
        """Load and swap in each model whose current version is not the one served; returns the models
        swapped. A version that fails to load is refused once (logged, in /health) until CURRENT changes."""
        swapped = []
        for model in MODELS:
            loaded = self.models
            if loaded is None:
                return swapped
            version = registry.current_version(artifacts_dir, model)
            served = getattr(loaded, model).version
            if version is None or version == served or self.refused.get(model, "").startswith(f"{version}:"):
                continue
            try:
                if model == "segments":
                    parts = {"segments": load_segments(artifacts_dir, version)}
                else:
                    scorer, context = load_propensity(artifacts_dir, version)
                    parts = {"propensity": scorer, **context}
            except Exception as error:  # noqa: BLE001 - a version that does not load is refused, not served
                self.refused[model] = f"{version}: {type(error).__name__}: {str(error).splitlines()[0]}"
                log.error("%s version %s refused, %s keeps serving: %s", model, version, served,
                          self.refused[model])
                continue
            self.models = replace(self.models, **parts, **{f"{model}_loaded_at": datetime.now(UTC)})
            self.refused.pop(model, None)
            swapped.append(model)
            log.info("%s: now serving %s (was %s)", model, version, served)
        return swapped

    def watch(self, artifacts_dir: Path, interval_s: float = WATCH_INTERVAL_S) -> threading.Thread:
        """Poll the CURRENT pointers every `interval_s` on a thread of its own and swap in new versions."""

        def poll() -> None:
            self.loaded.wait()
            while not self._stop.wait(interval_s):
                try:
                    self.swap_if_changed(artifacts_dir)
                except Exception:
                    log.exception("watching %s for new model versions failed", artifacts_dir)

        thread = threading.Thread(target=poll, name="watch-models", daemon=True)
        thread.start()
        return thread

    def stop_watching(self) -> None:
        self._stop.set()
