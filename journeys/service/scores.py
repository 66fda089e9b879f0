"""What the scorers return for a batch, and how a batch's scores are cut back into each request's share."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Protocol, TypeVar

import numpy as np

from journeys.service.features import ContactBatch

T = TypeVar("T")


@dataclass(frozen=True)
class SegmentScores:
    contact_id: np.ndarray  # int64
    segment_id: np.ndarray  # int64
    dissimilarity: np.ndarray  # float64, NaN when undefined
    segment_name: np.ndarray  # object: str, the `segments` table's name
    segment_description: np.ndarray  # object: str


@dataclass(frozen=True)
class PropensityScores:
    contact_id: np.ndarray  # int64
    propensity: np.ndarray  # float64, NaN without page history
    predicted_flag: np.ndarray  # object: True / False / None
    predicted_class: np.ndarray  # object: str / None
    category_codes: list[list[int]]


class Scorer(Protocol[T]):
    """What the service scores with (tests pass stand-ins)."""

    version: str

    def score(self, batch: ContactBatch) -> T: ...


def concat_rows(parts: Sequence[T]) -> T:
    """The scores of several batches as one, in order (inverse of split_rows)."""
    if len(parts) == 1:
        return parts[0]
    names = [f.name for f in fields(parts[0])]  # type: ignore[arg-type]
    joined = {}
    for name in names:
        values = [getattr(part, name) for part in parts]
        joined[name] = [v for value in values for v in value] if isinstance(values[0], list) else np.concatenate(values)
    return type(parts[0])(**joined)


def split_rows(scores: T, counts: Sequence[int]) -> list[T]:
    """Cut the scores of a batch back into one part per request, given each request's number of contacts."""
    bounds = np.cumsum([0, *counts]).tolist()
    names = [f.name for f in fields(scores)]  # type: ignore[arg-type]
    return [
        type(scores)(**{name: getattr(scores, name)[start:stop] for name in names})
        for start, stop in itertools.pairwise(bounds)
    ]
