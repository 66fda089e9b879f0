"""Segment feature preparation: scaling, missing values, category capping, presence flags, persistence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from journeys.segments.features import MISSING, OTHER, FeatureConfig, SegmentFeatures

CONFIG = FeatureConfig(
    count_features=("num_sessions", "emails_opened"),
    day_features=("days_since_lead",),
    categorical_features=("ip_country_code", "has_company"),
    presence_features=("days_since_lead", "job_title"),
    top_categories=2,
)


@pytest.fixture
def contacts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "contact_id": [1, 2, 3, 4, 5, 6],
            "num_sessions": pd.array([0, 1, 3, None, 10, 0], dtype="Int32"),
            "emails_opened": pd.array([5, None, 1, 2, 0, 7], dtype="Int32"),
            "days_since_lead": [10.0, np.nan, 30.0, np.nan, 50.0, 70.0],
            "ip_country_code": ["us", "in", "us", None, "de", "in"],
            "has_company": [True, False, False, True, False, False],
            "job_title": [None, "Student", None, None, "Manager", None],
        }
    )


def test_counts_are_zero_filled_log_scaled_and_standardised(contacts):
    features = SegmentFeatures.fit(contacts, CONFIG)
    out = features.transform(contacts)
    logged = np.log1p(np.array([0, 1, 3, 0, 10, 0], dtype=float))
    np.testing.assert_allclose(out["num_sessions"], (logged - logged.mean()) / logged.std())
    assert out["num_sessions"].mean() == pytest.approx(0.0, abs=1e-12)


def test_missing_days_stay_missing_and_presence_is_a_flag(contacts):
    out = SegmentFeatures.fit(contacts, CONFIG).transform(contacts)
    assert out["days_since_lead"].isna().tolist() == [False, True, False, True, False, False]
    present = [10.0, 30.0, 50.0, 70.0]
    expected = (np.array(present) - np.mean(present)) / np.std(present)
    np.testing.assert_allclose(out["days_since_lead"].dropna(), expected)
    assert out["has_lead"].tolist() == ["true", "false", "true", "false", "true", "true"]
    assert out["has_job_title"].tolist() == ["false", "true", "false", "false", "true", "false"]


def test_categoricals_keep_top_values_then_other_and_missing(contacts):
    features = SegmentFeatures.fit(contacts, CONFIG)
    assert features.categories["ip_country_code"] == ["in", "us"]
    out = features.transform(contacts)
    assert out["ip_country_code"].tolist() == ["us", "in", "us", MISSING, OTHER, "in"]
    assert out["has_company"].tolist() == ["true", "false", "false", "true", "false", "false"]


def test_column_order_matches_categorical_indices(contacts):
    features = SegmentFeatures.fit(contacts, CONFIG)
    out = features.transform(contacts)
    assert list(out.columns) == features.columns
    assert [out.columns[i] for i in features.categorical_indices] == features.categorical_columns
    assert features.numeric_columns == ["num_sessions", "emails_opened", "days_since_lead"]


def test_scoring_input_without_columns_and_with_json_types(contacts):
    features = SegmentFeatures.fit(contacts, CONFIG)
    as_json = pd.DataFrame(
        json.loads(contacts.astype(object).where(contacts.notna(), None).to_json(orient="records"))
    )
    pd.testing.assert_frame_equal(
        features.transform(as_json), features.transform(contacts), check_dtype=False
    )
    bare = features.transform(contacts[["contact_id"]])
    assert (bare["ip_country_code"] == MISSING).all() and bare["days_since_lead"].isna().all()
    assert bare["num_sessions"].iloc[0] == pytest.approx(
        -features.means["num_sessions"] / features.stds["num_sessions"]
    )


def test_json_round_trip_transforms_identically(contacts):
    features = SegmentFeatures.fit(contacts, CONFIG)
    restored = SegmentFeatures.from_dict(json.loads(json.dumps(features.to_dict())))
    pd.testing.assert_frame_equal(restored.transform(contacts), features.transform(contacts))


def test_configuration_errors_name_the_feature(contacts):
    with pytest.raises(ValueError, match="listed twice"):
        FeatureConfig(count_features=("num_sessions",), categorical_features=("num_sessions",))
    with pytest.raises(ValueError, match="no column"):
        SegmentFeatures.fit(contacts, FeatureConfig(count_features=("num_sesions",)))
    negative = contacts.assign(num_sessions=[0, -1, 3, 0, 10, 0])
    with pytest.raises(ValueError, match="'num_sessions' is negative at row 1"):
        SegmentFeatures.fit(negative, CONFIG)
    text_days = contacts.assign(days_since_lead=[1.0, None, "soon", 2.0, 3.0, 4.0])
    with pytest.raises(
        ValueError, match="'days_since_lead' is not numeric at row 2 \\(contact_id 3\\): 'soon'"
    ):
        SegmentFeatures.fit(text_days, CONFIG)
    empty_days = contacts.assign(days_since_lead=np.nan)
    with pytest.raises(ValueError, match="'days_since_lead' is missing for every contact"):
        SegmentFeatures.fit(empty_days, CONFIG)
