"""contact_segments_sql, the SQL twin of SegmentModel.score, on the end-to-end DuckDB build."""

from __future__ import annotations

import numpy as np


def test_sql_scoring_equals_python_scoring_on_every_contact(warehouse) -> None:
    python_scores = warehouse.query("select * from contact_segments order by contact_id")
    sql_scores = warehouse.query("select * from contact_segments_sql order by contact_id")
    assert len(sql_scores) == len(python_scores) == warehouse.query(
        "select count(*) as n from contact_features"
    )["n"][0]
    assert (sql_scores["contact_id"].to_numpy() == python_scores["contact_id"].to_numpy()).all()
    assert (sql_scores["segment_id"].to_numpy() == python_scores["segment_id"].to_numpy()).all()
    assert (sql_scores["model_version"] == python_scores["model_version"]).all()
    np.testing.assert_allclose(
        sql_scores["dissimilarity"].to_numpy(), python_scores["dissimilarity"].to_numpy(), rtol=0, atol=1e-9
    )
    assert python_scores["segment_id"].nunique() > 1


def test_scaling_table_holds_the_saved_model(warehouse) -> None:
    """segment_feature_scaling names every feature of segment_centroids, with the model's gamma."""
    scaling = warehouse.query("select * from segment_feature_scaling")
    centroids = warehouse.query("select * from segment_centroids")
    assert set(scaling["feature"]) == set(centroids["feature"])
    numeric = scaling[scaling["feature_type"].isin(["count", "days"])]
    assert numeric["scale_std"].gt(0).all() and numeric["category"].isna().all()
    assert scaling["gamma"].nunique() == 1
    metrics = warehouse.query(
        "select value from model_metrics where model_name = 'segments' and metric = 'gamma'"
    )
    assert scaling["gamma"].iloc[0] == metrics["value"].iloc[0]
