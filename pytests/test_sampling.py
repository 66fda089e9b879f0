"""journeys.runs.sampling: the seeded, stratified training samples behind journeys_segments.train_rows and
journeys_propensity.train_rows."""

from __future__ import annotations

import numpy as np
import pytest

from journeys.runs.sampling import stratified_sample


def test_each_stratum_keeps_its_share_and_the_size_is_exact():
    strata = np.r_[np.zeros(9_000, int), np.ones(990, int), np.full(10, 7)]
    rng = np.random.default_rng(0)
    strata = strata[rng.permutation(len(strata))]
    sample = stratified_sample(strata, 1_000, seed=3)
    assert len(sample) == 1_000 and len(np.unique(sample)) == 1_000
    assert (np.diff(sample) > 0).all()
    assert np.bincount(strata[sample]).tolist() == [900, 99, 0, 0, 0, 0, 0, 1]


def test_seeded_and_uniform_within_a_stratum():
    strata = np.zeros(1_000, int)
    first = stratified_sample(strata, 100, seed=1)
    assert np.array_equal(first, stratified_sample(strata, 100, seed=1))
    assert not np.array_equal(first, stratified_sample(strata, 100, seed=2))
    # Over many seeds every row is drawn about equally often (no bias to the front of the table).
    hits = np.bincount(np.concatenate([stratified_sample(strata, 100, seed=s) for s in range(200)]), minlength=1_000)
    assert hits[:500].sum() == pytest.approx(hits[500:].sum(), rel=0.05)


def test_zero_or_a_cap_above_the_rows_keeps_everything_and_negative_is_refused():
    strata = np.array([0, 1, 1, 2])
    assert stratified_sample(strata, 0, seed=0).tolist() == [0, 1, 2, 3]
    assert stratified_sample(strata, 10, seed=0).tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="0 \\(all rows\\) or positive"):
        stratified_sample(strata, -1, seed=0)
