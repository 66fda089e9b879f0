"""FastAPI scoring service over the models the last `dbt build` saved.

One module per job: `schemas` (request and response bodies, limits), `middleware` (413 / 422),
`countries`, `features` (request -> NumPy columns), `inference` (the fast scorers), `batcher` (dynamic
batching), `loading` (artifacts, readiness), `app` (routes and `journeys serve`), `examples` (warehouse
contacts as request bodies). Importing the package does not import TensorFlow.
"""

from journeys.service.app import create_app, run
from journeys.service.countries import Countries
from journeys.service.examples import warehouse_contacts
from journeys.service.loading import LoadedModels, ModelState, load_models
from journeys.service.schemas import MAX_BODY_BYTES, MAX_CONTACTS_PER_REQUEST

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CONTACTS_PER_REQUEST",
    "Countries",
    "LoadedModels",
    "ModelState",
    "create_app",
    "load_models",
    "run",
    "warehouse_contacts",
]
