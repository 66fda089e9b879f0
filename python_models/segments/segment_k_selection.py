"""Cost and silhouette of every k evaluated for the model that scored contact_segments, and the choice."""

from journeys.segments.reports import segment_k_selection


def model(dbt, session):
    return segment_k_selection(dbt.ref("contact_segments").df(), dbt.config.meta_get("segments"))
