"""Feature scaling and kept categories of the model that scored contact_segments, for SQL scoring."""

from journeys.segments.reports import segment_feature_scaling


def model(dbt, session):
    return segment_feature_scaling(dbt.ref("contact_segments").df(), dbt.config.meta_get("segments"))
