"""Input handling of `KPrototypes`: X split into a float numeric block and a categorical block, and categories
encoded as integer codes in kmodes' order (sorted distinct values, missing last as a category of its own)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from journeys.kprototypes.errors import KModesArgumentError

MISSING = "__missing__"


def as_2d(X: Any) -> np.ndarray:
    """Accept a DataFrame or an array-like and return a 2-D array (object dtype kept for mixed data)."""
    if sparse.issparse(X):
        raise TypeError("k-prototypes does not support sparse data.")
    array = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got an array of shape {array.shape}.")
    return array


def categorical_indices(categorical: Any, n_features: int) -> list[int]:
    """Normalise kmodes' `categorical` argument (an index or a list / tuple of indices) and check it."""
    if categorical is None:
        return []
    if isinstance(categorical, (int, np.integer)) and not isinstance(categorical, bool):
        indices = [int(categorical)]
    elif isinstance(categorical, (list, tuple)) or (
        isinstance(categorical, np.ndarray) and categorical.ndim == 1 and categorical.dtype.kind in "iu"
    ):
        indices = list(categorical)
    else:
        raise KModesArgumentError(
            "The 'categorical' argument needs to be an integer with the index of the categorical column "
            f"in your data, or a list or tuple of several of them, but it is a {type(categorical)}."
        )
    if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in indices):
        raise KModesArgumentError(f"categorical indices must be integers, got {indices}.")
    bad = [int(i) for i in indices if not 0 <= int(i) < n_features]
    if bad:
        raise KModesArgumentError(f"categorical indices {bad} are outside the {n_features} columns of X.")
    if len(set(indices)) != len(indices):
        raise KModesArgumentError(f"categorical indices repeat: {indices}.")
    return sorted(int(i) for i in indices)


def split_num_cat(X: Any, categorical: Any) -> tuple[np.ndarray, Any]:
    """Split X into a float numeric block (NaN for missing) and the categorical block.

    A DataFrame keeps its columns' types: the numeric block comes straight from its float columns and the
    categorical block stays a DataFrame (pandas Categorical columns travel as their integer codes), so no
    object array of the whole table is built. Other input gives an object categorical block, as kmodes.
    """
    frame = isinstance(X, pd.DataFrame)
    array = X if frame else as_2d(X)
    cat_idx = categorical_indices(categorical, array.shape[1])
    num_idx = [i for i in range(array.shape[1]) if i not in cat_idx]
    try:
        numeric = X.iloc[:, num_idx].to_numpy(dtype=np.float64) if frame else array[:, num_idx]
        xnum = np.ascontiguousarray(numeric, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"numeric columns {num_idx} of X hold non-numeric values ({exc}); list those columns in "
            "`categorical`."
        ) from exc
    return xnum, X.iloc[:, cat_idx] if frame else array[:, cat_idx]


def categorical_column(xcat: Any, j: int) -> Any:
    """Column j of a categorical block: a Series of a DataFrame block, else a 1-D array."""
    return xcat.iloc[:, j] if isinstance(xcat, pd.DataFrame) else xcat[:, j]


def _factorize_sorted(column: Any, position: int) -> tuple[list[Any], np.ndarray]:
    """Sorted distinct values (kmodes' encoding order, missing last as its own) and each row's code."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)  # a Categorical factorizes by its codes
    uniques = np.asarray(uniques, dtype=object)
    try:
        order = np.argsort(uniques, kind="stable")
    except TypeError as exc:
        kinds = sorted({type(value).__name__ for value in uniques})
        raise TypeError(
            f"categorical column {position} mixes value types ({', '.join(kinds)}); cast it to one type."
        ) from exc
    rank = np.empty(len(uniques), dtype=np.int32)
    rank[order] = np.arange(len(uniques), dtype=np.int32)
    values = uniques[order].tolist()
    encoded = np.where(codes >= 0, rank[np.maximum(codes, 0)] if len(uniques) else 0, len(values))
    if (codes < 0).any():
        values.append(MISSING)
    return values, encoded.astype(np.int32)


def fit_encode_categories(xcat: Any) -> tuple[list[list[Any]], np.ndarray]:
    """Per categorical column: sorted distinct values (missing last, as its own) and the integer codes."""
    codes = np.empty(xcat.shape, dtype=np.int32)
    categories = []
    for j in range(xcat.shape[1]):
        values, codes[:, j] = _factorize_sorted(categorical_column(xcat, j), j)
        categories.append(values)
    return categories, codes


def fit_categories(xcat: Any) -> list[list[Any]]:
    """Sorted distinct values per categorical column (kmodes' encoding order); missing last, as its own."""
    return fit_encode_categories(xcat)[0]


def _is_missing(column: np.ndarray) -> np.ndarray:
    return (
        pd.isna(column) if column.dtype == object or column.dtype.kind == "f" else np.zeros(len(column), bool)
    )


def encode_categories(xcat: Any, categories: list[list[Any]]) -> np.ndarray:
    """Integer codes per column; values unseen in `categories` get -1, which matches no prototype.

    A pandas Categorical column is mapped through its categories (one lookup per category, then its codes).
    """
    codes = np.empty(xcat.shape, dtype=np.int32)
    for j, values in enumerate(categories):
        index = pd.Index(values, dtype=object)
        column = categorical_column(xcat, j)
        if isinstance(getattr(column, "dtype", None), pd.CategoricalDtype):
            lookup = np.append(index.get_indexer(column.cat.categories.astype(object)), index.get_indexer([MISSING]))
            codes[:, j] = lookup[column.cat.codes.to_numpy()]  # code -1 (missing) takes the last entry
            continue
        column = np.asarray(column).astype(object)
        column[_is_missing(column)] = MISSING
        codes[:, j] = index.get_indexer(column)
    return codes
