"""Saving and loading the fitted propensity model: native `.keras` weights plus one JSON, never pickle, in a
version folder of its own (journeys.runs.registry).

`PropensityModel.score` is the single scoring path: the build writes `purchase_propensity` with it and the
service loads the same files with `load_propensity_model`, so both give a contact the same value.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeys.contract import ScoringContext
from journeys.propensity.data import Encoder
from journeys.propensity.network import float64_copy, keras, predict
from journeys.runs import registry

MODEL_FILE = "propensity.keras"
META_FILE = "propensity.json"
PREDICTIONS_FILE = "test_predictions.npz"
MODEL_NAME = "propensity"  # its folder under $JOURNEYS_ARTIFACTS
SCORE_DECIMALS = 6  # stored precision: batch composition cannot move a stored score
PREDICT_BATCH = 4096


@dataclass
class PropensityModel:
    """A fitted network with its encoder, classes and decision threshold."""

    version: str
    target: str
    class_names: list[str]
    threshold: float | None
    encoder: Encoder
    network: keras.Model
    category_names: dict[int, str] = field(default_factory=dict)  # the seed codes it was trained with
    context: ScoringContext | None = None  # the seeds and vars of the build that trained it, for the service
    scorer: keras.Model = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.scorer = float64_copy(self.network)

    def probabilities(self, features: pd.DataFrame) -> np.ndarray:
        """Class probabilities for every row, in float64 (rows without history get an all-padding sequence)."""
        inputs = self.encoder.transform(features)
        return predict(self.scorer, inputs.as_keras(self.encoder.categorical_features), PREDICT_BATCH)

    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        """contact_id, propensity, predicted_flag (+ predicted_class) per input row.

        Contacts without page history are outside the model's question: propensity NaN, flag and class NA.
        Binary targets: propensity = P(positive), flag = propensity >= threshold. Segment target:
        propensity = P(most probable segment), predicted_class = that segment, flag NA.
        """
        if "contact_id" not in features:
            raise ValueError("features to score lack the contact_id column")
        has_history = _history_mask(features)
        n = len(features)
        propensity = np.full(n, np.nan)
        predicted_class = pd.Series(pd.NA, index=range(n), dtype="string")
        flag = pd.Series(pd.NA, index=range(n), dtype="boolean")
        if has_history.any():
            probs = np.round(self.probabilities(features[has_history]), SCORE_DECIMALS)
            if len(self.class_names) == 2:
                positive = probs[:, 1]
                propensity[has_history] = positive
                flag[has_history] = positive >= self.threshold
                predicted_class[has_history] = np.where(positive >= self.threshold, self.class_names[1],
                                                        self.class_names[0])
            else:
                best = probs.argmax(axis=1)
                propensity[has_history] = probs[np.arange(len(best)), best]
                predicted_class[has_history] = np.asarray(self.class_names, dtype=object)[best]
        return pd.DataFrame({
            "contact_id": features["contact_id"].to_numpy(),
            "propensity": propensity,
            "predicted_flag": flag.to_numpy(),
            "predicted_class": predicted_class.to_numpy(),
        })


def save_model(model: PropensityModel, folder: Path, test_predictions: pd.DataFrame, extra: dict[str, Any]) -> Path:
    """Write into a version's folder: the network (.keras), the JSON (meta + `extra` run records) and every
    model's test-split scores (npz of plain arrays, so the report draws curves without pickle)."""
    folder = Path(folder)
    model.network.save(folder / MODEL_FILE)
    np.savez_compressed(folder / PREDICTIONS_FILE, **{name: test_predictions[name].to_numpy(
        dtype=str if name == "model_name" else None) for name in test_predictions.columns})
    meta = {
        "version": model.version,
        "target": model.target,
        "class_names": model.class_names,
        "threshold": model.threshold,
        "encoder": model.encoder.to_json(),
        "scoring_context": None if model.context is None else model.context.to_json(),
        "libraries": library_versions(),
        **extra,
    }
    (folder / META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True, allow_nan=False))
    return folder


def read_meta(folder: Path) -> dict[str, Any]:
    """The JSON saved next to the network in a version's folder (run records included)."""
    path = Path(folder) / META_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `dbt build` (purchase_propensity) to create it")
    return json.loads(path.read_text())


def read_test_predictions(folder: Path) -> pd.DataFrame:
    """model_name, contact_id, score, label of every model on the test split (binary targets)."""
    with np.load(Path(folder) / PREDICTIONS_FILE, allow_pickle=False) as saved:
        return pd.DataFrame({name: saved[name] for name in ("model_name", "contact_id", "score", "label")})


def load_propensity_model(artifacts_dir: Path | str, version: str | None = None) -> PropensityModel:
    """Load a saved version (the current one by default); the build, the service and the tests score through
    this."""
    return load_model_folder(registry.version_folder(artifacts_dir, MODEL_NAME, version))


def load_model_folder(folder: Path) -> PropensityModel:
    """The model saved in one version's folder."""
    meta = read_meta(folder)
    network = keras.saving.load_model(Path(folder) / MODEL_FILE, compile=False)
    context = meta.get("scoring_context")
    return PropensityModel(meta["version"], meta["target"], list(meta["class_names"]), meta["threshold"],
                           Encoder.from_json(meta["encoder"]), network,
                           {int(code): name for code, name in meta["category_names"].items()},
                           None if context is None else ScoringContext.from_json(context))


def fingerprint(*arrays: np.ndarray) -> str:
    """sha256 over the raw bytes (with shapes and dtypes) of the training arrays."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions that decide whether the saved network loads and scores the same."""
    import sklearn
    import tensorflow as tf

    return {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
            "tensorflow": tf.__version__, "keras": keras.__version__, "scikit-learn": sklearn.__version__}


def _history_mask(features: pd.DataFrame) -> np.ndarray:
    """has_page_history when given, else a non-empty category_codes list."""
    if "has_page_history" in features:
        return features["has_page_history"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if "category_codes" in features:
        return features["category_codes"].map(
            lambda c: isinstance(c, (list, tuple, np.ndarray)) and len(c) > 0).to_numpy(dtype=bool)
    raise ValueError("features to score need has_page_history or category_codes")
