"""Prototype of every segment, feature by feature, from the model that scored contact_segments."""

from journeys.segments.reports import segment_centroids
from journeys.warehouse import read_distinct


def model(dbt, session):
    version = read_distinct(dbt.ref("contact_segments"), "model_version")  # all it needs of the scores
    return segment_centroids(version, dbt.config.meta_get("segments"))
