"""The compiled k-prototypes passes (numba, GIL released): nearest prototypes and costs, and kmodes' online
move rule with running per-cluster totals; `labels_cost` scores rows against fixed prototypes.

Two categorical dissimilarities, kmodes' own: `matching_dissim` (one per mismatching column) and Ng et al.'s
`ng_dissim` (a column matching the prototype costs 1 - the share of the cluster's members holding that value,
a mismatch 1), which reads the clusters' current members. `ng` is the pair (member_count, sizes): unweighted
counts of each value per cluster and column, and the clusters' sizes; an empty member_count means matching.
"""

from __future__ import annotations

import numba
import numpy as np

# The data are stored by column, `(xnum_t, xcat_t, weight)` with shapes (p, n), (q, n), (n,), so that a
# block of rows is scored against one prototype in vectorised loops; every row's dissimilarity is still
# the same float64 expression, its numeric terms summed in column order as kmodes does, so costs and ties
# are kmodes'. `state` is (cnum, ccat, num_sum, num_weight, cat_count, n_values, sizes, min_weight,
# member_count): the prototypes, the running per-cluster totals they derive from, the weight below which a
# numeric total counts as empty, and ng_dissim's unweighted value counts (empty for matching_dissim).

BLOCK_ROWS = 256
MATCHING = (np.zeros((0, 0, 0)), np.zeros(0, dtype=np.int64))  # the `ng` argument of matching_dissim


@numba.njit(nogil=True, cache=True, inline="always")
def _ng_term(ng, c, j, code, mode):
    """Ng et al.'s dissimilarity of one categorical value to cluster c's mode of column j (kmodes' ng_dissim:
    0 for a match in an empty cluster)."""
    if code != mode:
        return 1.0
    size = ng[1][c]
    if size == 0:
        return 0.0
    return 1.0 - ng[0][c, j, code] / float(size)


@numba.njit(nogil=True, cache=True)
def _block_dissimilarities(data, cnum, ccat, gamma, has_nan, start, stop, num, mismatches, out, ng):
    """Dissimilarity of rows start..stop to every prototype, into out[cluster, row - start]."""
    xnum_t, xcat_t = data[0], data[1]
    n_rows = stop - start
    use_ng = ng[0].shape[0] > 0
    for c in range(cnum.shape[0]):
        num[:n_rows] = 0.0
        mismatches[:n_rows] = 0
        for j in range(xnum_t.shape[0]):
            column, centre = xnum_t[j, start:stop], cnum[c, j]
            if has_nan:
                for b in range(n_rows):
                    diff = column[b] - centre
                    if not np.isnan(diff):
                        num[b] += diff * diff
            else:
                for b in range(n_rows):
                    diff = column[b] - centre
                    num[b] += diff * diff
        if use_ng:
            for b in range(n_rows):
                categorical = 0.0
                for j in range(xcat_t.shape[0]):
                    categorical += _ng_term(ng, c, j, xcat_t[j, start + b], ccat[c, j])
                out[c, b] = num[b] + gamma * categorical
            continue
        for j in range(xcat_t.shape[0]):
            codes, mode = xcat_t[j, start:stop], ccat[c, j]
            for b in range(n_rows):
                mismatches[b] += codes[b] != mode
        for b in range(n_rows):
            out[c, b] = num[b] + gamma * mismatches[b]


@numba.njit(nogil=True, cache=True)
def _nearest_of_row(data, cnum, ccat, gamma, has_nan, i, ng):
    """Row i's nearest prototype (the first on ties, as argmin) and its dissimilarity, row by row."""
    xnum_t, xcat_t = data[0], data[1]
    use_ng = ng[0].shape[0] > 0
    best, best_d = 0, np.inf
    for c in range(cnum.shape[0]):
        num = 0.0
        for j in range(xnum_t.shape[0]):
            diff = xnum_t[j, i] - cnum[c, j]
            if not (has_nan and np.isnan(diff)):
                num += diff * diff
        if use_ng:
            categorical = 0.0
            for j in range(xcat_t.shape[0]):
                categorical += _ng_term(ng, c, j, xcat_t[j, i], ccat[c, j])
            d = num + gamma * categorical
        else:
            mismatches = 0
            for j in range(xcat_t.shape[0]):
                mismatches += xcat_t[j, i] != ccat[c, j]
            d = num + gamma * mismatches
        if d < best_d:
            best, best_d = c, d
    return best, best_d


@numba.njit(nogil=True, cache=True, inline="always")
def _argmin_column(dist, b):
    best, best_d = 0, np.inf
    for c in range(dist.shape[0]):
        if dist[c, b] < best_d:
            best, best_d = c, dist[c, b]
    return best, best_d


@numba.njit(nogil=True, cache=True)
def nearest_kernel(data, cnum, ccat, gamma, has_nan, labels, nearest, ng):
    """Nearest prototype and its dissimilarity per row; the weighted cost summed in row order."""
    weight, n_rows, n_clusters = data[2], labels.shape[0], cnum.shape[0]
    num, mismatches = np.empty(BLOCK_ROWS), np.empty(BLOCK_ROWS, dtype=np.int32)
    dist = np.empty((n_clusters, BLOCK_ROWS))
    cost = 0.0
    for start in range(0, n_rows, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_rows)
        _block_dissimilarities(data, cnum, ccat, gamma, has_nan, start, stop, num, mismatches, dist, ng)
        for b in range(stop - start):
            best, best_d = _argmin_column(dist, b)
            labels[start + b] = best
            nearest[start + b] = best_d
            cost += best_d * weight[start + b]
    return cost


@numba.njit(nogil=True, cache=True)
def _add_member(data, state, i, c, sign):
    """Add (sign 1.0) or remove (sign -1.0) row i's values to / from cluster c's running totals."""
    xnum_t, xcat_t, weight = data
    _, _, num_sum, num_weight, cat_count, _, sizes, _, member_count = state
    w = weight[i]
    for j in range(xnum_t.shape[0]):
        x = xnum_t[j, i]
        if not np.isnan(x):
            num_sum[c, j] += sign * x * w
            num_weight[c, j] += sign * w
    for j in range(xcat_t.shape[0]):
        cat_count[c, j, xcat_t[j, i]] += sign * w
    if member_count.shape[0] > 0:
        for j in range(xcat_t.shape[0]):
            member_count[c, j, xcat_t[j, i]] += sign
    sizes[c] += int(sign)


@numba.njit(nogil=True, cache=True)
def _update_means(state, c):
    """Cluster c's numeric means over observed values; the previous value where none is observed."""
    cnum, _, num_sum, num_weight, _, _, _, min_weight, _ = state
    for j in range(cnum.shape[1]):
        if num_weight[c, j] > min_weight:
            cnum[c, j] = num_sum[c, j] / num_weight[c, j]


@numba.njit(nogil=True, cache=True)
def _mode(state, c, j):
    """Most frequent code of column j in cluster c, the lowest code on ties (kmodes' get_max_value_key)."""
    cat_count, n_values = state[4], state[5]
    best, best_count = 0, cat_count[c, j, 0]
    for v in range(1, n_values[j]):
        if cat_count[c, j, v] > best_count:
            best, best_count = v, cat_count[c, j, v]
    return best


@numba.njit(nogil=True, cache=True)
def _move(data, state, i, old, new):
    """Move row i from cluster old to new and update both prototypes as kmodes does after each move."""
    xcat_t = data[1]
    _, ccat, num_sum, num_weight, cat_count, _, sizes, _, member_count = state
    _add_member(data, state, i, new, 1.0)
    _add_member(data, state, i, old, -1.0)
    if sizes[old] == 0:
        num_sum[old, :] = 0.0
        num_weight[old, :] = 0.0
        cat_count[old, :, :] = 0.0
        if member_count.shape[0] > 0:
            member_count[old, :, :] = 0.0
    for j in range(xcat_t.shape[0]):
        v = xcat_t[j, i]
        if cat_count[new, j, v] > cat_count[new, j, ccat[new, j]]:
            ccat[new, j] = v
        if ccat[old, j] == v:
            ccat[old, j] = _mode(state, old, j)
    _update_means(state, new)
    _update_means(state, old)


@numba.njit(nogil=True, cache=True)
def _refill(data, state, members, nearest, empty):
    """Give the empty cluster the farthest weighted row whose own cluster keeps other members."""
    weight, sizes = data[2], state[6]
    chosen, farthest = -1, -np.inf
    for i in range(members.shape[0]):
        if sizes[members[i]] > 1 and weight[i] > 0 and nearest[i] > farthest:
            chosen, farthest = i, nearest[i]
    if chosen >= 0:
        _move(data, state, chosen, members[chosen], empty)
        members[chosen] = empty
        nearest[chosen] = 0.0


@numba.njit(nogil=True, cache=True)
def sequential_assign(data, state, gamma, has_nan, members, nearest):
    """kmodes' initial assignment under ng_dissim: rows in order, each against the members assigned before it
    (the counts are reset afterwards; `start_totals` adds the assignment)."""
    cnum, ccat, sizes, member_count = state[0], state[1], state[6], state[8]
    xcat_t = data[1]
    ng = (member_count, sizes)
    for i in range(members.shape[0]):
        best, best_d = _nearest_of_row(data, cnum, ccat, gamma, has_nan, i, ng)
        members[i] = best
        nearest[i] = best_d
        for j in range(xcat_t.shape[0]):
            member_count[best, j, xcat_t[j, i]] += 1.0
        sizes[best] += 1
    member_count[:] = 0.0
    sizes[:] = 0


@numba.njit(nogil=True, cache=True)
def start_totals(data, state, members, nearest):
    """Totals of the initial assignment, empty clusters refilled, then every prototype recomputed."""
    ccat, sizes = state[1], state[6]
    for i in range(members.shape[0]):
        _add_member(data, state, i, members[i], 1.0)
    for c in range(sizes.shape[0]):
        if sizes[c] == 0:
            _refill(data, state, members, nearest, c)
    for c in range(sizes.shape[0]):
        _update_means(state, c)
        for j in range(ccat.shape[1]):
            ccat[c, j] = _mode(state, c, j)


@numba.njit(nogil=True, cache=True)
def online_pass(data, state, gamma, has_nan, members, nearest, by_block):
    """One kmodes iteration: each row in turn moves to its nearest prototype, which follows at once.

    With `by_block`, a block of rows is scored at once and used until the first move in it changes the
    prototypes; the rest of that block is then scored row by row (worth it when moves are rare).
    Returns the number of moves and the pass's weighted cost (the exact cost when nothing moved).
    """
    weight = data[2]
    cnum, ccat, sizes = state[0], state[1], state[6]
    ng = (state[8], sizes)
    n_rows = members.shape[0]
    num, mismatches = np.empty(BLOCK_ROWS), np.empty(BLOCK_ROWS, dtype=np.int32)
    dist = np.empty((cnum.shape[0], BLOCK_ROWS))
    moves, cost = 0, 0.0
    for start in range(0, n_rows, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_rows)
        fresh = by_block
        if fresh:
            _block_dissimilarities(data, cnum, ccat, gamma, has_nan, start, stop, num, mismatches, dist, ng)
        for i in range(start, stop):
            if fresh:
                best, best_d = _argmin_column(dist, i - start)
            else:
                best, best_d = _nearest_of_row(data, cnum, ccat, gamma, has_nan, i, ng)
            cost += best_d * weight[i]
            nearest[i] = best_d
            old = members[i]
            if best == old:
                continue
            moves += 1
            fresh = False
            _move(data, state, i, old, best)
            members[i] = best
            if sizes[old] == 0:
                _refill(data, state, members, nearest, old)
    return moves, cost


def by_column(xnum: np.ndarray, xcat: np.ndarray, weight: np.ndarray) -> tuple:
    """The kernels' data tuple: numeric and categorical blocks stored by column, and the row weights."""
    return (
        np.ascontiguousarray(xnum.T, dtype=np.float64),
        np.ascontiguousarray(xcat.T, dtype=np.int32),
        np.ascontiguousarray(weight, dtype=np.float64),
    )


def labels_cost(
    xnum: np.ndarray,
    xcat: np.ndarray,
    centroids_num: np.ndarray,
    centroids_cat: np.ndarray,
    gamma: float,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Nearest prototype per row, the total (weighted) cost, and each row's dissimilarity to it."""
    n_rows = max(xnum.shape[0], xcat.shape[0])
    xnum, xcat = np.asarray(xnum).reshape(n_rows, -1), np.asarray(xcat).reshape(n_rows, -1)
    data = by_column(xnum, xcat, np.ones(n_rows) if sample_weight is None else sample_weight)
    labels = np.empty(n_rows, dtype=np.int32)
    nearest = np.empty(n_rows, dtype=np.float64)
    cnum = np.ascontiguousarray(centroids_num, dtype=np.float64).reshape(-1, xnum.shape[1])
    ccat = np.ascontiguousarray(centroids_cat, dtype=np.int32).reshape(-1, xcat.shape[1])
    has_nan = bool(np.isnan(data[0]).any())
    cost = nearest_kernel(data, cnum, ccat, float(gamma), has_nan, labels, nearest, MATCHING)
    return labels, cost, nearest

