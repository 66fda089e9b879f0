"""Vectorised k-prototypes with kmodes' interface and objective.

The objective is Huang's: squared Euclidean distance on the numeric columns plus `gamma` times the number
of categorical mismatches. kmodes moves one point at a time in Python, updating the two prototypes after
each move. Here a pass assigns a block of rows at once (NumPy), then updates running per-cluster sums and
category counts with bincounts, so prototypes still follow the moves within a pass (kmodes-like
convergence in few passes) at NumPy speed. Initialisation (Cao, Huang, random; numeric parts drawn around
the mean) makes the same choices as kmodes for the same seed.

Defined behaviour where kmodes has none:
- a missing numeric value (NaN) is left out of the distance and out of the centroid mean, so a contact
  with an unknown value is clustered on what is known about it;
- a missing categorical value (None / NaN) is a category of its own;
- a category never seen by `fit` mismatches every prototype at `predict`;
- a cluster left empty is re-seeded with the point farthest from its prototype;
- asking for more clusters than there are distinct points is a ValueError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

_CHUNK_ROWS = 1 << 16
_BLOCK_ROWS = 2048
_MISSING = "__missing__"


def _as_2d(X: Any) -> np.ndarray:
    """Accept a DataFrame or an array-like and return a 2-D array (object dtype kept for mixed data)."""
    array = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got an array of shape {array.shape}.")
    return array


def _categorical_indices(categorical: int | Sequence[int] | None, n_features: int) -> list[int]:
    """Normalise kmodes' `categorical` argument (an index or a list of indices) and check it."""
    if categorical is None:
        return []
    indices = [categorical] if isinstance(categorical, (int, np.integer)) else list(categorical)
    bad = [i for i in indices if not 0 <= int(i) < n_features]
    if bad:
        raise ValueError(f"categorical indices {bad} are outside the {n_features} columns of X.")
    if len(set(indices)) != len(indices):
        raise ValueError(f"categorical indices repeat: {indices}.")
    return sorted(int(i) for i in indices)


def split_num_cat(X: Any, categorical: int | Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Split X into a float numeric block (NaN for missing) and an object categorical block."""
    array = _as_2d(X)
    cat_idx = _categorical_indices(categorical, array.shape[1])
    num_idx = [i for i in range(array.shape[1]) if i not in cat_idx]
    try:
        xnum = array[:, num_idx].astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"numeric columns {num_idx} of X hold non-numeric values; list those columns in `categorical`."
        ) from exc
    return xnum, array[:, cat_idx]


def _is_missing(column: np.ndarray) -> np.ndarray:
    return (
        pd.isna(column) if column.dtype == object or column.dtype.kind == "f" else np.zeros(len(column), bool)
    )


def fit_categories(xcat: np.ndarray) -> list[list[Any]]:
    """Sorted distinct values per categorical column (kmodes' encoding order); missing last, as its own."""
    categories = []
    for j in range(xcat.shape[1]):
        column = xcat[:, j]
        missing = _is_missing(column)
        values = np.unique(column[~missing]).tolist()
        if missing.any():
            values.append(_MISSING)
        categories.append(values)
    return categories


def encode_categories(xcat: np.ndarray, categories: list[list[Any]]) -> np.ndarray:
    """Integer codes per column; values unseen in `categories` get -1, which matches no prototype."""
    codes = np.empty(xcat.shape, dtype=np.int32)
    for j, values in enumerate(categories):
        column = xcat[:, j].astype(object)
        column[_is_missing(column)] = _MISSING
        index = pd.Index(values, dtype=object)
        codes[:, j] = index.get_indexer(column)
    return codes


def numeric_dissimilarity(xnum: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of every row to every centroid, NaN coordinates left out: (n, k)."""
    out = np.empty((xnum.shape[0], centroids.shape[0]), dtype=np.float64)
    has_nan = np.isnan(xnum).any()
    for k, centroid in enumerate(centroids):
        diff = xnum - centroid
        if has_nan:
            diff = np.nan_to_num(diff, nan=0.0)
        out[:, k] = np.einsum("ij,ij->i", diff, diff)
    return out


def categorical_dissimilarity(xcat: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Number of mismatching categorical columns of every row against every centroid: (n, k)."""
    out = np.zeros((xcat.shape[0], centroids.shape[0]), dtype=np.int32)
    for j in range(xcat.shape[1]):
        out += xcat[:, j, None] != centroids[None, :, j]
    return out


def dissimilarity(
    xnum: np.ndarray, xcat: np.ndarray, centroids_num: np.ndarray, centroids_cat: np.ndarray, gamma: float
) -> np.ndarray:
    """The k-prototypes dissimilarity of every row to every prototype: (n, k)."""
    total = np.zeros((max(xnum.shape[0], xcat.shape[0]), len(centroids_num)), dtype=np.float64)
    if xnum.shape[1]:
        total += numeric_dissimilarity(xnum, centroids_num)
    if xcat.shape[1]:
        total += gamma * categorical_dissimilarity(xcat, centroids_cat)
    return total


def labels_cost(
    xnum: np.ndarray,
    xcat: np.ndarray,
    centroids_num: np.ndarray,
    centroids_cat: np.ndarray,
    gamma: float,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Nearest prototype per row, the total (weighted) cost, and each row's dissimilarity to it."""
    labels = np.empty(max(xnum.shape[0], xcat.shape[0]), dtype=np.int64)
    nearest = np.empty(labels.shape[0], dtype=np.float64)
    for start in range(0, labels.shape[0], _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        dist = dissimilarity(xnum[rows], xcat[rows], centroids_num, centroids_cat, gamma)
        labels[rows] = dist.argmin(axis=1)
        nearest[rows] = dist[np.arange(dist.shape[0]), labels[rows]]
    weighted = nearest if sample_weight is None else nearest * sample_weight
    return labels, float(weighted.sum()), nearest


def init_cao(xcat: np.ndarray, n_clusters: int) -> np.ndarray:
    """Cao et al. (2009) density-based initial modes; the same choices as kmodes' `init_cao`, vectorised."""
    n_points, n_attrs = xcat.shape
    density = np.zeros(n_points)
    for j in range(n_attrs):
        _, inverse, counts = np.unique(xcat[:, j], return_inverse=True, return_counts=True)
        density += counts[inverse] / float(n_points) / float(n_attrs)
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
        for start in range(0, len(order), _CHUNK_ROWS):
            candidates = xcat[order[start : start + _CHUNK_ROWS]]
            taken = (candidates[:, None, :] == centroids[None, :, :]).all(axis=2).any(axis=1)
            if not taken.all():
                chosen = order[start + int(np.argmin(taken))]
                break
        centroids[k] = xcat[chosen]
    return centroids


def count_distinct_rows(xnum: np.ndarray, xcat: np.ndarray) -> int:
    """Number of distinct rows (missing numerics compare equal to each other)."""
    frame = pd.concat([pd.DataFrame(xnum), pd.DataFrame(xcat)], axis=1, ignore_index=True)
    return int(np.unique(pd.util.hash_pandas_object(frame, index=False).to_numpy()).size)


class _ClusterStats:
    """Per-cluster weighted sums (numeric) and category counts, updated as points move between clusters.

    Keeping these running totals is what lets prototypes follow every block of moves at the cost of a few
    bincounts, instead of a pass over all points.
    """

    def __init__(self, xnum: np.ndarray, xcat: np.ndarray, weight: np.ndarray, n_clusters: int, n_categories):
        self.n_clusters, self.n_categories = n_clusters, list(n_categories)
        observed = ~np.isnan(xnum)
        self.weighted_num = np.where(observed, xnum, 0.0) * weight[:, None]
        self.observed_weight = observed * weight[:, None]
        self.xcat, self.weight = xcat, weight
        self.num_sum = np.zeros((n_clusters, xnum.shape[1]))
        self.num_count = np.zeros((n_clusters, xnum.shape[1]))
        self.cat_count = [np.zeros((n_clusters, n_values)) for n_values in self.n_categories]
        self.sizes = np.zeros(n_clusters, dtype=np.int64)

    def add(self, rows: np.ndarray, labels: np.ndarray, sign: float) -> None:
        """Add (sign=+1) or remove (sign=-1) the given rows as members of the given clusters."""
        k = self.n_clusters
        for j in range(self.num_sum.shape[1]):
            self.num_sum[:, j] += sign * np.bincount(labels, self.weighted_num[rows, j], minlength=k)
            self.num_count[:, j] += sign * np.bincount(labels, self.observed_weight[rows, j], minlength=k)
        for j, n_values in enumerate(self.n_categories):
            flat = labels * n_values + self.xcat[rows, j]
            counts = np.bincount(flat, self.weight[rows], minlength=k * n_values)
            self.cat_count[j] += sign * counts.reshape(k, n_values)
        self.sizes += int(sign) * np.bincount(labels, minlength=k)

    def move(self, rows: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        self.add(rows, old, -1.0)
        self.add(rows, new, 1.0)

    def prototypes(self, previous_num: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means over observed values (previous value where none) and modes (ties to the lowest code)."""
        centroids_num = previous_num.copy()
        known = self.num_count > 1e-12
        centroids_num[known] = self.num_sum[known] / self.num_count[known]
        centroids_cat = np.empty((self.n_clusters, len(self.n_categories)), dtype=np.int32)
        for j, counts in enumerate(self.cat_count):
            centroids_cat[:, j] = counts.argmax(axis=1)
        return centroids_num, centroids_cat


def _reseed_empty(labels: np.ndarray, nearest: np.ndarray, sizes: np.ndarray) -> list[tuple[int, int, int]]:
    """Moves (row, from, to) giving every empty cluster the farthest of these rows whose cluster keeps others.

    `sizes` are the clusters' total member counts, so a cluster is never emptied to fill another.
    """
    sizes, nearest = sizes.copy(), nearest.copy()
    moves = []
    for cluster in np.flatnonzero(sizes == 0):
        movable = sizes[labels] > 1
        if not movable.any():
            break
        row = int(np.argmax(np.where(movable, nearest, -np.inf)))
        moves.append((row, int(labels[row]), int(cluster)))
        sizes[labels[row]] -= 1
        sizes[cluster] += 1
        labels = labels.copy()
        labels[row] = cluster
        nearest[row] = -np.inf
    return moves


class KPrototypes:
    """k-prototypes clustering for mixed numeric and categorical data (kmodes-compatible interface).

    `fit(X, categorical=[...])` takes the column indices of the categorical features; the others are
    numeric. After fitting: `cluster_centroids_` (numeric means then categorical modes, in kmodes'
    layout), `labels_`, `cost_`, `n_iter_`, `epoch_costs_` and `gamma` (0.5 x the mean standard deviation
    of the numeric columns when not given, as kmodes).
    """

    def __init__(
        self,
        n_clusters: int = 8,
        max_iter: int = 100,
        init: str | list[np.ndarray] = "Cao",
        n_init: int = 10,
        gamma: float | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.max_iter = max_iter
        self.init = init
        self.n_init = 1 if isinstance(init, list) else n_init
        self.gamma = gamma
        self.random_state = random_state

    def fit(
        self,
        X: Any,
        y: Any = None,
        categorical: int | Sequence[int] | None = None,
        sample_weight: Sequence[float] | None = None,
    ) -> KPrototypes:
        """Cluster X; the best of `n_init` runs (lowest cost) is kept."""
        xnum, xcat_raw = split_num_cat(X, categorical)
        self.categorical_ = _categorical_indices(categorical, xnum.shape[1] + xcat_raw.shape[1])
        self.n_features_in_ = xnum.shape[1] + xcat_raw.shape[1]
        self._check_params(xnum, xcat_raw)
        self.categories_ = fit_categories(xcat_raw)
        xcat = encode_categories(xcat_raw, self.categories_)
        weight = self._check_weight(sample_weight, xnum.shape[0])

        if self.gamma is None:
            self.gamma = 0.5 * float(np.mean(np.nanstd(xnum, axis=0))) if xnum.shape[1] else 1.0
        random_state = check_random_state(self.random_state)
        seeds = random_state.randint(np.iinfo(np.int32).max, size=self.n_init)
        cao = init_cao(xcat, self.n_clusters) if self._init_name() == "cao" else None
        best = None
        for seed in seeds:
            run = self._fit_single(xnum, xcat, weight, np.random.RandomState(seed), cao)
            if best is None or run[2] < best[2]:
                best = run
        (
            (self.centroids_num_, self.centroids_cat_),
            self.labels_,
            self.cost_,
            self.n_iter_,
            self.epoch_costs_,
        ) = best
        return self

    def predict(self, X: Any, categorical: int | Sequence[int] | None = None) -> np.ndarray:
        """Index of the nearest prototype for each row of X (same column layout as at fit)."""
        return self.transform_nearest(X, categorical)[0]

    def fit_predict(
        self,
        X: Any,
        y: Any = None,
        categorical: int | Sequence[int] | None = None,
        sample_weight: Sequence[float] | None = None,
    ) -> np.ndarray:
        """Fit, then return `labels_` (the nearest prototype of every training row)."""
        return self.fit(X, categorical=categorical, sample_weight=sample_weight).labels_

    def transform_nearest(
        self, X: Any, categorical: int | Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest prototype and the dissimilarity to it, for each row of X."""
        self._check_fitted()
        xnum, xcat_raw = split_num_cat(X, self.categorical_ if categorical is None else categorical)
        if xnum.shape[1] + xcat_raw.shape[1] != self.n_features_in_ or xcat_raw.shape[1] != len(
            self.categories_
        ):
            raise ValueError(
                f"X has {xnum.shape[1]} numeric and {xcat_raw.shape[1]} categorical columns; the model was "
                f"fitted on {self.n_features_in_ - len(self.categories_)} and {len(self.categories_)}."
            )
        xcat = encode_categories(xcat_raw, self.categories_)
        labels, _, nearest = labels_cost(xnum, xcat, self.centroids_num_, self.centroids_cat_, self.gamma)
        return labels, nearest

    @property
    def cluster_centroids_(self) -> np.ndarray:
        """Prototypes as kmodes lays them out: numeric means, then decoded categorical modes."""
        self._check_fitted()
        decoded = np.array(
            [[self.categories_[j][code] for j, code in enumerate(row)] for row in self.centroids_cat_],
            dtype=object,
        ).reshape(self.n_clusters, len(self.categories_))
        return np.hstack([self.centroids_num_, decoded]) if decoded.shape[1] else self.centroids_num_

    def to_dict(self) -> dict[str, Any]:
        """Everything `predict` needs, as JSON-ready values (no pickle)."""
        self._check_fitted()
        return {
            "n_clusters": self.n_clusters,
            "gamma": self.gamma,
            "categorical": self.categorical_,
            "n_features_in": self.n_features_in_,
            "categories": [[_json_value(v) for v in values] for values in self.categories_],
            "centroids_num": self.centroids_num_.tolist(),
            "centroids_cat": self.centroids_cat_.tolist(),
            "cost": self.cost_,
            "n_iter": self.n_iter_,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> KPrototypes:
        """Rebuild a fitted model from `to_dict()`'s output."""
        model = cls(n_clusters=state["n_clusters"], gamma=state["gamma"])
        model.categorical_ = list(state["categorical"])
        model.n_features_in_ = state["n_features_in"]
        model.categories_ = [list(values) for values in state["categories"]]
        n_num = model.n_features_in_ - len(model.categories_)
        model.centroids_num_ = np.asarray(state["centroids_num"], dtype=np.float64).reshape(-1, n_num)
        model.centroids_cat_ = np.asarray(state["centroids_cat"], dtype=np.int32).reshape(
            -1, len(model.categories_)
        )
        model.cost_, model.n_iter_ = state["cost"], state["n_iter"]
        return model

    def _init_name(self) -> str:
        return "list" if isinstance(self.init, list) else str(self.init).lower()

    def _check_params(self, xnum: np.ndarray, xcat: np.ndarray) -> None:
        if self._init_name() not in {"cao", "huang", "random", "list"}:
            raise ValueError(
                f"init must be 'Cao', 'Huang', 'random' or a list of two arrays, got {self.init!r}."
            )
        if not isinstance(self.n_clusters, (int, np.integer)) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive integer, got {self.n_clusters!r}.")
        if self.n_init < 1 or self.max_iter < 0:
            raise ValueError(f"n_init must be >= 1 and max_iter >= 0, got {self.n_init} and {self.max_iter}.")
        if xnum.shape[1] + xcat.shape[1] == 0:
            raise ValueError("X has no columns.")
        n_distinct = count_distinct_rows(xnum, xcat) if xnum.shape[0] >= self.n_clusters else xnum.shape[0]
        if n_distinct < self.n_clusters:
            raise ValueError(
                f"Cannot form {self.n_clusters} clusters from {n_distinct} distinct points "
                f"({xnum.shape[0]} rows); lower n_clusters."
            )

    @staticmethod
    def _check_weight(sample_weight: Sequence[float] | None, n_points: int) -> np.ndarray:
        if sample_weight is None:
            return np.ones(n_points)
        weight = np.asarray(sample_weight, dtype=np.float64)
        if weight.shape != (n_points,) or not np.isfinite(weight).all() or (weight < 0).any():
            raise ValueError(f"sample_weight must hold {n_points} finite non-negative numbers.")
        return weight

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_num_"):
            raise AttributeError("This KPrototypes instance is not fitted yet; call fit() first.")

    def _initial_prototypes(
        self, xnum: np.ndarray, xcat: np.ndarray, random_state: np.random.RandomState, cao: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Categorical modes by the chosen method; numeric parts drawn around the mean, as kmodes does."""
        name = self._init_name()
        if name == "list":
            centroids_num = np.atleast_2d(np.asarray(self.init[0], dtype=np.float64)).reshape(
                self.n_clusters, -1
            )
            centroids_cat = np.atleast_2d(np.asarray(self.init[1], dtype=np.int32)).reshape(
                self.n_clusters, -1
            )
            if centroids_num.shape[1] != xnum.shape[1] or centroids_cat.shape[1] != xcat.shape[1]:
                raise ValueError("init arrays do not match the numeric / categorical columns of X.")
            return centroids_num, centroids_cat
        if name == "cao":
            centroids_cat = cao
        elif name == "huang":
            centroids_cat = init_huang(xcat, self.n_clusters, random_state)
        else:
            centroids_cat = xcat[random_state.choice(xcat.shape[0], self.n_clusters)]
        mean, std = np.nanmean(xnum, axis=0), np.nanstd(xnum, axis=0)
        centroids_num = mean + random_state.randn(self.n_clusters, xnum.shape[1]) * std
        return np.nan_to_num(centroids_num), centroids_cat

    def _fit_single(
        self,
        xnum: np.ndarray,
        xcat: np.ndarray,
        weight: np.ndarray,
        random_state: np.random.RandomState,
        cao: np.ndarray | None,
    ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, float, int, list[float]]:
        """One run: batch initial assignment, then passes of block-sequential moves until none move.

        As in kmodes, prototypes follow the moves during a pass (here after every block of rows rather
        than after every row), which converges in far fewer passes than batch (Lloyd) updates.
        """
        n_categories = [len(values) for values in self.categories_]
        centroids_num, centroids_cat = self._initial_prototypes(xnum, xcat, random_state, cao)
        labels, _, nearest = labels_cost(xnum, xcat, centroids_num, centroids_cat, self.gamma, weight)
        stats = _ClusterStats(xnum, xcat, weight, self.n_clusters, n_categories)
        stats.add(np.arange(len(labels)), labels, 1.0)
        self._apply_reseeds(stats, labels, nearest, np.arange(len(labels)))
        centroids_num, centroids_cat = stats.prototypes(centroids_num)

        epoch_costs: list[float] = []
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            moves, pass_cost = 0, 0.0
            for start in range(0, len(labels), _BLOCK_ROWS):
                rows = np.arange(start, min(start + _BLOCK_ROWS, len(labels)))
                dist = dissimilarity(xnum[rows], xcat[rows], centroids_num, centroids_cat, self.gamma)
                new = dist.argmin(axis=1)
                near = dist[np.arange(len(rows)), new]
                pass_cost += float(near @ weight[rows])
                changed = np.flatnonzero(new != labels[rows])
                if changed.size == 0:
                    continue
                moves += changed.size
                stats.move(rows[changed], labels[rows[changed]], new[changed])
                labels[rows[changed]] = new[changed]
                self._apply_reseeds(stats, labels, near, rows)
                centroids_num, centroids_cat = stats.prototypes(centroids_num)
            converged = moves == 0 or (len(epoch_costs) > 0 and pass_cost >= epoch_costs[-1])
            epoch_costs.append(pass_cost)
            if converged:
                break
        labels, cost, _ = labels_cost(xnum, xcat, centroids_num, centroids_cat, self.gamma, weight)
        return (centroids_num, centroids_cat), labels, cost, n_iter, epoch_costs

    @staticmethod
    def _apply_reseeds(
        stats: _ClusterStats, labels: np.ndarray, nearest: np.ndarray, rows: np.ndarray
    ) -> None:
        """Re-seed clusters left empty with the farthest of `rows` (whose dissimilarities are `nearest`)."""
        if stats.sizes.min() > 0:
            return
        for row, old, new in _reseed_empty(labels[rows], nearest, stats.sizes):
            stats.move(rows[[row]], np.array([old]), np.array([new]))
            labels[rows[row]] = new


def _json_value(value: Any) -> Any:
    """NumPy scalars to plain Python so that categories serialise to JSON."""
    return value.item() if isinstance(value, np.generic) else value
