"""k-prototypes with kmodes 0.12.2's interface, objective and move rule, in compiled code.

The objective is Huang's: squared Euclidean distance on the numeric columns plus `gamma` times the number
of categorical mismatches. The algorithm is kmodes' own: a batch initial assignment, then passes in which
every point moves to its nearest prototype and the two prototypes it leaves and joins are updated at once
(running sums, category counts, kmodes' mode tie rule), with kmodes' epoch cost and convergence test. The
passes run in numba kernels that release the GIL, so the `n_init` runs go to `n_jobs` threads sharing one
copy of the data. Float64 throughout: on the same seed, labels, iteration counts and costs are kmodes'
(costs to the last bits, where NumPy orders a sum differently).

`KPrototypes` takes every constructor, `fit` and `predict` argument of kmodes 0.12.2 with the same
meaning and returns the same types (labels uint16). Exceptions: kmodes' own types; where kmodes asserts,
`KModesArgumentError` (a ValueError that is also an AssertionError), and before `fit` a `NotFittedError`
that is scikit-learn's and also an AssertionError, so callers written for kmodes or for scikit-learn keep
working. As in kmodes, a category never seen by `fit` mismatches every prototype at `predict`.

Deliberate deviations from kmodes 0.12.2, each because kmodes fails or is ill-defined there:
- a missing numeric value (NaN) is left out of the distance and of the centroid mean (kmodes raises
  ValueError), so a contact with an unknown value is clustered on what is known about it;
- a missing categorical value (None / NaN) is a category of its own (kmodes raises ValueError or TypeError);
- a cluster left empty, at initialisation or by a move, receives the point farthest from its prototype
  among clusters keeping other members (kmodes retries the initialisation up to 100 times, then raises
  ValueError, and refills a cluster emptied by a move with a random point of the largest cluster):
  deterministic, and places the new prototype where the model fits worst. Only an initialisation no retry
  could fix raises kmodes' ValueError: with no more distinct rows than clusters, each distinct row is a
  prototype, and two of them the objective cannot tell apart (gamma 0 and equal numerics) leave one empty;
- with `sample_weight`, prototype means divide by the members' total weight throughout (kmodes counts a
  moved point as weight 1 in the divisor, so its means drift from the weighted mean);
- `predict` without `categorical` uses the columns given to `fit` (kmodes raises TypeError), and rejects X
  whose column count differs from fit's (kmodes silently mis-reads it);
- `categorical` may also be a NumPy integer or integer array (kmodes asserts a Python int, list or tuple);
- with `max_iter=0`, or fewer distinct points than clusters, `labels_` holds the nearest prototypes
  (kmodes leaves None); fewer distinct points than clusters also warns (kmodes takes the distinct
  points as the prototypes silently, as here);
- kmodes' `euclidean_dissim` with its `matching_dissim` or `ng_dissim` (Ng et al.: a matching value
  costs 1 - its share among the cluster's current members, read at every move as kmodes does; `predict`
  uses matching, as kmodes' without memberships) are computed; another `num_dissim` / `cat_dissim` raises
  NotImplementedError naming it: it would need a Python-speed path;
- `n_clusters` above 65,535 is a ValueError (uint16 labels would wrap around in kmodes);
- a DataFrame is read column by column (float numerics, Categorical columns by their codes) instead of
  as one object array, so a categorical integer column keeps integer categories where kmodes' array of a
  mixed frame may hold them as floats (1 rather than 1.0; they compare equal).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from kmodes.util.dissim import euclidean_dissim, matching_dissim, ng_dissim
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import check_random_state

from journeys.kprototypes.encoding import (
    as_2d,
    categorical_indices,
    encode_categories,
    fit_encode_categories,
    split_num_cat,
)
from journeys.kprototypes.errors import KModesArgumentError, NotFittedError
from journeys.kprototypes.init import distinct_rows, init_cao, init_huang
from journeys.kprototypes.kernels import (
    BLOCK_ROWS,
    by_column,
    labels_cost,
    nearest_kernel,
    online_pass,
    sequential_assign,
    start_totals,
)

_MAX_CLUSTERS = int(np.iinfo(np.uint16).max)
CATEGORICAL_DISSIMILARITIES = (matching_dissim, ng_dissim)

def _mean_std(xnum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations: NumPy's plain ones without NaN (kmodes' exact values)."""
    if np.isnan(xnum).any():
        return np.nanmean(xnum, axis=0), np.nanstd(xnum, axis=0)
    return np.mean(xnum, axis=0), np.std(xnum, axis=0)


class KPrototypes(ClusterMixin, BaseEstimator):
    """k-prototypes clustering of mixed numeric and categorical data: kmodes 0.12.2's `KPrototypes`.

    `fit(X, categorical=[...])` takes the column indices of the categorical features; the others are
    numeric. After fitting: `cluster_centroids_` (numeric means then categorical modes, in kmodes'
    layout), `labels_` (uint16), `cost_`, `n_iter_`, `epoch_costs_` and `gamma` (0.5 x the mean standard
    deviation of the numeric columns when not given, as kmodes). `n_jobs` threads run the `n_init` runs
    (-1: all cores). The module docstring lists where behaviour differs from kmodes, and why.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        max_iter: int = 100,
        num_dissim: Callable[..., Any] = euclidean_dissim,
        cat_dissim: Callable[..., Any] = matching_dissim,
        init: str | list[np.ndarray] = "Cao",
        n_init: int = 10,
        gamma: float | None = None,
        verbose: int = 0,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = 1,
    ) -> None:
        self.n_clusters = n_clusters
        self.max_iter = max_iter
        self.num_dissim = num_dissim
        self.cat_dissim = cat_dissim
        self.init = init
        self.n_init = n_init
        self.gamma = gamma
        self.verbose = verbose
        self.random_state = random_state
        self.n_jobs = n_jobs
        if isinstance(self.init, list) and self.n_init > 1:
            if self.verbose:
                print("Initialization method is deterministic. Setting n_init to 1.")
            self.n_init = 1

    def fit(
        self,
        X: Any,
        y: Any = None,
        categorical: int | Sequence[int] | None = None,
        sample_weight: Sequence[float] | None = None,
    ) -> KPrototypes:
        """Cluster X; the best of `n_init` runs (lowest cost, the first on ties) is kept."""
        array = X if isinstance(X, pd.DataFrame) else as_2d(X)
        self._check_params()
        if categorical is None or (
            isinstance(categorical, (list, tuple, np.ndarray)) and len(categorical) == 0
        ):
            raise NotImplementedError(
                "No categorical data selected, effectively doing k-means. Present a list of categorical "
                "columns, or use scikit-learn's KMeans instead."
            )
        self.categorical_ = categorical_indices(categorical, array.shape[1])
        if len(self.categorical_) == array.shape[1]:
            raise KModesArgumentError("All columns are categorical, use k-modes instead of k-prototypes.")
        xnum, xcat_raw = split_num_cat(array, categorical)
        self.n_features_in_ = array.shape[1]
        if self.n_clusters > array.shape[0]:
            raise KModesArgumentError(
                f"Cannot have more clusters ({self.n_clusters}) than data points ({array.shape[0]})."
            )
        weight = self._check_weight(sample_weight, array.shape[0])
        self.categories_, xcat = fit_encode_categories(xcat_raw)

        if self.gamma is None:
            self.gamma = 0.5 * np.mean(_mean_std(xnum)[1])
        elif not isinstance(self.gamma, (int, float, np.number)) or not self.gamma >= 0:
            raise ValueError(f"gamma must be a non-negative number or None, got {self.gamma!r}.")
        random_state = check_random_state(self.random_state)
        n_init, max_iter, init = self.n_init, self.max_iter, self.init
        distinct = distinct_rows(xnum, xcat, self.n_clusters)
        if distinct is not None:
            if len(distinct) < self.n_clusters:
                warnings.warn(
                    f"X has only {len(distinct)} distinct rows for {self.n_clusters} clusters; each distinct "
                    "row is a prototype (as kmodes does).",
                    stacklevel=2,
                )
            n_init, max_iter, init = 1, 0, [xnum[distinct], xcat[distinct]]
        n_clusters = self.n_clusters if distinct is None else len(distinct)
        seeds = random_state.randint(np.iinfo(np.int32).max, size=n_init)
        cao = init_cao(xcat, self.n_clusters) if _init_name(init) == "cao" else None

        data = by_column(xnum, xcat, weight)

        def run(number: int) -> tuple:
            return self._fit_single(xnum, xcat, data, init, n_clusters, max_iter, seeds[number], cao, number,
                                    distinct is not None)

        n_workers = min(effective_n_jobs(self.n_jobs), n_init)
        if n_workers > 1:
            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                results = list(pool.map(run, range(n_init)))
        else:
            results = [run(number) for number in range(n_init)]
        best = int(np.argmin([result[2] for result in results]))
        if n_init > 1 and self.verbose:
            print(f"Best run was number {best + 1}")
        (
            (self.centroids_num_, self.centroids_cat_),
            labels,
            self.cost_,
            self.n_iter_,
            self.epoch_costs_,
        ) = results[best]
        self.labels_ = labels.astype(np.uint16)
        return self

    def predict(self, X: Any, categorical: int | Sequence[int] | None = None, **kwargs: Any) -> np.ndarray:
        """Index of the nearest prototype for each row of X (uint16; same column layout as at fit).

        As kmodes, extra keyword arguments that `fit_predict` passes on (`sample_weight`) are accepted;
        they do not change which prototype is nearest.
        """
        unknown = set(kwargs) - {"sample_weight", "y"}
        if unknown:
            raise TypeError(f"predict() got unexpected keyword arguments {sorted(unknown)}.")
        return self.transform_nearest(X, categorical)[0]

    def fit_predict(self, X: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
        """Fit (with `categorical`, `sample_weight`), then return `labels_`, equal to `predict(X)`."""
        return self.fit(X, y, **kwargs).labels_

    def transform_nearest(self, X: Any, categorical: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest prototype (uint16) and the dissimilarity to it, for each row of X."""
        self._check_fitted()
        if (
            categorical is not None
            and not isinstance(categorical, (int, np.integer))
            and not len(categorical)
        ):
            categorical = None
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
        return labels.astype(np.uint16), nearest

    @property
    def cluster_centroids_(self) -> np.ndarray:
        """Prototypes as kmodes returns them: numeric means, then decoded categorical modes, stacked by
        `np.hstack` (so with text categories the whole array is text, as in kmodes)."""
        if not hasattr(self, "centroids_num_"):
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute 'cluster_centroids_' because the model "
                "is not yet fitted."
            )
        decoded = [np.asarray(values)[codes] for values, codes in zip(self.categories_, self.centroids_cat_.T,
                                                                      strict=True)]
        return np.hstack((self.centroids_num_, np.atleast_2d(np.array(decoded)).T))

    def to_dict(self) -> dict[str, Any]:
        """Everything `predict` needs, as JSON-ready values (no pickle)."""
        self._check_fitted()
        return {
            "n_clusters": self.n_clusters,
            "gamma": float(self.gamma),
            "categorical": self.categorical_,
            "n_features_in": self.n_features_in_,
            "categories": [[_json_value(v) for v in values] for values in self.categories_],
            "centroids_num": self.centroids_num_.tolist(),
            "centroids_cat": self.centroids_cat_.tolist(),
            "cost": float(self.cost_),
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

    def _check_params(self) -> None:
        if _init_name(self.init) not in {"cao", "huang", "random", "list"}:
            raise NotImplementedError(
                f"Initialization method not supported: init must be 'Cao', 'Huang', 'random' or a list of "
                f"two arrays (numeric, encoded categorical), got {self.init!r}."
            )
        for name, value, supported in (
            ("num_dissim", self.num_dissim, (euclidean_dissim,)),
            ("cat_dissim", self.cat_dissim, CATEGORICAL_DISSIMILARITIES),
        ):
            if not any(value is function for function in supported):
                raise NotImplementedError(
                    f"{name}={getattr(value, '__name__', value)!r} is not supported: this KPrototypes "
                    f"computes kmodes' {' and '.join(f.__name__ for f in supported)} in compiled code; use "
                    "kmodes' own KPrototypes for other dissimilarities."
                )
        if not isinstance(self.n_clusters, (int, np.integer)) or not 1 <= self.n_clusters <= _MAX_CLUSTERS:
            raise ValueError(f"n_clusters must be an integer in 1..{_MAX_CLUSTERS}, got {self.n_clusters!r}.")
        if not isinstance(self.n_init, (int, np.integer)) or self.n_init < 1:
            raise ValueError(f"n_init must be a positive integer, got {self.n_init!r}.")
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 0:
            raise ValueError(f"max_iter must be a non-negative integer, got {self.max_iter!r}.")

    def _check_weight(self, sample_weight: Sequence[float] | None, n_points: int) -> np.ndarray:
        """kmodes' checks (ValueError), plus finiteness."""
        if sample_weight is None:
            return np.ones(n_points)
        if len(sample_weight) != n_points:
            raise ValueError("sample_weight should be of equal size as samples.")
        weight = np.asarray(sample_weight)
        if weight.dtype.kind not in "iuf":
            raise ValueError("sample_weight elements should either be int or floats.")
        weight = np.ascontiguousarray(weight, dtype=np.float64)
        if not np.isfinite(weight).all():
            raise ValueError("sample_weight elements should be finite.")
        if (weight < 0).any():
            raise ValueError("sample_weight elements should be positive.")
        if np.count_nonzero(weight > 0) < self.n_clusters:
            raise ValueError(
                "Number of non-zero sample_weight elements should be larger than the number of clusters."
            )
        return weight

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_num_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' with appropriate "
                "arguments before using this estimator."
            )

    def _initial_prototypes(
        self,
        xnum: np.ndarray,
        xcat: np.ndarray,
        init: str | list[np.ndarray],
        n_clusters: int,
        random_state: np.random.RandomState,
        cao: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Categorical modes by the chosen method; numeric parts drawn around the mean, as kmodes does."""
        name = _init_name(init)
        if name == "list":
            return self._given_prototypes(xnum, xcat, init, n_clusters)
        if name == "cao":
            centroids_cat = cao
        elif name == "huang":
            centroids_cat = init_huang(xcat, n_clusters, random_state)
        else:
            centroids_cat = xcat[random_state.choice(xcat.shape[0], n_clusters)]
        mean, std = _mean_std(xnum)
        centroids_num = mean + random_state.randn(n_clusters, xnum.shape[1]) * std
        return np.nan_to_num(centroids_num), np.array(centroids_cat, dtype=np.int32)

    def _given_prototypes(
        self, xnum: np.ndarray, xcat: np.ndarray, init: list[np.ndarray], n_clusters: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """kmodes' checks of a given [numeric, encoded categorical] pair (1-D arrays are columns)."""
        if len(init) != 2:
            raise KModesArgumentError(f"init must hold two arrays (numeric, categorical), got {len(init)}.")
        arrays = [np.asarray(part) for part in init]
        arrays = [np.atleast_2d(part).T if part.ndim == 1 else part for part in arrays]
        for part, kind, n_attrs in (
            (arrays[0], "numerical", xnum.shape[1]),
            (arrays[1], "categorical", xcat.shape[1]),
        ):
            if part.shape[0] != n_clusters:
                raise KModesArgumentError(
                    f"Wrong number of initial {kind} centroids in init ({part.shape[0]}, should be "
                    f"{n_clusters})."
                )
            if part.shape[1] != n_attrs:
                raise KModesArgumentError(
                    f"Wrong number of {kind} attributes in init ({part.shape[1]}, should be {n_attrs})."
                )
        centroids_num = np.array(arrays[0], dtype=np.float64)
        if not np.isfinite(centroids_num).all():
            raise ValueError("Missing values detected in the numerical centroids of init.")
        centroids_cat = np.array(arrays[1], dtype=np.int64)
        n_values = np.array([len(values) for values in self.categories_], dtype=np.int64)
        if ((centroids_cat < 0) | (centroids_cat >= n_values)).any():
            raise ValueError(
                "init's categorical centroids must be codes of the fitted categories (0 to n_values - 1 "
                f"per column; n_values = {n_values.tolist()})."
            )
        return centroids_num, centroids_cat.astype(np.int32)

    def _fit_single(
        self,
        xnum: np.ndarray,
        xcat: np.ndarray,
        data: tuple[np.ndarray, np.ndarray, np.ndarray],
        init: str | list[np.ndarray],
        n_clusters: int,
        max_iter: int,
        seed: int,
        cao: np.ndarray | None,
        number: int,
        distinct_prototypes: bool,
    ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.float64, int, list[np.float64]]:
        """One kmodes run: assignment to the initial prototypes (batch; row by row under ng_dissim, which reads
        the members assigned so far), then online passes until stable. `distinct_prototypes`: the prototypes
        are X's distinct rows, so a cluster left empty cannot be refilled."""
        if self.verbose:
            print("Init: initializing centroids")
        cnum, ccat = self._initial_prototypes(xnum, xcat, init, n_clusters, np.random.RandomState(seed), cao)
        n_values = np.array([len(values) for values in self.categories_], dtype=np.int64)
        gamma, n_rows, has_nan = float(self.gamma), len(data[2]), bool(np.isnan(xnum).any())
        ng = self.cat_dissim is ng_dissim
        counts_shape = (n_clusters, xcat.shape[1], max(n_values, default=1))
        members = np.empty(n_rows, dtype=np.int32)
        labels = np.empty(n_rows, dtype=np.int32)
        nearest = np.empty(n_rows)
        state = (
            np.ascontiguousarray(cnum, dtype=np.float64),
            np.ascontiguousarray(ccat, dtype=np.int32),
            np.zeros((n_clusters, xnum.shape[1])),
            np.zeros((n_clusters, xnum.shape[1])),
            np.zeros(counts_shape),
            n_values,
            np.zeros(n_clusters, dtype=np.int64),
            1e-12 * float(data[2].max(initial=0.0)),
            np.zeros(counts_shape if ng else (0, 0, 0)),
        )
        cnum, ccat = state[0], state[1]

        def evaluate(out: np.ndarray) -> float:
            return nearest_kernel(data, cnum, ccat, gamma, has_nan, out, nearest, (state[8], state[6]))

        if self.verbose:
            print("Init: initializing clusters")
        if ng:
            sequential_assign(data, state, gamma, has_nan, members, nearest)
        else:
            evaluate(members)
        if distinct_prototypes and np.bincount(members, minlength=n_clusters).min() == 0:
            raise ValueError(
                "Clustering algorithm could not initialize: X has no more distinct rows than clusters, and "
                f"the dissimilarity (gamma {gamma}) cannot tell some of them apart. Consider assigning the "
                "initial clusters manually."
            )
        start_totals(data, state, members, nearest)
        if self.verbose:
            print("Starting iterations...")
        cost = evaluate(labels)
        epoch_costs = [np.float64(cost)]
        n_iter, converged, moves = 0, False, n_rows
        while n_iter < max_iter and not converged:
            n_iter += 1
            by_block = moves * BLOCK_ROWS < n_rows
            moves, pass_cost = online_pass(data, state, gamma, has_nan, members, nearest, by_block)
            if moves:
                new_cost = evaluate(labels)
            else:
                new_cost = pass_cost
                labels[:] = members
            converged = moves == 0 or new_cost >= cost
            epoch_costs.append(np.float64(new_cost))
            cost = new_cost
            if self.verbose:
                print(f"Run: {number + 1}, iteration: {n_iter}/{max_iter}, moves: {moves}, ncost: {cost}")
        return (cnum, ccat), labels, np.float64(cost), n_iter, epoch_costs


def _init_name(init: Any) -> str:
    return "list" if isinstance(init, list) else str(init).lower()


def _json_value(value: Any) -> Any:
    """NumPy scalars to plain Python so that categories serialise to JSON."""
    return value.item() if isinstance(value, np.generic) else value
