"""Initial prototypes (kmodes' Cao and Huang methods, vectorised) and the distinct-rows check behind them."""

from __future__ import annotations

import numpy as np

DISTINCT_PREFIX_ROWS = 4096


def init_cao(xcat: np.ndarray, n_clusters: int) -> np.ndarray:
    """Cao et al. (2009) density-based initial modes; the same choices as kmodes' `init_cao`, vectorised."""
    n_points, n_attrs = xcat.shape
    density = np.zeros(n_points)
    for j in range(n_attrs):
        counts = np.bincount(xcat[:, j])
        density += counts[xcat[:, j]] / float(n_points) / float(n_attrs)
    centroids = np.empty((n_clusters, n_attrs), dtype=xcat.dtype)
    centroids[0] = xcat[np.argmax(density)]
    closest = np.full(n_points, np.inf)
    for k in range(1, n_clusters):
        closest = np.minimum(closest, np.count_nonzero(xcat != centroids[k - 1], axis=1) * density)
        centroids[k] = xcat[np.argmax(closest)]
    return centroids


def init_huang(xcat: np.ndarray, n_clusters: int, random_state: np.random.RandomState) -> np.ndarray:
    """Huang (1997) frequency-sampled modes moved to the closest distinct point; as kmodes' `init_huang`."""
    centroids = np.empty((n_clusters, xcat.shape[1]), dtype=xcat.dtype)
    for j in range(xcat.shape[1]):
        centroids[:, j] = random_state.choice(np.sort(xcat[:, j]), n_clusters)
    for k in range(n_clusters):
        order = np.argsort(np.count_nonzero(xcat != centroids[k], axis=1))
        chosen = order[-1]
        for start in range(0, len(order), 1 << 16):
            candidates = xcat[order[start : start + (1 << 16)]]
            taken = (candidates[:, None, :] == centroids[None, :, :]).all(axis=2).any(axis=1)
            if not taken.all():
                chosen = order[start + int(np.argmin(taken))]
                break
        centroids[k] = xcat[chosen]
    return centroids


def _row_keys(xnum: np.ndarray, xcat: np.ndarray) -> np.ndarray:
    """Rows as int64 bit patterns, so that equal rows (missing numerics included) compare equal."""
    return np.hstack([np.ascontiguousarray(xnum).view(np.int64), xcat.astype(np.int64)])


def distinct_rows(xnum: np.ndarray, xcat: np.ndarray, at_most: int) -> np.ndarray | None:
    """First rows of each distinct value when there are at most `at_most` distinct rows, else None.

    A prefix is checked first, so data with many distinct rows (the usual case) costs one small sort.
    """
    keys = _row_keys(xnum, xcat)
    for stop in (min(len(keys), DISTINCT_PREFIX_ROWS), len(keys)):
        _, first = np.unique(keys[:stop], axis=0, return_index=True)
        if len(first) > at_most:
            return None
    return np.sort(first)
