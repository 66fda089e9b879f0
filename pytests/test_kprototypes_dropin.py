"""journeys.kprototypes.KPrototypes as a drop-in for kmodes 0.12.2's: same calls, same results and types.

Written from kmodes' documented interface (its docstrings and signatures); where cheap, the same call is
run against kmodes and ours and the outcomes compared.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from kmodes.kprototypes import KPrototypes as KModesKPrototypes
from kmodes.util.dissim import jaccard_dissim_label, ng_dissim
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from journeys.kprototypes import KPrototypes

CATEGORICAL = [2, 3, 4]


def planted(n_rows: int = 240, seed: int = 3) -> np.ndarray:
    """Three planted groups: two numeric columns, three categorical ones (strings), as an object array."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n_rows)
    numeric = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 5.0]])[group] + rng.normal(0, 1, (n_rows, 2))
    columns = [numeric[:, 0], numeric[:, 1]]
    for n_values in (4, 5, 3):
        keep = rng.random(n_rows) < 0.7
        codes = np.where(keep, group % n_values, rng.integers(0, n_values, n_rows))
        columns.append(np.char.add("v", codes.astype(str)))
    return np.column_stack(columns).astype(object)


def both(**params):
    return KModesKPrototypes(**params), KPrototypes(**params)


@pytest.mark.parametrize("init", ["Cao", "Huang", "random"])
@pytest.mark.parametrize("cat_dissim", [None, ng_dissim], ids=["matching", "ng"])
def test_same_call_same_clustering_as_kmodes(init, cat_dissim):
    X = planted()
    extra = {} if cat_dissim is None else {"cat_dissim": cat_dissim}
    theirs, ours = both(n_clusters=3, init=init, n_init=2, random_state=7, **extra)
    theirs.fit(X, categorical=CATEGORICAL)
    ours.fit(X, categorical=CATEGORICAL)
    assert ours.cost_ == pytest.approx(theirs.cost_, rel=1e-9)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.epoch_costs_, theirs.epoch_costs_, rtol=1e-9)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(
        ours.cluster_centroids_[:, :2].astype(float), theirs.cluster_centroids_[:, :2].astype(float)
    )
    np.testing.assert_array_equal(ours.cluster_centroids_[:, 2:], theirs.cluster_centroids_[:, 2:])
    new_rows = planted(n_rows=30, seed=11)
    np.testing.assert_array_equal(
        ours.predict(new_rows, categorical=CATEGORICAL), theirs.predict(new_rows, categorical=CATEGORICAL)
    )


def test_return_types_are_kmodes_types():
    X = planted()
    theirs, ours = both(n_clusters=3, n_init=1, random_state=0)
    for model in (theirs, ours):
        labels = model.fit_predict(X, categorical=CATEGORICAL)
        assert labels.dtype == np.uint16 and model.labels_.dtype == np.uint16
        assert model.predict(X, categorical=CATEGORICAL).dtype == np.uint16
        assert model.fit(X, categorical=CATEGORICAL) is model
    for name in ("cost_", "n_iter_", "epoch_costs_", "gamma"):
        assert type(getattr(ours, name)) is type(getattr(theirs, name)), name
    assert ours.cluster_centroids_.shape == theirs.cluster_centroids_.shape


def test_constructor_takes_kmodes_parameters_with_kmodes_defaults():
    assert KPrototypes().get_params() == KModesKPrototypes().get_params()
    assert KPrototypes(n_init=10, init="Cao").n_init == 10
    assert KPrototypes(n_init=10, init=[np.zeros((2, 1)), np.zeros((2, 1))]).n_init == 1
    model = clone(KPrototypes(n_clusters=3, gamma=0.7, verbose=1, n_jobs=2, random_state=4))
    assert model.get_params()["gamma"] == 0.7 and model.n_jobs == 2


def test_parallel_runs_give_the_serial_result():
    X = planted()
    serial = KPrototypes(n_clusters=3, init="Huang", n_init=4, random_state=5, n_jobs=1)
    parallel = KPrototypes(n_clusters=3, init="Huang", n_init=4, random_state=5, n_jobs=-1)
    serial.fit(X, categorical=CATEGORICAL)
    parallel.fit(X, categorical=CATEGORICAL)
    assert serial.cost_ == parallel.cost_
    np.testing.assert_array_equal(serial.labels_, parallel.labels_)


def test_verbose_reports_each_iteration_and_the_best_run(capsys):
    KPrototypes(n_clusters=3, n_init=2, verbose=1, random_state=0).fit(planted(), categorical=CATEGORICAL)
    out = capsys.readouterr().out
    assert "Run: 1, iteration: 1/100, moves:" in out and "Run: 2, iteration: 1/100" in out
    assert "Best run was number" in out


def test_fitted_model_pickles_and_predicts_the_same():
    X = planted()
    model = KPrototypes(n_clusters=3, n_init=1, random_state=1).fit(X, categorical=CATEGORICAL)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X, categorical=CATEGORICAL), model.labels_)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


BAD_CALLS = {
    "categorical is a set": ({"n_clusters": 2}, {"categorical": {2, 3}}),
    "categorical index too large": ({"n_clusters": 2}, {"categorical": [2, 9]}),
    "no categorical column": ({"n_clusters": 2}, {"categorical": []}),
    "unknown init": ({"n_clusters": 2, "init": "kmeans++"}, {"categorical": CATEGORICAL}),
    "more clusters than rows": ({"n_clusters": 500}, {"categorical": CATEGORICAL}),
    "init with wrong cluster count": (
        {"n_clusters": 2, "init": [np.zeros((3, 2)), np.zeros((3, 3), dtype=int)]},
        {"categorical": CATEGORICAL},
    ),
    "init with wrong attribute count": (
        {"n_clusters": 2, "init": [np.zeros((2, 1)), np.zeros((2, 3), dtype=int)]},
        {"categorical": CATEGORICAL},
    ),
    "init with a missing numeric": (
        {"n_clusters": 2, "init": [np.array([[np.nan, 0.0], [1.0, 1.0]]), np.zeros((2, 3), dtype=int)]},
        {"categorical": CATEGORICAL},
    ),
    "weights of the wrong length": ({"n_clusters": 2}, {"categorical": CATEGORICAL, "sample_weight": [1.0]}),
    "negative weight": (
        {"n_clusters": 2},
        {"categorical": CATEGORICAL, "sample_weight": [-1.0] + [1.0] * 239},
    ),
    "non-numeric weights": ({"n_clusters": 2}, {"categorical": CATEGORICAL, "sample_weight": ["a"] * 240}),
    "fewer weighted rows than clusters": (
        {"n_clusters": 3},
        {"categorical": CATEGORICAL, "sample_weight": [1.0, 1.0] + [0.0] * 238},
    ),
    "text in a numeric column": ({"n_clusters": 2}, {"categorical": [3, 4]}),
    "every column categorical": ({"n_clusters": 2}, {"categorical": [0, 1, 2, 3, 4]}),
}


@pytest.mark.parametrize("case", BAD_CALLS)
def test_bad_calls_raise_what_kmodes_raises(case):
    params, fit_args = BAD_CALLS[case]
    X = planted()
    with pytest.raises(Exception) as theirs:
        KModesKPrototypes(**params).fit(X, **fit_args)
    with pytest.raises(type(theirs.value)) as ours:
        KPrototypes(**params).fit(X, **fit_args)
    assert str(ours.value)


def test_sparse_input_is_a_type_error_as_in_kmodes():
    for model in both(n_clusters=2):
        with pytest.raises(TypeError, match="sparse"):
            model.fit(sparse.csr_matrix(np.eye(4)), categorical=[1])


def test_unfitted_model_raises_sklearn_not_fitted_and_kmodes_assertion():
    X = planted()
    theirs, ours = both(n_clusters=2)
    with pytest.raises(AssertionError):
        theirs.predict(X, categorical=CATEGORICAL)
    with pytest.raises(NotFittedError):
        ours.predict(X, categorical=CATEGORICAL)
    with pytest.raises(AssertionError):
        ours.predict(X, categorical=CATEGORICAL)
    for model in (theirs, ours):
        with pytest.raises(AttributeError):
            _ = model.cluster_centroids_


def test_unsupported_dissimilarity_is_named():
    with pytest.raises(NotImplementedError, match="cat_dissim='jaccard_dissim_label'"):
        KPrototypes(n_clusters=2, cat_dissim=jaccard_dissim_label).fit(planted(), categorical=CATEGORICAL)


def test_rows_the_objective_cannot_tell_apart_cannot_fill_every_cluster():
    """Two distinct rows for two clusters, differing only in a category that gamma 0 (constant numerics)
    weighs at nothing: kmodes cannot initialise either, and both raise ValueError."""
    X = np.array([[0.0, "a"]] * 3 + [[0.0, "b"]] * 3, dtype=object)
    for model in both(n_clusters=2, random_state=0):
        with pytest.raises(ValueError, match="could not initialize"):
            model.fit(X, categorical=[1])
    separable = KPrototypes(n_clusters=2, gamma=1.0).fit(X, categorical=[1])
    np.testing.assert_array_equal(separable.labels_, [0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize("categories", ["text", "integers"])
def test_centroids_have_kmodes_dtype_and_values(categories):
    X = planted()
    if categories == "integers":
        X[:, 2:] = np.char.lstrip(X[:, 2:].astype(str), "v").astype(int)
    theirs, ours = both(n_clusters=3, n_init=1, random_state=0)
    theirs.fit(X, categorical=CATEGORICAL)
    ours.fit(X, categorical=CATEGORICAL)
    assert ours.cluster_centroids_.dtype == theirs.cluster_centroids_.dtype
    np.testing.assert_array_equal(ours.cluster_centroids_, theirs.cluster_centroids_)


def test_predict_rejects_another_column_layout():
    X = planted()
    model = KPrototypes(n_clusters=3, n_init=1, random_state=0).fit(X, categorical=CATEGORICAL)
    with pytest.raises(ValueError, match="fitted on 2 and 3"):
        model.predict(X[:, 1:], categorical=[1, 2, 3])


def test_weighted_prototypes_are_weighted_means_and_modes_of_their_members():
    X = planted()
    weight = np.random.default_rng(0).uniform(0.2, 3.0, len(X))
    model = KPrototypes(n_clusters=3, n_init=1, random_state=2).fit(
        X, categorical=CATEGORICAL, sample_weight=weight
    )
    numeric = X[:, :2].astype(float)
    for cluster in range(3):
        members = model.labels_ == cluster
        expected = np.average(numeric[members], axis=0, weights=weight[members])
        np.testing.assert_allclose(model.centroids_num_[cluster], expected, rtol=1e-9)
        for position, column in enumerate(CATEGORICAL):
            values, codes = np.unique(X[members, column], return_inverse=True)
            mode = values[np.argmax(np.bincount(codes, weights=weight[members]))]
            assert model.cluster_centroids_[cluster, 2 + position] == mode
