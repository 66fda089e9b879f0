"""The k-prototypes dissimilarity in NumPy: squared Euclidean distance on the numeric columns (missing values
left out) plus gamma times the categorical mismatches; the reference the compiled kernels compute row by row."""

from __future__ import annotations

import numpy as np


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
