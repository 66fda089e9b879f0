"""KPrototypes against kmodes (the oracle) and on real public data sets (soybean, credit approval)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kmodes.kprototypes import labels_cost as kmodes_labels_cost
from kmodes.util.dissim import matching_dissim
from kmodes.util.init_methods import init_cao as kmodes_init_cao
from kmodes.util.init_methods import init_huang as kmodes_init_huang
from scipy.optimize import linear_sum_assignment

from journeys.kprototypes import (
    KPrototypes,
    encode_categories,
    fit_categories,
    init_cao,
    init_huang,
    labels_cost,
    split_num_cat,
)

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CRX_NUMERIC = [1, 2, 7, 10, 13, 14]
CRX_CATEGORICAL = [i for i in range(15) if i not in CRX_NUMERIC]


def best_mapping_accuracy(labels: np.ndarray, truth: np.ndarray) -> float:
    """Share of rows whose cluster maps to their class under the best one-to-one mapping."""
    table = pd.crosstab(labels, truth).to_numpy()
    rows, cols = linear_sum_assignment(-table)
    return table[rows, cols].sum() / len(truth)


@pytest.fixture(scope="module")
def soybean() -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(DATASETS / "soybean.csv", header=None)
    return frame.iloc[:, :-1].to_numpy(), frame.iloc[:, -1].to_numpy()


def crx(standardise: bool) -> tuple[np.ndarray, np.ndarray]:
    """The 653 complete rows of the credit approval data, numerics optionally z-scored."""
    frame = pd.read_csv(DATASETS / "crx.data", header=None, na_values="?").dropna()
    features = frame.iloc[:, :15].copy()
    if standardise:
        numeric = features[CRX_NUMERIC]
        features[CRX_NUMERIC] = (numeric - numeric.mean()) / numeric.std(ddof=0)
    return features.to_numpy(dtype=object), frame[15].to_numpy()


def with_constant_numeric(features: np.ndarray) -> np.ndarray:
    """A zero numeric column before purely categorical data: k-prototypes with gamma 1 is then k-modes
    (as kmodes, KPrototypes refuses data whose every column is categorical)."""
    return np.hstack([np.zeros((len(features), 1)), features])


def test_soybean_clusters_match_the_four_diseases(soybean):
    features, disease = soybean
    model = KPrototypes(n_clusters=4, init="Cao", n_init=1, gamma=1.0).fit(
        with_constant_numeric(features), categorical=list(range(1, 36))
    )
    assert best_mapping_accuracy(model.labels_, disease) == 1.0


def test_crx_needs_standardised_numerics():
    raw_x, approved = crx(standardise=False)
    std_x, _ = crx(standardise=True)
    raw = KPrototypes(n_clusters=2, init="Cao", n_init=10, random_state=0).fit(
        raw_x, categorical=CRX_CATEGORICAL
    )
    std = KPrototypes(n_clusters=2, init="Cao", n_init=10, random_state=0).fit(
        std_x, categorical=CRX_CATEGORICAL
    )
    raw_accuracy = best_mapping_accuracy(raw.labels_, approved)
    std_accuracy = best_mapping_accuracy(std.labels_, approved)
    majority = pd.Series(approved).value_counts(normalize=True).max()
    assert raw_accuracy < 0.56 and raw_accuracy == pytest.approx(majority, abs=0.01)
    assert std_accuracy >= 0.63


def test_cost_of_given_prototypes_equals_kmodes():
    features, _ = crx(standardise=True)
    model = KPrototypes(n_clusters=3, init="Huang", n_init=2, random_state=5).fit(
        features, categorical=CRX_CATEGORICAL
    )
    xnum, xcat_raw = split_num_cat(features, CRX_CATEGORICAL)
    xcat = encode_categories(xcat_raw, model.categories_)
    centroids = [model.centroids_num_, model.centroids_cat_]
    theirs_labels, theirs_cost = kmodes_labels_cost(
        xnum, xcat, centroids, _sq_euclidean, matching_dissim, model.gamma
    )
    ours_labels, ours_cost, _ = labels_cost(xnum, xcat, *centroids, model.gamma)
    np.testing.assert_array_equal(ours_labels, theirs_labels)
    assert ours_cost == pytest.approx(theirs_cost, rel=1e-12)
    assert model.cost_ == pytest.approx(theirs_cost, rel=1e-12)
    np.testing.assert_array_equal(model.labels_, theirs_labels)


def _sq_euclidean(a: np.ndarray, b: np.ndarray, **_) -> np.ndarray:
    return np.sum((a - b) ** 2, axis=1)


def test_default_gamma_is_kmodes_rule():
    features, _ = crx(standardise=False)
    model = KPrototypes(n_clusters=2, n_init=1, random_state=0).fit(features, categorical=CRX_CATEGORICAL)
    xnum, _ = split_num_cat(features, CRX_CATEGORICAL)
    assert model.gamma == pytest.approx(0.5 * np.mean(xnum.std(axis=0)))


def test_initial_modes_equal_kmodes_init_functions():
    features, _ = crx(standardise=True)
    _, xcat_raw = split_num_cat(features, CRX_CATEGORICAL)
    xcat = encode_categories(xcat_raw, fit_categories(xcat_raw))
    np.testing.assert_array_equal(
        init_cao(xcat, 6), kmodes_init_cao(xcat, 6, matching_dissim).astype(np.int32)
    )
    ours = init_huang(xcat, 6, np.random.RandomState(11))
    theirs = kmodes_init_huang(xcat, 6, matching_dissim, np.random.RandomState(11))
    np.testing.assert_array_equal(ours, theirs.astype(np.int32))


def test_same_seed_same_result_and_predict_reproduces_labels():
    features, _ = crx(standardise=True)
    runs = [
        KPrototypes(n_clusters=4, init="random", n_init=3, random_state=42).fit(
            features, categorical=CRX_CATEGORICAL
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].labels_, runs[1].labels_)
    np.testing.assert_array_equal(runs[0].cluster_centroids_, runs[1].cluster_centroids_)
    assert runs[0].cost_ == runs[1].cost_
    np.testing.assert_array_equal(runs[0].predict(features), runs[0].labels_)


def test_json_round_trip_predicts_the_same():
    features, _ = crx(standardise=True)
    model = KPrototypes(n_clusters=3, n_init=1, random_state=1).fit(features, categorical=CRX_CATEGORICAL)
    restored = KPrototypes.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(restored.predict(features), model.labels_)
    np.testing.assert_allclose(restored.transform_nearest(features)[1], model.transform_nearest(features)[1])


def test_missing_numeric_values_are_left_out_of_the_distance():
    features, _ = crx(standardise=True)
    model = KPrototypes(n_clusters=3, n_init=1, random_state=2).fit(features, categorical=CRX_CATEGORICAL)
    holed = features.copy()
    holed[:, CRX_NUMERIC[0]] = np.nan
    _, nearest_holed = model.transform_nearest(holed)
    xnum, xcat_raw = split_num_cat(features, CRX_CATEGORICAL)
    xcat = encode_categories(xcat_raw, model.categories_)
    without_first = (xnum[:, 1:, None] - model.centroids_num_[:, 1:].T[None]) ** 2
    expected = without_first.sum(axis=1) + model.gamma * (
        xcat[:, :, None] != model.centroids_cat_.T[None]
    ).sum(1)
    np.testing.assert_allclose(nearest_holed, expected.min(axis=1))


def test_fit_with_missing_values_in_both_kinds():
    features, _ = crx(standardise=True)
    holed = features.copy()
    holed[::7, CRX_NUMERIC[2]] = np.nan
    holed[::5, CRX_CATEGORICAL[1]] = None
    model = KPrototypes(n_clusters=3, n_init=2, random_state=0).fit(holed, categorical=CRX_CATEGORICAL)
    assert np.isfinite(model.cost_) and np.isfinite(model.centroids_num_).all()
    assert "__missing__" in model.categories_[1]
    np.testing.assert_array_equal(model.predict(holed), model.labels_)


def test_unseen_category_mismatches_every_prototype():
    features, _ = crx(standardise=True)
    model = KPrototypes(n_clusters=3, n_init=1, random_state=3).fit(features, categorical=CRX_CATEGORICAL)
    column = CRX_CATEGORICAL[0]
    _, nearest = model.transform_nearest(features)
    unseen = features.copy()
    unseen[:, column] = "never-seen"
    xnum, xcat_raw = split_num_cat(features, CRX_CATEGORICAL)
    xcat = encode_categories(xcat_raw, model.categories_)
    xcat[:, 0] = -1
    expected = labels_cost(xnum, xcat, model.centroids_num_, model.centroids_cat_, model.gamma)[2]
    np.testing.assert_allclose(model.transform_nearest(unseen)[1], expected)
    assert (model.transform_nearest(unseen)[1] >= nearest - 1e-9).all()


def test_empty_cluster_is_reseeded():
    features, _ = crx(standardise=True)
    xnum, xcat_raw = split_num_cat(features, CRX_CATEGORICAL)
    codes = encode_categories(xcat_raw, fit_categories(xcat_raw))
    far_away = np.vstack([xnum[:2], np.full((1, xnum.shape[1]), 1e6)])
    model = KPrototypes(n_clusters=3, init=[far_away, codes[:3]], max_iter=20).fit(
        features, categorical=CRX_CATEGORICAL
    )
    assert np.bincount(model.labels_, minlength=3).min() > 0
    assert np.abs(model.centroids_num_).max() < 1e3


def test_fewer_distinct_points_than_clusters_become_the_prototypes(soybean):
    features, _ = soybean
    duplicated = with_constant_numeric(np.vstack([features[:3]] * 5))
    with pytest.warns(UserWarning, match="only 3 distinct rows for 4 clusters"):
        model = KPrototypes(n_clusters=4, n_init=1, gamma=1.0).fit(duplicated, categorical=list(range(1, 36)))
    assert model.cluster_centroids_.shape == (3, 36) and model.n_iter_ == 0 and model.cost_ == 0
    np.testing.assert_array_equal(model.labels_, np.tile([0, 1, 2], 5))


def test_bad_arguments_name_the_problem():
    features, _ = crx(standardise=True)
    with pytest.raises(ValueError, match="non-numeric"):
        KPrototypes(n_clusters=2).fit(features, categorical=CRX_CATEGORICAL[1:])
    with pytest.raises(ValueError, match="outside"):
        KPrototypes(n_clusters=2).fit(features, categorical=[0, 99])
    with pytest.raises(NotImplementedError, match="init must be"):
        KPrototypes(n_clusters=2, init="kmeans++").fit(features, categorical=CRX_CATEGORICAL)


def test_a_typed_frame_with_categorical_columns_fits_and_predicts_as_the_object_array():
    rng = np.random.default_rng(4)
    n = 3_000
    group = rng.integers(0, 3, n)
    frame = pd.DataFrame({
        "x": rng.normal(group * 2.0, 1.0),
        "y": np.where(rng.random(n) < 0.05, np.nan, rng.normal(-group, 1.0)),
        "colour": pd.Categorical(np.array(["red", "green", "blue"])[np.where(rng.random(n) < 0.7, group, 0)]),
        "size": pd.Categorical(np.where(rng.random(n) < 0.1, None, np.array(["s", "m", "l"])[group])),
    })
    typed = KPrototypes(n_clusters=3, init="Cao", n_init=2, random_state=0).fit(frame, categorical=[2, 3])
    plain = KPrototypes(n_clusters=3, init="Cao", n_init=2, random_state=0).fit(
        frame.astype(object).to_numpy(), categorical=[2, 3]
    )
    assert typed.categories_ == plain.categories_
    assert np.array_equal(typed.labels_, plain.labels_) and typed.cost_ == plain.cost_
    # At predict, a category the fit never saw (and a missing one) is coded from the Categorical's codes.
    new = frame.head(4).copy()
    new["colour"] = pd.Categorical(["red", "purple", None, "blue"])
    new["size"] = pd.Categorical(["s", None, "m", "xl"])
    assert np.array_equal(typed.predict(new), plain.predict(new.astype(object).to_numpy()))
    codes = encode_categories(split_num_cat(new, [2, 3])[1], typed.categories_)
    # colour: purple unseen, and no colour was missing at fit; size: missing was its own category at fit.
    assert codes[:, 0].tolist() == [typed.categories_[0].index("red"), -1, -1, typed.categories_[0].index("blue")]
    assert codes[:, 1].tolist() == [typed.categories_[1].index("s"), typed.categories_[1].index("__missing__"),
                                    typed.categories_[1].index("m"), -1]
