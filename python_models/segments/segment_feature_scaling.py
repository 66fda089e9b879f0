"""Feature scaling and kept categories of the model that scored contact_segments, for SQL scoring."""

from journeys.segments.reports import segment_feature_scaling
from journeys.warehouse import read_distinct


def model(dbt, session):
    version = read_distinct(dbt.ref("contact_segments"), "model_version")  # all it needs of the scores
    return segment_feature_scaling(version, dbt.config.meta_get("segments"))
