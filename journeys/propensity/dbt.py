"""Entry points of the thin dbt Python models in python_models/propensity/.

The models pass their refs and the YAML `meta.propensity` block (dbt vars and paths rendered by Jinja);
everything else happens here, so the model files stay one call each.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from journeys.propensity.config import PropensityConfig
from journeys.propensity.pipeline import read_truth, saved_table, train_and_score

PATH_SETTINGS = ("artifacts_dir", "raw_dir")
SCORE_COLUMNS = ["contact_id", "propensity", "predicted_flag", "predicted_class", "decile", "split", "target",
                 "model_version"]


def build_purchase_propensity(
    features: pd.DataFrame,
    category_codes: pd.DataFrame,
    settings: dict[str, Any],
    segments: Any = None,
) -> pd.DataFrame:
    """Train, evaluate, save and score once; returns one row per contact with page history.

    `segments` is the contact_segments relation (anything with `.df()`), read only for target `segment`.
    """
    _log_to_dbt()
    config = PropensityConfig.from_vars({k: v for k, v in settings.items() if k not in PATH_SETTINGS})
    artifacts_dir, raw_dir = _paths(settings)
    run = train_and_score(features, category_codes, config, artifacts_dir,
                          segments=segments.df() if config.target == "segment" else None,
                          truth=read_truth(raw_dir))
    return run.scores[SCORE_COLUMNS]


def saved_run_table(scored: pd.DataFrame, settings: dict[str, Any], name: str) -> pd.DataFrame:
    """`metrics`, `history`, `audit` or `test_predictions` of the run that built `scored` (purchase_propensity)."""
    versions = scored["model_version"].unique()
    if len(versions) != 1:
        raise RuntimeError(f"purchase_propensity holds {len(versions)} model versions; expected exactly one")
    artifacts_dir, _ = _paths(settings)
    return saved_table(artifacts_dir, name, str(versions[0]))


def _paths(settings: dict[str, Any]) -> tuple[Path, Path]:
    missing = [k for k in PATH_SETTINGS if not settings.get(k)]
    if missing:
        raise ValueError(f"meta.propensity lacks {', '.join(missing)} (see python_models/propensity/_propensity.yml)")
    return Path(settings["artifacts_dir"]), Path(settings["raw_dir"])


class DbtEventHandler(logging.Handler):
    """Forwards log records to dbt's event system: they reach the console AND logs/dbt.log.

    dbt does not capture the standard `logging` module nor a Python model's stdout in its log file.
    """

    def emit(self, record: logging.LogRecord) -> None:
        from dbt_common.events.base_types import EventLevel
        from dbt_common.events.functions import fire_event
        from dbt_common.events.types import Note

        level = EventLevel.WARN if record.levelno >= logging.WARNING else EventLevel.INFO
        fire_event(Note(msg=self.format(record)), level=level)


def _log_to_dbt() -> None:
    """Route this package's INFO lines (per-epoch progress, timings, audit warnings) into dbt's log."""
    logger = logging.getLogger("journeys.propensity")
    if not any(isinstance(h, DbtEventHandler) for h in logger.handlers):
        logger.addHandler(DbtEventHandler())
        logger.setLevel(logging.INFO)
        logger.propagate = False  # TensorFlow configures the root logger: avoid every line twice
