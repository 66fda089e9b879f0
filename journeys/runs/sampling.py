"""Seeded, stratified training samples: models train on a capped sample and score every contact.

The dbt vars `journeys_segments.train_rows` and `journeys_propensity.train_rows` cap the rows a model trains on (0 = all).
A stratum keeps its share of the rows (largest-remainder rounding, so the sample has exactly `size` rows
and a stratum of one row in a thousand stays about one in a thousand); within a stratum the rows are drawn
uniformly from the seed.
"""

from __future__ import annotations

import numpy as np


def stratified_sample(strata: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted positions of `size` rows drawn without replacement, each stratum in proportion to its count.

    `strata` holds one integer label per row (e.g. the class, or a code of the categorical profile). All
    positions come back when `size` is 0 or at least the number of rows.
    """
    strata = np.asarray(strata)
    n = len(strata)
    if size < 0:
        raise ValueError(f"a training sample cap must be 0 (all rows) or positive, got {size}")
    if size == 0 or size >= n:
        return np.arange(n)
    codes, counts = np.unique(strata, return_inverse=True, return_counts=True)[1:]
    quota = counts * size / n
    take = np.floor(quota).astype(np.int64)
    remainder_order = np.lexsort((np.arange(len(counts)), -(quota - take)))
    take[remainder_order[: size - int(take.sum())]] += 1
    rng = np.random.default_rng(seed)
    # Rank rows by a random key inside their stratum; keep the first `take` of each.
    order = np.lexsort((rng.random(n), codes))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, counts)
    return np.flatnonzero(rank < take[codes])
