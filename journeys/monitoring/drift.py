"""Build-to-build drift of the scores: what `score_drift` records each build.

- `propensity_psi`: population stability index of today's propensity scores over the previous build's
  deciles, sum over bins of (today - before) x ln(today / before) (shares floored at 1e-4). Each build stores
  its own decile edges and shares in `reference` for the next build. Rule of thumb: < 0.1 stable, > 0.2 moved.
- `segment_share`: each segment's share of contacts today, the previous build's, and the change.

The first build has no previous one: its rows carry today's values only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd

COLUMNS = ["build_number", "built_at", "measure", "segment_id", "value", "previous_value", "change",
           "reference"]
DECILES = np.linspace(0.1, 0.9, 9)
SHARE_FLOOR = 1e-4


def population_stability_index(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI between two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, float), SHARE_FLOOR)
    a = np.maximum(np.asarray(actual, float), SHARE_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def bin_shares(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of scores in each of the len(edges) + 1 bins cut at `edges` (a bin holds its upper edge)."""
    bins = np.searchsorted(np.asarray(edges, float), scores, side="left")
    return np.bincount(bins, minlength=len(edges) + 1) / max(len(scores), 1)


def score_drift(propensity: pd.DataFrame, segments: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """This build's score_drift rows, against the latest build in `previous` (the table so far, or None)."""
    last = None
    number = 1
    if previous is not None and len(previous):
        number = int(previous["build_number"].max()) + 1
        last = previous[previous["build_number"] == number - 1]
    built_at = datetime.now(UTC).replace(tzinfo=None)
    scores = propensity["propensity"].dropna().to_numpy(dtype=float)
    edges = np.quantile(scores, DECILES) if len(scores) else np.full(len(DECILES), np.nan)
    reference = json.dumps({"edges": edges.tolist(), "shares": bin_shares(scores, edges).tolist()})
    psi = None
    before = None if last is None else last.loc[last["measure"] == "propensity_psi", "reference"]
    if before is not None and len(before) and isinstance(before.iloc[0], str):
        saved = json.loads(before.iloc[0])
        psi = population_stability_index(saved["shares"], bin_shares(scores, np.asarray(saved["edges"])))
    rows = [{"measure": "propensity_psi", "segment_id": None, "value": psi, "previous_value": None,
             "change": None, "reference": reference}]
    today = segments["segment_id"].value_counts(normalize=True)
    earlier = pd.Series(dtype=float) if last is None else (
        last[last["measure"] == "segment_share"].set_index("segment_id")["value"])
    for segment in sorted(set(today.index) | set(earlier.index)):
        value = float(today.get(segment, 0.0))
        prior = float(earlier[segment]) if segment in earlier.index else None
        rows.append({"measure": "segment_share", "segment_id": int(segment), "value": value,
                     "previous_value": prior, "change": None if prior is None else value - prior,
                     "reference": None})
    frame = pd.DataFrame(rows).assign(build_number=number, built_at=built_at)
    frame["segment_id"] = frame["segment_id"].astype("Int64")
    for column in ("value", "previous_value", "change"):
        frame[column] = frame[column].astype(float)
    frame["reference"] = frame["reference"].astype(object)
    return frame[COLUMNS]
