"""Run as a script: save propensity model versions in a loop, each made current as a build makes it, until
killed; prints each version once it is current. The test kills it at a random moment (test_model_versions).

Usage: python model_saver.py ARTIFACTS_DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from journeys.propensity.artifacts import MODEL_NAME, PropensityModel, save_model
from journeys.propensity.config import (
    BOOLEAN_FEATURES,
    CATEGORICAL_FEATURES,
    NUMERIC_FEATURES,
    PropensityConfig,
)
from journeys.propensity.data import Encoder
from journeys.propensity.network import build_network
from journeys.runs import registry, retraining

artifacts = Path(sys.argv[1])
rng = np.random.default_rng(0)
n = 200
frame = pd.DataFrame({"contact_id": np.arange(n), "has_page_history": True,
                      "category_codes": [list(rng.integers(1, 5, 3)) for _ in range(n)]})
for name in NUMERIC_FEATURES:
    frame[name] = rng.random(n)
for name in BOOLEAN_FEATURES:
    frame[name] = rng.random(n) < 0.5
for name in CATEGORICAL_FEATURES:
    frame[name] = rng.choice(["a", "b"], n)
config = PropensityConfig(units=(4,), embedding_dim=2, dense_units=4, max_sequence_length=4, min_category_count=1)
encoder = Encoder.fit(frame, config, 6)
predictions = pd.DataFrame({"model_name": ["bilstm"] * n, "contact_id": frame["contact_id"],
                            "score": rng.random(n), "label": rng.random(n) < 0.5})
model = PropensityModel("", "any_course", ["0", "1"], 0.5, encoder, build_network(encoder, 2, config),
                        {code: f"c{code}" for code in range(1, 6)})
print("ready", flush=True)
for i in range(10**9):
    model.version = f"bilstm-{os.getpid()}-{i}"
    incoming = registry.incoming_folder(artifacts, MODEL_NAME)
    save_model(model, incoming, predictions, {"category_names": {str(k): v for k, v in model.category_names.items()}})
    folder = registry.commit(artifacts, MODEL_NAME, incoming, model.version)
    retraining.record_training(folder, MODEL_NAME, model.version, {}, "saver", n, "f", {}, {"test_roc_auc": 0.5})
    registry.adopt(artifacts, MODEL_NAME, model.version, "saved", keep=3)
    print(model.version, flush=True)
