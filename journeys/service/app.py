"""The FastAPI application and `journeys serve`.

A request is validated on the event loop, then its contacts go to the model's batcher, which scores the
contacts of every request that arrived within a few milliseconds in one call on its own thread; the answer
is written as JSON directly (the response models document it). Until the models are loaded, /health and
the scoring endpoints answer 503 with Retry-After.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError

from journeys.service.batcher import Batcher
from journeys.service.features import contact_batch
from journeys.service.loading import LoadedModels, ModelState, load_models
from journeys.service.middleware import BodySizeLimit, validation_error
from journeys.service.schemas import (
    MAX_BODY_BYTES,
    MAX_CONTACTS_PER_REQUEST,
    ContactBase,
    ErrorResponse,
    Health,
    ModelInfo,
    PropensityRequest,
    PropensityResponse,
    SegmentRequest,
    SegmentResponse,
)
from journeys.service.scores import PropensityScores, SegmentScores, concat_rows, split_rows

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2
TENSORFLOW_THREADS = 1
JSON = "application/json"


async def ready(request: Request) -> LoadedModels:
    """The loaded models, or 503 (a dependency: checked before the body is validated)."""
    state: ModelState = request.app.state.models
    if state.models is None:
        detail = f"models failed to load: {state.error}" if state.error else "models are loading"
        raise HTTPException(503, detail, headers={"Retry-After": str(RETRY_AFTER_S)})
    return state.models


def create_app(models: LoadedModels | ModelState) -> FastAPI:
    """The application over loaded models (tests pass their own) or a state that `run` fills in later."""
    state = models if isinstance(models, ModelState) else ModelState(models)

    def scoring(name: str, scorer: Callable[[LoadedModels], object]) -> Batcher:
        def score(requests: Sequence[tuple[LoadedModels, Sequence[ContactBase]]]) -> object:
            """Each request is scored by the models it started with: a swap between its arrival and its batch
            leaves it on the old version (requests of one version are scored together)."""
            parts = []
            for loaded, group in itertools.groupby(requests, key=lambda request: request[0]):
                contacts = [contact for _, request_contacts in group for contact in request_contacts]
                parts.append(scorer(loaded).score(
                    contact_batch(contacts, loaded.category_codes, loaded.max_sequence_length)))
            return concat_rows(parts)

        return Batcher(name, score, concat=list, split=split_rows)

    batchers = {"segments": scoring("segments", lambda m: m.segments),
                "propensity": scoring("propensity", lambda m: m.propensity)}  # fmt: skip

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        for batcher in batchers.values():
            batcher.close()

    app = FastAPI(
        title="customer-journeys scoring service",
        version="1",
        description=(
            f"Scores contacts with the segment and purchase-propensity models of the last `dbt build`. "
            f"At most {MAX_CONTACTS_PER_REQUEST} contacts per request and {MAX_BODY_BYTES} bytes per body "
            f"(413 beyond); invalid input gets 422 naming the field at fault. Page URLs are normalised and "
            f"categorised by the same seed rules as the warehouse. Until the models are loaded every "
            f"endpoint answers 503 (Retry-After); requests arriving together are scored in one batch."
        ),
        lifespan=lifespan,
    )
    app.state.models = state
    app.add_middleware(BodySizeLimit)
    app.add_exception_handler(RequestValidationError, validation_error)
    errors = {
        413: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        503: {"model": ErrorResponse, "description": "the models are not loaded yet"},
    }

    @app.get("/health", response_model=Health, responses={503: {"model": Health}})
    async def health() -> Response:
        """Whether the models are loaded (200) or not yet (503), each one's version and when it was loaded, and
        why a newer current version is not served (it failed to load)."""
        loaded = state.models

        def info(model: str) -> ModelInfo | None:
            if loaded is None:
                return None
            return ModelInfo(version=getattr(loaded, model).version, loaded_at=loaded.model_loaded_at(model),
                             refused=state.refused.get(model))

        body = Health(
            status="ok" if loaded else ("failed" if state.error else "loading"),
            ready=loaded is not None,
            segments=info("segments"),
            propensity=info("propensity"),
            error=state.error,
            max_contacts_per_request=MAX_CONTACTS_PER_REQUEST,
            max_body_bytes=MAX_BODY_BYTES,
        )
        headers = {} if loaded else {"Retry-After": str(RETRY_AFTER_S)}
        return Response(body.model_dump_json(), 200 if loaded else 503, headers, media_type=JSON)

    @app.post("/v1/segments", response_model=SegmentResponse, responses=errors)
    async def segments(request: SegmentRequest, loaded: Annotated[LoadedModels, Depends(ready)]) -> Response:
        """Segment id, name and description (as in the `segments` table) and dissimilarity to its centroid for
        each contact."""
        loaded.countries.check(request.contacts)
        scores: SegmentScores = await batchers["segments"].submit([(loaded, request.contacts)],
                                                                  len(request.contacts))
        results = [
            {"contact_id": i, "segment_id": s, "segment_name": n, "segment_description": t,
             "dissimilarity": None if math.isnan(d) else d}
            for i, s, n, t, d in zip(scores.contact_id.tolist(), scores.segment_id.tolist(),
                                     scores.segment_name.tolist(), scores.segment_description.tolist(),
                                     scores.dissimilarity.tolist(), strict=True)
        ]  # fmt: skip
        return _json({"model_version": loaded.segments.version, "results": results})

    @app.post("/v1/propensity", response_model=PropensityResponse, responses=errors)
    async def propensity(
        request: PropensityRequest, loaded: Annotated[LoadedModels, Depends(ready)]
    ) -> Response:
        """Purchase propensity and the flag at the model's threshold for each contact."""
        loaded.countries.check(request.contacts)
        scores: PropensityScores = await batchers["propensity"].submit(
            [(loaded, request.contacts)], len(request.contacts)
        )
        results = [
            {"contact_id": i, "propensity": None if math.isnan(p) else p, "predicted_flag": f, "predicted_class": k,
             "category_codes": c}
            for i, p, f, k, c in zip(scores.contact_id.tolist(), scores.propensity.tolist(),
                                     scores.predicted_flag.tolist(), scores.predicted_class.tolist(),
                                     scores.category_codes, strict=True)
        ]  # fmt: skip
        threshold = loaded.propensity.threshold
        return _json({"model_version": loaded.propensity.version,
                      "threshold": None if threshold is None else float(threshold), "results": results})  # fmt: skip

    return app


def _json(body: dict) -> Response:
    """The response as JSON bytes, without FastAPI validating it again against the response model."""
    return Response(json.dumps(body, allow_nan=False, separators=(",", ":")), media_type=JSON)


def run(host: str, port: int, artifacts_dir: Path) -> None:
    """`journeys serve`: listen at once, load the models in the background (503 until then), serve, and swap
    in each new current version as a build or `journeys models use` makes one (ModelState.watch).

    One process: on two cores the event loop parses HTTP on one while the batcher threads score on the
    other (NumPy and XLA release the GIL), and TensorFlow runs single-threaded in the propensity batcher.
    A second worker process would double TensorFlow's memory and contend for the same two cores (see
    `make bench-service`). A failed load stops the server with a non-zero exit code."""
    import uvicorn

    state = ModelState()
    server = uvicorn.Server(uvicorn.Config(create_app(state), host=host, port=port, log_level="info"))

    def load() -> LoadedModels:
        from journeys.service.compiled import limit_tensorflow_threads

        limit_tensorflow_threads(TENSORFLOW_THREADS)
        return load_models(Path(artifacts_dir))

    def stop() -> None:
        server.should_exit = True

    state.load_in_background(load, on_failure=stop)
    state.watch(Path(artifacts_dir))
    server.run()
    state.stop_watching()
    if state.error:
        raise SystemExit(f"journeys serve: {state.error}")
