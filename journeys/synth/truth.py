"""Reading the planted truth the generator writes beside a synthetic export (`truth.csv`).

Only the evaluation rows read it (truth's probabilities in model_metrics, the segments' ARI); a real export has
no such file, and then there are no such rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

TRUTH_FILE = "truth.csv"


def read_truth(raw_dir: Path | str, required: Sequence[str], optional: Sequence[str] = ()) -> pd.DataFrame | None:
    """contact_id and the `required` (and present `optional`) columns of the raw folder's truth.csv, one row
    per contact; None when the folder holds no truth.csv. Header names are read in snake case."""
    path = Path(raw_dir) / TRUTH_FILE
    if not path.exists():
        return None
    wanted = ("contact_id", *required, *optional)
    truth = pd.read_csv(path, usecols=lambda name: _snake(name) in wanted)
    truth.columns = [_snake(c) for c in truth.columns]
    missing = sorted({"contact_id", *required} - set(truth.columns))
    if missing:
        raise ValueError(f"{path} lacks column(s) {', '.join(missing)}; has {list(truth.columns)}")
    repeated = truth["contact_id"].duplicated()
    if repeated.any():
        raise ValueError(f"{path}: contact_id repeats, e.g. {truth.loc[repeated, 'contact_id'].iloc[0]}")
    return truth[[c for c in wanted if c in truth]]


def _snake(name: str) -> str:
    return name.strip().lower().replace(" ", "_")
