"""Train or score: the daily build reuses saved models and retrains only when asked or needed.

Model-agnostic. Each version folder (journeys.runs.registry) holds, beside the model files, `training_run.json`:
the compatibility fingerprint the model was trained under (one digest per part: settings, feature contract,
category codes, ...) and the training record that becomes a row of `model_runs`. `decide` compares today's
fingerprint with the current version's under the dbt var `journeys_retrain`:

- `auto` (default): train when no saved model exists or a part of the fingerprint changed, else score;
- `true`: always train;
- `false`: never train; no saved model, or an incompatible one, stops the build with one line.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from journeys.runs import registry

LOG = logging.getLogger("journeys.runs.retraining")
MODES = ("auto", "true", "false")
RUN_COLUMNS = ["model_name", "model_version", "event", "recorded_at", "trained_at", "rows", "data_fingerprint",
               "reason", "settings", "metrics"]


class CannotScore(RuntimeError):
    """`journeys_retrain: false` and the saved model cannot score today's inputs."""


@dataclass(frozen=True)
class Decision:
    train: bool
    reason: str


def parse_mode(value: Any) -> str:
    """The var `journeys_retrain` as rendered by Jinja (`auto`, `True`, `false`, ...) -> auto | true | false."""
    mode = str(value).strip().lower()
    if mode not in MODES:
        raise ValueError(f"var journeys_retrain must be one of {', '.join(MODES)}; got {value!r}")
    return mode


def digest(value: Any) -> str:
    """Short sha256 of a JSON-serialisable value (keys sorted), for fingerprints."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def frame_contract(frame: pd.DataFrame, columns: list[str] | None = None) -> dict[str, str]:
    """Column name -> type kind of the input relation: the feature contract a model was trained on.

    Kinds, not pandas dtypes: DuckDB hands over an INTEGER column as int32 one day and nullable Int32 the
    next, depending only on whether that day's export has a NULL in it.
    """
    names = list(frame.columns) if columns is None else columns
    return {name: _kind(frame[name]) if name in frame.columns else "absent" for name in names}


def _kind(column: pd.Series) -> str:
    types = pd.api.types
    if types.is_bool_dtype(column.dtype):
        return "boolean"
    if types.is_integer_dtype(column.dtype):
        return "integer"
    if types.is_float_dtype(column.dtype):
        return "float"
    if types.is_datetime64_any_dtype(column.dtype):
        return "timestamp"
    values = column.dropna()
    return type(values.iloc[0]).__name__ if len(values) else "empty"


def data_fingerprint(frame: pd.DataFrame) -> str:
    """Digest of a frame's values (row order included), recorded per training in model_runs."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def decide(model_name: str, mode: str, artifacts_dir: Path, compatibility: dict[str, Any],
           model_files: list[str]) -> Decision:
    """Train or score `model_name`, whose current version (journeys.runs.registry) holds `model_files`;
    `compatibility` maps part -> value."""
    try:
        folder = registry.version_folder(artifacts_dir, model_name)
    except registry.NoModel:
        folder = registry.model_root(artifacts_dir, model_name) / registry.VERSIONS / "none"
    wanted = {part: digest(value) for part, value in compatibility.items()}
    saved = registry.read_run(folder)
    missing = [name for name in [registry.RUN_FILE, *model_files] if not (folder / name).exists()]
    if mode == "true":
        decision = Decision(True, "journeys_retrain: true")
    elif missing:
        if mode == "false":
            raise CannotScore(f"journeys_retrain is false but there is no saved {model_name} model to score with "
                              f"({folder / missing[0]} not found): build once with journeys_retrain auto or true")
        decision = Decision(True, "no saved model")
    else:
        changed = sorted(part for part in wanted if saved["compatibility"].get(part) != wanted[part])
        if changed and mode == "false":
            raise CannotScore(f"journeys_retrain is false but the saved {model_name} model in {folder} is "
                              f"incompatible with today's inputs ({', '.join(changed)} changed): retrain it")
        decision = Decision(True, f"{', '.join(changed)} changed") if changed else Decision(False, "")
    LOG.info("%s: %s", model_name, f"training ({decision.reason})" if decision.train
             else f"scoring with the saved model {folder.name}")
    return decision


def record_training(folder: Path, model_name: str, version: str, compatibility: dict[str, Any], reason: str,
                    rows: int, fingerprint: str, settings: dict[str, Any], metrics: dict[str, float]) -> None:
    """Write the fingerprint and the training record into the version's folder."""
    registry.write_json(Path(folder) / registry.RUN_FILE, {
        "model_name": model_name,
        "model_version": version,
        "trained_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "rows": int(rows),
        "data_fingerprint": fingerprint,
        "reason": reason,
        "settings": settings,
        "metrics": metrics,
        "compatibility": {part: digest(value) for part, value in compatibility.items()},
    })


def new_training_runs(artifacts_dir: Path | str, recorded: pd.DataFrame | None) -> pd.DataFrame:
    """model_runs rows not yet in `recorded` (the table so far; None on the first build): one `trained` row per
    training saved under `artifacts_dir`, one `made_current` row per change of a model's current version."""
    rows = []
    for folder in sorted(Path(artifacts_dir).glob(f"*/{registry.VERSIONS}/*/{registry.RUN_FILE}")):
        run = registry.read_run(folder.parent)
        rows.append({**{key: run[key] for key in RUN_COLUMNS if key in run and key not in ("settings", "metrics")},
                     "event": "trained", "recorded_at": run["trained_at"],
                     "settings": json.dumps(run["settings"], sort_keys=True, default=str),
                     "metrics": json.dumps(run["metrics"], sort_keys=True)})
    trained = {row["model_version"]: row for row in rows}
    for change in registry.history(artifacts_dir):
        run = trained.get(change["to"], {})
        rows.append({"model_name": change["model"], "model_version": change["to"], "event": "made_current",
                     "recorded_at": change["at"], "trained_at": run.get("trained_at"), "rows": run.get("rows"),
                     "data_fingerprint": run.get("data_fingerprint"),
                     "reason": f"{change['reason']} (was {change['from'] or 'none'})",
                     "settings": run.get("settings"), "metrics": run.get("metrics")})
    frame = pd.DataFrame(rows, columns=RUN_COLUMNS)
    for column in ("trained_at", "recorded_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
    frame["rows"] = frame["rows"].astype("Int64")
    if recorded is not None and len(recorded) and "event" in recorded:
        seen = set(zip(recorded["model_name"], recorded["event"], pd.to_datetime(recorded["recorded_at"]),
                       strict=True))
        keep = [key not in seen for key in zip(frame["model_name"], frame["event"], frame["recorded_at"],
                                               strict=True)]
        frame = frame[keep]
    return frame.reset_index(drop=True)
