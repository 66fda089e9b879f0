"""Prototype of every segment, feature by feature, from the model that scored contact_segments."""

from journeys.segments.reports import segment_centroids


def model(dbt, session):
    return segment_centroids(dbt.ref("contact_segments").df(), dbt.config.meta_get("segments"))
